/*
 * phase.c — the build and run sequences of §4 and §5, step by step. Each numbered
 * comment is doc/design.md's step of the same number. It stays one file a little over 600
 * lines on purpose: a reviewer reads build_steps and run_steps against the contract top to
 * bottom, and each step's few helpers sit just above it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "points.h"
#include "util.h"
#include "msg.h"
#include "problems.h"
#include "shell.h"
#include "log.h"
#include "config.h"
#include "envfile.h"
#include "ready.h"
#include "children.h"
#include "signals.h"
#include "legacy.h"
#include "spawn.h"
#include "value.h"
#include "confload.h"
#include "ready_probe.h"
#include "ready_notify.h"
#include "ready_text.h"
#include "point.h"
#include "worker.h"
#include "cache.h"
#include "cronrun.h"
#include "inplace.h"
#include "phase.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct outcome exit_with(int status)
{
    return (struct outcome){.status = status, .signal = 0};
}

/* A child's wait status as ccwrap's own end: the same status, or death by the same signal. */
static struct outcome mirror(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return (struct outcome){.status = 128 + WTERMSIG(wstatus), .signal = WTERMSIG(wstatus)};
    return exit_with(WEXITSTATUS(wstatus));
}

/* A failed hook point: its status, or ccwrap's death when a signal sent to ccwrap killed it. */
static struct outcome hook_failure(int status, int sig)
{
    return (struct outcome){.status = status, .signal = sig};
}

/* After a relayed INT, QUIT or TERM nothing new starts: ccwrap ends as that signal ends it. */
static bool stop_prevents(const char *what, struct outcome *o)
{
    int sig = stop_requested();

    if (!sig)
        return false;
    log_info("%s not started: SIG%s received", what, signal_name(sig));
    *o = (struct outcome){.status = 128 + sig, .signal = sig};
    return true;
}

/*
 * VAR's value runs as a hook's does: the shell, and the program of each of its commands in the
 * environment ENV adds, must pass the trust rule (doc/security.md). 0, or -1 after reporting.
 */
static int command_trusted(const struct ctx *x, const char *var, char *const *env)
{
    char *problem = trust_value(getenv(var), x->root, x->cfg, env);

    if (!problem)
        return 0;
    log_error("%s: %s", var, problem);
    free(problem);
    return -1;
}

/*
 * How COMMAND (argv, looked up in PATH, in ccwrap's working directory) runs, or without one
 * the variable VAR's value through the hook shell from the root. A value that is one simple
 * command is exec'd by the shell, so the program is ccwrap's child: its signals and its status
 * are its own, as if given after `--`. *line, when set, is the shell's line, to free.
 */
static void command_req(const struct ctx *x, char **argv, const char *var, char *const *env,
                        struct spawn_req *req, char *shell_argv[4], char **line)
{
    *line = NULL;
    if (!argv || !argv[0]) {
        *line = shell_exec_form(getenv(var));
        spawn_shell(req, shell_argv, x->cfg->shell, *line ? *line : getenv(var), x->root);
        log_detail("running %s: %s -c %s", var, x->cfg->shell, shell_argv[2]);
    } else {
        *req = (struct spawn_req){.argv = argv};
    }
    req->env_set = env;
    req->lead = true;
}

/* The command could not be executed (ERR): the message, and *o 125, 126 or 127. */
static void exec_failed(const struct spawn_req *req, const char *var, int err, struct outcome *o)
{
    *o = exit_with(spawn_failed(req->exec_path ? var : NULL,
                                req->exec_path ? req->exec_path : req->argv[0], err));
}

/* Starts the command as ccwrap's child (command_req). -1 with *o set when it cannot be executed. */
static int start_command(const struct ctx *x, char **argv, const char *var, char *const *env,
                         struct proc *p, struct outcome *o)
{
    struct spawn_req req;
    char *shell_argv[4], *line;
    int err = 0, rc = 0;

    if ((!argv || !argv[0]) && command_trusted(x, var, env) < 0) {
        *o = exit_with(EXIT_NOEXEC);
        return -1;
    }
    command_req(x, argv, var, env, &req, shell_argv, &line);
    if (spawn(&req, p, &err) == 0) {
        events_emit("command_start", "scommand", req.argv[req.exec_path ? 2 : 0], "ipid",
                    (int64_t)p->pid, EV_END);
    } else {
        exec_failed(&req, var, err, o);
        rc = -1;
    }
    free(line);
    return rc;
}

/*
 * Exec in place (doc/signals.md): when nothing has to happen after the command, ccwrap becomes it,
 * the process its caller started. Returns only when it does not: 0 to start the command as a child
 * after all, -1 with *o set when it cannot be executed or a stop was received.
 */
static int exec_in_place(const struct ctx *x, char **argv, const char *var,
                         const struct follow_query *q, struct outcome *o)
{
    char *why = nothing_follows(x->root, x->cfg, q), *shell_argv[4], *line;
    struct spawn_req req;
    int err;

    if (!why)
        why = in_place_form(argv, var);
    if (why) {
        log_detail("not exec in place: %s", why);
        free(why);
        return 0;
    }
    /* What runs in place is held to the same trust rule as what runs as a child. */
    if ((!argv || !argv[0]) && command_trusted(x, var, NULL) < 0) {
        *o = exit_with(EXIT_NOEXEC);
        return -1;
    }
    command_req(x, argv, var, NULL, &req, shell_argv, &line);
    /* The run's private folder goes now: nobody would remove it once ccwrap is gone. */
    envfile_cleanup();
    spawn_in_place(&req, q->run ? "application" : "command", &err);
    free(line);
    if (err == 0)
        return stop_prevents(q->run ? "the application" : "the build command", o) ? -1 : 0;
    exec_failed(&req, var, err, o);
    return -1;
}

/* The end of the service: what the command and its hooks left behind is stopped (§7). */
static struct outcome end_service(const struct ctx *x, struct outcome o)
{
    if (x->cfg->leftovers == LEFTOVERS_STOP)
        sweep_leftovers(x->cfg->kill_grace * 1000);
    return o;
}

static void wait_for(struct proc *p)
{
    while (p->running)
        if (loop_step(NULL, -1) < 0)
            break;
}

static struct outcome build_steps(const struct ctx *x, char **argv, bool from_cache)
{
    struct follow_query follow = {.events = events_enabled(), .notify = x->notify_socket};
    struct outcome o;
    struct proc cmd;
    int status, sig = 0;

    events_emit("phase_start", "sphase", "build", EV_END);
    /* 1. pre-build hooks. A failure: stop; exit with that hook's status. */
    status = point_run_all(x, PT_PRE_BUILD, NULL, &sig, NULL);
    if (status != 0)
        return hook_failure(status, sig);
    /*
     * --from-cache (§10): the archive for the key takes the place of the command and
     * post-build. None usable: the full build, as the platform rebuilds.
     */
    if (from_cache) {
        if (stop_prevents("the build cache restore", &o))
            return o;
        if (cache_restore(x))
            return exit_with(0);
    }
    /* CC_CACHE_DEPENDENCIES (§10): the dependencies of a former build, then the command. */
    if (cache_deps_enabled()) {
        if (stop_prevents("the dependency restore", &o))
            return o;
        cache_deps_restore(x);
    }
    /* 2. The command. Non-zero: exit with its status; post-build is not run. */
    if (stop_prevents("the build command", &o))
        return o;
    if (exec_in_place(x, argv, "CC_BUILD_COMMAND", &follow, &o) < 0 ||
        start_command(x, argv, "CC_BUILD_COMMAND", NULL, &cmd, &o) < 0)
        return o;
    wait_for(&cmd);
    events_emit("command_end", "ipid", (int64_t)cmd.pid, "istatus",
                (int64_t)status_shell(cmd.status), EV_END);
    if (!WIFEXITED(cmd.status) || WEXITSTATUS(cmd.status) != 0)
        return mirror(cmd.status);
    /* 3. post-build hooks (a build restored from the cache ended above). A failure: exit. */
    status = point_run_all(x, PT_POST_BUILD, NULL, &sig, NULL);
    if (status != 0)
        return hook_failure(status, sig);
    /*
     * The cache archive (§10): after post-build; a failure only warns. Without one
     * (CC_DISABLE_BUILD_CACHE_UPLOAD=true) nothing follows the command: a stop it handled,
     * ending with 0, ends the build with 0, as the bare command would (§7).
     */
    if (cache_deps_enabled()) {
        if (stop_prevents("the dependency archive", &o))
            return o;
        cache_deps_save(x);
    }
    if (!cache_disabled() && stop_prevents("the build cache archive", &o))
        return o;
    cache_save(x);
    /* A stop relayed to the helper ends the build as it would have ended the command. */
    if (!cache_disabled() && (sig = stop_requested()) != 0)
        return hook_failure(128 + sig, sig);
    /* 4. Exit 0. */
    return exit_with(0);
}

struct outcome build_phase(const struct ctx *x, char **argv, bool from_cache)
{
    return end_service(x, build_steps(x, argv, from_cache));
}

static int legacy_preflight(struct ctx *x);

struct outcome hook_phase(struct ctx *x, enum point p)
{
    int sig = 0, status;

    if (p == PT_RUN_SUCCEEDED && legacy_preflight(x) < 0)
        return exit_with(EXIT_CCWRAP);
    status = point_run_all(x, p, NULL, &sig, NULL);
    return end_service(x, hook_failure(status, sig));
}

/* run-failed hooks' environment, named after systemd's ExecStopPost variables. */
static char **failure_env(const char *result, const char *code, const char *status, pid_t app)
{
    char **env = xcalloc(5, sizeof *env);
    size_t n = 0;

    env[n++] = xasprintf("CCWRAP_RESULT=%s", result);
    if (code)
        env[n++] = xasprintf("CCWRAP_EXIT_CODE=%s", code);
    if (status)
        env[n++] = xasprintf("CCWRAP_EXIT_STATUS=%s", status);
    if (app > 0)
        env[n++] = xasprintf("CCWRAP_APP_PID=%d", (int)app);
    return env;
}

static void free_env(char **env)
{
    for (char **e = env; e && *e; e++)
        free(*e);
    free(env);
}

static int run_failed_hooks(const struct ctx *x, char **env)
{
    int status = point_run_all(x, PT_RUN_FAILED, env, NULL, NULL);

    free_env(env);
    return status;
}

/*
 * The legacy postDeploy files are read once at the start of a run: each run warns once per
 * file, even when the application never gets ready, and legacy_post_deploy = fail refuses
 * to start (§6).
 */
static int legacy_preflight(struct ctx *x)
{
    struct legacy_list ll = {0};
    struct problems warnings = {0};
    int rc = 0;

    if (x->cfg->legacy == LEGACY_IGNORE)
        return 0;
    if (legacy_scan(x->root, x->cfg, &ll, &warnings) < 0)
        rc = -1;
    if (x->cfg->legacy == LEGACY_RUN) {
        for (size_t i = 0; i < warnings.n; i++)
            log_warn("%s: %s", warnings.v[i].path, warnings.v[i].text);
        x->legacy_warned = true;
    }
    for (size_t i = 0; x->cfg->legacy == LEGACY_FAIL && i < ll.n; i++) {
        log_error("%s: %s is deprecated and legacy_post_deploy is \"fail\"; run 'ccwrap migrate "
                  "--write'",
                  ll.v[i].file, ll.v[i].key);
        rc = -1;
    }
    /* A file too big or broken to read may hold a postDeploy: "fail" cannot tell it does not. */
    for (size_t i = 0; x->cfg->legacy == LEGACY_FAIL && i < ll.unread.n; i++) {
        log_error("%s: %s, so it may hold a postDeploy, and legacy_post_deploy is \"fail\"; fix "
                  "or remove it",
                  ll.unread.v[i].path, ll.unread.v[i].text);
        rc = -1;
    }
    legacy_list_free(&ll);
    problems_free(&warnings);
    return rc;
}

enum run_state { WAITING, READY, NOT_READY, TIMED_OUT };

/* One `ccwrap run`: the application, its readiness, and the run-succeeded hooks. */
struct run {
    struct ctx *x;
    struct ready rd;
    struct proc app;
    struct point_run succeeded;
    char **succeeded_env;
    enum run_state state;
    int64_t timeout, deadline, next_probe, next_msg;
    struct pollfd pfd;
    bool keep;
    int64_t succeeded_until; /* after the application's end: when its hooks get SIGTERM */
    bool succeeded_stopped;
};

/* The readiness spec and its timeout, before anything runs. -1 after reporting. */
static int run_prepare(struct run *r, const struct run_opts *o)
{
    const char *from, *spec = config_ready(r->x->cfg, o->ready, &from);
    char err[256];

    if (ready_parse(spec, &r->rd, err, sizeof err) < 0) {
        char *why = config_ready_error(r->x->cfg, from, err);

        if (from == r->x->cfg->ready_origin)
            log_error("%s: %s", from, why);
        else
            log_error("%s", why);
        free(why);
        return -1;
    }
    /* Each is read, and each says what is wrong, before run refuses to start. */
    if ((legacy_preflight(r->x) < 0) + (workers_load() < 0) + (crons_load(r->x) < 0))
        return -1;
    /* A one-shot task may take as long as it needs unless --ready-timeout says otherwise. */
    r->timeout = o->ready_timeout >= 0      ? o->ready_timeout
                 : r->rd.kind == READY_EXIT ? 0
                                            : r->x->cfg->ready_timeout * 1000;
    r->keep = o->keep_on_timeout || r->x->cfg->on_ready_timeout == ON_TIMEOUT_KEEP;
    return 0;
}

/* The application as ccwrap's child, with its own NOTIFY_SOCKET for notify. -1 with *out set. */
static int start_app(struct run *r, char **argv, struct outcome *out)
{
    char **app_env = NULL;
    int rc;

    if (ready_prepare(&r->rd) < 0) {
        *out = exit_with(EXIT_CCWRAP);
        return -1;
    }
    if (r->rd.kind == READY_NOTIFY) {
        app_env = xcalloc(2, sizeof *app_env);
        app_env[0] = xasprintf("NOTIFY_SOCKET=%s", r->rd.notify_path);
    }
    rc = start_command(r->x, argv, "CC_RUN_COMMAND", app_env, &r->app, out);
    free_env(app_env);
    if (rc < 0)
        return -1;
    /* Workers start beside it, not once it is ready: they are services of their own (§11). */
    workers_start(r->x);
    crons_start(r->x);
    r->rd.app = r->app.pid;
    if (r->timeout > 0)
        r->deadline = r->app.started + r->timeout;
    r->next_msg = r->app.started + 5000;
    r->next_probe = -1;
    return 0;
}

/* One look at the application while it is not ready yet: the state it is in now. */
static enum run_state probe(struct run *r, int64_t now)
{
    struct proc *app = &r->app;

    if (!app->running) {
        if (r->rd.kind == READY_EXIT && WIFEXITED(app->status) && WEXITSTATUS(app->status) == 0)
            return READY;
        return NOT_READY;
    }
    if (r->rd.kind == READY_NONE)
        return READY;
    if (r->rd.kind != READY_EXIT && (r->next_probe < 0 || now >= r->next_probe || r->pfd.revents)) {
        r->pfd.revents = 0;
        if (ready_step(&r->rd, app->started, now, &r->pfd, &r->next_probe) == 1)
            return READY;
    }
    if (r->deadline >= 0 && now >= r->deadline)
        return TIMED_OUT;
    if (now >= r->next_msg) {
        log_info("%s", ready_waiting(&r->rd));
        r->next_msg += 5000;
    }
    return WAITING;
}

/* §5.4: run-succeeded hooks start while the application keeps running. */
static void on_ready(struct run *r, int64_t now)
{
    const struct ctx *x = r->x;
    struct outcome ignored;

    log_info("Application ready (%s) after %.3f s", r->rd.spec,
             (double)(now - r->app.started) / 1000.0);
    events_emit("ready", "sspec", r->rd.spec, "ipid", (int64_t)r->app.pid, "iafter_ms",
                (int64_t)(now - r->app.started), EV_END);
    if (x->notify_socket && notify_send(x->notify_socket, "READY=1") < 0)
        log_warn("%s: cannot send READY=1: %s", x->notify_socket, strerror(errno));
    if (stop_prevents("run-succeeded", &ignored))
        return;
    r->succeeded_env = xcalloc(2, sizeof *r->succeeded_env);
    r->succeeded_env[0] = xasprintf("CCWRAP_APP_PID=%d", (int)r->app.pid);
    if (point_start(&r->succeeded, x, PT_RUN_SUCCEEDED, r->succeeded_env) < 0)
        r->succeeded.done = true;
}

/* §5.5: the application exited before it was ready. */
static void on_not_ready(struct run *r)
{
    char *text = status_text(r->app.status);
    const char *result = WIFSIGNALED(r->app.status) ? "signal" : "exit-code";
    struct outcome ignored;

    log_error("application %s before it was ready (%s: %s)",
              WIFSIGNALED(r->app.status) ? "was killed" : "exited", result, text);
    events_emit("not_ready", "sresult", result, "ipid", (int64_t)r->app.pid, EV_END);
    if (!stop_prevents("run-failed", &ignored))
        run_failed_hooks(r->x, failure_env(result, status_code(r->app.status), text, 0));
    free(text);
}

/* §5.5: the readiness timeout passed; the application is stopped unless kept. */
static void on_timeout(struct run *r)
{
    struct outcome ignored;

    log_error("application not ready after %.3f s: %s", (double)r->timeout / 1000.0,
              ready_waiting(&r->rd));
    events_emit("not_ready", "sresult", "timeout", "ipid", (int64_t)r->app.pid, EV_END);
    if (!stop_prevents("run-failed", &ignored))
        run_failed_hooks(r->x, failure_env("timeout", NULL, NULL, r->app.pid));
    if (!r->keep) {
        proc_terminate(&r->app, r->x->cfg->kill_grace * 1000);
        wait_for(&r->app);
    }
}

/*
 * Run-succeeded hooks still running when the application ends belong to a service that
 * stopped: they have kill_grace seconds from its end to finish; then the running one gets
 * SIGTERM (SIGKILL after kill_grace) and no later one starts, so a hook that never ends cannot
 * keep ccwrap alive. A one-shot task's hooks start after its end: hook_timeout bounds them.
 */
static void bound_succeeded(struct run *r, int64_t now)
{
    int64_t grace = r->x->cfg->kill_grace * 1000;

    if (r->app.running || r->succeeded.done || r->succeeded_stopped || r->rd.kind == READY_EXIT)
        return;
    if (r->succeeded_until < 0) {
        r->succeeded_until = now + grace;
    } else if (now >= r->succeeded_until) {
        r->succeeded_stopped = true;
        point_stop(&r->succeeded, "the application ended", grace);
    }
}

static int64_t wake_at(const struct run *r)
{
    int64_t until = r->next_msg;

    if (r->deadline >= 0 && r->deadline < until)
        until = r->deadline;
    if (r->next_probe >= 0 && r->next_probe < until)
        until = r->next_probe;
    return until;
}

/* exec_in_place for the run phase: what follows the application, from its options. */
static int in_place(struct run *r, char **argv, const struct run_opts *o, struct outcome *out)
{
    struct follow_query q = {.run = true,
                             .events = events_enabled(),
                             .notify = r->x->notify_socket,
                             .ready_options = o->ready_timeout >= 0 || o->keep_on_timeout};

    q.ready = config_ready(r->x->cfg, o->ready, &q.ready_from);
    return exec_in_place(r->x, argv, "CC_RUN_COMMAND", &q, out);
}

static struct outcome run_steps(struct ctx *x, char **argv, const struct run_opts *o, struct run *r)
{
    struct outcome out;
    int status, sig = 0, wstatus = 0;

    if (run_prepare(r, o) < 0)
        return exit_with(EXIT_CCWRAP);
    events_emit("phase_start", "sphase", "run", "sready", r->rd.spec, EV_END);

    /* 1. pre-run hooks. A failure: run-failed hooks, then exit with the hook's status. */
    status = point_run_all(x, PT_PRE_RUN, NULL, &sig, &wstatus);
    if (status != 0) {
        char *text = status_text(wstatus);

        if (!stop_prevents("run-failed", &out))
            run_failed_hooks(x, failure_env("pre-run", status_code(wstatus), text, 0));
        free(text);
        return hook_failure(status, sig);
    }

    /* 2. The application starts; if it cannot be executed: run-failed, 126/127. */
    if (stop_prevents("the application", &out))
        return out;
    if (in_place(r, argv, o, &out) < 0)
        return out;
    ready_precheck(&r->rd);
    if (start_app(r, argv, &out) < 0) {
        char *text = xasprintf("%d", out.status);

        run_failed_hooks(x, failure_env("exec", "exited", text, 0));
        free(text);
        return out;
    }

    /* 3. Wait until the application is ready, saying what for every 5 s; then 4 or 5. */
    for (;;) {
        int64_t now = now_ms(), until;

        if (r->state == WAITING) {
            r->state = probe(r, now);
            if (r->state == READY)
                on_ready(r, now);
            else if (r->state == NOT_READY)
                on_not_ready(r);
            else if (r->state == TIMED_OUT)
                on_timeout(r);
        }
        bound_succeeded(r, now);
        if (!r->succeeded.done)
            point_poll(&r->succeeded, x);

        /* 6. ccwrap exits when the application exits, after run-succeeded hooks end. */
        if (!r->app.running && r->succeeded.done && r->state != WAITING)
            break;
        until = r->state == WAITING ? wake_at(r) : r->succeeded_stopped ? -1 : r->succeeded_until;
        until = workers_poll(x, r->app.running, until);
        until = crons_poll(x, r->app.running, until);
        if (loop_step(r->state == WAITING ? &r->pfd : NULL, until) < 0)
            break;
    }
    crons_stop();
    workers_stop();
    events_emit("app_end", "ipid", (int64_t)r->app.pid, "istatus",
                (int64_t)status_shell(r->app.status), EV_END);
    if (r->state == TIMED_OUT && !r->keep)
        return exit_with(EXIT_TIMEOUT);
    return mirror(r->app.status);
}

struct outcome run_phase(struct ctx *x, char **argv, const struct run_opts *o)
{
    struct run r = {.x = x,
                    .rd = {.notify_fd = -1},
                    .succeeded = {.done = true},
                    .deadline = -1,
                    .next_probe = -1,
                    .pfd = {.fd = -1},
                    .succeeded_until = -1};
    struct outcome out = run_steps(x, argv, o, &r);

    point_free(&r.succeeded);
    free_env(r.succeeded_env);
    ready_free(&r.rd);
    return end_service(x, out);
}
