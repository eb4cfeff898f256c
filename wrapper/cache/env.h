/*
 * env.h — what ccwrap hands the helper in the environment; defined in env.c.
 */
#ifndef CCWRAP_CACHE_ENV_H
#define CCWRAP_CACHE_ENV_H

#include <stdbool.h>
#include <stdint.h>

/* CCWRAP_CACHE_STORE, "" when unset (the default folder). */
const char *store_spec_env(void);
/* Whether VAR is set and not empty. */
bool env_set(const char *var);
/*
 * The cap VAR (ccwrap's SETTING), a size as cache_size_parse reads it, or DFLT when unset.
 * 0, or -1 reported.
 */
int env_limit(const char *var, const char *setting, uint64_t dflt, uint64_t *out);
/*
 * One word W of a colon-separated path list, in place: without leading "./" nor trailing '/'.
 * NULL for a word that names nothing ("", ".").
 */
char *path_word(char *w);

#endif
