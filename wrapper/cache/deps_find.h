/*
 * deps_find.h — the paths that hold an app's dependencies; defined in deps_find.c.
 */
#ifndef CCWRAP_CACHE_DEPS_FIND_H
#define CCWRAP_CACHE_DEPS_FIND_H

#include <stdbool.h>
#include <stddef.h>

#define EXTRA_VAR "CC_CACHE_DEPENDENCIES_EXTRA_PATHS"

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

/*
 * The dependency paths of the app at ROOT, the ecosystems and the fingerprint of their lock
 * files, in D: 0, and deps_free once done; -1 reported, nothing to free.
 */
int deps_find(struct deps *d, const char *root);
void deps_free(struct deps *d);
/* D's paths as plan shows them, "node_modules, ~/.npm", in BUF. */
void paths_text(const struct deps *d, char *buf, size_t len);

#endif
