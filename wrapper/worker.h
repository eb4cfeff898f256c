/*
 * worker.h — CC_WORKER_COMMAND beside the application (§11); defined in worker.c.
 */
#ifndef CCWRAP_WORKER_H
#define CCWRAP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problems.h"
#include "config.h"
#include "hooks.h"
#include "point.h"

enum restart_policy { RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_NO };

struct worker_var {
    char *name;  /* CC_WORKER_COMMAND, CC_WORKER_COMMAND_<N> */
    char *value; /* the command line as the user wrote it */
};

/* The worker variables, as `ccwrap run` reads them when it starts. */
struct worker_conf {
    struct worker_var *v; /* CC_WORKER_COMMAND first, then _<N> in the order of N */
    size_t n;
    enum restart_policy restart; /* CC_WORKER_RESTART */
    int64_t delay_ms;            /* CC_WORKER_RESTART_DELAY */
};

/*
 * Reads the worker variables from the environment. What makes `run` refuse to start (a bad
 * policy or delay, too many workers) goes to *errors; what is only odd (CC_WORKER_COMMAND_X)
 * to *warnings. Always fills *wc, with the defaults where a value is bad.
 */
void worker_conf_read(struct worker_conf *wc, struct problems *errors, struct problems *warnings);
void worker_conf_free(struct worker_conf *wc);
const char *restart_policy_name(enum restart_policy r); /* "on-failure" */
/*
 * How worker W runs: §3's rules for a variable's value, resolved under ROOT now. One
 * HOOK_SHELL or HOOK_BROKEN entry (a folder is broken: a worker is one command).
 */
void worker_resolve(const char *root, const struct config *c, const struct worker_var *w,
                    struct hooklist *out);

/*
 * run_phase's side, one set of workers per process. workers_load: before anything runs, 0 or
 * -1 after reporting. workers_start: beside the application, just started. workers_poll: after
 * each loop_step, notices exits, restarts what is due, and begins the stop once the application
 * has ended; returns UNTIL lowered to the next restart. workers_stop: SIGTERM, kill_grace,
 * SIGKILL, and waits for every worker.
 */
int workers_load(void);
void workers_start(const struct ctx *x);
int64_t workers_poll(const struct ctx *x, bool app_running, int64_t until);
void workers_stop(void);

#endif
