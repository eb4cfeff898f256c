/*
 * spawn.c — children: fork and exec without a shell, process groups, deadlines, and the one
 * event loop that reaps them and relays the signals ccwrap receives (SPEC §3, §7).
 */
#include "ccwrap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* The application, one hook at a time, and up to 32 workers (worker.c). */
#define MAX_PROCS 64

static struct proc *procs[MAX_PROCS];
static int sigfd = -1;
/* ccwrap stopped itself with its job; the next SIGCONT may have reached the job already. */
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

/* Does ENTRY ("NAME=value") set NAME (given as "NAME=…" or "NAME")? */
static bool same_name(const char *entry, const char *name)
{
    size_t n = strcspn(name, "=");

    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* ccwrap's environment, less env_unset and the names env_set overrides, plus env_set. */
static char **child_env(const struct spawn_req *r)
{
    size_t n = 0, k = 0;
    char **v;

    for (char **e = environ; *e; e++)
        n++;
    for (char *const *s = r->env_set; s && *s; s++)
        n++;
    v = xcalloc(n + 1, sizeof *v);
    for (char **e = environ; *e; e++) {
        bool drop = false;

        for (char *const *s = r->env_set; !drop && s && *s; s++)
            drop = same_name(*e, *s);
        for (const char *const *u = r->env_unset; !drop && u && *u; u++)
            drop = same_name(*e, *u);
        if (!drop)
            v[k++] = *e;
    }
    for (char *const *s = r->env_set; s && *s; s++)
        v[k++] = *s;
    v[k] = NULL;
    return v;
}

/*
 * posix_spawn: glibc clones with CLONE_VM|CLONE_VFORK, so starting a hook costs no copy of
 * ccwrap's page tables, and an exec failure comes back as the return value.
 */
int spawn(const struct spawn_req *r, struct proc *p, int *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **envp = child_env(r);
    short flags = 0;
    pid_t pid;
    int e;

    memset(p, 0, sizeof *p);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    signals_spawn_attr(&attr, &flags);
    if (r->own_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&attr, 0);
    }
    if (r->null_stdin)
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (r->dir)
        posix_spawn_file_actions_addchdir_np(&fa, r->dir);
    posix_spawnattr_setflags(&attr, flags);
    if (r->exec_path)
        e = posix_spawn(&pid, r->exec_path, &fa, &attr, r->argv, envp);
    else
        e = posix_spawnp(&pid, r->argv[0], &fa, &attr, r->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    if (e != 0) {
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

/* Whether PID is stopped (state T in /proc); when /proc cannot tell, assume it is. */
static bool is_stopped(pid_t pid)
{
    char path[64], buf[256], *paren;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = '\0';
    paren = strrchr(buf, ')');
    return !paren || paren[1] != ' ' || paren[2] == 'T' || paren[2] == 't';
}

/*
 * Relays SIG to every registered child. A signal that came from the terminal (SI_KERNEL)
 * already reached the children in ccwrap's own process group: only the ones in groups of
 * their own get it from us, so each gets it exactly once. After ccwrap stopped itself, a
 * SIGCONT goes to a child of its group only if that child is still stopped: the shell's
 * `fg` continues the whole group, a kill(2) of ccwrap alone does not.
 */
static void relay(int sig, bool from_job, bool resuming)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];

        if (!p || !p->running || (from_job && !p->own_group))
            continue;
        if (resuming && !p->own_group && !is_stopped(p->pid))
            continue;
        send_to(p, sig);
        p->signals_seen++;
        p->last_signal = sig;
        events_emit("signal", "ssignal", signal_name(sig), "ipid", (int64_t)p->pid, EV_END);
        log_detail("relayed SIG%s to %d", signal_name(sig), (int)p->pid);
    }
}

/*
 * The job is stopping: ccwrap stops too, so the shell sees it and gives the prompt back. It
 * takes the same signal with its inherited disposition, so the kernel's rules apply to it as
 * to the application: ignored, or discarded in an orphaned process group, or for PID 1.
 */
static void stop_with_job(int sig)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, sig);
    self_stopped = true;
    kill(getpid(), sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static void handle_signal(const struct signalfd_siginfo *si)
{
    int sig = (int)si->ssi_signo;
    bool from_job = si->ssi_code == SI_KERNEL, resuming = false;

    if (sig == SIGCHLD) {
        reap();
        return;
    }
    if (sig == SIGCONT && self_stopped) {
        resuming = true;
        self_stopped = false;
    }
    note_received(sig);
    relay(sig, from_job, resuming);
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
        stop_with_job(sig);
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
    timeout = wake < 0      ? -1
              : wake <= now ? 0
                            : (int)(wake - now > 86400000 ? 86400000 : wake - now);
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
