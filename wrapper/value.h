/*
 * value.h — the programs a command line runs (doc/security.md); defined in value.c.
 */
#ifndef CCWRAP_VALUE_H
#define CCWRAP_VALUE_H

#include "config.h"

/* (Its rooms valuelex.c, valueword.c and valueprog.c share value_int.h, seen by no other file.) */

/*
 * Whether the command line VALUE, run as `SHELL -c VALUE` from ROOT with ccwrap's environment
 * plus ENV (NAME=value entries, may be NULL), runs only what passes the trust rule: the shell,
 * and the program of each simple command, found as the shell finds it (assignments, exec, env,
 * nohup, command, nice, ionice, setsid, stdbuf and timeout skipped; quotes removed; $NAME and
 * ${NAME} expanded; looked up in PATH, whose folders searched must pass the rule and be
 * absolute). A program only the shell can name (${X:-…}, $(…), a glob) fails it unless C's
 * trust_expansions. NULL when it passes; else the problem with its fix, allocated.
 */
char *trust_value(const char *value, const char *root, const struct config *c, char *const *env);
/* trust_value without the shell, in ccwrap's environment (plan, check, hooks_collect). */
char *command_trust_problem(const char *value, const char *root, const struct config *c);

#endif
