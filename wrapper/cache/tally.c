/*
 * tally.c — what an archive holds, as the helper's messages say it: sizes ("1.5 MiB"), the
 * counts of files, folders and links, the kind of an entry that is none of these.
 */
#include <stddef.h>
#include <stdint.h>

#include "tally.h"

#include <stdio.h>
#include <sys/stat.h>

const char *size_text(uint64_t n, char *buf, size_t len)
{
    if (n >= (uint64_t)1024 * 1024)
        snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    return buf;
}

/* "3 files, 1 folder, 0 symlinks": what an archive holds, each kind counted apart. */
const char *counts_text(const struct tally *t, char *buf, size_t len)
{
    snprintf(buf, len, "%llu file%s, %llu folder%s, %llu symlink%s", (unsigned long long)t->files,
             t->files == 1 ? "" : "s", (unsigned long long)t->dirs, t->dirs == 1 ? "" : "s",
             (unsigned long long)t->links, t->links == 1 ? "" : "s");
    return buf;
}

/* libarchive's AE_IF* values are the system's S_IF* ones: a tar entry's type or an lstat's. */
const char *kind_name(unsigned type)
{
    switch (type) {
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "character device";
    case S_IFBLK:
        return "block device";
    case S_IFIFO:
        return "named pipe";
    default:
        return "special file";
    }
}
