/*
 * archive.c — the build cache archive: the root written as tar+zstd with libarchive, and read
 * back with libarchive into a staging folder that ccwrap fills itself, entry by entry, then
 * puts in place of the root's entries once complete.
 */
#include "helper.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

#define GLOB_CHARS "*?["

/*
 * The colon-separated paths of variable VAR, relative to the root, without "./" or a trailing
 * '/'. An absolute path or one with ".." leaves the root: warned about and left out. With
 * GLOBS, a path may be a pattern (fnmatch, '*' within one folder); without, a pattern is
 * warned about and left out, never silently matched as a name.
 */
static void paths_read(const char *var, struct paths *out, bool globs)
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
        if (!globs && strpbrk(w, GLOB_CHARS)) {
            warn("%s: '%s' is a pattern, which %s does not expand; name each path; left out", var,
                 w, var);
            continue;
        }
        out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (!out->v || !(out->v[out->n] = strdup(w)))
            abort();
        out->n++;
    }
    free(copy);
}

/* Whether PATH is one of P or below one (a pattern of P matching it or a folder above it). */
static bool path_under(const char *path, const struct paths *p)
{
    for (size_t i = 0; i < p->n; i++) {
        size_t len = strlen(p->v[i]);

        if (strpbrk(p->v[i], GLOB_CHARS)) {
            if (fnmatch(p->v[i], path, FNM_PATHNAME | FNM_LEADING_DIR) == 0)
                return true;
        } else if (strncmp(path, p->v[i], len) == 0 && (path[len] == '\0' || path[len] == '/')) {
            return true;
        }
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

/*
 * The walk that feeds the archive. It reads the tree itself rather than with
 * archive_read_disk: each file is opened once, without following a symbolic link, and what is
 * archived is the fstat of what was opened, so a file swapped between two calls is never
 * confused with another; a small file takes one open, fstat, read and close.
 */
#define WALK_BUF ((size_t)256 * 1024)
/* An entry of the tree is opened as this: never through a link, never waiting for a FIFO. */
#define WALK_OPEN (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

struct walk {
    struct archive *w;
    struct archive_entry_linkresolver *links;
    struct archive_entry *e;
    const struct paths *ignore;
    struct tally *t;
    char *buf;             /* WALK_BUF bytes: a file's data on its way to the archive */
    char path[PATH_MAX];   /* the entry's path relative to the root */
    char target[PATH_MAX]; /* a symbolic link's target (here, not on the stack of a walk
                              as deep as PATH_MAX allows) */
    struct {
        unsigned id;
        bool group;
        char name[64];
    } names[16];
    unsigned nnames;
    char shown[256];
};

/*
 * K->path as a message shows it: a path longer than a message line is cut in its middle, so
 * that the reason after it is still read.
 */
static const char *shown(struct walk *k)
{
    size_t n = strlen(k->path);

    if (n < 200)
        return k->path;
    snprintf(k->shown, sizeof k->shown, "%.96s…%s", k->path, k->path + n - 96);
    return k->shown;
}

/* The user or group name of ID, looked up once ("" when it has none). */
static const char *owner_name(struct walk *k, unsigned id, bool group)
{
    char tmp[4096];
    const char *name = NULL;
    unsigned slot;

    for (unsigned i = 0; i < k->nnames; i++)
        if (k->names[i].id == id && k->names[i].group == group)
            return k->names[i].name;
    if (group) {
        struct group gr, *g = NULL;

        if (getgrgid_r((gid_t)id, &gr, tmp, sizeof tmp, &g) == 0 && g)
            name = g->gr_name;
    } else {
        struct passwd pw, *u = NULL;

        if (getpwuid_r((uid_t)id, &pw, tmp, sizeof tmp, &u) == 0 && u)
            name = u->pw_name;
    }
    slot = k->nnames < 16 ? k->nnames++ : id % 16;
    k->names[slot].id = id;
    k->names[slot].group = group;
    snprintf(k->names[slot].name, sizeof k->names[slot].name, "%s",
             name && strlen(name) < sizeof k->names[slot].name ? name : "");
    return k->names[slot].name;
}

/*
 * libarchive's message for A, with the system's words for its error when it has one: its
 * "Write error" alone does not say that the disk is full.
 */
static const char *la_error(struct archive *a)
{
    static char text[512];
    const char *msg = archive_error_string(a);
    int err = archive_errno(a);

    if (!msg)
        msg = "unknown error";
    if (err <= 0 || err >= 4096 || strstr(msg, strerror(err)))
        return msg;
    snprintf(text, sizeof text, "%s: %s", msg, strerror(err));
    return text;
}

/* The LEFT bytes of the open file FD, as its header said; a file that shrank is padded. */
static int copy_data(struct walk *k, int fd, la_int64_t left)
{
    while (left > 0) {
        size_t want = left < (la_int64_t)WALK_BUF ? (size_t)left : WALK_BUF;
        ssize_t n = read(fd, k->buf, want);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail("%s: %s", shown(k), strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        if (archive_write_data(k->w, k->buf, (size_t)n) < 0) {
            fail("%s: %s", shown(k), la_error(k->w));
            return -1;
        }
        left -= n;
    }
    return 0;
}

static int walk_dir(struct walk *k, int fd, size_t len);

/*
 * The entry NAME of the folder DIRFD, its path in K->path (LEN bytes), and everything below it.
 * TYPE is readdir's d_type (DT_UNKNOWN when not known).
 */
/* NOLINTNEXTLINE(misc-no-recursion) */
static int walk_entry(struct walk *k, int dirfd, const char *name, unsigned char type, size_t len)
{
    struct archive_entry *out, *spare = NULL;
    struct stat st;
    int fd = -1, rc = 0;

    if (path_under(k->path, k->ignore))
        return 0;
    if (type == DT_REG || type == DT_DIR) {
        fd = openat(dirfd, name, WALK_OPEN | (type == DT_DIR ? O_DIRECTORY : 0));
        if (fd < 0 && errno != ELOOP && errno != ENOTDIR && errno != ENXIO) {
            fail("%s: %s", shown(k), strerror(errno));
            return -1;
        }
    }
    if (fd >= 0 ? fstat(fd, &st) < 0 : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) /* gone since the folder was read */
            return 0;
        fail("%s: %s", shown(k), strerror(errno));
        rc = -1;
        goto out;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
        say("build cache: %s left out: a %s", shown(k), kind_name(st.st_mode & S_IFMT));
        k->t->skipped++;
        goto out;
    }
    if (fd < 0 && !S_ISLNK(st.st_mode)) { /* readdir could not tell: open it now, and check */
        struct stat again;

        fd = openat(dirfd, name, WALK_OPEN);
        if (fd < 0 || fstat(fd, &again) < 0 || again.st_ino != st.st_ino ||
            again.st_dev != st.st_dev) {
            fail("%s: %s", shown(k), fd < 0 ? strerror(errno) : "changed while it was read");
            rc = -1;
            goto out;
        }
    }
    archive_entry_clear(k->e);
    archive_entry_copy_stat(k->e, &st);
    /* The mtime to the nanosecond, alone: access and change times are not the tree's. */
    archive_entry_unset_atime(k->e);
    archive_entry_unset_ctime(k->e);
    archive_entry_copy_pathname(k->e, k->path);
    archive_entry_copy_uname(k->e, owner_name(k, st.st_uid, false));
    archive_entry_copy_gname(k->e, owner_name(k, st.st_gid, true));
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(dirfd, name, k->target, sizeof k->target - 1);

        if (n < 0) {
            fail("%s: %s", shown(k), strerror(errno));
            rc = -1;
            goto out;
        }
        k->target[n] = '\0';
        archive_entry_copy_symlink(k->e, k->target);
        archive_entry_set_size(k->e, 0);
    } else if (S_ISDIR(st.st_mode)) {
        archive_entry_set_size(k->e, 0);
    }
    out = k->e;
    archive_entry_linkify(k->links, &out, &spare);
    if (out && archive_write_header(k->w, out) < ARCHIVE_WARN) {
        fail("%s: %s", shown(k), la_error(k->w));
        rc = -1;
        goto out;
    }
    if (S_ISDIR(st.st_mode))
        k->t->dirs++;
    else if (S_ISLNK(st.st_mode))
        k->t->links++;
    else
        k->t->files++;
    if (out && S_ISREG(st.st_mode) && !archive_entry_hardlink(out) && st.st_size > 0)
        rc = copy_data(k, fd, st.st_size);
    else if (S_ISDIR(st.st_mode)) {
        rc = walk_dir(k, fd, len);
        fd = -1;
    }
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The entries of the open folder FD (closed here), whose path is K->path (LEN bytes). */
static int walk_dir(struct walk *k, int fd, size_t len) /* NOLINT(misc-no-recursion) */
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int rc = 0;

    if (!d) {
        fail("%s: %s", shown(k), strerror(errno));
        close(fd);
        return -1;
    }
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (len + 1 + n >= sizeof k->path) {
            k->path[len] = '\0';
            fail("%s: a path below it is longer than %d bytes; name this folder or one above it "
                 "in CC_IGNORE_FROM_BUILDCACHE",
                 shown(k), PATH_MAX - 1);
            rc = -1;
            break;
        }
        k->path[len] = '/';
        memcpy(k->path + len + 1, de->d_name, n + 1);
        rc = walk_entry(k, dirfd(d), de->d_name, de->d_type, len + 1 + n);
    }
    if (rc == 0 && errno) {
        k->path[len] = '\0';
        fail("%s: %s", shown(k), strerror(errno));
        rc = -1;
    }
    k->path[len] = '\0';
    closedir(d);
    return rc;
}

/*
 * One path of the root (a file or a whole tree) into the archive. A path of
 * CC_OVERRIDE_BUILDCACHE ("vendor/bundle") is reached folder by folder beneath the root, never
 * through a symbolic link: a linked "vendor" would have root archive a folder from elsewhere
 * on the machine (readable by all once restored). Such a path is left out with a warning.
 */
static int add_tree(struct walk *k, int rootfd, const char *top, bool override)
{
    size_t len = strlen(top);
    char *parts, *name, *slash;
    int dirfd = rootfd, rc = 0;
    struct stat st;

    if (len >= sizeof k->path) {
        fail("%.64s…: the path is longer than %d bytes", top, PATH_MAX - 1);
        return -1;
    }
    parts = strdup(top);
    if (!parts)
        abort();
    name = parts;
    while ((slash = strchr(name, '/')) != NULL) {
        int fd;

        *slash = '\0';
        if (!*name || strcmp(name, ".") == 0) {
            name = slash + 1;
            continue;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            bool link = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);

            if (link)
                warn("CC_OVERRIDE_BUILDCACHE: %s: %.*s is a symbolic link, which the archive "
                     "never follows; left out (name the folder it points to, inside the root)",
                     top, (int)(slash - parts), parts);
            else
                warn("CC_OVERRIDE_BUILDCACHE: %s: %s; left out", top, strerror(err));
            goto out;
        }
        if (dirfd != rootfd)
            close(dirfd);
        dirfd = fd;
        name = slash + 1;
    }
    if (override && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        warn("CC_OVERRIDE_BUILDCACHE: %s: %s; left out", top, strerror(errno));
        goto out;
    }
    memcpy(k->path, top, len + 1);
    rc = walk_entry(k, dirfd, name, DT_UNKNOWN, len);
out:
    if (dirfd != rootfd)
        close(dirfd);
    free(parts);
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

/* Where the archive goes: its file, hashed on the way (no second read of it to hash it). */
struct sink {
    int fd;
    void *hash;
};

static la_ssize_t sink_write(struct archive *a, void *arg, const void *p, size_t n)
{
    struct sink *k = arg;
    size_t off = 0;

    while (off < n) {
        ssize_t w = write(k->fd, (const char *)p + off, n - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            archive_set_error(a, errno, "%s", strerror(errno));
            return -1;
        }
        off += (size_t)w;
    }
    hash_add(k->hash, p, n);
    return (la_ssize_t)n;
}

/*
 * A path of CC_IGNORE_FROM_BUILDCACHE through a symbolic link ("vendor/bundle", "vendor" a
 * link) matches nothing the walk meets: it never follows a link, and archives "vendor" as one.
 * Said, so that no one believes the link's target was in the archive and is now left out.
 */
static void note_linked_ignores(int rootfd, const struct paths *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const char *path = p->v[i];

        if (strpbrk(path, GLOB_CHARS))
            continue;
        for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
            char *part = strndup(path, (size_t)(slash - path));
            struct stat st;
            bool link;

            if (!part)
                abort();
            link = fstatat(rootfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            if (link)
                say("build cache: CC_IGNORE_FROM_BUILDCACHE: %s: %s is a symbolic link, archived "
                    "as one (its target never is)",
                    path, part);
            free(part);
            if (link)
                break;
        }
    }
}

int archive_create(int rootfd, const char *root, int fd, struct tally *t)
{
    struct archive *w = archive_write_new();
    struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
    struct paths tops = {0}, ignore = {0};
    struct walk k = {.w = w, .links = links, .ignore = &ignore, .t = t};
    struct stat st;
    struct sink sink = {.fd = fd, .hash = hash_new()};
    char threads[16];
    int rc = 0;

    k.e = archive_entry_new();
    k.buf = malloc(WALK_BUF);
    if (!w || !links || !k.e || !k.buf)
        abort();
    if (set("IGNORE_FROM_BUILDCACHE")) {
        warn("IGNORE_FROM_BUILDCACHE is deprecated; name it CC_IGNORE_FROM_BUILDCACHE");
        paths_read("IGNORE_FROM_BUILDCACHE", &ignore, true);
    }
    paths_read("CC_IGNORE_FROM_BUILDCACHE", &ignore, true);
    note_linked_ignores(rootfd, &ignore);
    if (set("CC_OVERRIDE_BUILDCACHE"))
        paths_read("CC_OVERRIDE_BUILDCACHE", &tops, false);
    else if (top_entries(rootfd, root, &tops) < 0)
        rc = -1;
    snprintf(threads, sizeof threads, "%ld", zstd_threads());
    /* pax, not pax_restricted: only pax records carry the mtime's sub-second part. */
    archive_write_set_format_pax(w);
    archive_entry_linkresolver_set_strategy(links, archive_format(w));
    archive_write_add_filter_zstd(w);
    archive_write_set_filter_option(w, "zstd", "threads", threads);
    archive_write_set_bytes_per_block(w, 128 * 1024);
    archive_write_set_bytes_in_last_block(w, 1);
    if (rc == 0 && (fchdir(rootfd) < 0 ||
                    archive_write_open2(w, &sink, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)) {
        fail("%s: %s", root, archive_error_string(w) ? archive_error_string(w) : strerror(errno));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < tops.n; i++)
        if (!path_under(tops.v[i], &ignore))
            rc = add_tree(&k, rootfd, tops.v[i], set("CC_OVERRIDE_BUILDCACHE"));
    if (rc == 0 && archive_write_close(w) != ARCHIVE_OK) {
        fail("archive: %s", la_error(w));
        rc = -1;
    }
    archive_write_free(w);
    archive_entry_linkresolver_free(links);
    archive_entry_free(k.e);
    free(k.buf);
    paths_free(&tops);
    paths_free(&ignore);
    hash_end(sink.hash, t->sha256);
    if (rc == 0 && fstat(fd, &st) == 0)
        t->bytes = (uint64_t)st.st_size;
    return rc;
}

int archive_create_paths(int basefd, const char *shown, int fd, char *const *names, size_t n,
                         struct tally *t)
{
    struct archive *w = archive_write_new();
    struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
    struct paths ignore = {0};
    struct walk k = {.w = w, .links = links, .ignore = &ignore, .t = t};
    struct stat st;
    struct sink sink = {.fd = fd, .hash = hash_new()};
    char threads[16];
    int rc = 0;

    k.e = archive_entry_new();
    k.buf = malloc(WALK_BUF);
    if (!w || !links || !k.e || !k.buf)
        abort();
    snprintf(threads, sizeof threads, "%ld", zstd_threads());
    archive_write_set_format_pax(w);
    archive_entry_linkresolver_set_strategy(links, archive_format(w));
    archive_write_add_filter_zstd(w);
    archive_write_set_filter_option(w, "zstd", "threads", threads);
    archive_write_set_bytes_per_block(w, 128 * 1024);
    archive_write_set_bytes_in_last_block(w, 1);
    if (fchdir(basefd) < 0 ||
        archive_write_open2(w, &sink, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
        fail("%s: %s", shown, archive_error_string(w) ? archive_error_string(w) : strerror(errno));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_tree(&k, basefd, names[i], false);
    if (rc == 0 && archive_write_close(w) != ARCHIVE_OK) {
        fail("archive: %s", la_error(w));
        rc = -1;
    }
    archive_write_free(w);
    archive_entry_linkresolver_free(links);
    archive_entry_free(k.e);
    free(k.buf);
    hash_end(sink.hash, t->sha256);
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
 * The restore. libarchive reads the archive; ccwrap itself makes each entry, below a staging
 * folder it holds by descriptor, every path component opened without following a symbolic
 * link whatever the path's length (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, else one
 * O_NOFOLLOW openat per component). Only files, folders, symbolic links and hard links to
 * what the archive made are created; nothing gets a set-user-ID, set-group-ID or sticky bit.
 */
#define DIR_OPEN     (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define SPECIAL_BITS ((mode_t)(S_ISUID | S_ISGID | S_ISVTX))

/*
 * An entry's path may be longer than PATH_MAX (it is walked a component at a time), not than
 * this: ccwrap's own archives never hold one longer than PATH_MAX.
 */
#define NAME_CAP ((size_t)64 * 1024)

/* A folder's owner, mode and times, set once everything in it is made. */
struct dirfix {
    char *path;
    mode_t perm;
    uid_t uid;
    gid_t gid;
    struct timespec ts[2];
};

struct restore {
    struct archive *a;
    struct tally *t;
    int stagefd;
    const char *keep_top; /* the root's entry that holds the store: never the archive's */
    bool keep_noted;
    bool owners; /* root: entries keep their owners */
    uid_t euid;  /* the owner of what the restore makes, before any fchown */
    gid_t egid;
    char path[NAME_CAP];   /* the entry's path, normalized */
    char to[NAME_CAP];     /* a hard link's target, normalized */
    char parent[NAME_CAP]; /* the folder last opened for an entry, and its descriptor: entries
                              come in tree order, so most reuse it */
    size_t plen;
    int parentfd;
    struct dirfix *fix;
    size_t nfix, capfix;
    uint64_t max_bytes, max_entries, entries, bytes, written, stripped;
    struct {
        bool group;
        char name[64];
        unsigned id;
        bool found;
    } ids[16];
    unsigned nids;
    char shown[256];
    char prefix[256];
};

/* The first N bytes of S in BUF, cut in their middle when longer than a message line. */
static const char *cut_into(char *buf, size_t len, const char *s, size_t n)
{
    if (n < 200)
        snprintf(buf, len, "%.*s", (int)n, s);
    else
        snprintf(buf, len, "%.96s…%.96s", s, s + n - 96);
    return buf;
}

/* NAME as a message shows it. */
static const char *cut(struct restore *r, const char *name)
{
    return cut_into(r->shown, sizeof r->shown, name, strlen(name));
}

static void refuse(struct restore *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(struct restore *r, const char *name, const char *fmt, ...)
{
    char why[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fail("archive entry '%s': refused: %s", cut(r, name), why);
}

/*
 * PATH without "./", empty components and a trailing '/', in OUT (NAME_CAP bytes; "" for the
 * root itself). 0; 1 for an absolute path; 2 for one with ".."; 3 for one too long.
 */
static int normalize(const char *path, char *out)
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
static int open_below(int dirfd, const char *path, size_t len, bool create, size_t *bad)
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

/* Reports why the folder of an entry could not be opened: -1. */
static int folder_refused(struct restore *r, const char *name, const char *dir, size_t bad)
{
    if (errno == ELOOP && bad)
        refuse(r, name, "Cannot extract through symlink %s",
               cut_into(r->prefix, sizeof r->prefix, dir, bad));
    else if (errno == ENOTDIR && bad)
        refuse(r, name, "%s is not a folder", cut_into(r->prefix, sizeof r->prefix, dir, bad));
    else
        fail("%s: %s", cut(r, name), strerror(errno));
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

/*
 * The entry LEAF of the folder PFD exists already (the archive names it twice, or made it as
 * a folder on the way): 1 when a folder meets a folder, 0 when the old one was removed for
 * the new one, -1 (reported) when the new one may not replace it.
 */
static int replace_existing(struct restore *r, int pfd, const char *leaf, mode_t type,
                            const char *name)
{
    struct stat st;

    if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        fail("%s: %s", cut(r, name), strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        refuse(r, name, "it would replace a symbolic link");
        return -1;
    }
    if (type == AE_IFLNK) {
        refuse(r, name, "a symbolic link would replace an entry");
        return -1;
    }
    if (S_ISDIR(st.st_mode) && type == AE_IFDIR)
        return 1;
    if (S_ISDIR(st.st_mode) || type == AE_IFDIR) {
        refuse(r, name, "a folder and a file of the same name");
        return -1;
    }
    if (unlinkat(pfd, leaf, 0) < 0) {
        fail("%s: %s", cut(r, name), strerror(errno));
        return -1;
    }
    return 0;
}

/* A user or group NAME's id on this machine, looked up once; false when it has none. */
static bool name_id(struct restore *r, const char *name, bool group, unsigned *id)
{
    char tmp[4096];
    unsigned slot;
    bool found = false;

    if (!name || !*name || strlen(name) >= sizeof r->ids[0].name)
        return false;
    for (unsigned i = 0; i < r->nids; i++)
        if (r->ids[i].group == group && strcmp(r->ids[i].name, name) == 0) {
            *id = r->ids[i].id;
            return r->ids[i].found;
        }
    if (group) {
        struct group gr, *g = NULL;

        if (getgrnam_r(name, &gr, tmp, sizeof tmp, &g) == 0 && g)
            *id = (unsigned)g->gr_gid, found = true;
    } else {
        struct passwd pw, *u = NULL;

        if (getpwnam_r(name, &pw, tmp, sizeof tmp, &u) == 0 && u)
            *id = (unsigned)u->pw_uid, found = true;
    }
    slot = r->nids < 16 ? r->nids++ : (unsigned)(r->entries % 16);
    r->ids[slot].group = group;
    snprintf(r->ids[slot].name, sizeof r->ids[slot].name, "%s", name);
    r->ids[slot].id = found ? *id : 0;
    r->ids[slot].found = found;
    return found;
}

/* The owner an entry gets: its user and group names' ids here, else its numbers. */
static void entry_owner(struct restore *r, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
    unsigned id;
    la_int64_t n;

    if (name_id(r, archive_entry_uname(e), false, &id)) {
        *uid = (uid_t)id;
    } else {
        n = archive_entry_uid(e);
        *uid = n >= 0 && n < (la_int64_t)UINT32_MAX ? (uid_t)n : 0;
    }
    if (name_id(r, archive_entry_gname(e), true, &id)) {
        *gid = (gid_t)id;
    } else {
        n = archive_entry_gid(e);
        *gid = n >= 0 && n < (la_int64_t)UINT32_MAX ? (gid_t)n : 0;
    }
}

/* The entry's access and modification times, to the nanosecond. */
static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = 0;
    ts[1].tv_nsec = UTIME_OMIT;
    if (archive_entry_mtime_is_set(e)) {
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    }
    ts[0] = ts[1];
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
    for (int i = 0; i < 2; i++)
        if (ts[i].tv_nsec != UTIME_OMIT && (ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999))
            ts[i].tv_nsec = 0;
}

/*
 * What a failed write says: the error's own words, and for a full disk how much the whole
 * archive needs (its remaining headers are read for that) beside what was written. -1.
 */
static int write_failed(struct restore *r, const char *name, int err)
{
    char need[32], done[32];
    uint64_t total = r->bytes;
    struct archive_entry *e;

    if (err != ENOSPC && err != EDQUOT && err != EFBIG) {
        fail("%s: %s", cut(r, name), strerror(err));
        return -1;
    }
    /* The name is the archive's: keep it before reading on. */
    fail("%s: %s", cut(r, name), strerror(err));
    while (total <= r->max_bytes && archive_read_next_header(r->a, &e) == ARCHIVE_OK)
        if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
            archive_entry_size(e) > 0)
            total += (uint64_t)archive_entry_size(e);
    fail("the restore needs %s for the archive's files and %s were written; free space "
         "where the root is, or build in full",
         size_text(total, need, sizeof need), size_text(r->written, done, sizeof done));
    return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* nothing written and no error: the space is gone */
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Owner and times of what FD is (or, FD < 0, of the symbolic link LEAF of PFD). */
static int set_owner_times(struct restore *r, struct archive_entry *e, int fd, int pfd,
                           const char *leaf, const char *name)
{
    struct timespec ts[2];
    uid_t uid;
    gid_t gid;

    if (r->owners) {
        entry_owner(r, e, &uid, &gid);
        /* What ccwrap makes is its own already: most trees are root's, and this is per file. */
        if ((uid != r->euid || gid != r->egid) &&
            (fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW)) <
                0 &&
            errno != EPERM && errno != EINVAL && errno != EOPNOTSUPP)
            return write_failed(r, name, errno);
    }
    entry_times(e, ts);
    if ((fd >= 0 ? futimens(fd, ts) : utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW)) < 0)
        return write_failed(r, name, errno);
    return 0;
}

static int restore_file(struct restore *r, struct archive_entry *e, int pfd, const char *leaf,
                        mode_t perm, const char *name)
{
    la_int64_t size = archive_entry_size(e), pos = 0, off;
    const void *buf;
    size_t n;
    int fd, h;

    while ((fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm)) <
           0) {
        if (errno != EEXIST)
            return write_failed(r, name, errno);
        if (replace_existing(r, pfd, leaf, AE_IFREG, name) < 0)
            return -1;
    }
    /* Data as it comes, every write checked; the size is never set ahead of it. */
    while ((h = archive_read_data_block(r->a, &buf, &n, &off)) == ARCHIVE_OK) {
        if (off != pos && lseek(fd, off, SEEK_SET) < 0)
            goto failed;
        if (write_all(fd, buf, n) < 0)
            goto failed;
        pos = off + (la_int64_t)n;
        r->written += n;
    }
    if (h != ARCHIVE_EOF) {
        fail("the archive is corrupt: %s", archive_error_string(r->a));
        close(fd);
        return -1;
    }
    /* A sparse file's last hole, once its data is written. */
    if (pos < size && ftruncate(fd, size) < 0)
        goto failed;
    if (set_owner_times(r, e, fd, pfd, leaf, name) < 0) {
        close(fd);
        return -1;
    }
    if (close(fd) < 0)
        return write_failed(r, name, errno);
    r->t->files++;
    return 0;
failed:
    h = errno;
    close(fd);
    return write_failed(r, name, h);
}

static int restore_dir(struct restore *r, struct archive_entry *e, int pfd, const char *leaf,
                       mode_t perm, const char *name)
{
    struct dirfix *f;

    /* 0700 until its content is made: a read-only folder of the archive still gets it. */
    while (mkdirat(pfd, leaf, 0700) < 0) {
        int rc;

        if (errno != EEXIST)
            return write_failed(r, name, errno);
        rc = replace_existing(r, pfd, leaf, AE_IFDIR, name);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
    }
    if (r->nfix == r->capfix) {
        r->capfix = r->capfix ? r->capfix * 2 : 256;
        r->fix = realloc(r->fix, r->capfix * sizeof *r->fix);
        if (!r->fix)
            abort();
    }
    f = &r->fix[r->nfix++];
    if (!(f->path = strdup(r->path)))
        abort();
    f->perm = perm;
    entry_owner(r, e, &f->uid, &f->gid);
    entry_times(e, f->ts);
    r->t->dirs++;
    return 0;
}

static int restore_symlink(struct restore *r, struct archive_entry *e, int pfd, const char *leaf,
                           const char *name)
{
    const char *target = archive_entry_symlink(e);

    if (symlinkat(target ? target : "", pfd, leaf) < 0) {
        if (errno == EEXIST)
            replace_existing(r, pfd, leaf, AE_IFLNK, name);
        else
            write_failed(r, name, errno);
        return -1;
    }
    if (set_owner_times(r, e, -1, pfd, leaf, name) < 0)
        return -1;
    r->t->links++;
    return 0;
}

/* A hard link to TARGET, an entry the archive made before, found below the staging folder. */
static int restore_hardlink(struct restore *r, const char *target, int pfd, const char *leaf,
                            const char *name)
{
    const char *tleaf;
    char *slash;
    size_t bad = 0, tlen;
    int tfd, rc = -1;

    switch (normalize(target, r->to)) {
    case 1:
        refuse(r, name, "its hard link target %s is absolute", cut(r, target));
        return -1;
    case 2:
        refuse(r, name, "its hard link target %s contains '..'", cut(r, target));
        return -1;
    case 3:
        refuse(r, name, "its hard link target is longer than %zu bytes", NAME_CAP - 1);
        return -1;
    }
    if (!r->to[0]) {
        refuse(r, name, "its hard link target is the root");
        return -1;
    }
    slash = strrchr(r->to, '/');
    tlen = slash ? (size_t)(slash - r->to) : 0;
    tleaf = slash ? slash + 1 : r->to;
    if (slash)
        *slash = '\0';
    tfd = tlen ? open_below(r->stagefd, r->to, tlen, false, &bad) : r->stagefd;
    if (tfd < 0) {
        if (errno == ELOOP && bad)
            refuse(r, name, "its hard link target goes through symlink %s",
                   cut_into(r->prefix, sizeof r->prefix, r->to, bad));
        else
            refuse(r, name, "its hard link target is not in the archive before it");
        return -1;
    }
    while (linkat(tfd, tleaf, pfd, leaf, 0) < 0) {
        if (errno == ENOENT || errno == EPERM) {
            refuse(r, name, "its hard link target is not a file the archive made before it");
            goto out;
        }
        if (errno != EEXIST) {
            write_failed(r, name, errno);
            goto out;
        }
        if (replace_existing(r, pfd, leaf, AE_IFREG, name) < 0)
            goto out;
    }
    r->t->files++;
    rc = 0;
out:
    if (tfd != r->stagefd)
        close(tfd);
    return rc;
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
    say("build cache: %s restored without its %s%s%s%s%s bit%s", cut(r, name), bits[0],
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
            say("build cache: %s left out of the restore: the store is inside it",
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
        fail("the archive holds more than %llu entries (cache_max_entries); raise "
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
            fail("the archive's files hold more than %llu bytes (cache_max_bytes); raise "
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
        fail("the archive is corrupt: %s", archive_error_string(r->a));
        return -1;
    }
    if (fix_folders(r) < 0)
        return -1;
    if (r->stripped > 1)
        say("build cache: %llu more entr%s restored without set-user-ID, set-group-ID or "
            "sticky bits",
            (unsigned long long)(r->stripped - 1), r->stripped == 2 ? "y" : "ies");
    return 0;
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
static int move_into_place(int rootfd, int stagefd, const char *root)
{
    int fd = dup(stagefd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    struct moved *m = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        fail("%s: %s", root, strerror(errno));
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
                fail("%s/%s: cannot put it in place: %s", root, name, strerror(errno));
                rc = -1;
                break;
            }
            exchanged = true;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            m = realloc(m, cap * sizeof *m);
            if (!m)
                abort();
        }
        if (!(m[n].name = strdup(name)))
            abort();
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

/* Empties the folder FD, following no symbolic link. */
static void empty_folder(int fd)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *de;

    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            remove_tree(fd, de->d_name);
    closedir(d);
}

/*
 * A fresh staging folder in the root, made by ccwrap and from then on used only by its
 * descriptor: its name is never opened again, so whoever can write the root cannot put
 * another folder in its place. The descriptor, its name in NAME; or -1 reported.
 */
static int make_staging(int rootfd, const char *root, char *name, size_t len)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[8];
    struct stat st;
    int fd;

    for (int tries = 0;; tries++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            fail("%s: cannot create a staging folder: %s", root, strerror(errno));
            return -1;
        }
        snprintf(name, len, STAGING_PREFIX "%c%c%c%c%c%c%c%c", digits[rnd[0] % 36],
                 digits[rnd[1] % 36], digits[rnd[2] % 36], digits[rnd[3] % 36], digits[rnd[4] % 36],
                 digits[rnd[5] % 36], digits[rnd[6] % 36], digits[rnd[7] % 36]);
        if (mkdirat(rootfd, name, 0700) == 0)
            break;
        if (errno != EEXIST || tries >= 16) {
            fail("%s: cannot create a staging folder: %s", root, strerror(errno));
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
        fail("%s/%s: the staging folder was replaced while it was made; nothing restored", root,
             name);
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
static char *store_top(const char *root, const char *store_dir)
{
    char *rr = store_dir ? realpath(root, NULL) : NULL, *sr = rr ? realpath(store_dir, NULL) : NULL;
    char *top = NULL;
    size_t n = rr ? strlen(rr) : 0;

    if (sr && strncmp(sr, rr, n) == 0 && (sr[n] == '/' || (n == 1 && sr[0] == '/')) &&
        sr[n + (n > 1)]) {
        const char *p = sr + n + (n > 1);

        top = strndup(p, strcspn(p, "/"));
    }
    free(rr);
    free(sr);
    return top;
}

/* A limit from the environment (ccwrap puts the settings there), or DFLT. 0, or -1 reported. */
static int limit(const char *var, const char *setting, uint64_t dflt, uint64_t *out)
{
    const char *v = getenv(var);

    *out = dflt;
    if (!v || !*v)
        return 0;
    if (cache_size_parse(v, out) < 0 || *out == 0) {
        fail("%s '%s': give a whole number from 1, with K, M, G or T for KiB, MiB, GiB or TiB; "
             "set %s",
             var, v, setting);
        return -1;
    }
    return 0;
}

static int restore_at(int rootfd, const char *root, char *keep, int fd, struct tally *t);

int archive_restore(const char *root, int fd, const char *store_dir, struct tally *t)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (rootfd < 0) {
        fail("%s: %s", root, strerror(errno));
        return -1;
    }
    rc = restore_at(rootfd, root, store_top(root, store_dir), fd, t);
    close(rootfd);
    return rc;
}

int archive_restore_fd(int basefd, const char *shown, int fd, struct tally *t)
{
    return restore_at(basefd, shown, NULL, fd, t);
}

int folder_below(int dirfd, const char *path, bool create, size_t *bad)
{
    *bad = 0;
    if (!*path)
        return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    return open_below(dirfd, path, strlen(path), create, bad);
}

/* The restore into the folder ROOTFD (shown as ROOT); KEEP, allocated, the entry left alone. */
static int restore_at(int rootfd, const char *root, char *keep, int fd, struct tally *t)
{
    struct restore *r = calloc(1, sizeof *r); /* its paths are too long for the stack */
    int rc = -1;
    char stage[64] = "";
    mode_t mask = umask(0); /* the archive's modes as they are, less the bits dropped */

    if (!r || !(r->a = archive_read_new()))
        abort();
    r->t = t;
    r->stagefd = r->parentfd = -1;
    r->owners = geteuid() == 0;
    r->euid = geteuid();
    r->egid = getegid();
    if (limit("CCWRAP_CACHE_MAX_BYTES", "cache_max_bytes", CACHE_MAX_BYTES, &r->max_bytes) < 0 ||
        limit("CCWRAP_CACHE_MAX_ENTRIES", "cache_max_entries", CACHE_MAX_ENTRIES, &r->max_entries) <
            0)
        goto out;
    remove_stale(rootfd);
    r->keep_top = keep;
    r->stagefd = make_staging(rootfd, root, stage, sizeof stage);
    if (r->stagefd < 0) {
        stage[0] = '\0';
        goto out;
    }
    archive_read_support_format_tar(r->a);
    archive_read_support_filter_zstd(r->a);
    if (archive_read_open_fd(r->a, fd, (size_t)128 * 1024) != ARCHIVE_OK) {
        fail("the archive is corrupt: %s", archive_error_string(r->a));
        goto out;
    }
    if (extract(r) < 0)
        goto out;
    if (r->parentfd >= 0)
        close(r->parentfd);
    r->parentfd = -1;
    if (move_into_place(rootfd, r->stagefd, root) < 0)
        goto out;
    rc = 0;
out:
    archive_read_free(r->a);
    if (r->parentfd >= 0)
        close(r->parentfd);
    if (r->stagefd >= 0) {
        empty_folder(r->stagefd);
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
