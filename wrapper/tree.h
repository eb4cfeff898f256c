/*
 * tree.h — the processes below ccwrap (§7); defined in tree.c.
 */
#ifndef CCWRAP_TREE_H
#define CCWRAP_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pidset {
    pid_t *v;
    size_t n, cap;
};

void pidset_add(struct pidset *s, pid_t pid);
bool pidset_has(const struct pidset *s, pid_t pid);
void pidset_free(struct pidset *s);
/* Appends every descendant of ROOT, not ROOT itself. 0, or -1 when /proc cannot tell. */
int tree_descendants(pid_t root, struct pidset *out);
/* Whether PID is ANCESTOR or one of its descendants. */
bool tree_has(pid_t ancestor, pid_t pid);
/* The parent of PID, or -1. */
pid_t pid_parent(pid_t pid);
/* Whether PID is stopped (state T); true when /proc cannot tell. */
bool pid_stopped(pid_t pid);
/* PID's command name ("node"), printable, in BUF; "?" when gone. */
const char *pid_name(pid_t pid, char *buf, size_t len);

#endif
