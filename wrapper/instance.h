/*
 * instance.h — the variables of a Clever Cloud instance (§13); defined in instance.c.
 */
#ifndef CCWRAP_INSTANCE_H
#define CCWRAP_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>

struct instance_var {
    const char *name;   /* "INSTANCE_TYPE" */
    char *value;        /* allocated */
    const char *source; /* "set by ccwrap", "from the environment", … */
};

#define INSTANCE_VARS 7

/*
 * Sets APP_HOME, INSTANCE_TYPE (build|production by PHASE), INSTANCE_NUMBER, INSTANCE_ID (a
 * random UUID), COMMIT_ID, CC_COMMIT_ID (from ROOT/.git, when there is one) and PORT in
 * ccwrap's environment, each only when it is unset, so every child sees them.
 */
void instance_env(const char *root, const char *phase);
/* Whether instance_env set NAME (rather than the environment ccwrap was given). */
bool instance_ours(const char *name);
/* For plan: each variable, its value (or what it will be) and its source, into OUT. How many. */
size_t instance_plan(const char *root, const char *phase, struct instance_var *out);
/* The commit ROOT/.git/HEAD names (a branch's tip, loose or packed), allocated, or NULL. */
char *git_head(const char *root);

#endif
