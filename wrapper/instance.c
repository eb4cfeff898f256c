/*
 * instance.c — the variables Clever Cloud sets on an instance (§13): APP_HOME,
 * INSTANCE_TYPE, INSTANCE_NUMBER, INSTANCE_ID, COMMIT_ID, CC_COMMIT_ID and PORT, each set
 * only when the environment leaves it unset; and the commit the root's .git names.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "beneath.h"
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

enum { V_APP_HOME, V_TYPE, V_NUMBER, V_ID, V_COMMIT, V_CC_COMMIT, V_PORT, V_COUNT };

static const char *const names[V_COUNT] = {"APP_HOME",    "INSTANCE_TYPE", "INSTANCE_NUMBER",
                                           "INSTANCE_ID", "COMMIT_ID",     "CC_COMMIT_ID",
                                           "PORT"};
/* Which of them this ccwrap set: the cache key tells a COMMIT_ID it was given from its own. */
static bool ours[V_COUNT];

/* Reads at most LEN-1 bytes of FILE below the folder DIRFD, through no symlink, NUL-ended. */
static ssize_t read_beneath(int dirfd, const char *file, char *buf, size_t len)
{
    int fd = open_beneath(dirfd, file, O_RDONLY, 0);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

static bool is_sha(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");

    return (n == 40 || n == 64) && (s[n] == '\0' || s[n] == '\n' || s[n] == ' ');
}

/* Without running git: a checkout's HEAD is a file, its branch a loose or packed ref. */
char *git_head(const char *root)
{
    char head[256], ref[256], *sha = NULL;
    int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dirfd < 0)
        return NULL;
    if (read_beneath(dirfd, ".git/HEAD", head, sizeof head) <= 0)
        goto out;
    if (is_sha(head)) {
        sha = strndup(head, strspn(head, "0123456789abcdef"));
    } else if (strncmp(head, "ref: refs/", 10) == 0) {
        char *name = head + 5, *path;
        static char packed[1 << 16];

        name[strcspn(name, "\n")] = '\0';
        if (strstr(name, ".."))
            goto out;
        path = xasprintf(".git/%s", name);
        if (read_beneath(dirfd, path, ref, sizeof ref) > 0 && is_sha(ref)) {
            sha = strndup(ref, strspn(ref, "0123456789abcdef"));
        } else if (read_beneath(dirfd, ".git/packed-refs", packed, sizeof packed) > 0) {
            for (char *line = strtok(packed, "\n"); line; line = strtok(NULL, "\n")) {
                char *sp = strchr(line, ' ');

                if (sp && strcmp(sp + 1, name) == 0 && is_sha(line)) {
                    sha = strndup(line, (size_t)(sp - line));
                    break;
                }
            }
        }
        free(path);
    }
out:
    close(dirfd);
    return sha;
}

/* A random (version 4) UUID, as the platform gives each instance; NULL when none can be had. */
static char *new_uuid(void)
{
    unsigned char b[16];
    size_t got = 0;

    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                     b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                     b[13], b[14], b[15]);
}

/* What ccwrap gives variable I in PHASE, allocated, or NULL (no .git, no randomness). */
static char *default_value(int i, const char *root, const char *phase, char **head)
{
    switch (i) {
    case V_APP_HOME:
        return xstrdup(root);
    case V_TYPE:
        return xstrdup(strcmp(phase, "build") == 0 ? "build" : "production");
    case V_NUMBER:
        return xstrdup("0");
    case V_ID:
        return new_uuid();
    case V_COMMIT:
    case V_CC_COMMIT:
        if (!*head)
            *head = git_head(root);
        return *head ? xstrdup(*head) : NULL;
    default:
        return xstrdup("8080");
    }
}

void instance_env(const char *root, const char *phase)
{
    char *head = NULL;

    for (int i = 0; i < V_COUNT; i++) {
        char *value;

        if (getenv(names[i]))
            continue;
        if ((value = default_value(i, root, phase, &head)) == NULL) {
            if (i == V_ID)
                log_warn("INSTANCE_ID: no random bytes from the kernel (%s); left unset",
                         strerror(errno));
            continue;
        }
        setenv(names[i], value, 1);
        ours[i] = true;
        free(value);
    }
    free(head);
}

bool instance_ours(const char *name)
{
    for (int i = 0; i < V_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return ours[i];
    return false;
}

size_t instance_plan(const char *root, const char *phase, struct instance_var *out)
{
    char *head = NULL;
    size_t n = 0;

    for (int i = 0; i < V_COUNT; i++) {
        const char *set = getenv(names[i]);

        out[n].name = names[i];
        if (set) {
            out[n].value = xstrdup(set);
            out[n].source = "from the environment";
        } else if (i == V_ID) {
            out[n].value = xstrdup("a new random UUID at each start");
            out[n].source = "set by ccwrap";
        } else if ((out[n].value = default_value(i, root, phase, &head)) != NULL) {
            out[n].source = i == V_COMMIT || i == V_CC_COMMIT ? "set by ccwrap, from .git/HEAD"
                                                              : "set by ccwrap";
        } else {
            out[n].value = xstrdup("unset");
            out[n].source = "no .git/HEAD under the root";
        }
        n++;
    }
    free(head);
    return n;
}
