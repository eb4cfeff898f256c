/*
 * ccwrap.h — the types and functions ccwrap's modules share.
 * Each section names the file that implements it; see STYLE.md for the layering.
 */
#ifndef CCWRAP_H
#define CCWRAP_H

#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CCWRAP_VERSION "0.1.0"

/* Exit statuses of SPEC §7 that ccwrap itself chooses. */
enum {
    EXIT_TIMEOUT = 124,
    EXIT_CCWRAP = 125,
    EXIT_NOEXEC = 126,
    EXIT_NOTFOUND = 127,
};

/* ---- util.c: strings, numbers, time ---------------------------------- */

#include "util.h"

/* ---- cronexpr.c: cron(5) schedules, pure (SPEC §12) ------------------ */

enum cron_field { CRON_MINUTE, CRON_HOUR, CRON_DOM, CRON_MONTH, CRON_DOW, CRON_FIELDS };

/* A schedule: the values each field allows, as bits (day-of-week 0-6, Sunday 0). */
struct cronexpr {
    uint64_t bits[CRON_FIELDS];
    bool dom_star, dow_star; /* the field began with '*': cron's OR rule does not apply */
};

/*
 * The schedule at the start of TEXT: five fields or an @ word (@reboot refused). *REST, when
 * REST is given, is what follows it (an entry's command), blanks skipped. 0, or -1 with ERR
 * naming the field and why: "day-of-month: '32' is out of range 1-31".
 */
int cronexpr_parse(const char *text, struct cronexpr *e, const char **rest, char *err,
                   size_t errlen);
/* The first matching minute strictly after AFTER (seconds since the epoch, UTC), or -1: none
 * within 400 years. */
int64_t cronexpr_next(const struct cronexpr *e, int64_t after);
/* "2026-12-06T10:00Z", "…T10:00:30Z" (Z optional) to seconds since the epoch. 0 or -1. */
int cron_time_parse(const char *s, int64_t *t);
/* T as "2026-12-06T10:00:00Z" in BUF (at least 21 bytes). */
void cron_time_format(int64_t t, char *buf, size_t len);

/* ---- shell.c: command lines for the hook shell (SPEC §7) ------------- */

/*
 * CMD with the shell told to replace itself with the program ("exec node server.js",
 * "PORT=1 exec node app.js") when CMD is one simple command; NULL when it is shell syntax
 * (a list, a pipeline, a redirection, a substitution, a builtin). Allocated.
 */
char *shell_exec_form(const char *cmd);

/* ---- log.c: messages on stderr and the JSON event log ---------------- */

#include "msg.h"

/* Opens FILE for appending events; 0 or -1 after reporting. NULL: no event log. */
int events_open(const char *path);
void events_close(void);
/* Whether an event log is being written. */
bool events_enabled(void);
/*
 * One event: a type and key/value pairs, the value's kind given by the key's first character:
 * 's' string, 'i' integer (int64_t), 'b' boolean (int). Terminated by EV_END.
 * events_emit("hook_end", "spoint", "pre-run", "istatus", (int64_t)0, EV_END) writes
 * {"event":"hook_end","point":"pre-run","status":0,"time":…}.
 */
void events_emit(const char *type, ...) __attribute__((sentinel));
#define EV_END ((const char *)NULL)

/* ---- problems.c: findings collected below, printed above ------------ */

/* A problem found while reading hooks or legacy files: "PATH: text". */
struct problem {
    char *path;
    char *text;
};

struct problems {
    struct problem *v;
    size_t n;
};

void problem_add(struct problems *ps, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void problems_free(struct problems *ps);

/* ---- beneath.c: paths below a folder, through no symlink -------------- */

/*
 * Opens PATH (relative) below the folder DIRFD following no symbolic link at any component
 * and never leaving it: ELOOP names a symlink on the way, EXDEV a way out ("..", absolute).
 * FLAGS and MODE as for openat; O_CLOEXEC and O_NOFOLLOW are added. An fd, or -1 with errno.
 */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/*
 * mkdir -p PATH below DIRFD by the same rule; each folder it creates gets MODE (fchmod on its
 * descriptor, whatever the umask). The last folder's O_DIRECTORY fd, or -1 with errno.
 */
int mkdirs_beneath(int dirfd, const char *path, mode_t mode);

/* ---- config.c: the configuration file's options (SPEC §8) ------------- */
/* (conftext.c, the file's text before libconfuse, is seen only through config_int.h.) */

enum legacy_mode { LEGACY_RUN, LEGACY_IGNORE, LEGACY_FAIL };
enum on_timeout { ON_TIMEOUT_STOP, ON_TIMEOUT_KEEP };
enum misplaced_mode { MISPLACED_SKIP, MISPLACED_RUN };
enum leftovers { LEFTOVERS_STOP, LEFTOVERS_KEEP };

struct config {
    char *file; /* the file read, or NULL for built-in defaults */
    char *shell;
    char **hooks_dirs;
    size_t n_hooks_dirs;
    long hook_timeout; /* seconds, 0 = none */
    long kill_grace;   /* seconds */
    enum legacy_mode legacy;
    enum misplaced_mode legacy_misplaced; /* a postDeploy under deploy: skip (default) or run */
    char *ready;
    long ready_timeout; /* seconds, 0 = none */
    enum on_timeout on_ready_timeout;
    enum leftovers leftovers; /* what ccwrap does at its end with processes left below it */
    char *ready_origin;       /* "FILE:LINE" of the ready option, for error messages, or NULL */
    bool ready_hidden;        /* the ready option came from ${VAR}: errors do not show its value */
    char *ready_variable;     /* then the NAME of that ${NAME} (an empty one first), for the fix */
    bool shell_hidden;        /* the same for shell */
    uid_t *trusted_uids;      /* trusted_users: owners trusted besides root and ccwrap's user */
    size_t n_trusted_uids;
    char *cache_store;        /* cache: the build cache store, NULL for the default folder */
    char *cache_key;          /* cache_key: the app's name in the store, NULL: APP_ID or the root */
    long cache_keep;          /* cache_keep: archives kept per app, 0 = all */
    uint64_t cache_max_bytes; /* cache_max_bytes: a restore's files hold at most this */
    uint64_t cache_max_entries; /* cache_max_entries: a restore makes at most this many */
    char *cache_sign_key;       /* cache_sign_key: PEM Ed25519 private key that signs archives */
    char *cache_verify_key;     /* cache_verify_key: PEM public key restores verify against */
    bool readiness_set; /* the file's ready, ready_timeout or on_ready_timeout: no default */
    bool exec_in_place; /* exec_in_place, $CCWRAP_EXEC_IN_PLACE: may ccwrap become it */
    char **env_files;   /* env_files: variable files, relative to the root or absolute */
    size_t n_env_files;
    /* trust_expansions: a program only the shell can name ($(…), ${X:-…}) runs unjudged */
    bool trust_expansions;
};

void config_free(struct config *c);
/*
 * The text of a configuration file named FILE (for messages), parsed into *c (zeroed, or
 * holding an earlier parse). 0, or -1.
 */
int config_parse(struct config *c, char *buf, const char *file);

/* ---- confload.c: which configuration file, and what overrides it (SPEC §8) ---- */

/*
 * Reads the first found of: explicit (from --config), $CCWRAP_CONFIG, ROOT/ccwrap.conf,
 * SYSCONFDIR/ccwrap/ccwrap.conf. 0, or -1 after reporting "FILE:LINE: problem".
 */
int config_load(struct config *c, const char *explicit_file, const char *root);
/*
 * The readiness spec in force, by SPEC §8's precedence: CLI (--ready) > $CCWRAP_READY >
 * CC_TASK=true ("exit") > the file's ready > "tcp". *from names where it came from:
 * "--ready", "CCWRAP_READY", "CC_TASK=true", c->ready_origin ("FILE:LINE") or "default".
 */
const char *config_ready(const struct config *c, const char *cli, const char **from);
/*
 * What to say when the spec from FROM fails ready_parse with ERR: ERR, or for a file's ready
 * made with ${NAME} (possibly a secret), the variable and its fix without the value. Owned.
 */
char *config_ready_error(const struct config *c, const char *from, const char *err);

/* ---- trust.c: who may have written what ccwrap executes (README: SECURITY) ---- */

/*
 * Whether PATH (relative to ROOT, or absolute) may be executed: it and every folder from /
 * down to it, symlink targets included, owned by root, ccwrap's euid or C's trusted_users
 * (C may be NULL: none), and not writable by group or others (a sticky folder may be).
 * NULL when it may; else the problem with its fix, allocated: "owned by nobody (uid 65534),
 * not by root; chown root F, …", "its folder hooks.d is writable by group or others; chmod
 * go-w hooks.d". SELF, when set, names the file itself in the text ("x.sh is owned by …").
 */
char *trust_problem(const char *path, const char *root, const char *self, const struct config *c);

/* ---- value.c: the programs a command line runs (README: Security) ---- */
/* (Its rooms valuelex.c, valueword.c and valueprog.c share value_int.h, seen by no other file.) */

/*
 * Whether the command line VALUE, run as `SHELL -c VALUE` from ROOT with ccwrap's environment
 * plus ENV (NAME=value entries, may be NULL), runs only what passes the trust rule: the shell,
 * and the program of each simple command, found as the shell finds it (assignments, exec, env,
 * nohup, command, nice, ionice, setsid, stdbuf and timeout skipped; quotes removed; $NAME and
 * ${NAME} expanded; looked up in PATH, whose folders searched must pass the rule and be
 * absolute). A program only the shell can name (${X:-…}, $(…), a glob) fails it unless C's
 * trust_expansions. NULL when it passes; else the problem with its fix, allocated.
 */
char *trust_value(const char *value, const char *root, const struct config *c, char *const *env);
/* trust_value without the shell, in ccwrap's environment (plan, check, hooks_collect). */
char *command_trust_problem(const char *value, const char *root, const struct config *c);

/* ---- points.c: the hook points by name (SPEC §2) --------------------- */

enum point { PT_PRE_BUILD, PT_POST_BUILD, PT_PRE_RUN, PT_RUN_SUCCEEDED, PT_RUN_FAILED, PT_COUNT };

const char *point_name(enum point p); /* "pre-build" */
const char *point_var(enum point p);  /* "CC_PRE_BUILD_HOOK" */
int point_parse(const char *s);       /* enum point, or -1 */

/* ---- hooks.c: which hooks a point has (SPEC §2, §3, §6) -------------- */

enum hook_kind {
    HOOK_SHELL,   /* SHELL -c command */
    HOOK_EXEC,    /* execve(path) */
    HOOK_BROKEN,  /* cannot run: fails the point with status and problem */
    HOOK_SKIPPED, /* plan shows it, nothing runs */
    HOOK_MASKED,  /* a symlink to /dev/null hides this name */
};

struct hook {
    enum hook_kind kind;
    char *source;  /* as the user names it: CC_PRE_RUN_HOOK, hooks.d/pre-run/10-x */
    char *path;    /* HOOK_EXEC: the file to execute, relative to the root or absolute */
    char *command; /* HOOK_SHELL: the command line given to the shell */
    char *value;   /* a variable's or postDeploy's text as the user wrote it, or NULL */
    char *problem; /* HOOK_BROKEN, HOOK_SKIPPED, HOOK_MASKED: why, with the fix */
    int status;    /* HOOK_BROKEN: the status the point fails with */
    bool legacy;   /* translated from a clevercloud/ *.json postDeploy */
    bool distrust; /* HOOK_BROKEN: by the trust rule (migrate --force never moves it) */
};

struct hooklist {
    struct hook *v;
    size_t n;
};

/*
 * The hooks of point P in execution order: the variable's, the drop-ins, then (run-succeeded)
 * legacy postDeploy hooks. Skipped and masked entries are included for plan. Warnings met on
 * the way (malformed legacy JSON, …) go to *warnings. Returns 0, or -1 on a system error.
 */
int hooks_collect(enum point p, const char *root, const struct config *c, struct hooklist *out,
                  struct problems *warnings);
void hooklist_free(struct hooklist *l);
/*
 * Adds what a legacy postDeploy (or the last line of a drop-in that migrate wrote, SOURCE
 * naming it) runs: its first word is always a path from the root, as on Clever Cloud; a bare
 * name that is no file there is a missing script, never a command from PATH.
 */
void hooks_add_legacy(struct hooklist *l, const char *root, const struct config *c,
                      const char *source, const char *value);
/*
 * The first lines of a drop-in that `ccwrap migrate` writes: such a drop-in's last line is
 * judged at each run as the postDeploy it came from was (hooks.c).
 */
#define MIGRATE_MARKER "#!/bin/sh\n# Moved by 'ccwrap migrate' from "
/* Why a drop-in NAME is skipped ("skipped: name ends in '.bak'"), allocated, or NULL. */
char *hook_skip_reason(const char *name);
/* A variable's VALUE as SPEC §3 runs it, appended to *L: one entry, or a folder's entries. */
void hooks_command(struct hooklist *l, const char *root, const struct config *c, const char *source,
                   const char *value);
/* The configured shell against the trust rule: "the shell /bin/sh: why; fix", owned, or NULL. */
char *shell_trust_problem(const char *root, const struct config *c);

/* ---- legacy.c: reading clevercloud/ *.json postDeploy hooks (SPEC §6) ---- */

struct json_t; /* jansson's, seen only by legacy.c and migrate.c */

struct legacy_hook {
    char *file;    /* relative to the root: "clevercloud/php.json" */
    char *key;     /* "hooks.postDeploy" or "deploy.hooks.postDeploy" */
    char *command; /* the value as written in the file */
    bool skipped;  /* under deploy and legacy_misplaced = "skip": warned about, not run */
};

struct legacy_list {
    struct legacy_hook *v;
    size_t n;
    struct problems unread; /* files that could not be read: each may hide a postDeploy */
};

/* One clevercloud/<type>.json as read, and how it was written, to write it back alike. */
struct legacy_file {
    char *name;         /* "php.json" */
    char *rel;          /* "clevercloud/php.json" */
    struct json_t *doc; /* the top-level object, or NULL */
    char *unread;       /* why it could not be read, or NULL */
    uid_t uid;
    gid_t gid;
    mode_t mode;
    nlink_t nlink;
    bool bom;           /* began with a UTF-8 byte-order mark */
    bool crlf;          /* its lines end in CR LF */
    bool final_newline; /* it ended with one */
    bool tabs;          /* indented with tabs */
    int indent;         /* spaces (or tabs) per level; 0: all on one line */
};

/*
 * The *.json names of the open folder DFD (ROOT/clevercloud), sorted bytewise. 0, or -1 after
 * reporting.
 */
int legacy_names(int dfd, char ***names, size_t *n);
void legacy_names_free(char **names, size_t n);
/*
 * Reads F->name from DFD (F->name and F->rel set by the caller). Returns true with F->doc set,
 * false when there is nothing to use: not a regular file, not an object (buckets.json), or
 * unreadable, then with F->unread set and a warning added to *W.
 */
bool legacy_load(int dfd, struct legacy_file *f, struct problems *w);
/* The postDeploy entries of a loaded file, top-level first, into *OUT; odd ones warned about. */
size_t legacy_find(const struct legacy_file *f, const struct config *c, struct legacy_list *out,
                   struct problems *w);
void legacy_file_free(struct legacy_file *f);
/*
 * Reads every ROOT/clevercloud/ *.json, in bytewise order of file name. Each string
 * postDeploy becomes an entry; everything odd (malformed JSON with line and column, a
 * misplaced deploy.hooks, a non-string or empty value, and the deprecation notice naming
 * `ccwrap migrate`) becomes a problem, and each file that could not be read goes to
 * out->unread too. Returns 0, or -1 on a system error (reported).
 */
int legacy_scan(const char *root, const struct config *c, struct legacy_list *out,
                struct problems *warnings);
void legacy_list_free(struct legacy_list *l);

/* ---- rewrite.c: a legacy file written back in its own style ------------ */

/*
 * Writes F->doc back to F->name in the folder DFD, in F's style, with its owner and mode,
 * through a temporary file beside it and renameat. 0, or -1 after reporting.
 */
int legacy_rewrite(int dfd, const struct legacy_file *f);

/* ---- migrate.c: `ccwrap migrate`, postDeploy to drop-ins (SPEC §6) ------ */

struct migrate_opts {
    bool write;        /* --write: make the changes, not only print them */
    bool force;        /* --force: migrate hooks whose script is missing or not executable */
    bool remove_empty; /* --remove-empty: remove a file left as {} */
};

/*
 * Prints each change on stdout; with o->write, makes them, writing only inside the root
 * (or the absolute hooks_dirs folder) through no symbolic link. Returns 0, or -1 after
 * reporting why nothing was changed.
 */
int legacy_migrate(const char *root, const struct config *c, const struct migrate_opts *o);

/* ---- listen.c: who listens on a TCP port (SPEC §5.3) ---------------- */

struct listener {
    bool v6;
    uint8_t addr[16]; /* network order; the first 4 bytes for IPv4 */
    unsigned long inode;
    uid_t uid; /* the socket's owner: whoever created it (its file system uid then) */
};

enum listen_scope { LS_WILDCARD, LS_LOOPBACK, LS_ADDRESS };

/* The listening TCP sockets on PORT, IPv4 and IPv6, in *v (allocated). 0, or -1 without /proc. */
int listeners_find(int port, struct listener **v, size_t *n);
enum listen_scope listener_scope(const struct listener *l);
/*
 * Whether a process of ROOT's tree (ROOT included) runs as UID (real, effective or file system
 * uid, from /proc/PID/status, which needs no CAP_SYS_PTRACE).
 */
bool tree_has_uid(pid_t root, uid_t uid);
/* Whether PID runs as UID: its real, effective, saved or file system uid. */
bool pid_runs_as(pid_t pid, uid_t uid);
/* "127.0.0.1:8080", "[::1]:8080". Allocated. */
char *listener_text(const struct listener *l, int port);
/*
 * Sets held[i] when ROOT or a process below it holds v[i]'s socket. 0, or -1 with errno when
 * a descriptor table cannot be read.
 */
int tree_holds(pid_t root, const struct listener *v, size_t n, bool *held);
/* Some process holding the socket INODE, found by reading every descriptor table; 0 if none. */
pid_t socket_holder(unsigned long inode);

/* ---- ready.c: readiness specs and the step driver (SPEC §5.3) ---------- */

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

/* ---- ready_probe.c: tcp and http probes, who holds the port (SPEC §5.3) ---- */

/* Before the application starts: says so when its port is already held by another process. */
void ready_precheck(struct ready *r);
/* The status (100-999) of the HTTP/1.x answer S (LEN bytes, no NUL), or -1: not one. */
int http_status_parse(const char *s, size_t len);

/* ---- ready_notify.c: sd_notify, both ways (SPEC §5.3) ------------------- */

/* Before the application starts: notify creates its socket. 0, or -1 after reporting. */
int ready_prepare(struct ready *r);
/* Sends READY=1 to the systemd-style socket ADDR (path or @abstract). 0 or -1. */
int notify_send(const char *addr, const char *msg);

/* ---- ready_text.c: what readiness is waiting for, in words (SPEC §5.3) -- */

/* What ccwrap is waiting for, for the message every 5 s: "Nothing listening on 0.0.0.0:8080 yet".
 */
const char *ready_waiting(const struct ready *r);

/* ---- signals.c: signal intake, relay and stop bookkeeping, re-raise (SPEC §7) ---- */

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

/* ---- tree.c: the processes below ccwrap (SPEC §7) ------------------- */

struct pidset {
    pid_t *v;
    size_t n, cap;
};

void pidset_add(struct pidset *s, pid_t pid);
bool pidset_has(const struct pidset *s, pid_t pid);
void pidset_free(struct pidset *s);
/* Appends every descendant of ROOT, not ROOT itself. 0, or -1 when /proc cannot tell. */
int tree_descendants(pid_t root, struct pidset *out);
/* Whether PID is ANCESTOR or one of its descendants. */
bool tree_has(pid_t ancestor, pid_t pid);
/* The parent of PID, or -1. */
pid_t pid_parent(pid_t pid);
/* Whether PID is stopped (state T); true when /proc cannot tell. */
bool pid_stopped(pid_t pid);
/* PID's command name ("node"), printable, in BUF; "?" when gone. */
const char *pid_name(pid_t pid, char *buf, size_t len);

/* ---- children.c: the process table, the event loop, the sweep, wait statuses ---- */

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
 * The end of the service (SPEC §7): every process still below ccwrap gets SIGTERM (unless a
 * relayed stop already reached it) and SIGCONT, then SIGKILL after GRACE_MS. Returns how many
 * were left behind. Costs one waitid when ccwrap has no child left.
 */
size_t sweep_leftovers(int64_t grace_ms);
/* "exited"/"killed"/"dumped" and the status text of SPEC §3 for a wait status. */
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

/* ---- spawn.c: starting children, the hook shell's line, failed starts ---- */

struct spawn_req {
    char *const *argv;     /* argv[0] is executed: looked up in PATH when it has no '/' */
    const char *exec_path; /* or this file instead of argv[0], when set */
    const char *dir;       /* chdir there first, when set */
    bool own_group;        /* setpgid(0, 0): hooks */
    bool lead;             /* the command or application (see struct proc) */
    bool null_stdin;       /* hooks read /dev/null */
    char *const *env_set;  /* NAME=value added for this child only, NULL-terminated or NULL */
    int fd3;               /* > 0: given to the child as its descriptor 3 */
    bool worker;           /* see struct proc */
    bool hook_shell;       /* exec_path is the hook shell, given a value with -c */
    int out_fd, err_fd;    /* > 0: the child's stdout, stderr (cron's pipes) */
};

/*
 * Starts a child with posix_spawn. Returns 0 and fills *p (running, registered: children.c),
 * or -1 with *err the exec errno (no child is left), or EAGAIN, ENOMEM: no process was made.
 */
int spawn(const struct spawn_req *r, struct proc *p, int *err);
/*
 * The one way to run a line through the hook shell: R becomes "SHELL -c LINE" from ROOT, with
 * ARGV (4 slots, borrowed like SHELL and LINE) as its argv; the rest of R is zero. The build
 * and run commands given by a variable, hooks, workers and cron entries all start so.
 */
void spawn_shell(struct spawn_req *r, char *argv[4], char *shell, char *line, const char *root);
/*
 * A start that failed with spawn's or spawn_in_place's ERR: says why on one line and returns
 * the exit status, 125 when no process could be made (EAGAIN, ENOMEM), 127 when the program
 * is missing, else 126. WHO names what was started ("CC_PRE_RUN_HOOK", "cron[0]"), and
 * the line is "WHO: cannot run PROGRAM: why"; with WHO NULL the program is the command itself,
 * named as a shell names it: "PROGRAM: command not found". Either way, when no process could
 * be made: "WHO: cannot start a process: why, with the fix".
 */
int spawn_failed(const char *who, const char *program, int err);
/* ccwrap's environment, less the names R's env_set overrides, plus env_set (borrowed). */
char **spawn_env(const struct spawn_req *r);

/* ---- envfile.c: CCWRAP_ENV (SPEC §3) ---------------------------------- */

struct envfile {
    int fd;     /* the file ccwrap made, kept open */
    char *name; /* in the run's private folder */
    char *path; /* what the hook is given; NULL: no file */
    dev_t dev;
    ino_t ino;
};

/*
 * A fresh, empty, mode-0600 file in the run's private 0700 folder (made on first use under
 * $TMPDIR, else /tmp). 0, or -1 after reporting.
 */
int envfile_create(struct envfile *ef);
/*
 * After SOURCE's hook succeeded: its NAME=value lines join ccwrap's environment, if the file
 * is still the one made; refused names, bad and unterminated lines are reported by number.
 */
void envfile_apply(struct envfile *ef, const char *source);
void envfile_remove(struct envfile *ef);
/* Removes the run's folder, at the end. */
void envfile_cleanup(void);

/* ---- point.c: one hook point's hooks, in order (SPEC §3) ------------ */

struct ctx {
    const char *root;
    const struct config *cfg;
    const char *phase;         /* "build" | "run" */
    const char *notify_socket; /* ccwrap's own $NOTIFY_SOCKET (systemd), or NULL */
    bool legacy_warned;        /* the legacy warnings were printed at the start of the run */
};

struct point_run {
    enum point point;
    struct hooklist hooks;
    size_t next;
    bool stop_on_failure;
    char **env;              /* NAME=value for every hook of this point (CCWRAP_APP_PID, …) */
    struct proc proc;        /* the hook running now */
    size_t current;          /* its index */
    struct envfile env_file; /* its CCWRAP_ENV */
    bool done;
    int failed;          /* status of the first failure, 0 if none */
    int failed_signal;   /* signal ccwrap received and relayed that killed the failing hook */
    int failed_wstatus;  /* the failing hook's wait status (a timeout counts as exit 124) */
    const char *stopped; /* why point_stop ended the point early, or NULL */
};

/*
 * Starts running point P's hooks (returns at once; loop_step drives them and point_poll
 * advances). ENV is borrowed until done. 0, or -1 after reporting a system error.
 */
int point_start(struct point_run *pr, const struct ctx *x, enum point p, char **env);
/* After loop_step: notices the current hook's end, starts the next. Returns pr->done. */
bool point_poll(struct point_run *pr, const struct ctx *x);
/*
 * Starts no further hook, saying WHY; with GRACE_MS >= 0 also stops the running one (SIGTERM,
 * SIGKILL GRACE_MS later).
 */
void point_stop(struct point_run *pr, const char *why, int64_t grace_ms);
void point_free(struct point_run *pr);
/*
 * Runs point P's hooks to the end. Returns the status of the first failure or 0; the signal
 * that killed it when ccwrap had relayed it, and its wait status, when asked.
 */
int point_run_all(const struct ctx *x, enum point p, char **env, int *failed_signal,
                  int *failed_wstatus);

/* ---- worker.c: CC_WORKER_COMMAND beside the application (SPEC §11) -- */

enum restart_policy { RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_NO };

struct worker_var {
    char *name;  /* CC_WORKER_COMMAND, CC_WORKER_COMMAND_<N> */
    char *value; /* the command line as the user wrote it */
};

/* The worker variables, as `ccwrap run` reads them when it starts. */
struct worker_conf {
    struct worker_var *v; /* CC_WORKER_COMMAND first, then _<N> in the order of N */
    size_t n;
    enum restart_policy restart; /* CC_WORKER_RESTART */
    int64_t delay_ms;            /* CC_WORKER_RESTART_DELAY */
};

/*
 * Reads the worker variables from the environment. What makes `run` refuse to start (a bad
 * policy or delay, too many workers) goes to *errors; what is only odd (CC_WORKER_COMMAND_X)
 * to *warnings. Always fills *wc, with the defaults where a value is bad.
 */
void worker_conf_read(struct worker_conf *wc, struct problems *errors, struct problems *warnings);
void worker_conf_free(struct worker_conf *wc);
const char *restart_policy_name(enum restart_policy r); /* "on-failure" */
/*
 * How worker W runs: SPEC §3's rules for a variable's value, resolved under ROOT now. One
 * HOOK_SHELL or HOOK_BROKEN entry (a folder is broken: a worker is one command).
 */
void worker_resolve(const char *root, const struct config *c, const struct worker_var *w,
                    struct hooklist *out);

/*
 * run_phase's side, one set of workers per process. workers_load: before anything runs, 0 or
 * -1 after reporting. workers_start: beside the application, just started. workers_poll: after
 * each loop_step, notices exits, restarts what is due, and begins the stop once the application
 * has ended; returns UNTIL lowered to the next restart. workers_stop: SIGTERM, kill_grace,
 * SIGKILL, and waits for every worker.
 */
int workers_load(void);
void workers_start(const struct ctx *x);
int64_t workers_poll(const struct ctx *x, bool app_running, int64_t until);
void workers_stop(void);

/* ---- cron.c: clevercloud/cron.json beside the application (SPEC §12) ---- */

extern const char *const cron_file; /* "clevercloud/cron.json" */

struct cron_entry_def {
    char *name;    /* "cron[0]": the entry's index in the array */
    char *text;    /* the string as written in the file */
    char *command; /* what follows the schedule, $ROOT replaced by the root */
    struct cronexpr expr;
};

struct cron_table {
    struct cron_entry_def *v;
    size_t n;
    bool present; /* the file exists */
};

/*
 * Reads ROOT/clevercloud/cron.json (none is fine: t->present false) after the trust rule.
 * Each problem ("entry 2: day-of-month: '32' is out of range 1-31") goes to *errors, named
 * by the file; the good entries are in *t. 0, or -1 when there was a problem.
 */
int cron_table_load(const char *root, const struct config *c, struct cron_table *t,
                    struct problems *errors);
void cron_table_free(struct cron_table *t);
/* How entry D runs: a worker's rules (SPEC §3, the trust rule), one HOOK_SHELL or HOOK_BROKEN. */
void cron_resolve(const char *root, const struct config *c, const struct cron_entry_def *d,
                  struct hooklist *out);
/* check: the file's problems and those of what each entry runs, into *errors. 0 or -1. */
int cron_check(const char *root, const struct config *c, struct problems *errors);
/*
 * `ccwrap cron`: the next COUNT times after FROM (NULL: now) of EXPR, or with EXPR NULL of each
 * entry of the file ("cron[0] TIME" lines). An exit status.
 */
int cron_print(const char *root, const struct config *c, const char *expr, const char *from,
               long count);

/* ---- cronrun.c: the entries of cron.json beside the application (SPEC §12) ---- */

/*
 * run_phase's side, like workers: crons_load before anything runs (0, or -1 after reporting:
 * run refuses with 125); crons_start beside the application (a timerfd on the real-time
 * clock, cancelled by a clock change); crons_poll after each loop_step (notices ends, begins
 * the stop once the application has ended; returns UNTIL lowered); crons_stop: SIGTERM,
 * kill_grace, SIGKILL, and waits for every entry.
 */
int crons_load(const struct ctx *x);
void crons_start(const struct ctx *x);
int64_t crons_poll(const struct ctx *x, bool app_running, int64_t until);
void crons_stop(void);

/* ---- instance.c: the variables of a Clever Cloud instance (SPEC §13) ---- */

struct instance_var {
    const char *name;   /* "INSTANCE_TYPE" */
    char *value;        /* allocated */
    const char *source; /* "set by ccwrap", "from the environment", … */
};

#define INSTANCE_VARS 7

/*
 * Sets APP_HOME, INSTANCE_TYPE (build|production by PHASE), INSTANCE_NUMBER, INSTANCE_ID (a
 * random UUID), COMMIT_ID, CC_COMMIT_ID (from ROOT/.git, when there is one) and PORT in
 * ccwrap's environment, each only when it is unset, so every child sees them.
 */
void instance_env(const char *root, const char *phase);
/* Whether instance_env set NAME (rather than the environment ccwrap was given). */
bool instance_ours(const char *name);
/* For plan: each variable, its value (or what it will be) and its source, into OUT. How many. */
size_t instance_plan(const char *root, const char *phase, struct instance_var *out);
/* The commit ROOT/.git/HEAD names (a branch's tip, loose or packed), allocated, or NULL. */
char *git_head(const char *root);

/* ---- dotenv.c: --env-file and env_files (SPEC §13) --------------------- */

/* --env-file FILE, in the order given (main sets them). */
extern const char **env_file_options;
extern size_t n_env_file_options;

struct env_entry {
    char *name;
    char *value;
    char *source; /* "FILE:LINE", "FILE entry N" */
};

struct env_set {
    struct env_entry *v;
    size_t n;
};

/*
 * Reads the config's env_files (relative to the root) then each --env-file, after the trust
 * rule; a later file's NAME replaces an earlier one's. Problems "FILE" / "line N: why" go to
 * *errors. 0, or -1 when there was one.
 */
int env_files_read(const char *root, const struct config *c, struct env_set *out,
                   struct problems *errors);
void env_set_free(struct env_set *s);
/* Sets each variable of the files that ccwrap's environment leaves unset. 0, or -1 after
 * reporting (then nothing is set). */
int env_files_apply(const char *root, const struct config *c);
/* NAME suggests a secret (KEY, SECRET, TOKEN, PASSWORD in any case): plan hides its value. */
bool secret_name(const char *name);

/* ---- inplace.c: whether anything follows the command (README: exec in place) ---- */

/* What a phase holds besides its hooks that may have to happen after its command. */
struct follow_query {
    bool run;               /* the run phase; else build */
    bool events;            /* an event log is written */
    bool notify;            /* ccwrap's own NOTIFY_SOCKET: READY=1 to send */
    const char *ready;      /* run: the readiness spec in force */
    const char *ready_from; /* where it came from (config_ready's *from) */
    bool ready_options;     /* --ready-timeout or --keep-on-timeout */
};

/*
 * NULL when nothing has to happen after the command, so ccwrap may replace itself with it;
 * else why ccwrap stays ("post-build hooks follow the command"), allocated. The one rule for
 * exec in place: plan and the phases ask it, later steps (the cache archive) extend it.
 */
char *nothing_follows(const char *root, const struct config *c, const struct follow_query *q);
/*
 * NULL when the command can take ccwrap's place: COMMAND given (argv), or VAR's value is one
 * simple command the shell replaces itself with (shell_exec_form). Else why not, allocated.
 */
char *in_place_form(char **argv, const char *var);
/*
 * Replaces ccwrap with WHAT ("command") as R names it (argv, exec_path, dir, env_set as for
 * spawn), once the signals ccwrap received are handled: the signal mask and SIGPIPE as
 * inherited, no longer a subreaper. Returns only when it does not: -1 with *err 0 when ccwrap
 * must supervise after all (a stop was received, a process the hooks left behind is ccwrap's
 * child), else the exec errno.
 */
int spawn_in_place(const struct spawn_req *r, const char *what, int *err);

/* ---- ops.c: plan (SPEC §9) ------------------------------------------ */

/* Prints the plan of WHICH ("build", "run", or NULL for both). 0, or -1 on a system error. */
int plan_print(const char *root, const struct config *c, const char *which);

/* ---- check.c: check (SPEC §9) ---------------------------------------- */

/* Prints each problem as "PATH: problem; fix" on stdout. Their number, or -1. */
int check_print(const char *root, const struct config *c);

/* ---- cache.c: the build cache archive through ccwrap-cache (SPEC §10) ---- */

/* --cache, when given: it comes before $CCWRAP_CACHE and the cache setting. */
extern const char *cache_option;

/* CC_DISABLE_BUILD_CACHE_UPLOAD=true: no archive is made. */
bool cache_disabled(void);
/* CC_CACHE_DEPENDENCIES=true: the dependency archive before and after the build command. */
bool cache_deps_enabled(void);
void cache_deps_restore(const struct ctx *x);
void cache_deps_save(const struct ctx *x);
/* plan build's dependency line (the helper prints it on stdout after the label). */
void cache_deps_plan(const char *root, const struct config *c);
/* After successful post-build hooks: the archive saved. A failure only warns. */
void cache_save(const struct ctx *x);
/* --from-cache after pre-build: true when the archive for the key was restored. */
bool cache_restore(const struct ctx *x);
/* `ccwrap cache list|prune`: an exit status. KEEP < 0: cache_keep. */
int cache_command(const struct ctx *x, const char *action, long keep);
/* plan's line after post-build, allocated: where the archive goes, with its key. */
char *cache_plan(const char *root, const struct config *c);
/* check: the store's problems as "SOURCE: problem"; how many. */
int cache_check(const struct config *c, int (*report)(const char *path, const char *text));

/* ---- phase.c: the build and run sequences of SPEC §4–5 -------------- */

/* What ccwrap should do at the end: exit with status, or die of signal. */
struct outcome {
    int status;
    int signal;
};

struct run_opts {
    const char *ready;     /* --ready or NULL */
    int64_t ready_timeout; /* ms, -1: from the config */
    bool keep_on_timeout;
};

struct outcome build_phase(const struct ctx *x, char **argv, bool from_cache);
struct outcome run_phase(struct ctx *x, char **argv, const struct run_opts *o);
struct outcome hook_phase(struct ctx *x, enum point p);

#endif
