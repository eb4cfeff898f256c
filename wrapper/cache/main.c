/*
 * main.c — ccwrap-cache, run by ccwrap: save, restore, list and prune build cache archives
 * (SPEC §10). Messages go to stderr as ccwrap's own; a result line goes to fd 3 when
 * CCWRAP_CACHE_RESULT=3 says ccwrap gave it.
 *
 *   ccwrap-cache [-q|-v] save ROOT APP COMMIT KEEP
 *   ccwrap-cache [-q|-v] restore ROOT APP COMMIT
 *   ccwrap-cache [-q|-v] list APP
 *   ccwrap-cache [-q|-v] prune APP KEEP
 *   ccwrap-cache [-q|-v] deps-save|deps-restore|deps-plan ROOT APP   (deps.c)
 *
 * The store comes in the environment, CCWRAP_CACHE_STORE, never in argv: an http(s) store's
 * user:password would be in /proc/PID/cmdline, which every local user may read. So do the
 * paths of the keys (CCWRAP_CACHE_SIGN_KEY, CCWRAP_CACHE_VERIFY_KEY), which the helper opens.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The record of an archive NAME: NAME.sig (sign.c): RECORD_SUFFIX in helper.h. */

const char *store_spec_env(void)
{
    const char *spec = getenv("CCWRAP_CACHE_STORE");

    return spec ? spec : "";
}

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
const char *counts_text(const struct tally *t, char *buf, size_t len)
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

/*
 * Whether NAME is one that store_name writes: [A-Za-z0-9._-] and ~XX, no leading '.'. An index
 * line holding anything else ("../../x") did not come from a save: it names nothing to delete.
 */
static bool store_wrote(const char *name)
{
    if (!*name || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++) {
        if (*p == '~') {
            if (!strchr("0123456789ABCDEF", p[1]) || !p[1] || !strchr("0123456789ABCDEF", p[2]) ||
                !p[2])
                return false;
            p += 2;
        } else if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                           *p)) {
            return false;
        }
    }
    return true;
}

static size_t index_parse(const char *text, struct entry **out)
{
    size_t n = 0;
    const char *p = text;

    *out = NULL;
    while (p && *p) {
        struct entry e;
        const char *nl = strchr(p, '\n');

        if (entry_parse(p, nl ? (size_t)(nl - p) : strlen(p), &e) < 0) {
            p = nl ? nl + 1 : NULL;
            continue;
        }
        if (!store_wrote(e.commit)) {
            /* Shown encoded: the line is the store's, whoever wrote it, not ours to print. */
            char *enc = store_name(e.commit);

            say("build cache: the index names '%.64s', not an archive name this store writes; "
                "line ignored, nothing deleted",
                enc);
            free(enc);
        } else {
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

            if (asprintf(&name, "%s.tar.zst" RECORD_SUFFIX, v[i].commit) < 0)
                abort();
            store_remove(s, name);
            name[strlen(name) - strlen(RECORD_SUFFIX)] = '\0';
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

/* The record of NAME (its SHA-256, size and signature) stored beside it as NAME.sig. */
int record_save(struct store *s, const struct keys *k, const char *name, const char *enc,
                const struct tally *t)
{
    char *text = record_make(k, s->app, enc, t->sha256, t->bytes), *rname;
    int rc;

    if (!text)
        return -1;
    if (asprintf(&rname, "%s" RECORD_SUFFIX, name) < 0)
        abort();
    rc = store_put_text(s, rname, text);
    free(rname);
    free(text);
    return rc;
}

static int do_save(char **av)
{
    const char *root = av[0], *commit = av[2];
    struct store s;
    struct tally t = {0};
    struct entry e = {0};
    struct keys k;
    char *name = archive_name(commit), *enc = store_name(commit), size[32], counts[96], *where;
    int64_t t0 = mono_ms();
    size_t removed = 0;
    long keep;
    int fd, rootfd, rc = 1;

    if (parse_keep(av[3], &keep) < 0)
        return 2;
    /* Before the archive is made: a key that cannot sign saves nothing, rather than unsigned. */
    if (keys_load(&k, true, false) < 0) {
        free(name);
        free(enc);
        return 1;
    }
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fail("%s: %s", root, strerror(errno));
        keys_free(&k);
        free(name);
        free(enc);
        return 1;
    }
    if (store_open(&s, store_spec_env(), av[1], true) < 0)
        goto out;
    fd = store_tmp(&s);
    if (fd < 0)
        goto out;
    if (archive_create(rootfd, root, fd, &t) < 0) {
        store_discard(&s, fd);
        goto out;
    }
    /* The archive, its record and the index change together for savers of one local store. */
    store_lock(&s);
    if (store_commit(&s, fd, name) < 0)
        goto out;
    if (record_save(&s, &k, name, enc, &t) < 0) {
        store_remove(&s, name);
        goto out;
    }
    snprintf(e.commit, sizeof e.commit, "%s", enc);
    e.when = (long long)time(NULL);
    e.bytes = t.bytes;
    e.files = t.files;
    index_update(&s, &e, keep, &removed);
    where = store_where(&s, name);
    say("build cache: saved %s, %s to %s%s in %.3f s", counts_text(&t, counts, sizeof counts),
        size_text(t.bytes, size, sizeof size), where, k.sign ? ", signed" : "",
        (double)(mono_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%llu ms=%lld pruned=%zu signed=%d\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (unsigned long long)t.bytes, (long long)(mono_ms() - t0), removed, k.sign != NULL);
    rc = 0;
out:
    store_close(&s);
    close(rootfd);
    keys_free(&k);
    free(name);
    free(enc);
    return rc;
}

/* NAME is not in the store (FETCH_MISSING): say so, telling a store with no index apart. */
static void say_missing(struct store *s, const char *name, const char *commit)
{
    char *where = store_where(s, name), *index = NULL;

    if (s->spec.kind != STORE_LOCAL && store_fetch_text(s, "index", &index, 1) == FETCH_MISSING)
        fail("no archive for commit %s: %s does not exist, nor the app's index: nothing saved "
             "there yet, or a wrong store path",
             commit, where);
    else
        fail("no archive for commit %s: %s does not exist", commit, where);
    free(index);
    free(where);
}

static const char *fetch_reason(int got)
{
    return got == FETCH_MISSING    ? "missing"
           : got == FETCH_NO_STORE ? "no-store"
           : got == FETCH_REFUSED  ? "credentials"
                                   : "unreachable";
}

static int do_restore(char **av)
{
    static const char *const refusal_reason[] = {"", "corrupt", "unsigned", "signature"};
    const char *root = av[0], *commit = av[2];
    struct store s;
    struct tally t = {0};
    struct keys k;
    char *name = archive_name(commit), *enc = store_name(commit), *rname, *record = NULL;
    char size[32], counts[96], *where, sha[65];
    int64_t t0 = mono_ms();
    uint64_t bytes;
    enum refusal why;
    int fd = -1, rc = 1, got;

    if (asprintf(&rname, "%s" RECORD_SUFFIX, name) < 0)
        abort();
    if (keys_load(&k, false, true) < 0) {
        memset(&s, 0, sizeof s);
        s.dirfd = s.lock_fd = -1;
        result("reason=key\n");
        goto out;
    }
    if (store_open(&s, store_spec_env(), av[1], false) < 0)
        goto out;
    got = store_fetch(&s, name, &fd);
    if (got == FETCH_MISSING)
        say_missing(&s, name, commit);
    if (got != 0) {
        result("reason=%s\n", fetch_reason(got));
        goto out;
    }
    /* The whole archive is here: its hash and record are checked before anything is written. */
    if (fd_sha256(fd, sha, &bytes) < 0) {
        result("reason=unreachable\n");
        goto out;
    }
    got = store_fetch_text(&s, rname, &record, RECORD_MAX);
    if (got != 0 && got != FETCH_MISSING) {
        result("reason=%s\n", fetch_reason(got));
        goto out;
    }
    where = store_where(&s, name);
    why = record_check(&k, record, s.app, enc, sha, bytes, where);
    free(where);
    if (why != REFUSED_NONE) {
        result("reason=%s\n", refusal_reason[why]);
        goto out;
    }
    if (s.spec.kind != STORE_LOCAL && !k.verify)
        warn("build cache: %s: restored without cache_verify_key: whoever can write the store "
             "chooses what this instance runs; sign archives in CI and set cache_verify_key",
             s.spec.shown);
    if (archive_restore(root, fd, s.spec.kind == STORE_LOCAL ? s.spec.dir : NULL, &t) < 0) {
        result("reason=unusable\n");
        goto out;
    }
    where = store_where(&s, name);
    say("build cache: restored %s, %s from %s%s in %.3f s", counts_text(&t, counts, sizeof counts),
        size_text(bytes, size, sizeof size), where, k.verify ? ", signature verified" : "",
        (double)(mono_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%llu ms=%lld verified=%d\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (unsigned long long)bytes, (long long)(mono_ms() - t0), k.verify != NULL);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    store_close(&s);
    keys_free(&k);
    free(record);
    free(rname);
    free(name);
    free(enc);
    return rc;
}

static int do_list(char **av)
{
    struct store s;
    struct entry *v;
    char *text = NULL, size[32], *where;
    size_t n;
    int rc = 1;

    if (store_open(&s, store_spec_env(), av[0], false) < 0 || store_index_read(&s, &text) < 0)
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
        printf("  %-40s  %s UTC  %10s  %llu file%s\n", v[i].commit, when,
               size_text(v[i].bytes, size, sizeof size), v[i].files, v[i].files == 1 ? "" : "s");
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

    if (parse_keep(av[1], &keep) < 0)
        return 2;
    if (store_open(&s, store_spec_env(), av[0], false) == 0 &&
        index_update(&s, NULL, keep, &removed) == 0) {
        say("build cache: pruned %zu archive%s of %s/%s, kept at most %ld", removed,
            removed == 1 ? "" : "s", s.spec.shown, s.app, keep);
        rc = 0;
    }
    store_close(&s);
    return rc;
}

static int do_deps_save(char **av)
{
    return deps_save(av[0], av[1]);
}

static int do_deps_restore(char **av)
{
    return deps_restore(av[0], av[1]);
}

static int do_deps_plan(char **av)
{
    return deps_plan(av[0], av[1]);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int args;
        int (*run)(char **);
    } cmds[] = {
        {"save", 4, do_save},           {"restore", 3, do_restore},
        {"list", 1, do_list},           {"prune", 2, do_prune},
        {"deps-save", 2, do_deps_save}, {"deps-restore", 2, do_deps_restore},
        {"deps-plan", 2, do_deps_plan},
    };
    const struct rlimit no_core = {0, 0};
    int i = 1;

    /*
     * First of all: the helper holds store credentials (its environment) and, when signing, a
     * private key. Not dumpable, /proc/PID/environ and mem are root's alone and a crash writes
     * no core into the root (which the next save would archive).
     */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    setrlimit(RLIMIT_CORE, &no_core);
    for (; i < argc && argv[i][0] == '-'; i++)
        verbosity = strcmp(argv[i], "-q") == 0 ? 0 : strcmp(argv[i], "-v") == 0 ? 2 : verbosity;
    for (size_t c = 0; i < argc && c < sizeof cmds / sizeof cmds[0]; c++)
        if (strcmp(argv[i], cmds[c].name) == 0 && argc - i - 1 == cmds[c].args)
            return cmds[c].run(argv + i + 1);
    fprintf(stderr,
            "usage: CCWRAP_CACHE_STORE=STORE ccwrap-cache [-q|-v] save ROOT APP COMMIT "
            "KEEP | restore ROOT APP COMMIT | list APP | prune APP KEEP | deps-save ROOT APP | "
            "deps-restore ROOT APP | deps-plan ROOT APP\n"
            "ccwrap-cache is run by ccwrap build and ccwrap cache; see ccwrap(1).\n");
    return 2;
}
