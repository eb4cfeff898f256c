/*
 * store.c — where archives live: a local folder (temporary file + rename), or a server
 * reached with libcurl, plain GET/PUT/DELETE for http(s) and signed with AWS SigV4 for s3.
 */
#include "helper.h"

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
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
        fail("%s: cannot load %s (%s); install libcurl4 for http(s) and s3 stores", shown, LIBCURL,
             dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!(*want[i].fn = dlsym(h, want[i].name))) {
            fail("%s: %s has no %s; install libcurl4", shown, LIBCURL, want[i].name);
            dlclose(h);
            h = NULL;
            return -1;
        }
    return 0;
}

/* A folder of the store must be ours (or root's) and writable by nobody else. */
static int folder_check(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        fail("%s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        fail("%s: owned by uid %u, not by this user (uid %u): another user could swap "
             "archives; chown %u %s or choose another cache folder",
             path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
        return -1;
    }
    if (st.st_mode & 022) {
        fail("%s: writable by group or others: they could swap archives; chmod go-w %s", path,
             path);
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
    char *p = strdup(dir);
    int fd;

    if (!p)
        abort();
    for (char *s = strchr(p + 1, '/'); create; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            fail("%s: cannot create the cache folder: %s", p, strerror(errno));
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
        fail("%s: cannot open the cache folder: %s", dir,
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
    if (asprintf(&shown, "%s/%s", s->spec.dir, s->app) < 0)
        abort();
    if (create && mkdirat(top, s->app, 0700) < 0 && errno != EEXIST) {
        fail("%s: %s", shown, strerror(errno));
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
        fail("%s: %s", shown, strerror(errno));
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

static char *s3_base(const struct store *s)
{
    const char *ep = getenv("AWS_ENDPOINT_URL_S3"), *region = getenv("AWS_REGION");
    char *base;
    int n;

    if (!ep || !*ep)
        ep = getenv("AWS_ENDPOINT_URL");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    /* A custom endpoint (Cellar, MinIO) gets path-style addressing; AWS virtual hosts. */
    if (ep && *ep)
        n = asprintf(&base, "%s%s%s/%s", ep, ep[strlen(ep) - 1] == '/' ? "" : "/", s->spec.bucket,
                     s->spec.prefix);
    else
        n = asprintf(&base, "https://%s.s3.%s.amazonaws.com/%s", s->spec.bucket, region,
                     s->spec.prefix);
    if (n < 0)
        abort();
    return base;
}

static const char *s3_region(void)
{
    const char *r = getenv("AWS_REGION");

    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    return r && *r ? r : "us-east-1";
}

static bool set(const char *var)
{
    const char *v = getenv(var);

    return v && *v;
}

int store_open(struct store *s, const char *spec, const char *app, bool create)
{
    char err[256];

    memset(s, 0, sizeof *s);
    s->dirfd = s->lock_fd = -1;
    if (store_spec_parse(spec, &s->spec, err, sizeof err) < 0) {
        char *shown = store_spec_shown(spec);

        fail("cache store '%s': %s", shown, err);
        free(shown);
        return -1;
    }
    s->app = store_name(app);
    if (s->spec.kind == STORE_LOCAL)
        return open_local(s, create);
    if (s->spec.kind == STORE_S3 && (!set("AWS_ACCESS_KEY_ID") || !set("AWS_SECRET_ACCESS_KEY"))) {
        fail("%s: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; export the "
             "store's access key and secret",
             s->spec.shown);
        return -1;
    }
    if (curl_load(s->spec.shown) < 0)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->curl = curl_easy_init();
    if (!s->curl) {
        fail("%s: cannot set up libcurl", s->spec.shown);
        return -1;
    }
    return 0;
}

void store_close(struct store *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    if (s->curl) {
        curl_easy_cleanup(s->curl);
        curl_global_cleanup();
    }
    free(s->app);
    free(s->lock_name);
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
    if (asprintf(&path, "%s/ccwrap-cache.XXXXXX", dir) < 0)
        abort();
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    else
        fail("%s: cannot create a temporary file: %s", dir, strerror(errno));
    free(path);
    return fd;
}

/* ---- remote stores ---------------------------------------------------- */

struct body {
    int out;        /* download target, or -1 */
    int in;         /* upload source, or -1 */
    char text[512]; /* the start of an error answer */
    size_t n;
};

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
static long request(struct store *s, const char *method, const char *name, struct body *b,
                    curl_off_t size)
{
    CURL *c = s->curl;
    char errbuf[CURL_ERROR_SIZE] = "", *url, *base, *auth = NULL;
    struct curl_slist *headers = NULL;
    long code = 0;
    CURLcode rc;

    base = s->spec.kind == STORE_S3 ? s3_base(s) : strdup(s->spec.url);
    if (!base || asprintf(&url, "%s%s/%s", base, s->app, name) < 0)
        abort();
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

        if (asprintf(&auth, "aws:amz:%s:s3", s3_region()) < 0)
            abort();
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, auth);
        curl_easy_setopt(c, CURLOPT_USERNAME, getenv("AWS_ACCESS_KEY_ID"));
        curl_easy_setopt(c, CURLOPT_PASSWORD, getenv("AWS_SECRET_ACCESS_KEY"));
        headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
        if (token && *token) {
            char *h;

            if (asprintf(&h, "x-amz-security-token: %s", token) < 0)
                abort();
            headers = curl_slist_append(headers, h);
            free(h);
        }
    }
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, b);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
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
        fail("%s%s/%s: %s: %s", s->spec.shown, s->app, name, method,
             errbuf[0] ? errbuf : curl_easy_strerror(rc));
        free(url);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    free(url);
    return code;
}

char *store_where(const struct store *s, const char *name)
{
    char *t;

    if (asprintf(&t, s->spec.kind == STORE_LOCAL ? "%s/%s/%s" : "%s%s/%s", s->spec.shown, s->app,
                 name) < 0)
        abort();
    return t;
}

/* The server answered CODE to METHOD of NAME and it was not what was asked: say so. */
static void refused(struct store *s, struct body *b, long code, const char *method,
                    const char *name)
{
    char why[160], *shown;

    if (code <= 0)
        return;
    http_problem(b, code, why, sizeof why);
    shown = store_where(s, name);
    if (code == 401 || code == 403)
        fail("%s: %s refused: %s: the store refused the credentials; check %s", shown, method, why,
             s->spec.kind == STORE_S3 ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                                      : "the user:password of the URL");
    else
        fail("%s: %s refused: %s", shown, method, why);
    free(shown);
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
        fail("%s: %s", shown, strerror(errno));
        free(shown);
        return -1;
    }
    b.out = anon_tmp();
    if (b.out < 0)
        return -1;
    code = request(s, "GET", name, &b, 0);
    if (code == 200 && lseek(b.out, 0, SEEK_SET) == 0) {
        *fd = b.out;
        return 0;
    }
    close(b.out);
    if (code == 404 && s->spec.kind == STORE_S3 && strstr(b.text, "<Code>NoSuchBucket</Code>")) {
        fail("no such bucket: %s (HTTP 404 NoSuchBucket); create the bucket or fix the cache "
             "setting",
             s->spec.shown);
        return FETCH_NO_STORE;
    }
    if (code == 404)
        return FETCH_MISSING;
    refused(s, &b, code, "GET", name);
    return code == 401 || code == 403 ? FETCH_REFUSED : -1;
}

int store_tmp(struct store *s)
{
    int fd;

    if (s->spec.kind != STORE_LOCAL)
        return anon_tmp();
    free(tmp_name);
    if (asprintf(&tmp_name, ".tmp.%d.%lld", (int)getpid(), (long long)mono_ms()) < 0)
        abort();
    fd = openat(s->dirfd, tmp_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("%s/%s/%s: %s", s->spec.dir, s->app, tmp_name, strerror(errno));
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
            fail("%s: %s", shown, strerror(errno));
            free(shown);
            store_discard(s, fd);
            return -1;
        }
        close(fd);
        return 0;
    }
    if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        fail("temporary archive: %s", strerror(errno));
        close(fd);
        return -1;
    }
    code = request(s, "PUT", name, &b, (curl_off_t)st.st_size);
    close(fd);
    if (code >= 200 && code < 300)
        return 0;
    refused(s, &b, code, "PUT", name);
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
        fail("%s: %s", shown, strerror(errno));
        free(shown);
        return -1;
    }
    code = request(s, "DELETE", name, &b, 0);
    if ((code >= 200 && code < 300) || code == 404)
        return 0;
    refused(s, &b, code, "DELETE", name);
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
    buf = malloc(max + 1);
    if (!buf)
        abort();
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
            fail("%s: %s", name, strerror(errno));
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
