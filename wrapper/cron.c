/*
 * cron.c — clevercloud/cron.json (§12): the file read and checked, how each entry runs,
 * and `ccwrap cron`'s listing of next times. Running the entries beside the application is
 * cronrun.c's.
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
#include "config.h"
#include "trust.h"
#include "hooks.h"
#include "worker.h"
#include "cron.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CRON_FILE     "clevercloud/cron.json"
#define CRON_MAX      32
#define CRON_FILE_MAX (1 << 20)

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
