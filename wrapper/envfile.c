/*
 * envfile.c — CCWRAP_ENV (§3): the file a hook writes NAME=value lines to, created in
 * one private folder per run, and its lines applied to ccwrap's environment in one pass.
 */
#include <stddef.h>
#include <stdarg.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_FILE_MAX (1 << 20)
#define ENV_VARS_MAX 4096
#define WARNINGS_MAX 10
#define VALUE_MAX    ((size_t)128 * 1024) /* MAX_ARG_STRLEN: the kernel refuses a longer string */

static char *dir_path;
static int dir_fd = -1;
static unsigned files_made;

/* The environment ccwrap built from CCWRAP_ENV files: kept, the strings stay in use. */
static char **built_env;
static char **kept_strings;
static size_t n_kept;

/* $TMPDIR, else /tmp; a TMPDIR that does not work is said, not silently replaced. */
static int make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = NULL;
    int saved;

    if (tmp && *tmp) {
        if (tmp[0] != '/') {
            log_warn("TMPDIR=%s: not an absolute path; the CCWRAP_ENV folder goes to /tmp; set "
                     "TMPDIR to an absolute path",
                     tmp);
        } else {
            path = xasprintf("%s/ccwrap.XXXXXX", tmp);
            if (!mkdtemp(path)) {
                saved = errno;
                log_warn("TMPDIR=%s: cannot create the CCWRAP_ENV folder there: %s; using /tmp; "
                         "fix TMPDIR",
                         tmp, strerror(saved));
                free(path);
                path = NULL;
            }
        }
    }
    if (!path) {
        path = xstrdup("/tmp/ccwrap.XXXXXX");
        if (!mkdtemp(path)) {
            log_error("%s: cannot create the CCWRAP_ENV folder: %s", path, strerror(errno));
            free(path);
            return -1;
        }
    }
    /* mkdtemp's 0700 went through the umask: set the mode on what was made, by its fd. */
    dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd < 0 || fchmod(dir_fd, 0700) < 0) {
        log_error("%s: cannot use the CCWRAP_ENV folder: %s", path, strerror(errno));
        if (dir_fd >= 0)
            close(dir_fd);
        dir_fd = -1;
        rmdir(path);
        free(path);
        return -1;
    }
    dir_path = path;
    return 0;
}

int envfile_create(struct envfile *ef)
{
    struct stat st;
    char name[32];

    memset(ef, 0, sizeof *ef);
    ef->fd = -1;
    if (dir_fd < 0 && make_dir() < 0)
        return -1;
    snprintf(name, sizeof name, "env.%u", ++files_made);
    ef->fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (ef->fd < 0 || fchmod(ef->fd, 0600) < 0 || fstat(ef->fd, &st) < 0) {
        log_error("%s/%s: cannot create the CCWRAP_ENV file: %s", dir_path, name, strerror(errno));
        if (ef->fd >= 0)
            close(ef->fd);
        ef->fd = -1;
        return -1;
    }
    ef->name = xstrdup(name);
    ef->path = xasprintf("%s/%s", dir_path, name);
    ef->dev = st.st_dev;
    ef->ino = st.st_ino;
    return 0;
}

/* Names a hook may not hand to every later program: they change how programs run, or ccwrap. */
static const char *refused(const char *name)
{
    if (strncmp(name, "LD_", 3) == 0)
        return "LD_* variables change how every later program is loaded";
    if (strcmp(name, "BASH_ENV") == 0 || strcmp(name, "ENV") == 0)
        return "it makes every later shell run a file first";
    if (strcmp(name, "NOTIFY_SOCKET") == 0)
        return "it is ccwrap's to set";
    if (strncmp(name, "CCWRAP_", 7) == 0)
        return "CCWRAP_* variables are ccwrap's own";
    return NULL;
}

struct assignment {
    const char *name; /* in the file's buffer, NUL-terminated */
    size_t name_len;
    char *entry; /* "NAME=value" */
    size_t order;
};

static int cmp_assignment(const void *a, const void *b)
{
    const struct assignment *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The latest assignment to the name of environment entry E, or NULL. */
static const struct assignment *find(const struct assignment *v, size_t n, const char *e)
{
    size_t lo = 0, hi = n, len = strcspn(e, "=");

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(v[mid].name, e, len);

        if (c == 0 && v[mid].name_len != len)
            c = v[mid].name_len < len ? -1 : 1;
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void warn_line(const char *source, int *warnings, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn_line(const char *source, int *warnings, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    if (++*warnings > WARNINGS_MAX) {
        if (*warnings == WARNINGS_MAX + 1)
            log_warn("%s: CCWRAP_ENV: more lines are ignored, not shown", source);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_warn("%s: CCWRAP_ENV %s", source, text);
}

/*
 * The lines of BUF (LEN bytes) as assignments, sorted by name with the last one of each
 * name last. Lines that are not applied are reported. Their number.
 */
static size_t parse_lines(char *buf, size_t len, const char *source, struct assignment **out)
{
    struct assignment *v = NULL;
    size_t n = 0, cap = 0, k = 0;
    int lineno = 0, warnings = 0;

    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *name, *value;
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *why;

        lineno++;
        if (!nl) {
            warn_line(source, &warnings,
                      "line %d has no newline at its end (the hook may have been cut short); "
                      "ignored",
                      lineno);
            break;
        }
        *nl = '\0';
        if (l > 0 && p[l - 1] == '\r')
            p[--l] = '\0';
        if (l == 0) {
            /* an empty line */
        } else if (memchr(p, '\0', l)) {
            warn_line(source, &warnings, "line %d holds a NUL byte; ignored", lineno);
        } else if (l >= VALUE_MAX) {
            warn_line(source, &warnings,
                      "line %d is longer than 128 KiB, more than a variable can hold; ignored",
                      lineno);
        } else if (env_line_parse(p, &name, &value) < 0) {
            warn_line(source, &warnings,
                      "line %d is not NAME=value with NAME matching [A-Za-z_][A-Za-z0-9_]*; "
                      "ignored",
                      lineno);
        } else if ((why = refused(name)) != NULL) {
            warn_line(source, &warnings, "line %d sets %s, which ccwrap refuses: %s; ignored",
                      lineno, name, why);
        } else if (n == ENV_VARS_MAX) {
            warn_line(source, &warnings,
                      "line %d: more than %d variables; this line and the rest are ignored", lineno,
                      ENV_VARS_MAX);
            break;
        } else {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[n].name = name;
            v[n].name_len = strlen(name);
            v[n].entry = xasprintf("%s=%s", name, value);
            v[n].order = n;
            n++;
        }
        p = nl + 1;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_assignment);
    /* Of several lines for one name, the last one counts. */
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(v[i].name, v[i + 1].name) == 0) {
            free(v[i].entry);
            continue;
        }
        v[k++] = v[i];
    }
    *out = v;
    return k;
}

/* What an exec would carry: every entry, its NUL and its pointer. */
static size_t env_size(char *const *env)
{
    size_t total = 0;

    for (; *env; env++)
        total += strlen(*env) + 1 + sizeof *env;
    return total;
}

/* Replaces the environment by ccwrap's own, less the names V sets, plus V: built once. */
static int apply(struct assignment *v, size_t n, const char *path, const char *source)
{
    size_t count = 0, k = 0, total;
    long arg_max = sysconf(_SC_ARG_MAX);
    char **env;

    for (char **e = environ; *e; e++)
        count++;
    env = xcalloc(count + n + 1, sizeof *env);
    for (char **e = environ; *e; e++)
        if (!find(v, n, *e))
            env[k++] = *e;
    for (size_t i = 0; i < n; i++)
        env[k++] = v[i].entry;
    env[k] = NULL;
    total = env_size(env);
    /* Half of ARG_MAX: the command's own arguments need room too. */
    if (arg_max > 0 && total > (size_t)arg_max / 2) {
        log_warn("%s: CCWRAP_ENV %s would make the environment %zu bytes, more than half of "
                 "ARG_MAX (%ld) and every later program could fail to start; nothing from it is "
                 "applied; write fewer or shorter variables",
                 source, path, total, arg_max);
        free(env);
        for (size_t i = 0; i < n; i++)
            free(v[i].entry);
        return -1;
    }
    kept_strings = xrealloc(kept_strings, (n_kept + n) * sizeof *kept_strings);
    for (size_t i = 0; i < n; i++) {
        kept_strings[n_kept++] = v[i].entry;
        log_detail("%s: set %.*s from CCWRAP_ENV", source, (int)v[i].name_len, v[i].entry);
    }
    free(built_env);
    built_env = env;
    environ = env;
    return 0;
}

void envfile_apply(struct envfile *ef, const char *source)
{
    struct stat st;
    struct assignment *v = NULL;
    char *buf;
    size_t len = 0, cap, n;
    ssize_t r;
    /* O_NONBLOCK: a hook may have put a FIFO there, which must not hang the deployment. */
    int fd =
        !ef->path ? -1 : openat(dir_fd, ef->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

    if (fd < 0)
        return;
    /* What is read is the file ccwrap made, in the folder only its user can write. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != ef->dev ||
        st.st_ino != ef->ino) {
        log_warn("%s: CCWRAP_ENV %s is no longer the file ccwrap made; ignored", source, ef->path);
        close(fd);
        return;
    }
    close(fd);
    if (fstat(ef->fd, &st) < 0 || st.st_size == 0)
        return;
    cap = st.st_size > ENV_FILE_MAX ? ENV_FILE_MAX : (size_t)st.st_size;
    buf = xmalloc(cap + 1);
    while (len < cap && (r = pread(ef->fd, buf + len, cap - len, (off_t)len)) > 0)
        len += (size_t)r;
    if (st.st_size > ENV_FILE_MAX)
        log_warn("%s: CCWRAP_ENV is larger than 1 MiB; the rest is ignored", source);
    n = parse_lines(buf, len, source, &v);
    if (n > 0)
        apply(v, n, ef->path, source);
    free(v);
    free(buf);
}

void envfile_remove(struct envfile *ef)
{
    if (ef->path) {
        close(ef->fd);
        /* Even if the hook made a folder of it. */
        if (unlinkat(dir_fd, ef->name, 0) < 0 && errno == EISDIR)
            unlinkat(dir_fd, ef->name, AT_REMOVEDIR);
    }
    free(ef->name);
    free(ef->path);
    memset(ef, 0, sizeof *ef);
    ef->fd = -1;
}

void envfile_cleanup(void)
{
    if (dir_fd >= 0)
        close(dir_fd);
    dir_fd = -1;
    if (dir_path)
        rmdir(dir_path);
    free(dir_path);
    dir_path = NULL;
}
