/*
 * log.c — the JSON-lines event log (--events). The messages themselves are msg.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int events_fd = -1;
static char *events_path;
static bool events_failed, events_dropped;

/*
 * The event log never steers ccwrap: not followed through a symlink (root would append to
 * whatever it names), never waited on (a FIFO without a reader, a reader that stops reading).
 */
/*
 * PATH's folder, opened one component at a time from / or the working folder, never through a
 * symbolic link: a link another user plants on the way (a folder they may write) cannot send
 * root's file elsewhere, and what was opened cannot be swapped afterwards. Its descriptor and
 * *base, the file's name in it; or -1 with errno set, or with *why (allocated) for a link.
 */
static int open_folder(const char *path, const char **base, char **why)
{
    const char *slash = strrchr(path, '/');
    int fd = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    *base = slash ? slash + 1 : path;
    *why = NULL;
    for (const char *p = path + strspn(path, "/"); fd >= 0 && slash && p < slash;) {
        size_t n = strcspn(p, "/");
        char *name = strndup(p, n);
        struct stat st;
        int nfd = name ? openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;

        free(name);
        close(fd);
        fd = nfd;
        if (fd >= 0 && fstat(fd, &st) < 0) {
            int e = errno;

            close(fd);
            errno = e;
            return -1;
        }
        if (fd >= 0 && S_ISLNK(st.st_mode)) {
            *why = xasprintf("its folder %.*s is a symbolic link, which is not followed; name "
                             "the real folder",
                             (int)(p + n - path), path);
            close(fd);
            return -1;
        }
        if (fd >= 0 && !S_ISDIR(st.st_mode)) {
            close(fd);
            errno = ENOTDIR;
            return -1;
        }
        p += n;
        p += strspn(p, "/");
    }
    return fd;
}

int events_open(const char *path)
{
    struct stat st;
    const char *why = NULL, *base;
    char *link_why = NULL;
    int dirfd;

    if (!path || !*path)
        return 0;
    dirfd = open_folder(path, &base, &link_why);
    events_fd =
        dirfd < 0
            ? -1
            : openat(dirfd, base,
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (dirfd >= 0) {
        int e = errno;

        close(dirfd);
        errno = e;
    }
    if (link_why)
        why = link_why;
    else if (events_fd < 0)
        why = errno == ELOOP   ? "a symbolic link, which is not followed; name the file itself"
              : errno == ENXIO ? "nothing reads this FIFO or socket; start the reader first"
                               : strerror(errno);
    else if (fstat(events_fd, &st) < 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) &&
             !S_ISCHR(st.st_mode))
        why = "not a file, FIFO or socket; name a file";
    if (why) {
        log_warn("%s: cannot open the event log, going on without it: %s", path, why);
        if (events_fd >= 0)
            close(events_fd);
        events_fd = -1;
        free(link_why);
        return -1;
    }
    events_path = xstrdup(path);
    return 0;
}

bool events_enabled(void)
{
    return events_fd >= 0;
}

void events_close(void)
{
    if (events_fd >= 0)
        close(events_fd);
    events_fd = -1;
    free(events_path);
    events_path = NULL;
}

/* Hook names may hold any byte: bytes that are not UTF-8 become U+FFFD, as a terminal shows them.
 */
static json_t *json_text(const char *s)
{
    json_t *j;
    char *clean, *q;

    if (!s)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    clean = q = xmalloc(strlen(s) * 3 + 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            *q++ = (char)*p;
        } else {
            memcpy(q, "\xef\xbf\xbd", 3);
            q += 3;
        }
    }
    *q = '\0';
    j = json_string(clean);
    free(clean);
    return j ? j : json_null();
}

void events_emit(const char *type, ...)
{
    json_t *o;
    va_list ap;
    const char *key;
    struct timeval tv;
    char *line;

    if (events_fd < 0)
        return;
    o = json_object();
    json_object_set_new(o, "event", json_string(type));
    va_start(ap, type);
    while ((key = va_arg(ap, const char *)) != NULL) {
        switch (key[0]) {
        case 's':
            json_object_set_new(o, key + 1, json_text(va_arg(ap, const char *)));
            break;
        case 'i':
            json_object_set_new(o, key + 1, json_integer(va_arg(ap, int64_t)));
            break;
        case 'b':
            json_object_set_new(o, key + 1, json_boolean(va_arg(ap, int)));
            break;
        }
    }
    va_end(ap);
    gettimeofday(&tv, NULL);
    json_object_set_new(o, "time", json_real((double)tv.tv_sec + (double)tv.tv_usec / 1e6));
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    size_t len = strlen(line);
    line[len] = '\n';
    errno = 0;
    if (write(events_fd, line, len + 1) == (ssize_t)(len + 1)) {
        /* written */
    } else if (errno == EAGAIN) {
        if (!events_dropped)
            log_warn("%s: the event log's reader is not keeping up; events are dropped, "
                     "ccwrap does not wait for it",
                     events_path);
        events_dropped = true;
    } else if (!events_failed) {
        events_failed = true;
        log_warn("%s: cannot write the event log: %s", events_path,
                 errno ? strerror(errno) : "short write");
    }
    free(line);
}
