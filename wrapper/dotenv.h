/*
 * dotenv.h — --env-file and env_files (§13); defined in dotenv.c.
 */
#ifndef CCWRAP_DOTENV_H
#define CCWRAP_DOTENV_H

#include <stdbool.h>
#include <stddef.h>

#include "problems.h"
#include "config.h"

/* --env-file FILE, in the order given (main sets them). */
extern const char **env_file_options;
extern size_t n_env_file_options;

struct env_entry {
    char *name;
    char *value;
    char *source; /* "FILE:LINE", "FILE entry N" */
};

struct env_set {
    struct env_entry *v;
    size_t n;
};

/*
 * Reads the config's env_files (relative to the root) then each --env-file, after the trust
 * rule; a later file's NAME replaces an earlier one's. Problems "FILE" / "line N: why" go to
 * *errors. 0, or -1 when there was one.
 */
int env_files_read(const char *root, const struct config *c, struct env_set *out,
                   struct problems *errors);
void env_set_free(struct env_set *s);
/* Sets each variable of the files that ccwrap's environment leaves unset. 0, or -1 after
 * reporting (then nothing is set). */
int env_files_apply(const char *root, const struct config *c);
/* NAME suggests a secret (KEY, SECRET, TOKEN, PASSWORD in any case): plan hides its value. */
bool secret_name(const char *name);

#endif
