/*
 * helper.h — ccwrap-cache, the build cache helper that ccwrap runs (SPEC §10). It alone links
 * libarchive (archive.c) and libcurl (store.c), so ccwrap without a cache starts as before.
 */
#ifndef CCWRAP_CACHE_HELPER_H
#define CCWRAP_CACHE_HELPER_H

#include "../storespec.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- main.c: messages --------------------------------------------- */

extern int verbosity; /* 0 quiet, 1 normal, 2 verbose */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t mono_ms(void);
/* N bytes as messages show them ("1.5 MiB"), in BUF. */
const char *size_text(uint64_t n, char *buf, size_t len);

/* ---- archive.c: tar+zstd with libarchive --------------------------- */

struct tally {
    uint64_t files; /* regular files (hard links included) written or extracted */
    uint64_t dirs;  /* folders */
    uint64_t links; /* symbolic links */
    uint64_t bytes; /* the archive's size */
    uint64_t skipped;
};

/*
 * Writes the archive of the folder ROOTFD to FD: every entry but .git (or only the paths of
 * CC_OVERRIDE_BUILDCACHE), minus CC_IGNORE_FROM_BUILDCACHE. 0, or -1 after reporting.
 */
int archive_create(int rootfd, const char *root, int fd, struct tally *t);
/*
 * Extracts the archive read from FD into a fresh staging folder inside ROOT, then moves each
 * of its top-level entries into place. STORE_DIR, a local store's folder (or NULL): when it
 * is inside ROOT, the top-level entry that holds it is left as it is. The caps are
 * $CCWRAP_CACHE_MAX_BYTES and $CCWRAP_CACHE_MAX_ENTRIES (ccwrap's cache_max_bytes and
 * cache_max_entries). 0; -1 after reporting, with ROOT as it was.
 */
int archive_restore(const char *root, int fd, const char *store_dir, struct tally *t);

/* ---- store.c: the local folder, http(s), s3 ------------------------ */

struct store {
    struct store_spec spec;
    int dirfd; /* local: the store's folder */
    char *app; /* the app's folder name in the store */
    void *curl;
    char *lock_name;
    int lock_fd;
    bool absent; /* local, opened without CREATE: the folder is not there, nor any archive */
};

/*
 * 0, or -1 after reporting. Local: checks whose the folders are; with CREATE (a save) makes
 * them, 0700, when missing.
 */
int store_open(struct store *s, const char *spec, const char *app, bool create);
void store_close(struct store *s);
/* A readable fd of NAME (rewound): 0; 1 when the store has no such archive; -1 reported. */
int store_fetch(struct store *s, const char *name, int *fd);
/* A file to write an archive into, then stored as NAME whole or not at all. */
int store_tmp(struct store *s);
int store_commit(struct store *s, int fd, const char *name);
void store_discard(struct store *s, int fd);
int store_remove(struct store *s, const char *name);
/* The app's index: newest first, "COMMIT TIME BYTES FILES" lines. Allocated text, or NULL. */
int store_index_read(struct store *s, char **text);
int store_index_write(struct store *s, const char *text);
/* Where NAME of the app is, as messages show it (no credentials). Allocated. */
char *store_where(const struct store *s, const char *name);
/* Serializes index updates of one local app folder; no-op remotely. */
void store_lock(struct store *s);

#endif
