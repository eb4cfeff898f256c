/*
 * config.h — the configuration file's options (§8); defined in config.c.
 */
#ifndef CCWRAP_CONFIG_H
#define CCWRAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* (conftext.c, the file's text before libconfuse, is seen only through config_int.h.) */

enum legacy_mode { LEGACY_RUN, LEGACY_IGNORE, LEGACY_FAIL };
enum on_timeout { ON_TIMEOUT_STOP, ON_TIMEOUT_KEEP };
enum misplaced_mode { MISPLACED_SKIP, MISPLACED_RUN };
enum leftovers { LEFTOVERS_STOP, LEFTOVERS_KEEP };

struct config {
    char *file; /* the file read, or NULL for built-in defaults */
    char *shell;
    char **hooks_dirs;
    size_t n_hooks_dirs;
    long hook_timeout; /* seconds, 0 = none */
    long kill_grace;   /* seconds */
    enum legacy_mode legacy;
    enum misplaced_mode legacy_misplaced; /* a postDeploy under deploy: skip (default) or run */
    char *ready;
    long ready_timeout; /* seconds, 0 = none */
    enum on_timeout on_ready_timeout;
    enum leftovers leftovers; /* what ccwrap does at its end with processes left below it */
    char *ready_origin;       /* "FILE:LINE" of the ready option, for error messages, or NULL */
    bool ready_hidden;        /* the ready option came from ${VAR}: errors do not show its value */
    char *ready_variable;     /* then the NAME of that ${NAME} (an empty one first), for the fix */
    bool shell_hidden;        /* the same for shell */
    uid_t *trusted_uids;      /* trusted_users: owners trusted besides root and ccwrap's user */
    size_t n_trusted_uids;
    char *cache_store;        /* cache: the build cache store, NULL for the default folder */
    char *cache_key;          /* cache_key: the app's name in the store, NULL: APP_ID or the root */
    long cache_keep;          /* cache_keep: archives kept per app, 0 = all */
    uint64_t cache_max_bytes; /* cache_max_bytes: a restore's files hold at most this */
    uint64_t cache_max_entries; /* cache_max_entries: a restore makes at most this many */
    char *cache_sign_key;       /* cache_sign_key: PEM Ed25519 private key that signs archives */
    char *cache_verify_key;     /* cache_verify_key: PEM public key restores verify against */
    bool readiness_set; /* the file's ready, ready_timeout or on_ready_timeout: no default */
    bool exec_in_place; /* exec_in_place, $CCWRAP_EXEC_IN_PLACE: may ccwrap become it */
    char **env_files;   /* env_files: variable files, relative to the root or absolute */
    size_t n_env_files;
    /* trust_expansions: a program only the shell can name ($(…), ${X:-…}) runs unjudged */
    bool trust_expansions;
};

void config_free(struct config *c);
/*
 * The text of a configuration file named FILE (for messages), parsed into *c (zeroed, or
 * holding an earlier parse). 0, or -1.
 */
int config_parse(struct config *c, char *buf, const char *file);

#endif
