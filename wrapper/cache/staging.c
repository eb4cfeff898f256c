/*
 * staging.c — the restore's staging folder in the root: made fresh by ccwrap and used only by
 * its descriptor, its entries put in place of the root's all together or not at all, emptied
 * and removed afterwards, and those an interrupted restore left behind removed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "below.h"
#include "staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * rm -r of every entry of the folder FD whose name begins with PREFIX ("" for all), following
 * no symbolic link.
 */
static void remove_entries(int fd, const char *prefix)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;

    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            remove_tree(fd, de->d_name);
    closedir(d);
}

void staging_remove_stale(int rootfd)
{
    remove_entries(rootfd, STAGING_PREFIX);
}

struct moved {
    char *name;
    bool exchanged; /* the root had an entry of that name: it is now in the staging folder */
};

/*
 * Each entry of the staging folder takes its place in the root; what it replaced goes into
 * the staging folder, removed with it. When one cannot, those already moved go back: the root
 * is as it was.
 */
int staging_move(int rootfd, int stagefd, const char *root)
{
    int fd = fcntl(stagefd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    struct moved *m = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        log_error("build cache: %s: %s", root, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        bool exchanged = false;

        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (renameat2(stagefd, name, rootfd, name, RENAME_NOREPLACE) < 0) {
            if (errno != EEXIST || renameat2(stagefd, name, rootfd, name, RENAME_EXCHANGE) < 0) {
                log_error("build cache: %s/%s: cannot put it in place: %s", root, name,
                          strerror(errno));
                rc = -1;
                break;
            }
            exchanged = true;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            m = xrealloc(m, cap * sizeof *m);
        }
        m[n].name = xstrdup(name);
        m[n++].exchanged = exchanged;
    }
    for (size_t i = n; i-- > 0;) {
        if (rc < 0)
            renameat2(rootfd, m[i].name, stagefd, m[i].name,
                      m[i].exchanged ? RENAME_EXCHANGE : RENAME_NOREPLACE);
        free(m[i].name);
    }
    free(m);
    closedir(d);
    return rc;
}

void staging_empty(int fd)
{
    remove_entries(fd, "");
}

/*
 * A fresh staging folder in the root, made by ccwrap and from then on used only by its
 * descriptor: its name is never opened again, so whoever can write the root cannot put
 * another folder in its place. The descriptor, its name in NAME; or -1 reported.
 */
int staging_make(int rootfd, const char *root, char *name, size_t len)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[8];
    struct stat st;
    int fd;

    for (int tries = 0;; tries++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            log_error("build cache: %s: cannot create a staging folder: %s", root, strerror(errno));
            return -1;
        }
        snprintf(name, len, STAGING_PREFIX "%c%c%c%c%c%c%c%c", digits[rnd[0] % 36],
                 digits[rnd[1] % 36], digits[rnd[2] % 36], digits[rnd[3] % 36], digits[rnd[4] % 36],
                 digits[rnd[5] % 36], digits[rnd[6] % 36], digits[rnd[7] % 36]);
        if (mkdirat(rootfd, name, 0700) == 0)
            break;
        if (errno != EEXIST || tries >= 16) {
            log_error("build cache: %s: cannot create a staging folder: %s", root, strerror(errno));
            return -1;
        }
    }
    fd = openat(rootfd, name, DIR_OPEN);
    /*
     * Ours: made by this user with mode 0700, and it is a folder (O_DIRECTORY). In a root with
     * the set-group-ID bit it inherited that bit, which is cleared: what is made in it then
     * gets ccwrap's group, as set_owner_times expects.
     */
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 0777) != 0700 ||
        ((st.st_mode & 07000) && fchmod(fd, 0700) < 0)) {
        log_error("build cache: %s/%s: the staging folder was replaced while it was made; nothing "
                  "restored",
                  root, name);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/*
 * The root's top-level entry that holds the local store STORE_DIR, or NULL: a restore never
 * replaces it (the archive of a root with a store inside never holds the store).
 */
char *store_top(const char *root, const char *store_dir)
{
    char *rr = store_dir ? realpath(root, NULL) : NULL, *sr = rr ? realpath(store_dir, NULL) : NULL;
    char *top = NULL;
    size_t n = rr ? strlen(rr) : 0;

    if (sr && strncmp(sr, rr, n) == 0 && (sr[n] == '/' || (n == 1 && sr[0] == '/')) &&
        sr[n + (n > 1)]) {
        const char *p = sr + n + (n > 1);

        top = xasprintf("%.*s", (int)strcspn(p, "/"), p);
    }
    free(rr);
    free(sr);
    return top;
}
