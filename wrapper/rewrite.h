/*
 * rewrite.h — a legacy file written back in its own style; defined in rewrite.c.
 */
#ifndef CCWRAP_REWRITE_H
#define CCWRAP_REWRITE_H

#include "legacy.h"

/*
 * Writes F->doc back to F->name in the folder DFD, in F's style, with its owner and mode,
 * through a temporary file beside it and renameat. 0, or -1 after reporting.
 */
int legacy_rewrite(int dfd, const struct legacy_file *f);

#endif
