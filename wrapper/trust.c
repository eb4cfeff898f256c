/*
 * trust.c — the one rule for what ccwrap executes (doc/security.md): the file and every
 * folder above it, symlink targets included, belong to root, to ccwrap's user or to a
 * trusted_users entry, and nobody else may write them. Then nobody else can swap the file
 * between the check and the exec, so running it by its path runs what was checked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "config.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel's own limit on symlinks followed in one lookup. */
#define MAX_LINKS 40

static bool owner_trusted(uid_t uid, const struct config *c)
{
    if (uid == 0 || uid == geteuid())
        return true;
    for (size_t i = 0; c && i < c->n_trusted_uids; i++)
        if (c->trusted_uids[i] == uid)
            return true;
    return false;
}

static char *user_name(uid_t uid)
{
    struct passwd *pw = getpwuid(uid);

    return pw ? xasprintf("%s (uid %u)", pw->pw_name, (unsigned)uid)
              : xasprintf("uid %u", (unsigned)uid);
}

/* Who may own what ccwrap runs, in the words of the fix: "root" or "root or alice". */
static char *trusted_owners(void)
{
    struct passwd *pw;

    if (geteuid() == 0)
        return xstrdup("root");
    pw = getpwuid(geteuid());
    return pw ? xasprintf("root or %s", pw->pw_name) : xasprintf("root or uid %u", geteuid());
}

/* ABS as the user names it: relative to the root when under it. */
static char *shown_path(const char *abs, const char *root)
{
    size_t n = root ? strlen(root) : 0;

    if (root && strncmp(abs, root, n) == 0 && abs[n] == '/' && abs[n + 1])
        return xstrdup(abs + n + 1);
    return xstrdup(abs);
}

/* The name of ccwrap's user, for the fix: "root", "alice". */
static char *own_name(void)
{
    struct passwd *pw = getpwuid(geteuid());

    return pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)geteuid());
}

/*
 * Why ST (met at ABS) breaks the rule, with the fix, or NULL. WHAT names it in the message:
 * "its folder ", "its target ", or "" for the file itself, then named SELF (or not at all).
 */
static char *judge(const struct stat *st, const char *abs, const char *root, const char *what,
                   const char *self, const struct config *c)
{
    char *shown = shown_path(abs, root), *word = shell_word(shown), *text = NULL, *subject;
    /*
     * Above the tree, a sticky folder (/tmp) lets each user rename only their own entries, and
     * those are judged. In the tree, where drop-in folders are listed, no folder may be shared.
     */
    size_t rl = root ? strlen(root) : 0;
    bool in_tree = root && strncmp(abs, root, rl) == 0 && (abs[rl] == '/' || abs[rl] == '\0');
    bool sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && !in_tree;

    subject = *what  ? xasprintf("%s%s is ", what, shown)
              : self ? xasprintf("%s is ", self)
                     : xstrdup("");
    if (!owner_trusted(st->st_uid, c)) {
        char *who = user_name(st->st_uid), *owners = trusted_owners(), *me = own_name();

        /* chown without -h would change the link's target, not the link. */
        text = xasprintf("%sowned by %s, not by %s; chown %s%s %s, or list that user in "
                         "trusted_users",
                         subject, who, owners, S_ISLNK(st->st_mode) ? "-h " : "", me, word);
        free(who);
        free(owners);
        free(me);
    } else if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir && !S_ISLNK(st->st_mode)) {
        text = xasprintf("%swritable by group or others; chmod go-w %s", subject, word);
    }
    free(subject);
    free(shown);
    free(word);
    return text;
}

char *trust_problem(const char *path, const char *root, const char *self, const struct config *c)
{
    char *todo, *cur, *problem = NULL;
    bool via_link = false;
    int links = 0, fd;
    struct stat st;

    /* No file to judge (a first word the shell expands): the shell runs what it finds. */
    if (!path || !*path)
        return NULL;
    todo = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", root, path);
    cur = xstrdup("/");
    fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        problem = xasprintf("cannot be checked: /: %s", strerror(errno));
        goto out;
    }
    if ((problem = judge(&st, "/", root, "its folder ", self, c)) != NULL)
        goto out;
    for (const char *p = todo; *p;) {
        size_t len = strcspn(p, "/");
        char *name = strndup(p, len), *next;
        bool last;
        int nfd;

        p += len;
        p += strspn(p, "/");
        last = *p == '\0';
        if (len == 0 || strcmp(name, ".") == 0) {
            free(name);
            continue;
        }
        nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        /* Nothing there: nothing to run, and only the trusted may create it. exec will say. */
        if (nfd < 0 && errno == ENOENT) {
            free(name);
            goto out;
        }
        if (nfd < 0 || fstat(nfd, &st) < 0) {
            char *shown = shown_path(cur, root);

            problem = xasprintf("cannot be checked: %s%s%s: %s", shown,
                                strcmp(cur, "/") == 0 ? "" : "/", name, strerror(errno));
            free(shown);
            free(name);
            if (nfd >= 0)
                close(nfd);
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            /* A link cannot change, but in a sticky folder anyone may have made one. */
            char target[PATH_MAX],
                *at = xasprintf("%s%s%s", cur, strcmp(cur, "/") ? "/" : "", name);
            ssize_t n = readlinkat(nfd, "", target, sizeof target - 1);
            int saved = errno;

            problem = judge(&st, at, root, last && !via_link ? "" : "the symlink ", self, c);
            free(at);
            close(nfd);
            free(name);
            if (problem)
                goto out;
            if (n < 0 || ++links > MAX_LINKS) {
                problem = xasprintf("cannot be checked: %s", strerror(n < 0 ? saved : ELOOP));
                goto out;
            }
            target[n] = '\0';
            next = xasprintf("%s%s%s", target, *p ? "/" : "", p);
            free(todo);
            todo = next;
            p = todo;
            via_link = true;
            if (target[0] == '/') {
                close(fd);
                fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                free(cur);
                cur = xstrdup("/");
            }
            continue;
        }
        if (strcmp(name, "..") == 0) {
            char *slash = strrchr(cur, '/');

            /* A folder already judged on the way down. */
            *(slash == cur ? slash + 1 : slash) = '\0';
        } else {
            next = xasprintf("%s%s%s", cur, strcmp(cur, "/") == 0 ? "" : "/", name);
            free(cur);
            cur = next;
            problem = judge(&st, cur, root,
                            last       ? (via_link ? "its target " : "")
                            : via_link ? "its target's folder "
                                       : "its folder ",
                            self, c);
        }
        free(name);
        close(fd);
        fd = nfd;
        if (problem)
            goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    free(todo);
    free(cur);
    return problem;
}

/* The configured shell runs every command hook and command: it is held to the same rule. */
char *shell_trust_problem(const char *root, const struct config *c)
{
    char *p = trust_problem(c->shell, root, NULL, c), *text;

    if (!p)
        return NULL;
    text = xasprintf("the shell %s: %s", c->shell, p);
    free(p);
    return text;
}
