/*
 * config_int.h — what the configuration's three rooms share, and no other file sees:
 * config.c (the options and libconfuse), conftext.c (the file's text before libconfuse),
 * confload.c (which file, the trust rule over it, the environment's overrides).
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

/* ---- conftext.c ---- */

/* The whole file PATH (DISPLAY in messages) as a string. NULL after reporting. */
char *config_slurp(const char *path, const char *display);
/*
 * The checks libconfuse 3.3 lacks, over BUF (a file's text, DISPLAY in messages); blanks its
 * comments and notes the lines holding ${VAR} (the previous file's forgotten). 0, or -1 after
 * reporting.
 */
int config_prescan(char *buf, const char *display);
/* The ${NAME} on LINE of the text last prescanned (an empty one first), or NULL: none. */
const char *config_line_variable(int line);
/* NAME is set and empty (libconfuse's ${NAME:-default} takes the default only when unset). */
bool config_variable_empty(const char *name);

/* ---- config.c ---- */

/* *C at every option's default, as a file with no options gives it. 0, or -1 after reporting. */
int config_defaults(struct config *c);
/* VALUE's index among the words option NAME takes ("false", "true": 1 is true), or -1. */
int config_word(const char *name, const char *value);
/* A user name or a uid, as trusted_users takes it. 0, or -1. */
int config_user_uid(const char *s, uid_t *uid);

#endif
