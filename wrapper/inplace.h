/*
 * inplace.h — whether anything follows the command (doc/signals.md); defined in inplace.c.
 */
#ifndef CCWRAP_INPLACE_H
#define CCWRAP_INPLACE_H

#include <stdbool.h>

#include "config.h"
#include "spawn.h"

/* What a phase holds besides its hooks that may have to happen after its command. */
struct follow_query {
    bool run;               /* the run phase; else build */
    bool events;            /* an event log is written */
    bool notify;            /* ccwrap's own NOTIFY_SOCKET: READY=1 to send */
    const char *ready;      /* run: the readiness spec in force */
    const char *ready_from; /* where it came from (config_ready's *from) */
    bool ready_options;     /* --ready-timeout or --keep-on-timeout */
};

/*
 * NULL when nothing has to happen after the command, so ccwrap may replace itself with it;
 * else why ccwrap stays ("post-build hooks follow the command"), allocated. The one rule for
 * exec in place: plan and the phases ask it, later steps (the cache archive) extend it.
 */
char *nothing_follows(const char *root, const struct config *c, const struct follow_query *q);
/*
 * NULL when the command can take ccwrap's place: COMMAND given (argv), or VAR's value is one
 * simple command the shell replaces itself with (shell_exec_form). Else why not, allocated.
 */
char *in_place_form(char **argv, const char *var);
/*
 * Replaces ccwrap with WHAT ("command") as R names it (argv, exec_path, dir, env_set as for
 * spawn), once the signals ccwrap received are handled: the signal mask and SIGPIPE as
 * inherited, no longer a subreaper. Returns only when it does not: -1 with *err 0 when ccwrap
 * must supervise after all (a stop was received, a process the hooks left behind is ccwrap's
 * child), else the exec errno.
 */
int spawn_in_place(const struct spawn_req *r, const char *what, int *err);

#endif
