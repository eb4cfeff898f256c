/*
 * deps.c — the dependency archives of CC_CACHE_DEPENDENCIES (§10, "Dependencies across
 * commits"): the folders of the ecosystems recognized by their lock files at the root, plus
 * CC_CACHE_DEPENDENCIES_EXTRA_PATHS, kept per app and fingerprint of those lock files.
 *
 * One archive per folder that holds dependency paths (the root, the root's "vendor", the
 * home's ".cache", ...), its entries the paths' last names: a restore replaces those entries
 * and nothing beside them (restoring "~/.cache/pip" leaves the rest of "~/.cache" alone). Named
 * deps~~FINGERPRINT~~WHERE.tar.zst, where "~~" is never in a name store_name writes, so no
 * commit's archive can take a dependency archive's name, and the other way round. Their list
 * is the app's deps-index ("FINGERPRINT TIME WHERE,WHERE" newest first), which the build
 * archives' index and keep never see; the newest DEPS_KEEP fingerprints are kept.
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
#include "below.h"
#include "pack.h"
#include "unpack.h"
#include "deps_find.h"
#include "deps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEPS_KEEP      3
#define DEPS_INDEX     "deps-index"
#define DEPS_INDEX_MAX ((size_t)256 * 1024)

/* The folder holding dependency I, as a name part: "root", "root~2Fvendor", "home~2E.cache". */
static char *where_of(const struct dep *p)
{
    const char *slash = strrchr(p->rel, '/');
    char *raw, *enc;

    raw = xasprintf("%s%s%.*s", p->home ? "home" : "root", slash ? "/" : "",
                    slash ? (int)(slash - p->rel) : 0, p->rel);
    enc = store_name(raw);
    free(raw);
    return enc;
}

static char *stem_of(const char *fp, const char *where)
{
    char *s;

    s = xasprintf("deps~~%s~~%s", fp, where);
    return s;
}

struct line {
    char fp[65];
    long long when;
    char wheres[1024];
};

static bool hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Only names store_name writes, joined by ','; anything else names nothing to delete. */
static bool wheres_ok(const char *s)
{
    return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-~,") ==
                     strlen(s);
}

static size_t index_lines(const char *text, struct line **out)
{
    size_t n = 0;

    *out = NULL;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char buf[1200], *save = NULL, *fp, *when, *wh, *end;
        struct line e;

        if (l < sizeof buf) {
            memcpy(buf, p, l);
            buf[l] = '\0';
            fp = strtok_r(buf, " ", &save);
            when = fp ? strtok_r(NULL, " ", &save) : NULL;
            wh = when ? strtok_r(NULL, " ", &save) : NULL;
            errno = 0;
            e.when = when ? strtoll(when, &end, 10) : 0;
            if (wh && !errno && *end == '\0' && end != when && hex64(fp) && wheres_ok(wh) &&
                strlen(wh) < sizeof e.wheres) {
                snprintf(e.fp, sizeof e.fp, "%s", fp);
                snprintf(e.wheres, sizeof e.wheres, "%s", wh);
                *out = xrealloc(*out, (n + 1) * sizeof **out);
                (*out)[n++] = e;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static size_t index_get(struct store *s, struct line **v)
{
    char *text = NULL;
    size_t n;

    store_fetch_text(s, DEPS_INDEX, &text, DEPS_INDEX_MAX);
    n = index_lines(text ? text : "", v);
    free(text);
    return n;
}

/* The archives of line E: removed (their records first). */
static void remove_line(struct store *s, const struct line *e)
{
    char *copy = xstrdup(e->wheres), *save = NULL;

    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *stem = stem_of(e->fp, w), *name;

        name = xasprintf("%s.tar.zst" RECORD_SUFFIX, stem);
        store_remove(s, name);
        name[strlen(name) - strlen(RECORD_SUFFIX)] = '\0';
        if (store_remove(s, name) == 0)
            log_detail("dependencies: pruned %s", name);
        free(name);
        free(stem);
    }
    free(copy);
}

/*
 * What a save (SAVE) or a restore of the dependencies of APP at ROOT needs: their paths in D,
 * the keys in K, the store in S. 0 when ready; 1 when there is nothing to do (said); -1
 * reported. Only 0 leaves anything to free.
 */
static int deps_open(struct deps *d, const char *root, const char *app, bool save, struct keys *k,
                     struct store *s)
{
    if (deps_find(d, root) < 0)
        return -1;
    if (d->n == 0) {
        if (save)
            log_detail("dependencies: no lock file recognized at the root, nor %s; nothing to "
                       "save",
                       EXTRA_VAR);
        else
            log_info("dependencies: no lock file recognized at the root, nor %s; nothing to "
                     "restore",
                     EXTRA_VAR);
        deps_free(d);
        return 1;
    }
    if (keys_load(k, save, !save) < 0) {
        keys_free(k);
        deps_free(d);
        return -1;
    }
    if (store_open(s, store_spec_env(), app, save) < 0) {
        store_close(s);
        keys_free(k);
        deps_free(d);
        return -1;
    }
    return 0;
}

int deps_save(const char *root, const char *app)
{
    struct deps d;
    struct store s = {.dirfd = -1, .lock_fd = -1};
    struct keys k = {0};
    struct tally all = {0};
    struct line *v = NULL;
    char wheres[1024] = "", size[32], counts[96];
    bool *done = NULL;
    int64_t t0 = now_ms();
    size_t n, wl = 0;
    int rc = 1;
    int opened = deps_open(&d, root, app, true, &k, &s);

    if (opened != 0)
        return opened < 0 ? 1 : 0;
    store_lock(&s);
    n = index_get(&s, &v);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].fp, d.fp) == 0) {
            log_detail("dependencies: fingerprint %.12s… already saved; nothing to save", d.fp);
            rc = 0;
            goto out;
        }
    done = xcalloc(d.n, sizeof *done);
    /* One archive per folder holding dependency paths: those of the same folder together. */
    for (size_t i = 0; i < d.n; i++) {
        char *where, *stem, *name, *dir, *slash, *names[64], shown[PATH_MAX + 8];
        size_t m = 0, bad;
        struct tally t = {0};
        int base = d.v[i].home ? d.homefd : d.rootfd, pfd, fd;

        if (done[i])
            continue;
        where = where_of(&d.v[i]);
        dir = xstrdup(d.v[i].rel);
        slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
        pfd = folder_below(base, dir, false, &bad);
        for (size_t j = i; j < d.n && m < 64; j++) {
            char *w2 = where_of(&d.v[j]);
            const char *leaf = strrchr(d.v[j].rel, '/');
            struct stat st;

            if (strcmp(w2, where) == 0) {
                done[j] = true;
                leaf = leaf ? leaf + 1 : d.v[j].rel;
                if (pfd >= 0 && fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                    if (S_ISLNK(st.st_mode))
                        log_warn("dependencies: %s%s is a symbolic link, which is never followed; "
                                 "left out",
                                 d.v[j].home ? "~/" : "", d.v[j].rel);
                    else
                        names[m++] = (char *)leaf;
                }
            }
            free(w2);
        }
        if (pfd < 0 && errno == ELOOP)
            log_warn(
                "dependencies: %s%s: %.*s is a symbolic link, which is never followed; left out",
                d.v[i].home ? "~/" : "", d.v[i].rel, (int)bad, dir);
        snprintf(shown, sizeof shown, "%s%s%s", d.v[i].home ? d.home : root, *dir ? "/" : "", dir);
        free(dir);
        if (m == 0) {
            if (pfd >= 0)
                close(pfd);
            free(where);
            continue;
        }
        stem = stem_of(d.fp, where);
        name = xasprintf("%s.tar.zst", stem);
        fd = store_tmp(&s);
        if (fd < 0 || pack_paths(pfd, shown, fd, names, m, &t) < 0) {
            if (fd >= 0)
                store_discard(&s, fd);
            close(pfd);
            free(where), free(stem), free(name);
            goto out;
        }
        close(pfd);
        if (store_commit(&s, fd, name) < 0 || record_save(&s, &k, name, stem, &t) < 0) {
            store_remove(&s, name);
            free(where), free(stem), free(name);
            goto out;
        }
        all.files += t.files, all.dirs += t.dirs, all.links += t.links, all.bytes += t.bytes;
        if (wl + strlen(where) + 2 < sizeof wheres)
            wl += (size_t)snprintf(wheres + wl, sizeof wheres - wl, "%s%s", wl ? "," : "", where);
        free(where), free(stem), free(name);
    }
    if (wl == 0) {
        log_info(
            "dependencies: none of %zu dependency path%s exists after the build; nothing saved",
            d.n, d.n == 1 ? "" : "s");
        rc = 0;
        goto out;
    }
    {
        size_t cap = (n + 1) * 1200 + 1, len = 0;
        char *text = xmalloc(cap);

        len += (size_t)snprintf(text, cap, "%s %lld %s\n", d.fp, (long long)time(NULL), wheres);
        for (size_t i = 0; i < n; i++) {
            if (i + 1 >= DEPS_KEEP) {
                remove_line(&s, &v[i]);
                continue;
            }
            len += (size_t)snprintf(text + len, cap - len, "%s %lld %s\n", v[i].fp, v[i].when,
                                    v[i].wheres);
        }
        store_put_text(&s, DEPS_INDEX, text);
        free(text);
    }
    log_info("dependencies: saved fingerprint %.12s…, %s, %s%s in %.3f s", d.fp,
             counts_text(&all, counts, sizeof counts), size_text(all.bytes, size, sizeof size),
             k.sign ? ", signed" : "", (double)(now_ms() - t0) / 1000.0);
    rc = 0;
out:
    store_close(&s);
    keys_free(&k);
    free(done);
    free(v);
    deps_free(&d);
    return rc;
}

/* One archive STEM (of the folder BASE/DIR) restored: 0, 1 when the store has none, -1. */
static int restore_one(struct store *s, const struct keys *k, const char *stem, int base,
                       const char *dir, const char *shown, struct tally *all)
{
    char *name, *rname, *record = NULL, sha[65], *where;
    struct tally t = {0};
    uint64_t bytes;
    size_t bad;
    int fd = -1, pfd = -1, rc = -1, got;

    name = xasprintf("%s.tar.zst", stem);
    rname = xasprintf("%s.tar.zst" RECORD_SUFFIX, stem);
    got = store_fetch(s, name, &fd);
    if (got == FETCH_MISSING) {
        rc = 1;
        goto out;
    }
    if (got != 0 || fd_sha256(fd, sha, &bytes) < 0)
        goto out;
    got = store_fetch_text(s, rname, &record, RECORD_MAX);
    if (got != 0 && got != FETCH_MISSING)
        goto out;
    where = store_where(s, name);
    got = record_check(k, record, s->app, stem, sha, bytes, where) != REFUSED_NONE;
    free(where);
    if (got)
        goto out;
    pfd = folder_below(base, dir, true, &bad);
    if (pfd < 0) {
        log_error("build cache: %s: %s", shown, strerror(errno));
        goto out;
    }
    if (unpack_into(pfd, shown, fd, &t) < 0)
        goto out;
    all->files += t.files, all->dirs += t.dirs, all->links += t.links, all->bytes += bytes;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (pfd >= 0)
        close(pfd);
    free(record);
    free(rname);
    free(name);
    return rc;
}

int deps_restore(const char *root, const char *app)
{
    struct deps d;
    struct store s = {.dirfd = -1, .lock_fd = -1};
    struct keys k = {0};
    struct tally all = {0};
    struct line *v = NULL;
    const struct line *use = NULL;
    char size[32], counts[96];
    int64_t t0 = now_ms();
    size_t n;
    int rc = 1, restored = 0;
    int opened = deps_open(&d, root, app, false, &k, &s);

    if (opened != 0)
        return opened < 0 ? 1 : 0;
    n = index_get(&s, &v);
    for (size_t i = 0; i < n && !use; i++)
        if (strcmp(v[i].fp, d.fp) == 0)
            use = &v[i];
    if (!use && n > 0)
        use = &v[0];
    if (!use) {
        log_info("dependencies: no dependency archive yet (fingerprint %.12s…); the build installs "
                 "them",
                 d.fp);
        rc = 0;
        goto out;
    }
    if (s.spec.kind != STORE_LOCAL && !k.verify)
        log_warn("dependencies: %s: restored without cache_verify_key: whoever can write the store "
                 "chooses what this build runs; sign archives in CI and set cache_verify_key",
                 s.spec.shown);
    for (size_t i = 0; i < d.n; i++) {
        char *where = where_of(&d.v[i]), *stem, *dir, *slash, shown[PATH_MAX + 8];
        bool seen = false;
        int got;

        for (size_t j = 0; j < i && !seen; j++) {
            char *w2 = where_of(&d.v[j]);

            seen = strcmp(w2, where) == 0;
            free(w2);
        }
        if (seen) {
            free(where);
            continue;
        }
        dir = xstrdup(d.v[i].rel);
        slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
        snprintf(shown, sizeof shown, "%s%s%s", d.v[i].home ? d.home : root, *dir ? "/" : "", dir);
        stem = stem_of(use->fp, where);
        got = restore_one(&s, &k, stem, d.v[i].home ? d.homefd : d.rootfd, dir, shown, &all);
        free(stem);
        free(dir);
        free(where);
        if (got < 0)
            goto out;
        restored += got == 0;
    }
    if (restored == 0)
        log_info(
            "dependencies: no dependency archive yet for these paths (fingerprint %.12s…); the "
            "build installs them",
            d.fp);
    else
        log_info(
            "dependencies: restored deps of fingerprint %.12s… (%s), %s, %s%s in %.3f s", use->fp,
            use == &v[0] && strcmp(use->fp, d.fp) != 0 ? "newest, lock files changed" : "exact",
            counts_text(&all, counts, sizeof counts), size_text(all.bytes, size, sizeof size),
            k.verify ? ", signature verified" : "", (double)(now_ms() - t0) / 1000.0);
    rc = 0;
out:
    store_close(&s);
    keys_free(&k);
    free(v);
    deps_free(&d);
    return rc;
}

int deps_plan(const char *root, const char *app)
{
    struct deps d;
    struct store s = {.dirfd = -1, .lock_fd = -1};
    struct store_spec spec;
    struct line *v = NULL;
    char paths[2048];
    const char *take = "the archive of this fingerprint if saved, else the newest of the app";
    char buf[128];
    size_t n;

    if (deps_find(&d, root) < 0)
        return 1;
    paths_text(&d, paths, sizeof paths);
    /* A local store's index is one small file: which archive a restore takes, said exactly. */
    if (store_spec_parse(store_spec_env(), &spec, buf, sizeof buf) == 0) {
        bool local = spec.kind == STORE_LOCAL;

        store_spec_free(&spec);
        if (local && store_open(&s, store_spec_env(), app, false) == 0) {
            n = index_get(&s, &v);
            take = "none yet";
            for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].fp, d.fp) == 0)
                    take = "the archive of this fingerprint (saved)";
            if (n > 0 && strcmp(take, "none yet") == 0) {
                snprintf(buf, sizeof buf, "the newest, of fingerprint %.12s… (lock files changed)",
                         v[0].fp);
                take = buf;
            }
        }
        store_close(&s);
    }
    printf("ecosystems %s; paths %s; fingerprint %.12s…; a restore takes %s\n",
           *d.eco ? d.eco : "none recognized", d.n ? paths : "none", d.fp, take);
    free(v);
    deps_free(&d);
    return fflush(stdout) == 0 ? 0 : 1;
}
