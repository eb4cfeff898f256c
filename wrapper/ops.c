/*
 * ops.c — `plan`, the first operator command of §9: what would run, in order, with its
 * source and how it runs (hooks, the command, readiness, workers, cron, the environment, the
 * cache, exec in place). It runs nothing. `check`, which lists problems instead, is check.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cronexpr.h"
#include "points.h"
#include "util.h"
#include "storespec.h"
#include "problems.h"
#include "shell.h"
#include "config.h"
#include "ready.h"
#include "instance.h"
#include "trust.h"
#include "value.h"
#include "confload.h"
#include "dotenv.h"
#include "hooks.h"
#include "worker.h"
#include "cache.h"
#include "cron.h"
#include "inplace.h"
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

struct style {
    const char *bold, *dim, *red, *off;
};

static struct style style_for(FILE *f)
{
    const char *no_color = getenv("NO_COLOR");

    if (isatty(fileno(f)) && !(no_color && *no_color))
        return (struct style){"\033[1m", "\033[2m", "\033[31m", "\033[0m"};
    return (struct style){"", "", "", ""};
}

/* VALUE in single quotes, as a shell would read it back. */
static char *quoted(const char *value)
{
    char *out = xmalloc(strlen(value) * 4 + 3), *q = out;

    *q++ = '\'';
    for (const char *p = value; *p; p++) {
        if (*p == '\'') {
            memcpy(q, "'\\''", 4);
            q += 4;
        } else {
            *q++ = *p;
        }
    }
    *q++ = '\'';
    *q = '\0';
    return out;
}

/*
 * A CC_*_COMMAND or worker value as it really runs: one simple command is given to the shell
 * as `exec VALUE` (shell_exec_form, as phase.c, worker.c and inplace.c decide), so the shell
 * execs it.
 */
static char *command_line(const char *value, const struct config *c)
{
    char *form = shell_exec_form(value), *q = quoted(form ? form : value), *text;

    text = xasprintf("%s -c %s", c->shell, q);
    free(q);
    free(form);
    return text;
}

static char *how_it_runs(const struct hook *h, const struct config *c)
{
    char *q, *s, *text;

    switch (h->kind) {
    case HOOK_SHELL:
        q = quoted(h->command);
        text =
            xasprintf("%s -c %s%s", c->shell, q, h->legacy ? "  (deprecated: ccwrap migrate)" : "");
        free(q);
        return text;
    case HOOK_EXEC:
        s = shown_text(h->path);
        text = xasprintf("exec %s", s);
        free(s);
        return text;
    case HOOK_BROKEN:
        return xasprintf("error: %s (fails with status %d)", h->problem, h->status);
    case HOOK_SKIPPED:
    case HOOK_MASKED:
        return xstrdup(h->problem);
    }
    return xstrdup("");
}

/* The hooks of every point, collected once for the column width and the listing. */
struct plan {
    struct hooklist lists[PT_COUNT];
    bool failed[PT_COUNT];
};

static int plan_point(const struct plan *pl, enum point p, const struct config *c, int width,
                      const struct style *st)
{
    const struct hooklist l = pl->lists[p];
    int n = 0;

    if (pl->failed[p])
        return -1;
    printf("  %s%s%s\n", st->bold, point_name(p), st->off);
    for (size_t i = 0; i < l.n; i++) {
        const struct hook *h = &l.v[i];
        bool runs = h->kind == HOOK_SHELL || h->kind == HOOK_EXEC || h->kind == HOOK_BROKEN;
        char *src = shown_text(h->source), *raw = how_it_runs(h, c), *how = shown_text(raw),
             num[16];
        const char *color = h->kind == HOOK_BROKEN ? st->red : runs ? "" : st->dim;

        snprintf(num, sizeof num, runs ? "%d" : "-", ++n);
        if (!runs)
            n--;
        printf("    %s%3s  %-*s  %s%s\n", color, num, width, src, how, *color ? st->off : "");
        free(src);
        free(raw);
        free(how);
    }
    if (l.n == 0)
        printf("    %s(no hooks)%s\n", st->dim, st->off);
    return 0;
}

/* Every point's sources count, so that plan, plan build and plan run align alike. */
static int source_width(const struct plan *pl)
{
    int width = 24;

    for (int p = 0; p < PT_COUNT; p++) {
        for (size_t i = 0; i < pl->lists[p].n; i++) {
            int len = (int)strlen(pl->lists[p].v[i].source);

            if (len > width && len <= 60)
                width = len;
        }
    }
    return width;
}

static void plan_command(const char *what, const char *var, const char *root,
                         const struct config *c, int width, const struct style *st)
{
    const char *value = getenv(var);
    char *text, *shown;

    if (value && value[strspn(value, " \t\n")]) {
        char *line = command_line(value, c), *problem = shell_trust_problem(root, c);

        if (!problem)
            problem = command_trust_problem(value, root, c);
        if (problem)
            text = xasprintf("COMMAND if given, else %s: error: %s", var, problem);
        else
            text = xasprintf("COMMAND if given, else %s: %s", var, line);
        free(problem);
        free(line);
    } else {
        text = xasprintf("COMMAND as given to ccwrap (%s is not set)", var);
    }
    shown = shown_text(text);
    printf("  %s%-*s%s  %s\n", st->bold, width + 7, what, st->off, shown);
    free(text);
    free(shown);
}

static char *describe_ready(const struct ready *r)
{
    char *text, *paths = xstrdup("");

    for (size_t i = 0; i < r->n_health; i++) {
        char *p = xasprintf("%s%s%s", paths, i ? ", " : "; and HTTP 200 on ", r->health_paths[i]);

        free(paths);
        paths = p;
    }
    switch (r->kind) {
    case READY_TCP:
        /* tcp and tcp:PORT mean "the application listens on all addresses", as on Clever Cloud. */
        text = xasprintf("a connection to %s:%d is accepted%s",
                         strchr(r->spec + 3 + (r->spec[3] == ':'), ':') ? r->host : "0.0.0.0",
                         r->port, paths);
        break;
    case READY_HTTP:
        text = xasprintf("GET %s answers 2xx or 3xx", r->spec);
        break;
    case READY_NOTIFY:
        text = xstrdup("the application sends READY=1 to $NOTIFY_SOCKET");
        break;
    case READY_FILE:
        text = xasprintf("%s exists", r->path);
        break;
    case READY_DELAY:
        text = xasprintf("still running after %.3f s", (double)r->delay_ms / 1000.0);
        break;
    case READY_EXIT:
        text = xstrdup("the application exits 0 (a one-shot task)");
        break;
    default:
        text = xstrdup("as soon as it has been executed");
        break;
    }
    free(paths);
    return text;
}

static void plan_ready(const struct config *c, int width, const struct style *st)
{
    struct ready r = {.notify_fd = -1};
    const char *from, *spec = config_ready(c, NULL, &from);
    char err[256];

    printf("  %s%-*s%s  ", st->bold, width + 7, "readiness", st->off);
    if (ready_parse(spec, &r, err, sizeof err) < 0) {
        char *why = config_ready_error(c, from, err), *e = shown_text(why);

        printf("%serror: %s%s\n", st->red, e, st->off);
        free(e);
        free(why);
    } else {
        char *d = describe_ready(&r),
             *text = xasprintf("%s (%s, from %s); timeout %ld s, then %s", d, spec, from,
                               c->ready_timeout,
                               c->on_ready_timeout == ON_TIMEOUT_KEEP ? "keep running" : "stop"),
             *shown = shown_text(text);

        printf("%s\n", shown);
        free(d);
        free(text);
        free(shown);
    }
    ready_free(&r);
}

/* The workers, started beside the application (§11), with the restart policy. */
static void plan_workers(const char *root, const struct config *c, int width,
                         const struct style *st)
{
    struct problems errors = {0}, warnings = {0};
    struct worker_conf wc;
    char *delay;

    worker_conf_read(&wc, &errors, &warnings);
    /* An application without workers has a plan without the line, as before workers existed. */
    if (wc.n == 0 && errors.n == 0 && warnings.n == 0) {
        worker_conf_free(&wc);
        return;
    }
    delay = seconds_text(wc.delay_ms);
    printf("  %s%-*s%s  ", st->bold, width + 7, "workers", st->off);
    if (errors.n > 0)
        printf("%serror: run refuses to start, see below%s\n", st->red, st->off);
    else if (wc.n == 0)
        printf("none\n");
    else
        printf("beside the application, stopped when it ends; restart %s, after %s\n",
               restart_policy_name(wc.restart), delay);
    for (size_t i = 0; i < errors.n; i++)
        printf("    %s%3s  %-*s  error: %s%s\n", st->red, "-", width, errors.v[i].path,
               errors.v[i].text, st->off);
    for (size_t i = 0; i < warnings.n; i++)
        printf("    %s%3s  %-*s  %s%s\n", st->dim, "-", width, warnings.v[i].path,
               warnings.v[i].text, st->off);
    for (size_t i = 0; i < wc.n; i++) {
        struct hooklist l;
        char *how;

        worker_resolve(root, c, &wc.v[i], &l);
        how = l.v[0].kind == HOOK_SHELL ? command_line(l.v[0].command, c) : how_it_runs(&l.v[0], c);
        printf("    %s%3zu  %-*s  %s%s\n", l.v[0].kind == HOOK_BROKEN ? st->red : "", i + 1, width,
               wc.v[i].name, how, l.v[0].kind == HOOK_BROKEN ? st->off : "");
        free(how);
        hooklist_free(&l);
    }
    free(delay);
    problems_free(&errors);
    problems_free(&warnings);
    worker_conf_free(&wc);
}

/*
 * A variable's value for plan: never one whose name suggests a secret, nor the password of a
 * URL (DATABASE_URL, Clever Cloud's POSTGRESQL_ADDON_URI… hold scheme://user:password@host:
 * names that suggest nothing). Allocated.
 */
static char *plan_value(const char *name, const char *value)
{
    const char *sep = strstr(value, "://"), *at = sep ? strrchr(sep + 3, '@') : NULL;
    char *url, *shown, *out;

    if (secret_name(name))
        return xstrdup("(hidden: the name suggests a secret)");
    if (!at || !memchr(sep + 3, ':', (size_t)(at - (sep + 3))))
        return shown_text(value);
    url = store_spec_shown(value);
    shown = shown_text(url);
    out = xasprintf("%s (user:password hidden)", shown);
    free(url);
    free(shown);
    return out;
}

/* The value of an env file's NAME when ccwrap's environment leaves it unset, or NULL. */
static const struct env_entry *from_file(const struct env_set *files, const char *name)
{
    for (size_t k = files->n; !getenv(name) && k > 0; k--)
        if (strcmp(files->v[k - 1].name, name) == 0)
            return &files->v[k - 1];
    return NULL;
}

/* "NAME=value" for plan's environment line, its value hidden for a secret's name. */
static void add_shown(char **line, const char *sep, const char *name, const char *value)
{
    char *v = value ? plan_value(name, value) : NULL, *next;

    next = xasprintf("%s%s%s%s%s", *line, **line ? sep : "", name, v ? "=" : "", v ? v : "");
    free(*line);
    free(v);
    *line = next;
}

/*
 * The instance's variables (§13) as PHASE's children will see them, grouped by source on
 * one line; then each env file variable with its FILE:LINE, and the files' problems.
 */
static void plan_environment(const char *root, const struct config *c, const char *phase, int width,
                             const struct style *st)
{
    struct instance_var v[INSTANCE_VARS];
    struct problems errors = {0};
    struct env_set files;
    size_t n = instance_plan(root, phase, v);
    char *ours = xstrdup(""), *given = xstrdup(""), *text, *shown;

    env_files_read(root, c, &files, &errors);
    for (size_t i = 0; i < n; i++) {
        if (getenv(v[i].name))
            add_shown(&given, ", ", v[i].name, v[i].value);
        else if (from_file(&files, v[i].name))
            ; /* listed below with its file */
        else if (strcmp(v[i].name, "APP_HOME") == 0)
            add_shown(&ours, ", ", "APP_HOME (the root)", NULL);
        else if (strcmp(v[i].name, "INSTANCE_ID") == 0)
            add_shown(&ours, ", ", "INSTANCE_ID (a new UUID)", NULL);
        else if (strcmp(v[i].source, "set by ccwrap") == 0 ||
                 strncmp(v[i].source, "set by ccwrap,", 14) == 0)
            add_shown(&ours, ", ", v[i].name, v[i].value);
        free(v[i].value);
    }
    text =
        xasprintf("set by ccwrap: %s%s%s", ours, *given ? "; from the environment: " : "", given);
    shown = shown_text(text);
    printf("  %s%-*s%s  %s\n", st->bold, width + 7, "environment", st->off, shown);
    free(shown);
    free(text);
    free(ours);
    free(given);
    for (size_t i = 0; i < errors.n; i++)
        printf("    %s%3s  %-*s  error: %s (run refuses to start)%s\n", st->red, "-", width,
               errors.v[i].path, errors.v[i].text, st->off);
    for (size_t k = 0; k < files.n; k++) {
        const char *env = getenv(files.v[k].name);

        shown = plan_value(files.v[k].name, env ? env : files.v[k].value);
        if (env)
            printf("    %3s  %-*s  %s (from the environment, which wins over %s)\n", "-", width,
                   files.v[k].name, shown, files.v[k].source);
        else
            printf("    %3s  %-*s  %s (from %s)\n", "-", width, files.v[k].name, shown,
                   files.v[k].source);
        free(shown);
    }
    env_set_free(&files);
    problems_free(&errors);
}

/* clevercloud/cron.json's entries (§12), each with its next time. */
static void plan_cron(const char *root, const struct config *c, int width, const struct style *st)
{
    struct problems errors = {0};
    struct cron_table t;
    int64_t now = time(NULL);
    bool broken = false;

    cron_table_load(root, c, &t, &errors);
    if (!t.present) {
        cron_table_free(&t);
        problems_free(&errors);
        return;
    }
    /* run refuses an entry whose program fails the trust rule before anything starts. */
    for (size_t i = 0; i < t.n && !broken; i++) {
        struct hooklist l;

        cron_resolve(root, c, &t.v[i], &l);
        broken = l.v[0].kind == HOOK_BROKEN;
        hooklist_free(&l);
    }
    printf("  %s%-*s%s  ", st->bold, width + 7, "cron", st->off);
    if (errors.n > 0 || broken)
        printf("%serror: run refuses to start, see below%s\n", st->red, st->off);
    else
        printf("%s, in UTC, beside the application; no second copy of a running entry\n",
               cron_file);
    for (size_t i = 0; i < errors.n; i++) {
        char *shown = shown_text(errors.v[i].text);

        printf("    %s%3s  %-*s  error: %s%s\n", st->red, "-", width, errors.v[i].path, shown,
               st->off);
        free(shown);
    }
    for (size_t i = 0; i < t.n; i++) {
        struct hooklist l;
        char when[32], *how, *shown;
        int64_t next = cronexpr_next(&t.v[i].expr, now);

        cron_resolve(root, c, &t.v[i], &l);
        how = l.v[0].kind == HOOK_BROKEN ? xasprintf("error: %s", l.v[0].problem)
                                         : how_it_runs(&l.v[0], c);
        cron_time_format(next, when, sizeof when);
        shown = shown_text(t.v[i].text);
        printf("    %s%3zu  %-*s  %s  next %s: %s%s\n", l.v[0].kind == HOOK_BROKEN ? st->red : "",
               i + 1, width, t.v[i].name, shown, when, how,
               l.v[0].kind == HOOK_BROKEN ? st->off : "");
        free(shown);
        free(how);
        hooklist_free(&l);
    }
    cron_table_free(&t);
    problems_free(&errors);
}

/* The build cache step (§10): where the archive goes and its key; never a credential. */
static void plan_cache(const char *root, const struct config *c, int width, const struct style *st)
{
    char *text = cache_plan(root, c), *shown = shown_text(text);

    printf("  %s%-*s%s  %s\n", st->bold, width + 7, "cache archive", st->off, shown);
    free(text);
    free(shown);
    if (cache_deps_enabled()) {
        printf("  %s%-*s%s  ", st->bold, width + 7, "dependencies", st->off);
        cache_deps_plan(root, c);
    }
}

/*
 * When ccwrap would become the command once the pre-hooks are done (doc/signals.md), a
 * line says so; otherwise there is none, and -v tells why at run time.
 */
static void plan_in_place(const char *root, const struct config *c, bool run, int width,
                          const struct style *st)
{
    const char *events = getenv("CCWRAP_EVENTS"),
               *var = run ? "CC_RUN_COMMAND" : "CC_BUILD_COMMAND", *value = getenv(var);
    struct follow_query q = {
        .run = run, .events = events && *events, .notify = getenv("NOTIFY_SOCKET")};
    char *why, *text, *shown;

    q.ready = config_ready(c, NULL, &q.ready_from);
    why = nothing_follows(root, c, &q);
    if (why) {
        free(why);
        return;
    }
    if (value && value[strspn(value, " \t\n")] && (why = in_place_form(NULL, var)))
        text = xasprintf("with COMMAND only: %s", why);
    else
        text = xasprintf("yes: nothing follows the %s, it takes ccwrap's pid",
                         run ? "application" : "command");
    shown = shown_text(text);
    printf("  %s%-*s%s  %s\n", st->bold, width + 7, "exec in place", st->off, shown);
    free(why);
    free(text);
    free(shown);
}

static int plan_phases(const struct plan *pl, const char *root, const struct config *c, bool build,
                       bool run)
{
    struct style st = style_for(stdout);
    int width = source_width(pl);

    if (build) {
        printf("%sbuild%s\n", st.bold, st.off);
        if (plan_point(pl, PT_PRE_BUILD, c, width, &st) < 0)
            return -1;
        plan_command("command", "CC_BUILD_COMMAND", root, c, width, &st);
        if (plan_point(pl, PT_POST_BUILD, c, width, &st) < 0)
            return -1;
        plan_cache(root, c, width, &st);
        plan_in_place(root, c, false, width, &st);
        plan_environment(root, c, "build", width, &st);
    }
    if (run) {
        printf("%srun%s\n", st.bold, st.off);
        if (plan_point(pl, PT_PRE_RUN, c, width, &st) < 0)
            return -1;
        plan_command("application", "CC_RUN_COMMAND", root, c, width, &st);
        plan_ready(c, width, &st);
        plan_workers(root, c, width, &st);
        plan_cron(root, c, width, &st);
        if (plan_point(pl, PT_RUN_SUCCEEDED, c, width, &st) < 0 ||
            plan_point(pl, PT_RUN_FAILED, c, width, &st) < 0)
            return -1;
        plan_in_place(root, c, true, width, &st);
        plan_environment(root, c, "run", width, &st);
    }
    return 0;
}

int plan_print(const char *root, const struct config *c, const char *which)
{
    struct plan pl;
    int rc;

    for (int p = 0; p < PT_COUNT; p++) {
        struct problems warnings = {0};

        pl.failed[p] = hooks_collect((enum point)p, root, c, &pl.lists[p], &warnings) < 0;
        problems_free(&warnings);
    }
    rc = plan_phases(&pl, root, c, !which || strcmp(which, "build") == 0,
                     !which || strcmp(which, "run") == 0);
    for (int p = 0; p < PT_COUNT; p++)
        hooklist_free(&pl.lists[p]);
    return rc;
}
