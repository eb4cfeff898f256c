/*
 * beneath.c — opening and creating paths below a folder descriptor through no symbolic link
 * and no "..", for what ccwrap writes as root into a tree that other users may write.
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, else one
 * O_NOFOLLOW openat per component.
 */
#include <stdbool.h>
#include <sys/types.h>

#include "util.h"
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 0: not tried yet, 1: works, -1: not here (old kernel, or a seccomp filter refusing it). */
static int have_openat2;

static int try_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
    struct open_how how = {
        .flags = (unsigned long long)flags,
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    if (have_openat2 < 0) {
        errno = ENOSYS;
        return -1;
    }
    fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || (errno == EPERM && have_openat2 == 0))) {
        have_openat2 = -1;
        errno = ENOSYS;
        return -1;
    }
    if (fd >= 0)
        have_openat2 = 1;
    return (int)fd;
#else
    (void)dirfd, (void)path, (void)flags, (void)mode;
    errno = ENOSYS;
    return -1;
#endif
}

/* The next component of *P ("" at the end); "." and empty ones are skipped. */
static char *next_component(char **p)
{
    char *c;

    do {
        c = *p;
        *p += strcspn(*p, "/");
        if (**p)
            *(*p)++ = '\0';
    } while (*c && strcmp(c, ".") == 0);
    while (**p == '/')
        (*p)++;
    return c;
}

/* The walk of the fallback: every component opened O_NOFOLLOW from the one before. */
static int walk(int dirfd, const char *path, int flags, mode_t mode)
{
    char *copy = xstrdup(path), *p = copy, *c;
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0), e;

    if (fd < 0) {
        free(copy);
        return -1;
    }
    for (c = next_component(&p); *c; c = next_component(&p)) {
        bool last = *p == '\0';
        int next;

        if (strcmp(c, "..") == 0) {
            close(fd);
            free(copy);
            errno = EXDEV;
            return -1;
        }
        next = last ? openat(fd, c, flags | O_NOFOLLOW | O_CLOEXEC, mode)
                    : openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* O_PATH | O_NOFOLLOW | O_DIRECTORY on a symlink says ENOTDIR: say what it is. */
        if (next < 0 && errno == ENOTDIR) {
            struct stat st;

            if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                errno = ELOOP;
            else
                errno = ENOTDIR;
        }
        e = errno;
        close(fd);
        if (next < 0) {
            free(copy);
            errno = e;
            return -1;
        }
        fd = next;
        if (last)
            break;
    }
    free(copy);
    return fd;
}

int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd;

    if (path[0] == '/') {
        errno = EXDEV;
        return -1;
    }
    if (!*path || strcmp(path, ".") == 0)
        return openat(dirfd, ".", flags | O_CLOEXEC, mode);
    /* Not O_NOFOLLOW there: a last component that is a symlink would be ENOTDIR, not ELOOP. */
    fd = try_openat2(dirfd, path, flags | O_CLOEXEC, mode);
    if (fd >= 0 || errno != ENOSYS)
        return fd;
    return walk(dirfd, path, flags, mode);
}

int mkdirs_beneath(int dirfd, const char *path, mode_t mode)
{
    char *copy = xstrdup(path), *p = copy, *c;
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0), e = 0;

    if (fd < 0) {
        free(copy);
        return -1;
    }
    for (c = next_component(&p); *c; c = next_component(&p)) {
        int next = open_beneath(fd, c, O_RDONLY | O_DIRECTORY, 0);
        bool made = false;

        if (next < 0 && errno == ENOENT) {
            if (mkdirat(fd, c, mode) == 0)
                made = true;
            else if (errno != EEXIST)
                goto fail;
            next = open_beneath(fd, c, O_RDONLY | O_DIRECTORY, 0);
        }
        if (next < 0)
            goto fail;
        /* On the descriptor, not the name: the name may be someone else's by now. */
        if (made) {
            struct stat st;

            if (fstat(next, &st) < 0 || (st.st_uid == geteuid() && fchmod(next, mode) < 0)) {
                e = errno;
                close(next);
                errno = e;
                goto fail;
            }
        }
        close(fd);
        fd = next;
    }
    free(copy);
    return fd;
fail:
    e = errno;
    close(fd);
    free(copy);
    errno = e;
    return -1;
}
