/*
 * store.c — where archives live: a local folder (temporary file + rename, its folders checked
 * to be ours), or a server (remote.c); the same calls for both.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "../storespec.h"
#include "env.h"
#include "store.h"
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "index"
#define INDEX_MAX  (1 << 20)

static char *tmp_name; /* local: the temporary file being written */

/* A folder of the store must be ours (or root's) and writable by nobody else. */
static int folder_check(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        log_error("build cache: %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        log_error(
            "build cache: %s: owned by uid %u, not by this user (uid %u): another user could swap "
            "archives; chown %u %s or choose another cache folder",
            path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
        return -1;
    }
    if (st.st_mode & 022) {
        log_error(
            "build cache: %s: writable by group or others: they could swap archives; chmod go-w %s",
            path, path);
        return -1;
    }
    return 0;
}

/*
 * With CREATE, mkdir -p DIR, each new folder 0700; then DIR opened through no symlink at its
 * last part. An fd; -2 when DIR does not exist and CREATE is false; -1 after reporting.
 */
static int open_folder(const char *dir, bool create)
{
    char *p = xstrdup(dir);
    int fd;

    for (char *s = strchr(p + 1, '/'); create; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            log_error("build cache: %s: cannot create the cache folder: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        if (!s)
            break;
        *s = '/';
    }
    free(p);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !create)
        return -2;
    if (fd < 0) {
        log_error("build cache: %s: cannot open the cache folder: %s", dir,
                  errno == ELOOP || errno == ENOTDIR ? "not a folder (a symbolic link?)"
                                                     : strerror(errno));
        return -1;
    }
    if (folder_check(fd, dir) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A restore, list or prune creates nothing: a store not there yet simply holds no archive. */
static int open_local(struct store *s, bool create)
{
    int top = open_folder(s->spec.dir, create);
    char *shown;

    if (top == -2) {
        s->absent = true;
        return 0;
    }
    if (top < 0)
        return -1;
    shown = xasprintf("%s/%s", s->spec.dir, s->app);
    if (create && mkdirat(top, s->app, 0700) < 0 && errno != EEXIST) {
        log_error("build cache: %s: %s", shown, strerror(errno));
        goto fail;
    }
    s->dirfd = openat(top, s->app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s->dirfd < 0 && errno == ENOENT && !create) {
        s->absent = true;
        close(top);
        free(shown);
        return 0;
    }
    if (s->dirfd < 0) {
        log_error("build cache: %s: %s", shown, strerror(errno));
        goto fail;
    }
    if (folder_check(s->dirfd, shown) < 0)
        goto fail;
    close(top);
    free(shown);
    return 0;
fail:
    close(top);
    free(shown);
    return -1;
}

int store_open(struct store *s, const char *spec, const char *app, bool create)
{
    char err[256];

    memset(s, 0, sizeof *s);
    s->dirfd = s->lock_fd = -1;
    if (store_spec_parse(spec, &s->spec, err, sizeof err) < 0) {
        char *shown = store_spec_shown(spec);

        log_error("build cache: cache store '%s': %s", shown, err);
        free(shown);
        return -1;
    }
    s->app = store_name(app);
    if (s->spec.kind == STORE_LOCAL)
        return open_local(s, create);
    if (s->spec.kind == STORE_S3 &&
        (!env_set("AWS_ACCESS_KEY_ID") || !env_set("AWS_SECRET_ACCESS_KEY"))) {
        log_error("build cache: %s: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; "
                  "export the "
                  "store's access key and secret",
                  s->spec.shown);
        return -1;
    }
    return remote_open(s);
}

void store_close(struct store *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    remote_close(s);
    free(s->app);
    store_spec_free(&s->spec);
}

/* An unnamed temporary file under $TMPDIR (else /tmp), removed when closed. */
static int anon_tmp(void)
{
    const char *dir = getenv("TMPDIR");
    char *path;
    int fd;

    if (!dir || dir[0] != '/')
        dir = "/tmp";
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    path = xasprintf("%s/ccwrap-cache.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    else
        log_error("build cache: %s: cannot create a temporary file: %s", dir, strerror(errno));
    free(path);
    return fd;
}

char *store_where(const struct store *s, const char *name)
{
    char *t;

    t = xasprintf(s->spec.kind == STORE_LOCAL ? "%s/%s/%s" : "%s%s/%s", s->spec.shown, s->app,
                  name);
    return t;
}

int store_fetch(struct store *s, const char *name, int *fd)
{
    struct body b = {.out = -1, .in = -1};
    char *shown;
    long code;

    if (s->spec.kind == STORE_LOCAL) {
        if (s->absent)
            return 1;
        *fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (*fd >= 0)
            return 0;
        if (errno == ENOENT)
            return 1;
        shown = store_where(s, name);
        log_error("build cache: %s: %s", shown, strerror(errno));
        free(shown);
        return -1;
    }
    b.out = anon_tmp();
    if (b.out < 0)
        return -1;
    code = remote_request(s, "GET", name, &b, 0);
    if (code == 200 && lseek(b.out, 0, SEEK_SET) == 0) {
        *fd = b.out;
        return 0;
    }
    close(b.out);
    if (code == 404 && s->spec.kind == STORE_S3 && strstr(b.text, "<Code>NoSuchBucket</Code>")) {
        log_error("build cache: no such bucket: %s (HTTP 404 NoSuchBucket); create the bucket or "
                  "fix the cache "
                  "setting",
                  s->spec.shown);
        return FETCH_NO_STORE;
    }
    if (code == 404)
        return FETCH_MISSING;
    remote_refused(s, &b, code, "GET", name);
    return code == 401 || code == 403 ? FETCH_REFUSED : -1;
}

int store_tmp(struct store *s)
{
    int fd;

    if (s->spec.kind != STORE_LOCAL)
        return anon_tmp();
    free(tmp_name);
    tmp_name = xasprintf(".tmp.%d.%lld", (int)getpid(), (long long)now_ms());
    fd = openat(s->dirfd, tmp_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        log_error("build cache: %s/%s/%s: %s", s->spec.dir, s->app, tmp_name, strerror(errno));
    return fd;
}

void store_discard(struct store *s, int fd)
{
    if (s->spec.kind == STORE_LOCAL && tmp_name)
        unlinkat(s->dirfd, tmp_name, 0);
    close(fd);
}

int store_commit(struct store *s, int fd, const char *name)
{
    struct body b = {.out = -1, .in = fd};
    struct stat st;
    char *shown;
    long code;

    if (s->spec.kind == STORE_LOCAL) {
        /*
         * No fsync: an archive a crash truncates is a corrupt one, which a restore reports
         * and replaces by a full build; waiting for the disk would double a save's time.
         */
        if (renameat(s->dirfd, tmp_name, s->dirfd, name) < 0) {
            shown = store_where(s, name);
            log_error("build cache: %s: %s", shown, strerror(errno));
            free(shown);
            store_discard(s, fd);
            return -1;
        }
        close(fd);
        return 0;
    }
    if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        log_error("build cache: temporary archive: %s", strerror(errno));
        close(fd);
        return -1;
    }
    code = remote_request(s, "PUT", name, &b, (int64_t)st.st_size);
    close(fd);
    if (code >= 200 && code < 300)
        return 0;
    remote_refused(s, &b, code, "PUT", name);
    return -1;
}

int store_remove(struct store *s, const char *name)
{
    struct body b = {.out = -1, .in = -1};
    char *shown;
    long code;

    if (s->spec.kind == STORE_LOCAL) {
        if (unlinkat(s->dirfd, name, 0) == 0 || errno == ENOENT)
            return 0;
        shown = store_where(s, name);
        log_error("build cache: %s: %s", shown, strerror(errno));
        free(shown);
        return -1;
    }
    code = remote_request(s, "DELETE", name, &b, 0);
    if ((code >= 200 && code < 300) || code == 404)
        return 0;
    remote_refused(s, &b, code, "DELETE", name);
    return -1;
}

int store_index_read(struct store *s, char **text)
{
    int rc = store_fetch_text(s, INDEX_NAME, text, INDEX_MAX);

    return rc == 0 || rc == FETCH_MISSING ? 0 : -1;
}

int store_fetch_text(struct store *s, const char *name, char **text, size_t max)
{
    int fd, rc = store_fetch(s, name, &fd);
    size_t n = 0;
    char *buf;

    *text = NULL;
    if (rc != 0)
        return rc;
    buf = xmalloc(max + 1);
    for (;;) {
        ssize_t r = read(fd, buf + n, max - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == max)
            break;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    return 0;
}

int store_index_write(struct store *s, const char *text)
{
    return store_put_text(s, INDEX_NAME, text);
}

int store_put_text(struct store *s, const char *name, const char *text)
{
    int fd = store_tmp(s);
    size_t len = strlen(text), off = 0;

    if (fd < 0)
        return -1;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_error("build cache: %s: %s", name, strerror(errno));
            store_discard(s, fd);
            return -1;
        }
        off += (size_t)w;
    }
    return store_commit(s, fd, name);
}

void store_lock(struct store *s)
{
    if (s->spec.kind != STORE_LOCAL || s->lock_fd >= 0)
        return;
    s->lock_fd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (s->lock_fd >= 0)
        flock(s->lock_fd, LOCK_EX);
}
