/*
 * hooks.h — which hooks a point has (§2, §3, §6); defined in hooks.c.
 */
#ifndef CCWRAP_HOOKS_H
#define CCWRAP_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "points.h"
#include "problems.h"
#include "config.h"

enum hook_kind {
    HOOK_SHELL,   /* SHELL -c command */
    HOOK_EXEC,    /* execve(path) */
    HOOK_BROKEN,  /* cannot run: fails the point with status and problem */
    HOOK_SKIPPED, /* plan shows it, nothing runs */
    HOOK_MASKED,  /* a symlink to /dev/null hides this name */
};

struct hook {
    enum hook_kind kind;
    char *source;  /* as the user names it: CC_PRE_RUN_HOOK, hooks.d/pre-run/10-x */
    char *path;    /* HOOK_EXEC: the file to execute, relative to the root or absolute */
    char *command; /* HOOK_SHELL: the command line given to the shell */
    char *value;   /* a variable's or postDeploy's text as the user wrote it, or NULL */
    char *problem; /* HOOK_BROKEN, HOOK_SKIPPED, HOOK_MASKED: why, with the fix */
    int status;    /* HOOK_BROKEN: the status the point fails with */
    bool legacy;   /* translated from a clevercloud/ *.json postDeploy */
    bool distrust; /* HOOK_BROKEN: by the trust rule (migrate --force never moves it) */
};

struct hooklist {
    struct hook *v;
    size_t n;
};

/*
 * The hooks of point P in execution order: the variable's, the drop-ins, then (run-succeeded)
 * legacy postDeploy hooks. Skipped and masked entries are included for plan. Warnings met on
 * the way (malformed legacy JSON, …) go to *warnings. Returns 0, or -1 on a system error.
 */
int hooks_collect(enum point p, const char *root, const struct config *c, struct hooklist *out,
                  struct problems *warnings);
void hooklist_free(struct hooklist *l);
/*
 * Adds what a legacy postDeploy (or the last line of a drop-in that migrate wrote, SOURCE
 * naming it) runs: its first word is always a path from the root, as on Clever Cloud; a bare
 * name that is no file there is a missing script, never a command from PATH.
 */
void hooks_add_legacy(struct hooklist *l, const char *root, const struct config *c,
                      const char *source, const char *value);
/*
 * The first lines of a drop-in that `ccwrap migrate` writes: such a drop-in's last line is
 * judged at each run as the postDeploy it came from was (hooks.c).
 */
#define MIGRATE_MARKER "#!/bin/sh\n# Moved by 'ccwrap migrate' from "
/* Why a drop-in NAME is skipped ("skipped: name ends in '.bak'"), allocated, or NULL. */
char *hook_skip_reason(const char *name);
/* A variable's VALUE as §3 runs it, appended to *L: one entry, or a folder's entries. */
void hooks_command(struct hooklist *l, const char *root, const struct config *c, const char *source,
                   const char *value);

#endif
