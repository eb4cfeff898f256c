/*
 * remote.c — a store on a server, reached with libcurl: plain GET/PUT/DELETE for http(s) and
 * signed with AWS SigV4 for s3. libcurl is loaded (dlopen) when a remote store is first opened,
 * never linked: a local store, the default, never pays for it.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "../storespec.h"
#include "store.h"
#include "remote.h"

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * libcurl, loaded when a remote store is first opened: it and the thirty libraries it brings
 * cost about 5 ms at every start, which a local store (the default) never needs.
 */
#define LIBCURL "libcurl.so.4"
static struct {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} lib;

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init    lib.global_init
#define curl_global_cleanup lib.global_cleanup
#define curl_easy_init      lib.easy_init
#define curl_easy_cleanup   lib.easy_cleanup
#define curl_easy_reset     lib.easy_reset
#define curl_easy_setopt    lib.easy_setopt
#define curl_easy_perform   lib.easy_perform
#define curl_easy_getinfo   lib.easy_getinfo
#define curl_easy_strerror  lib.easy_strerror
#define curl_slist_append   lib.slist_append
#define curl_slist_free_all lib.slist_free_all

/* 0 once libcurl's functions are at hand; -1 after saying what is missing. */
static int curl_load(const char *shown)
{
    static void *h;
    const struct {
        const char *name;
        void **fn;
    } want[] = {
        {"curl_global_init", (void **)&lib.global_init},
        {"curl_global_cleanup", (void **)&lib.global_cleanup},
        {"curl_easy_init", (void **)&lib.easy_init},
        {"curl_easy_cleanup", (void **)&lib.easy_cleanup},
        {"curl_easy_reset", (void **)&lib.easy_reset},
        {"curl_easy_setopt", (void **)&lib.easy_setopt},
        {"curl_easy_perform", (void **)&lib.easy_perform},
        {"curl_easy_getinfo", (void **)&lib.easy_getinfo},
        {"curl_easy_strerror", (void **)&lib.easy_strerror},
        {"curl_slist_append", (void **)&lib.slist_append},
        {"curl_slist_free_all", (void **)&lib.slist_free_all},
    };

    if (h)
        return 0;
    h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        log_error(
            "build cache: %s: cannot load %s (%s); install libcurl4 for http(s) and s3 stores",
            shown, LIBCURL, dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!(*want[i].fn = dlsym(h, want[i].name))) {
            log_error("build cache: %s: %s has no %s; install libcurl4", shown, LIBCURL,
                      want[i].name);
            dlclose(h);
            h = NULL;
            return -1;
        }
    return 0;
}

static char *s3_base(const struct store *s)
{
    const char *ep = getenv("AWS_ENDPOINT_URL_S3"), *region = getenv("AWS_REGION");
    char *base;

    if (!ep || !*ep)
        ep = getenv("AWS_ENDPOINT_URL");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    /* A custom endpoint (Cellar, MinIO) gets path-style addressing; AWS virtual hosts. */
    if (ep && *ep)
        base = xasprintf("%s%s%s/%s", ep, ep[strlen(ep) - 1] == '/' ? "" : "/", s->spec.bucket,
                         s->spec.prefix);
    else
        base =
            xasprintf("https://%s.s3.%s.amazonaws.com/%s", s->spec.bucket, region, s->spec.prefix);
    return base;
}

static const char *s3_region(void)
{
    const char *r = getenv("AWS_REGION");

    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    return r && *r ? r : "us-east-1";
}

int remote_open(struct store *s)
{
    if (curl_load(s->spec.shown) < 0)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->curl = curl_easy_init();
    if (!s->curl) {
        log_error("build cache: %s: cannot set up libcurl", s->spec.shown);
        return -1;
    }
    return 0;
}

void remote_close(struct store *s)
{
    if (s->curl) {
        curl_easy_cleanup(s->curl);
        curl_global_cleanup();
    }
    s->curl = NULL;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t len = size * nmemb, off = 0;

    if (b->n < sizeof b->text - 1) {
        size_t k = len < sizeof b->text - 1 - b->n ? len : sizeof b->text - 1 - b->n;

        memcpy(b->text + b->n, p, k);
        b->n += k;
        b->text[b->n] = '\0';
    }
    while (b->out >= 0 && off < len) {
        ssize_t w = write(b->out, p + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        off += (size_t)w;
    }
    return len;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *arg)
{
    const struct body *b = arg;
    ssize_t r;

    do
        r = read(b->in, p, size * nmemb);
    while (r < 0 && errno == EINTR);
    return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

/* An S3 error's <Code>, or the HTTP status alone. */
static void http_problem(const struct body *b, long code, char *out, size_t len)
{
    const char *c = strstr(b->text, "<Code>"), *e = c ? strstr(c, "</Code>") : NULL;

    if (c && e && e - c < 80)
        snprintf(out, len, "HTTP %ld %.*s", code, (int)(e - c - 6), c + 6);
    else
        snprintf(out, len, "HTTP %ld", code);
}

/*
 * One request on NAME of the app: METHOD "GET" (into B->out), "PUT" (from B->in, SIZE bytes) or
 * "DELETE". The HTTP status, or -1 after reporting a transport failure.
 */
long remote_request(struct store *s, const char *method, const char *name, struct body *b,
                    int64_t size)
{
    CURL *c = s->curl;
    char errbuf[CURL_ERROR_SIZE] = "", *url, *base, *auth = NULL;
    struct curl_slist *headers = NULL;
    long code = 0;
    CURLcode rc;

    base = s->spec.kind == STORE_S3 ? s3_base(s) : xstrdup(s->spec.url);
    url = xasprintf("%s%s/%s", base, s->app, name);
    free(base);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ccwrap-cache");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    if (s->spec.kind == STORE_S3) {
        const char *token = getenv("AWS_SESSION_TOKEN");

        auth = xasprintf("aws:amz:%s:s3", s3_region());
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, auth);
        curl_easy_setopt(c, CURLOPT_USERNAME, getenv("AWS_ACCESS_KEY_ID"));
        curl_easy_setopt(c, CURLOPT_PASSWORD, getenv("AWS_SECRET_ACCESS_KEY"));
        headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
        if (token && *token) {
            char *h;

            h = xasprintf("x-amz-security-token: %s", token);
            headers = curl_slist_append(headers, h);
            free(h);
        }
    }
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, b);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        headers = curl_slist_append(headers, strstr(name, ".tar.zst") && !strstr(name, ".tar.zst.")
                                                 ? "Content-Type: application/zstd"
                                                 : "Content-Type: text/plain");
    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    free(auth);
    if (rc != CURLE_OK) {
        log_error("build cache: %s%s/%s: %s: %s", s->spec.shown, s->app, name, method,
                  errbuf[0] ? errbuf : curl_easy_strerror(rc));
        free(url);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    free(url);
    return code;
}

/* The server answered CODE to METHOD of NAME and it was not what was asked: say so. */
void remote_refused(struct store *s, struct body *b, long code, const char *method,
                    const char *name)
{
    char why[160], *shown;

    if (code <= 0)
        return;
    http_problem(b, code, why, sizeof why);
    shown = store_where(s, name);
    if (code == 401 || code == 403)
        log_error("build cache: %s: %s refused: %s: the store refused the credentials; check %s",
                  shown, method, why,
                  s->spec.kind == STORE_S3 ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                                           : "the user:password of the URL");
    else
        log_error("build cache: %s: %s refused: %s", shown, method, why);
    free(shown);
}
