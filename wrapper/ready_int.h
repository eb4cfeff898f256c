/*
 * ready_int.h — the readiness probe's private state (§5.3), shared by the readiness rooms
 * only: ready.c (the spec parser and the step driver), ready_probe.c (tcp and http, and who
 * holds the port), ready_notify.c (sd_notify, both ways) and ready_text.c (the "waiting for…"
 * text). Nothing else includes it: the rest of ccwrap sees struct ready in ready.h and the
 * rooms' public headers (ready_probe.h, ready_notify.h, ready_text.h).
 */
#ifndef CCWRAP_READY_INT_H
#define CCWRAP_READY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ready.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

/* A refused connection costs nothing: ask often, so readiness is seen well within 50 ms. */
#define PROBE_INTERVAL_MS 10
/* Only the status line matters; anything longer than this is not one. */
#define ANSWER_MAX 128

enum phase { PH_IDLE, PH_CONNECTING, PH_SENDING, PH_READING };

/* What the application's tree holds on the port, for tcp without a host. */
enum owner { OWN_NOTHING, OWN_LOOPBACK, OWN_OTHER, OWN_OK };

/* What the last HTTP exchange gave when it gave no status. */
enum { ANS_NONE = 0, ANS_TIMEOUT = -1, ANS_CLOSED = -2, ANS_GARBLED = -3 };

struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* A getaddrinfo_a request with everything it points to, so it can outlive the probe. */
struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    char service[8];
    char name[256];
};

struct probe {
    char *where;     /* "0.0.0.0:8080", for messages */
    char *authority; /* "127.0.0.1:8080", for the Host header */
    struct addr *addrs;
    size_t n_addrs;
    bool by_name; /* addrs come from the resolver, at probe time */
    int64_t resolve_at;
    int gai_error;
    struct lookup *lookup; /* the resolution under way, or NULL */

    enum phase phase;
    int fd;
    size_t addr_i;
    size_t health_i; /* tcp: the health path being asked; those before it answered 200 */
    int64_t deadline;
    int64_t retry_at;
    char *request;
    size_t request_len, sent;
    char answer[ANSWER_MAX];
    size_t answer_len;

    bool owned; /* tcp without a host: the application's tree must hold a wildcard listener */
    enum owner own;
    char *own_where;             /* OWN_LOOPBACK: where it listens */
    unsigned long foreign_inode; /* OWN_OTHER: the socket, and its holder once looked up */
    unsigned long holder_inode;
    pid_t holder;
    uid_t foreign_uid;     /* OWN_OTHER: the socket's owner */
    bool by_uid;           /* no CAP_SYS_PTRACE: listeners judged by their owner (said once) */
    unsigned long *before; /* the sockets on the port before the application started */
    size_t n_before;

    bool foreign_notify; /* a READY=1 from outside the application was ignored (said once) */

    bool ready;
    bool port_open;
    int last_answer; /* an HTTP status, or ANS_* */
    int last_errno;
    char msg[1024];
};

/* ---- ready_probe.c ---- */

/* Takes RES's IPv4 and IPv6 addresses, with PORT, as the ones to connect to. */
void probe_addrs_take(struct probe *p, const struct addrinfo *res, int port);
/* tcp and http: one step of the connection and HTTP exchange; as ready_step. */
int probe_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd, int64_t *next);
/* Whether the socket INODE was on the port before the application started. */
bool probe_held_before(const struct probe *p, unsigned long inode);
/* Who holds the foreign socket on the port (OWN_OTHER), or 0; looked up once per socket. */
pid_t probe_holder(struct probe *p);
/* Frees what the probe holds (its connection, its resolution under way), not P itself. */
void probe_release(struct probe *p);

/* ---- ready_notify.c ---- */

/* notify: reads the datagrams waiting on the socket; 1 on the application's READY=1. */
int notify_step(struct ready *r, struct probe *p, int64_t now, struct pollfd *pfd, int64_t *next);

/* What the run loop is to poll for. */
static inline void want(struct pollfd *pfd, int fd, short events)
{
    pfd->fd = fd;
    pfd->events = events;
}

#endif
