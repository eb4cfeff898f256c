/*
 * spawn.c — children: fork and exec without a shell, process groups, deadlines, and the one
 * event loop that reaps them and relays the signals ccwrap receives (SPEC §3, §7).
 */
#include "ccwrap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 16

static struct proc *procs[MAX_PROCS];
static int sigfd = -1;
/* After ccwrap stopped itself for the job, the next SIGCONT is the job's own, like the TSTP. */
static bool self_stopped;

/* Signals received, for "was the hook killed by a signal sent to ccwrap?". */
static struct {
    int sig;
    int64_t at;
} received[32];
static size_t n_received;

static void note_received(int sig)
{
    if (n_received == sizeof received / sizeof received[0]) {
        memmove(received, received + 1, sizeof received - sizeof received[0]);
        n_received--;
    }
    received[n_received].sig = sig;
    received[n_received].at = now_ms();
    n_received++;
}

int signal_received_since(int64_t from, int sig)
{
    for (size_t i = 0; i < n_received; i++)
        if (received[i].at >= from && (sig == 0 || received[i].sig == sig))
            return received[i].sig;
    return 0;
}

static void register_proc(struct proc *p)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (!procs[i]) {
            procs[i] = p;
            return;
        }
    }
}

static void child_exec(const struct spawn_req *r, int errpipe)
{
    int e;

    signals_child_restore();
    if (r->own_group)
        setpgid(0, 0);
    if (r->null_stdin) {
        int fd = open("/dev/null", O_RDONLY);

        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
            goto fail;
        if (fd != STDIN_FILENO)
            close(fd);
    }
    if (r->dir && chdir(r->dir) < 0)
        goto fail;
    /* The child is a copy of a single-threaded process: setenv is safe here. */
    for (char *const *e2 = r->env_set; e2 && *e2; e2++) {
        char *eq = strchr(*e2, '=');

        if (eq) {
            *eq = '\0';
            setenv(*e2, eq + 1, 1);
            *eq = '=';
        }
    }
    for (const char *const *u = r->env_unset; u && *u; u++)
        unsetenv(*u);
    if (r->exec_path)
        execv(r->exec_path, r->argv);
    else
        execvp(r->argv[0], r->argv);
fail:
    e = errno;
    if (write(errpipe, &e, sizeof e) < 0)
        _exit(EXIT_NOTFOUND);
    _exit(EXIT_NOTFOUND);
}

int spawn(const struct spawn_req *r, struct proc *p, int *err)
{
    int pipefd[2], e = 0;
    ssize_t n;
    pid_t pid;

    memset(p, 0, sizeof *p);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        *err = errno;
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        *err = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        child_exec(r, pipefd[1]);
    }
    close(pipefd[1]);
    /* Both sides set the group, so a signal relayed right after fork finds it in place. */
    if (r->own_group)
        setpgid(pid, pid);
    do
        n = read(pipefd[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        *err = e;
        return -1;
    }
    p->pid = pid;
    p->own_group = r->own_group;
    p->running = true;
    p->started = now_ms();
    p->deadline = -1;
    p->kill_at = -1;
    register_proc(p);
    return 0;
}

static void send_to(struct proc *p, int sig)
{
    kill(p->own_group ? -p->pid : p->pid, sig);
}

void proc_terminate(struct proc *p, int64_t grace_ms)
{
    if (!p->running)
        return;
    send_to(p, SIGTERM);
    /* A stopped child would never act on SIGTERM. */
    send_to(p, SIGCONT);
    p->deadline = -1;
    p->kill_at = now_ms() + grace_ms;
}

static void reap(void)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_PROCS; i++) {
            struct proc *p = procs[i];

            if (p && p->pid == pid) {
                p->running = false;
                p->status = st;
                procs[i] = NULL;
                /* Whatever the hook left behind in its group goes with it on a timeout. */
                if (p->own_group && p->timed_out)
                    kill(-pid, SIGKILL);
            }
        }
        /* Any other pid is an orphan we adopted as subreaper: reaped, nothing more. */
    }
}

/*
 * Relays SIG to every registered child. A signal that came from the terminal (SI_KERNEL) or
 * the job's SIGCONT after a stop already reached the children in ccwrap's own process group:
 * only the ones in groups of their own get it from us, so each gets it exactly once.
 */
static void relay(int sig, bool from_job)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];

        if (!p || !p->running || (from_job && !p->own_group))
            continue;
        send_to(p, sig);
        p->signals_seen++;
        p->last_signal = sig;
        events_emit("signal", "ssignal", signal_name(sig), "ipid", (int64_t)p->pid, EV_END);
        log_detail("relayed SIG%s to %d", signal_name(sig), (int)p->pid);
    }
}

static void handle_signal(const struct signalfd_siginfo *si)
{
    int sig = (int)si->ssi_signo;
    bool from_job = si->ssi_code == SI_KERNEL;

    if (sig == SIGCHLD) {
        reap();
        return;
    }
    if (sig == SIGCONT && self_stopped) {
        from_job = true;
        self_stopped = false;
    }
    note_received(sig);
    relay(sig, from_job);
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
        /* The job is stopping: ccwrap stops too, so the shell sees it and gives the prompt back. */
        if (getpid() != 1) {
            self_stopped = true;
            kill(getpid(), SIGSTOP);
        }
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
            send_to(p, SIGKILL);
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

int loop_step(struct pollfd *extra, int64_t until)
{
    struct pollfd fds[2];
    struct signalfd_siginfo si;
    int64_t wake, now;
    int nfds = 1, timeout, rc;

    now = now_ms();
    enforce_deadlines(now);
    wake = next_deadline(until);
    timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now > 86400000 ? 86400000 : wake - now);
    fds[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (extra && extra->fd >= 0) {
        extra->revents = 0;
        fds[1] = *extra;
        nfds = 2;
    }
    rc = poll(fds, (nfds_t)nfds, timeout);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        log_error("poll: %s", strerror(errno));
        return -1;
    }
    if (fds[0].revents & POLLIN) {
        while (read(sigfd, &si, sizeof si) == sizeof si)
            handle_signal(&si);
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
