/*
 * pack.c — making an archive: the root (or the paths of CC_OVERRIDE_BUILDCACHE, or the
 * dependency paths of deps.c) walked without following a symbolic link and written as
 * tar+zstd with libarchive, hashed as it is written. Reading one back is unpack.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "env.h"
#include "tally.h"
#include "sign.h"
#include "pack.h"
#include "staging.h"

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
    copy = xstrdup(val);
    for (char *w = strtok_r(copy, ":", &save); w; w = strtok_r(NULL, ":", &save)) {
        size_t len;

        if (!(w = path_word(w)))
            continue;
        len = strlen(w);
        if (w[0] == '/' || strcmp(w, "..") == 0 || strncmp(w, "../", 3) == 0 || strstr(w, "/../") ||
            (len >= 3 && strcmp(w + len - 3, "/..") == 0)) {
            log_warn("%s: '%s' is not a path inside the application root; left out", var, w);
            continue;
        }
        if (!globs && strpbrk(w, GLOB_CHARS)) {
            log_warn("%s: '%s' is a pattern, which %s does not expand; name each path; left out",
                     var, w, var);
            continue;
        }
        out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n] = xstrdup(w);
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
            log_error("build cache: %s: %s", shown(k), strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        if (archive_write_data(k->w, k->buf, (size_t)n) < 0) {
            log_error("build cache: %s: %s", shown(k), la_error(k->w));
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
            log_error("build cache: %s: %s", shown(k), strerror(errno));
            return -1;
        }
    }
    if (fd >= 0 ? fstat(fd, &st) < 0 : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) /* gone since the folder was read */
            return 0;
        log_error("build cache: %s: %s", shown(k), strerror(errno));
        rc = -1;
        goto out;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
        log_info("build cache: %s left out: a %s", shown(k), kind_name(st.st_mode & S_IFMT));
        k->t->skipped++;
        goto out;
    }
    if (fd < 0 && !S_ISLNK(st.st_mode)) { /* readdir could not tell: open it now, and check */
        struct stat again;

        fd = openat(dirfd, name, WALK_OPEN);
        if (fd < 0 || fstat(fd, &again) < 0 || again.st_ino != st.st_ino ||
            again.st_dev != st.st_dev) {
            log_error("build cache: %s: %s", shown(k),
                      fd < 0 ? strerror(errno) : "changed while it was read");
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
            log_error("build cache: %s: %s", shown(k), strerror(errno));
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
        log_error("build cache: %s: %s", shown(k), la_error(k->w));
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
        log_error("build cache: %s: %s", shown(k), strerror(errno));
        close(fd);
        return -1;
    }
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (len + 1 + n >= sizeof k->path) {
            k->path[len] = '\0';
            log_error("build cache: %s: a path below it is longer than %d bytes; name this folder "
                      "or one above it "
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
        log_error("build cache: %s: %s", shown(k), strerror(errno));
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
        log_error("build cache: %.64s…: the path is longer than %d bytes", top, PATH_MAX - 1);
        return -1;
    }
    parts = xstrdup(top);
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
                log_warn("CC_OVERRIDE_BUILDCACHE: %s: %.*s is a symbolic link, which the archive "
                         "never follows; left out (name the folder it points to, inside the root)",
                         top, (int)(slash - parts), parts);
            else
                log_warn("CC_OVERRIDE_BUILDCACHE: %s: %s; left out", top, strerror(err));
            goto out;
        }
        if (dirfd != rootfd)
            close(dirfd);
        dirfd = fd;
        name = slash + 1;
    }
    if (override && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        log_warn("CC_OVERRIDE_BUILDCACHE: %s: %s; left out", top, strerror(errno));
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
        log_error("build cache: %s: %s", root, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;

        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, ".git") == 0 ||
            strncmp(n, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0)
            continue;
        out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n] = xstrdup(n);
        out->n++;
    }
    closedir(d);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
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
            char *part = xasprintf("%.*s", (int)(slash - path), path);
            struct stat st;
            bool link = fstatat(rootfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            if (link)
                log_info(
                    "build cache: CC_IGNORE_FROM_BUILDCACHE: %s: %s is a symbolic link, archived "
                    "as one (its target never is)",
                    path, part);
            free(part);
            if (link)
                break;
        }
    }
}

/*
 * K's writer, its archive going to SINK (hashed on the way), with the walk's working folder
 * BASEFD (shown as SHOWN): the same set-up for the build archive and a dependency archive.
 * 0, or -1 reported; writer_close frees it either way.
 */
static int writer_open(struct walk *k, struct sink *sink, int basefd, const char *shown)
{
    char threads[16];

    k->w = archive_write_new();
    k->links = archive_entry_linkresolver_new();
    k->e = archive_entry_new();
    k->buf = xmalloc(WALK_BUF);
    sink->hash = hash_new();
    if (!k->w || !k->links || !k->e)
        out_of_memory();
    snprintf(threads, sizeof threads, "%ld", zstd_threads());
    /* pax, not pax_restricted: only pax records carry the mtime's sub-second part. */
    archive_write_set_format_pax(k->w);
    archive_entry_linkresolver_set_strategy(k->links, archive_format(k->w));
    archive_write_add_filter_zstd(k->w);
    archive_write_set_filter_option(k->w, "zstd", "threads", threads);
    archive_write_set_bytes_per_block(k->w, 128 * 1024);
    archive_write_set_bytes_in_last_block(k->w, 1);
    if (fchdir(basefd) < 0 ||
        archive_write_open2(k->w, sink, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
        log_error("build cache: %s: %s", shown,
                  archive_error_string(k->w) ? archive_error_string(k->w) : strerror(errno));
        return -1;
    }
    return 0;
}

/* The archive's end written when RC is 0, K's writer freed; the tally's hash and size. RC. */
static int writer_close(struct walk *k, struct sink *sink, int rc)
{
    struct stat st;

    if (!k->w)
        return rc;
    if (rc == 0 && archive_write_close(k->w) != ARCHIVE_OK) {
        log_error("build cache: archive: %s", la_error(k->w));
        rc = -1;
    }
    archive_write_free(k->w);
    archive_entry_linkresolver_free(k->links);
    archive_entry_free(k->e);
    free(k->buf);
    hash_end(sink->hash, k->t->sha256);
    if (rc == 0 && fstat(sink->fd, &st) == 0)
        k->t->bytes = (uint64_t)st.st_size;
    return rc;
}

int pack_root(int rootfd, const char *root, int fd, struct tally *t)
{
    struct paths tops = {0}, ignore = {0};
    struct walk k = {.ignore = &ignore, .t = t};
    struct sink sink = {.fd = fd};
    bool override = env_set("CC_OVERRIDE_BUILDCACHE");
    int rc = 0;

    if (env_set("IGNORE_FROM_BUILDCACHE")) {
        log_warn("IGNORE_FROM_BUILDCACHE is deprecated; name it CC_IGNORE_FROM_BUILDCACHE");
        paths_read("IGNORE_FROM_BUILDCACHE", &ignore, true);
    }
    paths_read("CC_IGNORE_FROM_BUILDCACHE", &ignore, true);
    note_linked_ignores(rootfd, &ignore);
    if (override)
        paths_read("CC_OVERRIDE_BUILDCACHE", &tops, false);
    else if (top_entries(rootfd, root, &tops) < 0)
        rc = -1;
    if (rc == 0)
        rc = writer_open(&k, &sink, rootfd, root);
    for (size_t i = 0; rc == 0 && i < tops.n; i++)
        if (!path_under(tops.v[i], &ignore))
            rc = add_tree(&k, rootfd, tops.v[i], override);
    paths_free(&tops);
    paths_free(&ignore);
    return writer_close(&k, &sink, rc);
}

int pack_paths(int basefd, const char *shown, int fd, char *const *names, size_t n, struct tally *t)
{
    struct paths ignore = {0};
    struct walk k = {.ignore = &ignore, .t = t};
    struct sink sink = {.fd = fd};
    int rc = writer_open(&k, &sink, basefd, shown);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_tree(&k, basefd, names[i], false);
    return writer_close(&k, &sink, rc);
}
