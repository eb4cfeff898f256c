/*
 * signals.c — the signals ccwrap receives and sends (§7). Intake: relayed signals and
 * SIGCHLD arrive on a signalfd and are handled synchronously in the event loop, never in a
 * handler. Relay: to the registered children, a stop to the whole tree, a reload (HUP) to the
 * main program only, job control (ccwrap stops with its job). Stop bookkeeping: which stop
 * came, what it reached, what was received when. Also the subreaper role and dying of a
 * child's signal. The process table and the loop are children.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

#include "util.h"
#include "msg.h"
#include "tree.h"
#include "log.h"
#include "children.h"
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

static sigset_t inherited_mask;
static struct sigaction inherited_pipe;

int signals_init(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};
    sigset_t set;
    int fd;

    /*
     * Every catchable signal, real-time ones included: ccwrap must never die of a signal while
     * the application lives (SIGPWR from lxc stop, SIGXCPU, …), and each one is relayed. A
     * real fault in ccwrap itself still kills it: the kernel unblocks a forced SIGSEGV.
     */
    sigfillset(&set);
    sigdelset(&set, SIGKILL);
    sigdelset(&set, SIGSTOP);
    /*
     * Blocked signals are queued even when their disposition is SIG_IGN, so a signal ccwrap
     * inherited as ignored is still read here and relayed; the child keeps SIG_IGN across exec.
     */
    if (sigprocmask(SIG_BLOCK, &set, &inherited_mask) < 0) {
        log_error("cannot block signals: %s", strerror(errno));
        return -1;
    }
    /*
     * An inherited SIG_IGN for SIGCHLD would make the kernel reap children behind our back;
     * children get the default disposition for it, as under any shell.
     */
    sigaction(SIGCHLD, &dfl, NULL);
    /* ccwrap's own writes to a closed pipe must fail with EPIPE, not kill it. */
    sigaction(SIGPIPE, &ign, &inherited_pipe);
    fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        log_error("cannot create a signalfd: %s", strerror(errno));
        return -1;
    }
    signals_subreaper(true);
    return fd;
}

void signals_spawn_attr(posix_spawnattr_t *attr, short *flags)
{
    sigset_t dfl;

    /* The mask ccwrap inherited; an ignored signal stays ignored through exec by itself. */
    posix_spawnattr_setsigmask(attr, &inherited_mask);
    *flags |= POSIX_SPAWN_SETSIGMASK;
    if (inherited_pipe.sa_handler != SIG_IGN) {
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        posix_spawnattr_setsigdefault(attr, &dfl);
        *flags |= POSIX_SPAWN_SETSIGDEF;
    }
}

void signals_subreaper(bool on)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0) < 0)
        log_detail("cannot %s a child subreaper: %s", on ? "become" : "stop being",
                   strerror(errno));
}

void signals_restore(bool blocked)
{
    static sigset_t taken;
    struct sigaction ign = {.sa_handler = SIG_IGN};

    if (!blocked) {
        sigprocmask(SIG_SETMASK, &inherited_mask, &taken);
        sigaction(SIGPIPE, &inherited_pipe, NULL);
    } else {
        sigaction(SIGPIPE, &ign, NULL);
        sigprocmask(SIG_SETMASK, &taken, NULL);
    }
}

void signals_reraise(int sig)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    struct rlimit none = {0, 0};
    sigset_t set;

    if (getpid() == 1)
        return;
    /* The child already dumped core if it was going to; a second core from ccwrap is noise. */
    setrlimit(RLIMIT_CORE, &none);
    sigaction(sig, &dfl, NULL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
    /* Stop signals and ignored-by-default ones do not end the process: let the caller exit. */
}

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
void proc_signal_tree(struct proc *p, int sig)
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
    proc_signal_tree(p, SIGTERM);
    /* A stopped child would never act on SIGTERM. */
    proc_signal_tree(p, SIGCONT);
    p->deadline = -1;
    p->kill_at = now_ms() + grace_ms;
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
void signals_child_stopped(struct proc *p, int sig)
{
    if (p->own_group && (sig == SIGTTIN || sig == SIGTTOU) && p->last_signal != sig) {
        p->tty_stop = sig;
        proc_terminate(p, p->grace_ms > 0 ? p->grace_ms : 1000);
        return;
    }
    if (p->lead || !lead_running())
        stop_with_job(sig);
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
        if (resuming && !pid_stopped(d))
            continue;
        deliver(d, sig);
        log_detail("relayed SIG%s to %d (%s)", signal_name(sig), (int)d,
                   pid_name(d, name, sizeof name));
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
    p->last_signal = SIGHUP;
    events_emit("signal", "ssignal", "HUP", "ipid", (int64_t)target, EV_END);
    log_detail("relayed SIGHUP to %d (%s)", (int)target, pid_name(target, name, sizeof name));
}

/*
 * A reload (§7: `systemctl reload`'s `kill -HUP $MAINPID`): HUP reaches the main program
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
    struct proc *p;

    for (int at = 0; (p = next_running(&at)) != NULL;) {
        struct pidset below = {0};
        bool any = false;

        if (p->worker || (lead ? !p->lead : !p->own_group))
            continue;
        /* From the terminal, the kernel reached whoever is in ccwrap's own group already. */
        if (from_job && !p->own_group)
            continue;
        if (still_the_shell(p) && tree_descendants(p->pid, &below) == 0) {
            for (size_t k = 0; k < below.n; k++) {
                if (pid_parent(below.v[k]) == p->pid) {
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
    struct proc *p;

    if (sig == SIGHUP) {
        relay_reload(from_job);
        return;
    }
    if (to_tree && has_children() && tree_descendants(getpid(), &tree) < 0)
        tree.n = 0;
    for (int at = 0; (p = next_running(&at)) != NULL;) {
        if (from_job && !p->own_group)
            continue;
        if (resuming && !p->own_group && !pid_stopped(p->pid))
            continue;
        send_to(p, sig);
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

void signals_handle(const struct signalfd_siginfo *si)
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

bool reached_by_stop(pid_t pid)
{
    return pidset_has(&stop_reached, pid) || pidset_has(&stop_reached, -getpgid(pid));
}
