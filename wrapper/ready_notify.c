/*
 * ready_notify.c — sd_notify, both ways (§5.3): the datagram socket ccwrap listens on for
 * the application's READY=1 (readiness "notify", systemd's NotifyAccess=all), and READY=1 sent
 * to the service manager's own NOTIFY_SOCKET once the application is ready.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "tree.h"
#include "listen.h"
#include "ready.h"
#include "ready_notify.h"
#include "ready_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_MAX 4096
/* Datagrams read per call, so that a chatty application cannot starve the run loop. */
#define NOTIFY_BURST 64

/* The abstract namespace leaves nothing on disk to clean up, even after a crash. */
int ready_prepare(struct ready *r)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    uint64_t rnd;
    int fd;

    if (r->kind != READY_NOTIFY || r->notify_fd >= 0)
        return 0;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        log_error("cannot create the notify socket: %s", strerror(errno));
        return -1;
    }
    /* Its abstract name is visible to every local process: each datagram says who sent it. */
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) < 0) {
        log_error("cannot ask the notify socket for its senders' credentials: %s", strerror(errno));
        close(fd);
        return -1;
    }
    for (int tries = 0;; tries++) {
        int n;

        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
            rnd = (uint64_t)now_ms() * 6364136223846793005u + (uint64_t)tries;
        n = snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1, "ccwrap-notify-%ld-%016" PRIx64,
                     (long)getpid(), rnd);
        if (bind(fd, (struct sockaddr *)&sun,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0) {
            r->notify_path = xasprintf("@%s", sun.sun_path + 1);
            r->notify_fd = fd;
            return 0;
        }
        if (errno != EADDRINUSE || tries >= 8) {
            log_error("@%s: cannot bind the notify socket: %s", sun.sun_path + 1, strerror(errno));
            close(fd);
            return -1;
        }
    }
}
/* sd_notify datagrams are NAME=value lines; only an exact READY=1 line counts. */
static bool has_ready_line(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = (size_t)((nl ? nl : end) - p);

        if (l == 7 && memcmp(p, "READY=1", 7) == 0)
            return true;
        p += l + 1;
    }
    return false;
}

/*
 * systemd's NotifyAccess=all: the application or a process below it. A sender that is gone
 * already (systemd-notify exits at once) is taken at its word only when it had the
 * application's user; a process of another PID namespace shows as pid 0 and never counts.
 */
static bool from_app(const struct ready *r, const struct ucred *cred)
{
    char path[64];
    struct stat st;

    if (!cred || cred->pid <= 0)
        return false;
    /*
     * The sender's pid may have ended and been reused by the application since: its uid must
     * also be the one the process of that pid in the tree runs as now (doc/readiness.md).
     */
    if (tree_has(r->app, cred->pid))
        return pid_runs_as(cred->pid, cred->uid);
    snprintf(path, sizeof path, "/proc/%d", (int)cred->pid);
    if (stat(path, &st) == 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d", (int)r->app);
    return stat(path, &st) == 0 && st.st_uid == cred->uid;
}

/* One datagram and the credentials the kernel attached to it; its length, or -1. */
static ssize_t notify_recv(int fd, char *buf, size_t len, struct ucred *cred, bool *has_cred)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

    *has_cred = false;
    if (n < 0)
        return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            /* Descriptors are not for us (FDSTORE=1): close them. */
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (size_t i = 0; i < k; i++) {
                int fd_in;

                memcpy(&fd_in, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                close(fd_in);
            }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                   c->cmsg_len >= CMSG_LEN(sizeof *cred)) {
            memcpy(cred, CMSG_DATA(c), sizeof *cred);
            *has_cred = true;
        }
    }
    return n;
}

int notify_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd, int64_t *next)
{
    char buf[NOTIFY_MAX], name[64];

    if (r->notify_fd < 0)
        return 0;
    for (int i = 0; i < NOTIFY_BURST; i++) {
        struct ucred cred;
        bool has_cred;
        ssize_t n = notify_recv(r->notify_fd, buf, sizeof buf, &cred, &has_cred);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            want(pfd, r->notify_fd, POLLIN);
            return 0;
        }
        if (!has_ready_line(buf, (size_t)n))
            continue;
        if (!from_app(r, has_cred ? &cred : NULL)) {
            if (!p->foreign_notify)
                log_warn("NOTIFY_SOCKET: READY=1 from pid %d (%s), which is not the "
                         "application or below it; ignored",
                         has_cred ? (int)cred.pid : 0,
                         has_cred ? pid_name(cred.pid, name, sizeof name) : "?");
            p->foreign_notify = true;
            continue;
        }
        /*
         * Nobody reads the socket after this: an application that goes on notifying
         * (STATUS=, WATCHDOG=1) would block in sd_notify once the queue is full. Closed,
         * its sends fail at once instead, which sd_notify's callers ignore.
         */
        close(r->notify_fd);
        r->notify_fd = -1;
        p->ready = true;
        return 1;
    }
    want(pfd, r->notify_fd, POLLIN);
    *next = now;
    return 0;
}
int notify_send(const char *addr, const char *msg)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    /* systemd reads promptly; the bound only guards against a peer that stopped reading. */
    struct timeval tv = {.tv_sec = 1};
    size_t len = addr ? strlen(addr) : 0;
    socklen_t salen;
    ssize_t n;
    int fd, e;

    if (len == 0 || len >= sizeof sun.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sun.sun_path, addr, len);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (addr[0] == '@')
        sun.sun_path[0] = '\0';
    else
        salen++;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, salen);
    e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(msg) ? 0 : -1;
}
