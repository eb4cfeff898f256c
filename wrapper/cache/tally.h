/*
 * tally.h — what an archive holds, as messages say it; defined in tally.c.
 */
#ifndef CCWRAP_CACHE_TALLY_H
#define CCWRAP_CACHE_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally {
    uint64_t files; /* regular files (hard links included) written or extracted */
    uint64_t dirs;  /* folders */
    uint64_t links; /* symbolic links */
    uint64_t bytes; /* the archive's size */
    uint64_t skipped;
    char sha256[65]; /* pack_root: the archive's SHA-256, hashed as it was written */
};

/* N bytes as messages show them ("1.5 MiB"), in BUF. */
const char *size_text(uint64_t n, char *buf, size_t len);
/* "3 files, 1 folder, 0 symlinks", in BUF. */
const char *counts_text(const struct tally *t, char *buf, size_t len);
/* "socket", "named pipe"...: an entry of TYPE (S_IF*, AE_IF*), neither file, folder nor link. */
const char *kind_name(unsigned type);

#endif
