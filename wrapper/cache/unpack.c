/*
 * unpack.c — the restore: libarchive reads the archive, each entry is checked (its path, its
 * kind, the caps cache_max_entries and cache_max_bytes) and made below a staging folder
 * (unpack_entry.c), folders get their modes last, then the staging folder's entries take
 * their places in the root (staging.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "../storespec.h"
#include "env.h"
#include "tally.h"
#include "below.h"
#include "staging.h"
#include "unpack.h"
#include "unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first N bytes of S in BUF, cut in their middle when longer than a message line. */
const char *cut_into(char *buf, size_t len, const char *s, size_t n)
{
    if (n < 200)
        snprintf(buf, len, "%.*s", (int)n, s);
    else
        snprintf(buf, len, "%.96s…%.96s", s, s + n - 96);
    return buf;
}

/* NAME as a message shows it. */
const char *cut(struct restore *r, const char *name)
{
    return cut_into(r->shown, sizeof r->shown, name, strlen(name));
}

void refuse(struct restore *r, const char *name, const char *fmt, ...)
{
    char why[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_error("build cache: archive entry '%s': refused: %s", cut(r, name), why);
}

/*
 * PATH without "./", empty components and a trailing '/', in OUT (NAME_CAP bytes; "" for the
 * root itself). 0; 1 for an absolute path; 2 for one with ".."; 3 for one too long.
 */
int normalize(const char *path, char *out)
{
    size_t n = 0;

    if (strlen(path) >= NAME_CAP)
        return 3;
    if (path[0] == '/')
        return 1;
    for (const char *p = path; *p;) {
        size_t l = strcspn(p, "/");

        if (l == 2 && p[0] == '.' && p[1] == '.')
            return 2;
        if (l && !(l == 1 && p[0] == '.')) {
            if (n)
                out[n++] = '/';
            memcpy(out + n, p, l);
            n += l;
        }
        p += l;
        if (*p)
            p++;
    }
    out[n] = '\0';
    return 0;
}

/* Reports why the folder of an entry could not be opened: -1. */
static int folder_refused(struct restore *r, const char *name, const char *dir, size_t bad)
{
    if (errno == ELOOP && bad)
        refuse(r, name, "Cannot extract through symlink %s",
               cut_into(r->prefix, sizeof r->prefix, dir, bad));
    else if (errno == ENOTDIR && bad)
        refuse(r, name, "%s is not a folder", cut_into(r->prefix, sizeof r->prefix, dir, bad));
    else
        log_error("build cache: %s: %s", cut(r, name), strerror(errno));
    return -1;
}

/* The folder of the entry, the first PLEN bytes of r->path: a descriptor that r keeps. */
static int parent_fd(struct restore *r, size_t plen, const char *name)
{
    size_t bad;
    int fd;

    if (plen == 0)
        return r->stagefd;
    if (r->parentfd >= 0 && r->plen == plen && memcmp(r->parent, r->path, plen) == 0)
        return r->parentfd;
    if (r->parentfd >= 0 && r->plen < plen && r->path[r->plen] == '/' &&
        memcmp(r->parent, r->path, r->plen) == 0) {
        /* Below the last folder (tree order): only the rest of the path is opened. */
        size_t from = r->plen + 1;

        memcpy(r->parent, r->path, plen);
        r->parent[plen] = '\0';
        fd = open_below(r->parentfd, r->parent + from, plen - from, true, &bad);
        close(r->parentfd);
        r->parentfd = -1;
        if (fd < 0)
            return folder_refused(r, name, r->parent, bad ? from + bad : 0);
    } else {
        if (r->parentfd >= 0)
            close(r->parentfd);
        r->parentfd = -1;
        memcpy(r->parent, r->path, plen);
        r->parent[plen] = '\0';
        fd = open_below(r->stagefd, r->parent, plen, true, &bad);
        if (fd < 0)
            return folder_refused(r, name, r->parent, bad);
    }
    r->parentfd = fd;
    r->plen = plen;
    return fd;
}

/* One line for the first entry that loses special bits; the others are counted. */
static void note_stripped(struct restore *r, const char *name, mode_t perm)
{
    const char *bits[3] = {"", "", ""};
    int n = 0;

    if (r->stripped++ > 0)
        return;
    if (perm & S_ISUID)
        bits[n++] = "set-user-ID";
    if (perm & S_ISGID)
        bits[n++] = "set-group-ID";
    if (perm & S_ISVTX)
        bits[n++] = "sticky";
    log_info("build cache: %s restored without its %s%s%s%s%s bit%s", cut(r, name), bits[0],
             n == 3   ? ", "
             : n == 2 ? " and "
                      : "",
             n > 1 ? bits[1] : "", n == 3 ? " and " : "", n == 3 ? bits[2] : "", n > 1 ? "s" : "");
}

/* The root's own history, a restore's staging folder and the store are not the archive's. */
static int check_top(struct restore *r, const char *name, bool *skip)
{
    size_t top = strcspn(r->path, "/");

    *skip = false;
    if ((top == 4 && strncmp(r->path, ".git", 4) == 0) ||
        strncmp(r->path, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0) {
        refuse(r, name, "the archive may not write there");
        return -1;
    }
    if (r->keep_top && strlen(r->keep_top) == top && strncmp(r->path, r->keep_top, top) == 0) {
        if (!r->keep_noted)
            log_info("build cache: %s left out of the restore: the store is inside it",
                     cut(r, r->keep_top));
        r->keep_noted = true;
        *skip = true;
    }
    return 0;
}

/* One entry of the archive, made below the staging folder. 0, or -1 reported. */
static int restore_entry(struct restore *r, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e), *hard = archive_entry_hardlink(e), *leaf;
    mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 07777;
    char *slash;
    bool skip;
    int pfd;

    if (!name)
        name = "";
    if (++r->entries > r->max_entries) {
        log_error(
            "build cache: the archive holds more than %llu entries (cache_max_entries); raise "
            "cache_max_entries if it is right",
            (unsigned long long)r->max_entries);
        return -1;
    }
    switch (normalize(name, r->path)) {
    case 1:
        refuse(r, name, "Path is absolute");
        return -1;
    case 2:
        refuse(r, name, "Path contains '..'");
        return -1;
    case 3:
        refuse(r, name, "the path is longer than %zu bytes", NAME_CAP - 1);
        return -1;
    }
    if (!r->path[0]) /* "." or "./": the root itself, whose place is not the archive's */
        return 0;
    if (check_top(r, name, &skip) < 0)
        return -1;
    if (skip)
        return 0;
    if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        refuse(r, name, "a %s; a restore makes only files, folders and links", kind_name(type));
        return -1;
    }
    if (!hard && type == AE_IFREG && archive_entry_size(e) > 0) {
        r->bytes += (uint64_t)archive_entry_size(e);
        if (r->bytes > r->max_bytes) {
            log_error("build cache: the archive's files hold more than %llu bytes "
                      "(cache_max_bytes); raise "
                      "cache_max_bytes if it is right",
                      (unsigned long long)r->max_bytes);
            return -1;
        }
    }
    if (perm & SPECIAL_BITS) {
        note_stripped(r, r->path, perm);
        perm &= ~SPECIAL_BITS;
    }
    slash = strrchr(r->path, '/');
    leaf = slash ? slash + 1 : r->path;
    pfd = parent_fd(r, slash ? (size_t)(slash - r->path) : 0, name);
    if (pfd < 0)
        return -1;
    if (hard)
        return restore_hardlink(r, hard, pfd, leaf, name);
    if (type == AE_IFDIR)
        return restore_dir(r, e, pfd, leaf, perm, name);
    if (type == AE_IFLNK)
        return restore_symlink(r, e, pfd, leaf, name);
    return restore_file(r, e, pfd, leaf, perm, name);
}

/* Folders' owners, modes and times, the deepest first: made after all that is in them. */
static int fix_folders(struct restore *r)
{
    int rc = 0;

    for (size_t i = r->nfix; i-- > 0;) {
        struct dirfix *f = &r->fix[i];
        size_t bad;
        int fd = open_below(r->stagefd, f->path, strlen(f->path), false, &bad);

        if (fd < 0 ||
            (r->owners && fchown(fd, f->uid, f->gid) < 0 && errno != EPERM && errno != EINVAL &&
             errno != EOPNOTSUPP) ||
            fchmod(fd, f->perm) < 0 || futimens(fd, f->ts) < 0) {
            rc = write_failed(r, f->path, errno);
            if (fd >= 0)
                close(fd);
            break;
        }
        close(fd);
    }
    return rc;
}

static int extract(struct restore *r)
{
    struct archive_entry *e;
    int h;

    while ((h = archive_read_next_header(r->a, &e)) == ARCHIVE_OK)
        if (restore_entry(r, e) < 0)
            return -1;
    if (h != ARCHIVE_EOF) {
        log_error("build cache: the archive is corrupt: %s", archive_error_string(r->a));
        return -1;
    }
    if (fix_folders(r) < 0)
        return -1;
    if (r->stripped > 1)
        log_info("build cache: %llu more entr%s restored without set-user-ID, set-group-ID or "
                 "sticky bits",
                 (unsigned long long)(r->stripped - 1), r->stripped == 2 ? "y" : "ies");
    return 0;
}

static int restore_at(int rootfd, const char *root, char *keep, int fd, struct tally *t);

int unpack_root(const char *root, int fd, const char *store_dir, struct tally *t)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (rootfd < 0) {
        log_error("build cache: %s: %s", root, strerror(errno));
        return -1;
    }
    rc = restore_at(rootfd, root, store_top(root, store_dir), fd, t);
    close(rootfd);
    return rc;
}

int unpack_into(int basefd, const char *shown, int fd, struct tally *t)
{
    return restore_at(basefd, shown, NULL, fd, t);
}

/* The restore into the folder ROOTFD (shown as ROOT); KEEP, allocated, the entry left alone. */
static int restore_at(int rootfd, const char *root, char *keep, int fd, struct tally *t)
{
    struct restore *r = xcalloc(1, sizeof *r); /* its paths are too long for the stack */
    int rc = -1;
    char stage[64] = "";
    mode_t mask = umask(0); /* the archive's modes as they are, less the bits dropped */

    if (!(r->a = archive_read_new()))
        out_of_memory();
    r->t = t;
    r->stagefd = r->parentfd = -1;
    r->owners = geteuid() == 0;
    r->euid = geteuid();
    r->egid = getegid();
    if (env_limit("CCWRAP_CACHE_MAX_BYTES", "cache_max_bytes", CACHE_MAX_BYTES, &r->max_bytes) <
            0 ||
        env_limit("CCWRAP_CACHE_MAX_ENTRIES", "cache_max_entries", CACHE_MAX_ENTRIES,
                  &r->max_entries) < 0)
        goto out;
    staging_remove_stale(rootfd);
    r->keep_top = keep;
    r->stagefd = staging_make(rootfd, root, stage, sizeof stage);
    if (r->stagefd < 0) {
        stage[0] = '\0';
        goto out;
    }
    archive_read_support_format_tar(r->a);
    archive_read_support_filter_zstd(r->a);
    if (archive_read_open_fd(r->a, fd, (size_t)128 * 1024) != ARCHIVE_OK) {
        log_error("build cache: the archive is corrupt: %s", archive_error_string(r->a));
        goto out;
    }
    if (extract(r) < 0)
        goto out;
    if (r->parentfd >= 0)
        close(r->parentfd);
    r->parentfd = -1;
    if (staging_move(rootfd, r->stagefd, root) < 0)
        goto out;
    rc = 0;
out:
    archive_read_free(r->a);
    if (r->parentfd >= 0)
        close(r->parentfd);
    if (r->stagefd >= 0) {
        staging_empty(r->stagefd);
        close(r->stagefd);
        if (stage[0])
            unlinkat(rootfd, stage, AT_REMOVEDIR);
    }
    for (size_t i = 0; i < r->nfix; i++)
        free(r->fix[i].path);
    free(r->fix);
    free(r);
    free(keep);
    umask(mask);
    return rc;
}
