/*
 * listen.c — who listens on a TCP port: the listening sockets the kernel's sock_diag reports
 * (else /proc/net/tcp and tcp6), and which process holds each, so that readiness means "the
 * application listens where it can be reached" and not "something answers on that port"
 * (§5.3).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"
#include "tree.h"
#include "listen.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_LISTEN 0x0A

/* Parses "0100007F:1F90 …" (v4) or 32 hex digits (v6): the address, port, state and inode. */
static bool parse_line(const char *line, bool v6, struct listener *l, int *port, int *state)
{
    const char *field[10], *p = line, *local;
    unsigned long st, pt, inode;
    size_t hex = v6 ? 32 : 8;
    char *end;
    int n = 0;

    /* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode" */
    while (n < 10) {
        p += strspn(p, " \t");
        if (!*p || *p == '\n')
            return false;
        field[n++] = p;
        p += strcspn(p, " \t\n");
    }
    local = field[1];
    if (strcspn(local, " \t") != hex + 5 || local[hex] != ':')
        return false;
    pt = strtoul(local + hex + 1, &end, 16);
    if (end != local + hex + 5)
        return false;
    st = strtoul(field[3], &end, 16);
    if (end == field[3])
        return false;
    inode = strtoul(field[9], &end, 10);
    if (end == field[9])
        return false;
    memset(l, 0, sizeof *l);
    l->uid = (uid_t)strtoul(field[7], NULL, 10);
    l->v6 = v6;
    /* The kernel prints each 32-bit word of the address as a native integer. */
    for (size_t w = 0; w < hex / 8; w++) {
        char word[9];
        uint32_t v;

        memcpy(word, local + w * 8, 8);
        word[8] = '\0';
        v = (uint32_t)strtoul(word, NULL, 16);
        memcpy(l->addr + w * 4, &v, 4);
    }
    l->inode = inode;
    *port = (int)pt;
    *state = (int)st;
    return true;
}

static int read_table(const char *path, bool v6, int port, struct listener **v, size_t *n)
{
    FILE *f = fopen(path, "re");
    char line[512];

    if (!f)
        return -1;
    /* The first line holds the column names. */
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        struct listener l;
        int p, st;

        if (!parse_line(line, v6, &l, &p, &st) || p != port || st != TCP_LISTEN || l.inode == 0)
            continue;
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        (*v)[(*n)++] = l;
    }
    fclose(f);
    return 0;
}

static void add_listener(struct listener **v, size_t *n, const struct inet_diag_msg *m, bool v6)
{
    struct listener l = {.v6 = v6, .inode = m->idiag_inode, .uid = m->idiag_uid};

    memcpy(l.addr, m->id.idiag_src, v6 ? 16 : 4);
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = l;
}

/* NLMSG_OK and NLMSG_NEXT, without their comparisons of a signed and an unsigned length. */
static bool msg_fits(const struct nlmsghdr *h, size_t left)
{
    return left >= sizeof *h && h->nlmsg_len >= sizeof *h && h->nlmsg_len <= left;
}

static struct nlmsghdr *msg_next(struct nlmsghdr *h, size_t *left)
{
    size_t step = NLMSG_ALIGN(h->nlmsg_len);

    if (step > *left)
        step = *left;
    *left -= step;
    return (struct nlmsghdr *)((char *)h + step);
}

/*
 * The listening sockets on PORT of FAMILY, from sock_diag: the kernel walks its listening
 * table only, where reading /proc/net/tcp walks every connection bucket of the host (2.5 ms a
 * read on a large machine, longer than the probe interval). 0, or -1 when it cannot tell.
 */
static int diag_family(int family, int port, struct listener **v, size_t *n)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } q = {
        .nlh = {.nlmsg_len = sizeof q,
                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .req = {.sdiag_family = (uint8_t)family,
                .sdiag_protocol = IPPROTO_TCP,
                .idiag_states = 1U << TCP_LISTEN,
                .id.idiag_sport = htons((uint16_t)port)},
    };
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    long buf[8192 / sizeof(long)];
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), rc = -1;

    if (fd < 0)
        return -1;
    if (sendto(fd, &q, sizeof q, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        goto out;
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        size_t left = got > 0 ? (size_t)got : 0;

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            goto out;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; msg_fits(h, left);
             h = msg_next(h, &left)) {
            const struct inet_diag_msg *m = NLMSG_DATA(h);

            if (h->nlmsg_type == NLMSG_DONE) {
                rc = 0;
                goto out;
            }
            if (h->nlmsg_type == NLMSG_ERROR)
                goto out;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m) || m->idiag_state != TCP_LISTEN ||
                ntohs(m->id.idiag_sport) != port || m->idiag_inode == 0)
                continue;
            add_listener(v, n, m, family == AF_INET6);
        }
    }
out:
    close(fd);
    return rc;
}

int listeners_find(int port, struct listener **v, size_t *n)
{
    int a, b;

    *v = NULL;
    *n = 0;
    if (diag_family(AF_INET, port, v, n) == 0) {
        /* A kernel without IPv6 has no such table: that is not a failure. */
        diag_family(AF_INET6, port, v, n);
        return 0;
    }
    /*
     * No netlink socket (a unit with RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX, a
     * seccomp filter; tests/ready-house.bats): the slower tables say the same.
     */
    free(*v);
    *v = NULL;
    *n = 0;
    a = read_table("/proc/net/tcp", false, port, v, n);
    /* A kernel without IPv6 has no tcp6 table: that is not a failure. */
    b = read_table("/proc/net/tcp6", true, port, v, n);
    return a < 0 && b < 0 ? -1 : 0;
}

enum listen_scope listener_scope(const struct listener *l)
{
    static const uint8_t zero[16], loop6[16] = {[15] = 1};
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

    if (!l->v6)
        return memcmp(l->addr, zero, 4) == 0 ? LS_WILDCARD
               : l->addr[0] == 127           ? LS_LOOPBACK
                                             : LS_ADDRESS;
    if (memcmp(l->addr, zero, 16) == 0)
        return LS_WILDCARD;
    if (memcmp(l->addr, loop6, 16) == 0)
        return LS_LOOPBACK;
    if (memcmp(l->addr, mapped, 12) == 0)
        return l->addr[12] == 127 ? LS_LOOPBACK : LS_ADDRESS;
    return LS_ADDRESS;
}

char *listener_text(const struct listener *l, int port)
{
    const uint8_t *a = l->addr;

    if (!l->v6)
        return xasprintf("%u.%u.%u.%u:%d", a[0], a[1], a[2], a[3], port);
    if (listener_scope(l) == LS_WILDCARD)
        return xasprintf("[::]:%d", port);
    if (listener_scope(l) == LS_LOOPBACK && a[0] == 0 && a[10] == 0)
        return xasprintf("[::1]:%d", port);
    return xasprintf("[%x:%x:%x:%x:%x:%x:%x:%x]:%d", a[0] << 8 | a[1], a[2] << 8 | a[3],
                     a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
                     a[12] << 8 | a[13], a[14] << 8 | a[15], port);
}

/*
 * Marks in held[] the listeners whose socket PID has open. 0, or -1 with errno when its
 * descriptors cannot be read (another user's process without CAP_SYS_PTRACE).
 */
static int mark_held(pid_t pid, const struct listener *v, size_t n, bool *held)
{
    char path[64], link[64];
    struct dirent *d;
    DIR *dir;
    int dfd;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : -1;
    dfd = dirfd(dir);
    while ((d = readdir(dir))) {
        ssize_t len = readlinkat(dfd, d->d_name, link, sizeof link - 1);
        unsigned long inode;

        /* root without CAP_SYS_PTRACE lists another user's fd folder but reads no link in it. */
        if (len < 0 && (errno == EACCES || errno == EPERM)) {
            int e = errno;

            closedir(dir);
            errno = e;
            return -1;
        }
        if (len <= 8 || memcmp(link, "socket:[", 8) != 0)
            continue;
        link[len] = '\0';
        inode = strtoul(link + 8, NULL, 10);
        for (size_t i = 0; i < n; i++)
            if (v[i].inode == inode)
                held[i] = true;
    }
    closedir(dir);
    return 0;
}

int tree_holds(pid_t root, const struct listener *v, size_t n, bool *held)
{
    struct pidset tree = {0};
    int rc = 0;

    memset(held, 0, n * sizeof *held);
    pidset_add(&tree, root);
    if (tree_descendants(root, &tree) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < tree.n; i++)
        if (mark_held(tree.v[i], v, n, held) < 0)
            rc = -1;
    pidset_free(&tree);
    return rc;
}

pid_t socket_holder(unsigned long inode)
{
    struct listener l = {.inode = inode};
    struct dirent *d;
    DIR *dir = opendir("/proc");
    pid_t found = 0;

    if (!dir)
        return 0;
    while (!found && (d = readdir(dir))) {
        bool held = false;

        if (d->d_name[0] < '1' || d->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)strtol(d->d_name, NULL, 10);

        if (mark_held(pid, &l, 1, &held) == 0 && held)
            found = pid;
    }
    closedir(dir);
    return found;
}

bool pid_runs_as(pid_t pid, uid_t uid)
{
    char path[64], line[256];
    bool found = false;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    while (!found && fgets(line, sizeof line, f)) {
        char *p = line + 4, *end;

        if (strncmp(line, "Uid:", 4) != 0)
            continue;
        /* "Uid:\treal\teffective\tsaved\tfile system" */
        for (int i = 0; i < 4 && !found; i++, p = end) {
            unsigned long u = strtoul(p, &end, 10);

            if (end == p)
                break;
            found = u == (unsigned long)uid;
        }
        break;
    }
    fclose(f);
    return found;
}

bool tree_has_uid(pid_t root, uid_t uid)
{
    struct pidset tree = {0};
    bool found = false;

    pidset_add(&tree, root);
    tree_descendants(root, &tree);
    for (size_t i = 0; !found && i < tree.n; i++)
        found = pid_runs_as(tree.v[i], uid);
    pidset_free(&tree);
    return found;
}
