/*
 * staging.h — the restore's staging folder; defined in staging.c.
 */
#ifndef CCWRAP_CACHE_STAGING_H
#define CCWRAP_CACHE_STAGING_H

#include <stddef.h>

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

#endif
