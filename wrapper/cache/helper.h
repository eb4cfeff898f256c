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
    char sha256[65]; /* archive_create: the archive's SHA-256, hashed as it was written */
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

/*
 * The entries NAMES (N of them, each one name, no '/') of the folder BASEFD (shown as SHOWN)
 * into an archive written to FD: a dependency archive (deps.c). 0, or -1 reported.
 */
int archive_create_paths(int basefd, const char *shown, int fd, char *const *names, size_t n,
                         struct tally *t);
/* archive_restore into the folder BASEFD, shown as SHOWN, with no store inside to keep. */
int archive_restore_fd(int basefd, const char *shown, int fd, struct tally *t);
/*
 * The folder PATH ("" for DIRFD itself) below DIRFD through no symbolic link, made (0755)
 * when missing with CREATE. A new descriptor; or -1 with errno, *BAD the length of the prefix
 * of PATH that is a symbolic link (ELOOP) or no folder (ENOTDIR).
 */
int folder_below(int dirfd, const char *path, bool create, size_t *bad);

/* ---- deps.c: the dependency archives of CC_CACHE_DEPENDENCIES ------ */

int deps_save(const char *root, const char *app);
int deps_restore(const char *root, const char *app);
int deps_plan(const char *root, const char *app);

/* ---- sign.c: an archive's record (SHA-256, size, signature), with libcrypto ---- */

/* SHA-256 as data goes by: hash_end frees H and writes 64 hex digits and a NUL. */
void *hash_new(void);
void hash_add(void *h, const void *p, size_t n);
void hash_end(void *h, char hex[65]);
/* The SHA-256 and size of the whole file FD, rewound before and after. 0, or -1 reported. */
int fd_sha256(int fd, char hex[65], uint64_t *size);

struct keys {
    void *sign, *verify; /* EVP_PKEY, NULL when not set */
    const char *sign_path, *verify_path;
};

/*
 * The keys CCWRAP_CACHE_SIGN_KEY and CCWRAP_CACHE_VERIFY_KEY name (paths that ccwrap gives;
 * the key itself never travels on a command line), those asked for. 0, or -1 reported.
 */
int keys_load(struct keys *k, bool sign, bool verify);
void keys_free(struct keys *k);
/* The record of an archive (signed when K has a signing key): allocated text, NULL reported. */
char *record_make(const struct keys *k, const char *app, const char *commit, const char *sha,
                  uint64_t size);

enum refusal { REFUSED_NONE, REFUSED_CORRUPT, REFUSED_UNSIGNED, REFUSED_SIGNATURE };
/*
 * Whether the archive SHOWN, fetched with SHA and SIZE, may be restored as APP's COMMIT, given
 * its record TEXT (NULL: the store has none). Says why not, and returns which refusal.
 */
enum refusal record_check(const struct keys *k, const char *text, const char *app,
                          const char *commit, const char *sha, uint64_t size, const char *shown);

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
/*
 * A readable fd of NAME (rewound): 0; FETCH_MISSING when the store has no such object,
 * FETCH_NO_STORE when the bucket or the store's path is not there (said), FETCH_REFUSED when
 * the credentials were refused (said); -1 for any other failure (said).
 */
enum { FETCH_MISSING = 1, FETCH_NO_STORE = 2, FETCH_REFUSED = 3 };
int store_fetch(struct store *s, const char *name, int *fd);
/* NAME's text (its first MAX bytes) in *TEXT, allocated: 0, or as store_fetch. */
int store_fetch_text(struct store *s, const char *name, char **text, size_t max);
/* TEXT stored as NAME, whole or not at all. 0, or -1 reported. */
int store_put_text(struct store *s, const char *name, const char *text);
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

/* ---- main.c: shared with deps.c ------------------------------------ */

#define RECORD_SUFFIX ".sig"
#define RECORD_MAX    ((size_t)64 * 1024)
const char *store_spec_env(void);
int record_save(struct store *s, const struct keys *k, const char *name, const char *enc,
                const struct tally *t);
const char *counts_text(const struct tally *t, char *buf, size_t len);

#endif
