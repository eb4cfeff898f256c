/*
 * children.c — the process table and the one event loop: the children ccwrap watches, their
 * reaping, their deadlines (SIGTERM, then SIGKILL after the grace), the descriptors every loop
 * polls, the end-of-run sweep of what is left below ccwrap (§7), the process groups of
 * workers and cron entries, and what a wait status says.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "tree.h"
#include "log.h"
#include "children.h"
#include "signals.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* The application, one hook at a time, up to 32 workers and 32 cron entries (cronrun.c). */
#define MAX_PROCS 96
/* The cron timer and two output pipes per running cron entry. */
#define MAX_WATCHED 80

static struct proc *procs[MAX_PROCS];
static struct {
    int fd;
    void (*ready)(int fd);
} watched[MAX_WATCHED];
static size_t n_watched;
static int sigfd = -1;

void register_proc(struct proc *p, const char *what)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (!procs[i]) {
            procs[i] = p;
            return;
        }
    }
    /* More than workers, cron entries, a hook and the application can be at once: a bug. */
    log_warn("%s (pid %d): not watched: ccwrap watches %d processes at most; its end, deadline "
             "and relayed signals go unnoticed; report this to ccwrap's authors",
             what, (int)p->pid, MAX_PROCS);
}

struct proc *registered(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] && procs[i]->pid == pid)
            return procs[i];
    return NULL;
}

struct proc *next_running(int *cursor)
{
    while (*cursor < MAX_PROCS) {
        struct proc *p = procs[(*cursor)++];

        if (p && p->running)
            return p;
    }
    return NULL;
}

bool lead_running(void)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] && procs[i]->running && procs[i]->lead)
            return true;
    return false;
}

/* Without a child, nothing can be below ccwrap: orphans are re-parented to it. */
bool has_children(void)
{
    siginfo_t si = {0};

    return !(waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
}

void reap(void)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
        struct proc *p = registered(pid);

        if (WIFSTOPPED(st)) {
            if (p && p->running)
                signals_child_stopped(p, WSTOPSIG(st));
            continue;
        }
        /* Any other pid is an orphan we adopted as subreaper: reaped, nothing more. */
        if (!p)
            continue;
        p->running = false;
        p->status = st;
        for (int i = 0; i < MAX_PROCS; i++)
            if (procs[i] == p)
                procs[i] = NULL;
        /* Whatever the hook left behind in its group goes with it on a timeout. */
        if (p->own_group && (p->timed_out || p->tty_stop))
            kill(-pid, SIGKILL);
    }
}

static void enforce_deadlines(int64_t now)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];

        if (!p || !p->running)
            continue;
        if (p->deadline >= 0 && now >= p->deadline) {
            p->timed_out = true;
            proc_terminate(p, p->grace_ms);
        } else if (p->kill_at >= 0 && now >= p->kill_at) {
            proc_signal_tree(p, SIGKILL);
            p->kill_at = -1;
        }
    }
}

static int64_t next_deadline(int64_t until)
{
    int64_t t = until;

    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];

        if (!p || !p->running)
            continue;
        if (p->deadline >= 0 && (t < 0 || p->deadline < t))
            t = p->deadline;
        if (p->kill_at >= 0 && (t < 0 || p->kill_at < t))
            t = p->kill_at;
    }
    return t;
}

int loop_init(void)
{
    sigfd = signals_init();
    return sigfd < 0 ? -1 : 0;
}

int loop_watch(int fd, void (*ready)(int fd))
{
    if (n_watched == MAX_WATCHED)
        return -1;
    watched[n_watched].fd = fd;
    watched[n_watched++].ready = ready;
    return 0;
}

void loop_unwatch(int fd)
{
    for (size_t i = 0; i < n_watched; i++) {
        if (watched[i].fd == fd) {
            watched[i] = watched[--n_watched];
            return;
        }
    }
}

int loop_step(struct pollfd *extra, int64_t until)
{
    struct pollfd fds[2 + MAX_WATCHED];
    struct signalfd_siginfo si;
    int64_t wake, now;
    int nfds = 1, timeout, rc;
    size_t first_watched, n_polled;

    now = now_ms();
    enforce_deadlines(now);
    wake = next_deadline(until);
    timeout = wake < 0      ? -1
              : wake <= now ? 0
                            : (int)(wake - now > 86400000 ? 86400000 : wake - now);
    fds[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (extra && extra->fd >= 0) {
        extra->revents = 0;
        fds[1] = *extra;
        nfds = 2;
    }
    first_watched = (size_t)nfds;
    for (size_t i = 0; i < n_watched; i++)
        fds[first_watched + i] = (struct pollfd){.fd = watched[i].fd, .events = POLLIN};
    n_polled = n_watched;
    rc = poll(fds, (nfds_t)(first_watched + n_polled), timeout);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        log_error("poll: %s", strerror(errno));
        return -1;
    }
    if (fds[0].revents & POLLIN) {
        while (read(sigfd, &si, sizeof si) == sizeof si)
            signals_handle(&si);
    }
    /*
     * Read here, whichever loop waits: a pipe at its end left unread would make every poll
     * return at once. A callback may unwatch its fd, so each is looked up again.
     */
    for (size_t i = first_watched; i < first_watched + n_polled; i++) {
        if (!fds[i].revents)
            continue;
        for (size_t k = 0; k < n_watched; k++) {
            if (watched[k].fd == fds[i].fd) {
                watched[k].ready(fds[i].fd);
                break;
            }
        }
    }
    /* A SIGCHLD merged with another pending one still leaves zombies: reap on every wake. */
    reap();
    enforce_deadlines(now_ms());
    if (nfds == 2 && fds[1].revents) {
        extra->revents = fds[1].revents;
        return 1;
    }
    return 0;
}

/* Up to five "pid (name)" of SET, for one line. */
static char *describe(const struct pidset *set)
{
    char *text = xstrdup(""), name[64];

    for (size_t i = 0; i < set->n && i < 5; i++) {
        char *more = xasprintf("%s%s%d (%s)", text, i ? ", " : "", (int)set->v[i],
                               pid_name(set->v[i], name, sizeof name));

        free(text);
        text = more;
    }
    if (set->n > 5) {
        char *more = xasprintf("%s, and %zu more", text, set->n - 5);

        free(text);
        text = more;
    }
    return text;
}

/* What is still below ccwrap, after a short wait for it to go. */
static void left_behind(struct pidset *left, int64_t until)
{
    for (;;) {
        int64_t now = now_ms();

        left->n = 0;
        if (!has_children() || tree_descendants(getpid(), left) < 0 || left->n == 0 || now >= until)
            return;
        /* A grandchild's end wakes nobody: look again every 20 ms. */
        if (loop_step(NULL, now + 20 < until ? now + 20 : until) < 0)
            return;
    }
}

size_t sweep_leftovers(int64_t grace_ms)
{
    struct pidset left = {0}, fresh = {0};
    size_t n;
    char *who;

    if (!has_children() || tree_descendants(getpid(), &left) < 0 || left.n == 0) {
        pidset_free(&left);
        return 0;
    }
    /*
     * What a relayed stop reached is on its way out (a program behind a shell that died of the
     * TERM at once): it gets its grace without a word, and no second TERM, which often means
     * "hurry". Only what nothing stopped yet was left behind.
     */
    for (size_t i = 0; i < left.n; i++)
        if (!reached_by_stop(left.v[i]))
            pidset_add(&fresh, left.v[i]);
    n = fresh.n;
    if (n > 0) {
        who = describe(&fresh);
        log_info("stopping %zu process%s left behind: %s", n, n == 1 ? "" : "es", who);
        free(who);
    }
    for (size_t i = 0; i < left.n; i++) {
        if (!reached_by_stop(left.v[i]))
            kill(left.v[i], SIGTERM);
        kill(left.v[i], SIGCONT);
    }
    pidset_free(&fresh);
    left_behind(&left, now_ms() + grace_ms);
    if (left.n > 0) {
        who = describe(&left);
        log_warn("%zu process%s still running after %.3f s, killed: %s", left.n,
                 left.n == 1 ? "" : "es", (double)grace_ms / 1000.0, who);
        free(who);
        for (size_t i = 0; i < left.n; i++)
            kill(left.v[i], SIGKILL);
        left_behind(&left, now_ms() + 1000);
    }
    if (n > 0)
        events_emit("leftovers", "icount", (int64_t)n, EV_END);
    pidset_free(&left);
    return n;
}

const char *status_code(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return WCOREDUMP(wstatus) ? "dumped" : "killed";
    return "exited";
}

char *status_text(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return xstrdup(signal_name(WTERMSIG(wstatus)));
    return xasprintf("%d", WEXITSTATUS(wstatus));
}

int status_shell(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return WEXITSTATUS(wstatus);
}

/*
 * Process groups of their own (workers, cron entries): what a child leaves in its group goes
 * with it, as systemd stops what is left of a service's cgroup.
 */

void pgroup_started(struct pgroup *g)
{
    g->watched = true;
    g->id = g->proc.pid;
    g->kill_at = -1;
}

bool pgroup_alive(struct pgroup *g)
{
    if (g->id > 0 && kill(-g->id, 0) < 0 && errno == ESRCH) {
        g->id = 0;
        g->kill_at = -1;
    }
    return g->id > 0;
}

bool pgroup_ended(struct pgroup *g)
{
    if (!g->watched || g->proc.running)
        return false;
    g->watched = false;
    return true;
}

void pgroup_stop(struct pgroup *g, bool sigterm_sent, int64_t grace_ms)
{
    if (!pgroup_alive(g) || g->kill_at >= 0)
        return;
    if (!sigterm_sent)
        kill(-g->id, SIGTERM);
    kill(-g->id, SIGCONT);
    g->kill_at = now_ms() + grace_ms;
}

void pgroup_kill(struct pgroup *g)
{
    if (pgroup_alive(g))
        kill(-g->id, SIGKILL);
}

int64_t pgroup_tick(struct pgroup *g, bool stopping, int64_t until)
{
    if (g->kill_at < 0 || !pgroup_alive(g))
        return until;
    if (now_ms() >= g->kill_at) {
        kill(-g->id, SIGKILL);
        g->kill_at = -1;
        /* At the end ccwrap waits for it to be gone; before, the next start makes a new one. */
        if (!stopping)
            g->id = 0;
        return until;
    }
    return until < 0 || g->kill_at < until ? g->kill_at : until;
}

void pgroup_say_end(const struct pgroup *g, int wstatus, int64_t ran_ms, bool stopping)
{
    char *how = WIFSIGNALED(wstatus)
                    ? xasprintf("killed by signal %s%s", signal_name(WTERMSIG(wstatus)),
                                WCOREDUMP(wstatus) ? " (core dumped)" : "")
                    : xasprintf("exited with status %d", WEXITSTATUS(wstatus));
    bool failed = !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;

    if (failed && !stopping)
        log_warn("%s: %s after %.3f s", g->name, how, (double)ran_ms / 1000.0);
    else
        log_info("%s: %s after %.3f s", g->name, how, (double)ran_ms / 1000.0);
    free(how);
}

void pgroups_stop(size_t n, struct pgroup *(*at)(size_t i), const char *one, const char *many,
                  int64_t grace_ms)
{
    size_t running = 0;

    for (size_t i = 0; i < n; i++)
        if (at(i)->watched || pgroup_alive(at(i)))
            running++;
    if (running > 0)
        log_info("stopping %zu %s: the application ended", running, running == 1 ? one : many);
    for (size_t i = 0; i < n; i++) {
        struct pgroup *g = at(i);

        /* One that had ccwrap's SIGTERM relayed gets no second one: a stop sends it once. */
        pgroup_stop(g, g->watched && signal_received_since(g->proc.started, SIGTERM), grace_ms);
    }
}

void pgroups_wait(size_t n, struct pgroup *(*at)(size_t i), int64_t give_up,
                  int64_t (*look)(int64_t until))
{
    for (;;) {
        int64_t until = look(-1);
        bool left = false;

        for (size_t i = 0; i < n; i++) {
            struct pgroup *g = at(i);

            if (pgroup_alive(g) && !g->watched && now_ms() >= give_up) {
                log_warn("%s: processes left in its process group %d do not die; leaving them",
                         g->name, (int)g->id);
                g->id = 0;
            }
            left = left || g->watched || pgroup_alive(g);
        }
        if (!left)
            return;
        /*
         * The main process's end comes as SIGCHLD; what it left in its group need not be
         * ccwrap's child, so look again every 50 ms.
         */
        if (until < 0 || until > now_ms() + 50)
            until = now_ms() + 50;
        if (loop_step(NULL, until) < 0)
            break;
    }
    for (size_t i = 0; i < n; i++)
        pgroup_kill(at(i));
}
