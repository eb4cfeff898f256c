/*
 * points.h — the hook points by name (§2); defined in points.c.
 */
#ifndef CCWRAP_POINTS_H
#define CCWRAP_POINTS_H

enum point { PT_PRE_BUILD, PT_POST_BUILD, PT_PRE_RUN, PT_RUN_SUCCEEDED, PT_RUN_FAILED, PT_COUNT };

const char *point_name(enum point p); /* "pre-build" */
const char *point_var(enum point p);  /* "CC_PRE_BUILD_HOOK" */
int point_parse(const char *s);       /* enum point, or -1 */

#endif
