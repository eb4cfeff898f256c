/*
 * cronrun.h — the entries of cron.json beside the application (§12); defined in cronrun.c.
 */
#ifndef CCWRAP_CRONRUN_H
#define CCWRAP_CRONRUN_H

#include <stdbool.h>
#include <stdint.h>

#include "point.h"

/*
 * run_phase's side, like workers: crons_load before anything runs (0, or -1 after reporting:
 * run refuses with 125); crons_start beside the application (a timerfd on the real-time
 * clock, cancelled by a clock change); crons_poll after each loop_step (notices ends, begins
 * the stop once the application has ended; returns UNTIL lowered); crons_stop: SIGTERM,
 * kill_grace, SIGKILL, and waits for every entry.
 */
int crons_load(const struct ctx *x);
void crons_start(const struct ctx *x);
int64_t crons_poll(const struct ctx *x, bool app_running, int64_t until);
void crons_stop(void);

#endif
