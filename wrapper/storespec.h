/*
 * storespec.h — a build cache store as the user names it (§10), shared by ccwrap and
 * its helper ccwrap-cache: parsing, the form shown in messages (never a credential), names.
 */
#ifndef STORESPEC_H
#define STORESPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_kind { STORE_LOCAL, STORE_HTTP, STORE_S3 };

struct store_spec {
    enum store_kind kind;
    char *shown;  /* as messages show it: no user:password, no key */
    char *dir;    /* local: the absolute folder */
    char *url;    /* http(s): the base URL with credentials, ending in '/' */
    char *bucket; /* s3 */
    char *prefix; /* s3: "" or "a/b/" */
};

/*
 * Parses SPEC ("", "/abs/folder", "file:///abs", "http(s)://host/path", "s3://bucket/prefix").
 * "" is the default folder: /var/cache/ccwrap for root, else $XDG_CACHE_HOME/ccwrap or
 * ~/.cache/ccwrap. 0, or -1 with a one-line reason and its fix in ERR.
 */
int store_spec_parse(const char *spec, struct store_spec *s, char *err, size_t errlen);
void store_spec_free(struct store_spec *s);
/*
 * SPEC as messages, plan, check and events may show it, also when it does not parse: no
 * user:password (all up to the last '@' after "://" goes). Allocated.
 */
char *store_spec_shown(const char *spec);
/*
 * A key part (the app, the commit) as one safe path component: bytes outside
 * [A-Za-z0-9._-] and a leading '.' become ~XX. Allocated.
 */
char *store_name(const char *s);

/* The restore's caps (cache_max_bytes, cache_max_entries) when nothing sets them. */
#define CACHE_MAX_BYTES   ((uint64_t)64 << 30)
#define CACHE_MAX_ENTRIES ((uint64_t)10000000)
/* The largest value either cap may have (1 PiB; a thousand million entries). */
#define CACHE_MAX_BYTES_LIMIT   ((uint64_t)1 << 50)
#define CACHE_MAX_ENTRIES_LIMIT ((uint64_t)1000000000)
/*
 * S, a whole number with an optional K, M, G or T (KiB … TiB), in *OUT: 0; -1 when it is not
 * one or is above CACHE_MAX_BYTES_LIMIT.
 */
int cache_size_parse(const char *s, uint64_t *out);

#endif
