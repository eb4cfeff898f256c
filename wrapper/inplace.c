/*
 * inplace.c — exec in place: whether anything has to happen after the command, and when
 * nothing does, ccwrap becoming the command once the pre-hooks ran: the process its caller
 * started, with the caller's signals and status by construction, and no process in between.
 */
#include <stdbool.h>
#include <stddef.h>

#include "points.h"
#include "util.h"
#include "msg.h"
#include "problems.h"
#include "shell.h"
#include "config.h"
#include "children.h"
#include "signals.h"
#include "spawn.h"
#include "hooks.h"
#include "worker.h"
#include "cache.h"
#include "cron.h"
#include "inplace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

/* Whether point P has a hook that would run (a broken one fails the point: it counts). */
static bool has_hooks(enum point p, const char *root, const struct config *c)
{
    struct problems warnings = {0};
    struct hooklist l;
    bool any;

    /* What cannot be read may hold hooks: ccwrap stays to run or report them. */
    any = hooks_collect(p, root, c, &l, &warnings) < 0;
    for (size_t i = 0; i < l.n && !any; i++)
        any = l.v[i].kind == HOOK_SHELL || l.v[i].kind == HOOK_EXEC || l.v[i].kind == HOOK_BROKEN;
    hooklist_free(&l);
    problems_free(&warnings);
    return any;
}

/* Any file there, even a bad one: run reads it and refuses, so ccwrap must stay. */
static bool has_cron(const char *root)
{
    char *path = xasprintf("%s/%s", root, cron_file);
    struct stat st;
    bool any = lstat(path, &st) == 0;

    free(path);
    return any;
}

static bool has_workers(void)
{
    struct problems errors = {0}, warnings = {0};
    struct worker_conf wc;
    bool any;

    worker_conf_read(&wc, &errors, &warnings);
    any = wc.n > 0 || errors.n > 0;
    worker_conf_free(&wc);
    problems_free(&errors);
    problems_free(&warnings);
    return any;
}

/*
 * The readiness wait matters when someone asked for it: a spec given anywhere but by default
 * (a file's own defaults do not count), or its timeout, which stops the application.
 * Asked-for none, and exit without a timeout given, have nothing to wait for.
 */
static char *readiness_follows(const struct config *c, const struct follow_query *q)
{
    bool from_file = c->ready_origin && strcmp(q->ready_from, c->ready_origin) == 0,
         asked = (strcmp(q->ready_from, "default") != 0 && !from_file) || c->readiness_set ||
                 q->ready_options;

    if (!asked || strcmp(q->ready, "none") == 0)
        return NULL;
    if (strcmp(q->ready, "exit") == 0 && !q->ready_options && !c->readiness_set)
        return NULL;
    if (strcmp(q->ready_from, "default") != 0 && (!from_file || strcmp(q->ready, "tcp") != 0))
        return xasprintf("readiness is asked for (%s, from %s): ccwrap waits for it", q->ready,
                         q->ready_from);
    return xasprintf("a readiness timeout is set (%s): ccwrap waits for readiness (%s)",
                     q->ready_options ? "--ready-timeout or --keep-on-timeout"
                                      : "ready_timeout or on_ready_timeout in the config",
                     q->ready);
}

/* What follows the command in its phase, NULL when nothing does. */
static char *phase_follows(const char *root, const struct config *c, const struct follow_query *q)
{
    if (q->events)
        return xstrdup("an event log is written: ccwrap stays to log the command's end");
    /* A --from-cache build that gets here restored nothing: it builds in full (§10). */
    if (!q->run && has_hooks(PT_POST_BUILD, root, c))
        return xstrdup("post-build hooks follow the command");
    if (!q->run && cache_deps_enabled())
        return xstrdup("the dependency archive follows the command (CC_CACHE_DEPENDENCIES)");
    if (!q->run && !cache_disabled())
        return xstrdup("the build cache archive follows the command "
                       "(CC_DISABLE_BUILD_CACHE_UPLOAD=true: none)");
    if (!q->run)
        return NULL;
    if (q->notify)
        return xstrdup("NOTIFY_SOCKET is set: ccwrap stays to send READY=1 there");
    if (has_hooks(PT_RUN_SUCCEEDED, root, c))
        return xstrdup("run-succeeded hooks follow the application");
    if (has_hooks(PT_RUN_FAILED, root, c))
        return xstrdup("run-failed hooks may follow the application");
    if (has_workers())
        return xstrdup("workers run beside the application");
    if (q->run && has_cron(root))
        return xstrdup("clevercloud/cron.json's entries run beside the application");
    return readiness_follows(c, q);
}

char *nothing_follows(const char *root, const struct config *c, const struct follow_query *q)
{
    const char *env = getenv("CCWRAP_EXEC_IN_PLACE");

    if (!c->exec_in_place)
        return env ? xstrdup("CCWRAP_EXEC_IN_PLACE=false")
                   : xasprintf("exec_in_place = false in %s", c->file ? c->file : "the config");
    if (getpid() == 1)
        return xstrdup("ccwrap is PID 1: it stays to reap orphans");
    /* The default, decided without reading the hook folders again (each point reads its own). */
    if (c->leftovers == LEFTOVERS_STOP)
        return xstrdup("leftovers = \"stop\": ccwrap stays to stop what the command leaves "
                       "behind (leftovers = \"keep\" allows exec in place)");
    return phase_follows(root, c, q);
}

char *in_place_form(char **argv, const char *var)
{
    char *line;

    if (argv && argv[0])
        return NULL;
    line = shell_exec_form(getenv(var));
    if (line) {
        free(line);
        return NULL;
    }
    return xasprintf("%s is shell syntax, not one simple command: the shell stays in between", var);
}

/*
 * execvp's search without its fallback: a file without "#!" fails with ENOEXEC, as with
 * posix_spawnp, so that the command runs alike supervised and in place. Returns the errno.
 */
static int exec_search(const char *file, char *const *argv, char *const *envp)
{
    const char *path = getenv("PATH"), *p, *end;
    bool denied = false;

    if (!*file)
        return ENOENT;
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return errno;
    }
    for (p = path ? path : "/bin:/usr/bin";; p = end + 1) {
        char *full;

        end = strchrnul(p, ':');
        full = end == p ? xstrdup(file) : xasprintf("%.*s/%s", (int)(end - p), p, file);
        execve(full, argv, envp);
        free(full);
        if (errno == EACCES)
            denied = true;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
                 errno != ETIMEDOUT)
            return errno;
        if (!*end)
            return denied ? EACCES : ENOENT;
    }
}

int spawn_in_place(const struct spawn_req *r, const char *what, int *err)
{
    char **envp;
    int e;

    *err = 0;
    /* What ccwrap received until now is handled as it would be: INT, QUIT, TERM stop. */
    if (loop_step(NULL, now_ms()) < 0 || stop_requested())
        return -1;
    /* What the hooks left behind was re-parented to ccwrap: the command must not inherit it. */
    signals_subreaper(false);
    if (has_children()) {
        signals_subreaper(true);
        log_detail("not exec in place: processes the hooks left behind are ccwrap's children");
        return -1;
    }
    log_detail("exec in place: nothing follows the %s, it takes ccwrap's pid %d", what,
               (int)getpid());
    if (r->dir && chdir(r->dir) < 0) {
        *err = errno;
        return -1;
    }
    envp = spawn_env(r);
    fflush(NULL);
    /* A signal that arrives from here on meets the disposition the command inherits. */
    signals_restore(false);
    if (r->exec_path) {
        execve(r->exec_path, r->argv, envp);
        e = errno;
    } else {
        e = exec_search(r->argv[0], r->argv, envp);
    }
    signals_restore(true);
    free(envp);
    *err = e;
    return -1;
}
