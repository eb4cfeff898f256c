/*
 * listen.h — who listens on a TCP port (§5.3); defined in listen.c.
 */
#ifndef CCWRAP_LISTEN_H
#define CCWRAP_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct listener {
    bool v6;
    uint8_t addr[16]; /* network order; the first 4 bytes for IPv4 */
    unsigned long inode;
    uid_t uid; /* the socket's owner: whoever created it (its file system uid then) */
};

enum listen_scope { LS_WILDCARD, LS_LOOPBACK, LS_ADDRESS };

/* The listening TCP sockets on PORT, IPv4 and IPv6, in *v (allocated). 0, or -1 without /proc. */
int listeners_find(int port, struct listener **v, size_t *n);
enum listen_scope listener_scope(const struct listener *l);
/*
 * Whether a process of ROOT's tree (ROOT included) runs as UID (real, effective or file system
 * uid, from /proc/PID/status, which needs no CAP_SYS_PTRACE).
 */
bool tree_has_uid(pid_t root, uid_t uid);
/* Whether PID runs as UID: its real, effective, saved or file system uid. */
bool pid_runs_as(pid_t pid, uid_t uid);
/* "127.0.0.1:8080", "[::1]:8080". Allocated. */
char *listener_text(const struct listener *l, int port);
/*
 * Sets held[i] when ROOT or a process below it holds v[i]'s socket. 0, or -1 with errno when
 * a descriptor table cannot be read.
 */
int tree_holds(pid_t root, const struct listener *v, size_t n, bool *held);
/* Some process holding the socket INODE, found by reading every descriptor table; 0 if none. */
pid_t socket_holder(unsigned long inode);

#endif
