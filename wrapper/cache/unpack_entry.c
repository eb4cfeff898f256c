/*
 * unpack_entry.c — one entry of an archive made below the restore's staging folder: a file
 * (its data checked as written), a folder, a symbolic link, a hard link to what the archive
 * made; owners by name then number, times to the nanosecond; what a full disk says.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../util.h"
#include "../msg.h"
#include "tally.h"
#include "below.h"
#include "unpack.h"
#include "unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The entry LEAF of the folder PFD exists already (the archive names it twice, or made it as
 * a folder on the way): 1 when a folder meets a folder, 0 when the old one was removed for
 * the new one, -1 (reported) when the new one may not replace it.
 */
static int replace_existing(struct restore *r, int pfd, const char *leaf, mode_t type,
                            const char *name)
{
    struct stat st;

    if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        log_error("build cache: %s: %s", cut(r, name), strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        refuse(r, name, "it would replace a symbolic link");
        return -1;
    }
    if (type == AE_IFLNK) {
        refuse(r, name, "a symbolic link would replace an entry");
        return -1;
    }
    if (S_ISDIR(st.st_mode) && type == AE_IFDIR)
        return 1;
    if (S_ISDIR(st.st_mode) || type == AE_IFDIR) {
        refuse(r, name, "a folder and a file of the same name");
        return -1;
    }
    if (unlinkat(pfd, leaf, 0) < 0) {
        log_error("build cache: %s: %s", cut(r, name), strerror(errno));
        return -1;
    }
    return 0;
}

/* A user or group NAME's id on this machine, looked up once; false when it has none. */
static bool name_id(struct restore *r, const char *name, bool group, unsigned *id)
{
    char tmp[4096];
    unsigned slot;
    bool found = false;

    if (!name || !*name || strlen(name) >= sizeof r->ids[0].name)
        return false;
    for (unsigned i = 0; i < r->nids; i++)
        if (r->ids[i].group == group && strcmp(r->ids[i].name, name) == 0) {
            *id = r->ids[i].id;
            return r->ids[i].found;
        }
    if (group) {
        struct group gr, *g = NULL;

        if (getgrnam_r(name, &gr, tmp, sizeof tmp, &g) == 0 && g)
            *id = (unsigned)g->gr_gid, found = true;
    } else {
        struct passwd pw, *u = NULL;

        if (getpwnam_r(name, &pw, tmp, sizeof tmp, &u) == 0 && u)
            *id = (unsigned)u->pw_uid, found = true;
    }
    slot = r->nids < 16 ? r->nids++ : (unsigned)(r->entries % 16);
    r->ids[slot].group = group;
    snprintf(r->ids[slot].name, sizeof r->ids[slot].name, "%s", name);
    r->ids[slot].id = found ? *id : 0;
    r->ids[slot].found = found;
    return found;
}

/* The owner an entry gets: its user and group names' ids here, else its numbers. */
static void entry_owner(struct restore *r, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
    unsigned id;
    la_int64_t n;

    if (name_id(r, archive_entry_uname(e), false, &id)) {
        *uid = (uid_t)id;
    } else {
        n = archive_entry_uid(e);
        *uid = n >= 0 && n < (la_int64_t)UINT32_MAX ? (uid_t)n : 0;
    }
    if (name_id(r, archive_entry_gname(e), true, &id)) {
        *gid = (gid_t)id;
    } else {
        n = archive_entry_gid(e);
        *gid = n >= 0 && n < (la_int64_t)UINT32_MAX ? (gid_t)n : 0;
    }
}

/* The entry's access and modification times, to the nanosecond. */
static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = 0;
    ts[1].tv_nsec = UTIME_OMIT;
    if (archive_entry_mtime_is_set(e)) {
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    }
    ts[0] = ts[1];
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
    for (int i = 0; i < 2; i++)
        if (ts[i].tv_nsec != UTIME_OMIT && (ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999))
            ts[i].tv_nsec = 0;
}

/*
 * What a failed write says: the error's own words, and for a full disk how much the whole
 * archive needs (its remaining headers are read for that) beside what was written. -1.
 */
int write_failed(struct restore *r, const char *name, int err)
{
    char need[32], done[32];
    uint64_t total = r->bytes;
    struct archive_entry *e;

    if (err != ENOSPC && err != EDQUOT && err != EFBIG) {
        log_error("build cache: %s: %s", cut(r, name), strerror(err));
        return -1;
    }
    /* The name is the archive's: keep it before reading on. */
    log_error("build cache: %s: %s", cut(r, name), strerror(err));
    while (total <= r->max_bytes && archive_read_next_header(r->a, &e) == ARCHIVE_OK)
        if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
            archive_entry_size(e) > 0)
            total += (uint64_t)archive_entry_size(e);
    log_error(
        "build cache: the restore needs %s for the archive's files and %s were written; free space "
        "where the root is, or build in full",
        size_text(total, need, sizeof need), size_text(r->written, done, sizeof done));
    return -1;
}

/* Owner and times of what FD is (or, FD < 0, of the symbolic link LEAF of PFD). */
static int set_owner_times(struct restore *r, struct archive_entry *e, int fd, int pfd,
                           const char *leaf, const char *name)
{
    struct timespec ts[2];
    uid_t uid;
    gid_t gid;

    if (r->owners) {
        entry_owner(r, e, &uid, &gid);
        /* What ccwrap makes is its own already: most trees are root's, and this is per file. */
        if ((uid != r->euid || gid != r->egid) &&
            (fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW)) <
                0 &&
            errno != EPERM && errno != EINVAL && errno != EOPNOTSUPP)
            return write_failed(r, name, errno);
    }
    entry_times(e, ts);
    if ((fd >= 0 ? futimens(fd, ts) : utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW)) < 0)
        return write_failed(r, name, errno);
    return 0;
}

int restore_file(struct restore *r, struct archive_entry *e, int pfd, const char *leaf, mode_t perm,
                 const char *name)
{
    la_int64_t size = archive_entry_size(e), pos = 0, off;
    const void *buf;
    size_t n;
    int fd, h;

    while ((fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm)) <
           0) {
        if (errno != EEXIST)
            return write_failed(r, name, errno);
        if (replace_existing(r, pfd, leaf, AE_IFREG, name) < 0)
            return -1;
    }
    /* Data as it comes, every write checked; the size is never set ahead of it. */
    while ((h = archive_read_data_block(r->a, &buf, &n, &off)) == ARCHIVE_OK) {
        if (off != pos && lseek(fd, off, SEEK_SET) < 0)
            goto failed;
        if (write_all(fd, buf, n) < 0)
            goto failed;
        pos = off + (la_int64_t)n;
        r->written += n;
    }
    if (h != ARCHIVE_EOF) {
        log_error("build cache: the archive is corrupt: %s", archive_error_string(r->a));
        close(fd);
        return -1;
    }
    /* A sparse file's last hole, once its data is written. */
    if (pos < size && ftruncate(fd, size) < 0)
        goto failed;
    if (set_owner_times(r, e, fd, pfd, leaf, name) < 0) {
        close(fd);
        return -1;
    }
    if (close(fd) < 0)
        return write_failed(r, name, errno);
    r->t->files++;
    return 0;
failed:
    h = errno;
    close(fd);
    return write_failed(r, name, h);
}

int restore_dir(struct restore *r, struct archive_entry *e, int pfd, const char *leaf, mode_t perm,
                const char *name)
{
    struct dirfix *f;

    /* 0700 until its content is made: a read-only folder of the archive still gets it. */
    while (mkdirat(pfd, leaf, 0700) < 0) {
        int rc;

        if (errno != EEXIST)
            return write_failed(r, name, errno);
        rc = replace_existing(r, pfd, leaf, AE_IFDIR, name);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
    }
    if (r->nfix == r->capfix) {
        r->capfix = r->capfix ? r->capfix * 2 : 256;
        r->fix = xrealloc(r->fix, r->capfix * sizeof *r->fix);
    }
    f = &r->fix[r->nfix++];
    f->path = xstrdup(r->path);
    f->perm = perm;
    entry_owner(r, e, &f->uid, &f->gid);
    entry_times(e, f->ts);
    r->t->dirs++;
    return 0;
}

int restore_symlink(struct restore *r, struct archive_entry *e, int pfd, const char *leaf,
                    const char *name)
{
    const char *target = archive_entry_symlink(e);

    if (symlinkat(target ? target : "", pfd, leaf) < 0) {
        if (errno == EEXIST)
            replace_existing(r, pfd, leaf, AE_IFLNK, name);
        else
            write_failed(r, name, errno);
        return -1;
    }
    if (set_owner_times(r, e, -1, pfd, leaf, name) < 0)
        return -1;
    r->t->links++;
    return 0;
}

/* A hard link to TARGET, an entry the archive made before, found below the staging folder. */
int restore_hardlink(struct restore *r, const char *target, int pfd, const char *leaf,
                     const char *name)
{
    const char *tleaf;
    char *slash;
    size_t bad = 0, tlen;
    int tfd, rc = -1;

    switch (normalize(target, r->to)) {
    case 1:
        refuse(r, name, "its hard link target %s is absolute", cut(r, target));
        return -1;
    case 2:
        refuse(r, name, "its hard link target %s contains '..'", cut(r, target));
        return -1;
    case 3:
        refuse(r, name, "its hard link target is longer than %zu bytes", NAME_CAP - 1);
        return -1;
    }
    if (!r->to[0]) {
        refuse(r, name, "its hard link target is the root");
        return -1;
    }
    slash = strrchr(r->to, '/');
    tlen = slash ? (size_t)(slash - r->to) : 0;
    tleaf = slash ? slash + 1 : r->to;
    if (slash)
        *slash = '\0';
    tfd = tlen ? open_below(r->stagefd, r->to, tlen, false, &bad) : r->stagefd;
    if (tfd < 0) {
        if (errno == ELOOP && bad)
            refuse(r, name, "its hard link target goes through symlink %s",
                   cut_into(r->prefix, sizeof r->prefix, r->to, bad));
        else
            refuse(r, name, "its hard link target is not in the archive before it");
        return -1;
    }
    while (linkat(tfd, tleaf, pfd, leaf, 0) < 0) {
        if (errno == ENOENT || errno == EPERM) {
            refuse(r, name, "its hard link target is not a file the archive made before it");
            goto out;
        }
        if (errno != EEXIST) {
            write_failed(r, name, errno);
            goto out;
        }
        if (replace_existing(r, pfd, leaf, AE_IFREG, name) < 0)
            goto out;
    }
    r->t->files++;
    rc = 0;
out:
    if (tfd != r->stagefd)
        close(tfd);
    return rc;
}
