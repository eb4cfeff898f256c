/*
 * spawn.h — starting children, the hook shell's line, failed starts; defined in spawn.c.
 */
#ifndef CCWRAP_SPAWN_H
#define CCWRAP_SPAWN_H

#include <stdbool.h>

#include "children.h"

struct spawn_req {
    char *const *argv;     /* argv[0] is executed: looked up in PATH when it has no '/' */
    const char *exec_path; /* or this file instead of argv[0], when set */
    const char *dir;       /* chdir there first, when set */
    bool own_group;        /* setpgid(0, 0): hooks */
    bool lead;             /* the command or application (see struct proc) */
    bool null_stdin;       /* hooks read /dev/null */
    char *const *env_set;  /* NAME=value added for this child only, NULL-terminated or NULL */
    int fd3;               /* > 0: given to the child as its descriptor 3 */
    bool worker;           /* see struct proc */
    bool hook_shell;       /* exec_path is the hook shell, given a value with -c */
    int out_fd, err_fd;    /* > 0: the child's stdout, stderr (cron's pipes) */
};

/*
 * Starts a child with posix_spawn. Returns 0 and fills *p (running, registered: children.c),
 * or -1 with *err the exec errno (no child is left), or EAGAIN, ENOMEM: no process was made.
 */
int spawn(const struct spawn_req *r, struct proc *p, int *err);
/*
 * The one way to run a line through the hook shell: R becomes "SHELL -c LINE" from ROOT, with
 * ARGV (4 slots, borrowed like SHELL and LINE) as its argv; the rest of R is zero. The build
 * and run commands given by a variable, hooks, workers and cron entries all start so.
 */
void spawn_shell(struct spawn_req *r, char *argv[4], char *shell, char *line, const char *root);
/*
 * A start that failed with spawn's or spawn_in_place's ERR: says why on one line and returns
 * the exit status, 125 when no process could be made (EAGAIN, ENOMEM), 127 when the program
 * is missing, else 126. WHO names what was started ("CC_PRE_RUN_HOOK", "cron[0]"), and
 * the line is "WHO: cannot run PROGRAM: why"; with WHO NULL the program is the command itself,
 * named as a shell names it: "PROGRAM: command not found". Either way, when no process could
 * be made: "WHO: cannot start a process: why, with the fix".
 */
int spawn_failed(const char *who, const char *program, int err);
/* ccwrap's environment, less the names R's env_set overrides, plus env_set (borrowed). */
char **spawn_env(const struct spawn_req *r);

#endif
