/*
 * envfile.h — CCWRAP_ENV (§3); defined in envfile.c.
 */
#ifndef CCWRAP_ENVFILE_H
#define CCWRAP_ENVFILE_H

#include <sys/types.h>

struct envfile {
    int fd;     /* the file ccwrap made, kept open */
    char *name; /* in the run's private folder */
    char *path; /* what the hook is given; NULL: no file */
    dev_t dev;
    ino_t ino;
};

/*
 * A fresh, empty, mode-0600 file in the run's private 0700 folder (made on first use under
 * $TMPDIR, else /tmp). 0, or -1 after reporting.
 */
int envfile_create(struct envfile *ef);
/*
 * After SOURCE's hook succeeded: its NAME=value lines join ccwrap's environment, if the file
 * is still the one made; refused names, bad and unterminated lines are reported by number.
 */
void envfile_apply(struct envfile *ef, const char *source);
void envfile_remove(struct envfile *ef);
/* Removes the run's folder, at the end. */
void envfile_cleanup(void);

#endif
