/*
 * ready_probe.h — tcp and http probes, who holds the port (§5.3); defined in ready_probe.c.
 */
#ifndef CCWRAP_READY_PROBE_H
#define CCWRAP_READY_PROBE_H

#include <stddef.h>

#include "ready.h"

/* Before the application starts: says so when its port is already held by another process. */
void ready_precheck(struct ready *r);
/* The status (100-999) of the HTTP/1.x answer S (LEN bytes, no NUL), or -1: not one. */
int http_status_parse(const char *s, size_t len);

#endif
