/*
 * legacy.c — reading the pre-2017 `hooks.postDeploy` of clevercloud/<type>.json (§6):
 * which files, what each says, and how it was written. migrate.c rewrites; hooks.c runs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "problems.h"
#include "config.h"
#include "legacy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEGACY_DIR      "clevercloud"
#define LEGACY_MAX_SIZE ((size_t)1 << 20)
/* jansson's JSON_INDENT takes at most 31. */
#define INDENT_MAX 31

static const char blanks[] = " \t\r\n\f\v";

void legacy_file_free(struct legacy_file *f)
{
    free(f->name);
    free(f->rel);
    free(f->unread);
    json_decref(f->doc);
    memset(f, 0, sizeof *f);
}

static const char *json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

static bool is_blank(const char *s)
{
    return s[strspn(s, blanks)] == '\0';
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void legacy_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int legacy_names(int dfd, char ***names, size_t *n)
{
    /* fdopendir takes its fd over: give it a copy, DFD stays the caller's. */
    int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    *names = NULL;
    *n = 0;
    if (!d) {
        log_error("%s: cannot read: %s", LEGACY_DIR, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        *names = xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = xstrdup(e->d_name);
        errno = 0;
    }
    if (errno) {
        log_error("%s: cannot read: %s", LEGACY_DIR, strerror(errno));
        closedir(d);
        legacy_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return -1;
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, cmp_names);
    return 0;
}

/*
 * How the file was written, so that migrate writes it back alike: the first indented line
 * gives the unit (its depth is one in the usual layouts), the first line end CR LF or LF.
 */
static void note_style(struct legacy_file *f, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len), *end = buf + len, *last = end;

    f->crlf = nl && nl > buf && nl[-1] == '\r';
    f->final_newline = len > 0 && buf[len - 1] == '\n';
    /* A line break only at the end still means one line. BUF holds no final NUL. */
    while (last > buf && memchr(blanks, last[-1], sizeof blanks - 1))
        last--;
    f->indent = nl && nl < last ? 2 : 0;
    f->tabs = false;
    for (const char *line = nl; line && line < end;
         line = memchr(line, '\n', (size_t)(end - line))) {
        const char *p = ++line;
        char c;

        if (p == end || (*p != ' ' && *p != '\t'))
            continue;
        c = *p;
        while (p < end && *p == c)
            p++;
        if (p == end || *p == '\r' || *p == '\n')
            continue;
        f->tabs = c == '\t';
        f->indent = (int)(p - line) > INDENT_MAX ? INDENT_MAX : (int)(p - line);
        return;
    }
}

/*
 * Records why F cannot be used, WHAT and its DETAIL (taken over, or NULL), as a warning at
 * WHERE and in F->unread. Returns false.
 */
static bool unreadable(struct legacy_file *f, struct problems *w, const char *where,
                       const char *what, char *detail)
{
    problem_add(w, where ? where : f->rel, "%s, file ignored%s%s", what, detail ? ": " : "",
                detail ? detail : "");
    f->unread = detail ? xasprintf("%s: %s", what, detail) : xstrdup(what);
    free(detail);
    return false;
}

/* At most LEGACY_MAX_SIZE bytes of FD, bounded in the read itself: the file may grow under us. */
static char *read_bounded(int fd, size_t *len, int *err)
{
    char *buf = xmalloc(LEGACY_MAX_SIZE + 1);

    *len = 0;
    while (*len <= LEGACY_MAX_SIZE) {
        ssize_t r = read(fd, buf + *len, LEGACY_MAX_SIZE + 1 - *len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *err = errno;
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        *len += (size_t)r;
    }
    return buf;
}

bool legacy_load(int dfd, struct legacy_file *f, struct problems *w)
{
    const char *text;
    size_t len = 0;
    json_error_t err;
    struct stat st;
    char *buf;
    int fd, e = 0;

    /* O_NONBLOCK: a fifo named x.json must not hang ccwrap. */
    fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return unreadable(f, w, NULL, "cannot open", xstrdup(strerror(errno)));
    if (fstat(fd, &st) < 0) {
        e = errno;
        close(fd);
        return unreadable(f, w, NULL, "cannot read", xstrdup(strerror(e)));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    f->uid = st.st_uid;
    f->gid = st.st_gid;
    f->mode = st.st_mode;
    f->nlink = st.st_nlink;
    buf = st.st_size > (off_t)LEGACY_MAX_SIZE ? NULL : read_bounded(fd, &len, &e);
    close(fd);
    if (!buf && e)
        return unreadable(f, w, NULL, "cannot read", xstrdup(strerror(e)));
    if (!buf || len > LEGACY_MAX_SIZE) {
        free(buf);
        return unreadable(f, w, NULL, "larger than 1 MiB", NULL);
    }
    text = buf;
    /* Windows editors start UTF-8 files with a byte-order mark; JSON parsers may skip it. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        f->bom = true;
        text += 3;
        len -= 3;
    } else if (len >= 2 && (memcmp(text, "\xff\xfe", 2) == 0 || memcmp(text, "\xfe\xff", 2) == 0)) {
        free(buf);
        return unreadable(f, w, NULL, "UTF-16 text, not UTF-8 (save it as UTF-8)", NULL);
    }
    note_style(f, text, len);
    f->doc = json_loadb(text, len, 0, &err);
    free(buf);
    if (!f->doc) {
        char *where = xasprintf("%s:%d:%d", f->rel, err.line, err.column);
        struct stat lst;
        /*
         * jansson quotes the text near the error. Through a link to a file that not everyone
         * may read (clevercloud/php.json -> /etc/shadow), that would show another's secret.
         */
        bool withhold = !(st.st_mode & S_IROTH) &&
                        fstatat(dfd, f->name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISLNK(lst.st_mode);
        char *why = withhold ? xstrdup("its text is not shown: a symbolic link to a file not "
                                       "everyone may read")
                             : shown_text(err.text);

        unreadable(f, w, where, "malformed JSON", why);
        free(where);
        return false;
    }
    /*
     * Without JSON_DECODE_ANY the top level is an object or an array, and an array is no
     * mistake: Clever Cloud's own buckets.json is one. It holds no hooks.
     */
    if (!json_is_object(f->doc)) {
        json_decref(f->doc);
        f->doc = NULL;
        return false;
    }
    return true;
}

static void list_add(struct legacy_list *l, const char *rel, const char *key, const char *cmd,
                     bool skipped)
{
    struct legacy_hook *h;

    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    h = &l->v[l->n++];
    h->file = xstrdup(rel);
    h->key = xstrdup(key);
    h->command = xstrdup(cmd);
    h->skipped = skipped;
}

/*
 * HOOKS is the object holding postDeploy, KEY its dotted name, MISPLACED when it sits under
 * deploy. Returns true for an entry.
 */
static bool take_post_deploy(const char *rel, json_t *hooks, const char *key, bool misplaced,
                             const struct config *c, struct legacy_list *out, struct problems *w)
{
    json_t *v = json_object_get(hooks, "postDeploy");
    bool skip = misplaced && c->legacy_misplaced == MISPLACED_SKIP;
    const char *cmd;

    if (!v)
        return false;
    if (!json_is_string(v)) {
        problem_add(w, rel, "%s must be a string, got %s; ignored", key, json_type_name(v));
        return false;
    }
    cmd = json_string_value(v);
    if (is_blank(cmd)) {
        problem_add(w, rel, "%s is empty; ignored", key);
        return false;
    }
    list_add(out, rel, key, cmd, skip);
    /*
     * Clever Cloud documented hooks at the top level only, beside build and deploy: the one
     * real application found with it under deploy moved it out minutes later. Most likely it
     * never ran, so running it now (often a migration) would be a surprise.
     */
    if (skip)
        problem_add(w, rel,
                    "%s is misplaced: Clever Cloud read hooks only at the top level, so it most "
                    "likely never ran; skipped: move it to hooks.postDeploy, delete it, or set "
                    "legacy_misplaced = \"run\"",
                    key);
    else if (misplaced)
        problem_add(w, rel,
                    "%s is misplaced (Clever Cloud read hooks only at the top level); run, as "
                    "legacy_misplaced = \"run\" says",
                    key);
    return true;
}

size_t legacy_find(const struct legacy_file *f, const struct config *c, struct legacy_list *out,
                   struct problems *w)
{
    json_t *hooks = json_object_get(f->doc, "hooks");
    json_t *deploy = json_object_get(f->doc, "deploy");
    size_t found = 0;

    if (hooks && !json_is_object(hooks))
        problem_add(w, f->rel, "hooks must be an object, got %s; ignored", json_type_name(hooks));
    else if (hooks && take_post_deploy(f->rel, hooks, "hooks.postDeploy", false, c, out, w))
        found++;

    hooks = json_is_object(deploy) ? json_object_get(deploy, "hooks") : NULL;
    if (json_is_object(hooks) &&
        take_post_deploy(f->rel, hooks, "deploy.hooks.postDeploy", true, c, out, w))
        found++;
    return found;
}

static void deprecation(const struct legacy_hook *h, struct problems *w)
{
    problem_add(w, h->file,
                "%s is deprecated: it now runs as the last run-succeeded hook; "
                "run 'ccwrap migrate' to move it to hooks.d/run-succeeded/",
                h->key);
}

int legacy_scan(const char *root, const struct config *c, struct legacy_list *out,
                struct problems *warnings)
{
    char *dir = xasprintf("%s/%s", root, LEGACY_DIR);
    char **names;
    size_t n;
    int dfd;

    memset(out, 0, sizeof *out);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        log_error("%s: cannot open: %s", LEGACY_DIR, strerror(errno));
        return -1;
    }
    if (legacy_names(dfd, &names, &n) < 0) {
        close(dfd);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct legacy_file f = {.name = xstrdup(names[i])};
        size_t first = out->n;

        f.rel = xasprintf("%s/%s", LEGACY_DIR, f.name);
        if (legacy_load(dfd, &f, warnings) && legacy_find(&f, c, out, warnings) > 0) {
            /* One notice per file, for its first entry that runs. */
            for (size_t j = first; j < out->n; j++) {
                if (!out->v[j].skipped) {
                    deprecation(&out->v[j], warnings);
                    break;
                }
            }
        }
        if (f.unread)
            problem_add(&out->unread, f.rel, "%s", f.unread);
        legacy_file_free(&f);
    }
    legacy_names_free(names, n);
    close(dfd);
    return 0;
}

void legacy_list_free(struct legacy_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].key);
        free(l->v[i].command);
    }
    free(l->v);
    problems_free(&l->unread);
    memset(l, 0, sizeof *l);
}
