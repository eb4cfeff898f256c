/*
 * deps.c — the dependency archives of CC_CACHE_DEPENDENCIES (SPEC §10, "Dependencies across
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
#include "helper.h"

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
#define EXTRA_VAR      "CC_CACHE_DEPENDENCIES_EXTRA_PATHS"
#define DEPS_INDEX_MAX ((size_t)256 * 1024)

/* The ecosystems, by the lock or manifest file at the root; "~/" marks a path in the home. */
static const struct {
    const char *file, *name, *paths[3];
} ecosystems[] = {
    {"package-lock.json", "npm", {"node_modules", "~/.npm", NULL}},
    {"yarn.lock", "yarn", {"node_modules", "~/.cache/yarn", NULL}},
    {"pnpm-lock.yaml", "pnpm", {"node_modules", "~/.local/share/pnpm/store", NULL}},
    {"pom.xml", "Maven", {"~/.m2/repository", NULL, NULL}},
    {"build.gradle", "Gradle", {"~/.gradle/caches", NULL, NULL}},
    {"build.gradle.kts", "Gradle", {"~/.gradle/caches", NULL, NULL}},
    {"requirements.txt", "pip", {"~/.cache/pip", NULL, NULL}},
    {"poetry.lock", "Poetry", {"~/.cache/pip", "~/.cache/pypoetry", NULL}},
    {"Gemfile.lock", "Bundler", {"vendor/bundle", NULL, NULL}},
    {"composer.lock", "Composer", {"vendor", "~/.cache/composer", NULL}},
    {"go.sum", "Go modules", {"~/go/pkg/mod", NULL, NULL}},
    {"Cargo.lock", "Cargo", {"~/.cargo/registry", "target", NULL}},
};
#define N_ECO (sizeof ecosystems / sizeof ecosystems[0])

struct dep {
    char *rel; /* relative to the root or the home, normalized */
    bool home;
};

struct deps {
    struct dep *v;
    size_t n;
    char eco[512]; /* "npm (package-lock.json), Maven (pom.xml)" */
    char fp[65];   /* SHA-256 of the lock files' names and contents */
    const char *root;
    char *home; /* NULL: no usable home, its paths left out */
    int rootfd, homefd;
};

static void deps_free(struct deps *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].rel);
    free(d->v);
    free(d->home);
    if (d->rootfd >= 0)
        close(d->rootfd);
    if (d->homefd >= 0)
        close(d->homefd);
}

static void dep_add(struct deps *d, const char *rel, bool home)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].home == home && strcmp(d->v[i].rel, rel) == 0)
            return;
    d->v = realloc(d->v, (d->n + 1) * sizeof *d->v);
    if (!d->v || !(d->v[d->n].rel = strdup(rel)))
        abort();
    d->v[d->n++].home = home;
}

/*
 * The home of the user that builds: $HOME, else the password entry's. Its folder must be this
 * user's and writable by no one else: a restore as root writes in it. NULL, said, when not.
 */
static char *home_find(int *fd)
{
    const char *h = getenv("HOME");
    struct passwd *pw = getpwuid(geteuid());
    struct stat st;

    if (!h || h[0] != '/')
        h = pw ? pw->pw_dir : NULL;
    *fd = -1;
    if (!h || h[0] != '/') {
        warn("dependencies: no home folder (HOME unset, no password entry for uid %u); the "
             "paths in the home are left out",
             (unsigned)geteuid());
        return NULL;
    }
    *fd = open(h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) < 0) {
        warn("dependencies: the home folder %s: %s; the paths in the home are left out", h,
             strerror(errno));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return NULL;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 022)) {
        warn("dependencies: the home folder %s is not this user's (%s%s) or others may write "
             "it; the paths in the home are left out (set HOME to this user's home)",
             h, pw ? pw->pw_name : "uid", pw ? "" : " unknown");
        close(*fd);
        *fd = -1;
        return NULL;
    }
    return strdup(h);
}

static int cmp_eco(const void *a, const void *b)
{
    return strcmp(ecosystems[*(const size_t *)a].file, ecosystems[*(const size_t *)b].file);
}

/* The lock files at the root, sorted by name, hashed as "NAME\0SHA256" each; the table's paths. */
static void lock_files(struct deps *d)
{
    size_t found[N_ECO], n = 0, len = 0;
    void *h = hash_new();

    for (size_t i = 0; i < N_ECO; i++) {
        struct stat st;

        if (fstatat(d->rootfd, ecosystems[i].file, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISREG(st.st_mode)) {
            warn("dependencies: %s/%s is not a regular file (a symbolic link?); not used", d->root,
                 ecosystems[i].file);
            continue;
        }
        found[n++] = i;
    }
    qsort(found, n, sizeof *found, cmp_eco);
    d->eco[0] = '\0';
    for (size_t j = 0; j < n; j++) {
        size_t i = found[j];
        int fd = openat(d->rootfd, ecosystems[i].file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char sha[65] = "";
        uint64_t size;

        if (fd < 0 || fd_sha256(fd, sha, &size) < 0) {
            warn("dependencies: %s/%s: %s; not used", d->root, ecosystems[i].file, strerror(errno));
            if (fd >= 0)
                close(fd);
            continue;
        }
        close(fd);
        hash_add(h, ecosystems[i].file, strlen(ecosystems[i].file) + 1);
        hash_add(h, sha, 64);
        len += (size_t)snprintf(d->eco + len, sizeof d->eco - len, "%s%s (%s)", len ? ", " : "",
                                ecosystems[i].name, ecosystems[i].file);
        if (len >= sizeof d->eco)
            len = sizeof d->eco - 1;
        for (int p = 0; p < 3 && ecosystems[i].paths[p]; p++) {
            const char *path = ecosystems[i].paths[p];
            bool home = strncmp(path, "~/", 2) == 0;

            if (!home || d->home)
                dep_add(d, home ? path + 2 : path, home);
        }
    }
    hash_end(h, d->fp);
}

/* Whether a path inside the base has a "." or ".." component, or an empty one. */
static bool odd_components(const char *p)
{
    for (const char *c = p; *c;) {
        size_t l = strcspn(c, "/");

        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return true;
        c += l;
        if (*c == '/')
            c++;
    }
    return false;
}

static void refuse_extra(const char *w, const char *why)
{
    warn("dependencies: %s: '%s' %s; left out", EXTRA_VAR, w, why);
}

/*
 * REL (relative to the base FD) goes through no symbolic link, itself included. false, said
 * with WHAT naming the path, when it does.
 */
static bool no_links(int fd, const char *rel, const char *what)
{
    char *dir = strdup(rel), *slash;
    const char *leaf = rel;
    size_t bad = 0;
    struct stat st;
    int pfd;
    bool ok = true;

    if (!dir)
        abort();
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        leaf = rel + (slash - dir) + 1;
    } else {
        dir[0] = '\0';
    }
    pfd = folder_below(fd, dir, false, &bad);
    if (pfd < 0 && errno == ELOOP) {
        warn("dependencies: %s: %.*s is a symbolic link, which is never followed; left out", what,
             (int)bad, dir);
        ok = false;
    } else if (pfd >= 0 && fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISLNK(st.st_mode)) {
        warn("dependencies: %s: %s is a symbolic link, which is never followed; left out", what,
             rel);
        ok = false;
    }
    if (pfd >= 0)
        close(pfd);
    free(dir);
    return ok;
}

/* CC_CACHE_DEPENDENCIES_EXTRA_PATHS: relative to the root, at most one leading "../". */
static void extra_paths(struct deps *d)
{
    const char *val = getenv(EXTRA_VAR);
    char *copy, *save = NULL, *real = NULL;

    if (!val || !*val)
        return;
    if (!(copy = strdup(val)))
        abort();
    for (char *w = strtok_r(copy, ":", &save); w; w = strtok_r(NULL, ":", &save)) {
        size_t len;
        bool up = false;
        char *rest, *rel;

        while (w[0] == '.' && w[1] == '/')
            w += 2;
        len = strlen(w);
        while (len > 0 && w[len - 1] == '/')
            w[--len] = '\0';
        if (!len || strcmp(w, ".") == 0)
            continue;
        if (w[0] == '/') {
            refuse_extra(w, "is absolute; give it relative to the application root");
            continue;
        }
        rest = w;
        if (strncmp(w, "../", 3) == 0) {
            up = true;
            rest = w + 3;
        }
        if (strcmp(rest, "..") == 0 || strncmp(rest, "../", 3) == 0) {
            refuse_extra(w, "climbs more than one folder above the root (one '../' at most)");
            continue;
        }
        if (strcmp(w, "..") == 0 || odd_components(rest)) {
            refuse_extra(w, "has '.', '..' or empty components past its start; name the folder "
                            "itself");
            continue;
        }
        if (!up) {
            if (no_links(d->rootfd, rest, w))
                dep_add(d, rest, false);
            continue;
        }
        /* "../x": the folder beside the root, which must be in the home, archived from there. */
        if (!real && !(real = realpath(d->root, NULL))) {
            refuse_extra(w, strerror(errno));
            continue;
        }
        {
            char *parent = strdup(real), *slash;
            size_t hl = d->home ? strlen(d->home) : 0;

            if (!parent)
                abort();
            slash = strrchr(parent, '/');
            if (slash)
                *(slash == parent ? slash + 1 : slash) = '\0';
            while (hl > 1 && d->home[hl - 1] == '/')
                hl--;
            if (!d->home || strncmp(parent, d->home, hl) != 0 ||
                (parent[hl] != '\0' && parent[hl] != '/')) {
                char why[PATH_MAX + 64];

                snprintf(why, sizeof why, "leaves the home folder %s",
                         d->home ? d->home : "(none)");
                refuse_extra(w, why);
                free(parent);
                continue;
            }
            if (asprintf(&rel, "%s%s%s", parent[hl] ? parent + hl + 1 : "", parent[hl] ? "/" : "",
                         rest) < 0)
                abort();
            free(parent);
        }
        if (no_links(d->homefd, rel, w))
            dep_add(d, rel, true);
        free(rel);
    }
    free(real);
    free(copy);
}

static int deps_find(struct deps *d, const char *root)
{
    memset(d, 0, sizeof *d);
    d->root = root;
    d->homefd = -1;
    d->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->rootfd < 0) {
        fail("%s: %s", root, strerror(errno));
        return -1;
    }
    d->home = home_find(&d->homefd);
    lock_files(d);
    extra_paths(d);
    return 0;
}

/* "node_modules, ~/.npm" */
static void paths_text(const struct deps *d, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < d->n && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s", i ? ", " : "", d->v[i].home ? "~/" : "",
                              d->v[i].rel);
}

/* The folder holding dependency I, as a name part: "root", "root~2Fvendor", "home~2E.cache". */
static char *where_of(const struct dep *p)
{
    const char *slash = strrchr(p->rel, '/');
    char *raw, *enc;

    if (asprintf(&raw, "%s%s%.*s", p->home ? "home" : "root", slash ? "/" : "",
                 slash ? (int)(slash - p->rel) : 0, p->rel) < 0)
        abort();
    enc = store_name(raw);
    free(raw);
    return enc;
}

static char *stem_of(const char *fp, const char *where)
{
    char *s;

    if (asprintf(&s, "deps~~%s~~%s", fp, where) < 0)
        abort();
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
                *out = realloc(*out, (n + 1) * sizeof **out);
                if (!*out)
                    abort();
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
    char *copy = strdup(e->wheres), *save = NULL;

    if (!copy)
        abort();
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *stem = stem_of(e->fp, w), *name;

        if (asprintf(&name, "%s.tar.zst" RECORD_SUFFIX, stem) < 0)
            abort();
        store_remove(s, name);
        name[strlen(name) - strlen(RECORD_SUFFIX)] = '\0';
        if (store_remove(s, name) == 0)
            detail("dependencies: pruned %s", name);
        free(name);
        free(stem);
    }
    free(copy);
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
    int64_t t0 = mono_ms();
    size_t n, wl = 0;
    int rc = 1;

    if (deps_find(&d, root) < 0)
        return 1;
    if (d.n == 0) {
        detail("dependencies: no lock file recognized at the root, nor %s; nothing to save",
               EXTRA_VAR);
        deps_free(&d);
        return 0;
    }
    if (keys_load(&k, true, false) < 0)
        goto out_nostore;
    if (store_open(&s, store_spec_env(), app, true) < 0)
        goto out;
    store_lock(&s);
    n = index_get(&s, &v);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].fp, d.fp) == 0) {
            detail("dependencies: fingerprint %.12s… already saved; nothing to save", d.fp);
            rc = 0;
            goto out;
        }
    done = calloc(d.n, sizeof *done);
    if (!done)
        abort();
    /* One archive per folder holding dependency paths: those of the same folder together. */
    for (size_t i = 0; i < d.n; i++) {
        char *where, *stem, *name, *dir, *slash, *names[64], shown[PATH_MAX + 8];
        size_t m = 0, bad;
        struct tally t = {0};
        int base = d.v[i].home ? d.homefd : d.rootfd, pfd, fd;

        if (done[i])
            continue;
        where = where_of(&d.v[i]);
        if (!(dir = strdup(d.v[i].rel)))
            abort();
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
                        warn("dependencies: %s%s is a symbolic link, which is never followed; "
                             "left out",
                             d.v[j].home ? "~/" : "", d.v[j].rel);
                    else
                        names[m++] = (char *)leaf;
                }
            }
            free(w2);
        }
        if (pfd < 0 && errno == ELOOP)
            warn("dependencies: %s%s: %.*s is a symbolic link, which is never followed; left out",
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
        if (asprintf(&name, "%s.tar.zst", stem) < 0)
            abort();
        fd = store_tmp(&s);
        if (fd < 0 || archive_create_paths(pfd, shown, fd, names, m, &t) < 0) {
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
        say("dependencies: none of %zu dependency path%s exists after the build; nothing saved",
            d.n, d.n == 1 ? "" : "s");
        rc = 0;
        goto out;
    }
    {
        size_t cap = (n + 1) * 1200 + 1, len = 0;
        char *text = malloc(cap);

        if (!text)
            abort();
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
    say("dependencies: saved fingerprint %.12s…, %s, %s%s in %.3f s", d.fp,
        counts_text(&all, counts, sizeof counts), size_text(all.bytes, size, sizeof size),
        k.sign ? ", signed" : "", (double)(mono_ms() - t0) / 1000.0);
    rc = 0;
out:
    store_close(&s);
out_nostore:
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

    if (asprintf(&name, "%s.tar.zst", stem) < 0 || asprintf(&rname, "%s.tar.zst.sig", stem) < 0)
        abort();
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
        fail("%s: %s", shown, strerror(errno));
        goto out;
    }
    if (archive_restore_fd(pfd, shown, fd, &t) < 0)
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
    int64_t t0 = mono_ms();
    size_t n;
    int rc = 1, restored = 0;

    if (deps_find(&d, root) < 0)
        return 1;
    if (d.n == 0) {
        say("dependencies: no lock file recognized at the root, nor %s; nothing to restore",
            EXTRA_VAR);
        deps_free(&d);
        return 0;
    }
    if (keys_load(&k, false, true) < 0)
        goto out_nostore;
    if (store_open(&s, store_spec_env(), app, false) < 0)
        goto out;
    n = index_get(&s, &v);
    for (size_t i = 0; i < n && !use; i++)
        if (strcmp(v[i].fp, d.fp) == 0)
            use = &v[i];
    if (!use && n > 0)
        use = &v[0];
    if (!use) {
        say("dependencies: no dependency archive yet (fingerprint %.12s…); the build installs "
            "them",
            d.fp);
        rc = 0;
        goto out;
    }
    if (s.spec.kind != STORE_LOCAL && !k.verify)
        warn("dependencies: %s: restored without cache_verify_key: whoever can write the store "
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
        if (!(dir = strdup(d.v[i].rel)))
            abort();
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
        say("dependencies: no dependency archive yet for these paths (fingerprint %.12s…); the "
            "build installs them",
            d.fp);
    else
        say("dependencies: restored deps of fingerprint %.12s… (%s), %s, %s%s in %.3f s", use->fp,
            use == &v[0] && strcmp(use->fp, d.fp) != 0 ? "newest, lock files changed" : "exact",
            counts_text(&all, counts, sizeof counts), size_text(all.bytes, size, sizeof size),
            k.verify ? ", signature verified" : "", (double)(mono_ms() - t0) / 1000.0);
    rc = 0;
out:
    store_close(&s);
out_nostore:
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
