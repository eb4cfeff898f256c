/*
 * util.c — small helpers every module of ccwrap and of ccwrap-cache uses: allocation that
 * never returns NULL, bounded number and duration parsing, the monotonic clock, signal names,
 * variable names and NAME=value lines, text made safe to show, whole writes. libc only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one exception to "only main exits": there is no sensible way on without memory. */
void out_of_memory(void)
{
    static const char msg[] = "ccwrap: out of memory\n";

    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(EXIT_CCWRAP);
    _exit(EXIT_CCWRAP);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        out_of_memory();
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);

    if (!p)
        out_of_memory();
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory();
    return s;
}

int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *seconds_text(int64_t ms)
{
    char *s = xasprintf("%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000)), *t;
    size_t n = strlen(s);

    while (s[n - 1] == '0')
        s[--n] = '\0';
    if (s[n - 1] == '.')
        s[--n] = '\0';
    t = xasprintf("%s s", s);
    free(s);
    return t;
}

int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || *s == ' ' || *s == '+')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_port(const char *s, int *port)
{
    long v;

    if (parse_long(s, 1, 65535, &v) < 0)
        return -1;
    *port = (int)v;
    return 0;
}

int parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"min", 60000}, {"h", 3600000}};
    int64_t whole = 0, frac = 0, scale = 1;
    int ndigits = 0, nfrac = 0;
    const char *p = s;

    if (!s)
        return -1;
    for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
        if (ndigits >= 6)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
            if (nfrac >= 3)
                return -1;
            frac = frac * 10 + (*p - '0');
            scale *= 10;
        }
        if (nfrac == 0)
            return -1;
    }
    if (ndigits == 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].name) == 0) {
            int64_t v = whole * units[i].ms + frac * units[i].ms / scale;

            if (v > 86400000)
                return -1;
            *ms = v;
            return 0;
        }
    }
    return -1;
}

const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "HUP"},       {SIGINT, "INT"},   {SIGQUIT, "QUIT"},   {SIGILL, "ILL"},
        {SIGTRAP, "TRAP"},     {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},     {SIGFPE, "FPE"},
        {SIGKILL, "KILL"},     {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"},   {SIGUSR2, "USR2"},
        {SIGPIPE, "PIPE"},     {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},   {SIGCHLD, "CHLD"},
        {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},   {SIGTTIN, "TTIN"},
        {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},   {SIGXFSZ, "XFSZ"},
        {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"}, {SIGIO, "IO"},
        {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
    };
    static char buf[16];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, sizeof buf, "%d", sig);
    return buf;
}

bool env_name_valid(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

int env_line_parse(char *line, char **name, char **value)
{
    char *eq = strchr(line, '=');

    if (!eq || !env_name_valid(line, (size_t)(eq - line)))
        return -1;
    *eq = '\0';
    *name = line;
    *value = eq + 1;
    return 0;
}

char *shown_text(const char *s)
{
    char *out = xmalloc(strlen(s) * 4 + 1), *q = out;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            q += sprintf(q, "\\x%02x", *p);
        else
            *q++ = (char)*p;
    }
    *q = '\0';
    return out;
}

char *abbrev(const char *s, size_t max)
{
    size_t len = strlen(s), head, tail;

    if (len <= max || max < 16)
        return xstrdup(s);
    head = max * 2 / 3;
    tail = max - head - 5;
    return xasprintf("%.*s[...]%s", (int)head, s, s + len - tail);
}

/* How many continuation bytes follow a UTF-8 lead byte C; -1 when C cannot lead. */
static int utf8_tail(unsigned char c)
{
    if (c < 0x80)
        return 0;
    if (c >= 0xc2 && c <= 0xdf)
        return 1;
    if ((c & 0xf0) == 0xe0)
        return 2;
    if (c >= 0xf0 && c <= 0xf4)
        return 3;
    return -1;
}

/* True when S shows as itself between single quotes: UTF-8 without control characters. */
static bool shows_plainly(const unsigned char *s)
{
    while (*s) {
        int tail = utf8_tail(*s);

        if (tail < 0 || *s < 0x20 || *s == 0x7f)
            return false;
        for (s++; tail > 0; tail--, s++)
            if ((*s & 0xc0) != 0x80)
                return false;
    }
    return true;
}

/*
 * S as one shell word, for a fix the user may paste: a drop-in may be named `10 $(rm -rf x)`,
 * and "chmod +x" followed by that, unquoted, would run it.
 */
char *shell_word(const char *s)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_-./+,:@%=";
    size_t len = strlen(s);
    char *out, *o;

    if (len > 0 && strspn(s, plain) == len)
        return xstrdup(s);
    out = o = xmalloc(4 * len + 4);
    if (shows_plainly((const unsigned char *)s)) {
        *o++ = '\'';
        for (; *s; s++) {
            if (*s == '\'') {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *s;
            }
        }
    } else {
        *o++ = '$';
        *o++ = '\'';
        for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
            if (*u == '\'' || *u == '\\') {
                *o++ = '\\';
                *o++ = (char)*u;
            } else if (*u < 0x20 || *u >= 0x7f) {
                o += snprintf(o, 5, "\\x%02x", *u);
            } else {
                *o++ = (char)*u;
            }
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* nothing written and no error: the space is gone */
            errno = ENOSPC;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}
