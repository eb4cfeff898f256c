/*
 * trust.h — who may have written what ccwrap executes (doc/security.md); defined in trust.c.
 */
#ifndef CCWRAP_TRUST_H
#define CCWRAP_TRUST_H

#include "config.h"

/*
 * Whether PATH (relative to ROOT, or absolute) may be executed: it and every folder from /
 * down to it, symlink targets included, owned by root, ccwrap's euid or C's trusted_users
 * (C may be NULL: none), and not writable by group or others (a sticky folder may be).
 * NULL when it may; else the problem with its fix, allocated: "owned by nobody (uid 65534),
 * not by root; chown root F, …", "its folder hooks.d is writable by group or others; chmod
 * go-w hooks.d". SELF, when set, names the file itself in the text ("x.sh is owned by …").
 */
char *trust_problem(const char *path, const char *root, const char *self, const struct config *c);

/* The configured shell against the trust rule: "the shell /bin/sh: why; fix", owned, or NULL. */
char *shell_trust_problem(const char *root, const struct config *c);

#endif
