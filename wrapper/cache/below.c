/*
 * below.c — folders beneath a folder held by descriptor, never through a symbolic link,
 * whatever a path's length (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, else one O_NOFOLLOW
 * openat per component); and rm -r beneath one. The restore (unpack.c) and deps.c use them.
 */
#include <stdbool.h>
#include <stddef.h>

#include "below.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 0: not tried yet, 1: works, -1: not here (an old kernel, or a seccomp filter refusing it). */
static int have_openat2;

static int openat2_beneath(int dirfd, const char *path)
{
#ifdef SYS_openat2
    struct open_how how = {
        .flags = DIR_OPEN,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    if (have_openat2 >= 0) {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0)
            have_openat2 = 1;
        if (fd >= 0 || (errno != ENOSYS && !(errno == EPERM && have_openat2 == 0)))
            return (int)fd;
        have_openat2 = -1;
    }
#else
    (void)dirfd, (void)path;
#endif
    errno = ENOSYS;
    return -1;
}

/*
 * The folder PATH (LEN bytes, normalized, not empty, NUL-ended) below the folder DIRFD (the
 * staging folder or one in it), through no symbolic link; with CREATE, missing folders are
 * made (0755, as tar does). A new descriptor; or -1 with errno, and *BAD the length of the
 * prefix of PATH that is a symbolic link (ELOOP) or no folder (ENOTDIR).
 */
int open_below(int dirfd, const char *path, size_t len, bool create, size_t *bad)
{
    char chunk[PATH_MAX], comp[NAME_MAX + 1];
    int cur = -1, base = dirfd;
    size_t i = 0;

    *bad = 0;
    /*
     * openat2 takes at most PATH_MAX bytes: a longer path is opened a piece at a time, each
     * beneath the last, so any entry costs at most NAME_CAP / PATH_MAX calls, not one per
     * component (an archive 30,000 folders deep must not take hours).
     */
    while (i < len && have_openat2 >= 0) {
        size_t end = len - i < PATH_MAX ? len : i + PATH_MAX - 1;
        int fd;

        while (end < len && end > i && path[end] != '/')
            end--;
        if (end == i)
            break;
        memcpy(chunk, path + i, end - i);
        chunk[end - i] = '\0';
        fd = openat2_beneath(base, chunk);
        if (fd < 0) {
            if (errno != ENOSYS && errno != ENOENT && errno != ELOOP && errno != ENOTDIR &&
                errno != EXDEV && errno != EAGAIN)
                goto fail;
            break; /* one component at a time from here: it says which, or makes it */
        }
        if (cur >= 0)
            close(cur);
        base = cur = fd;
        i = end < len ? end + 1 : len;
    }
    while (i < len) {
        size_t l = strcspn(path + i, "/");
        int next;

        if (l > NAME_MAX) {
            errno = ENAMETOOLONG;
            goto fail;
        }
        memcpy(comp, path + i, l);
        comp[l] = '\0';
        next = openat(base, comp, DIR_OPEN);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(base, comp, 0755) < 0 && errno != EEXIST)
                goto fail;
            next = openat(base, comp, DIR_OPEN);
        }
        if (next < 0) {
            struct stat st;

            if (errno == ELOOP || errno == ENOTDIR) {
                *bad = i + l;
                /* O_DIRECTORY may say ENOTDIR of a symbolic link: tell which it is. */
                errno = fstatat(base, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)
                            ? ELOOP
                            : ENOTDIR;
            }
            goto fail;
        }
        if (cur >= 0)
            close(cur);
        base = cur = next;
        i += l;
        if (path[i] == '/')
            i++;
    }
    return cur;
fail:
    if (cur >= 0) {
        int err = errno;

        close(cur);
        errno = err;
    }
    return -1;
}

int folder_below(int dirfd, const char *path, bool create, size_t *bad)
{
    *bad = 0;
    if (!*path)
        return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    return open_below(dirfd, path, strlen(path), create, bad);
}

/* rm -r NAME below DIRFD, following no symbolic link. */
void remove_tree(int dirfd, const char *name) /* NOLINT(misc-no-recursion) */
{
    int fd;
    DIR *d;
    struct dirent *de;

    if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            remove_tree(fd, de->d_name);
    closedir(d);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}
