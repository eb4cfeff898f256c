/*
 * ready.h — readiness specs and the step driver (§5.3); defined in ready.c.
 */
#ifndef CCWRAP_READY_H
#define CCWRAP_READY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ready_kind {
    READY_TCP,
    READY_HTTP,
    READY_NOTIFY,
    READY_FILE,
    READY_DELAY,
    READY_EXIT,
    READY_NONE
};

struct ready {
    enum ready_kind kind;
    char *spec;          /* as the user wrote it */
    char *host;          /* tcp, http: where to connect */
    int port;            /* tcp, http */
    char *path;          /* http: the request path; file: the file */
    char **health_paths; /* tcp: CC_HEALTH_CHECK_PATH, CC_HEALTH_CHECK_PATH_0..N */
    size_t n_health;
    int64_t delay_ms;  /* delay */
    char *notify_path; /* notify: the socket address handed to the application */
    int notify_fd;     /* notify: our end, or -1 */
    pid_t app;         /* the application, once started: tcp and notify look at its tree */
    void *state;       /* the probe in progress, private to the ready*.c rooms (ready_int.h) */
};

/*
 * Parses SPEC ("tcp", "tcp:PORT", "tcp:HOST:PORT", "http://HOST:PORT/PATH", "notify",
 * "file:PATH", "delay:SECONDS", "exit", "none"). tcp reads $PORT and CC_HEALTH_CHECK_PATH*
 * from the environment. Returns 0, or -1 with a one-line reason in err.
 */
int ready_parse(const char *spec, struct ready *r, char *err, size_t errlen);
/*
 * Advances the probe without blocking. Returns 1 when ready, 0 when not yet. *pfd is set to
 * what to poll for (fd -1 when nothing) and *next to the monotonic ms at which to call again
 * at the latest (-1: only when pfd fires). START is when the application was started.
 */
struct pollfd;
int ready_step(struct ready *r, int64_t start, int64_t now, struct pollfd *pfd, int64_t *next);
void ready_free(struct ready *r);

#endif
