/*
 * below.h — folders beneath a folder, through no symbolic link; defined in below.c.
 */
#ifndef CCWRAP_CACHE_BELOW_H
#define CCWRAP_CACHE_BELOW_H

#include <stdbool.h>
#include <stddef.h>

#define DIR_OPEN (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/*
 * The folder PATH (LEN bytes, normalized, not empty, NUL-ended) below the folder DIRFD, through
 * no symbolic link; with CREATE, missing folders are made (0755, as tar does). A new
 * descriptor; or -1 with errno, and *BAD the length of the prefix of PATH that is a symbolic
 * link (ELOOP) or no folder (ENOTDIR).
 */
int open_below(int dirfd, const char *path, size_t len, bool create, size_t *bad);
/* open_below of PATH, any path ("" for DIRFD itself: a new descriptor of it). */
int folder_below(int dirfd, const char *path, bool create, size_t *bad);
/* rm -r NAME below DIRFD, following no symbolic link. */
void remove_tree(int dirfd, const char *name);

#endif
