/*
 * legacy.c — the pre-2017 `hooks.postDeploy` of clevercloud/<type>.json (SPEC §6): finding it,
 * and `ccwrap migrate`, which moves it to a run-succeeded drop-in. The only <jansson.h> user
 * besides the event log.
 */
#include "ccwrap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEGACY_DIR      "clevercloud"
#define LEGACY_MAX_SIZE ((size_t)1 << 20)
#define DROPIN_FIRST    50
#define DROPIN_LAST     99

static const char blanks[] = " \t\r\n\f\v";
/* Where a shell word ends without quoting. */
static const char word_end[] = " \t\r\n\f\v;&|<>()";
/* A word holding one of these is expanded or quoted by the shell: we cannot tell what it names. */
static const char word_magic[] = "\"'\\$`*?[]{}~#=";

/* One clevercloud/<type>.json, parsed, with the postDeploy entries found in it. */
struct legacy_file {
    char *name; /* "php.json" */
    char *rel;  /* "clevercloud/php.json" */
    json_t *doc;
    struct stat st;
};

static void file_free(struct legacy_file *f)
{
    free(f->name);
    free(f->rel);
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

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/*
 * The *.json names of ROOT/clevercloud, sorted bytewise; *dfd is the folder, or -1 with no
 * names when there is no such folder. 0, or -1 after reporting.
 */
static int list_files(const char *root, int *dfd, char ***names, size_t *n)
{
    char *dir = xasprintf("%s/%s", root, LEGACY_DIR);
    DIR *d;
    struct dirent *e;
    int fd;

    *dfd = -1;
    *names = NULL;
    *n = 0;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;

        free(dir);
        if (saved == ENOENT || saved == ENOTDIR)
            return 0;
        log_error("%s: cannot open: %s", LEGACY_DIR, strerror(saved));
        return -1;
    }
    /* fdopendir takes fd over; keep our own copy for openat after closedir. */
    *dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (*dfd < 0 || !(d = fdopendir(fd))) {
        log_error("%s: cannot open: %s", LEGACY_DIR, strerror(errno));
        if (*dfd >= 0)
            close(*dfd);
        *dfd = -1;
        close(fd);
        free(dir);
        return -1;
    }
    free(dir);
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
        close(*dfd);
        *dfd = -1;
        free_names(*names, *n);
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
 * Reads and parses one file. A file that cannot be used is a problem, not an error: the others
 * still count. Returns false when F->doc stays NULL (ignored, or not a regular file).
 */
static bool load_file(int dfd, struct legacy_file *f, struct problems *w)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t err;
    int fd;

    /* O_NONBLOCK: a fifo named x.json must not hang ccwrap. */
    fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        problem_add(w, f->rel, "cannot open, file ignored: %s", strerror(errno));
        return false;
    }
    if (fstat(fd, &f->st) < 0) {
        problem_add(w, f->rel, "cannot read, file ignored: %s", strerror(errno));
        close(fd);
        return false;
    }
    if (!S_ISREG(f->st.st_mode)) {
        close(fd);
        return false;
    }
    if (f->st.st_size > (off_t)LEGACY_MAX_SIZE)
        goto too_large;
    /* Bound the read itself too: the file may grow under us. */
    buf = xmalloc(LEGACY_MAX_SIZE + 1);
    while (len <= LEGACY_MAX_SIZE) {
        ssize_t r = read(fd, buf + len, LEGACY_MAX_SIZE + 1 - len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            problem_add(w, f->rel, "cannot read, file ignored: %s", strerror(errno));
            free(buf);
            close(fd);
            return false;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > LEGACY_MAX_SIZE)
        goto too_large;
    close(fd);
    f->doc = json_loadb(buf, len, 0, &err);
    free(buf);
    if (!f->doc) {
        char *where = xasprintf("%s:%d:%d", f->rel, err.line, err.column);

        problem_add(w, where, "malformed JSON, file ignored: %s", err.text);
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

too_large:
    problem_add(w, f->rel, "larger than 1 MiB, file ignored");
    free(buf);
    close(fd);
    return false;
}

/* Length of the first shell word of CMD, leading blanks already skipped. */
static size_t first_word_len(const char *cmd)
{
    return strcspn(cmd, word_end);
}

/* True when WORD names something: under ROOT when relative, as written when absolute. */
static bool word_exists(const char *root, const char *word, size_t len, bool dir_ok)
{
    char *path = word[0] == '/' ? xasprintf("%.*s", (int)len, word)
                                : xasprintf("%s/%.*s", root, (int)len, word);
    struct stat st;
    bool ok = stat(path, &st) == 0 && (dir_ok || !S_ISDIR(st.st_mode));

    free(path);
    return ok;
}

static bool word_plain(const char *word, size_t len)
{
    return len > 0 && strcspn(word, word_magic) >= len;
}

/* Warns about a first word that was meant as a script and names nothing (SPEC §3's rule). */
static void check_script(const char *root, const char *rel, const char *cmd, struct problems *w)
{
    const char *word = cmd + strspn(cmd, blanks);
    size_t len = first_word_len(word);
    bool pathlike = memchr(word, '/', len) != NULL;
    bool scriptlike = len > 3 && memcmp(word + len - 3, ".sh", 3) == 0;

    if (!word_plain(word, len) || (!pathlike && !scriptlike))
        return;
    if (!word_exists(root, word, len, true))
        problem_add(w, rel, "script %.*s does not exist", (int)len, word);
}

static void list_add(struct legacy_list *l, const char *rel, const char *key, const char *cmd)
{
    struct legacy_hook *h;

    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    h = &l->v[l->n++];
    h->file = xstrdup(rel);
    h->key = xstrdup(key);
    h->command = xstrdup(cmd);
}

/*
 * HOOKS is the object holding postDeploy, KEY its dotted name, MISPLACED when it sits under
 * deploy. Returns true for an entry.
 */
static bool take_post_deploy(const char *root, const char *rel, json_t *hooks, const char *key,
                             bool misplaced, struct legacy_list *out, struct problems *w)
{
    json_t *v = json_object_get(hooks, "postDeploy");
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
    list_add(out, rel, key, cmd);
    if (misplaced)
        problem_add(w, rel,
                    "%s is misplaced (Clever Cloud reads hooks at the top level); found and run "
                    "anyway",
                    key);
    check_script(root, rel, cmd, w);
    return true;
}

/* The entries of one parsed file, top-level hooks first. Returns how many. */
static size_t find_hooks(const char *root, const struct legacy_file *f, struct legacy_list *out,
                         struct problems *w)
{
    json_t *hooks = json_object_get(f->doc, "hooks");
    json_t *deploy = json_object_get(f->doc, "deploy");
    size_t found = 0;

    if (hooks && !json_is_object(hooks))
        problem_add(w, f->rel, "hooks must be an object, got %s; ignored", json_type_name(hooks));
    else if (hooks && take_post_deploy(root, f->rel, hooks, "hooks.postDeploy", false, out, w))
        found++;

    /* Some apps nested hooks under deploy: Clever Cloud never read it there, but it was meant. */
    hooks = json_is_object(deploy) ? json_object_get(deploy, "hooks") : NULL;
    if (json_is_object(hooks) &&
        take_post_deploy(root, f->rel, hooks, "deploy.hooks.postDeploy", true, out, w))
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

int legacy_scan(const char *root, struct legacy_list *out, struct problems *warnings)
{
    char **names;
    size_t n;
    int dfd;

    out->v = NULL;
    out->n = 0;
    if (list_files(root, &dfd, &names, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct legacy_file f = {.name = xstrdup(names[i])};
        size_t first = out->n;

        f.rel = xasprintf("%s/%s", LEGACY_DIR, f.name);
        if (load_file(dfd, &f, warnings) && find_hooks(root, &f, out, warnings) > 0)
            deprecation(&out->v[first], warnings);
        file_free(&f);
    }
    free_names(names, n);
    if (dfd >= 0)
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
    l->v = NULL;
    l->n = 0;
}

/* ---- migrate --------------------------------------------------------- */

/*
 * Whether `exec` can go in front of CMD: one simple command whose first word is a program.
 * Reserved words and builtins without a program of their name would break under exec.
 */
static bool exec_ok(const char *cmd, size_t wlen)
{
    static const char not_programs[] =
        " ! { } if then else elif fi case esac for while until do done in function select"
        " . : break continue eval exec exit export readonly return set shift times trap unset"
        " cd alias unalias umask ulimit wait jobs fg bg read getopts hash type command local"
        " source ";
    const char *eq = memchr(cmd, '=', wlen);
    char *padded;
    bool found;

    if (strpbrk(cmd, ";&|<>`()\n\r"))
        return false;
    /* NAME=value runs nothing: `exec NAME=value x` would try to run "NAME=value". */
    if (eq && env_name_valid(cmd, (size_t)(eq - cmd)))
        return false;
    padded = xasprintf(" %.*s ", (int)wlen, cmd);
    found = strstr(not_programs, padded) != NULL;
    free(padded);
    return !found;
}

/* The drop-in's command line: the old value, its script made ./-relative, exec'ed if it can. */
static char *dropin_command(const char *root, const char *value)
{
    const char *cmd = value + strspn(value, blanks);
    size_t len = strlen(cmd), wlen = first_word_len(cmd);
    bool dot = false;
    char *out;

    while (len > 0 && strchr(blanks, cmd[len - 1]))
        len--;
    if (word_plain(cmd, wlen) && cmd[0] != '/' && strncmp(cmd, "./", 2) != 0 &&
        strncmp(cmd, "../", 3) != 0) {
        /* A relative path already names the root's file; a bare name only when one exists. */
        dot = memchr(cmd, '/', wlen) != NULL || word_exists(root, cmd, wlen, false);
    }
    out = xasprintf("%s%s%.*s", exec_ok(cmd, wlen) ? "exec " : "", dot ? "./" : "", (int)len, cmd);
    return out;
}

/* A file name may hold a newline: keep the drop-in's comment on one line. */
static char *comment_safe(const char *s)
{
    char *c = xstrdup(s);

    for (char *p = c; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return c;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* mkdir -p, each folder it creates 0755 whatever the umask. 0, or -1 with errno. */
static int mkdirs(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;

    for (char *s = p + 1;; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) == 0) {
            if (chmod(p, 0755) < 0) {
                rc = -1;
                break;
            }
        } else if (errno != EEXIST) {
            rc = -1;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (rc == 0) {
        struct stat st;

        if (stat(path, &st) < 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return rc;
}

/* What migrate plans for one entry. */
struct move {
    const struct legacy_hook *hook;
    int number;  /* NN of NN-post-deploy */
    char *shown; /* DROPIN_DIR/NN-post-deploy as the user names it */
    char *path;  /* where it is created */
    bool created;
};

/*
 * The next free NN-post-deploy from *next on: never an existing name, never one this run already
 * took. 0, or -1 after reporting.
 */
static int pick_name(const char *dir, const char *shown_dir, int *next, struct move *m)
{
    for (; *next <= DROPIN_LAST; (*next)++) {
        char *path = xasprintf("%s/%d-post-deploy", dir, *next);
        struct stat st;

        if (lstat(path, &st) < 0) {
            if (errno != ENOENT) {
                log_error("%s: %s", shown_dir, strerror(errno));
                free(path);
                return -1;
            }
            m->number = (*next)++;
            m->path = path;
            m->shown = xasprintf("%s/%d-post-deploy", shown_dir, m->number);
            return 0;
        }
        free(path);
    }
    log_error("%s: no free name from %d-post-deploy to %d-post-deploy; rename some drop-ins",
              shown_dir, DROPIN_FIRST, DROPIN_LAST);
    return -1;
}

/*
 * Creates the drop-in; O_EXCL so that it never replaces a file, even one that appeared since
 * pick_name. 0, or -1 after reporting.
 */
static int write_dropin(const char *root, struct move *m)
{
    char *file = comment_safe(m->hook->file);
    char *cmd = dropin_command(root, m->hook->command);
    char *text = xasprintf("#!/bin/sh\n"
                           "# Moved by 'ccwrap migrate' from %s %s.\n"
                           "# ccwrap runs drop-ins from the application root, like the old hook.\n"
                           "%s\n",
                           file, m->hook->key, cmd);
    int fd, rc = -1;

    fd = open(m->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0755);
    if (fd < 0) {
        log_error("%s: cannot create: %s", m->shown, strerror(errno));
        goto out;
    }
    m->created = true;
    if (write_all(fd, text, strlen(text)) < 0 || fchmod(fd, 0755) < 0 || fsync(fd) < 0) {
        log_error("%s: cannot write: %s", m->shown, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) < 0) {
        log_error("%s: cannot write: %s", m->shown, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(file);
    free(cmd);
    free(text);
    return rc;
}

/* Removes KEY from DOC; an object it leaves empty goes with it, up to the top. */
static void remove_key(json_t *doc, const char *key)
{
    if (strcmp(key, "hooks.postDeploy") == 0) {
        json_t *hooks = json_object_get(doc, "hooks");

        json_object_del(hooks, "postDeploy");
        if (json_object_size(hooks) == 0)
            json_object_del(doc, "hooks");
    } else {
        json_t *deploy = json_object_get(doc, "deploy");
        json_t *hooks = json_object_get(deploy, "hooks");

        json_object_del(hooks, "postDeploy");
        if (json_object_size(hooks) == 0) {
            json_object_del(deploy, "hooks");
            if (json_object_size(deploy) == 0)
                json_object_del(doc, "deploy");
        }
    }
}

static int real_digits(double d)
{
    char buf[40];

    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return p;
    }
    return 17;
}

/*
 * The fewest digits that write every real of J back as it was read: jansson's default of 17
 * would turn a 0.1 in the user's file into 0.10000000000000001.
 */
/* Recursion is bounded: jansson refuses documents nested deeper than 2048. */
static int real_precision(json_t *j) /* NOLINT(misc-no-recursion) */
{
    int p = 1, q;
    const char *k;
    size_t i;
    json_t *v;

    if (json_is_real(j) && isfinite(json_real_value(j)))
        return real_digits(json_real_value(j));
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if ((q = real_precision(v)) > p)
                p = q;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            if ((q = real_precision(v)) > p)
                p = q;
        }
    }
    return p;
}

/*
 * Rewrites the file through a temporary file in its folder and rename: a reader sees the old
 * file or the new one, and a failure leaves the old one. 0, or -1 after reporting.
 */
static int rewrite_json(const char *root, const struct legacy_file *f)
{
    char *tmp = xasprintf("%s/%s/.%s.XXXXXX", root, LEGACY_DIR, f->name);
    char *dst = xasprintf("%s/%s", root, f->rel);
    size_t flags =
        JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(real_precision(f->doc));
    char *text = json_dumps(f->doc, flags);
    int fd = -1, rc = -1;
    const char *what = "cannot write";

    if (!text) {
        log_error("%s: cannot encode JSON", f->rel);
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        log_error("%s: cannot create a temporary file beside it: %s", f->rel, strerror(errno));
        goto out;
    }
    if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0)
        goto fail;
    if ((f->st.st_uid != geteuid() || f->st.st_gid != getegid()) &&
        fchown(fd, f->st.st_uid, f->st.st_gid) < 0) {
        what = "cannot keep its owner";
        goto fail;
    }
    if (fchmod(fd, f->st.st_mode & 07777) < 0) {
        what = "cannot keep its mode";
        goto fail;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, dst) < 0) {
        what = "cannot replace";
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    log_error("%s: %s: %s", f->rel, what, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out:
    free(text);
    free(tmp);
    free(dst);
    return rc;
}

static void print_move(const struct move *m)
{
    json_t *j = json_string(m->hook->command);
    char *value = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    json_decref(j);
    printf("%s: %s %s -> %s\n", m->hook->file, m->hook->key, value ? value : "?", m->shown);
    free(value);
}

/*
 * One file: its drop-ins first, then the file without the keys. Printed only once both are
 * done; on failure the drop-ins made go again, so the hook never runs twice.
 */
static int migrate_file(const char *root, const struct legacy_file *f, struct move *moves, size_t n,
                        bool write)
{
    size_t i;

    if (write) {
        for (i = 0; i < n; i++)
            if (write_dropin(root, &moves[i]) < 0)
                goto undo;
        for (i = 0; i < n; i++)
            remove_key(f->doc, moves[i].hook->key);
        if (rewrite_json(root, f) < 0)
            goto undo;
    }
    for (i = 0; i < n; i++)
        print_move(&moves[i]);
    return 0;
undo:
    for (i = 0; i < n; i++)
        if (moves[i].created)
            unlink(moves[i].path);
    return -1;
}

static char *shown_dir_of(const char *dropin_dir)
{
    char *s = xstrdup(dropin_dir);
    size_t len = strlen(s);

    while (len > 1 && s[len - 1] == '/')
        s[--len] = '\0';
    return s;
}

/*
 * True when the run translates CMD into its folder's entries (SPEC §3, hooks.c's rule: a plain
 * first word up to a blank that names a folder). A drop-in cannot say that: `exec ./folder`
 * fails, so such a hook is left for the user to move.
 */
static bool names_folder(const char *root, const char *cmd)
{
    const char *word = cmd + strspn(cmd, " \t\n");
    size_t len = strcspn(word, " \t\n");
    char *path;
    struct stat st;
    bool dir;

    if (len == 0 || strcspn(word, "\"'`$\\;&|<>()*?[]{}~=#!") < len)
        return false;
    path = word[0] == '/' ? xasprintf("%.*s", (int)len, word)
                          : xasprintf("%s/%.*s", root, (int)len, word);
    dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(path);
    return dir;
}

/* One file's share of the migration. */
struct file_plan {
    struct legacy_file f;
    struct legacy_list hooks;
    struct move *moves;
};

static void plan_free(struct file_plan *p)
{
    for (size_t i = 0; p->moves && i < p->hooks.n; i++) {
        free(p->moves[i].path);
        free(p->moves[i].shown);
    }
    free(p->moves);
    legacy_list_free(&p->hooks);
    file_free(&p->f);
}

/*
 * Everything that can be known before touching anything: the hooks, their drop-in names, the
 * files that cannot be rewritten. Warnings go out on the way. 0, or -1 after reporting.
 */
static int plan_file(const char *root, int dfd, const char *dir, const char *shown_dir, int *next,
                     struct file_plan *p)
{
    struct problems w = {0};
    struct stat lst;
    int rc = 0;

    p->f.rel = xasprintf("%s/%s", LEGACY_DIR, p->f.name);
    if (load_file(dfd, &p->f, &w))
        find_hooks(root, &p->f, &p->hooks, &w);
    /* Not the deprecation notice: the user is doing what it asks. */
    for (size_t i = 0; i < w.n; i++)
        log_warn("%s: %s", w.v[i].path, w.v[i].text);
    problems_free(&w);
    if (p->hooks.n == 0)
        return 0;
    /* rename would replace the link with a file, cutting it from what it shares. */
    if (fstatat(dfd, p->f.name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
        log_error("%s: is a symbolic link, not rewritten; move its postDeploy by hand", p->f.rel);
        rc = -1;
    }
    p->moves = xcalloc(p->hooks.n, sizeof *p->moves);
    for (size_t i = 0; i < p->hooks.n; i++) {
        p->moves[i].hook = &p->hooks.v[i];
        if (names_folder(root, p->hooks.v[i].command)) {
            log_error("%s: %s names a folder, whose scripts ccwrap runs in turn; not migrated: "
                      "move them into %s/ by hand",
                      p->f.rel, p->hooks.v[i].key, shown_dir);
            rc = -1;
        }
        if (rc == 0 && pick_name(dir, shown_dir, next, &p->moves[i]) < 0)
            rc = -1;
    }
    return rc;
}

int legacy_migrate(const char *root, const char *dropin_dir, bool write)
{
    char *shown_dir = shown_dir_of(dropin_dir);
    char *dir = dropin_dir[0] == '/' ? xstrdup(shown_dir) : xasprintf("%s/%s", root, shown_dir);
    struct file_plan *plans = NULL;
    char **names;
    size_t n, migrated = 0, i;
    int dfd, next = DROPIN_FIRST, rc = -1;

    if (list_files(root, &dfd, &names, &n) < 0)
        goto out;
    plans = xcalloc(n, sizeof *plans);
    /* Plan every file before changing any, so that a refusal leaves everything as it was. */
    for (i = 0; i < n; i++) {
        plans[i].f.name = xstrdup(names[i]);
        if (plan_file(root, dfd, dir, shown_dir, &next, &plans[i]) < 0)
            goto out;
        migrated += plans[i].hooks.n;
    }
    if (migrated > 0 && write && mkdirs(dir) < 0) {
        log_error("%s: cannot create: %s", shown_dir, strerror(errno));
        goto out;
    }
    for (i = 0; i < n; i++)
        if (plans[i].hooks.n > 0 &&
            migrate_file(root, &plans[i].f, plans[i].moves, plans[i].hooks.n, write) < 0)
            goto out;
    if (migrated == 0)
        printf("nothing to migrate: no postDeploy hook in %s/*.json\n", LEGACY_DIR);
    else if (!write)
        printf("dry run: nothing changed; run 'ccwrap migrate --write' to apply\n");
    else
        printf("migrated %zu hook(s)\n", migrated);
    rc = 0;
out:
    if (fflush(stdout) == EOF && rc == 0) {
        log_error("stdout: %s", strerror(errno));
        rc = -1;
    }
    for (i = 0; plans && i < n; i++)
        plan_free(&plans[i]);
    free(plans);
    if (dfd >= 0)
        close(dfd);
    free_names(names, n);
    free(dir);
    free(shown_dir);
    return rc;
}
