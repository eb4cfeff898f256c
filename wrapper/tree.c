/*
 * tree.c — the processes below ccwrap, read from /proc: who descends from whom, what a process
 * is called, whether it is stopped. A service is its whole tree, not the first pid (§7).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "tree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bounds the walk: a fork bomb below ccwrap must not make ccwrap allocate without end. */
#define TREE_MAX 65536

void pidset_add(struct pidset *s, pid_t pid)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = pid;
}

bool pidset_has(const struct pidset *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == pid)
            return true;
    return false;
}

void pidset_free(struct pidset *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* The whole of a small /proc file, NUL-terminated; its length, or -1. */
static ssize_t read_proc_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n, got = 0;

    if (fd < 0)
        return -1;
    while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
        got += n;
    close(fd);
    buf[got] = '\0';
    return got;
}

/* /proc/PID/stat's fields after the command name: "S PPID PGID …". */
static const char *stat_rest(pid_t pid, char *buf, size_t len)
{
    char path[64], *paren;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_proc_file(path, buf, len) <= 0)
        return NULL;
    /* The name may hold spaces and parentheses: the last ')' ends it. */
    paren = strrchr(buf, ')');
    if (!paren || paren[1] != ' ')
        return NULL;
    return paren + 2;
}

pid_t pid_parent(pid_t pid)
{
    char buf[512];
    const char *rest = stat_rest(pid, buf, sizeof buf);
    char *end;
    long ppid;

    if (!rest || rest[0] == '\0' || rest[1] != ' ')
        return -1;
    ppid = strtol(rest + 2, &end, 10);
    return end == rest + 2 ? -1 : (pid_t)ppid;
}

bool pid_stopped(pid_t pid)
{
    char buf[512];
    const char *rest = stat_rest(pid, buf, sizeof buf);

    /* When /proc cannot tell, assume it is: a SIGCONT too many costs nothing. */
    return !rest || *rest == 'T' || *rest == 't';
}

const char *pid_name(pid_t pid, char *buf, size_t len)
{
    char path[64];
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    n = read_proc_file(path, buf, len);
    if (n <= 0)
        return "?";
    if (buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    for (char *c = buf; *c; c++)
        if (!isprint((unsigned char)*c))
            *c = '?';
    return buf;
}

/* Appends the pids listed in a "children" file ("12 34 "); -1 when it cannot be read. */
static int add_listed(const char *path, struct pidset *out)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    size_t keep = 0;
    long v = 0;
    bool in = false;

    if (fd < 0)
        return -1;
    /* A long list is read in pieces; a number cut at a piece's end carries over in v. */
    while ((n = read(fd, buf + keep, sizeof buf - keep)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];

            if (c >= '0' && c <= '9') {
                v = v * 10 + (c - '0');
                in = true;
            } else if (in) {
                if (out->n < TREE_MAX)
                    pidset_add(out, (pid_t)v);
                v = 0;
                in = false;
            }
        }
    }
    if (in && out->n < TREE_MAX)
        pidset_add(out, (pid_t)v);
    close(fd);
    return 0;
}

/* A process's children are listed per thread: a threaded server forks from any of them. */
static int children_of(pid_t pid, struct pidset *out)
{
    char path[320];
    struct dirent *d;
    DIR *dir;

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    dir = opendir(path);
    if (!dir)
        return -1;
    while ((d = readdir(dir))) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/children", (int)pid, d->d_name);
        /* A thread that ended since readdir has no file any more: nothing to add. */
        add_listed(path, out);
    }
    closedir(dir);
    return 0;
}

/* Without CONFIG_PROC_CHILDREN: every process's parent, from its stat file. */
static int descendants_by_scan(pid_t root, struct pidset *out)
{
    struct pidset all = {0}, parents = {0};
    struct dirent *d;
    DIR *dir = opendir("/proc");
    bool grew = true;

    if (!dir)
        return -1;
    while ((d = readdir(dir)) && all.n < TREE_MAX) {
        pid_t pid;

        if (d->d_name[0] < '1' || d->d_name[0] > '9')
            continue;
        pid = (pid_t)strtol(d->d_name, NULL, 10);
        pidset_add(&all, pid);
        pidset_add(&parents, pid_parent(pid));
    }
    closedir(dir);
    /* Fixed point: whoever has a parent in the tree is in the tree. */
    while (grew) {
        grew = false;
        for (size_t i = 0; i < all.n; i++) {
            if (all.v[i] == root || pidset_has(out, all.v[i]))
                continue;
            if (parents.v[i] == root || pidset_has(out, parents.v[i])) {
                pidset_add(out, all.v[i]);
                grew = true;
            }
        }
    }
    pidset_free(&all);
    pidset_free(&parents);
    return 0;
}

int tree_descendants(pid_t root, struct pidset *out)
{
    static int have_children_files = -1;
    size_t first = out->n;

    if (have_children_files < 0) {
        char path[96];

        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
        have_children_files = access(path, R_OK) == 0;
    }
    if (!have_children_files)
        return descendants_by_scan(root, out);
    if (children_of(root, out) < 0)
        return -1;
    /* Breadth first over what was found so far; the list is its own queue. */
    for (size_t i = first; i < out->n && out->n < TREE_MAX; i++)
        children_of(out->v[i], out);
    return 0;
}

bool tree_has(pid_t ancestor, pid_t pid)
{
    /* Up the parents: a chain is short, and pid 1 or 0 ends it. */
    for (int depth = 0; pid > 1 && depth < 4096; depth++) {
        if (pid == ancestor)
            return true;
        pid = pid_parent(pid);
    }
    return pid == ancestor;
}
