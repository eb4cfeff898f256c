/*
 * store.h — the local folder, http(s), s3; defined in store.c.
 */
#ifndef CCWRAP_CACHE_STORE_H
#define CCWRAP_CACHE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../storespec.h"

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

#endif
