/*
 * check.h — check (§9); defined in check.c.
 */
#ifndef CCWRAP_CHECK_H
#define CCWRAP_CHECK_H

#include "config.h"

/* Prints each problem as "PATH: problem; fix" on stdout. Their number, or -1. */
int check_print(const char *root, const struct config *c);

#endif
