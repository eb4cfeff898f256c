/*
 * ready_notify.h — sd_notify, both ways (§5.3); defined in ready_notify.c.
 */
#ifndef CCWRAP_READY_NOTIFY_H
#define CCWRAP_READY_NOTIFY_H

#include "ready.h"

/* Before the application starts: notify creates its socket. 0, or -1 after reporting. */
int ready_prepare(struct ready *r);
/* Sends READY=1 to the systemd-style socket ADDR (path or @abstract). 0 or -1. */
int notify_send(const char *addr, const char *msg);

#endif
