/*
 * cache.h — the build cache archive through ccwrap-cache (§10); defined in cache.c.
 */
#ifndef CCWRAP_CACHE_H
#define CCWRAP_CACHE_H

#include <stdbool.h>

#include "config.h"
#include "point.h"

/* --cache, when given: it comes before $CCWRAP_CACHE and the cache setting. */
extern const char *cache_option;

/* CC_DISABLE_BUILD_CACHE_UPLOAD=true: no archive is made. */
bool cache_disabled(void);
/* CC_CACHE_DEPENDENCIES=true: the dependency archive before and after the build command. */
bool cache_deps_enabled(void);
void cache_deps_restore(const struct ctx *x);
void cache_deps_save(const struct ctx *x);
/* plan build's dependency line (the helper prints it on stdout after the label). */
void cache_deps_plan(const char *root, const struct config *c);
/* After successful post-build hooks: the archive saved. A failure only warns. */
void cache_save(const struct ctx *x);
/* --from-cache after pre-build: true when the archive for the key was restored. */
bool cache_restore(const struct ctx *x);
/* `ccwrap cache list|prune`: an exit status. KEEP < 0: cache_keep. */
int cache_command(const struct ctx *x, const char *action, long keep);
/* plan's line after post-build, allocated: where the archive goes, with its key. */
char *cache_plan(const char *root, const struct config *c);
/* check: the store's problems as "SOURCE: problem"; how many. */
int cache_check(const struct config *c, int (*report)(const char *path, const char *text));

#endif
