/*
 * cronrun.c — the entries of clevercloud/cron.json during `ccwrap run` (§12): a timer on
 * the real-time clock starts each at its times beside the application, through the hook shell
 * from the root; no second copy of a running entry; each a process group of its own whose
 * output is prefixed with the entry; all stopped when the application ends. Reading the file
 * is cron.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "cronexpr.h"
#include "util.h"
#include "msg.h"
#include "problems.h"
#include "shell.h"
#include "log.h"
#include "children.h"
#include "signals.h"
#include "spawn.h"
#include "hooks.h"
#include "point.h"
#include "cron.h"
#include "cronrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A line of an entry's output longer than this is cut into lines of this length. */
#define LINE_MAX_OUT 4096

struct outpipe {
    int fd; /* our end, or -1 */
    int to; /* STDOUT_FILENO or STDERR_FILENO */
    char buf[LINE_MAX_OUT];
    size_t len;
};

struct entry {
    const struct cron_entry_def *def;
    int64_t next;    /* the next due time, seconds since the epoch (UTC) */
    struct pgroup g; /* its shell or program and its process group */
    struct outpipe out[2];
};

static struct {
    struct cron_table table;
    struct entry *v;
    size_t n;
    int tfd;
    const struct ctx *x; /* for the timer's callback */
    int64_t grace;
    bool started, stopping;
} cs = {.tfd = -1};

static void on_timer_fd(int fd);

int crons_load(const struct ctx *x)
{
    struct problems errors = {0};
    int rc = 0;

    if (cron_table_load(x->root, x->cfg, &cs.table, &errors) < 0)
        rc = -1;
    for (size_t i = 0; i < cs.table.n; i++) {
        struct hooklist l;

        cron_resolve(x->root, x->cfg, &cs.table.v[i], &l);
        if (l.v[0].kind == HOOK_BROKEN) {
            problem_add(&errors, cron_file, "%s: %s", cs.table.v[i].name, l.v[0].problem);
            rc = -1;
        }
        hooklist_free(&l);
    }
    for (size_t i = 0; i < errors.n; i++)
        log_error("%s: %s", errors.v[i].path, errors.v[i].text);
    problems_free(&errors);
    cs.n = cs.table.n;
    cs.v = xcalloc(cs.n + 1, sizeof *cs.v);
    for (size_t i = 0; i < cs.n; i++) {
        cs.v[i].def = &cs.table.v[i];
        cs.v[i].g.name = cs.table.v[i].name;
        cs.v[i].g.kill_at = -1;
        cs.v[i].out[0].fd = cs.v[i].out[1].fd = -1;
    }
    return rc;
}

/* From NOW on: no catch-up of times missed, whatever the reason (a clock change, a late wake). */
static void plan_next(int64_t now)
{
    for (size_t i = 0; i < cs.n; i++)
        cs.v[i].next = cronexpr_next(&cs.v[i].def->expr, now);
}

/*
 * The timer for the earliest due time, on the real-time clock: a clock change cancels it
 * (ECANCELED on read), so the times are recomputed; nothing wakes ccwrap in between.
 */
static void arm(void)
{
    struct itimerspec its = {0};
    int64_t first = -1;

    for (size_t i = 0; i < cs.n; i++)
        if (cs.v[i].next >= 0 && (first < 0 || cs.v[i].next < first))
            first = cs.v[i].next;
    if (first >= 0)
        its.it_value.tv_sec = (time_t)first;
    if (timerfd_settime(cs.tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
        log_warn("cron: cannot set its timer: %s; entries will not run", strerror(errno));
}

void crons_start(const struct ctx *x)
{
    if (cs.n == 0 || cs.stopping)
        return;
    cs.grace = x->cfg->kill_grace * 1000;
    cs.x = x;
    cs.tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (cs.tfd < 0 || loop_watch(cs.tfd, on_timer_fd) < 0) {
        log_warn("cron: cannot make its timer: %s; entries will not run", strerror(errno));
        return;
    }
    cs.started = true;
    plan_next(time(NULL));
    arm();
    for (size_t i = 0; i < cs.n; i++) {
        char when[32];

        cron_time_format(cs.v[i].next, when, sizeof when);
        log_detail("%s: next at %s: %s", cs.v[i].def->name, when, cs.v[i].def->text);
    }
}

/* Writes what P holds as whole lines, each prefixed with the entry; ALL: the rest too. */
static void flush_lines(const struct entry *e, struct outpipe *p, bool all)
{
    size_t start = 0;

    for (size_t k = 0; k < p->len; k++) {
        char *line;

        if (p->buf[k] != '\n' && !(all && k == p->len - 1))
            continue;
        line = xasprintf("%s: %.*s%s", e->def->name, (int)(k + 1 - start), p->buf + start,
                         p->buf[k] == '\n' ? "" : "\n");
        (void)write_all(p->to, line, strlen(line));
        free(line);
        start = k + 1;
    }
    memmove(p->buf, p->buf + start, p->len - start);
    p->len -= start;
}

/* Reads what is there on P; at EOF the pipe is closed. */
static void drain(struct entry *e, struct outpipe *p)
{
    ssize_t n;

    while (p->fd >= 0) {
        n = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
        if (n > 0) {
            p->len += (size_t)n;
            flush_lines(e, p, p->len == sizeof p->buf);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        flush_lines(e, p, true);
        loop_unwatch(p->fd);
        close(p->fd);
        p->fd = -1;
    }
}

static void ended(struct entry *e, int wstatus, int64_t ran_ms)
{
    for (int k = 0; k < 2; k++)
        drain(e, &e->out[k]);
    pgroup_say_end(&e->g, wstatus, ran_ms, cs.stopping);
    events_emit("cron_end", "sentry", e->def->name, "ipid", (int64_t)e->g.proc.pid, "istatus",
                (int64_t)status_shell(wstatus), "scode", status_code(wstatus), "iduration_ms",
                ran_ms, EV_END);
    if (!cs.stopping)
        pgroup_stop(&e->g, false, cs.grace);
}

/* loop_step's call: output of an entry (or of one that ended, from what it left behind). */
static void on_pipe(int fd)
{
    for (size_t i = 0; i < cs.n; i++)
        for (int k = 0; k < 2; k++)
            if (cs.v[i].out[k].fd == fd)
                drain(&cs.v[i], &cs.v[i].out[k]);
}

static int make_pipe(struct outpipe *p, int to, int *child_end)
{
    int fds[2];

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    if (loop_watch(fds[0], on_pipe) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    p->fd = fds[0];
    p->to = to;
    p->len = 0;
    *child_end = fds[1];
    return 0;
}

static void close_pipes(struct entry *e)
{
    for (int k = 0; k < 2; k++) {
        if (e->out[k].fd >= 0) {
            loop_unwatch(e->out[k].fd);
            close(e->out[k].fd);
            e->out[k].fd = -1;
        }
    }
}

/* Starts entry E through the hook shell from the root, its output through prefixing pipes. */
static void begin(const struct ctx *x, struct entry *e, const char *when)
{
    const char *name = e->def->name;
    struct spawn_req req;
    struct hooklist l;
    char *argv[4], *env[2], *line = NULL;
    int err = 0, status, ends[2] = {-1, -1};

    cron_resolve(x->root, x->cfg, e->def, &l);
    env[0] = xasprintf("CCWRAP_CRON=%s", name);
    env[1] = NULL;
    /* Whatever the previous run left behind had its SIGTERM; it goes now. */
    pgroup_kill(&e->g);
    close_pipes(e);
    if (l.v[0].kind == HOOK_BROKEN) {
        log_error("%s: %s", name, l.v[0].problem);
        status = l.v[0].status;
    } else if (make_pipe(&e->out[0], STDOUT_FILENO, &ends[0]) < 0 ||
               make_pipe(&e->out[1], STDERR_FILENO, &ends[1]) < 0) {
        log_error("%s: cannot make a pipe for its output: %s", name, strerror(errno));
        status = EXIT_CCWRAP;
    } else {
        line = shell_exec_form(l.v[0].command);
        spawn_shell(&req, argv, x->cfg->shell, line ? line : l.v[0].command, x->root);
        req.own_group = true;
        req.null_stdin = true;
        req.env_set = env;
        req.out_fd = ends[0];
        req.err_fd = ends[1];
        if (spawn(&req, &e->g.proc, &err) == 0) {
            pgroup_started(&e->g);
            log_info("%s: started at %s (pid %d): %s", name, when, (int)e->g.proc.pid,
                     e->def->command);
            events_emit("cron_start", "sentry", name, "scommand", e->def->command, "sscheduled",
                        when, "ipid", (int64_t)e->g.proc.pid, EV_END);
            status = -1;
        } else {
            status = spawn_failed(name, x->cfg->shell, err);
        }
    }
    for (int k = 0; k < 2; k++)
        if (ends[k] >= 0)
            close(ends[k]);
    free(line);
    free(env[0]);
    hooklist_free(&l);
    if (status >= 0) {
        close_pipes(e);
        e->g.proc.pid = 0;
        ended(e, status << 8, 0);
    }
}

/* The timer fired or was cancelled by a clock change: start what is due, plan the next times. */
static void on_timer(const struct ctx *x)
{
    uint64_t ticks;
    int64_t now;
    ssize_t n = read(cs.tfd, &ticks, sizeof ticks);

    if (n < 0 && errno == EAGAIN)
        return;
    now = time(NULL);
    if (n < 0 && errno == ECANCELED) {
        log_detail("cron: the system clock changed; next times computed again");
        plan_next(now);
        arm();
        return;
    }
    for (size_t i = 0; i < cs.n; i++) {
        struct entry *e = &cs.v[i];
        char when[32];

        if (e->next < 0 || e->next > now)
            continue;
        cron_time_format(e->next, when, sizeof when);
        if (e->g.watched) {
            log_info("%s: not started at %s: still running (pid %d)", e->def->name, when,
                     (int)e->g.proc.pid);
            events_emit("cron_skip", "sentry", e->def->name, "sscheduled", when, "ipid",
                        (int64_t)e->g.proc.pid, EV_END);
        } else if (stop_requested()) {
            log_info("%s: not started at %s: ccwrap received SIG%s", e->def->name, when,
                     signal_name(stop_requested()));
        } else {
            begin(x, e, when);
        }
        e->next = cronexpr_next(&e->def->expr, now);
    }
    arm();
}

static void on_timer_fd(int fd)
{
    (void)fd;
    if (cs.x && !cs.stopping)
        on_timer(cs.x);
}

static struct pgroup *group_at(size_t i)
{
    return &cs.v[i].g;
}

static void begin_stop(void)
{
    cs.stopping = true;
    if (cs.tfd >= 0) {
        loop_unwatch(cs.tfd);
        close(cs.tfd);
        cs.tfd = -1;
    }
    pgroups_stop(cs.n, group_at, "cron entry", "cron entries", cs.grace);
}

/* Notices the entries that ended, SIGKILLs the groups whose grace is over; UNTIL lowered. */
static int64_t look(int64_t until)
{
    int64_t now = now_ms();

    for (size_t i = 0; i < cs.n; i++) {
        struct entry *e = &cs.v[i];

        if (pgroup_ended(&e->g))
            ended(e, e->g.proc.status, now - e->g.proc.started);
        until = pgroup_tick(&e->g, cs.stopping, until);
    }
    return until;
}

int64_t crons_poll(const struct ctx *x, bool app_running, int64_t until)
{
    if (cs.n == 0)
        return until;
    if (!app_running && !cs.stopping)
        begin_stop();
    (void)x;
    return look(until);
}

void crons_stop(void)
{
    int64_t give_up = now_ms() + cs.grace + 2000;

    if (cs.n > 0 && !cs.stopping)
        begin_stop();
    if (cs.n > 0)
        pgroups_wait(cs.n, group_at, give_up, look);
    for (size_t i = 0; i < cs.n; i++) {
        for (int k = 0; k < 2; k++)
            drain(&cs.v[i], &cs.v[i].out[k]);
        close_pipes(&cs.v[i]);
    }
    free(cs.v);
    cs.v = NULL;
    cs.n = 0;
    cron_table_free(&cs.table);
}
