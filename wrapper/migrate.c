/*
 * migrate.c — `ccwrap migrate` (§6): each legacy postDeploy becomes a run-succeeded
 * drop-in that sorts after every existing one, and leaves its JSON file (rewrite.c writes it
 * back). Refuses, changing nothing, whatever it cannot move faithfully.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>

#include "util.h"
#include "msg.h"
#include "problems.h"
#include "beneath.h"
#include "config.h"
#include "legacy.h"
#include "rewrite.h"
#include "hooks.h"
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEGACY_DIR   "clevercloud"
#define DROPIN_FIRST 50
#define DROPIN_LAST  99

static const char blanks[] = " \t\r\n\f\v";

/*
 * Whether `exec` can go in front of CMD: one simple command whose first word is a program.
 * Reserved words and builtins without a program of their name would break under exec.
 */
static bool exec_ok(const char *cmd)
{
    static const char not_programs[] =
        " ! { } if then else elif fi case esac for while until do done in function select"
        " . : break continue eval exec exit export readonly return set shift times trap unset"
        " cd alias unalias umask ulimit wait jobs fg bg read getopts hash type command local"
        " source ";
    size_t wlen = strcspn(cmd, blanks);
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

/* A file name may hold a newline: keep the drop-in's comment on one line. */
static char *comment_safe(const char *s)
{
    char *c = xstrdup(s);

    for (char *p = c; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return c;
}

/* What migrate plans for one entry. */
struct move {
    const struct legacy_hook *hook;
    char *name;    /* NN-post-deploy */
    char *shown;   /* DROPIN_DIR/NN-post-deploy as the user names it, control bytes escaped */
    char *command; /* the drop-in's last line */
    bool created;
};

/* One file's share of the migration. */
struct file_plan {
    struct legacy_file f;
    struct legacy_list hooks;
    struct move *moves;
    size_t n_moves;
    bool emptied; /* nothing left but {} */
};

static void plan_free(struct file_plan *p)
{
    for (size_t i = 0; i < p->n_moves; i++) {
        free(p->moves[i].name);
        free(p->moves[i].shown);
        free(p->moves[i].command);
    }
    free(p->moves);
    legacy_list_free(&p->hooks);
    legacy_file_free(&p->f);
}

/* Everything one migration needs, and what it found. */
struct migration {
    const char *root;
    const struct config *cfg;
    const struct migrate_opts *opts;
    char *dir;       /* the drop-in folder as the user names it: hooks.d/run-succeeded */
    char *shown_dir; /* the same, control bytes escaped */
    char *last;      /* the drop-in name that sorts last today ("" when none) */
    char *last_dir;  /* and the folder it is in */
    int next;        /* the next NN to try */
    size_t refused;  /* problems that stop the migration */
    size_t left;     /* misplaced hooks left in place */
};

/* Reports a problem that stops the migration: nothing will be changed. */
static void refuse(struct migration *m, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(struct migration *m, const char *path, const char *fmt, ...)
{
    char *text, *shown, *p = shown_text(path);
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    /* The text may quote a value's first word: control bytes in it are shown, not sent. */
    shown = text ? shown_text(text) : NULL;
    log_error("%s: %s", p, shown ? shown : "(out of memory)");
    free(shown);
    free(text);
    free(p);
    m->refused++;
}

/*
 * The name that sorts last among the run-succeeded entries that run, across every hooks_dirs
 * folder: the legacy hook ran after all of them, its drop-in must too.
 */
static void find_last(struct migration *m)
{
    m->last = xstrdup("");
    for (size_t i = 0; i < m->cfg->n_hooks_dirs; i++) {
        const char *d = m->cfg->hooks_dirs[i];
        char *path = d[0] == '/' ? xasprintf("%s/run-succeeded", d)
                                 : xasprintf("%s/%s/run-succeeded", m->root, d);
        DIR *dir = opendir(path);
        struct dirent *e;

        free(path);
        while (dir && (e = readdir(dir)) != NULL) {
            char *skip = hook_skip_reason(e->d_name);

            if (!skip && strcmp(e->d_name, m->last) > 0) {
                free(m->last);
                free(m->last_dir);
                m->last = xstrdup(e->d_name);
                m->last_dir = xasprintf("%s/run-succeeded", d);
            }
            free(skip);
        }
        if (dir)
            closedir(dir);
    }
}

/* The next NN-post-deploy that sorts after every existing drop-in and every one taken. */
static int pick_name(struct migration *m, struct move *mv)
{
    for (; m->next <= DROPIN_LAST; m->next++) {
        char *name = xasprintf("%d-post-deploy", m->next);

        if (strcmp(name, m->last) > 0) {
            m->next++;
            mv->name = name;
            mv->shown = xasprintf("%s/%s", m->shown_dir, name);
            return 0;
        }
        free(name);
    }
    refuse(m, m->last_dir ? m->last_dir : m->dir,
           "%s sorts after %d-post-deploy, so a migrated hook would no longer run last; "
           "rename it (40-%s, say), then migrate again",
           m->last, DROPIN_LAST, m->last);
    return -1;
}

/*
 * One entry: what its drop-in runs, by hooks.c's rule (the one a run uses), or why it cannot
 * move as it is.
 */
static void plan_move(struct migration *m, struct file_plan *p, const struct legacy_hook *h)
{
    char *source = xasprintf("%s %s", h->file, h->key);
    struct hooklist l = {0};
    struct move *mv;

    hooks_add_legacy(&l, m->root, m->cfg, source, h->command);
    if (l.n != 1 || strcmp(l.v[0].source, source) != 0) {
        refuse(m, h->file,
               "%s names a folder, whose scripts ccwrap runs in turn; not migrated: move them "
               "into %s/ by hand",
               h->key, m->dir);
        goto out;
    }
    if (l.v[0].kind == HOOK_BROKEN && l.v[0].distrust) {
        /* A drop-in would run it as ccwrap's user, and every run would refuse it anyway. */
        refuse(m, source, "%s; not migrated, even with --force: a drop-in must not run it",
               l.v[0].problem);
        goto out;
    }
    if (l.v[0].kind == HOOK_BROKEN && !m->opts->force) {
        refuse(m, source, "%s; not migrated (--force migrates it as it is)", l.v[0].problem);
        goto out;
    }
    if (l.v[0].kind == HOOK_BROKEN) {
        char *src = shown_text(source), *why = shown_text(l.v[0].problem);

        log_warn("%s: %s; migrated as it is (--force)", src, why);
        free(src);
        free(why);
    }
    p->moves = xrealloc(p->moves, (p->n_moves + 1) * sizeof *p->moves);
    mv = &p->moves[p->n_moves++];
    memset(mv, 0, sizeof *mv);
    mv->hook = h;
    {
        const char *cmd = l.v[0].command + strspn(l.v[0].command, blanks);
        size_t len = strlen(cmd);

        while (len > 0 && strchr(blanks, cmd[len - 1]))
            len--;
        mv->command = xasprintf("%s%.*s", exec_ok(cmd) ? "exec " : "", (int)len, cmd);
    }
    if (pick_name(m, mv) < 0)
        p->n_moves--, free(mv->command);
out:
    hooklist_free(&l);
    free(source);
}

/* Removes KEY from DOC; an object it leaves empty goes with it, up to the top. */
static void remove_key(json_t *doc, const char *key)
{
    json_t *deploy = json_object_get(doc, "deploy");
    bool nested = strcmp(key, "deploy.hooks.postDeploy") == 0;
    json_t *parent = nested ? deploy : doc, *hooks = json_object_get(parent, "hooks");

    json_object_del(hooks, "postDeploy");
    if (json_object_size(hooks) == 0) {
        json_object_del(parent, "hooks");
        if (nested && json_object_size(deploy) == 0)
            json_object_del(doc, "deploy");
    }
}

/*
 * Everything that can be known before touching anything: the file, its hooks, their
 * drop-ins, what stops the migration. Warnings go out on the way.
 */
static void plan_file(struct migration *m, int dfd, struct file_plan *p)
{
    struct problems w = {0};
    struct stat lst;

    p->f.rel = xasprintf("%s/%s", LEGACY_DIR, p->f.name);
    if (legacy_load(dfd, &p->f, &w))
        legacy_find(&p->f, m->cfg, &p->hooks, &w);
    /* Not the deprecation notice: the user is doing what it asks. */
    for (size_t i = 0; i < w.n; i++) {
        char *path = shown_text(w.v[i].path);

        if (!p->f.unread)
            log_warn("%s: %s", path, w.v[i].text);
        free(path);
    }
    if (p->f.unread) {
        /* It may hide a postDeploy: migrating the others would report a success that is not. */
        refuse(m, w.n > 0 ? w.v[0].path : p->f.rel,
               "%s; cannot migrate: fix it, then migrate again", p->f.unread);
    }
    problems_free(&w);
    if (p->hooks.n == 0)
        return;
    /* rename would replace the link with a file, cutting it from what it shares. */
    if (fstatat(dfd, p->f.name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
        refuse(m, p->f.rel, "is a symbolic link, not rewritten; move its postDeploy by hand");
        return;
    }
    if (p->f.nlink > 1) {
        refuse(m, p->f.rel, "has %ju hard links, not rewritten; move its postDeploy by hand",
               (uintmax_t)p->f.nlink);
        return;
    }
    for (size_t i = 0; i < p->hooks.n; i++) {
        if (p->hooks.v[i].skipped)
            m->left++;
        else
            plan_move(m, p, &p->hooks.v[i]);
    }
    for (size_t i = 0; i < p->n_moves; i++)
        remove_key(p->f.doc, p->moves[i].hook->key);
    p->emptied = p->n_moves > 0 && json_object_size(p->f.doc) == 0;
}

/*
 * Creates the drop-in in the folder DDFD; O_EXCL | O_NOFOLLOW so that it never replaces a file
 * nor follows a link, even one that appeared since planning. 0, or -1 after reporting.
 */
static int write_dropin(int ddfd, struct move *mv)
{
    char *file = comment_safe(mv->hook->file);
    char *text =
        xasprintf(MIGRATE_MARKER "%s %s.\n"
                                 "# ccwrap runs drop-ins from the application root, like the old "
                                 "hook.\n"
                                 "%s\n",
                  file, mv->hook->key, mv->command);
    int fd, rc = -1;

    fd = openat(ddfd, mv->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0700);
    if (fd < 0) {
        log_error("%s: cannot create: %s", mv->shown, strerror(errno));
        goto out;
    }
    mv->created = true;
    if (write_all(fd, text, strlen(text)) < 0 || fchmod(fd, 0755) < 0 || fsync(fd) < 0) {
        log_error("%s: cannot write: %s", mv->shown, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) < 0) {
        log_error("%s: cannot write: %s", mv->shown, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(file);
    free(text);
    return rc;
}

static void print_move(const struct move *mv)
{
    json_t *j = json_string(mv->hook->command);
    char *value = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL, *file = shown_text(mv->hook->file);

    json_decref(j);
    printf("%s: %s %s -> %s\n", file, mv->hook->key, value ? value : "?", mv->shown);
    free(value);
    free(file);
}

/*
 * One file: its drop-ins first, then the file without the keys. Printed only once both are
 * done; on failure the drop-ins made go again, so the hook never runs twice.
 */
static int migrate_file(const struct migration *m, int dfd, int ddfd, struct file_plan *p)
{
    char *rel = shown_text(p->f.rel);
    bool remove = p->emptied && m->opts->remove_empty;
    size_t i;

    if (m->opts->write) {
        for (i = 0; i < p->n_moves; i++)
            if (write_dropin(ddfd, &p->moves[i]) < 0)
                goto undo;
        if (remove && unlinkat(dfd, p->f.name, 0) < 0) {
            log_error("%s: cannot remove: %s", rel, strerror(errno));
            goto undo;
        }
        if (!remove && legacy_rewrite(dfd, &p->f) < 0)
            goto undo;
    }
    for (i = 0; i < p->n_moves; i++)
        print_move(&p->moves[i]);
    if (remove)
        printf("%s: left empty, %s\n", rel, m->opts->write ? "removed" : "would be removed");
    else if (p->emptied)
        printf("%s: left empty ({}), kept: --remove-empty removes it\n", rel);
    free(rel);
    return 0;
undo:
    for (i = 0; i < p->n_moves; i++)
        if (p->moves[i].created)
            unlinkat(ddfd, p->moves[i].name, 0);
    free(rel);
    return -1;
}

/* Says why a folder on the way cannot be used, ERR being open_beneath's errno. */
static void refuse_path(struct migration *m, const char *what, int err)
{
    if (err == ELOOP)
        refuse(m, what,
               "a symbolic link on the way; migrate writes only through real folders, so that "
               "it never writes outside the tree: replace the link with a folder");
    else if (err == EXDEV)
        refuse(m, what, "outside the application root; migrate writes only inside it");
    else
        refuse(m, what, "cannot open: %s", strerror(err));
}

/*
 * The drop-in folder, through no symlink: created if need be with --write, only looked at
 * without it (a dry run refuses what --write would). An fd (-1 when a dry run finds it
 * missing), or -1 after reporting.
 */
static int open_dropin_dir(struct migration *m, int rootfd)
{
    bool absolute = m->dir[0] == '/';
    const char *rel = m->dir + strspn(m->dir, "/");
    int base = absolute ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : rootfd, fd = -1;

    if (base >= 0 && m->opts->write)
        fd = mkdirs_beneath(base, rel, 0755);
    else if (base >= 0)
        fd = open_beneath(base, rel, O_RDONLY | O_DIRECTORY, 0);
    /* In a dry run, a folder still to be made is fine: the walk met no link before it. */
    if (fd < 0 && !(errno == ENOENT && !m->opts->write))
        refuse_path(m, m->dir, errno);
    if (absolute && base >= 0)
        close(base);
    return fd;
}

static void summary(const struct migration *m, size_t migrated)
{
    if (migrated == 0 && m->left == 0)
        printf("nothing to migrate: no postDeploy hook in %s/*.json\n", LEGACY_DIR);
    else if (!m->opts->write && migrated > 0)
        printf("dry run: nothing changed; run 'ccwrap migrate --write' to apply\n");
    else if (migrated > 0)
        printf("migrated %zu hook(s)\n", migrated);
    if (m->left > 0)
        printf("left %zu misplaced hook(s) in place: legacy_misplaced = \"skip\"\n", m->left);
}

int legacy_migrate(const char *root, const struct config *c, const struct migrate_opts *o)
{
    struct migration m = {.root = root, .cfg = c, .opts = o, .next = DROPIN_FIRST};
    struct file_plan *plans = NULL;
    char **names = NULL;
    size_t n = 0, migrated = 0, i;
    int rootfd, dfd = -1, ddfd = -1, rc = -1;

    m.dir = xasprintf("%s/run-succeeded", c->n_hooks_dirs ? c->hooks_dirs[0] : "hooks.d");
    m.shown_dir = shown_text(m.dir);
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        log_error("%s: cannot open: %s", root, strerror(errno));
        goto out;
    }
    dfd = open_beneath(rootfd, LEGACY_DIR, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        rc = 0;
        summary(&m, 0);
        goto out;
    }
    if (dfd < 0) {
        refuse_path(&m, LEGACY_DIR, errno);
        goto out;
    }
    if (legacy_names(dfd, &names, &n) < 0)
        goto out;
    find_last(&m);
    plans = xcalloc(n, sizeof *plans);
    /* Plan every file before changing any, so that a refusal leaves everything as it was. */
    for (i = 0; i < n; i++) {
        plans[i].f.name = xstrdup(names[i]);
        plan_file(&m, dfd, &plans[i]);
        migrated += plans[i].n_moves;
    }
    if (m.refused > 0)
        goto out;
    if (migrated > 0) {
        ddfd = open_dropin_dir(&m, rootfd);
        if (m.refused > 0)
            goto out;
    }
    for (i = 0; i < n; i++)
        if (plans[i].n_moves > 0 && migrate_file(&m, dfd, ddfd, &plans[i]) < 0)
            goto out;
    summary(&m, migrated);
    rc = 0;
out:
    if (fflush(stdout) == EOF && rc == 0) {
        log_error("stdout: %s", strerror(errno));
        rc = -1;
    }
    for (i = 0; plans && i < n; i++)
        plan_free(&plans[i]);
    free(plans);
    legacy_names_free(names, n);
    if (ddfd >= 0)
        close(ddfd);
    if (dfd >= 0)
        close(dfd);
    if (rootfd >= 0)
        close(rootfd);
    free(m.dir);
    free(m.shown_dir);
    free(m.last);
    free(m.last_dir);
    return rc;
}
