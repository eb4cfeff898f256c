/*
 * ops.h — plan (§9); defined in ops.c.
 */
#ifndef CCWRAP_OPS_H
#define CCWRAP_OPS_H

#include "config.h"

/* Prints the plan of WHICH ("build", "run", or NULL for both). 0, or -1 on a system error. */
int plan_print(const char *root, const struct config *c, const char *which);

#endif
