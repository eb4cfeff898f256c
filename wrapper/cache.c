/*
 * cache.c — the build cache archive of §10 as ccwrap sees it: the store and the key
 * (app, commit), and the helper ccwrap-cache that does the work. libarchive and libcurl are
 * the helper's alone: a ccwrap that never touches a cache never loads them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "util.h"
#include "msg.h"
#include "storespec.h"
#include "log.h"
#include "config.h"
#include "instance.h"
#include "children.h"
#include "trust.h"
#include "spawn.h"
#include "point.h"
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

const char *cache_option;

struct key {
    const char *store; /* "" for the default folder */
    const char *store_from;
    const char *app;
    const char *app_from;
    char *commit;
    const char *commit_from;
    const char *sign_key; /* NULL: archives are not signed */
    const char *sign_from;
    const char *verify_key; /* NULL: restores are not verified */
    const char *verify_from;
    uint64_t max_bytes, max_entries; /* a restore's caps */
};

static void key_resolve(const char *root, const struct config *c, struct key *k)
{
    const char *env = getenv("CCWRAP_CACHE"), *app = getenv("APP_ID");
    const char *commit = getenv("COMMIT_ID");

    if (cache_option) {
        k->store = cache_option;
        k->store_from = "--cache";
    } else if (env && *env) {
        k->store = env;
        k->store_from = "CCWRAP_CACHE";
    } else if (c->cache_store) {
        k->store = c->cache_store;
        k->store_from = "cache";
    } else {
        k->store = "";
        k->store_from = "default";
    }
    if (app && *app) {
        k->app = app;
        k->app_from = "APP_ID";
    } else if (c->cache_key) {
        k->app = c->cache_key;
        k->app_from = "cache_key";
    } else {
        k->app = root;
        k->app_from = "the root";
    }
    k->sign_key = getenv("CCWRAP_CACHE_SIGN_KEY");
    k->sign_from = "CCWRAP_CACHE_SIGN_KEY";
    if (!k->sign_key || !*k->sign_key) {
        k->sign_key = c->cache_sign_key;
        k->sign_from = "cache_sign_key";
    }
    k->max_bytes = c->cache_max_bytes;
    k->max_entries = c->cache_max_entries;
    k->verify_key = getenv("CCWRAP_CACHE_VERIFY_KEY");
    k->verify_from = "CCWRAP_CACHE_VERIFY_KEY";
    if (!k->verify_key || !*k->verify_key) {
        k->verify_key = c->cache_verify_key;
        k->verify_from = "cache_verify_key";
    }
    /* A COMMIT_ID ccwrap set itself came from .git/HEAD: the key says so. */
    if (commit && *commit && !instance_ours("COMMIT_ID")) {
        k->commit = xstrdup(commit);
        k->commit_from = "COMMIT_ID";
    } else if ((k->commit = git_head(root)) != NULL) {
        k->commit_from = ".git/HEAD";
    } else {
        k->commit = xstrdup("latest");
        k->commit_from = "no COMMIT_ID nor git HEAD";
    }
}

/* ccwrap-cache beside ccwrap's own file (a build tree, bin/), else in LIBEXECDIR/ccwrap. */
static char *helper_path(void)
{
    char self[4096], *slash, *p;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            p = xasprintf("%s/ccwrap-cache", self);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    p = xstrdup(LIBEXECDIR "/ccwrap/ccwrap-cache");
    if (access(p, X_OK) == 0)
        return p;
    free(p);
    return NULL;
}

static const char *verbosity_flag(void)
{
    return log_verbosity == V_QUIET ? "-q" : log_verbosity == V_VERBOSE ? "-v" : "-n";
}

/*
 * Runs the helper with ARGS (after its verbosity flag) for the store and keys of K; its result
 * line (fd 3) in RES. The store and the keys' paths go in the helper's environment, never its
 * argv: /proc/PID/cmdline is every local user's to read, /proc/PID/environ only its owner's
 * (root's alone, the helper not being dumpable). The helper's exit status, or -1 when it could
 * not run (reported).
 */
static int run_helper(const struct key *k, const char *const *args, char *res, size_t reslen)
{
    char *argv[12], *path = helper_path(), caps[2][64];
    char *store = xasprintf("CCWRAP_CACHE_STORE=%s", k->store);
    char *sign = xasprintf("CCWRAP_CACHE_SIGN_KEY=%s", k->sign_key ? k->sign_key : "");
    char *verify = xasprintf("CCWRAP_CACHE_VERIFY_KEY=%s", k->verify_key ? k->verify_key : "");
    char *env[] = {"CCWRAP_CACHE_RESULT=3", store, sign, verify, caps[0], caps[1], NULL};
    struct spawn_req req = {.argv = argv, .null_stdin = true, .env_set = env};
    struct proc p;
    int fds[2], err = 0, n = 0, rc = -1;
    ssize_t got = 0;

    res[0] = '\0';
    /* The restore's caps reach the helper as they reach ccwrap: by its environment. */
    snprintf(caps[0], sizeof caps[0], "CCWRAP_CACHE_MAX_BYTES=%llu",
             (unsigned long long)k->max_bytes);
    snprintf(caps[1], sizeof caps[1], "CCWRAP_CACHE_MAX_ENTRIES=%llu",
             (unsigned long long)k->max_entries);
    if (!path) {
        log_warn("build cache: ccwrap-cache is neither beside ccwrap nor in %s/ccwrap; "
                 "reinstall ccwrap",
                 LIBEXECDIR);
        goto out;
    }
    argv[n++] = path;
    argv[n++] = (char *)verbosity_flag();
    for (; *args && n < 11; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    req.exec_path = path;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        log_warn("build cache: %s", strerror(errno));
        goto out;
    }
    req.fd3 = fds[1];
    if (spawn(&req, &p, &err) < 0) {
        log_warn("build cache: %s: %s", path, strerror(err));
        close(fds[0]);
        close(fds[1]);
        goto out;
    }
    close(fds[1]);
    while (p.running)
        if (loop_step(NULL, -1) < 0)
            break;
    while (got < (ssize_t)reslen - 1) {
        ssize_t r = read(fds[0], res + got, reslen - 1 - (size_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    res[got] = '\0';
    close(fds[0]);
    rc = status_shell(p.status);
out:
    free(path);
    free(store);
    free(sign);
    free(verify);
    return rc;
}

/*
 * A key file must pass the trust rule (its folders up to / included): whoever could replace a
 * verify key would choose what root restores. NULL when it does, else the line to say.
 */
static char *key_problem(const struct config *c, const char *from, const char *path)
{
    char *problem, *text;

    if (path[0] != '/')
        return xasprintf("%s %s: give the absolute path of a PEM key file", from, path);
    problem = trust_problem(path, NULL, NULL, c);
    if (!problem)
        return NULL;
    text = xasprintf("%s %s: %s", from, path, problem);
    free(problem);
    return text;
}

static int64_t field(const char *res, const char *name)
{
    const char *p = strstr(res, name);
    long v;
    char num[24];
    size_t n;

    if (!p)
        return -1;
    p += strlen(name);
    n = strspn(p, "0123456789");
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, p, n);
    num[n] = '\0';
    return parse_long(num, 0, LONG_MAX, &v) == 0 ? v : -1;
}

static char *shown_store(const char *store)
{
    struct store_spec s;
    char err[256], *t;

    if (store_spec_parse(store, &s, err, sizeof err) < 0)
        return store_spec_shown(store);
    t = xstrdup(s.shown);
    store_spec_free(&s);
    return t;
}

/*
 * A local store inside the root (--cache .cache/ccwrap) is not archived into itself: its path
 * joins CC_IGNORE_FROM_BUILDCACHE for the helper, as if the user had named it there.
 */
static void ignore_store_inside(const char *root, const char *store)
{
    struct store_spec s;
    char err[256], *real = realpath(root, NULL);
    const char *base[2] = {root, real};

    if (store_spec_parse(store, &s, err, sizeof err) < 0) {
        free(real);
        return;
    }
    for (int i = 0; i < 2 && s.kind == STORE_LOCAL; i++) {
        size_t n = base[i] ? strlen(base[i]) : 0;
        const char *old = getenv("CC_IGNORE_FROM_BUILDCACHE");
        char *list;

        if (!n || strncmp(s.dir, base[i], n) != 0 || s.dir[n] != '/' || !s.dir[n + 1])
            continue;
        list = old && *old ? xasprintf("%s:%s", old, s.dir + n + 1) : xstrdup(s.dir + n + 1);
        setenv("CC_IGNORE_FROM_BUILDCACHE", list, 1);
        free(list);
        break;
    }
    store_spec_free(&s);
    free(real);
}

bool cache_disabled(void)
{
    const char *off = getenv("CC_DISABLE_BUILD_CACHE_UPLOAD");

    return off && strcmp(off, "true") == 0;
}

void cache_save(const struct ctx *x)
{
    struct key k;
    char res[256], keep[24], *shown, *problem;
    int rc;

    if (cache_disabled()) {
        /* Said with -v (and by plan): every build in a suite or CI would say it otherwise. */
        log_detail("build cache: no archive: CC_DISABLE_BUILD_CACHE_UPLOAD=true");
        events_emit("cache_save", "bsaved", 0, "sreason", "disabled", EV_END);
        return;
    }
    key_resolve(x->root, x->cfg, &k);
    /*
     * An instance of a signed fleet holds only the public key. Its full build (no archive yet, a
     * fetch that failed) must not replace the archive CI signed with one every restore refuses.
     */
    if (!k.sign_key && k.verify_key) {
        log_info("build cache: no archive saved: %s is set and cache_sign_key is not, and every "
                 "restore would refuse an unsigned archive; archives are saved where "
                 "cache_sign_key is set",
                 k.verify_from);
        events_emit("cache_save", "bsaved", 0, "sreason", "unsigned", EV_END);
        free(k.commit);
        return;
    }
    ignore_store_inside(x->root, k.store);
    snprintf(keep, sizeof keep, "%ld", x->cfg->cache_keep);
    problem = k.sign_key ? key_problem(x->cfg, k.sign_from, k.sign_key) : NULL;
    if (problem) {
        log_warn("build cache: %s; no archive saved (an unsigned one would be refused)", problem);
        free(problem);
        rc = 1;
        res[0] = '\0';
    } else {
        rc = run_helper(&k, (const char *[]){"save", x->root, k.app, k.commit, keep, NULL}, res,
                        sizeof res);
        if (rc != 0)
            log_warn("build cache: no archive saved; the build itself succeeded");
    }
    shown = shown_store(k.store);
    events_emit("cache_save", "bsaved", rc == 0, "sstore", shown, "sapp", k.app, "scommit",
                k.commit, "ifiles", field(res, "files="), "ibytes", field(res, "bytes="), "ims",
                field(res, "ms="), "bsigned", field(res, "signed=") == 1, EV_END);
    free(shown);
    free(k.commit);
}

bool cache_restore(const struct ctx *x)
{
    struct key k;
    char res[256], *shown, *reason, *problem;
    int rc;

    key_resolve(x->root, x->cfg, &k);
    problem = k.verify_key ? key_problem(x->cfg, k.verify_from, k.verify_key) : NULL;
    if (problem) {
        log_warn("build cache: %s; nothing restored", problem);
        free(problem);
        rc = 1;
        snprintf(res, sizeof res, "reason=key\n");
    } else {
        rc = run_helper(&k, (const char *[]){"restore", x->root, k.app, k.commit, NULL}, res,
                        sizeof res);
    }
    shown = shown_store(k.store);
    reason = strstr(res, "reason=");
    if (reason)
        reason[strcspn(reason, "\n")] = '\0';
    if (reason)
        events_emit("cache_restore", "brestored", 0, "sstore", shown, "sapp", k.app, "scommit",
                    k.commit, "sreason", reason + 7, EV_END);
    else
        events_emit("cache_restore", "brestored", rc == 0, "sstore", shown, "sapp", k.app,
                    "scommit", k.commit, "ifiles", field(res, "files="), "ibytes",
                    field(res, "bytes="), "ims", field(res, "ms="), "bverified",
                    field(res, "verified=") == 1, EV_END);
    if (rc == 0)
        log_info("build cache: build command and post-build hooks skipped (--from-cache)");
    else
        log_info("build cache: nothing restored; building in full");
    free(shown);
    free(k.commit);
    return rc == 0;
}

bool cache_deps_enabled(void)
{
    const char *on = getenv("CC_CACHE_DEPENDENCIES");

    return on && strcmp(on, "true") == 0;
}

/*
 * The dependency archive (§10, "Dependencies across commits"): restored before the build
 * command, saved after a successful build. The helper says what it did; a failure only warns:
 * the build goes on, and its status is its own.
 */
static void deps_run(const struct ctx *x, const char *action)
{
    struct key k;
    char res[256], *problem;
    bool save = strcmp(action, "deps-save") == 0;
    int rc = 1;

    key_resolve(x->root, x->cfg, &k);
    if (save)
        ignore_store_inside(x->root, k.store);
    problem = save ? (k.sign_key ? key_problem(x->cfg, k.sign_from, k.sign_key) : NULL)
                   : (k.verify_key ? key_problem(x->cfg, k.verify_from, k.verify_key) : NULL);
    if (problem) {
        log_warn("dependencies: %s; %s", problem,
                 save ? "no dependency archive saved" : "nothing restored");
        free(problem);
    } else {
        rc = run_helper(&k, (const char *[]){action, x->root, k.app, NULL}, res, sizeof res);
        if (rc != 0)
            log_warn("dependencies: %s; the build's status is its own",
                     save ? "no dependency archive saved"
                          : "nothing restored, the build installs "
                            "them");
    }
    free(k.commit);
}

void cache_deps_restore(const struct ctx *x)
{
    if (cache_deps_enabled())
        deps_run(x, "deps-restore");
}

void cache_deps_save(const struct ctx *x)
{
    if (cache_deps_enabled())
        deps_run(x, "deps-save");
}

void cache_deps_plan(const char *root, const struct config *c)
{
    struct key k;
    char *path = helper_path();
    pid_t pid;
    int st;

    key_resolve(root, c, &k);
    fflush(stdout);
    /* plan runs no event loop: a plain child, waited for (the helper only reads the store). */
    if (!path) {
        printf(
            "the archive of this fingerprint if saved, else the newest (ccwrap-cache missing)\n");
    } else if ((pid = fork()) == 0) {
        setenv("CCWRAP_CACHE_STORE", k.store, 1);
        execl(path, path, "-n", "deps-plan", root, k.app, (char *)NULL);
        _exit(127);
    } else if (pid > 0) {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    free(path);
    free(k.commit);
}

int cache_command(const struct ctx *x, const char *action, long keep)
{
    struct key k;
    char res[256], num[24];
    int rc;

    key_resolve(x->root, x->cfg, &k);
    snprintf(num, sizeof num, "%ld", keep >= 0 ? keep : x->cfg->cache_keep);
    if (strcmp(action, "list") == 0)
        rc = run_helper(&k, (const char *[]){"list", k.app, NULL}, res, sizeof res);
    else
        rc = run_helper(&k, (const char *[]){"prune", k.app, num, NULL}, res, sizeof res);
    (void)x;
    free(k.commit);
    return rc < 0 ? EXIT_CCWRAP : rc ? 1 : 0;
}

char *cache_plan(const char *root, const struct config *c)
{
    struct key k;
    char *shown, *text, *sign, *verify;

    if (cache_disabled())
        return xstrdup("none: CC_DISABLE_BUILD_CACHE_UPLOAD=true");
    key_resolve(root, c, &k);
    shown = shown_store(k.store);
    sign = k.sign_key     ? xasprintf("signed with %s (%s)", k.sign_key, k.sign_from)
           : k.verify_key ? xstrdup("not saved (no cache_sign_key, and restores are verified)")
                          : xstrdup("not signed");
    verify = k.verify_key ? xasprintf("restores verified with %s (%s)", k.verify_key, k.verify_from)
                          : xstrdup("restores not verified");
    text = xasprintf("archive to %s (%s), app %s (%s), commit %s (%s), keep %ld%s, %s, %s", shown,
                     k.store_from, k.app, k.app_from, k.commit, k.commit_from, c->cache_keep,
                     c->cache_keep == 0 ? " = all" : "", sign, verify);
    free(sign);
    free(verify);
    free(shown);
    free(k.commit);
    return text;
}

int cache_check(const struct config *c, int (*report)(const char *path, const char *text))
{
    struct key k = {0};
    struct store_spec s;
    char err[256], *path;
    int n = 0;

    key_resolve(".", c, &k);
    if (store_spec_parse(k.store, &s, err, sizeof err) < 0) {
        char *safe = store_spec_shown(k.store), *text = xasprintf("'%s': %s", safe, err);

        n += report(k.store_from, text);
        free(text);
        free(safe);
    } else {
        struct stat st;

        if (s.kind == STORE_LOCAL && lstat(s.dir, &st) == 0 &&
            (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
             (st.st_mode & 022))) {
            char *text = xasprintf("the cache folder %s must be a folder of this user or root, "
                                   "writable by nobody else; chmod go-w or choose another",
                                   s.dir);

            n += report(k.store_from, text);
            free(text);
        }
        if (s.kind == STORE_S3 &&
            (!getenv("AWS_ACCESS_KEY_ID") || !getenv("AWS_SECRET_ACCESS_KEY")))
            n += report(k.store_from, "an s3:// store needs AWS_ACCESS_KEY_ID and "
                                      "AWS_SECRET_ACCESS_KEY in the environment; export them");
        if (s.kind != STORE_LOCAL && !k.verify_key) {
            char *text = xasprintf("%s is restored without cache_verify_key: whoever can write "
                                   "the store chooses what this instance runs; sign archives in "
                                   "CI and set cache_verify_key",
                                   s.shown);

            n += report(k.store_from, text);
            free(text);
        }
        store_spec_free(&s);
    }
    for (int i = 0; i < 2; i++) {
        const char *file = i ? k.verify_key : k.sign_key;
        char *problem = file ? key_problem(c, i ? k.verify_from : k.sign_from, file) : NULL;

        if (problem) {
            n += report(i ? k.verify_from : k.sign_from, problem);
            free(problem);
        }
    }
    path = helper_path();
    if (!path)
        n += report("ccwrap-cache", "neither beside ccwrap nor in " LIBEXECDIR
                                    "/ccwrap: no build cache; reinstall ccwrap");
    free(path);
    free(k.commit);
    return n;
}
