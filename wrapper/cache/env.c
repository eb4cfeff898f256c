/*
 * env.c — what ccwrap hands its helper in the environment, read one way: the store
 * (CCWRAP_CACHE_STORE, never argv), a variable set or not, the restore's caps, the words of a
 * colon-separated path list (CC_IGNORE_FROM_BUILDCACHE, CC_CACHE_DEPENDENCIES_EXTRA_PATHS).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../msg.h"
#include "../storespec.h"
#include "env.h"

#include <stdlib.h>
#include <string.h>

const char *store_spec_env(void)
{
    const char *spec = getenv("CCWRAP_CACHE_STORE");

    return spec ? spec : "";
}

bool env_set(const char *var)
{
    const char *v = getenv(var);

    return v && *v;
}

int env_limit(const char *var, const char *setting, uint64_t dflt, uint64_t *out)
{
    const char *v = getenv(var);

    *out = dflt;
    if (!v || !*v)
        return 0;
    if (cache_size_parse(v, out) < 0 || *out == 0) {
        log_error("build cache: %s '%s': give a whole number from 1, with K, M, G or T for KiB, "
                  "MiB, GiB or TiB; set %s",
                  var, v, setting);
        return -1;
    }
    return 0;
}

char *path_word(char *w)
{
    size_t len;

    while (w[0] == '.' && w[1] == '/')
        w += 2;
    len = strlen(w);
    while (len > 0 && w[len - 1] == '/')
        w[--len] = '\0';
    return !len || strcmp(w, ".") == 0 ? NULL : w;
}
