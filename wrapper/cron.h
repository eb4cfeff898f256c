/*
 * cron.h — clevercloud/cron.json beside the application (§12); defined in cron.c.
 */
#ifndef CCWRAP_CRON_H
#define CCWRAP_CRON_H

#include <stdbool.h>
#include <stddef.h>

#include "cronexpr.h"
#include "problems.h"
#include "config.h"
#include "hooks.h"

extern const char *const cron_file; /* "clevercloud/cron.json" */

struct cron_entry_def {
    char *name;    /* "cron[0]": the entry's index in the array */
    char *text;    /* the string as written in the file */
    char *command; /* what follows the schedule, $ROOT replaced by the root */
    struct cronexpr expr;
};

struct cron_table {
    struct cron_entry_def *v;
    size_t n;
    bool present; /* the file exists */
};

/*
 * Reads ROOT/clevercloud/cron.json (none is fine: t->present false) after the trust rule.
 * Each problem ("entry 2: day-of-month: '32' is out of range 1-31") goes to *errors, named
 * by the file; the good entries are in *t. 0, or -1 when there was a problem.
 */
int cron_table_load(const char *root, const struct config *c, struct cron_table *t,
                    struct problems *errors);
void cron_table_free(struct cron_table *t);
/* How entry D runs: a worker's rules (§3, the trust rule), one HOOK_SHELL or HOOK_BROKEN. */
void cron_resolve(const char *root, const struct config *c, const struct cron_entry_def *d,
                  struct hooklist *out);
/* check: the file's problems and those of what each entry runs, into *errors. 0 or -1. */
int cron_check(const char *root, const struct config *c, struct problems *errors);
/*
 * `ccwrap cron`: the next COUNT times after FROM (NULL: now) of EXPR, or with EXPR NULL of each
 * entry of the file ("cron[0] TIME" lines). An exit status.
 */
int cron_print(const char *root, const struct config *c, const char *expr, const char *from,
               long count);

#endif
