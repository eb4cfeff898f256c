/*
 * confload.c — which configuration file ccwrap reads (§8) and what is done with it once
 * parsed: the settings only a trusted file may make (trust rule), the environment's overrides,
 * the hooks_dirs folders merged, and the readiness spec chosen among the command line, the
 * environment and the file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "storespec.h"
#include "config.h"
#include "trust.h"
#include "confload.h"
#include "config_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

/* Same folder, whatever the spelling. */
static bool same_folder(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/*
 * The file to read, as shown to the user: as given with --config or $CCWRAP_CONFIG,
 * "ccwrap.conf" for ROOT/ccwrap.conf when the root is the working folder, else the full
 * path. *named_by is the option or variable that named it, NULL when searched for.
 */
static char *find_file(const char *explicit_file, const char *root, const char **named_by)
{
    const char *env = getenv("CCWRAP_CONFIG");
    struct stat st;
    char *p;

    *named_by = NULL;
    if (explicit_file) {
        *named_by = "--config";
        return xstrdup(explicit_file);
    }
    if (env && *env) {
        *named_by = "CCWRAP_CONFIG";
        return xstrdup(env);
    }
    /* lstat: a ccwrap.conf that is a broken symlink is an error, not "no file". */
    p = xasprintf("%s/ccwrap.conf", root);
    if (lstat(p, &st) == 0) {
        if (same_folder(root, ".")) {
            free(p);
            return xstrdup("ccwrap.conf");
        }
        return p;
    }
    free(p);
    p = xstrdup(SYSCONFDIR "/ccwrap/ccwrap.conf");
    if (lstat(p, &st) == 0)
        return p;
    free(p);
    return NULL;
}

static int read_file(struct config *c, const char *file)
{
    char *buf = config_slurp(file, file);
    int rc;

    if (!buf)
        return -1;
    rc = config_parse(c, buf, file);
    free(buf);
    return rc;
}

/* A hooks_dirs entry as merge_dirs compares it. */
struct dir_key {
    const char *name; /* without a leading "./" */
    bool exists;
    dev_t dev;
    ino_t ino;
    size_t index;
};

static int cmp_name(const void *a, const void *b)
{
    const struct dir_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_inode(const void *a, const void *b)
{
    const struct dir_key *x = a, *y = b;

    if (x->exists != y->exists)
        return x->exists ? -1 : 1;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Sorted by CMP, equal keys (index aside) are one folder: all but the last listed are marked
 * in DUP, and the last takes the spelling of the first one still kept, as the user wrote it.
 */
static void mark_earlier(struct dir_key *k, size_t n, int (*cmp)(const void *, const void *),
                         bool by_inode, bool *dup, char **dirs)
{
    qsort(k, n, sizeof *k, cmp);
    for (size_t g = 0, e; g < n; g = e) {
        size_t first = n;

        for (e = g + 1; e < n; e++) {
            bool same = by_inode ? k[g].exists && k[e].exists && k[g].dev == k[e].dev &&
                                       k[g].ino == k[e].ino
                                 : strcmp(k[g].name, k[e].name) == 0;

            if (!same)
                break;
        }
        for (size_t i = g; i + 1 < e; i++) {
            if (first == n && !dup[k[i].index])
                first = k[i].index;
            dup[k[i].index] = true;
        }
        if (first != n) {
            char *t = dirs[first];

            dirs[first] = dirs[k[e - 1].index];
            dirs[k[e - 1].index] = t;
        }
    }
}

/*
 * A folder listed twice ("hooks.d", "./hooks.d", or the same folder by another name) is read
 * once, where it is listed last: there its drop-ins replace the earlier folders' ones, as
 * they did when it was read twice. Sorted, not compared in pairs: 10,000 entries are fine.
 */
static void merge_dirs(struct config *c, const char *root)
{
    struct dir_key *k = xcalloc(c->n_hooks_dirs + 1, sizeof *k);
    bool *dup = xcalloc(c->n_hooks_dirs + 1, sizeof *dup);
    size_t n = c->n_hooks_dirs, j = 0;

    for (size_t i = 0; i < n; i++) {
        const char *a = c->hooks_dirs[i];
        char *path = a[0] == '/' ? xstrdup(a) : xasprintf("%s/%s", root, a);
        struct stat st;

        while (a[0] == '.' && a[1] == '/' && a[2])
            a += 2 + strspn(a + 2, "/");
        k[i].name = a;
        k[i].index = i;
        k[i].exists = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (k[i].exists) {
            k[i].dev = st.st_dev;
            k[i].ino = st.st_ino;
        }
        free(path);
    }
    mark_earlier(k, n, cmp_name, false, dup, c->hooks_dirs);
    mark_earlier(k, n, cmp_inode, true, dup, c->hooks_dirs);
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            free(c->hooks_dirs[i]);
        else
            c->hooks_dirs[j++] = c->hooks_dirs[i];
    }
    c->n_hooks_dirs = j;
    c->hooks_dirs[j] = NULL;
    free(k);
    free(dup);
}

/*
 * The settings that decide what root runs, restores or trusts (§10): trusted_users
 * widens who may own what ccwrap runs, trust_expansions lets the shell pick it, cache and
 * cache_key choose the archive root extracts, the keys who vouches for it. Only a file that
 * passes the strict rule may set them, or whoever writes ROOT/ccwrap.conf could trust
 * themselves or point root at a store of theirs: from any other file they are ignored, each
 * with a warning naming the file, the setting and the fix.
 */
static void check_trusted_settings(struct config *c, const char *file)
{
    struct {
        const char *name;
        bool set;
    } v[] = {
        {"trusted_users", c->n_trusted_uids > 0},
        {"trust_expansions", c->trust_expansions},
        {"cache", c->cache_store != NULL},
        {"cache_key", c->cache_key != NULL},
        {"cache_sign_key", c->cache_sign_key != NULL},
        {"cache_verify_key", c->cache_verify_key != NULL},
    };
    char *abs, *problem = NULL;
    bool any = false;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        any = any || v[i].set;
    if (!any)
        return;
    abs = realpath(file, NULL);
    problem = abs ? trust_problem(abs, NULL, file, NULL) : xasprintf("%s", strerror(errno));
    free(abs);
    if (!problem)
        return;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i].set)
            log_warn("%s: %s ignored: only a file ccwrap trusts may set it, and %s", file,
                     v[i].name, problem);
    free(problem);
    c->n_trusted_uids = 0;
    c->trust_expansions = false;
    free(c->cache_store);
    free(c->cache_key);
    free(c->cache_sign_key);
    free(c->cache_verify_key);
    c->cache_store = c->cache_key = c->cache_sign_key = c->cache_verify_key = NULL;
}

/*
 * $CCWRAP_TRUSTED_USERS replaces the file's trusted_users (environment > file): whoever sets
 * ccwrap's environment already chooses what it runs, as with CC_*_HOOK.
 */
static int env_trusted_users(struct config *c)
{
    const char *env = getenv("CCWRAP_TRUSTED_USERS");
    char *copy, *save = NULL;
    size_t n = 0;

    if (!env)
        return 0;
    copy = xstrdup(env);
    free(c->trusted_uids);
    c->trusted_uids = xcalloc(strlen(env) / 2 + 2, sizeof *c->trusted_uids);
    for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
        if (config_user_uid(w, &c->trusted_uids[n]) < 0) {
            char *shown = shown_text(w);

            log_error("CCWRAP_TRUSTED_USERS: no user '%s' on this system; give user names or "
                      "uids, separated by commas",
                      shown);
            free(shown);
            free(copy);
            c->n_trusted_uids = 0;
            return -1;
        }
        n++;
    }
    c->n_trusted_uids = n;
    free(copy);
    return 0;
}

/* "VARIABLE: FIX, not 'VALUE'", the value shown safely. -1. */
static int env_refused(const char *variable, const char *fix, const char *value)
{
    char *shown = shown_text(value);

    log_error("%s: %s, not '%s'", variable, fix, shown);
    free(shown);
    return -1;
}

/* $CCWRAP_EXEC_IN_PLACE replaces the file's exec_in_place (environment > file). */
static int env_exec_in_place(struct config *c)
{
    const char *env = getenv("CCWRAP_EXEC_IN_PLACE");
    int i;

    if (!env)
        return 0;
    i = config_word("exec_in_place", env);
    if (i < 0)
        return env_refused("CCWRAP_EXEC_IN_PLACE", "give true or false", env);
    c->exec_in_place = i == 1;
    return 0;
}

/*
 * $CCWRAP_CACHE_MAX_BYTES and $CCWRAP_CACHE_MAX_ENTRIES replace the file's caps on what a
 * restore writes (environment > file), as $CCWRAP_CACHE replaces its cache.
 */
static int env_cache_caps(struct config *c)
{
    const char *bytes = getenv("CCWRAP_CACHE_MAX_BYTES"),
               *entries = getenv("CCWRAP_CACHE_MAX_ENTRIES");
    uint64_t n;
    long e;

    if (bytes && *bytes) {
        if (cache_size_parse(bytes, &n) < 0 || n == 0)
            return env_refused("CCWRAP_CACHE_MAX_BYTES",
                               "give a whole number of bytes from 1, with K, M, G or T for KiB, "
                               "MiB, GiB or TiB, at most 1024T",
                               bytes);
        c->cache_max_bytes = n;
    }
    if (entries && *entries) {
        if (parse_long(entries, 1, (long)CACHE_MAX_ENTRIES_LIMIT, &e) < 0)
            return env_refused("CCWRAP_CACHE_MAX_ENTRIES",
                               "give a whole number of entries from 1 to 1000000000", entries);
        c->cache_max_entries = (uint64_t)e;
    }
    return 0;
}

/* The environment's settings, which replace the file's (environment > file). 0, or -1. */
static int env_overrides(struct config *c)
{
    return env_trusted_users(c) < 0 || env_exec_in_place(c) < 0 || env_cache_caps(c) < 0 ? -1 : 0;
}

int config_load(struct config *c, const char *explicit_file, const char *root)
{
    const char *named_by;
    char *file = find_file(explicit_file, root, &named_by);
    struct stat st;

    if (!file)
        return config_defaults(c) < 0 ? -1 : env_overrides(c);
    /* config_parse sets every option: no defaults to set first. */
    memset(c, 0, sizeof *c);
    c->file = file;
    if (named_by && stat(file, &st) < 0 && errno == ENOENT) {
        log_error("%s: no such configuration file; fix %s", file, named_by);
        return -1;
    }
    if (read_file(c, file) < 0)
        return -1;
    check_trusted_settings(c, file);
    if (env_overrides(c) < 0)
        return -1;
    merge_dirs(c, root);
    return 0;
}

const char *config_ready(const struct config *c, const char *cli, const char **from)
{
    const char *env = getenv("CCWRAP_READY"), *task = getenv("CC_TASK");

    if (cli) {
        *from = "--ready";
        return cli;
    }
    if (env && *env) {
        *from = "CCWRAP_READY";
        return env;
    }
    if (task && strcmp(task, "true") == 0) {
        *from = "CC_TASK=true";
        return "exit";
    }
    *from = c->ready_origin ? c->ready_origin : "default";
    return c->ready;
}

char *config_ready_error(const struct config *c, const char *from, const char *err)
{
    const char *name = c->ready_variable;

    if (!c->ready_hidden || !name || !c->ready_origin || strcmp(from, c->ready_origin) != 0)
        return xstrdup(err);
    /* libconfuse takes a default after :- only for an unset variable, not an empty one. */
    if (config_variable_empty(name))
        return xasprintf("the readiness spec given with ${%s} is not valid: %s is set but "
                         "empty; give it a value, or see ccwrap(1) for the forms the spec takes",
                         name, name);
    return xasprintf("the readiness spec given with ${%s} is not valid (its value is not "
                     "shown); fix %s, or see ccwrap(1) for the forms the spec takes",
                     name, name);
}
