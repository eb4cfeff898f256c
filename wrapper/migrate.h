/*
 * migrate.h — `ccwrap migrate`, postDeploy to drop-ins (§6); defined in migrate.c.
 */
#ifndef CCWRAP_MIGRATE_H
#define CCWRAP_MIGRATE_H

#include <stdbool.h>

#include "config.h"

struct migrate_opts {
    bool write;        /* --write: make the changes, not only print them */
    bool force;        /* --force: migrate hooks whose script is missing or not executable */
    bool remove_empty; /* --remove-empty: remove a file left as {} */
};

/*
 * Prints each change on stdout; with o->write, makes them, writing only inside the root
 * (or the absolute hooks_dirs folder) through no symbolic link. Returns 0, or -1 after
 * reporting why nothing was changed.
 */
int legacy_migrate(const char *root, const struct config *c, const struct migrate_opts *o);

#endif
