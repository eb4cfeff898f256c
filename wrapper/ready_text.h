/*
 * ready_text.h — what readiness is waiting for, in words (§5.3); defined in ready_text.c.
 */
#ifndef CCWRAP_READY_TEXT_H
#define CCWRAP_READY_TEXT_H

#include "ready.h"

/* What ccwrap is waiting for, for the message every 5 s: "Nothing listening on 0.0.0.0:8080 yet".
 */
const char *ready_waiting(const struct ready *r);

#endif
