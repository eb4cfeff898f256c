/*
 * cron.c — clevercloud/cron.json (SPEC §12): the file read and checked, `ccwrap cron`'s
 * listing of next times, and the entries started at their times beside the application, each
 * a process tree of its own whose output is prefixed with the entry.
 */
#include "ccwrap.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRON_FILE     "clevercloud/cron.json"
#define CRON_MAX      32
#define CRON_FILE_MAX (1 << 20)
#define LINE_MAX_OUT  4096

const char *const cron_file = CRON_FILE;

/* COMMAND with each $ROOT (not $ROOTS) replaced by the root, as one shell word. Allocated. */
static char *with_root(const char *command, const char *root)
{
    char *word = shell_word(root), *out = xstrdup(""), *next;
    const char *p = command, *hit;

    while ((hit = strstr(p, "$ROOT")) != NULL) {
        char c = hit[5];
        bool ident =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';

        next = xasprintf("%s%.*s%s", out, (int)(hit - p), p, ident ? "$ROOT" : word);
        free(out);
        out = next;
        p = hit + 5;
    }
    next = xasprintf("%s%s", out, p);
    free(out);
    free(word);
    return next;
}

void cron_table_free(struct cron_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].text);
        free(t->v[i].command);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* The file's text, after the trust rule; NULL with *missing when there is none. */
static char *read_file(const char *root, const struct config *c, bool *missing,
                       struct problems *errors)
{
    char *path = xasprintf("%s/%s", root, CRON_FILE), *problem, *buf = NULL;
    struct stat st;
    ssize_t n;
    int fd;

    *missing = false;
    if (lstat(path, &st) < 0 && errno == ENOENT) {
        *missing = true;
        free(path);
        return NULL;
    }
    /* Its entries run with ccwrap's rights: whoever may write it must be trusted (SECURITY). */
    if ((problem = trust_problem(CRON_FILE, root, NULL, c)) != NULL) {
        problem_add(errors, CRON_FILE, "%s", problem);
        free(problem);
        free(path);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        problem_add(errors, CRON_FILE, "cannot read it: %s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        problem_add(errors, CRON_FILE, "not a regular file; make it a JSON array of strings");
    } else if (st.st_size > CRON_FILE_MAX) {
        problem_add(errors, CRON_FILE, "%lld bytes: more than a cron file holds (1 MiB)",
                    (long long)st.st_size);
    } else {
        buf = xmalloc((size_t)st.st_size + 1);
        n = read(fd, buf, (size_t)st.st_size);
        if (n < 0) {
            problem_add(errors, CRON_FILE, "cannot read it: %s", strerror(errno));
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    if (fd >= 0)
        close(fd);
    free(path);
    return buf;
}

/* Entry I's string S into T, or a problem naming the entry, the field and why. */
static void add_entry(struct cron_table *t, size_t i, const char *s, const char *root,
                      struct problems *errors)
{
    struct cron_entry_def *d;
    struct cronexpr e;
    const char *rest;
    char err[256], *shown;

    if (cronexpr_parse(s, &e, &rest, err, sizeof err) < 0) {
        shown = shown_text(err);
        problem_add(errors, CRON_FILE, "entry %zu: %s", i, shown);
        free(shown);
        return;
    }
    if (rest[strspn(rest, " \t\r\n")] == '\0') {
        problem_add(errors, CRON_FILE,
                    "entry %zu: no command after the schedule; write \"MIN "
                    "HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK COMMAND\"",
                    i);
        return;
    }
    d = &t->v[t->n++];
    d->name = xasprintf("cron[%zu]", i);
    d->text = xstrdup(s);
    d->command = with_root(rest, root);
    d->expr = e;
}

int cron_table_load(const char *root, const struct config *c, struct cron_table *t,
                    struct problems *errors)
{
    size_t before = errors->n, i;
    json_error_t jerr;
    json_t *doc, *item;
    bool missing;
    char *text;

    memset(t, 0, sizeof *t);
    text = read_file(root, c, &missing, errors);
    t->present = !missing;
    if (!text)
        return errors->n > before ? -1 : 0;
    doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!doc) {
        problem_add(errors, CRON_FILE, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_array(doc)) {
        problem_add(errors, CRON_FILE, "not a JSON array; write [\"*/5 * * * * COMMAND\", ...]");
        json_decref(doc);
        return -1;
    }
    if (json_array_size(doc) > CRON_MAX)
        problem_add(errors, CRON_FILE,
                    "%zu entries: ccwrap runs at most %d; run several commands "
                    "from one entry's script",
                    json_array_size(doc), CRON_MAX);
    t->v = xcalloc(json_array_size(doc) + 1, sizeof *t->v);
    json_array_foreach(doc, i, item) {
        if (i >= CRON_MAX)
            break;
        if (!json_is_string(item))
            problem_add(errors, CRON_FILE,
                        "entry %zu: not a string; write \"MIN HOUR "
                        "DAY-OF-MONTH MONTH DAY-OF-WEEK COMMAND\"",
                        i);
        else
            add_entry(t, i, json_string_value(item), root, errors);
    }
    json_decref(doc);
    return errors->n > before ? -1 : 0;
}

void cron_resolve(const char *root, const struct config *c, const struct cron_entry_def *d,
                  struct hooklist *out)
{
    struct worker_var w = {.name = d->name, .value = d->command};

    /* What an entry runs is held to a worker's rules: the trust rule on the script it names. */
    worker_resolve(root, c, &w, out);
}

int cron_check(const char *root, const struct config *c, struct problems *errors)
{
    struct cron_table t;
    size_t before = errors->n;

    cron_table_load(root, c, &t, errors);
    for (size_t i = 0; i < t.n; i++) {
        struct hooklist l;

        cron_resolve(root, c, &t.v[i], &l);
        if (l.v[0].kind == HOOK_BROKEN)
            problem_add(errors, CRON_FILE, "%s: %s", t.v[i].name, l.v[0].problem);
        hooklist_free(&l);
    }
    cron_table_free(&t);
    return errors->n > before ? -1 : 0;
}

/* ---- `ccwrap cron` -------------------------------------------------------- */

static void print_times(const char *prefix, const struct cronexpr *e, int64_t from, long count)
{
    char when[32];
    int64_t t = from;

    for (long k = 0; k < count; k++) {
        t = cronexpr_next(e, t);
        if (t < 0)
            break;
        cron_time_format(t, when, sizeof when);
        printf("%s%s\n", prefix, when);
    }
}

int cron_print(const char *root, const struct config *c, const char *expr, const char *from,
               long count)
{
    struct problems errors = {0};
    struct cron_table t;
    int64_t start = time(NULL);
    char err[256];

    if (from && cron_time_parse(from, &start) < 0) {
        log_error("--from '%s': not a time; write it in UTC as 2026-12-06T10:00Z or "
                  "2026-12-06T10:00:30Z",
                  from);
        return EXIT_CCWRAP;
    }
    if (expr) {
        struct cronexpr e;
        const char *rest;

        if (cronexpr_parse(expr, &e, &rest, err, sizeof err) < 0) {
            char *shown = shown_text(err);

            log_error("'%s': %s", expr, shown);
            free(shown);
            return EXIT_CCWRAP;
        }
        if (*rest) {
            log_error("'%s': '%s' after the schedule; give five fields or an @ word", expr, rest);
            return EXIT_CCWRAP;
        }
        print_times("", &e, start, count);
        return 0;
    }
    if (cron_table_load(root, c, &t, &errors) < 0 || !t.present) {
        for (size_t i = 0; i < errors.n; i++)
            log_error("%s: %s", errors.v[i].path, errors.v[i].text);
        if (!t.present)
            log_error("%s/%s: no such file; give an EXPRESSION or write the file", root, CRON_FILE);
        problems_free(&errors);
        cron_table_free(&t);
        return EXIT_CCWRAP;
    }
    for (size_t i = 0; i < t.n; i++) {
        char *prefix = xasprintf("%s ", t.v[i].name);

        print_times(prefix, &t.v[i].expr, start, count);
        free(prefix);
    }
    cron_table_free(&t);
    return 0;
}

/* ---- the entries of this run ---------------------------------------------- */

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
            problem_add(&errors, CRON_FILE, "%s: %s", cs.table.v[i].name, l.v[0].problem);
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
