/*
 * confload.h — which configuration file, and what overrides it (§8); defined in confload.c.
 */
#ifndef CCWRAP_CONFLOAD_H
#define CCWRAP_CONFLOAD_H

#include "config.h"

/*
 * Reads the first found of: explicit (from --config), $CCWRAP_CONFIG, ROOT/ccwrap.conf,
 * SYSCONFDIR/ccwrap/ccwrap.conf. 0, or -1 after reporting "FILE:LINE: problem".
 */
int config_load(struct config *c, const char *explicit_file, const char *root);
/*
 * The readiness spec in force, by §8's precedence: CLI (--ready) > $CCWRAP_READY >
 * CC_TASK=true ("exit") > the file's ready > "tcp". *from names where it came from:
 * "--ready", "CCWRAP_READY", "CC_TASK=true", c->ready_origin ("FILE:LINE") or "default".
 */
const char *config_ready(const struct config *c, const char *cli, const char **from);
/*
 * What to say when the spec from FROM fails ready_parse with ERR: ERR, or for a file's ready
 * made with ${NAME} (possibly a secret), the variable and its fix without the value. Owned.
 */
char *config_ready_error(const struct config *c, const char *from, const char *err);

#endif
