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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The application, one hook at a time, up to 32 workers and 32 cron entries (cron.c). */
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
    if (r->fd3 > 0)
        posix_spawn_file_actions_adddup2(&fa, r->fd3, 3);
    if (r->out_fd > 0)
        posix_spawn_file_actions_adddup2(&fa, r->out_fd, STDOUT_FILENO);
    if (r->err_fd > 0)
        posix_spawn_file_actions_adddup2(&fa, r->err_fd, STDERR_FILENO);
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
    p->lead = r->lead;
    p->worker = r->worker;
    p->running = true;
    p->started = now_ms();
    p->deadline = -1;
    p->kill_at = -1;
    if (r->hook_shell && r->exec_path) {
        struct stat st;

        /* The shell's file, to tell later whether the shell is still there or exec'd. */
        if (stat(r->exec_path, &st) == 0) {
            p->hook_shell = true;
            p->shell_dev = st.st_dev;
            p->shell_ino = st.st_ino;
        }
    }
    register_proc(p);
    return 0;
}

char *spawn_no_process(int err)
{
    if (err == EAGAIN)
        return xasprintf("%s; the process limit (ulimit -u, a cgroup's pids.max) is reached, or "
                         "memory is short",
                         strerror(err));
    if (err == ENOMEM)
        return xasprintf("%s; memory is short", strerror(err));
    return NULL;
}

/* HUP is not one: it is a reload (relay_reload). */
static bool is_stop_signal(int sig)
{
    return sig == SIGINT || sig == SIGQUIT || sig == SIGTERM;
}

/* The first stop relayed, and whom it reached: pids, and process groups as -pgid. */
static int stop_sig;
static struct pidset stop_reached;

int stop_requested(void)
{
    return stop_sig;
}

/* kill(2) to TARGET (a pid, or -pgid), remembering who a stop signal reached. */
static void deliver(pid_t target, int sig)
{
    if (kill(target, sig) < 0)
        return;
    if (is_stop_signal(sig) && !pidset_has(&stop_reached, target))
        pidset_add(&stop_reached, target);
}

static void send_to(struct proc *p, int sig)
{
    deliver(p->own_group ? -p->pid : p->pid, sig);
}

/*
 * The child and, for one in ccwrap's own group, every process below it: its whole tree. The
 * tree is read first: a shell that dies of the signal at once would take the way down to its
 * children with it (they are re-parented to ccwrap).
 */
static void send_to_tree(struct proc *p, int sig)
{
    struct pidset below = {0};

    if (!p->own_group)
        tree_descendants(p->pid, &below);
    send_to(p, sig);
    for (size_t i = 0; i < below.n; i++)
        deliver(below.v[i], sig);
    pidset_free(&below);
}

void proc_terminate(struct proc *p, int64_t grace_ms)
{
    if (!p->running)
        return;
    send_to_tree(p, SIGTERM);
    /* A stopped child would never act on SIGTERM. */
    send_to_tree(p, SIGCONT);
    p->deadline = -1;
    p->kill_at = now_ms() + grace_ms;
}

static struct proc *registered(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] && procs[i]->pid == pid)
            return procs[i];
    return NULL;
}

static bool lead_running(void)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] && procs[i]->running && procs[i]->lead)
            return true;
    return false;
}

/* Without a child, nothing can be below ccwrap: orphans are re-parented to it. */
static bool has_children(void)
{
    siginfo_t si = {0};

    return !(waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
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

/*
 * A child stopped. ccwrap stops with its job only when the job really stopped: the command or
 * application, or a hook when no command runs. A hook stopped by SIGTTIN/SIGTTOU that ccwrap
 * did not send wanted the terminal, which hooks do not have: it would wait forever.
 */
static void child_stopped(struct proc *p, int sig)
{
    if (p->own_group && (sig == SIGTTIN || sig == SIGTTOU) && p->last_signal != sig) {
        p->tty_stop = sig;
        proc_terminate(p, p->grace_ms > 0 ? p->grace_ms : 1000);
        return;
    }
    if (p->lead || !lead_running())
        stop_with_job(sig);
}

static void reap(void)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
        struct proc *p = registered(pid);

        if (WIFSTOPPED(st)) {
            if (p && p->running)
                child_stopped(p, WSTOPSIG(st));
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

/* Was PID reached already, by the signal to a registered hook's process group? */
static bool group_reached(pid_t pid)
{
    pid_t g = getpgid(pid);
    struct proc *p = g > 0 ? registered(g) : NULL;

    return p && p->running && p->own_group;
}

/*
 * A stop reaches the whole service, as a service manager's stop does: every process below
 * ccwrap, the real program behind a shell or npm and the daemons that escaped with setsid
 * included. TREE was read before the registered children were signalled: a shell that dies
 * of the signal at once would take the way down to its children with it (they are being
 * re-parented to ccwrap), and the sweep would then find them "left behind".
 */
static void relay_to_tree(const struct pidset *tree, int sig, bool resuming)
{
    char name[64];

    for (size_t i = 0; i < tree->n; i++) {
        pid_t d = tree->v[i];

        if (registered(d) || group_reached(d))
            continue;
        if (resuming && !proc_stopped(d))
            continue;
        deliver(d, sig);
        log_detail("relayed SIG%s to %d (%s)", signal_name(sig), (int)d,
                   proc_name(d, name, sizeof name));
    }
}

/* Whether P's pid is still ccwrap's hook shell, not the program the shell exec'd. */
static bool still_the_shell(const struct proc *p)
{
    char path[64];
    struct stat st;

    if (!p->hook_shell)
        return false;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)p->pid);
    return stat(path, &st) == 0 && st.st_dev == p->shell_dev && st.st_ino == p->shell_ino;
}

static void reload_one(struct proc *p, pid_t target)
{
    char name[64];

    if (kill(target, SIGHUP) < 0)
        return;
    p->signals_seen++;
    p->last_signal = SIGHUP;
    events_emit("signal", "ssignal", "HUP", "ipid", (int64_t)target, EV_END);
    log_detail("relayed SIGHUP to %d (%s)", (int)target, proc_name(target, name, sizeof name));
}

/*
 * A reload (SPEC §7: `systemctl reload`'s `kill -HUP $MAINPID`): HUP reaches the main program
 * only — the command or application, or the running hook while no command runs — as if sent
 * to it directly. gunicorn's master, nginx's or Unicorn's re-read their configuration and
 * replace their workers gracefully; a HUP to every worker would cut the requests in flight.
 * For a value run through the hook shell, the main program is what the shell started (its
 * children), not the shell, which would die of it; once the shell exec'd the program, its pid
 * is the program. Workers (CC_WORKER_*), a run-succeeded hook beside the application, the rest
 * of the tree and ccwrap's cache helper get nothing. Nothing is stopping: not a stop signal.
 */
static void relay_reload(bool from_job)
{
    bool lead = lead_running();

    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];
        struct pidset below = {0};
        bool any = false;

        if (!p || !p->running || p->worker || (lead ? !p->lead : !p->own_group))
            continue;
        /* From the terminal, the kernel reached whoever is in ccwrap's own group already. */
        if (from_job && !p->own_group)
            continue;
        if (still_the_shell(p) && tree_descendants(p->pid, &below) == 0) {
            for (size_t k = 0; k < below.n; k++) {
                if (proc_parent(below.v[k]) == p->pid) {
                    reload_one(p, below.v[k]);
                    any = true;
                }
            }
        }
        pidset_free(&below);
        /* A shell between two commands has nothing started: it is the program then. */
        if (!any)
            reload_one(p, p->pid);
    }
}

/*
 * Relays SIG to every registered child. A signal that came from the terminal (SI_KERNEL)
 * already reached the children in ccwrap's own process group: only the ones in groups of
 * their own get it from us, so each gets it exactly once. After ccwrap stopped itself, a
 * SIGCONT goes to a child of its group only if that child is still stopped: the shell's
 * `fg` continues the whole group, a kill(2) of ccwrap alone does not. Other signals go to
 * the command as if sent to it directly; INT, QUIT and TERM stop the whole tree.
 */
static void relay(int sig, bool from_job, bool resuming)
{
    bool to_tree = !from_job && (is_stop_signal(sig) || resuming);
    struct pidset tree = {0};

    if (sig == SIGHUP) {
        relay_reload(from_job);
        return;
    }
    if (to_tree && has_children() && tree_descendants(getpid(), &tree) < 0)
        tree.n = 0;
    for (int i = 0; i < MAX_PROCS; i++) {
        struct proc *p = procs[i];

        if (!p || !p->running || (from_job && !p->own_group))
            continue;
        if (resuming && !p->own_group && !proc_stopped(p->pid))
            continue;
        send_to(p, sig);
        p->signals_seen++;
        p->last_signal = sig;
        events_emit("signal", "ssignal", signal_name(sig), "ipid", (int64_t)p->pid, EV_END);
        log_detail("relayed SIG%s to %d", signal_name(sig), (int)p->pid);
    }
    if (to_tree)
        relay_to_tree(&tree, sig, resuming);
    pidset_free(&tree);
    if (is_stop_signal(sig) && !stop_sig)
        stop_sig = sig;
}

static void handle_signal(const struct signalfd_siginfo *si)
{
    int sig = (int)si->ssi_signo;
    bool from_job = si->ssi_code == SI_KERNEL, resuming = false;

    /* A child's end or stop; a SIGCHLD sent with kill(2) is relayed as well. */
    if (sig == SIGCHLD) {
        reap();
        if (si->ssi_code > 0)
            return;
    }
    /* ccwrap's own doing, such as a write to a closed pipe: nobody sent it. */
    if (si->ssi_code == SI_USER && (pid_t)si->ssi_pid == getpid())
        return;
    /* A terminal's hangup reaches only its session leader: the application hears it from us. */
    if (sig == SIGHUP && from_job && getsid(0) == getpid())
        from_job = false;
    if (sig == SIGCONT && self_stopped) {
        resuming = true;
        self_stopped = false;
    }
    note_received(sig);
    relay(sig, from_job, resuming);
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
            send_to_tree(p, SIGKILL);
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
            handle_signal(&si);
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
                               proc_name(set->v[i], name, sizeof name));

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

static bool reached_by_stop(pid_t pid)
{
    return pidset_has(&stop_reached, pid) || pidset_has(&stop_reached, -getpgid(pid));
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

/*
 * execvp's search without its fallback: a file without "#!" fails with ENOEXEC, as with
 * posix_spawnp, so that the command runs alike supervised and in place. Returns the errno.
 */
static int exec_search(const char *file, char *const *argv, char *const *envp)
{
    const char *path = getenv("PATH"), *p, *end;
    bool denied = false;

    if (!*file)
        return ENOENT;
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return errno;
    }
    for (p = path ? path : "/bin:/usr/bin";; p = end + 1) {
        char *full;

        end = strchrnul(p, ':');
        full = end == p ? xstrdup(file) : xasprintf("%.*s/%s", (int)(end - p), p, file);
        execve(full, argv, envp);
        free(full);
        if (errno == EACCES)
            denied = true;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
                 errno != ETIMEDOUT)
            return errno;
        if (!*end)
            return denied ? EACCES : ENOENT;
    }
}

int spawn_in_place(const struct spawn_req *r, const char *what, int *err)
{
    char **envp;
    int e;

    *err = 0;
    /* What ccwrap received until now is handled as it would be: INT, QUIT, TERM stop. */
    if (loop_step(NULL, now_ms()) < 0 || stop_requested())
        return -1;
    /* What the hooks left behind was re-parented to ccwrap: the command must not inherit it. */
    signals_subreaper(false);
    if (has_children()) {
        signals_subreaper(true);
        log_detail("not exec in place: processes the hooks left behind are ccwrap's children");
        return -1;
    }
    log_detail("exec in place: nothing follows the %s, it takes ccwrap's pid %d", what,
               (int)getpid());
    if (r->dir && chdir(r->dir) < 0) {
        *err = errno;
        return -1;
    }
    envp = child_env(r);
    fflush(NULL);
    /* A signal that arrives from here on meets the disposition the command inherits. */
    signals_restore(false);
    if (r->exec_path) {
        execve(r->exec_path, r->argv, envp);
        e = errno;
    } else {
        e = exec_search(r->argv[0], r->argv, envp);
    }
    signals_restore(true);
    free(envp);
    *err = e;
    return -1;
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
