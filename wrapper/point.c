/*
 * point.c — runs one hook point's hooks one at a time (§3): the announcements, the
 * CCWRAP_* environment, CCWRAP_ENV, timeouts, and the point's failure policy.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccwrap.h"
#include "points.h"
#include "util.h"
#include "msg.h"
#include "problems.h"
#include "log.h"
#include "envfile.h"
#include "children.h"
#include "signals.h"
#include "spawn.h"
#include "value.h"
#include "hooks.h"
#include "point.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* In Clever Cloud's words: "Running CC_PRE_RUN_HOOK: VALUE", "Running hooks.d/pre-run/10-x". */
static void announce(const struct hook *h)
{
    if (h->value)
        log_info("Running %s: %s", h->source, h->value);
    else
        log_info("Running %s", h->source);
}

/* The end of a hook: its status for the point (0 = success), announced. */
static int finish(struct point_run *pr, const struct hook *h)
{
    struct proc *p = &pr->proc;
    double secs = (double)(now_ms() - p->started) / 1000.0;
    int st = p->status, status;

    if (p->timed_out) {
        status = EXIT_TIMEOUT;
        log_error("%s timed out after %.3f s: status %d", h->source, secs, status);
    } else if (p->tty_stop) {
        status = 128 + p->tty_stop;
        log_error("%s failed: stopped by SIG%s after %.3f s, as it %s the terminal; hooks get no "
                  "terminal: give it its input in a file or a variable",
                  h->source, signal_name(p->tty_stop), secs,
                  p->tty_stop == SIGTTIN ? "read from" : "wrote to or set up");
    } else if (pr->stopped && WIFSIGNALED(st)) {
        status = 128 + WTERMSIG(st);
        log_info("%s stopped: %s", h->source, pr->stopped);
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);

        status = 128 + sig;
        if (signal_received_since(p->started, sig) && pr->failed == 0)
            pr->failed_signal = sig;
        log_error("%s failed: killed by signal %s in %.3f s", h->source, signal_name(sig), secs);
    } else if ((status = WEXITSTATUS(st)) != 0) {
        log_error("%s failed: status %d in %.3f s", h->source, status, secs);
    } else {
        log_info("Finished %s: status 0 in %.3f s", h->source, secs);
    }
    events_emit("hook_end", "spoint", point_name(pr->point), "ssource", h->source, "ipid",
                (int64_t)p->pid, "istatus", (int64_t)status, "iduration_ms",
                (int64_t)(now_ms() - p->started), "btimed_out", (int)p->timed_out, EV_END);
    if (status == 0)
        envfile_apply(&pr->env_file, h->source);
    envfile_remove(&pr->env_file);
    return status;
}

/* Notes a hook's STATUS (WSTATUS as waitpid gave it); true when the point stops here. */
static bool record_failure(struct point_run *pr, int status, int wstatus)
{
    if (status == 0)
        return false;
    if (pr->failed == 0) {
        pr->failed = status;
        pr->failed_wstatus = wstatus;
    }
    return pr->stop_on_failure;
}

/* A hook that did not start, with STATUS: its env file and environment go; true when the point
 * stops. */
static bool not_started(struct point_run *pr, char **env, size_t ne, int status)
{
    envfile_remove(&pr->env_file);
    for (size_t i = 0; i < ne; i++)
        free(env[i]);
    return record_failure(pr, status, status << 8);
}

/* After a relayed INT, QUIT or TERM no hook starts: the point ends as that signal ends it. */
static bool stop_ends_point(struct point_run *pr, const struct hook *h)
{
    int sig = stop_requested();

    if (!sig)
        return false;
    log_info("%s not started: SIG%s received", h->source, signal_name(sig));
    pr->next = pr->hooks.n;
    if (pr->failed == 0) {
        pr->failed = 128 + sig;
        pr->failed_signal = sig;
        pr->failed_wstatus = sig;
    }
    return true;
}

/* Starts hooks from pr->next on until one is running or none is left. */
static void start_next(struct point_run *pr, const struct ctx *x)
{
    while (pr->next < pr->hooks.n) {
        const struct hook *h = &pr->hooks.v[pr->next++];
        char *argv[4], *env[5 + 8], *why;
        struct spawn_req req;
        size_t ne = 0;
        int err;

        if (h->kind != HOOK_SKIPPED && h->kind != HOOK_MASKED && stop_ends_point(pr, h))
            break;

        if (h->kind == HOOK_SKIPPED || h->kind == HOOK_MASKED) {
            log_detail("%s: %s", h->source, h->problem);
            continue;
        }
        if (h->kind == HOOK_BROKEN) {
            log_error("%s: %s", h->source, h->problem);
            events_emit("hook_end", "spoint", point_name(pr->point), "ssource", h->source,
                        "istatus", (int64_t)h->status, "sproblem", h->problem, EV_END);
            if (record_failure(pr, h->status, h->status << 8))
                break;
            continue;
        }
        if (envfile_create(&pr->env_file) < 0) {
            if (record_failure(pr, EXIT_CCWRAP, EXIT_CCWRAP << 8))
                break;
            continue;
        }
        env[ne++] = xasprintf("CCWRAP_PHASE=%s", x->phase);
        env[ne++] = xasprintf("CCWRAP_HOOK=%s", point_name(pr->point));
        env[ne++] = xasprintf("CCWRAP_ENV=%s", pr->env_file.path);
        for (char **e = pr->env; e && *e && ne < sizeof env / sizeof env[0] - 1; e++)
            env[ne++] = xstrdup(*e);
        env[ne] = NULL;
        /* Judged again with the environment the hook gets: its $NAME are expanded from it. */
        if (h->kind == HOOK_SHELL &&
            (why = trust_value(h->command, x->root, x->cfg, env)) != NULL) {
            log_error("%s: %s", h->source, why);
            events_emit("hook_end", "spoint", point_name(pr->point), "ssource", h->source,
                        "istatus", (int64_t)EXIT_NOEXEC, "sproblem", why, EV_END);
            free(why);
            if (not_started(pr, env, ne, EXIT_NOEXEC))
                break;
            continue;
        }
        if (h->kind == HOOK_SHELL) {
            spawn_shell(&req, argv, x->cfg->shell, h->command, x->root);
        } else {
            argv[0] = h->path;
            argv[1] = NULL;
            req = (struct spawn_req){.argv = argv, .exec_path = h->path, .dir = x->root};
        }
        req.own_group = true;
        req.null_stdin = true;
        req.env_set = env;
        announce(h);
        pr->current = pr->next - 1;
        err = 0;
        if (spawn(&req, &pr->proc, &err) < 0) {
            if (not_started(pr, env, ne, spawn_failed(h->source, req.exec_path, err)))
                break;
            continue;
        }
        for (size_t i = 0; i < ne; i++)
            free(env[i]);
        pr->proc.grace_ms = x->cfg->kill_grace * 1000;
        if (x->cfg->hook_timeout > 0)
            pr->proc.deadline = pr->proc.started + x->cfg->hook_timeout * 1000;
        events_emit("hook_start", "spoint", point_name(pr->point), "ssource", h->source, "ipid",
                    (int64_t)pr->proc.pid, EV_END);
        return;
    }
    pr->done = true;
}

int point_start(struct point_run *pr, const struct ctx *x, enum point p, char **env)
{
    struct problems warnings = {0};

    memset(pr, 0, sizeof *pr);
    pr->point = p;
    pr->env = env;
    pr->stop_on_failure = p == PT_PRE_BUILD || p == PT_POST_BUILD || p == PT_PRE_RUN;
    if (hooks_collect(p, x->root, x->cfg, &pr->hooks, &warnings) < 0) {
        problems_free(&warnings);
        return -1;
    }
    /* The run's start already showed the legacy warnings; once per run is enough. */
    for (size_t i = 0; !(p == PT_RUN_SUCCEEDED && x->legacy_warned) && i < warnings.n; i++)
        log_warn("%s: %s", warnings.v[i].path, warnings.v[i].text);
    problems_free(&warnings);
    start_next(pr, x);
    return 0;
}

bool point_poll(struct point_run *pr, const struct ctx *x)
{
    int status;

    if (pr->done || pr->proc.running || pr->proc.pid == 0)
        return pr->done;
    status = finish(pr, &pr->hooks.v[pr->current]);
    if (record_failure(pr, status, pr->proc.timed_out ? EXIT_TIMEOUT << 8 : pr->proc.status)) {
        pr->done = true;
        return true;
    }
    pr->proc.pid = 0;
    start_next(pr, x);
    return pr->done;
}

void point_stop(struct point_run *pr, const char *why, int64_t grace_ms)
{
    if (pr->done)
        return;
    if (pr->next < pr->hooks.n)
        log_info("%s: the rest of %s not started", why, point_name(pr->point));
    pr->next = pr->hooks.n;
    if (grace_ms >= 0 && pr->proc.running) {
        pr->stopped = why;
        log_info("%s: stopping %s", why, pr->hooks.v[pr->current].source);
        proc_terminate(&pr->proc, grace_ms);
    }
}

void point_free(struct point_run *pr)
{
    envfile_remove(&pr->env_file);
    hooklist_free(&pr->hooks);
}

int point_run_all(const struct ctx *x, enum point p, char **env, int *failed_signal,
                  int *failed_wstatus)
{
    struct point_run pr;
    int failed;

    if (point_start(&pr, x, p, env) < 0)
        return EXIT_CCWRAP;
    while (!point_poll(&pr, x))
        if (loop_step(NULL, -1) < 0)
            break;
    failed = pr.failed;
    if (failed_signal)
        *failed_signal = pr.failed_signal;
    if (failed_wstatus)
        *failed_wstatus = pr.failed_wstatus;
    point_free(&pr);
    return failed;
}
