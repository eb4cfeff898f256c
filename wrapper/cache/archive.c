/*
 * archive.c — the build cache archive: the root written as tar+zstd with libarchive, and
 * extracted with its secure flags into a staging folder that replaces entries once complete.
 */
#include "helper.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGING_PREFIX ".ccwrap-restore."

struct paths {
    char **v;
    size_t n;
};

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/*
 * The colon-separated paths of variable VAR, relative to the root, without "./" or a trailing
 * '/'. An absolute path or one with ".." leaves the root: warned about and left out.
 */
static void paths_read(const char *var, struct paths *out)
{
    const char *val = getenv(var);
    char *copy, *save = NULL;

    if (!val || !*val)
        return;
    copy = strdup(val);
    if (!copy)
        abort();
    for (char *w = strtok_r(copy, ":", &save); w; w = strtok_r(NULL, ":", &save)) {
        size_t len;

        while (w[0] == '.' && w[1] == '/')
            w += 2;
        len = strlen(w);
        while (len > 0 && w[len - 1] == '/')
            w[--len] = '\0';
        if (!len || strcmp(w, ".") == 0)
            continue;
        if (w[0] == '/' || strcmp(w, "..") == 0 || strncmp(w, "../", 3) == 0 || strstr(w, "/../") ||
            (len >= 3 && strcmp(w + len - 3, "/..") == 0)) {
            warn("%s: '%s' is not a path inside the application root; left out", var, w);
            continue;
        }
        out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (!out->v || !(out->v[out->n] = strdup(w)))
            abort();
        out->n++;
    }
    free(copy);
}

static bool path_under(const char *path, const struct paths *p)
{
    for (size_t i = 0; i < p->n; i++) {
        size_t len = strlen(p->v[i]);

        if (strncmp(path, p->v[i], len) == 0 && (path[len] == '\0' || path[len] == '/'))
            return true;
    }
    return false;
}

static const char *kind_name(mode_t type)
{
    switch (type) {
    case AE_IFSOCK:
        return "socket";
    case AE_IFCHR:
        return "character device";
    case AE_IFBLK:
        return "block device";
    case AE_IFIFO:
        return "named pipe";
    default:
        return "special file";
    }
}

/* One path of the root (a file or a whole tree) into the archive W. */
static int add_tree(struct archive *w, struct archive_entry_linkresolver *links, const char *top,
                    const struct paths *ignore, struct tally *t)
{
    struct archive *disk = archive_read_disk_new();
    struct archive_entry *e = archive_entry_new();
    int rc = 0;

    if (!disk || !e)
        abort();
    archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_standard_lookup(disk);
    archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                             ARCHIVE_READDISK_NO_FFLAGS |
                                             ARCHIVE_READDISK_NO_SPARSE);
    if (archive_read_disk_open(disk, top) != ARCHIVE_OK) {
        fail("%s: %s", top, archive_error_string(disk));
        rc = -1;
        goto out;
    }
    for (;;) {
        struct archive_entry *out, *spare = NULL;
        int r = archive_read_next_header2(disk, e);
        const char *path;
        mode_t type;

        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            fail("%s: %s", top, archive_error_string(disk));
            rc = -1;
            break;
        }
        path = archive_entry_pathname(e);
        if (path_under(path, ignore))
            continue;
        type = archive_entry_filetype(e);
        if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
            say("build cache: %s left out: a %s", path, kind_name(type));
            t->skipped++;
            continue;
        }
        if (type == AE_IFDIR)
            archive_read_disk_descend(disk);
        out = e;
        archive_entry_linkify(links, &out, &spare);
        if (out && archive_write_header(w, out) < ARCHIVE_WARN) {
            fail("%s: %s", path, archive_error_string(w));
            rc = -1;
            break;
        }
        t->files++;
        if (out && type == AE_IFREG && !archive_entry_hardlink(out) &&
            archive_entry_size(out) > 0) {
            const void *buf;
            size_t size;
            la_int64_t off;

            while ((r = archive_read_data_block(disk, &buf, &size, &off)) == ARCHIVE_OK)
                if (archive_write_data(w, buf, size) < 0) {
                    fail("%s: %s", path, archive_error_string(w));
                    rc = -1;
                    goto out;
                }
            if (r != ARCHIVE_EOF) {
                fail("%s: %s", path, archive_error_string(disk));
                rc = -1;
                goto out;
            }
        }
    }
out:
    archive_entry_free(e);
    archive_read_close(disk);
    archive_read_free(disk);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The root's entries but .git and a restore's staging folder, sorted: the archive's order. */
static int top_entries(int rootfd, const char *root, struct paths *out)
{
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;

    if (!d) {
        fail("%s: %s", root, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;

        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, ".git") == 0 ||
            strncmp(n, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0)
            continue;
        out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (!out->v || !(out->v[out->n] = strdup(n)))
            abort();
        out->n++;
    }
    closedir(d);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

static bool set(const char *var)
{
    const char *v = getenv(var);

    return v && *v;
}

static long zstd_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > 16 ? 16 : n;
}

int archive_create(int rootfd, const char *root, int fd, struct tally *t)
{
    struct archive *w = archive_write_new();
    struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
    struct paths tops = {0}, ignore = {0};
    struct stat st;
    char threads[16];
    int rc = 0;

    if (!w || !links)
        abort();
    if (set("IGNORE_FROM_BUILDCACHE")) {
        warn("IGNORE_FROM_BUILDCACHE is deprecated; name it CC_IGNORE_FROM_BUILDCACHE");
        paths_read("IGNORE_FROM_BUILDCACHE", &ignore);
    }
    paths_read("CC_IGNORE_FROM_BUILDCACHE", &ignore);
    if (set("CC_OVERRIDE_BUILDCACHE"))
        paths_read("CC_OVERRIDE_BUILDCACHE", &tops);
    else if (top_entries(rootfd, root, &tops) < 0)
        rc = -1;
    snprintf(threads, sizeof threads, "%ld", zstd_threads());
    archive_write_set_format_pax_restricted(w);
    archive_entry_linkresolver_set_strategy(links, archive_format(w));
    archive_write_add_filter_zstd(w);
    archive_write_set_filter_option(w, "zstd", "threads", threads);
    archive_write_set_bytes_per_block(w, 128 * 1024);
    archive_write_set_bytes_in_last_block(w, 1);
    if (rc == 0 && (fchdir(rootfd) < 0 || archive_write_open_fd(w, fd) != ARCHIVE_OK)) {
        fail("%s: %s", root, archive_error_string(w) ? archive_error_string(w) : strerror(errno));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < tops.n; i++) {
        struct stat ls;

        if (path_under(tops.v[i], &ignore))
            continue;
        if (fstatat(rootfd, tops.v[i], &ls, AT_SYMLINK_NOFOLLOW) < 0) {
            warn("CC_OVERRIDE_BUILDCACHE: %s: %s; left out", tops.v[i], strerror(errno));
            continue;
        }
        rc = add_tree(w, links, tops.v[i], &ignore, t);
    }
    if (rc == 0 && archive_write_close(w) != ARCHIVE_OK) {
        fail("archive: %s", archive_error_string(w));
        rc = -1;
    }
    archive_write_free(w);
    archive_entry_linkresolver_free(links);
    paths_free(&tops);
    paths_free(&ignore);
    if (rc == 0 && fstat(fd, &st) == 0)
        t->bytes = (uint64_t)st.st_size;
    return rc;
}

/* rm -r NAME below DIRFD, following no symbolic link. */
static void remove_tree(int dirfd, const char *name) /* NOLINT(misc-no-recursion) */
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

/* Staging folders an interrupted restore left behind. */
static void remove_stale(int rootfd)
{
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0)
            remove_tree(rootfd, de->d_name);
    closedir(d);
}

/*
 * libarchive's ARCHIVE_EXTRACT_SECURE_SYMLINKS checks every component of every path on disk,
 * five system calls a file. The staging folder is fresh and ccwrap's alone, so the only
 * symbolic links in it are those the archive made: remembering them checks the same with
 * none (and the memory this takes grows with the links, not with the files).
 */
struct guard {
    void *links; /* tsearch tree of the normalized paths of links made so far */
    int stagefd;
};

static int cmp_path(const void *a, const void *b)
{
    return strcmp(a, b);
}

/*
 * PATH without "./", empty components and a trailing '/', in OUT. False for a path libarchive
 * refuses itself (absolute, with ".."), or one too long.
 */
static bool normalize(const char *path, char *out, size_t len)
{
    size_t n = 0;

    if (path[0] == '/')
        return false;
    for (const char *p = path; *p;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);

        if (l == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (l && !(l == 1 && p[0] == '.')) {
            if (n + l + 2 > len)
                return false;
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
    return true;
}

/* The length of the first proper prefix of PATH that is a link the archive made, or 0. */
static size_t through_link(void *links, char *path)
{
    if (!links)
        return 0;
    for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        bool hit;

        *s = '\0';
        hit = tfind(path, &links, cmp_path) != NULL;
        *s = '/';
        if (hit)
            return (size_t)(s - path);
    }
    return 0;
}

static void remember_link(struct guard *g, const char *path)
{
    char *copy = strdup(path);

    if (!copy || !tsearch(copy, &g->links, cmp_path))
        abort();
}

/* Refuses (-1, reported) an entry that would write through or replace a link. */
static int guard_entry(struct guard *g, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e), *target = archive_entry_hardlink(e);
    char path[PATH_MAX], to[PATH_MAX];
    bool is_link = archive_entry_filetype(e) == AE_IFLNK && !target;
    size_t via;
    struct stat st;

    if (!normalize(name, path, sizeof path))
        return 0;
    /* The root's own history is never the archive's to replace. */
    if (strcmp(path, ".git") == 0 || strncmp(path, ".git/", 5) == 0 ||
        strncmp(path, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0) {
        fail("archive entry '%s': refused: the archive may not write there", name);
        return -1;
    }
    if ((via = through_link(g->links, path)) > 0) {
        fail("archive entry '%s': refused: Cannot extract through symlink %.*s", name, (int)via,
             path);
        return -1;
    }
    if (target && normalize(target, to, sizeof to)) {
        if ((via = through_link(g->links, to)) > 0) {
            fail("archive entry '%s': refused: its hard link target goes through symlink %.*s",
                 name, (int)via, to);
            return -1;
        }
        is_link = g->links && tfind(to, &g->links, cmp_path);
    }
    if (!is_link && g->links && tfind(path, &g->links, cmp_path)) {
        fail("archive entry '%s': refused: it would replace a symbolic link", name);
        return -1;
    }
    if (is_link && fstatat(g->stagefd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        fail("archive entry '%s': refused: a symbolic link would replace an entry", name);
        return -1;
    }
    if (is_link)
        remember_link(g, path);
    return 0;
}

/*
 * A store is trusted with files, not with privileges: whoever can write to it must not plant
 * a set-user-ID root program in every instance's tree. Regular files lose those two bits.
 */
static void strip_set_id(struct archive_entry *e)
{
    mode_t perm = archive_entry_perm(e);

    if (archive_entry_filetype(e) != AE_IFREG || !(perm & (S_ISUID | S_ISGID)))
        return;
    archive_entry_set_perm(e, perm & ~(mode_t)(S_ISUID | S_ISGID));
    say("build cache: %s restored without its set-user-ID and set-group-ID bits",
        archive_entry_pathname(e));
}

static int extract(struct archive *a, struct archive *disk, int stagefd, struct tally *t)
{
    struct guard g = {.links = NULL, .stagefd = stagefd};
    struct archive_entry *e;
    int r, rc = -1;

    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *path = archive_entry_pathname(e);
        const void *buf;
        size_t size;
        la_int64_t off;

        if (guard_entry(&g, e) < 0)
            goto out;
        strip_set_id(e);
        if (archive_write_header(disk, e) < ARCHIVE_WARN) {
            fail("archive entry '%s': refused: %s", path, archive_error_string(disk));
            goto out;
        }
        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
            if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_WARN) {
                fail("%s: %s", path, archive_error_string(disk));
                goto out;
            }
        if (r != ARCHIVE_EOF) {
            fail("the archive is corrupt: %s", archive_error_string(a));
            goto out;
        }
        if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
            fail("%s: %s", path, archive_error_string(disk));
            goto out;
        }
        t->files++;
    }
    rc = 0;
out:
    tdestroy(g.links, free);
    if (rc < 0)
        return -1;
    if (r != ARCHIVE_EOF) {
        fail("the archive is corrupt: %s", archive_error_string(a));
        return -1;
    }
    if (archive_write_close(disk) < ARCHIVE_WARN) {
        fail("extracting: %s", archive_error_string(disk));
        return -1;
    }
    return 0;
}

/* Each entry of the staging folder takes its place in the root; what it replaced goes. */
static int move_into_place(int rootfd, int stagefd, const char *root)
{
    DIR *d = fdopendir(dup(stagefd));
    struct dirent *de;
    int rc = 0;

    if (!d) {
        fail("%s: %s", root, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;

        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (renameat2(stagefd, n, rootfd, n, RENAME_NOREPLACE) == 0)
            continue;
        if (errno == EEXIST && renameat2(stagefd, n, rootfd, n, RENAME_EXCHANGE) == 0)
            continue;
        fail("%s/%s: cannot put it in place: %s", root, n, strerror(errno));
        rc = -1;
        break;
    }
    closedir(d);
    return rc;
}

int archive_restore(const char *root, int fd, struct tally *t)
{
    struct archive *a = archive_read_new(), *disk = archive_write_disk_new();
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), stagefd = -1, rc = -1;
    /* ARCHIVE_EXTRACT_SECURE_SYMLINKS's rule is guard_entry's, at no system call a file. */
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
    char *stage = NULL;

    if (!a || !disk)
        abort();
    if (rootfd < 0) {
        fail("%s: %s", root, strerror(errno));
        goto out;
    }
    remove_stale(rootfd);
    if (asprintf(&stage, "%s/" STAGING_PREFIX "XXXXXX", root) < 0)
        abort();
    if (!mkdtemp(stage)) {
        fail("%s: cannot create a staging folder: %s", root, strerror(errno));
        goto out;
    }
    stagefd = open(stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (stagefd < 0 || fchdir(stagefd) < 0) {
        fail("%s: %s", stage, strerror(errno));
        goto out;
    }
    if (geteuid() == 0)
        flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(disk, flags);
    archive_write_disk_set_standard_lookup(disk);
    archive_read_support_format_tar(a);
    archive_read_support_filter_zstd(a);
    if (archive_read_open_fd(a, fd, (size_t)128 * 1024) != ARCHIVE_OK) {
        fail("the archive is corrupt: %s", archive_error_string(a));
        goto out;
    }
    if (extract(a, disk, stagefd, t) < 0 || move_into_place(rootfd, stagefd, root) < 0)
        goto out;
    rc = 0;
out:
    archive_read_free(a);
    archive_write_free(disk);
    if (rootfd >= 0 && fchdir(rootfd) == 0 && stage)
        remove_tree(rootfd, strrchr(stage, '/') + 1);
    if (stagefd >= 0)
        close(stagefd);
    if (rootfd >= 0)
        close(rootfd);
    free(stage);
    return rc;
}
