/*
 * helper.h — ccwrap-cache, the build cache helper that ccwrap runs (§10). It alone links
 * libarchive (pack.c, unpack.c) and loads libcurl (remote.c: with dlopen, and only for an
 * http(s) or s3 store), so ccwrap without a cache starts as before. Its messages are ccwrap's
 * own (msg.c), its allocation and numbers util.c's. Sections are ordered lower layer first;
 * the restore's state is unpack_int.h's, seen by its two rooms alone.
 */
#ifndef CCWRAP_CACHE_HELPER_H
#define CCWRAP_CACHE_HELPER_H

#include "../msg.h"
#include "../storespec.h"
#include "../util.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- env.c: what ccwrap hands the helper in the environment ------- */

/* CCWRAP_CACHE_STORE, "" when unset (the default folder). */
const char *store_spec_env(void);
/* Whether VAR is set and not empty. */
bool env_set(const char *var);
/*
 * The cap VAR (ccwrap's SETTING), a size as cache_size_parse reads it, or DFLT when unset.
 * 0, or -1 reported.
 */
int env_limit(const char *var, const char *setting, uint64_t dflt, uint64_t *out);
/*
 * One word W of a colon-separated path list, in place: without leading "./" nor trailing '/'.
 * NULL for a word that names nothing ("", ".").
 */
char *path_word(char *w);

/* ---- tally.c: what an archive holds, as messages say it ----------- */

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

/* ---- store.c: the local folder, http(s), s3 ------------------------ */

struct store {
    struct store_spec spec;
    int dirfd; /* local: the store's folder */
    char *app; /* the app's folder name in the store */
    void *curl;
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

/* ---- remote.c: a store on a server, through libcurl (loaded when needed) ---- */

/* A request's data: where a GET's body goes, where a PUT's comes from, an error answer's start. */
struct body {
    int out;        /* download target, or -1 */
    int in;         /* upload source, or -1 */
    char text[512]; /* the start of an error answer */
    size_t n;
};
/* libcurl loaded and set up for the remote store S. 0, or -1 reported. */
int remote_open(struct store *s);
void remote_close(struct store *s);
/*
 * One request on NAME of the app: METHOD "GET" (into B->out), "PUT" (from B->in, SIZE bytes) or
 * "DELETE". The HTTP status, or -1 after reporting a transport failure.
 */
long remote_request(struct store *s, const char *method, const char *name, struct body *b,
                    int64_t size);
/* The server answered CODE to METHOD of NAME and it was not what was asked: say so. */
void remote_refused(struct store *s, struct body *b, long code, const char *method,
                    const char *name);

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

/* The record of an archive NAME is NAME.sig, at most RECORD_MAX bytes. */
#define RECORD_SUFFIX ".sig"
#define RECORD_MAX    ((size_t)64 * 1024)
/* The record of NAME (ENC: the commit as stored) stored beside it as NAME.sig. 0, or -1. */
int record_save(struct store *s, const struct keys *k, const char *name, const char *enc,
                const struct tally *t);

enum refusal { REFUSED_NONE, REFUSED_CORRUPT, REFUSED_UNSIGNED, REFUSED_SIGNATURE };
/*
 * Whether the archive SHOWN, fetched with SHA and SIZE, may be restored as APP's COMMIT, given
 * its record TEXT (NULL: the store has none). Says why not, and returns which refusal.
 */
enum refusal record_check(const struct keys *k, const char *text, const char *app,
                          const char *commit, const char *sha, uint64_t size, const char *shown);

/* ---- below.c: folders beneath a folder, through no symbolic link --- */

#define DIR_OPEN (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/*
 * The folder PATH (LEN bytes, normalized, not empty, NUL-ended) below the folder DIRFD, through
 * no symbolic link; with CREATE, missing folders are made (0755, as tar does). A new
 * descriptor; or -1 with errno, and *BAD the length of the prefix of PATH that is a symbolic
 * link (ELOOP) or no folder (ENOTDIR).
 */
int open_below(int dirfd, const char *path, size_t len, bool create, size_t *bad);
/* open_below of PATH, any path ("" for DIRFD itself: a new descriptor of it). */
int folder_below(int dirfd, const char *path, bool create, size_t *bad);
/* rm -r NAME below DIRFD, following no symbolic link. */
void remove_tree(int dirfd, const char *name);

/* ---- pack.c: making an archive (tar+zstd, libarchive) --------------- */

/*
 * Writes the archive of the folder ROOTFD to FD: every entry but .git (or only the paths of
 * CC_OVERRIDE_BUILDCACHE), minus CC_IGNORE_FROM_BUILDCACHE. 0, or -1 after reporting.
 */
int pack_root(int rootfd, const char *root, int fd, struct tally *t);
/*
 * The entries NAMES (N of them, each one name, no '/') of the folder BASEFD (shown as SHOWN)
 * into an archive written to FD: a dependency archive (deps.c). 0, or -1 reported.
 */
int pack_paths(int basefd, const char *shown, int fd, char *const *names, size_t n,
               struct tally *t);

/* ---- staging.c: the restore's staging folder ------------------------ */

/* A staging folder's name begins so: no archive may write there, none archives it. */
#define STAGING_PREFIX ".ccwrap-restore."
/* Removes the staging folders an interrupted restore left in the folder ROOTFD. */
void staging_remove_stale(int rootfd);
/*
 * A fresh staging folder in ROOTFD (shown as ROOT), used from then on only by the descriptor
 * returned; its name in NAME (LEN bytes). -1 reported.
 */
int staging_make(int rootfd, const char *root, char *name, size_t len);
/*
 * Each entry of the staging folder STAGEFD takes its place in ROOTFD; what it replaced goes
 * into the staging folder. When one cannot, those moved go back. 0, or -1 reported.
 */
int staging_move(int rootfd, int stagefd, const char *root);
/* Empties the folder FD, following no symbolic link. */
void staging_empty(int fd);
/* The top-level entry of ROOT that holds the folder STORE_DIR (allocated), or NULL. */
char *store_top(const char *root, const char *store_dir);

/* ---- unpack.c, unpack_entry.c: the restore ---------------------------- */

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

/* ---- deps_find.c: the paths that hold an app's dependencies ------ */

#define EXTRA_VAR "CC_CACHE_DEPENDENCIES_EXTRA_PATHS"

struct dep {
    char *rel; /* relative to the root or the home, normalized */
    bool home;
};

struct deps {
    struct dep *v;
    size_t n;
    char eco[512]; /* "npm (package-lock.json), Maven (pom.xml)" */
    char fp[65];   /* SHA-256 of the lock files' names and contents */
    const char *root;
    char *home; /* NULL: no usable home, its paths left out */
    int rootfd, homefd;
};

/*
 * The dependency paths of the app at ROOT, the ecosystems and the fingerprint of their lock
 * files, in D: 0, and deps_free once done; -1 reported, nothing to free.
 */
int deps_find(struct deps *d, const char *root);
void deps_free(struct deps *d);
/* D's paths as plan shows them, "node_modules, ~/.npm", in BUF. */
void paths_text(const struct deps *d, char *buf, size_t len);

/* ---- deps.c: the dependency archives of CC_CACHE_DEPENDENCIES ------ */

int deps_save(const char *root, const char *app);
int deps_restore(const char *root, const char *app);
int deps_plan(const char *root, const char *app);

#endif
