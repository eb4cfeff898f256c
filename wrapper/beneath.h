/*
 * beneath.h — paths below a folder, through no symlink; defined in beneath.c.
 */
#ifndef CCWRAP_BENEATH_H
#define CCWRAP_BENEATH_H

#include <sys/types.h>

/*
 * Opens PATH (relative) below the folder DIRFD following no symbolic link at any component
 * and never leaving it: ELOOP names a symlink on the way, EXDEV a way out ("..", absolute).
 * FLAGS and MODE as for openat; O_CLOEXEC and O_NOFOLLOW are added. An fd, or -1 with errno.
 */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/*
 * mkdir -p PATH below DIRFD by the same rule; each folder it creates gets MODE (fchmod on its
 * descriptor, whatever the umask). The last folder's O_DIRECTORY fd, or -1 with errno.
 */
int mkdirs_beneath(int dirfd, const char *path, mode_t mode);

#endif
