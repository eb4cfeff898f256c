/*
 * hooks.c — which hooks a point has, in order (§2, §3): the CC_*_HOOK variable, the
 * drop-in folders merged by name, then the translated legacy postDeploy. Runs nothing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "points.h"
#include "util.h"
#include "problems.h"
#include "config.h"
#include "trust.h"
#include "legacy.h"
#include "value.h"
#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct hook *add(struct hooklist *l, enum hook_kind kind, const char *source)
{
    struct hook *h;

    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    h = &l->v[l->n++];
    memset(h, 0, sizeof *h);
    h->kind = kind;
    h->source = xstrdup(source);
    return h;
}

void hooklist_free(struct hooklist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].source);
        free(l->v[i].path);
        free(l->v[i].command);
        free(l->v[i].value);
        free(l->v[i].problem);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Why a drop-in name is skipped (run-parts' and systemd's conventions), or NULL. */
char *hook_skip_reason(const char *name)
{
    static const char *const suffixes[] = {
        "~",         ".bak",       ".orig",   ".swp",     ".tmp", ".disabled", ".dpkg-old",
        ".dpkg-new", ".dpkg-dist", ".rpmnew", ".rpmsave", ".md",  ".txt",
    };
    size_t len = strlen(name);

    if (name[0] == '.')
        return xstrdup("skipped: hidden name (starts with '.')");
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);

        if (len >= sl && strcmp(name + len - sl, suffixes[i]) == 0)
            return xasprintf("skipped: name ends in '%s'", suffixes[i]);
    }
    return NULL;
}

/* A drop-in folder's entry, before the folders are merged. */
struct entry {
    char *name;
    char *display; /* as the user names it, and as run from the root: hooks.d/pre-run/10-x */
    char *path;    /* the same from ccwrap's working folder, to look at it */
    size_t folder; /* which folder: a later one replaces an earlier one */
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->name, y->name); /* bytewise: strcmp compares unsigned chars */

    if (c)
        return c;
    return x->folder < y->folder ? -1 : x->folder > y->folder;
}

/* systemd's mask: a symlink that resolves to /dev/null. */
static bool is_mask(const char *path)
{
    struct stat lst, st, null;

    return lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(path, &st) == 0 &&
           S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
}

static struct hook *add_broken(struct hooklist *l, const char *source, int status)
{
    struct hook *h = add(l, HOOK_BROKEN, source);

    h->status = status;
    return h;
}

static void add_command(struct hooklist *l, const char *root, const struct config *c,
                        const char *source, const char *value, bool legacy);

/*
 * A drop-in that migrate wrote (its first lines say so) runs the postDeploy's line: that line
 * is judged as the postDeploy was, so that a script given to another user since is refused as
 * it was before the migration. The problem with its status, or NULL.
 */
/* NOLINTNEXTLINE(misc-no-recursion): once deep, migrated_problem says */
static char *migrated_problem(const char *root, const struct config *c, const struct entry *e,
                              int *status)
{
    static int depth; /* a line naming the drop-in's own folder would come back here */
    char buf[8192], *line, *problem = NULL;
    struct hooklist l = {0};
    ssize_t len;
    int fd;

    if (depth > 0)
        return NULL;
    fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0 || (size_t)len < sizeof MIGRATE_MARKER - 1 ||
        memcmp(buf, MIGRATE_MARKER, sizeof MIGRATE_MARKER - 1) != 0)
        return NULL;
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    if (strncmp(line, "exec ", 5) == 0)
        line += 5;
    depth++;
    add_command(&l, root, c, e->display, line, true);
    depth--;
    for (size_t i = 0; i < l.n && !problem; i++)
        if (l.v[i].kind == HOOK_BROKEN) {
            problem = xstrdup(l.v[i].problem);
            *status = l.v[i].status;
        }
    hooklist_free(&l);
    return problem;
}

/* An execute bit and, for this user, the right to use it (root has it with any bit). */
static bool is_executable(const struct stat *st, const char *path)
{
    return (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) && access(path, X_OK) == 0;
}

/* The drop-in that holds its name: runnable, skipped, or broken with the fix. */
/* NOLINTNEXTLINE(misc-no-recursion): once deep, migrated_problem says */
static void add_dropin(struct hooklist *l, const char *root, const struct config *c,
                       const struct entry *e)
{
    struct stat lst, st;
    struct hook *h;
    char *word, *distrust, *migrated = NULL;
    int status = EXIT_NOEXEC;

    if (lstat(e->path, &lst) < 0) {
        add_broken(l, e->display, EXIT_NOTFOUND)->problem =
            xasprintf("cannot be read: %s", strerror(errno));
        return;
    }
    if (stat(e->path, &st) < 0) {
        char target[4096];
        ssize_t n = readlink(e->path, target, sizeof target - 1);

        target[n > 0 ? n : 0] = '\0';
        add_broken(l, e->display, EXIT_NOTFOUND)->problem =
            S_ISLNK(lst.st_mode)
                ? xasprintf("broken symlink to %s; fix the link, or remove it", target)
                : xasprintf("cannot be read: %s", strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        add(l, HOOK_SKIPPED, e->display)->problem = xstrdup("skipped: a folder");
        return;
    }
    word = shell_word(e->display);
    distrust = S_ISREG(st.st_mode) ? trust_problem(e->path, root, NULL, c) : NULL;
    if (!S_ISREG(st.st_mode)) {
        add_broken(l, e->display, EXIT_NOEXEC)->problem =
            xstrdup("not a regular file; replace it with an executable file");
    } else if (distrust) {
        h = add_broken(l, e->display, EXIT_NOEXEC);
        h->problem = distrust;
        h->distrust = true;
    } else if (!is_executable(&st, e->path)) {
        char *disabled = xasprintf("%s.disabled", e->display), *word2 = shell_word(disabled);

        add_broken(l, e->display, EXIT_NOEXEC)->problem =
            xasprintf("not executable; chmod +x %s, or rename it to %s", word, word2);
        free(disabled);
        free(word2);
    } else if ((migrated = migrated_problem(root, c, e, &status)) != NULL) {
        h = add_broken(l, e->display, status);
        h->problem = migrated;
        h->distrust = status == EXIT_NOEXEC;
    } else {
        /* Hooks run from the root: argv[0] is the path as the user names it (§3). */
        h = add(l, HOOK_EXEC, e->display);
        h->path = xstrdup(e->display);
    }
    free(word);
}

/*
 * Adds the entries of folder DISPLAY (at PATH from here) to *ents. BASE, when set, is the
 * hooks_dirs folder holding it. Who may write the folders is judged per drop-in (trust.c).
 */
static void read_folder(struct hooklist *l, const char *display, const char *path, const char *base,
                        const char *base_path, size_t index, struct entry **ents, size_t *n)
{
    struct stat st;
    struct dirent *d;
    DIR *dir = opendir(path);

    if (!dir) {
        /* A hooks_dirs entry that is a file: one problem, named after the entry itself. */
        if (errno == ENOTDIR && base_path && stat(base_path, &st) == 0 && !S_ISDIR(st.st_mode))
            add_broken(l, base, EXIT_NOEXEC)->problem =
                xstrdup("not a folder; fix hooks_dirs or remove it");
        else if (errno == ENOTDIR)
            add_broken(l, display, EXIT_NOEXEC)->problem =
                xstrdup("not a folder; drop-ins go in a folder of that name");
        else if (errno != ENOENT)
            add_broken(l, display, EXIT_NOEXEC)->problem =
                xasprintf("cannot be read: %s", strerror(errno));
        return;
    }
    while ((d = readdir(dir)) != NULL) {
        struct entry *e;

        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        *ents = xrealloc(*ents, (*n + 1) * sizeof **ents);
        e = &(*ents)[(*n)++];
        e->name = xstrdup(d->d_name);
        e->display = xasprintf("%s/%s", display, d->d_name);
        e->path = xasprintf("%s/%s", path, d->d_name);
        e->folder = index;
    }
    closedir(dir);
}

static char *from_here(const char *root, const char *display)
{
    return display[0] == '/' ? xstrdup(display) : xasprintf("%s/%s", root, display);
}

/*
 * Adds the entries of the folders DISPLAYS (relative to the root, or absolute), merged by
 * name and in bytewise order, skipped, replaced and masked ones included for plan and -v.
 * BASES, when set, are the hooks_dirs folders holding them.
 */
/* NOLINTNEXTLINE(misc-no-recursion): once deep, migrated_problem says */
static void add_folders(struct hooklist *l, const char *root, const struct config *c,
                        char *const *displays, char *const *bases, size_t n)
{
    struct entry *ents = NULL;
    char **base_paths = xcalloc(n + 1, sizeof *base_paths);
    size_t nents = 0, i, j;

    for (i = 0; i < n; i++) {
        char *path = from_here(root, displays[i]);

        base_paths[i] = bases ? from_here(root, bases[i]) : NULL;
        read_folder(l, displays[i], path, bases ? bases[i] : NULL, base_paths[i], i, &ents, &nents);
        free(path);
    }
    if (nents > 0)
        qsort(ents, nents, sizeof *ents, cmp_entry);
    for (i = 0; i < nents; i = j) {
        const struct entry *win;
        char *reason;
        bool masked;

        for (j = i + 1; j < nents && strcmp(ents[j].name, ents[i].name) == 0; j++)
            ;
        win = &ents[j - 1];
        reason = hook_skip_reason(win->name);
        if (reason) {
            for (size_t k = i; k < j; k++)
                add(l, HOOK_SKIPPED, ents[k].display)->problem = xstrdup(reason);
            free(reason);
            continue;
        }
        masked = is_mask(win->path);
        for (size_t k = i; k + 1 < j; k++) {
            if (masked)
                add(l, HOOK_MASKED, ents[k].display)->problem =
                    xasprintf("masked by %s, a symlink to /dev/null", win->display);
            else
                add(l, HOOK_SKIPPED, ents[k].display)->problem =
                    xasprintf("skipped: replaced by %s", win->display);
        }
        if (!masked)
            add_dropin(l, root, c, win);
        else if (j - i == 1)
            add(l, HOOK_MASKED, win->display)->problem = xstrdup("masked: a symlink to /dev/null");
    }
    for (i = 0; i < nents; i++) {
        free(ents[i].name);
        free(ents[i].display);
        free(ents[i].path);
    }
    free(ents);
    for (i = 0; i < n; i++)
        free(base_paths[i]);
    free(base_paths);
}

/* Characters that make the first word something only the shell can read. */
static bool is_plain_word(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("\"'`$\\;&|<>()*?[]{}~=#!", w[i]))
            return false;
    return n > 0;
}

/* "./x", ".//x" are "x" under the root, as the shell in the root reads them; "./" is ".". */
static char *under_root(const char *word)
{
    const char *rel = word;

    while (rel[0] == '.' && rel[1] == '/')
        rel += 2 + strspn(rel + 2, "/");
    return xstrdup(word[0] == '/' ? word : *rel ? rel : ".");
}

/*
 * A CC_*_HOOK value or a legacy postDeploy: a shell command line whose first word, when it
 * names a file under the root, is that file (§3).
 */
/* NOLINTNEXTLINE(misc-no-recursion): once deep, migrated_problem says */
static void add_command(struct hooklist *l, const char *root, const struct config *c,
                        const char *source, const char *value, bool legacy)
{
    const char *p = value + strspn(value, " \t\n");
    size_t wlen = strcspn(p, " \t\n");
    char *word, *path, *display, *distrust;
    struct stat st;
    struct hook *h = NULL;
    bool exists, with_args;

    if (!is_plain_word(p, wlen)) {
        h = add(l, HOOK_SHELL, source);
        h->command = xstrdup(value);
        h->value = xstrdup(value);
        h->legacy = legacy;
        if ((distrust = shell_trust_problem(root, c)) != NULL ||
            (distrust = command_trust_problem(value, root, c)) != NULL) {
            h->kind = HOOK_BROKEN;
            h->status = EXIT_NOEXEC;
            h->problem = distrust;
            h->distrust = true;
        }
        return;
    }
    word = strndup(p, wlen);
    /* What is checked is what the shell will run. */
    display = under_root(word);
    path = word[0] == '/' ? xstrdup(word) : xasprintf("%s/%s", root, display);
    exists = stat(path, &st) == 0;
    with_args = p[wlen + strspn(p + wlen, " \t\n")] != '\0';
    /*
     * A folder runs its entries when the value names it alone. A bare name with arguments is a
     * program from PATH ("gradle build" in a Gradle project, which has a gradle/ folder).
     */
    if (exists && S_ISDIR(st.st_mode) && with_args && !legacy && !strchr(word, '/'))
        exists = false;
    if (exists && S_ISDIR(st.st_mode) && with_args) {
        h = add(l, HOOK_BROKEN, source);
        h->legacy = legacy;
        h->status = EXIT_NOEXEC;
        h->command = xstrdup(value);
        h->problem = xasprintf("%s is a folder, which runs its entries only when named alone; "
                               "remove the arguments, or name a script",
                               display);
    } else if (exists && S_ISDIR(st.st_mode)) {
        char *dirs[] = {display};

        add_folders(l, root, c, dirs, NULL, 1);
    } else if (exists) {
        h = add(l, HOOK_SHELL, source);
        h->legacy = legacy;
        if (!S_ISREG(st.st_mode)) {
            h->kind = HOOK_BROKEN;
            h->status = EXIT_NOEXEC;
            h->problem = xasprintf("%s is not a regular file; name an executable file", display);
            h->command = xstrdup(value);
        } else if ((distrust = trust_problem(path, root, display, c)) != NULL) {
            h->kind = HOOK_BROKEN;
            h->status = EXIT_NOEXEC;
            /* "its folder bin" names the script too, as for a command's program (valueprog.c). */
            h->problem = strncmp(distrust, "its ", 4) == 0 ? xasprintf("%s: %s", display, distrust)
                                                           : distrust;
            if (h->problem != distrust)
                free(distrust);
            h->distrust = true;
            h->command = xstrdup(value);
        } else if (!is_executable(&st, path)) {
            h->kind = HOOK_BROKEN;
            h->status = EXIT_NOEXEC;
            h->problem = xasprintf("%s is not executable; chmod +x %s", display, display);
            h->command = xstrdup(value);
        } else if (strchr(word, '/')) {
            h->command = xstrdup(value);
        } else {
            /* A bare name under the root: the shell would search PATH for it, so say ./ */
            h->command = xasprintf("%.*s./%s", (int)(p - value), value, p);
        }
    } else if (strchr(word, '/') || legacy) {
        h = add(l, HOOK_BROKEN, source);
        h->legacy = legacy;
        h->status = EXIT_NOTFOUND;
        /* A legacy bare name is a script at the root (Clever Cloud's rule), never from PATH. */
        h->command =
            strchr(word, '/') ? xstrdup(value) : xasprintf("%.*s./%s", (int)(p - value), value, p);
        h->problem = xasprintf("%s: no such file; fix the path in %s", word, source);
    } else {
        h = add(l, HOOK_SHELL, source);
        h->legacy = legacy;
        h->command = xstrdup(value);
    }
    /* What the shell runs is judged as the shell finds it: every command's program. */
    if (h && h->kind == HOOK_SHELL &&
        ((distrust = shell_trust_problem(root, c)) != NULL ||
         (distrust = command_trust_problem(h->command, root, c)) != NULL)) {
        h->kind = HOOK_BROKEN;
        h->status = EXIT_NOEXEC;
        h->problem = distrust;
        h->distrust = true;
    }
    if (h)
        h->value = xstrdup(value);
    free(word);
    free(path);
    free(display);
}

void hooks_command(struct hooklist *l, const char *root, const struct config *c, const char *source,
                   const char *value)
{
    add_command(l, root, c, source, value, false);
}

void hooks_add_legacy(struct hooklist *l, const char *root, const struct config *c,
                      const char *source, const char *value)
{
    add_command(l, root, c, source, value, true);
}

static bool is_blank(const char *s)
{
    return s[strspn(s, " \t\n\r")] == '\0';
}

int hooks_collect(enum point p, const char *root, const struct config *c, struct hooklist *out,
                  struct problems *warnings)
{
    const char *value = getenv(point_var(p));
    char **dirs;

    memset(out, 0, sizeof *out);
    if (value && !is_blank(value))
        add_command(out, root, c, point_var(p), value, false);

    dirs = xcalloc(c->n_hooks_dirs + 1, sizeof *dirs);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        dirs[i] = xasprintf("%s/%s", c->hooks_dirs[i], point_name(p));
    add_folders(out, root, c, dirs, c->hooks_dirs, c->n_hooks_dirs);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        free(dirs[i]);
    free(dirs);

    if (p == PT_RUN_SUCCEEDED && c->legacy != LEGACY_IGNORE) {
        struct legacy_list ll = {0};

        if (legacy_scan(root, c, &ll, warnings) < 0)
            return -1;
        for (size_t i = 0; i < ll.n; i++) {
            char *source = xasprintf("%s %s", ll.v[i].file, ll.v[i].key);

            if (ll.v[i].skipped)
                add(out, HOOK_SKIPPED, source)->problem =
                    xstrdup("skipped: misplaced under deploy, where Clever Cloud never read it; "
                            "legacy_misplaced = \"run\" runs it");
            else
                add_command(out, root, c, source, ll.v[i].command, true);
            free(source);
        }
        /* A file that could not be read may hide a postDeploy: plan shows it was not. */
        for (size_t i = 0; i < ll.unread.n; i++)
            add(out, HOOK_SKIPPED, ll.unread.v[i].path)->problem =
                xasprintf("ignored: %s", ll.unread.v[i].text);
        legacy_list_free(&ll);
    }
    return 0;
}
