/*
 * point.h — one hook point's hooks, in order (§3); defined in point.c.
 */
#ifndef CCWRAP_POINT_H
#define CCWRAP_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "points.h"
#include "config.h"
#include "envfile.h"
#include "children.h"
#include "hooks.h"

struct ctx {
    const char *root;
    const struct config *cfg;
    const char *phase;         /* "build" | "run" */
    const char *notify_socket; /* ccwrap's own $NOTIFY_SOCKET (systemd), or NULL */
    bool legacy_warned;        /* the legacy warnings were printed at the start of the run */
};

struct point_run {
    enum point point;
    struct hooklist hooks;
    size_t next;
    bool stop_on_failure;
    char **env;              /* NAME=value for every hook of this point (CCWRAP_APP_PID, …) */
    struct proc proc;        /* the hook running now */
    size_t current;          /* its index */
    struct envfile env_file; /* its CCWRAP_ENV */
    bool done;
    int failed;          /* status of the first failure, 0 if none */
    int failed_signal;   /* signal ccwrap received and relayed that killed the failing hook */
    int failed_wstatus;  /* the failing hook's wait status (a timeout counts as exit 124) */
    const char *stopped; /* why point_stop ended the point early, or NULL */
};

/*
 * Starts running point P's hooks (returns at once; loop_step drives them and point_poll
 * advances). ENV is borrowed until done. 0, or -1 after reporting a system error.
 */
int point_start(struct point_run *pr, const struct ctx *x, enum point p, char **env);
/* After loop_step: notices the current hook's end, starts the next. Returns pr->done. */
bool point_poll(struct point_run *pr, const struct ctx *x);
/*
 * Starts no further hook, saying WHY; with GRACE_MS >= 0 also stops the running one (SIGTERM,
 * SIGKILL GRACE_MS later).
 */
void point_stop(struct point_run *pr, const char *why, int64_t grace_ms);
void point_free(struct point_run *pr);
/*
 * Runs point P's hooks to the end. Returns the status of the first failure or 0; the signal
 * that killed it when ccwrap had relayed it, and its wait status, when asked.
 */
int point_run_all(const struct ctx *x, enum point p, char **env, int *failed_signal,
                  int *failed_wstatus);

#endif
