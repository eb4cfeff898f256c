/*
 * unpack.h — the restore; defined in unpack.c, unpack_entry.c.
 */
#ifndef CCWRAP_CACHE_UNPACK_H
#define CCWRAP_CACHE_UNPACK_H

#include "tally.h"

/*
 * Extracts the archive read from FD into a fresh staging folder inside ROOT, then moves each
 * of its top-level entries into place. STORE_DIR, a local store's folder (or NULL): when it
 * is inside ROOT, the top-level entry that holds it is left as it is. The caps are
 * $CCWRAP_CACHE_MAX_BYTES and $CCWRAP_CACHE_MAX_ENTRIES (ccwrap's cache_max_bytes and
 * cache_max_entries). 0; -1 after reporting, with ROOT as it was.
 */
int unpack_root(const char *root, int fd, const char *store_dir, struct tally *t);
/* unpack_root into the folder BASEFD, shown as SHOWN, with no store inside to keep. */
int unpack_into(int basefd, const char *shown, int fd, struct tally *t);

#endif
