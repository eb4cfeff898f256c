/*
 * worker.c — Clever Cloud's workers (§11): CC_WORKER_COMMAND and CC_WORKER_COMMAND_<N> run
 * through the hook shell beside the application, are restarted by CC_WORKER_RESTART after
 * CC_WORKER_RESTART_DELAY, and stop when it ends. Nothing here decides ccwrap's status.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccwrap.h"
#include "util.h"
#include "msg.h"
#include "problems.h"
#include "shell.h"
#include "log.h"
#include "config.h"
#include "children.h"
#include "signals.h"
#include "spawn.h"
#include "value.h"
#include "hooks.h"
#include "point.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define WORKER_VAR  "CC_WORKER_COMMAND"
#define RESTART_VAR "CC_WORKER_RESTART"
#define DELAY_VAR   "CC_WORKER_RESTART_DELAY"
/* children.c watches MAX_PROCS children at once: the application, one hook, and the workers. */
#define MAX_WORKERS 32
/*
 * The crash-loop guard, after systemd's start limit (5 starts in 10 s): a worker that dies
 * within QUICK_MS of its start QUICK_LIMIT times in a row waits twice as long before each
 * further start, up to BACKOFF_MAX_MS. Unlike systemd, ccwrap never gives up: a container has
 * nobody to run `systemctl reset-failed`, and the database the worker waits for may come back.
 */
#define QUICK_MS       1000
#define QUICK_LIMIT    5
#define BACKOFF_MAX_MS 60000

static const char *const policies[] = {
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ALWAYS] = "always",
    [RESTART_NO] = "no",
};

const char *restart_policy_name(enum restart_policy r)
{
    return policies[r];
}

/* One CC_WORKER_COMMAND* entry of the environment, before sorting. */
struct found {
    long index; /* -1 for CC_WORKER_COMMAND itself */
    struct worker_var var;
};

static int cmp_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;

    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return strcmp(x->var.name, y->var.name);
}

/*
 * NAME (LEN bytes) as a worker: 0 with *index, or -1 when it is not one. _<N> takes 1 to 6
 * digits, as CC_HEALTH_CHECK_PATH_<N> does; leading zeros are allowed and sort by value.
 */
static int worker_index(const char *name, size_t len, long *index)
{
    size_t plen = strlen(WORKER_VAR);
    char digits[8];

    if (len == plen) {
        *index = -1;
        return 0;
    }
    if (len <= plen + 1 || len - plen - 1 >= sizeof digits)
        return -1;
    memcpy(digits, name + plen + 1, len - plen - 1);
    digits[len - plen - 1] = '\0';
    if (strspn(digits, "0123456789") != len - plen - 1)
        return -1;
    return parse_long(digits, 0, 999999, index);
}

static bool is_blank(const char *s)
{
    return s[strspn(s, " \t\n\r")] == '\0';
}

static void read_commands(struct worker_conf *wc, struct problems *errors,
                          struct problems *warnings)
{
    struct found *v = NULL;
    size_t n = 0, plen = strlen(WORKER_VAR);

    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : 0;
        bool seen = false;
        long index;

        if (!eq || len < plen || strncmp(*e, WORKER_VAR, plen) != 0 ||
            (len > plen && (*e)[plen] != '_'))
            continue;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strlen(v[i].var.name) == len && strncmp(v[i].var.name, *e, len) == 0;
        /* A name given twice: the first, as getenv() and the shell see it. */
        if (seen)
            continue;
        if (worker_index(*e, len, &index) < 0) {
            char *name = xasprintf("%.*s", (int)len, *e);

            problem_add(warnings, name,
                        "not a worker variable, ignored; name workers " WORKER_VAR " or " WORKER_VAR
                        "_<N> with N a number up to 999999");
            free(name);
            continue;
        }
        if (is_blank(eq + 1))
            continue;
        v = xrealloc(v, (n + 1) * sizeof *v);
        v[n].index = index;
        v[n].var.name = xasprintf("%.*s", (int)len, *e);
        v[n].var.value = xstrdup(eq + 1);
        n++;
    }
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_found);
    if (n > MAX_WORKERS)
        problem_add(errors, v[MAX_WORKERS].var.name,
                    "too many workers: ccwrap runs at most %d; run several programs from one "
                    "worker script",
                    MAX_WORKERS);
    wc->v = xcalloc(n, sizeof *wc->v);
    for (size_t i = 0; i < n; i++) {
        if (i < MAX_WORKERS) {
            wc->v[wc->n++] = v[i].var;
        } else {
            free(v[i].var.name);
            free(v[i].var.value);
        }
    }
    free(v);
}

void worker_conf_read(struct worker_conf *wc, struct problems *errors, struct problems *warnings)
{
    const char *restart = getenv(RESTART_VAR), *delay = getenv(DELAY_VAR);
    bool known = false;
    char *shown;

    memset(wc, 0, sizeof *wc);
    wc->restart = RESTART_ON_FAILURE;
    wc->delay_ms = 1000;
    read_commands(wc, errors, warnings);
    if (restart && *restart) {
        for (size_t i = 0; i < sizeof policies / sizeof policies[0] && !known; i++) {
            if (strcmp(restart, policies[i]) == 0) {
                wc->restart = (enum restart_policy)i;
                known = true;
            }
        }
        if (!known) {
            shown = shown_text(restart);
            problem_add(errors, RESTART_VAR,
                        "'%s' is not a restart policy; use always, on-failure or no", shown);
            free(shown);
        }
    }
    if (delay && *delay && parse_duration(delay, &wc->delay_ms) < 0) {
        shown = shown_text(delay);
        problem_add(errors, DELAY_VAR,
                    "'%s' is not a delay in seconds such as 1, 0.5 or 250ms (at most 1 day)",
                    shown);
        free(shown);
        wc->delay_ms = 1000;
    }
}

void worker_conf_free(struct worker_conf *wc)
{
    for (size_t i = 0; i < wc->n; i++) {
        free(wc->v[i].name);
        free(wc->v[i].value);
    }
    free(wc->v);
    memset(wc, 0, sizeof *wc);
}

void worker_resolve(const char *root, const struct config *c, const struct worker_var *w,
                    struct hooklist *out)
{
    struct hook *h;

    memset(out, 0, sizeof *out);
    hooks_command(out, root, c, w->name, w->value);
    if (out->n == 1 && (out->v[0].kind == HOOK_SHELL || out->v[0].kind == HOOK_BROKEN))
        return;
    /* The value names a folder: hooks run its entries, but a worker is one long-lived command. */
    hooklist_free(out);
    out->v = xcalloc(1, sizeof *out->v);
    out->n = 1;
    h = &out->v[0];
    h->kind = HOOK_BROKEN;
    h->source = xstrdup(w->name);
    h->value = xstrdup(w->value);
    h->command = xstrdup(w->value);
    h->status = EXIT_NOEXEC;
    h->problem = xstrdup("names a folder; a worker runs one command: name a script in it");
}

/* ---- the workers of this run ----------------------------------------- */

struct worker {
    const struct worker_var *var;
    struct pgroup g;    /* its main process and its process group */
    int64_t restart_at; /* when to start it again, -1: not due */
    int restarts;
    int quick; /* deaths within QUICK_MS of the start, in a row */
};

static struct {
    struct worker_conf conf;
    struct worker *v;
    size_t n;
    int64_t since; /* when the workers started: stop signals ccwrap received after it count */
    int64_t grace; /* kill_grace, ms */
    bool stopping;
} ws;

int workers_load(void)
{
    struct problems errors = {0}, warnings = {0};
    int rc = 0;

    worker_conf_read(&ws.conf, &errors, &warnings);
    for (size_t i = 0; i < warnings.n; i++)
        log_warn("%s: %s", warnings.v[i].path, warnings.v[i].text);
    for (size_t i = 0; i < errors.n; i++)
        log_error("%s: %s", errors.v[i].path, errors.v[i].text);
    if (errors.n > 0)
        rc = -1;
    problems_free(&errors);
    problems_free(&warnings);
    ws.n = ws.conf.n;
    ws.v = xcalloc(ws.n, sizeof *ws.v);
    for (size_t i = 0; i < ws.n; i++) {
        ws.v[i].var = &ws.conf.v[i];
        ws.v[i].g.name = ws.conf.v[i].name;
        ws.v[i].restart_at = -1;
        ws.v[i].g.kill_at = -1;
    }
    return rc;
}

/*
 * The stop signals of §7 after which nothing new starts: the one received, or 0. HUP is a
 * reload: it never reached a worker, and a worker keeps its restart policy after it.
 */
static int stop_signal(void)
{
    static const int stops[] = {SIGINT, SIGQUIT, SIGTERM};

    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        if (signal_received_since(ws.since, stops[i]))
            return stops[i];
    return 0;
}

/* systemd's Restart=on-failure: not after exit 0, nor after the clean signals HUP INT TERM PIPE. */
static bool restart_wanted(int wstatus)
{
    int sig;

    switch (ws.conf.restart) {
    case RESTART_ALWAYS:
        return true;
    case RESTART_NO:
        return false;
    case RESTART_ON_FAILURE:
        break;
    }
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus) != 0;
    sig = WTERMSIG(wstatus);
    return sig != SIGHUP && sig != SIGINT && sig != SIGTERM && sig != SIGPIPE;
}

static int64_t backoff(int quick)
{
    int64_t wait = ws.conf.delay_ms > 1000 ? ws.conf.delay_ms : 1000;
    int64_t cap = ws.conf.delay_ms > BACKOFF_MAX_MS ? ws.conf.delay_ms : BACKOFF_MAX_MS;

    for (int k = quick - QUICK_LIMIT + 1; k > 0 && wait < cap; k--)
        wait *= 2;
    return wait < cap ? wait : cap;
}

/* Worker W ended with WSTATUS after RAN_MS: say so, and decide whether it starts again. */
static void ended(struct worker *w, int wstatus, int64_t ran_ms)
{
    const char *name = w->var->name, *policy = restart_policy_name(ws.conf.restart);
    char *wait;
    int64_t delay = ws.conf.delay_ms;
    int sig;

    pgroup_say_end(&w->g, wstatus, ran_ms, ws.stopping);
    events_emit("worker_end", "sworker", name, "ipid", (int64_t)w->g.proc.pid, "istatus",
                (int64_t)status_shell(wstatus), "scode", status_code(wstatus), "iduration_ms",
                ran_ms, EV_END);
    if (ws.stopping)
        return;
    pgroup_stop(&w->g, false, ws.grace);
    if ((sig = stop_signal()) != 0) {
        log_info("%s: not restarted: ccwrap received SIG%s", name, signal_name(sig));
        return;
    }
    if (!restart_wanted(wstatus)) {
        log_info("%s: not restarted (%s=%s)", name, RESTART_VAR, policy);
        return;
    }
    w->quick = ran_ms < QUICK_MS ? w->quick + 1 : 0;
    if (w->quick >= QUICK_LIMIT)
        delay = backoff(w->quick);
    wait = seconds_text(delay);
    if (w->quick >= QUICK_LIMIT)
        log_warn("%s: died within 1 s of its start %d times in a row; backing off: restart in %s",
                 name, w->quick, wait);
    else
        log_info("%s: restart in %s (%s=%s)", name, wait, RESTART_VAR, policy);
    free(wait);
    w->restart_at = now_ms() + delay;
    events_emit("worker_restart", "sworker", name, "idelay_ms", delay, "irestart",
                (int64_t)w->restarts + 1, "bbackoff", w->quick >= QUICK_LIMIT, EV_END);
}

/* Starts worker W through the hook shell from the root; a start that fails counts as an end. */
static void begin(const struct ctx *x, struct worker *w)
{
    const char *name = w->var->name;
    struct spawn_req req;
    struct hooklist l;
    const struct hook *h;
    char *argv[4], *env[2], *line = NULL, *why;
    int err = 0, status;

    worker_resolve(x->root, x->cfg, w->var, &l);
    h = &l.v[0];
    env[0] = xasprintf("CCWRAP_WORKER=%s", name);
    env[1] = NULL;
    if (h->kind != HOOK_BROKEN && (why = trust_value(h->command, x->root, x->cfg, env)) != NULL) {
        /* Judged again with the environment the worker gets. */
        log_error("%s: %s", name, why);
        free(why);
        status = EXIT_NOEXEC;
    } else if (h->kind == HOOK_BROKEN) {
        log_error("%s: %s", name, h->problem);
        status = h->status;
    } else {
        /* One simple command replaces the shell: the worker's signals and status are its own. */
        line = shell_exec_form(h->command);
        spawn_shell(&req, argv, x->cfg->shell, line ? line : h->command, x->root);
        req.own_group = true;
        req.null_stdin = true;
        req.env_set = env;
        req.worker = true;
        log_detail("%s: running %s -c %s", name, x->cfg->shell, argv[2]);
        if (spawn(&req, &w->g.proc, &err) == 0) {
            pgroup_started(&w->g);
            log_info("%s: %s (pid %d): %s", name, w->restarts ? "restarted" : "started",
                     (int)w->g.proc.pid, w->var->value);
            events_emit("worker_start", "sworker", name, "scommand", w->var->value, "ipid",
                        (int64_t)w->g.proc.pid, "irestart", (int64_t)w->restarts, EV_END);
            free(line);
            free(env[0]);
            hooklist_free(&l);
            return;
        }
        status = spawn_failed(name, x->cfg->shell, err);
    }
    free(line);
    free(env[0]);
    hooklist_free(&l);
    w->g.proc.pid = 0;
    ended(w, status << 8, 0);
}

void workers_start(const struct ctx *x)
{
    ws.since = now_ms();
    ws.grace = x->cfg->kill_grace * 1000;
    for (size_t i = 0; i < ws.n; i++)
        begin(x, &ws.v[i]);
}

/* Notices the workers children.c reaped since the last look, and SIGKILLs the groups whose
 * grace is over; returns UNTIL lowered to the next such moment. */
static int64_t look(int64_t until)
{
    int64_t now = now_ms();

    for (size_t i = 0; i < ws.n; i++)
        if (pgroup_ended(&ws.v[i].g))
            ended(&ws.v[i], ws.v[i].g.proc.status, now - ws.v[i].g.proc.started);
    for (size_t i = 0; i < ws.n; i++)
        until = pgroup_tick(&ws.v[i].g, ws.stopping, until);
    return until;
}

static struct pgroup *group_at(size_t i)
{
    return &ws.v[i].g;
}

static void begin_stop(void)
{
    ws.stopping = true;
    for (size_t i = 0; i < ws.n; i++)
        ws.v[i].restart_at = -1;
    pgroups_stop(ws.n, group_at, "worker", "workers", ws.grace);
}

int64_t workers_poll(const struct ctx *x, bool app_running, int64_t until)
{
    int64_t now;

    if (!app_running && !ws.stopping)
        begin_stop();
    until = look(until);
    now = now_ms();
    for (size_t i = 0; i < ws.n; i++) {
        struct worker *w = &ws.v[i];

        if (w->restart_at >= 0 && now >= w->restart_at) {
            int sig = stop_signal();

            w->restart_at = -1;
            if (sig) {
                log_info("%s: not restarted: ccwrap received SIG%s", w->var->name,
                         signal_name(sig));
                continue;
            }
            /* What the last run left behind had its SIGTERM a delay ago: it goes now. */
            pgroup_kill(&w->g);
            w->restarts++;
            begin(x, w);
        }
        if (w->restart_at >= 0 && (until < 0 || w->restart_at < until))
            until = w->restart_at;
    }
    return until;
}

void workers_stop(void)
{
    /* SIGKILL comes at the end of the grace; a group still there 2 s later cannot be killed. */
    int64_t give_up = now_ms() + ws.grace + 2000;

    if (!ws.stopping)
        begin_stop();
    pgroups_wait(ws.n, group_at, give_up, look);
    free(ws.v);
    ws.v = NULL;
    ws.n = 0;
    worker_conf_free(&ws.conf);
}
