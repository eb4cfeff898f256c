/*
 * phase.h — the build and run sequences of §4–5; defined in phase.c.
 */
#ifndef CCWRAP_PHASE_H
#define CCWRAP_PHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "points.h"
#include "point.h"

/* What ccwrap should do at the end: exit with status, or die of signal. */
struct outcome {
    int status;
    int signal;
};

struct run_opts {
    const char *ready;     /* --ready or NULL */
    int64_t ready_timeout; /* ms, -1: from the config */
    bool keep_on_timeout;
};

struct outcome build_phase(const struct ctx *x, char **argv, bool from_cache);
struct outcome run_phase(struct ctx *x, char **argv, const struct run_opts *o);
struct outcome hook_phase(struct ctx *x, enum point p);

#endif
