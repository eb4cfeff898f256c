/*
 * ready_probe.c — the tcp and http readiness probes (§5.3): a non-blocking state machine
 * the run loop drives with poll (resolve, connect, send a GET, read the status line), and, for
 * tcp without a host, the check that the port is held by the application's own tree on an
 * address the outside can reach (listen.c tells who listens).
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
#include "ready_probe.h"
#include "ready_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An application that answers, but not yet with success, is busy starting: spare its logs a little.
 */
#define ANSWER_INTERVAL_MS 25
/* A connection or an answer slower than this counts as "not yet", and the probe starts over. */
#define ANSWER_TIMEOUT_MS 1000
/* A port held by the wrong process, or on loopback only, changes slowly: look less often. */
#define OWNER_INTERVAL_MS 50
/* A name that does not resolve is not worth asking the resolver about more often. */
#define RESOLVE_INTERVAL_MS 1000
/* Transitions one call may make before handing control back to the run loop. */
#define STEP_BUDGET 16

void probe_addrs_take(struct probe *p, const struct addrinfo *res, int port)
{
    size_t n = 0;

    for (const struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    free(p->addrs);
    p->addrs = xcalloc(n, sizeof *p->addrs);
    p->n_addrs = 0;
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        struct addr *d = &p->addrs[p->n_addrs];

        if (a->ai_addrlen > sizeof d->ss)
            continue;
        memcpy(&d->ss, a->ai_addr, a->ai_addrlen);
        d->len = a->ai_addrlen;
        if (d->ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&d->ss)->sin_port = htons((uint16_t)port);
        else if (d->ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&d->ss)->sin6_port = htons((uint16_t)port);
        else
            continue;
        p->n_addrs++;
    }
}

static void probe_close(struct probe *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->phase = PH_IDLE;
}

static void probe_later(struct probe *p, int64_t now, int64_t after)
{
    probe_close(p);
    p->retry_at = now + after;
}

/*
 * A name is resolved by glibc's resolver thread (getaddrinfo_a), never in the run loop: a slow
 * DNS server must not delay a signal relayed to the application. Once resolved, the addresses
 * are kept; after a failure it asks again RESOLVE_INTERVAL_MS later. 0 with addresses, -1 not
 * yet (p->resolve_at says when to look again).
 */
static int resolve(struct ready *r, struct probe *p, int64_t now)
{
    struct gaicb *list[1];
    int e;

    if (!p->by_name || p->n_addrs > 0)
        return 0;
    if (p->lookup) {
        e = gai_error(&p->lookup->cb);
        if (e == EAI_INPROGRESS) {
            p->resolve_at = now + PROBE_INTERVAL_MS;
            return -1;
        }
        p->gai_error = e;
        if (e == 0) {
            probe_addrs_take(p, p->lookup->cb.ar_result, r->port);
            freeaddrinfo(p->lookup->cb.ar_result);
        } else if (e == EAI_SYSTEM) {
            p->last_errno = errno;
        }
        free(p->lookup);
        p->lookup = NULL;
        if (e == 0 && p->n_addrs > 0)
            return 0;
        p->resolve_at = now + RESOLVE_INTERVAL_MS;
        return -1;
    }
    if (now < p->resolve_at)
        return -1;
    p->lookup = xcalloc(1, sizeof *p->lookup);
    snprintf(p->lookup->service, sizeof p->lookup->service, "%d", r->port);
    snprintf(p->lookup->name, sizeof p->lookup->name, "%s", r->host);
    p->lookup->hints = (struct addrinfo){.ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    p->lookup->cb.ar_name = p->lookup->name;
    p->lookup->cb.ar_service = p->lookup->service;
    p->lookup->cb.ar_request = &p->lookup->hints;
    list[0] = &p->lookup->cb;
    e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (e != 0) {
        p->gai_error = e;
        free(p->lookup);
        p->lookup = NULL;
        p->resolve_at = now + RESOLVE_INTERVAL_MS;
        return -1;
    }
    p->resolve_at = now + PROBE_INTERVAL_MS;
    return -1;
}

/* Starts a connection to the next address in turn; false when none is left. */
static bool connect_next(struct probe *p, int64_t now)
{
    for (; p->addr_i < p->n_addrs; p->addr_i++) {
        const struct addr *a = &p->addrs[p->addr_i];
        int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            p->last_errno = errno;
            continue;
        }
        if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0 || errno == EINPROGRESS) {
            p->fd = fd;
            p->phase = PH_CONNECTING;
            p->deadline = now + ANSWER_TIMEOUT_MS;
            return true;
        }
        p->last_errno = errno;
        close(fd);
    }
    return false;
}

/* 1 connected, 0 still connecting, -1 refused (the reason in last_errno). Never waits. */
static int connect_result(struct probe *p)
{
    struct pollfd q = {.fd = p->fd, .events = POLLOUT};
    socklen_t len = sizeof(int);
    int e = 0;

    if (poll(&q, 1, 0) <= 0)
        return 0;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e) {
        p->last_errno = e;
        return -1;
    }
    return 1;
}

/* Prepares the GET the probe needs next; false when an accepted connection is enough. */
static bool request_begin(struct ready *r, struct probe *p, int64_t now)
{
    const char *path;

    if (r->kind == READY_HTTP)
        path = r->path;
    else if (p->health_i < r->n_health)
        path = r->health_paths[p->health_i];
    else
        return false;
    free(p->request);
    p->request = xasprintf("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: ccwrap\r\n"
                           "Connection: close\r\n\r\n",
                           path, p->authority);
    p->request_len = strlen(p->request);
    p->sent = 0;
    p->answer_len = 0;
    p->phase = PH_SENDING;
    p->deadline = now + ANSWER_TIMEOUT_MS;
    return true;
}

/*
 * "HTTP/1.1 200 OK": the status. Only the first line counts: a version that runs into the
 * next line is no status line, whatever digits a header holds.
 */
int http_status_parse(const char *s, size_t len)
{
    size_t i = 5;
    int status = 0;

    if (len < 5 || memcmp(s, "HTTP/", 5) != 0)
        return -1;
    while (i < len && s[i] > ' ' && s[i] < 0x7f)
        i++;
    if (i == 5 || i >= len || s[i] != ' ')
        return -1;
    while (i < len && s[i] == ' ')
        i++;
    for (int digits = 0; digits < 3; digits++, i++) {
        if (i >= len || s[i] < '0' || s[i] > '9')
            return -1;
        status = status * 10 + (s[i] - '0');
    }
    if (i < len && s[i] != ' ' && s[i] != '\r' && s[i] != '\n')
        return -1;
    return status >= 100 ? status : -1;
}

static int status_parse(const char *s, size_t len)
{
    int status = http_status_parse(s, len);

    return status < 0 ? ANS_GARBLED : status;
}

/* One exchange is over: 1 when it makes the application ready. */
static int answered(struct ready *r, struct probe *p, int64_t now, int status)
{
    bool ok = r->kind == READY_HTTP ? status >= 200 && status <= 399 : status == 200;

    probe_close(p);
    p->last_answer = status;
    if (!ok) {
        p->retry_at = now + (status > 0 ? ANSWER_INTERVAL_MS : PROBE_INTERVAL_MS);
        return 0;
    }
    if (r->kind == READY_TCP && ++p->health_i < r->n_health) {
        p->last_answer = ANS_NONE;
        p->retry_at = now;
        return 0;
    }
    p->ready = true;
    return 1;
}

/* /proc cannot tell who listens: say so once, and probe with a plain connection instead. */
static int owner_unknown(struct ready *r, struct probe *p, const char *why)
{
    log_warn("cannot tell which process listens on port %d (%s); readiness is a plain "
             "connection to %s instead",
             r->port, why, p->authority);
    p->owned = false;
    return 1;
}

bool probe_held_before(const struct probe *p, unsigned long inode)
{
    for (size_t i = 0; i < p->n_before; i++)
        if (p->before[i] == inode)
            return true;
    return false;
}

/*
 * Without CAP_SYS_PTRACE another user's descriptors cannot be read (Docker's default set, an
 * application run through setpriv or gosu): a listener counts when its owner, as sock_diag
 * reports it, is a user a process of the application's tree runs as, and when it was not
 * there before the application started. Another user's listener never makes it ready.
 */
static void held_by_uid(struct ready *r, struct probe *p, const struct listener *v, size_t n,
                        bool *held, const char *why)
{
    if (!p->by_uid)
        log_warn("cannot tell which process listens on port %d (%s); a listener there counts "
                 "when its owner runs the application and it was not there before it started",
                 r->port, why);
    p->by_uid = true;
    for (size_t i = 0; i < n; i++)
        held[i] = !probe_held_before(p, v[i].inode) && tree_has_uid(r->app, v[i].uid);
}

/* Health paths of an application listening on one address are asked there. */
static void addrs_from_listener(struct probe *p, const struct listener *l, int port)
{
    struct addr *a = xcalloc(1, sizeof *a);

    if (l->v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        memcpy(&s6->sin6_addr, l->addr, 16);
        a->len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        memcpy(&s4->sin_addr, l->addr, 4);
        a->len = sizeof *s4;
    }
    free(p->addrs);
    p->addrs = a;
    p->n_addrs = 1;
}

/*
 * tcp without a host: ready only when a process of the application's own tree listens on the
 * port on a wildcard address (or on one outside address: reachable there). 1 when it does,
 * 0 when not yet (p->own says why, p->retry_at when to look again).
 */
static int owner_check(struct ready *r, struct probe *p, int64_t now)
{
    struct listener *v;
    size_t n;
    bool *held;
    int found = -1, loopback = -1;

    if (listeners_find(r->port, &v, &n) < 0)
        return owner_unknown(r, p, "/proc/net/tcp cannot be read");
    if (n == 0) {
        free(v);
        p->own = OWN_NOTHING;
        p->retry_at = now + PROBE_INTERVAL_MS;
        return 0;
    }
    held = xcalloc(n, sizeof *held);
    if (p->by_uid || tree_holds(r->app, v, n, held) < 0) {
        char e[160];

        snprintf(e, sizeof e, "the application's descriptors cannot be read: %s", strerror(errno));
        held_by_uid(r, p, v, n, held, e);
    }
    for (size_t i = 0; i < n; i++) {
        if (!held[i])
            continue;
        if (listener_scope(&v[i]) == LS_LOOPBACK)
            loopback = (int)i;
        else if (found < 0 || listener_scope(&v[i]) == LS_WILDCARD)
            found = (int)i;
    }
    if (found >= 0) {
        p->own = OWN_OK;
        if (listener_scope(&v[found]) == LS_ADDRESS)
            addrs_from_listener(p, &v[found], r->port);
    } else if (loopback >= 0) {
        p->own = OWN_LOOPBACK;
        free(p->own_where);
        p->own_where = listener_text(&v[loopback], r->port);
    } else {
        p->own = OWN_OTHER;
        p->foreign_inode = v[0].inode;
        p->foreign_uid = v[0].uid;
    }
    if (p->own != OWN_OK)
        p->retry_at = now + OWNER_INTERVAL_MS;
    free(held);
    free(v);
    return p->own == OWN_OK;
}

/* Who holds the port, looked up once per socket: reading every descriptor table is slow. */
pid_t probe_holder(struct probe *p)
{
    if (p->holder_inode != p->foreign_inode) {
        p->holder_inode = p->foreign_inode;
        p->holder = socket_holder(p->foreign_inode);
    }
    return p->holder;
}

void ready_precheck(struct ready *r)
{
    struct probe *p = r->state;
    struct listener *v;
    size_t n;
    char name[64];
    pid_t holder;

    if (r->kind != READY_TCP || !p || !p->owned || listeners_find(r->port, &v, &n) < 0)
        return;
    /* What listens before the application starts is never the application's (owner_check). */
    p->before = xcalloc(n + 1, sizeof *p->before);
    for (size_t i = 0; i < n; i++)
        p->before[p->n_before++] = v[i].inode;
    if (n > 0) {
        holder = socket_holder(v[0].inode);
        if (holder > 0)
            log_warn("port %d is already in use by pid %d (%s) before the application starts; "
                     "stop that process or choose another PORT",
                     r->port, (int)holder, pid_name(holder, name, sizeof name));
        else
            log_warn("port %d is already in use by another process before the application "
                     "starts; stop that process or choose another PORT",
                     r->port);
    }
    free(v);
}
/* tcp and http: connect, then (health paths, http) send a GET and read the status line. */
int probe_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd, int64_t *next)
{
    for (int budget = STEP_BUDGET; budget > 0; budget--) {
        ssize_t n;

        switch (p->phase) {
        case PH_IDLE:
            if (now < p->retry_at) {
                *next = p->retry_at;
                return 0;
            }
            if (p->owned && p->own != OWN_OK && r->app > 0) {
                if (!owner_check(r, p, now))
                    continue;
                if (p->owned && r->n_health == 0) {
                    p->port_open = true;
                    p->ready = true;
                    return 1;
                }
            }
            if (resolve(r, p, now) < 0) {
                p->port_open = false;
                p->retry_at = p->resolve_at;
                continue;
            }
            p->gai_error = 0;
            p->addr_i = 0;
            if (!connect_next(p, now)) {
                p->port_open = false;
                probe_later(p, now, PROBE_INTERVAL_MS);
            }
            continue;
        case PH_CONNECTING:
            switch (connect_result(p)) {
            case 0:
                if (now < p->deadline) {
                    want(pfd, p->fd, POLLOUT);
                    *next = p->deadline;
                    return 0;
                }
                p->last_errno = ETIMEDOUT;
                /* fall through */
            case -1:
                probe_close(p);
                p->addr_i++;
                if (!connect_next(p, now)) {
                    p->port_open = false;
                    probe_later(p, now, PROBE_INTERVAL_MS);
                }
                continue;
            }
            p->port_open = true;
            if (!request_begin(r, p, now)) {
                probe_close(p);
                p->ready = true;
                return 1;
            }
            continue;
        case PH_SENDING:
            n = send(p->fd, p->request + p->sent, p->request_len - p->sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                if (now >= p->deadline) {
                    answered(r, p, now, ANS_TIMEOUT);
                    continue;
                }
                want(pfd, p->fd, POLLOUT);
                *next = p->deadline;
                return 0;
            }
            if (n < 0) {
                answered(r, p, now, ANS_CLOSED);
                continue;
            }
            p->sent += (size_t)n;
            if (p->sent == p->request_len)
                p->phase = PH_READING;
            continue;
        case PH_READING:
            n = recv(p->fd, p->answer + p->answer_len, sizeof p->answer - p->answer_len,
                     MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                if (now >= p->deadline) {
                    answered(r, p, now, ANS_TIMEOUT);
                    continue;
                }
                want(pfd, p->fd, POLLIN);
                *next = p->deadline;
                return 0;
            }
            if (n <= 0) {
                if (answered(r, p, now,
                             p->answer_len ? status_parse(p->answer, p->answer_len) : ANS_CLOSED))
                    return 1;
                continue;
            }
            p->answer_len += (size_t)n;
            if (memchr(p->answer, '\n', p->answer_len) || p->answer_len == sizeof p->answer) {
                if (answered(r, p, now, status_parse(p->answer, p->answer_len)))
                    return 1;
            }
            continue;
        }
    }
    /* Work is left and nothing to wait for: come back at once. */
    *next = now;
    return 0;
}

/* Kept where a leak checker sees it: the resolver thread may still write into it. */
static struct lookup *abandoned_lookup;

void probe_release(struct probe *p)
{
    /* A lookup still under way writes into its request: it is left to the resolver. */
    if (p->lookup && gai_cancel(&p->lookup->cb) == EAI_NOTCANCELED)
        abandoned_lookup = p->lookup;
    else if (p->lookup)
        free(p->lookup);
    if (p->fd >= 0)
        close(p->fd);
    free(p->where);
    free(p->own_where);
    free(p->before);
    free(p->authority);
    free(p->addrs);
    free(p->request);
}
