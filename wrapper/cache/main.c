/*
 * main.c — ccwrap-cache, run by ccwrap: save, restore, list and prune build cache archives
 * (SPEC §10). Messages go to stderr as ccwrap's own; a result line goes to fd 3 when
 * CCWRAP_CACHE_RESULT=3 says ccwrap gave it.
 *
 *   ccwrap-cache [-q|-v] save ROOT STORE APP COMMIT KEEP
 *   ccwrap-cache [-q|-v] restore ROOT STORE APP COMMIT
 *   ccwrap-cache [-q|-v] list STORE APP
 *   ccwrap-cache [-q|-v] prune STORE APP KEEP
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int verbosity = 1;

static void emit(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void emit(const char *prefix, const char *fmt, va_list ap)
{
    char text[1024];

    vsnprintf(text, sizeof text, fmt, ap);
    fprintf(stderr, "ccwrap: %s%s\n", prefix, text);
}

void say(const char *fmt, ...)
{
    va_list ap;

    if (verbosity < 1)
        return;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void detail(const char *fmt, ...)
{
    va_list ap;

    if (verbosity < 2)
        return;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void warn(const char *fmt, ...)
{
    va_list ap;

    if (verbosity < 1)
        return;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

void fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit("build cache: ", fmt, ap);
    va_end(ap);
}

int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *size_text(uint64_t n, char *buf, size_t len)
{
    if (n >= (uint64_t)1024 * 1024)
        snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    return buf;
}

/* "3 files, 1 folder, 0 symlinks": what an archive holds, each kind counted apart. */
static const char *counts_text(const struct tally *t, char *buf, size_t len)
{
    snprintf(buf, len, "%llu file%s, %llu folder%s, %llu symlink%s", (unsigned long long)t->files,
             t->files == 1 ? "" : "s", (unsigned long long)t->dirs, t->dirs == 1 ? "" : "s",
             (unsigned long long)t->links, t->links == 1 ? "" : "s");
    return buf;
}

/* The result for ccwrap's event log, on fd 3 when ccwrap gave one. */
static void result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void result(const char *fmt, ...)
{
    const char *to = getenv("CCWRAP_CACHE_RESULT");
    va_list ap;

    /* Only when ccwrap says fd 3 is its pipe: anyone else's fd 3 gets nothing. */
    if (!to || strcmp(to, "3") != 0 || fcntl(3, F_GETFD) < 0)
        return;
    va_start(ap, fmt);
    vdprintf(3, fmt, ap);
    va_end(ap);
}

static int parse_keep(const char *s, long *keep)
{
    char *end;

    errno = 0;
    *keep = strtol(s, &end, 10);
    if (errno || end == s || *end || *keep < 0 || *keep > 10000) {
        fail("keep '%s': give a whole number from 0 (keep all) to 10000", s);
        return -1;
    }
    return 0;
}

static char *archive_name(const char *commit)
{
    char *enc = store_name(commit), *name;

    if (asprintf(&name, "%s.tar.zst", enc) < 0)
        abort();
    free(enc);
    return name;
}

struct entry {
    char commit[256];
    long long when;
    unsigned long long bytes, files;
};

/* One index line, "COMMIT TIME BYTES FILES" (LEN bytes at P). 0, or -1 for a line to skip. */
static int entry_parse(const char *p, size_t len, struct entry *e)
{
    char line[512], *save = NULL, *w[4], *end;
    unsigned long long num[3];

    if (len >= sizeof line)
        return -1;
    memcpy(line, p, len);
    line[len] = '\0';
    for (int i = 0; i < 4; i++)
        if (!(w[i] = strtok_r(i ? NULL : line, " ", &save)))
            return -1;
    if (strlen(w[0]) >= sizeof e->commit)
        return -1;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        num[i] = strtoull(w[i + 1], &end, 10);
        if (errno || *end || end == w[i + 1])
            return -1;
    }
    snprintf(e->commit, sizeof e->commit, "%s", w[0]);
    e->when = (long long)num[0];
    e->bytes = num[1];
    e->files = num[2];
    return 0;
}

static size_t index_parse(const char *text, struct entry **out)
{
    size_t n = 0;
    const char *p = text;

    *out = NULL;
    while (p && *p) {
        struct entry e;
        const char *nl = strchr(p, '\n');

        if (entry_parse(p, nl ? (size_t)(nl - p) : strlen(p), &e) == 0) {
            *out = realloc(*out, (n + 1) * sizeof **out);
            if (!*out)
                abort();
            (*out)[n++] = e;
        }
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static char *index_text(const struct entry *v, size_t n)
{
    size_t cap = n * 340 + 1, len = 0;
    char *t = malloc(cap);

    if (!t)
        abort();
    t[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s %lld %llu %llu\n", v[i].commit, v[i].when,
                                v[i].bytes, v[i].files);
    return t;
}

/*
 * Keeps the first KEEP entries (0: all) of the index, removing the others' archives. NEWEST,
 * when set, is put first in place of an older entry of the same commit. 0, or -1.
 */
static int index_update(struct store *s, const struct entry *newest, long keep, size_t *removed)
{
    struct entry *v, *w;
    size_t n, m = 0;
    char *text = NULL;
    int rc = 0;

    store_lock(s);
    if (store_index_read(s, &text) < 0)
        return -1;
    n = index_parse(text ? text : "", &v);
    free(text);
    if (n == 0 && !newest) {
        free(v);
        return 0;
    }
    w = calloc(n + 1, sizeof *w);
    if (!w)
        abort();
    if (newest)
        w[m++] = *newest;
    for (size_t i = 0; i < n; i++) {
        if (newest && strcmp(v[i].commit, newest->commit) == 0)
            continue;
        if (keep > 0 && m >= (size_t)keep) {
            char *name;

            if (asprintf(&name, "%s.tar.zst", v[i].commit) < 0)
                abort();
            if (store_remove(s, name) == 0) {
                detail("build cache: pruned %s", name);
                (*removed)++;
            }
            free(name);
            continue;
        }
        w[m++] = v[i];
    }
    text = index_text(w, m);
    if (store_index_write(s, text) < 0)
        rc = -1;
    free(text);
    free(v);
    free(w);
    return rc;
}

static int do_save(char **av)
{
    const char *root = av[0], *commit = av[3];
    struct store s;
    struct tally t = {0};
    struct entry e = {0};
    char *name = archive_name(commit), *enc = store_name(commit), size[32], counts[96], *where;
    int64_t t0 = mono_ms();
    size_t removed = 0;
    long keep;
    int fd, rootfd, rc = 1;

    if (parse_keep(av[4], &keep) < 0)
        return 2;
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fail("%s: %s", root, strerror(errno));
        return 1;
    }
    if (store_open(&s, av[1], av[2], true) < 0)
        goto out;
    fd = store_tmp(&s);
    if (fd < 0)
        goto out;
    if (archive_create(rootfd, root, fd, &t) < 0) {
        store_discard(&s, fd);
        goto out;
    }
    if (store_commit(&s, fd, name) < 0)
        goto out;
    snprintf(e.commit, sizeof e.commit, "%s", enc);
    e.when = (long long)time(NULL);
    e.bytes = t.bytes;
    e.files = t.files;
    index_update(&s, &e, keep, &removed);
    where = store_where(&s, name);
    say("build cache: saved %s, %s to %s in %.3f s", counts_text(&t, counts, sizeof counts),
        size_text(t.bytes, size, sizeof size), where, (double)(mono_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%llu ms=%lld pruned=%zu\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (unsigned long long)t.bytes, (long long)(mono_ms() - t0), removed);
    rc = 0;
out:
    store_close(&s);
    close(rootfd);
    free(name);
    free(enc);
    return rc;
}

static int do_restore(char **av)
{
    const char *root = av[0], *commit = av[3];
    struct store s;
    struct tally t = {0};
    char *name = archive_name(commit), size[32], counts[96], *where;
    int64_t t0 = mono_ms();
    off_t bytes;
    int fd = -1, rc = 1, got;

    if (store_open(&s, av[1], av[2], false) < 0)
        goto out;
    got = store_fetch(&s, name, &fd);
    if (got == 1) {
        where = store_where(&s, name);
        fail("no archive for commit %s: %s does not exist", commit, where);
        free(where);
        result("reason=missing\n");
        goto out;
    }
    if (got < 0) {
        result("reason=unreachable\n");
        goto out;
    }
    bytes = lseek(fd, 0, SEEK_END);
    lseek(fd, 0, SEEK_SET);
    if (archive_restore(root, fd, s.spec.kind == STORE_LOCAL ? s.spec.dir : NULL, &t) < 0) {
        result("reason=unusable\n");
        goto out;
    }
    where = store_where(&s, name);
    say("build cache: restored %s, %s from %s in %.3f s", counts_text(&t, counts, sizeof counts),
        size_text((uint64_t)bytes, size, sizeof size), where, (double)(mono_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%lld ms=%lld\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (long long)bytes, (long long)(mono_ms() - t0));
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    store_close(&s);
    free(name);
    return rc;
}

static int do_list(char **av)
{
    struct store s;
    struct entry *v;
    char *text = NULL, size[32], *where;
    size_t n;
    int rc = 1;

    if (store_open(&s, av[0], av[1], false) < 0 || store_index_read(&s, &text) < 0)
        goto out;
    n = index_parse(text ? text : "", &v);
    where = store_where(&s, "");
    printf("%s\n", where);
    free(where);
    if (n == 0)
        printf("  (no archives)\n");
    for (size_t i = 0; i < n; i++) {
        char when[32];
        time_t tt = (time_t)v[i].when;
        struct tm tm;

        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&tt, &tm));
        printf("  %-40s  %s UTC  %10s  %llu files\n", v[i].commit, when,
               size_text(v[i].bytes, size, sizeof size), v[i].files);
    }
    free(v);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(text);
    store_close(&s);
    return rc;
}

static int do_prune(char **av)
{
    struct store s;
    size_t removed = 0;
    long keep;
    int rc = 1;

    if (parse_keep(av[2], &keep) < 0)
        return 2;
    if (store_open(&s, av[0], av[1], false) == 0 && index_update(&s, NULL, keep, &removed) == 0) {
        say("build cache: pruned %zu archive%s of %s/%s, kept at most %ld", removed,
            removed == 1 ? "" : "s", s.spec.shown, s.app, keep);
        rc = 0;
    }
    store_close(&s);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int args;
        int (*run)(char **);
    } cmds[] = {
        {"save", 5, do_save},
        {"restore", 4, do_restore},
        {"list", 2, do_list},
        {"prune", 3, do_prune},
    };
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++)
        verbosity = strcmp(argv[i], "-q") == 0 ? 0 : strcmp(argv[i], "-v") == 0 ? 2 : verbosity;
    for (size_t c = 0; i < argc && c < sizeof cmds / sizeof cmds[0]; c++)
        if (strcmp(argv[i], cmds[c].name) == 0 && argc - i - 1 == cmds[c].args)
            return cmds[c].run(argv + i + 1);
    fprintf(stderr, "usage: ccwrap-cache [-q|-v] save ROOT STORE APP COMMIT KEEP | restore ROOT "
                    "STORE APP COMMIT | list STORE APP | prune STORE APP KEEP\n"
                    "ccwrap-cache is run by ccwrap build and ccwrap cache; see ccwrap(1).\n");
    return 2;
}
