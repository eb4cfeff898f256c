/*
 * pack.h — making an archive (tar+zstd, libarchive); defined in pack.c.
 */
#ifndef CCWRAP_CACHE_PACK_H
#define CCWRAP_CACHE_PACK_H

#include <stddef.h>

#include "tally.h"

/*
 * Writes the archive of the folder ROOTFD to FD: every entry but .git (or only the paths of
 * CC_OVERRIDE_BUILDCACHE), minus CC_IGNORE_FROM_BUILDCACHE. 0, or -1 after reporting.
 */
int pack_root(int rootfd, const char *root, int fd, struct tally *t);
/*
 * The entries NAMES (N of them, each one name, no '/') of the folder BASEFD (shown as SHOWN)
 * into an archive written to FD: a dependency archive (deps.c). 0, or -1 reported.
 */
int pack_paths(int basefd, const char *shown, int fd, char *const *names, size_t n,
               struct tally *t);

#endif
