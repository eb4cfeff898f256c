/*
 * hooks.c — which hooks a point has, in order (SPEC §2, §3): the CC_*_HOOK variable, the
 * drop-in folders merged by name, then the translated legacy postDeploy. Runs nothing.
 */
#include "ccwrap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name, *var;
} points[PT_COUNT] = {
    [PT_PRE_BUILD] = {"pre-build", "CC_PRE_BUILD_HOOK"},
    [PT_POST_BUILD] = {"post-build", "CC_POST_BUILD_HOOK"},
    [PT_PRE_RUN] = {"pre-run", "CC_PRE_RUN_HOOK"},
    [PT_RUN_SUCCEEDED] = {"run-succeeded", "CC_RUN_SUCCEEDED_HOOK"},
    [PT_RUN_FAILED] = {"run-failed", "CC_RUN_FAILED_HOOK"},
};

const char *point_name(enum point p)
{
    return points[p].name;
}

const char *point_var(enum point p)
{
    return points[p].var;
}

int point_parse(const char *s)
{
    for (int i = 0; i < PT_COUNT; i++)
        if (strcmp(s, points[i].name) == 0)
            return i;
    return -1;
}

void problem_add(struct problems *ps, const char *path, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = xstrdup("(out of memory)");
    va_end(ap);
    ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof *ps->v);
    ps->v[ps->n].path = xstrdup(path);
    ps->v[ps->n].text = text;
    ps->n++;
}

void problems_free(struct problems *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].path);
        free(ps->v[i].text);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

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
static char *skip_reason(const char *name)
{
    static const char *const suffixes[] = {
        "~",         ".bak",       ".orig",   ".swp",    ".tmp", ".disabled", ".dpkg-old",
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

/* Turns a path to be run into a hook, or a broken one with the fix. */
static void classify_file(struct hooklist *l, const char *display, const char *path,
                          bool folder_writable, const char *folder)
{
    struct stat lst, st;
    struct hook *h;

    if (lstat(path, &lst) < 0) {
        h = add(l, HOOK_BROKEN, display);
        h->problem = xasprintf("cannot be read: %s", strerror(errno));
        h->status = EXIT_NOTFOUND;
        return;
    }
    if (S_ISLNK(lst.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof target - 1);

        target[n > 0 ? n : 0] = '\0';
        if (strcmp(target, "/dev/null") == 0) {
            h = add(l, HOOK_MASKED, display);
            h->problem = xstrdup("masked (symlink to /dev/null)");
            return;
        }
        if (stat(path, &st) < 0) {
            h = add(l, HOOK_BROKEN, display);
            h->problem = xasprintf("broken symlink to %s; fix the link or remove it", target);
            h->status = EXIT_NOTFOUND;
            return;
        }
    } else {
        st = lst;
    }
    if (S_ISDIR(st.st_mode)) {
        h = add(l, HOOK_SKIPPED, display);
        h->problem = xstrdup("skipped: a folder");
        return;
    }
    h = add(l, HOOK_EXEC, display);
    h->path = xstrdup(path);
    if (folder_writable) {
        h->kind = HOOK_BROKEN;
        h->problem = xasprintf("its folder is writable by others; chmod o-w %s", folder);
        h->status = EXIT_NOEXEC;
    } else if (!S_ISREG(st.st_mode)) {
        h->kind = HOOK_BROKEN;
        h->problem = xstrdup("not a regular file; replace it with an executable file");
        h->status = EXIT_NOEXEC;
    } else if (st.st_mode & S_IWOTH) {
        h->kind = HOOK_BROKEN;
        h->problem = xasprintf("writable by others; chmod o-w %s", display);
        h->status = EXIT_NOEXEC;
    } else if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) || access(path, X_OK) < 0) {
        h->kind = HOOK_BROKEN;
        h->problem = xasprintf("not executable; chmod +x %s, or rename it to %s.disabled",
                               display, display);
        h->status = EXIT_NOEXEC;
    }
}

struct entry {
    char *name;
    char *display; /* as the user names it */
    char *path;    /* to open, relative to the root or absolute */
    char *folder;
    bool folder_writable;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void free_entry(struct entry *e)
{
    free(e->name);
    free(e->display);
    free(e->path);
    free(e->folder);
}

/*
 * Reads FOLDER (as displayed) at PATH, adding to the merged entries: a later folder's name
 * replaces an earlier one's. Skipped names go straight to the list, for plan.
 */
static void read_folder(const char *display, const char *path, struct entry **ents, size_t *n,
                        struct hooklist *skipped)
{
    struct stat st;
    struct dirent *d;
    DIR *dir = opendir(path);
    bool writable;

    if (!dir)
        return;
    writable = fstat(dirfd(dir), &st) == 0 && (st.st_mode & S_IWOTH);
    while ((d = readdir(dir)) != NULL) {
        char *disp, *reason;
        size_t i;

        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        disp = xasprintf("%s/%s", display, d->d_name);
        reason = skip_reason(d->d_name);
        if (reason) {
            add(skipped, HOOK_SKIPPED, disp)->problem = reason;
            free(disp);
            continue;
        }
        for (i = 0; i < *n; i++)
            if (strcmp((*ents)[i].name, d->d_name) == 0)
                break;
        if (i == *n) {
            *ents = xrealloc(*ents, (*n + 1) * sizeof **ents);
            (*n)++;
        } else {
            free_entry(&(*ents)[i]);
        }
        (*ents)[i].name = xstrdup(d->d_name);
        (*ents)[i].display = disp;
        (*ents)[i].path = xasprintf("%s/%s", path, d->d_name);
        (*ents)[i].folder = xstrdup(display);
        (*ents)[i].folder_writable = writable;
    }
    closedir(dir);
}

/* Adds the entries of the given folders, merged and in bytewise order of name. */
static void add_folders(struct hooklist *l, const char *root, char *const *displays, size_t n)
{
    struct entry *ents = NULL;
    struct hooklist skipped = {0};
    size_t nents = 0;

    for (size_t i = 0; i < n; i++) {
        char *path = displays[i][0] == '/' ? xstrdup(displays[i])
                                           : xasprintf("%s/%s", root, displays[i]);

        read_folder(displays[i], path, &ents, &nents, &skipped);
        free(path);
    }
    qsort(ents, nents, sizeof *ents, cmp_entry);
    for (size_t i = 0; i < nents; i++) {
        struct stat st;

        /* A subfolder is skipped rather than run, whatever its mode. */
        if (lstat(ents[i].path, &st) == 0 && S_ISDIR(st.st_mode)) {
            struct hook *h = add(l, HOOK_SKIPPED, ents[i].display);

            h->problem = xstrdup("skipped: a folder");
        } else {
            classify_file(l, ents[i].display, ents[i].path, ents[i].folder_writable,
                          ents[i].folder);
        }
        free_entry(&ents[i]);
    }
    free(ents);
    for (size_t i = 0; i < skipped.n; i++) {
        l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = skipped.v[i];
    }
    free(skipped.v);
}

/* Characters that make the first word something only the shell can read. */
static bool is_plain_word(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("\"'`$\\;&|<>()*?[]{}~=#!", w[i]))
            return false;
    return n > 0;
}

/*
 * A CC_*_HOOK value or a legacy postDeploy: a shell command line whose first word, when it
 * names a file under the root, is that file (SPEC §3).
 */
static void add_command(struct hooklist *l, const char *root, const char *source,
                        const char *value, bool legacy)
{
    const char *p = value + strspn(value, " \t\n");
    size_t wlen = strcspn(p, " \t\n");
    char *word, *path, *display;
    struct stat st;
    struct hook *h = NULL;

    if (!is_plain_word(p, wlen)) {
        h = add(l, HOOK_SHELL, source);
        h->command = xstrdup(value);
        h->value = xstrdup(value);
        h->legacy = legacy;
        return;
    }
    word = strndup(p, wlen);
    display = xstrdup(word[0] == '.' && word[1] == '/' ? word + 2 : word);
    path = word[0] == '/' ? xstrdup(word) : xasprintf("%s/%s", root, display);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *dirs[] = {display};

        add_folders(l, root, dirs, 1);
    } else if (stat(path, &st) == 0) {
        h = add(l, HOOK_SHELL, source);
        h->legacy = legacy;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) ||
            access(path, X_OK) < 0) {
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
    } else if (strchr(word, '/')) {
        h = add(l, HOOK_BROKEN, source);
        h->legacy = legacy;
        h->status = EXIT_NOTFOUND;
        h->command = xstrdup(value);
        h->problem = xasprintf("%s: no such file; fix the path in %s", word, source);
    } else {
        h = add(l, HOOK_SHELL, source);
        h->legacy = legacy;
        h->command = xstrdup(value);
    }
    if (h)
        h->value = xstrdup(value);
    free(word);
    free(path);
    free(display);
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
        add_command(out, root, point_var(p), value, false);

    dirs = xcalloc(c->n_hooks_dirs + 1, sizeof *dirs);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        dirs[i] = xasprintf("%s/%s", c->hooks_dirs[i], point_name(p));
    add_folders(out, root, dirs, c->n_hooks_dirs);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        free(dirs[i]);
    free(dirs);

    if (p == PT_RUN_SUCCEEDED && c->legacy != LEGACY_IGNORE) {
        struct legacy_list ll = {0};

        if (legacy_scan(root, &ll, warnings) < 0)
            return -1;
        for (size_t i = 0; i < ll.n; i++) {
            char *source = xasprintf("%s %s", ll.v[i].file, ll.v[i].key);

            add_command(out, root, source, ll.v[i].command, true);
            free(source);
        }
        legacy_list_free(&ll);
    }
    return 0;
}
