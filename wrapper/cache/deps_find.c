/*
 * deps_find.c — which paths hold an app's dependencies (§10, "Dependencies across
 * commits"): the folders of the ecosystems recognized by their lock files at the root, with
 * the fingerprint of those files, plus CC_CACHE_DEPENDENCIES_EXTRA_PATHS; a path through a
 * symbolic link, or leaving the root and the home, is left out with a warning. Saving and
 * restoring them is deps.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"
#include "../msg.h"
#include "env.h"
#include "sign.h"
#include "below.h"
#include "deps_find.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void deps_free(struct deps *d)
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
    d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
    d->v[d->n].rel = xstrdup(rel);
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
        log_warn("dependencies: no home folder (HOME unset, no password entry for uid %u); the "
                 "paths in the home are left out",
                 (unsigned)geteuid());
        return NULL;
    }
    *fd = open(h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) < 0) {
        log_warn("dependencies: the home folder %s: %s; the paths in the home are left out", h,
                 strerror(errno));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return NULL;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 022)) {
        log_warn("dependencies: the home folder %s is not this user's (%s%s) or others may write "
                 "it; the paths in the home are left out (set HOME to this user's home)",
                 h, pw ? pw->pw_name : "uid", pw ? "" : " unknown");
        close(*fd);
        *fd = -1;
        return NULL;
    }
    return xstrdup(h);
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
            log_warn("dependencies: %s/%s is not a regular file (a symbolic link?); not used",
                     d->root, ecosystems[i].file);
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
            log_warn("dependencies: %s/%s: %s; not used", d->root, ecosystems[i].file,
                     strerror(errno));
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
    log_warn("dependencies: %s: '%s' %s; left out", EXTRA_VAR, w, why);
}

/*
 * REL (relative to the base FD) goes through no symbolic link, itself included. false, said
 * with WHAT naming the path, when it does.
 */
static bool no_links(int fd, const char *rel, const char *what)
{
    char *dir = xstrdup(rel), *slash;
    const char *leaf = rel;
    size_t bad = 0;
    struct stat st;
    int pfd;
    bool ok = true;

    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        leaf = rel + (slash - dir) + 1;
    } else {
        dir[0] = '\0';
    }
    pfd = folder_below(fd, dir, false, &bad);
    if (pfd < 0 && errno == ELOOP) {
        log_warn("dependencies: %s: %.*s is a symbolic link, which is never followed; left out",
                 what, (int)bad, dir);
        ok = false;
    } else if (pfd >= 0 && fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISLNK(st.st_mode)) {
        log_warn("dependencies: %s: %s is a symbolic link, which is never followed; left out", what,
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
    copy = xstrdup(val);
    for (char *w = strtok_r(copy, ":", &save); w; w = strtok_r(NULL, ":", &save)) {
        bool up = false;
        char *rest, *rel;

        if (!(w = path_word(w)))
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
            char *parent = xstrdup(real), *slash;
            size_t hl = d->home ? strlen(d->home) : 0;

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
            rel =
                xasprintf("%s%s%s", parent[hl] ? parent + hl + 1 : "", parent[hl] ? "/" : "", rest);
            free(parent);
        }
        if (no_links(d->homefd, rel, w))
            dep_add(d, rel, true);
        free(rel);
    }
    free(real);
    free(copy);
}

int deps_find(struct deps *d, const char *root)
{
    memset(d, 0, sizeof *d);
    d->root = root;
    d->homefd = -1;
    d->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->rootfd < 0) {
        log_error("build cache: %s: %s", root, strerror(errno));
        return -1;
    }
    d->home = home_find(&d->homefd);
    lock_files(d);
    extra_paths(d);
    return 0;
}

/* "node_modules, ~/.npm" */
void paths_text(const struct deps *d, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < d->n && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s", i ? ", " : "", d->v[i].home ? "~/" : "",
                              d->v[i].rel);
}
