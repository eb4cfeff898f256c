/*
 * ready.c — readiness probes (SPEC §5.3): when the application counts as started.
 * Each probe is a small non-blocking state machine that the run loop drives with poll.
 */
#include "ccwrap.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* A refused connection costs nothing: ask often, so readiness is seen well within 50 ms. */
#define PROBE_INTERVAL_MS 10
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
/* Only the status line matters; anything longer than this is not one. */
#define ANSWER_MAX 128
#define NOTIFY_MAX 4096
/* Datagrams read per call, so that a chatty application cannot starve the run loop. */
#define NOTIFY_BURST 64
#define HEALTH_VAR   "CC_HEALTH_CHECK_PATH"

enum phase { PH_IDLE, PH_CONNECTING, PH_SENDING, PH_READING };

/* What the application's tree holds on the port, for tcp without a host. */
enum owner { OWN_NOTHING, OWN_LOOPBACK, OWN_OTHER, OWN_OK };

/* What the last HTTP exchange gave when it gave no status. */
enum { ANS_NONE = 0, ANS_TIMEOUT = -1, ANS_CLOSED = -2, ANS_GARBLED = -3 };

struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* A getaddrinfo_a request with everything it points to, so it can outlive the probe. */
struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    char service[8];
    char name[256];
};

struct probe {
    char *where;     /* "0.0.0.0:8080", for messages */
    char *authority; /* "127.0.0.1:8080", for the Host header */
    struct addr *addrs;
    size_t n_addrs;
    bool by_name; /* addrs come from the resolver, at probe time */
    int64_t resolve_at;
    int gai_error;
    struct lookup *lookup; /* the resolution under way, or NULL */

    enum phase phase;
    int fd;
    size_t addr_i;
    size_t health_i; /* tcp: the health path being asked; those before it answered 200 */
    int64_t deadline;
    int64_t retry_at;
    char *request;
    size_t request_len, sent;
    char answer[ANSWER_MAX];
    size_t answer_len;

    bool owned; /* tcp without a host: the application's tree must hold a wildcard listener */
    enum owner own;
    char *own_where;             /* OWN_LOOPBACK: where it listens */
    unsigned long foreign_inode; /* OWN_OTHER: the socket, and its holder once looked up */
    unsigned long holder_inode;
    pid_t holder;
    uid_t foreign_uid;     /* OWN_OTHER: the socket's owner */
    bool by_uid;           /* no CAP_SYS_PTRACE: listeners judged by their owner (said once) */
    unsigned long *before; /* the sockets on the port before the application started */
    size_t n_before;

    bool foreign_notify; /* a READY=1 from outside the application was ignored (said once) */

    bool ready;
    bool port_open;
    int last_answer; /* an HTTP status, or ANS_* */
    int last_errno;
    char msg[1024];
};

static int why_set(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    char *text, *fitted;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    if (!text || len == 0) {
        free(text);
        return -1;
    }
    /* A long value in the reason is cut from its middle: the reason's end stays. */
    fitted = abbrev(text, len - 1);
    snprintf(why, len, "%s", fitted);
    free(fitted);
    free(text);
    return -1;
}

/* Bytes that would break the request line or the Host header. */
static bool has_unsafe_bytes(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return true;
    return false;
}

static int port_set(struct ready *r, const char *s, char *why, size_t wl)
{
    if (!s || !*s)
        return why_set(why, wl, "the port is missing");
    if (parse_port(s, &r->port) == 0)
        return 0;
    if (strspn(s, "0123456789") == strlen(s))
        return why_set(why, wl, "port must be 1-65535");
    return why_set(why, wl, "'%s' is not a port (1-65535)", s);
}

/*
 * HOST[:PORT] or [IPV6][:PORT], split in place. *port is NULL when absent.
 * *bracketed tells an IPv6 literal from a name.
 */
static int hostport_split(char *s, char **host, char **port, bool *bracketed, char *why, size_t wl)
{
    *port = NULL;
    *bracketed = *s == '[';
    if (*bracketed) {
        char *close = strchr(s, ']');

        if (!close)
            return why_set(why, wl, "']' is missing after the IPv6 address");
        *close = '\0';
        *host = s + 1;
        if (close[1] == ':')
            *port = close + 2;
        else if (close[1] != '\0')
            return why_set(why, wl, "unexpected '%s' after ']'", close + 1);
        if (**host && !strchr(*host, ':'))
            return why_set(why, wl, "brackets are for IPv6 addresses only");
    } else {
        char *colon = strchr(s, ':');

        *host = s;
        if (colon) {
            *colon = '\0';
            *port = colon + 1;
            if (strchr(*port, ':'))
                return why_set(why, wl, "an IPv6 address goes in brackets, as [::1]:8080");
        }
    }
    if (!**host)
        return why_set(why, wl, "the host is missing");
    return 0;
}

static void addrs_take(struct probe *p, const struct addrinfo *res, int port)
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

/* An address literal is resolved now; a name only when probing, as DNS may come up late. */
static int host_set(struct ready *r, const char *host, bool bracketed, const char *shown, char *why,
                    size_t wl)
{
    struct probe *p = r->state;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM}, *res;
    bool v6;

    if (!host || !*host)
        return why_set(why, wl, "the host is missing");
    v6 = strchr(host, ':') != NULL;

    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        addrs_take(p, res, r->port);
        freeaddrinfo(res);
        if (p->n_addrs == 0)
            return why_set(why, wl, "'%s' is not an address to connect to", host);
    } else {
        if (bracketed)
            return why_set(why, wl, "'%s' is not an IPv6 address", host);
        if (strlen(host) > 253 ||
            strspn(host, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(host))
            return why_set(why, wl, "'%s' is not a host name or address", host);
        p->by_name = true;
    }
    r->host = xstrdup(host);
    p->authority = xasprintf("%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", r->port);
    p->where = shown ? xasprintf("%s:%d", shown, r->port) : xstrdup(p->authority);
    return 0;
}

static int health_add(struct ready *r, const char *var, const char *value, char *why, size_t wl)
{
    if (value[0] != '/')
        return why_set(why, wl, "%s='%s' must start with /", var, value);
    if (has_unsafe_bytes(value))
        return why_set(why, wl, "%s must not contain spaces or control characters", var);
    if (strlen(value) > 2048)
        return why_set(why, wl, "%s is too long", var);
    r->health_paths = xrealloc(r->health_paths, (r->n_health + 1) * sizeof *r->health_paths);
    r->health_paths[r->n_health++] = xstrdup(value);
    return 0;
}

/* Clever Cloud's variables: the plain one, then _0, _1, … up to the first one missing. */
static int cmp_index(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/*
 * CC_HEALTH_CHECK_PATH, then every CC_HEALTH_CHECK_PATH_<N> set, in the order of N: a gap in
 * the numbering must not silently drop the paths after it.
 */
static int health_read(struct ready *r, char *why, size_t wl)
{
    const char *v = getenv(HEALTH_VAR);
    long *idx = NULL;
    size_t n = 0;
    int rc = 0;

    if (v && *v && health_add(r, HEALTH_VAR, v, why, wl) < 0)
        return -1;
    for (char **e = environ; *e; e++) {
        const char *num = *e + sizeof HEALTH_VAR;
        char digits[16];
        size_t len;
        long i;

        if (strncmp(*e, HEALTH_VAR "_", sizeof HEALTH_VAR) != 0)
            continue;
        len = strcspn(num, "=");
        if (len == 0 || len >= sizeof digits || num[len] != '=')
            continue;
        memcpy(digits, num, len);
        digits[len] = '\0';
        if (parse_long(digits, 0, 999999, &i) < 0)
            continue;
        idx = xrealloc(idx, (n + 1) * sizeof *idx);
        idx[n++] = i;
    }
    if (n > 0)
        qsort(idx, n, sizeof *idx, cmp_index);
    for (size_t k = 0; k < n && rc == 0; k++) {
        char name[sizeof HEALTH_VAR + 16];

        snprintf(name, sizeof name, "%s_%ld", HEALTH_VAR, idx[k]);
        v = getenv(name);
        if (v && *v)
            rc = health_add(r, name, v, why, wl);
    }
    free(idx);
    return rc;
}

/*
 * "tcp", "tcp:PORT", "tcp:HOST:PORT". Without a host, 127.0.0.1 is asked but 0.0.0.0 is
 * shown: on Clever Cloud the application must listen on every interface.
 */
static int parse_tcp(struct ready *r, const char *arg, char *why, size_t wl)
{
    const char *shown = "0.0.0.0";
    char *copy = NULL, *host = NULL, *port = NULL;
    bool bracketed = false;
    int ret = -1;

    r->kind = READY_TCP;
    if (!arg) {
        const char *env = getenv("PORT");

        /* An empty PORT is what `PORT || 8080` in the application treats as unset too. */
        if (!env || !*env)
            r->port = 8080;
        else if (parse_port(env, &r->port) < 0)
            return why_set(why, wl, "PORT='%s' must be a port 1-65535", env);
    } else if (arg[0] == '[' || strchr(arg, ':')) {
        copy = xstrdup(arg);
        if (hostport_split(copy, &host, &port, &bracketed, why, wl) < 0)
            goto out;
        if (port_set(r, port, why, wl) < 0)
            goto out;
        shown = NULL;
    } else if (port_set(r, arg, why, wl) < 0) {
        goto out;
    }
    if (host_set(r, host ? host : "127.0.0.1", bracketed, shown, why, wl) < 0)
        goto out;
    ((struct probe *)r->state)->owned = shown != NULL;
    ret = health_read(r, why, wl);
out:
    free(copy);
    return ret;
}

/* "http://HOST[:PORT][/PATH]": the port defaults to 80, the path to "/". */
static int parse_http(struct ready *r, const char *rest, char *why, size_t wl)
{
    size_t alen = strcspn(rest, "/?#");
    char *authority = xasprintf("%.*s", (int)alen, rest);
    const char *path = rest + alen;
    char *host = NULL, *port = NULL;
    bool bracketed = false;
    int ret = -1;

    r->kind = READY_HTTP;
    if (strchr(authority, '@')) {
        why_set(why, wl, "user names in the URL are not supported");
        goto out;
    }
    if (hostport_split(authority, &host, &port, &bracketed, why, wl) < 0)
        goto out;
    r->port = 80;
    if (port && port_set(r, port, why, wl) < 0)
        goto out;
    if (host_set(r, host, bracketed, NULL, why, wl) < 0)
        goto out;
    if (has_unsafe_bytes(path)) {
        why_set(why, wl, "the path must not contain spaces or control characters");
        goto out;
    }
    /* The fragment is the browser's business; a bare query still needs a path. */
    r->path = xasprintf("%s%.*s", *path == '/' ? "" : "/", (int)strcspn(path, "#"), path);
    ret = 0;
out:
    free(authority);
    return ret;
}

static int parse_spec(struct ready *r, char *why, size_t wl)
{
    const char *s = r->spec;

    if (!*s)
        return why_set(why, wl,
                       "it is empty; use tcp, tcp:PORT, tcp:HOST:PORT, "
                       "http://HOST:PORT/PATH, notify, file:PATH, delay:SECONDS, "
                       "exit or none");
    if (strcmp(s, "tcp") == 0)
        return parse_tcp(r, NULL, why, wl);
    if (strncmp(s, "tcp:", 4) == 0)
        return parse_tcp(r, s + 4, why, wl);
    if (strncmp(s, "http://", 7) == 0)
        return parse_http(r, s + 7, why, wl);
    if (strncmp(s, "https://", 8) == 0)
        return why_set(why, wl, "https is not supported; probe the plain http port");
    if (strcmp(s, "notify") == 0) {
        r->kind = READY_NOTIFY;
        return 0;
    }
    if (strncmp(s, "file:", 5) == 0) {
        r->kind = READY_FILE;
        if (!s[5])
            return why_set(why, wl, "the path is missing");
        r->path = xstrdup(s + 5);
        return 0;
    }
    if (strncmp(s, "delay:", 6) == 0) {
        r->kind = READY_DELAY;
        if (!s[6])
            return why_set(why, wl, "the duration is missing");
        if (parse_duration(s + 6, &r->delay_ms) < 0)
            return why_set(why, wl,
                           "'%s' is not a duration such as 5, 0.5 or 250ms (at most 1 day)", s + 6);
        return 0;
    }
    if (strcmp(s, "exit") == 0) {
        r->kind = READY_EXIT;
        return 0;
    }
    if (strcmp(s, "none") == 0) {
        r->kind = READY_NONE;
        return 0;
    }
    return why_set(why, wl,
                   "unknown kind; use tcp, tcp:PORT, tcp:HOST:PORT, "
                   "http://HOST:PORT/PATH, notify, file:PATH, delay:SECONDS, exit or none");
}

int ready_parse(const char *spec, struct ready *r, char *err, size_t errlen)
{
    struct probe *p;
    char why[512] = "";

    memset(r, 0, sizeof *r);
    r->notify_fd = -1;
    r->spec = xstrdup(spec ? spec : "");
    r->state = p = xcalloc(1, sizeof *p);
    p->fd = -1;
    if (parse_spec(r, why, sizeof why) < 0) {
        char *shown_spec = abbrev(r->spec, 64);
        char *msg = xasprintf("bad readiness spec '%s': %s", shown_spec, why);
        /* The spec comes from the user: a newline in it must not split the message. */
        char *safe = shown_text(msg);

        /* Cut from the middle to fit ERR, so the reason at the end stays readable. */
        char *fitted = abbrev(safe, errlen > 1 ? errlen - 1 : 0);

        snprintf(err, errlen, "%s", fitted);
        free(fitted);
        free(safe);
        free(msg);
        free(shown_spec);
        ready_free(r);
        return -1;
    }
    return 0;
}

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
            addrs_take(p, p->lookup->cb.ar_result, r->port);
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

static bool held_before(const struct probe *p, unsigned long inode)
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
        held[i] = !held_before(p, v[i].inode) && tree_has_uid(r->app, v[i].uid);
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
static pid_t foreign_holder(struct probe *p)
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

static void want(struct pollfd *pfd, int fd, short events)
{
    pfd->fd = fd;
    pfd->events = events;
}

/* tcp and http: connect, then (health paths, http) send a GET and read the status line. */
static int stream_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd,
                       int64_t *next)
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
     * also be the one the process of that pid in the tree runs as now (README: Readiness).
     */
    if (tree_has(r->app, cred->pid))
        return proc_runs_as(cred->pid, cred->uid);
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

static int notify_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd,
                       int64_t *next)
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

int ready_step(struct ready *r, int64_t start, int64_t now, struct pollfd *pfd, int64_t *next)
{
    struct probe *p = r->state;
    struct stat st;

    pfd->fd = -1;
    pfd->events = 0;
    pfd->revents = 0;
    *next = -1;
    if (!p)
        return 0;
    if (p->ready)
        return 1;
    switch (r->kind) {
    case READY_TCP:
    case READY_HTTP:
        return stream_step(r, p, now, pfd, next);
    case READY_NOTIFY:
        return notify_step(r, p, now, pfd, next);
    case READY_FILE:
        p->ready = stat(r->path, &st) == 0;
        if (!p->ready)
            *next = now + PROBE_INTERVAL_MS;
        return p->ready;
    case READY_DELAY:
        p->ready = now - start >= r->delay_ms;
        if (!p->ready)
            *next = start + r->delay_ms;
        return p->ready;
    case READY_EXIT:
        return 0;
    case READY_NONE:
        return 1;
    }
    return 0;
}

/* strerror's capital would read oddly in the middle of a line. */
static const char *lower_error(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

/* Why the last exchange was not good enough, for tcp health paths and http. */
static const char *answer_text(const struct probe *p, char *buf, size_t len)
{
    char e[128];

    if (p->gai_error)
        snprintf(buf, len, "cannot resolve: %s",
                 p->gai_error == EAI_SYSTEM ? lower_error(p->last_errno, e, sizeof e)
                                            : gai_strerror(p->gai_error));
    else if (!p->port_open)
        snprintf(buf, len, "%s", p->last_errno ? lower_error(p->last_errno, e, sizeof e) : "");
    else if (p->last_answer > 0)
        snprintf(buf, len, "answered %d", p->last_answer);
    else if (p->last_answer == ANS_TIMEOUT)
        snprintf(buf, len, "no answer within 1 s");
    else if (p->last_answer == ANS_CLOSED)
        snprintf(buf, len, "closed without an answer");
    else if (p->last_answer == ANS_GARBLED)
        snprintf(buf, len, "not an HTTP answer");
    else
        buf[0] = '\0';
    return buf;
}

/* "uid 65534 (nobody)", in BUF. */
static const char *uid_text(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
        snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

const char *ready_waiting(const struct ready *r)
{
    struct probe *p = r->state;
    char why[256], secs[32];
    const char *path;

    if (!p)
        return "";
    switch (r->kind) {
    case READY_TCP:
        if (p->owned && p->own == OWN_LOOPBACK) {
            snprintf(p->msg, sizeof p->msg,
                     "The application listens on %s only, which nothing outside this machine "
                     "reaches; make it listen on 0.0.0.0:%d (all interfaces)",
                     p->own_where, r->port);
            break;
        }
        if (p->owned && p->own == OWN_OTHER) {
            pid_t h = foreign_holder(p);
            char name[64];

            if (h > 0)
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by pid %d (%s), not by the application", r->port, (int)h,
                         pid_name(h, name, sizeof name));
            else if (p->by_uid && held_before(p, p->foreign_inode))
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by a socket of %s opened before the application "
                         "started, not by the application",
                         r->port, uid_text(p->foreign_uid, name, sizeof name));
            else if (p->by_uid)
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by a socket of %s, a user no process of the "
                         "application runs as",
                         r->port, uid_text(p->foreign_uid, name, sizeof name));
            else
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by another process, not by the application", r->port);
            break;
        }
        if (!p->port_open || p->health_i >= r->n_health) {
            if (p->gai_error)
                snprintf(p->msg, sizeof p->msg, "Nothing listening on %s yet (%s: %s)", p->where,
                         r->host, answer_text(p, why, sizeof why));
            else
                snprintf(p->msg, sizeof p->msg, "Nothing listening on %s yet", p->where);
            break;
        }
        path = r->health_paths[p->health_i];
        if (p->last_answer > 0)
            snprintf(p->msg, sizeof p->msg, "%s answered %d, not 200 yet", path, p->last_answer);
        else if (p->last_answer < 0)
            snprintf(p->msg, sizeof p->msg, "%s has not answered 200 yet (%s)", path,
                     answer_text(p, why, sizeof why));
        else
            snprintf(p->msg, sizeof p->msg, "%s has not answered 200 yet", path);
        break;
    case READY_HTTP:
        answer_text(p, why, sizeof why);
        snprintf(p->msg, sizeof p->msg, "%s: no 2xx/3xx answer yet%s%s%s", r->spec,
                 *why ? " (" : "", why, *why ? ")" : "");
        break;
    case READY_NOTIFY:
        snprintf(p->msg, sizeof p->msg, "No READY=1 on NOTIFY_SOCKET yet");
        break;
    case READY_FILE:
        snprintf(p->msg, sizeof p->msg, "%s does not exist yet", r->path);
        break;
    case READY_DELAY:
        snprintf(secs, sizeof secs, "%" PRId64 ".%03" PRId64, r->delay_ms / 1000,
                 r->delay_ms % 1000);
        for (char *end = secs + strlen(secs) - 1; *end == '0' || *end == '.'; end--) {
            bool dot = *end == '.';

            *end = '\0';
            if (dot)
                break;
        }
        snprintf(p->msg, sizeof p->msg, "Waiting %s s", secs);
        break;
    case READY_EXIT:
        snprintf(p->msg, sizeof p->msg, "Waiting for the application to exit");
        break;
    case READY_NONE:
        snprintf(p->msg, sizeof p->msg, "Nothing to wait for");
        break;
    }
    return p->msg;
}

/* Kept where a leak checker sees it: the resolver thread may still write into it. */
static struct lookup *abandoned_lookup;

void ready_free(struct ready *r)
{
    struct probe *p = r->state;

    /* Without state this struct never went through ready_parse: its fds are not ours. */
    if (p) {
        /* A lookup still under way writes into its request: it is left to the resolver. */
        if (p->lookup && gai_cancel(&p->lookup->cb) == EAI_NOTCANCELED)
            abandoned_lookup = p->lookup;
        else if (p->lookup)
            free(p->lookup);
        if (p->fd >= 0)
            close(p->fd);
        if (r->notify_fd >= 0)
            close(r->notify_fd);
        free(p->where);
        free(p->own_where);
        free(p->before);
        free(p->authority);
        free(p->addrs);
        free(p->request);
        free(p);
    }
    for (size_t i = 0; i < r->n_health; i++)
        free(r->health_paths[i]);
    free(r->health_paths);
    free(r->spec);
    free(r->host);
    free(r->path);
    free(r->notify_path);
    memset(r, 0, sizeof *r);
    r->notify_fd = -1;
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
