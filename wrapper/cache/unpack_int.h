/*
 * unpack_int.h — the restore's state, shared by its two rooms alone: unpack.c (the archive
 * read entry by entry, each checked, the caps, the staging folder) and unpack_entry.c (one
 * entry made below the staging folder). No other file includes it.
 */
#ifndef CCWRAP_CACHE_UNPACK_INT_H
#define CCWRAP_CACHE_UNPACK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tally.h"
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <time.h>

/*
 * The restore. libarchive reads the archive; ccwrap itself makes each entry, below a staging
 * folder it holds by descriptor, every path component opened without following a symbolic
 * link whatever the path's length (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, else one
 * O_NOFOLLOW openat per component). Only files, folders, symbolic links and hard links to
 * what the archive made are created; nothing gets a set-user-ID, set-group-ID or sticky bit.
 */
#define SPECIAL_BITS ((mode_t)(S_ISUID | S_ISGID | S_ISVTX))

/*
 * An entry's path may be longer than PATH_MAX (it is walked a component at a time), not than
 * this: ccwrap's own archives never hold one longer than PATH_MAX.
 */
#define NAME_CAP ((size_t)64 * 1024)

/* A folder's owner, mode and times, set once everything in it is made. */
struct dirfix {
    char *path;
    mode_t perm;
    uid_t uid;
    gid_t gid;
    struct timespec ts[2];
};

struct restore {
    struct archive *a;
    struct tally *t;
    int stagefd;
    const char *keep_top; /* the root's entry that holds the store: never the archive's */
    bool keep_noted;
    bool owners; /* root: entries keep their owners */
    uid_t euid;  /* the owner of what the restore makes, before any fchown */
    gid_t egid;
    char path[NAME_CAP];   /* the entry's path, normalized */
    char to[NAME_CAP];     /* a hard link's target, normalized */
    char parent[NAME_CAP]; /* the folder last opened for an entry, and its descriptor: entries
                              come in tree order, so most reuse it */
    size_t plen;
    int parentfd;
    struct dirfix *fix;
    size_t nfix, capfix;
    uint64_t max_bytes, max_entries, entries, bytes, written, stripped;
    struct {
        bool group;
        char name[64];
        unsigned id;
        bool found;
    } ids[16];
    unsigned nids;
    char shown[256];
    char prefix[256];
};

/* ---- unpack.c ---- */

/* The first N bytes of S in BUF, cut in their middle when longer than a message line. */
const char *cut_into(char *buf, size_t len, const char *s, size_t n);
/* NAME as a message shows it. */
const char *cut(struct restore *r, const char *name);
/* "archive entry 'NAME': refused: WHY". */
void refuse(struct restore *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * PATH without "./", empty components and a trailing '/', in OUT (NAME_CAP bytes; "" for the
 * root itself). 0; 1 for an absolute path; 2 for one with ".."; 3 for one too long.
 */
int normalize(const char *path, char *out);

/* ---- unpack_entry.c ---- */

/*
 * What a failed write says: the error's own words, and for a full disk how much the whole
 * archive needs beside what was written. -1.
 */
int write_failed(struct restore *r, const char *name, int err);
int restore_file(struct restore *r, struct archive_entry *e, int pfd, const char *leaf, mode_t perm,
                 const char *name);
int restore_dir(struct restore *r, struct archive_entry *e, int pfd, const char *leaf, mode_t perm,
                const char *name);
int restore_symlink(struct restore *r, struct archive_entry *e, int pfd, const char *leaf,
                    const char *name);
/* A hard link to TARGET, an entry the archive made before, found below the staging folder. */
int restore_hardlink(struct restore *r, const char *target, int pfd, const char *leaf,
                     const char *name);

#endif
