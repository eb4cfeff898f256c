/*
 * legacy.h — reading clevercloud/ *.json postDeploy hooks (§6); defined in legacy.c.
 */
#ifndef CCWRAP_LEGACY_H
#define CCWRAP_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "problems.h"
#include "config.h"

struct json_t; /* jansson's: only the rooms that read or write JSON include <jansson.h> */

struct legacy_hook {
    char *file;    /* relative to the root: "clevercloud/php.json" */
    char *key;     /* "hooks.postDeploy" or "deploy.hooks.postDeploy" */
    char *command; /* the value as written in the file */
    bool skipped;  /* under deploy and legacy_misplaced = "skip": warned about, not run */
};

struct legacy_list {
    struct legacy_hook *v;
    size_t n;
    struct problems unread; /* files that could not be read: each may hide a postDeploy */
};

/* One clevercloud/<type>.json as read, and how it was written, to write it back alike. */
struct legacy_file {
    char *name;         /* "php.json" */
    char *rel;          /* "clevercloud/php.json" */
    struct json_t *doc; /* the top-level object, or NULL */
    char *unread;       /* why it could not be read, or NULL */
    uid_t uid;
    gid_t gid;
    mode_t mode;
    nlink_t nlink;
    bool bom;           /* began with a UTF-8 byte-order mark */
    bool crlf;          /* its lines end in CR LF */
    bool final_newline; /* it ended with one */
    bool tabs;          /* indented with tabs */
    int indent;         /* spaces (or tabs) per level; 0: all on one line */
};

/*
 * The *.json names of the open folder DFD (ROOT/clevercloud), sorted bytewise. 0, or -1 after
 * reporting.
 */
int legacy_names(int dfd, char ***names, size_t *n);
void legacy_names_free(char **names, size_t n);
/*
 * Reads F->name from DFD (F->name and F->rel set by the caller). Returns true with F->doc set,
 * false when there is nothing to use: not a regular file, not an object (buckets.json), or
 * unreadable, then with F->unread set and a warning added to *W.
 */
bool legacy_load(int dfd, struct legacy_file *f, struct problems *w);
/* The postDeploy entries of a loaded file, top-level first, into *OUT; odd ones warned about. */
size_t legacy_find(const struct legacy_file *f, const struct config *c, struct legacy_list *out,
                   struct problems *w);
void legacy_file_free(struct legacy_file *f);
/*
 * Reads every ROOT/clevercloud/ *.json, in bytewise order of file name. Each string
 * postDeploy becomes an entry; everything odd (malformed JSON with line and column, a
 * misplaced deploy.hooks, a non-string or empty value, and the deprecation notice naming
 * `ccwrap migrate`) becomes a problem, and each file that could not be read goes to
 * out->unread too. Returns 0, or -1 on a system error (reported).
 */
int legacy_scan(const char *root, const struct config *c, struct legacy_list *out,
                struct problems *warnings);
void legacy_list_free(struct legacy_list *l);

#endif
