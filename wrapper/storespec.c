/*
 * storespec.c — a build cache store's name parsed, and shown without its credentials.
 * Linked into ccwrap (plan, check) and into ccwrap-cache; it allocates with util.c's xmalloc,
 * which both programs link.
 */
#include "util.h"
#include "storespec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_or_die(const char *s, size_t n)
{
    return xasprintf("%.*s", (int)n, s);
}

static int default_dir(struct store_spec *s, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (geteuid() == 0) {
        s->dir = dup_or_die("/var/cache/ccwrap", 17);
        return 0;
    }
    if (xdg && xdg[0] == '/') {
        s->dir = xasprintf("%s/ccwrap", xdg);
    } else if (home && home[0] == '/') {
        s->dir = xasprintf("%s/.cache/ccwrap", home);
    } else {
        snprintf(err, errlen,
                 "no default build cache folder: HOME is not set; set HOME, "
                 "XDG_CACHE_HOME or the cache setting");
        return -1;
    }
    return 0;
}

/*
 * scheme://user:password@host/path shown as scheme://host/path. Whatever the URL holds — a
 * password with '/', '#', '?' or a space, which no parser reads as one — everything from the
 * scheme up to its last '@' goes: a path with an '@' is shown shorter, a password never.
 */
char *store_spec_shown(const char *spec)
{
    const char *sep = spec ? strstr(spec, "://") : NULL, *at;
    char *out;

    if (!spec)
        return dup_or_die("", 0);
    if (!sep || !(at = strrchr(sep + 3, '@')))
        return dup_or_die(spec, strlen(spec));
    out = xasprintf("%.*s%s", (int)(sep + 3 - spec), spec, at + 1);
    return out;
}

int store_spec_parse(const char *spec, struct store_spec *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!spec || !*spec) {
        s->kind = STORE_LOCAL;
        if (default_dir(s, err, errlen) < 0)
            return -1;
    } else if (strncmp(spec, "s3://", 5) == 0) {
        const char *b = spec + 5, *slash = strchr(b, '/');
        size_t blen = slash ? (size_t)(slash - b) : strlen(b);
        const char *p = slash ? slash + 1 : "";
        size_t plen = strlen(p);

        if (blen == 0 || blen > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < blen) {
            snprintf(err, errlen,
                     "not an S3 bucket name (lower-case letters, digits, '.' and '-'); write "
                     "s3://BUCKET/PREFIX");
            return -1;
        }
        s->kind = STORE_S3;
        s->bucket = dup_or_die(b, blen);
        while (plen > 0 && p[plen - 1] == '/')
            plen--;
        if (!plen)
            s->prefix = dup_or_die("", 0);
        else
            s->prefix = xasprintf("%.*s/", (int)plen, p);
        s->shown = xasprintf("s3://%s/%s", s->bucket, s->prefix);
        return 0;
    } else if (strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0) {
        const char *host = strstr(spec, "://") + 3;
        size_t len = strlen(spec);

        const char *slash = strchr(host, '/'), *at = strrchr(host, '@');

        if (at && (strpbrk(spec, " \t\n?#") || (slash && slash < at))) {
            snprintf(err, errlen,
                     "the URL's user:password holds a '/', '?', '#' or space; percent-encode "
                     "them (%%2F, %%3F, %%23, %%20)");
            return -1;
        }
        if (!*host || *host == '/' || strpbrk(spec, " \t\n?#")) {
            snprintf(err, errlen, "not a usable URL; write http(s)://HOST[:PORT]/PATH");
            return -1;
        }
        s->kind = STORE_HTTP;
        s->url = xasprintf("%s%s", spec, spec[len - 1] == '/' ? "" : "/");
        s->shown = store_spec_shown(s->url);
        return 0;
    } else if (strncmp(spec, "file://", 7) == 0 || spec[0] == '/') {
        const char *p = spec[0] == '/' ? spec : spec + 7;
        size_t len = strlen(p);

        if (p[0] != '/') {
            snprintf(err, errlen, "a file:// store needs an absolute path: file:///FOLDER");
            return -1;
        }
        while (len > 1 && p[len - 1] == '/')
            len--;
        s->kind = STORE_LOCAL;
        s->dir = dup_or_die(p, len);
    } else {
        snprintf(err, errlen,
                 "unknown store; give an absolute folder, http(s)://HOST/PATH or "
                 "s3://BUCKET/PREFIX");
        return -1;
    }
    s->shown = dup_or_die(s->dir, strlen(s->dir));
    return 0;
}

void store_spec_free(struct store_spec *s)
{
    free(s->shown);
    free(s->dir);
    free(s->url);
    free(s->bucket);
    free(s->prefix);
    memset(s, 0, sizeof *s);
}

char *store_name(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || (c == '.' && i > 0)) {
            *o++ = (char)c;
        } else {
            *o++ = '~';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

int cache_size_parse(const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    unsigned long long n;
    const char *u;
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    n = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (*end) {
        if (end[1] || !(u = strchr(units, *end)))
            return -1;
        for (long i = u - units + 1; i > 0; i--) {
            if (n > CACHE_MAX_BYTES_LIMIT / 1024)
                return -1;
            n *= 1024;
        }
    }
    if (n > CACHE_MAX_BYTES_LIMIT)
        return -1;
    *out = n;
    return 0;
}
