/*
 * signals.c — signal intake for the whole program: relayed signals and SIGCHLD arrive on a
 * signalfd and are handled synchronously in the event loop, never in a handler. Also the
 * subreaper role and dying of a child's signal (SPEC §7).
 */
#include "ccwrap.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
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
