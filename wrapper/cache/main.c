/*
 * main.c — ccwrap-cache, run by ccwrap: save, restore, list and prune build cache archives
 * (§10). Messages go to stderr as ccwrap's own; a result line goes to fd 3 when
 * CCWRAP_CACHE_RESULT=3 says ccwrap gave it. The helper alone links libarchive (pack.c,
 * unpack.c) and loads libcurl (remote.c: with dlopen, and only for an http(s) or s3 store),
 * so ccwrap without a cache starts as before; its messages are msg.c's, its allocation and
 * numbers util.c's. Each room NAME.c offers NAME.h; tests/layers lists them lowest first.
 *
 *   ccwrap-cache [-q|-n|-v] save ROOT APP COMMIT KEEP
 *   ccwrap-cache [-q|-n|-v] restore ROOT APP COMMIT
 *   ccwrap-cache [-q|-n|-v] list APP
 *   ccwrap-cache [-q|-n|-v] prune APP KEEP
 *   ccwrap-cache [-q|-n|-v] deps-save|deps-restore|deps-plan ROOT APP   (deps.c)
 *
 * -q quiet, -n normal (ccwrap gives it when it has neither), -v verbose; any other flag is a
 * usage error (2), as a wrong command is.
 *
 * The store comes in the environment, CCWRAP_CACHE_STORE, never in argv: an http(s) store's
 * user:password would be in /proc/PID/cmdline, which every local user may read. So do the
 * paths of the keys (CCWRAP_CACHE_SIGN_KEY, CCWRAP_CACHE_VERIFY_KEY), which the helper opens.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"
#include "../msg.h"
#include "../storespec.h"
#include "env.h"
#include "tally.h"
#include "store.h"
#include "sign.h"
#include "pack.h"
#include "unpack.h"
#include "deps.h"

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

/* KEEP, how many archives a save or prune keeps: 0 (all) to 10000. */
static int parse_keep(const char *s, long *keep)
{
    if (parse_long(s, 0, 10000, keep) < 0) {
        log_error("build cache: keep '%s': give a whole number from 0 (keep all) to 10000", s);
        return -1;
    }
    return 0;
}

static char *build_archive_name(const char *commit)
{
    char *enc = store_name(commit), *name;

    name = xasprintf("%s.tar.zst", enc);
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

            log_info("build cache: the index names '%.64s', not an archive name this store writes; "
                     "line ignored, nothing deleted",
                     enc);
            free(enc);
        } else {
            *out = xrealloc(*out, (n + 1) * sizeof **out);
            (*out)[n++] = e;
        }
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static char *index_text(const struct entry *v, size_t n)
{
    size_t cap = n * 340 + 1, len = 0;
    char *t = xmalloc(cap);

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
    w = xcalloc(n + 1, sizeof *w);
    if (newest)
        w[m++] = *newest;
    for (size_t i = 0; i < n; i++) {
        if (newest && strcmp(v[i].commit, newest->commit) == 0)
            continue;
        if (keep > 0 && m >= (size_t)keep) {
            char *name;

            name = xasprintf("%s.tar.zst" RECORD_SUFFIX, v[i].commit);
            store_remove(s, name);
            name[strlen(name) - strlen(RECORD_SUFFIX)] = '\0';
            if (store_remove(s, name) == 0) {
                log_detail("build cache: pruned %s", name);
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
    const char *root = av[0], *commit = av[2];
    struct store s;
    struct tally t = {0};
    struct entry e = {0};
    struct keys k;
    char *name = build_archive_name(commit), *enc = store_name(commit), size[32], counts[96],
         *where;
    int64_t t0 = now_ms();
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
        log_error("build cache: %s: %s", root, strerror(errno));
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
    if (pack_root(rootfd, root, fd, &t) < 0) {
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
    log_info("build cache: saved %s, %s to %s%s in %.3f s", counts_text(&t, counts, sizeof counts),
             size_text(t.bytes, size, sizeof size), where, k.sign ? ", signed" : "",
             (double)(now_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%llu ms=%lld pruned=%zu signed=%d\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (unsigned long long)t.bytes, (long long)(now_ms() - t0), removed, k.sign != NULL);
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
        log_error("build cache: no archive for commit %s: %s does not exist, nor the app's index: "
                  "nothing saved "
                  "there yet, or a wrong store path",
                  commit, where);
    else
        log_error("build cache: no archive for commit %s: %s does not exist", commit, where);
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
    char *name = build_archive_name(commit), *enc = store_name(commit), *rname, *record = NULL;
    char size[32], counts[96], *where, sha[65];
    int64_t t0 = now_ms();
    uint64_t bytes;
    enum refusal why;
    int fd = -1, rc = 1, got;

    rname = xasprintf("%s" RECORD_SUFFIX, name);
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
        log_warn("build cache: %s: restored without cache_verify_key: whoever can write the store "
                 "chooses what this instance runs; sign archives in CI and set cache_verify_key",
                 s.spec.shown);
    if (unpack_root(root, fd, s.spec.kind == STORE_LOCAL ? s.spec.dir : NULL, &t) < 0) {
        result("reason=unusable\n");
        goto out;
    }
    where = store_where(&s, name);
    log_info("build cache: restored %s, %s from %s%s in %.3f s",
             counts_text(&t, counts, sizeof counts), size_text(bytes, size, sizeof size), where,
             k.verify ? ", signature verified" : "", (double)(now_ms() - t0) / 1000.0);
    free(where);
    result("files=%llu folders=%llu symlinks=%llu bytes=%llu ms=%lld verified=%d\n",
           (unsigned long long)t.files, (unsigned long long)t.dirs, (unsigned long long)t.links,
           (unsigned long long)bytes, (long long)(now_ms() - t0), k.verify != NULL);
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
        log_info("build cache: pruned %zu archive%s of %s/%s, kept at most %ld", removed,
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

/* The usage on stderr; 2, the status of every usage error. */
static int usage(void)
{
    fprintf(stderr,
            "usage: CCWRAP_CACHE_STORE=STORE ccwrap-cache [-q|-n|-v] save ROOT APP COMMIT "
            "KEEP | restore ROOT APP COMMIT | list APP | prune APP KEEP | deps-save ROOT APP | "
            "deps-restore ROOT APP | deps-plan ROOT APP\n"
            "-q quiet, -n normal, -v verbose; ccwrap-cache is run by ccwrap build and ccwrap "
            "cache; see ccwrap(1).\n");
    return 2;
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
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-q") == 0) {
            log_verbosity = V_QUIET;
        } else if (strcmp(argv[i], "-n") == 0) {
            log_verbosity = V_NORMAL;
        } else if (strcmp(argv[i], "-v") == 0) {
            log_verbosity = V_VERBOSE;
        } else {
            log_error("build cache: %s: unknown option; give -q (quiet), -n (normal) or -v "
                      "(verbose)",
                      argv[i]);
            return usage();
        }
    }
    for (size_t c = 0; i < argc && c < sizeof cmds / sizeof cmds[0]; c++)
        if (strcmp(argv[i], cmds[c].name) == 0 && argc - i - 1 == cmds[c].args)
            return cmds[c].run(argv + i + 1);
    return usage();
}
