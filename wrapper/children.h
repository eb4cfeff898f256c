/*
 * children.h — the process table, the event loop, the sweep, wait statuses; defined in children.c.
 */
#ifndef CCWRAP_CHILDREN_H
#define CCWRAP_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc {
    pid_t pid;
    bool own_group; /* in its own process group: signals go to the group */
    bool lead;      /* the command or application: its stop is the job's stop */
    bool running;
    int status;       /* wait status, once !running */
    int64_t started;  /* now_ms() at start */
    int64_t deadline; /* when to send SIGTERM, -1 none */
    int64_t kill_at;  /* when to send SIGKILL, -1 none */
    int64_t grace_ms; /* between the two */
    bool timed_out;
    int last_signal; /* the last signal ccwrap relayed to it */
    int tty_stop;    /* a hook stopped by SIGTTIN/SIGTTOU: it wanted the terminal */
    bool worker;     /* a CC_WORKER_*: a reload (HUP) never reaches it */
    bool hook_shell; /* ccwrap's hook shell running a value: a HUP goes to what it started */
    dev_t shell_dev; /* the shell's file, to tell whether the shell exec'd the program */
    ino_t shell_ino;
};

/*
 * Watches P (filled by spawn): loop_step reaps it, enforces its deadlines, relays signals to
 * it. WHAT names it when the table is full (a warning: then nothing watches it).
 */
void register_proc(struct proc *p, const char *what);
/* The registered child PID, or NULL. */
struct proc *registered(pid_t pid);
/* The next registered child still running from *CURSOR (start at 0), or NULL at the end. */
struct proc *next_running(int *cursor);
/* Whether the command or application (a lead) runs. */
bool lead_running(void);
/* Whether ccwrap has any child, registered or adopted. Costs one waitid. */
bool has_children(void);
/* Reaps every child that ended; a registered one is marked !running with its status. */
void reap(void);
/* Before any child: takes the signals (signals_init). 0, or -1 after reporting. */
int loop_init(void);
/*
 * The event loop's one step: waits for a child to exit, a signal (relayed to the registered
 * children at once), EXTRA to become ready (when EXTRA && extra->fd >= 0), or the monotonic
 * time UNTIL (-1: no limit). Enforces the deadlines of registered children. Returns 1 when
 * EXTRA fired, 0 otherwise, -1 on a system error (reported).
 */
struct pollfd;
int loop_step(struct pollfd *extra, int64_t until);
/*
 * FD is polled by every loop_step too (cron's timer and pipes), until loop_unwatch: READY(FD)
 * is called from loop_step when it is readable, whichever loop waits. 0, or -1: too many.
 */
int loop_watch(int fd, void (*ready)(int fd));
void loop_unwatch(int fd);
/*
 * The end of the service (§7): every process still below ccwrap gets SIGTERM (unless a
 * relayed stop already reached it) and SIGCONT, then SIGKILL after GRACE_MS. Returns how many
 * were left behind. Costs one waitid when ccwrap has no child left.
 */
size_t sweep_leftovers(int64_t grace_ms);
/* "exited"/"killed"/"dumped" and the status text of §3 for a wait status. */
const char *status_code(int wstatus);
char *status_text(int wstatus);
/* The exit status a shell would show for a wait status: N, or 128+S. */
int status_shell(int wstatus);

/*
 * A child in a process group of its own that the group may outlive (a worker, a cron entry):
 * what it leaves there goes with it, as systemd stops what is left of a service's cgroup.
 */
struct pgroup {
    const char *name; /* for messages: "CC_WORKER_COMMAND", "cron[0]" */
    struct proc proc; /* its main process, leader of the group */
    bool watched;     /* proc was started and its end not yet noticed */
    pid_t id;         /* the group of the last start while it may have members, or 0 */
    int64_t kill_at;  /* when to SIGKILL what is left of the group, -1: not set */
};

/* After spawn filled g->proc: watched, the group is its pid. */
void pgroup_started(struct pgroup *g);
/* Whether G's group still has members; forgets it once it has none. */
bool pgroup_alive(struct pgroup *g);
/* True once, when G's main process was reaped since the last look (it is no longer watched). */
bool pgroup_ended(struct pgroup *g);
/* What is left of the group: SIGTERM now (unless SIGTERM_SENT), SIGKILL GRACE_MS later. */
void pgroup_stop(struct pgroup *g, bool sigterm_sent, int64_t grace_ms);
/* SIGKILL now to what is left of the group (before a new start, or giving up). */
void pgroup_kill(struct pgroup *g);
/*
 * SIGKILL once the grace of pgroup_stop is over (the group is then forgotten unless STOPPING:
 * the end waits for it); returns UNTIL lowered to that moment while it is to come.
 */
int64_t pgroup_tick(struct pgroup *g, bool stopping, int64_t until);
/* "NAME: exited with status N after S s" (or killed by signal): a warning when it failed. */
void pgroup_say_end(const struct pgroup *g, int wstatus, int64_t ran_ms, bool stopping);
/*
 * The application ended: "stopping N ONE|MANY: the application ended", and pgroup_stop for
 * each of the N groups AT(i) (no second SIGTERM to one that had ccwrap's relayed).
 */
void pgroups_stop(size_t n, struct pgroup *(*at)(size_t i), const char *one, const char *many,
                  int64_t grace_ms);
/*
 * Waits until the N groups AT(i) are gone: LOOK(UNTIL) notices ends and ticks the groups
 * (returns UNTIL lowered); a group still there at GIVE_UP is left with a warning. On a loop
 * error what is left is killed.
 */
void pgroups_wait(size_t n, struct pgroup *(*at)(size_t i), int64_t give_up,
                  int64_t (*look)(int64_t until));

#endif
