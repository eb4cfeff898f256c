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
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
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
            fail("%s: %s", shown(k), archive_error_string(k->w));
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
        fail("%s: %s", shown(k), archive_error_string(k->w));
        rc = -1;
        goto out;
    }
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
    archive_write_set_format_pax_restricted(w);
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
        fail("archive: %s", archive_error_string(w));
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
