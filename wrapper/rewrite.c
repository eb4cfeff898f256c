/*
 * rewrite.c — writing a clevercloud/ *.json back after migrate took its postDeploy out: in the
 * file's own style (indentation, line ends, byte-order mark, final newline, the digits of its
 * numbers), with its owner and mode, through a temporary file and renameat.
 */
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "legacy.h"
#include "rewrite.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int real_digits(double d)
{
    char buf[40];

    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return p;
    }
    return 17;
}

/*
 * The fewest digits that write every real of J back as it was read: jansson's default of 17
 * would turn a 0.1 in the user's file into 0.10000000000000001.
 */
/* Recursion is bounded: jansson refuses documents nested deeper than 2048. */
static int real_precision(json_t *j) /* NOLINT(misc-no-recursion) */
{
    int p = 1, q;
    const char *k;
    size_t i;
    json_t *v;

    if (json_is_real(j) && isfinite(json_real_value(j)))
        return real_digits(json_real_value(j));
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if ((q = real_precision(v)) > p)
                p = q;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            if ((q = real_precision(v)) > p)
                p = q;
        }
    }
    return p;
}

/*
 * F's document in F's own style: indentation unit, tabs, CR LF, byte-order mark, final
 * newline. Safe on jansson's output: it escapes every control character inside strings, so
 * each line break and each line's leading blanks are its own layout. Allocated, or NULL.
 */
static char *encode(const struct legacy_file *f, size_t *len)
{
    size_t flags = JSON_INDENT(f->tabs ? 1 : f->indent) | JSON_PRESERVE_ORDER |
                   JSON_REAL_PRECISION(real_precision(f->doc));
    char *text = json_dumps(f->doc, flags), *out, *o;
    size_t n = 0, lines = 1, unit = f->tabs ? (size_t)f->indent : 1;

    if (!text)
        return NULL;
    for (const char *p = text; *p; p++) {
        n++;
        lines += *p == '\n';
    }
    /* Worst case: every blank becomes UNIT tabs, every line gains a CR. */
    out = o = xmalloc(3 + n * (unit + 1) + 2 * lines + 3);
    if (f->bom) {
        memcpy(o, "\xef\xbb\xbf", 3);
        o += 3;
    }
    for (const char *p = text; *p;) {
        const char *eol = p + strcspn(p, "\n");

        if (f->tabs) {
            size_t spaces = strspn(p, " ");

            memset(o, '\t', spaces * unit);
            o += spaces * unit;
            p += spaces;
        }
        memcpy(o, p, (size_t)(eol - p));
        o += eol - p;
        if (*eol == '\n' || f->final_newline) {
            if (f->crlf)
                *o++ = '\r';
            *o++ = '\n';
        }
        p = *eol ? eol + 1 : eol;
    }
    *o = '\0';
    free(text);
    *len = (size_t)(o - out);
    return out;
}

/* A fresh name beside NAME in DFD, created O_EXCL. The fd, or -1. */
static int create_temp(int dfd, const char *name, char **tmp)
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        int fd;

        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return -1;
        *tmp = xasprintf(".%s.%02x%02x%02x%02x%02x%02x", name, r[0], r[1], r[2], r[3], r[4], r[5]);
        fd = openat(dfd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        free(*tmp);
        *tmp = NULL;
    }
    errno = EEXIST;
    return -1;
}

/*
 * Rewrites the file through a temporary file in its folder DFD and renameat: a reader sees
 * the old file or the new one, and a failure leaves the old one. 0, or -1 after reporting.
 */
int legacy_rewrite(int dfd, const struct legacy_file *f)
{
    size_t len = 0;
    char *text = encode(f, &len), *tmp = NULL, *rel = shown_text(f->rel);
    const char *what = "cannot write";
    int fd = -1, rc = -1;

    if (!text) {
        log_error("%s: cannot encode JSON", rel);
        goto out;
    }
    fd = create_temp(dfd, f->name, &tmp);
    if (fd < 0) {
        log_error("%s: cannot create a temporary file beside it: %s", rel, strerror(errno));
        goto out;
    }
    if (write_all(fd, text, len) < 0)
        goto fail;
    if ((f->uid != geteuid() || f->gid != getegid()) && fchown(fd, f->uid, f->gid) < 0) {
        what = "cannot keep its owner";
        goto fail;
    }
    /* After fchown, which clears them; never set-id bits on a file root wrote for a user. */
    if (fchmod(fd, f->mode & 0777) < 0) {
        what = "cannot keep its mode";
        goto fail;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, f->name) < 0) {
        what = "cannot replace";
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    log_error("%s: %s: %s", rel, what, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
out:
    free(text);
    free(tmp);
    free(rel);
    return rc;
}
