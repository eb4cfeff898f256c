/*
 * signals.h — signal intake, relay and stop bookkeeping, re-raise (§7); defined in signals.c.
 */
#ifndef CCWRAP_SIGNALS_H
#define CCWRAP_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

#include "children.h"

/*
 * Blocks the signals ccwrap relays and SIGCHLD, reads them from a signalfd, becomes a child
 * subreaper. Dispositions stay as inherited, so ignored signals stay ignored for children.
 * Returns the signalfd, or -1 after reporting.
 */
int signals_init(void);
/* For posix_spawn: the signal mask and dispositions ccwrap inherited; adds to *flags. */
void signals_spawn_attr(posix_spawnattr_t *attr, short *flags);
/* Whether orphans below ccwrap are re-parented to it (PR_SET_CHILD_SUBREAPER). */
void signals_subreaper(bool on);
/*
 * false: the signal mask and SIGPIPE's disposition ccwrap inherited, for it to become the
 * command; true: back to ccwrap's own, when it could not.
 */
void signals_restore(bool blocked);
/*
 * Dies of SIG exactly as the child did: default action, no core dump, unblocked, raised.
 * Returns only where that cannot work (PID 1); the caller then exits 128+SIG.
 */
void signals_reraise(int sig);
struct proc;
struct signalfd_siginfo;
/*
 * One signal read from the signalfd (children.c's loop_step): SIGCHLD reaps, any other is
 * noted and relayed to the registered children (a stop to the whole tree, HUP as a reload).
 */
void signals_handle(const struct signalfd_siginfo *si);
/* Child P stopped with SIG: a hook that wanted the terminal ends, else ccwrap stops with it. */
void signals_child_stopped(struct proc *p, int sig);
/* The first signal ccwrap received since FROM (monotonic ms), 0 if none: for re-raise. */
int signal_received_since(int64_t from, int sig);
/* The first INT, QUIT or TERM ccwrap relayed, 0 if none: after it nothing new starts. */
int stop_requested(void);
/* Whether the relayed stop reached PID already, itself or through its process group. */
bool reached_by_stop(pid_t pid);
/* SIG to P and, for one in ccwrap's own group, every process below it (read first). */
void proc_signal_tree(struct proc *p, int sig);
/* SIGTERM now (to the group for own_group), SIGKILL grace_ms later unless it has exited. */
void proc_terminate(struct proc *p, int64_t grace_ms);

#endif
