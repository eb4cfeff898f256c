/*
 * sign.h — an archive's record (SHA-256, size, signature), with libcrypto; defined in sign.c.
 */
#ifndef CCWRAP_CACHE_SIGN_H
#define CCWRAP_CACHE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally.h"
#include "store.h"

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

#endif
