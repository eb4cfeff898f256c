/*
 * ready.c — readiness (§5.3): the spec parser and the step driver. A spec ("tcp",
 * "http://…", "notify", "file:…", "delay:…", "exit", "none") becomes a struct ready with its
 * probe, and ready_step hands each call to the room of its kind: ready_probe.c for tcp and
 * http, ready_notify.c for notify; file and delay are simple enough to be decided here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "util.h"
#include "ready.h"
#include "ready_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEALTH_VAR "CC_HEALTH_CHECK_PATH"

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
        probe_addrs_take(p, res, r->port);
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
        return probe_step(r, p, now, pfd, next);
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

void ready_free(struct ready *r)
{
    struct probe *p = r->state;

    /* Without state this struct never went through ready_parse: its fds are not ours. */
    if (p) {
        probe_release(p);
        if (r->notify_fd >= 0)
            close(r->notify_fd);
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
