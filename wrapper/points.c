/*
 * points.c — the five hook points of §2 by name: "pre-build" on the command line and in a
 * drop-in folder's name, CC_PRE_BUILD_HOOK in the environment. Below hooks.c, point.c, phase.c
 * and main.c, which all name points; it knows nothing of what a point runs.
 */
#include "points.h"

#include <string.h>

static const struct {
    const char *name, *var;
} points[PT_COUNT] = {
    [PT_PRE_BUILD] = {"pre-build", "CC_PRE_BUILD_HOOK"},
    [PT_POST_BUILD] = {"post-build", "CC_POST_BUILD_HOOK"},
    [PT_PRE_RUN] = {"pre-run", "CC_PRE_RUN_HOOK"},
    [PT_RUN_SUCCEEDED] = {"run-succeeded", "CC_RUN_SUCCEEDED_HOOK"},
    [PT_RUN_FAILED] = {"run-failed", "CC_RUN_FAILED_HOOK"},
};

const char *point_name(enum point p)
{
    return points[p].name;
}

const char *point_var(enum point p)
{
    return points[p].var;
}

int point_parse(const char *s)
{
    for (int i = 0; i < PT_COUNT; i++)
        if (strcmp(s, points[i].name) == 0)
            return i;
    return -1;
}
