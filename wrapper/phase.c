/*
 * phase.c — the build and run sequences of SPEC §4 and §5, step by step. Each numbered
 * comment is the SPEC's step of the same number.
 */
#include "ccwrap.h"

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

/*
 * Starts COMMAND (argv, looked up in PATH, in ccwrap's working directory), or without one the
 * variable VAR's value through the hook shell from the root. -1 with *o set when it cannot
 * be executed.
 */
static int start_command(const struct ctx *x, char **argv, const char *var, char *const *env,
                         struct proc *p, struct outcome *o)
{
    struct spawn_req req = {.env_set = env};
    char *shell_argv[4];
    int err = 0;

    if (!argv || !argv[0]) {
        shell_argv[0] = x->cfg->shell;
        shell_argv[1] = "-c";
        shell_argv[2] = getenv(var);
        shell_argv[3] = NULL;
        req.argv = shell_argv;
        req.exec_path = x->cfg->shell;
        req.dir = x->root;
        log_detail("running %s: %s", var, shell_argv[2]);
    } else {
        req.argv = argv;
    }
    if (spawn(&req, p, &err) == 0) {
        events_emit("command_start", "scommand", req.argv[req.exec_path ? 2 : 0], "ipid",
                    (int64_t)p->pid, EV_END);
        return 0;
    }
    if (err == ENOENT) {
        log_error("%s: command not found", req.exec_path ? req.exec_path : req.argv[0]);
        *o = exit_with(EXIT_NOTFOUND);
    } else {
        log_error("%s: %s", req.exec_path ? req.exec_path : req.argv[0], strerror(err));
        *o = exit_with(EXIT_NOEXEC);
    }
    return -1;
}

static void wait_for(struct proc *p)
{
    while (p->running)
        if (loop_step(NULL, -1) < 0)
            break;
}

struct outcome build_phase(const struct ctx *x, char **argv, bool from_cache)
{
    struct outcome o;
    struct proc cmd;
    int status, sig = 0;

    events_emit("phase_start", "sphase", "build", EV_END);
    /* 1. pre-build hooks. A failure: stop; exit with that hook's status. */
    status = point_run_all(x, PT_PRE_BUILD, NULL, &sig, NULL);
    if (status != 0)
        return hook_failure(status, sig);
    /* 2. The command. Non-zero: exit with its status; post-build is not run. */
    if (start_command(x, argv, "CC_BUILD_COMMAND", NULL, &cmd, &o) < 0)
        return o;
    wait_for(&cmd);
    events_emit("command_end", "ipid", (int64_t)cmd.pid, "istatus",
                (int64_t)status_shell(cmd.status), EV_END);
    if (!WIFEXITED(cmd.status) || WEXITSTATUS(cmd.status) != 0)
        return mirror(cmd.status);
    /* 3. post-build hooks, unless --from-cache. A failure: exit with its status. */
    if (from_cache) {
        log_detail("post-build hooks skipped: --from-cache");
    } else {
        status = point_run_all(x, PT_POST_BUILD, NULL, &sig, NULL);
        if (status != 0)
            return hook_failure(status, sig);
    }
    /* 4. Exit 0. */
    return exit_with(0);
}

static int legacy_preflight(struct ctx *x);

struct outcome hook_phase(struct ctx *x, enum point p)
{
    int sig = 0, status;

    if (p == PT_RUN_SUCCEEDED && legacy_preflight(x) < 0)
        return exit_with(EXIT_CCWRAP);
    status = point_run_all(x, p, NULL, &sig, NULL);
    return hook_failure(status, sig);
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
 * to start (SPEC §6).
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
    /* A file too big or too broken to read may hold a postDeploy: "fail" cannot tell it does not.
     */
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

struct outcome run_phase(struct ctx *x, char **argv, const struct run_opts *o)
{
    struct ready rd = {.notify_fd = -1};
    struct point_run succeeded = {.done = true};
    char **succeeded_env = NULL, **app_env = NULL, err[256];
    const char *from, *spec = config_ready(x->cfg, o->ready, &from);
    int64_t timeout, deadline = -1, next_probe = -1, next_msg;
    struct pollfd pfd = {.fd = -1};
    enum run_state state = WAITING;
    struct outcome out;
    struct proc app;
    int status, sig = 0, wstatus = 0;
    bool keep;

    if (ready_parse(spec, &rd, err, sizeof err) < 0) {
        if (from == x->cfg->ready_origin)
            log_error("%s: %s", from, err);
        else
            log_error("%s", err);
        ready_free(&rd);
        return exit_with(EXIT_CCWRAP);
    }
    if (legacy_preflight(x) < 0) {
        ready_free(&rd);
        return exit_with(EXIT_CCWRAP);
    }
    /* A one-shot task may take as long as it needs unless --ready-timeout says otherwise. */
    timeout = o->ready_timeout >= 0   ? o->ready_timeout
              : rd.kind == READY_EXIT ? 0
                                      : x->cfg->ready_timeout * 1000;
    keep = o->keep_on_timeout || x->cfg->on_ready_timeout == ON_TIMEOUT_KEEP;
    events_emit("phase_start", "sphase", "run", "sready", rd.spec, EV_END);

    /* 1. pre-run hooks. A failure: run-failed hooks, then exit with the hook's status. */
    status = point_run_all(x, PT_PRE_RUN, NULL, &sig, &wstatus);
    if (status != 0) {
        char *text = status_text(wstatus);

        run_failed_hooks(x, failure_env("pre-run", status_code(wstatus), text, 0));
        free(text);
        ready_free(&rd);
        return hook_failure(status, sig);
    }

    /* 2. The application starts as ccwrap's child; if it cannot be executed: run-failed, 126/127.
     */
    if (ready_prepare(&rd) < 0) {
        ready_free(&rd);
        return exit_with(EXIT_CCWRAP);
    }
    if (rd.kind == READY_NOTIFY) {
        app_env = xcalloc(2, sizeof *app_env);
        app_env[0] = xasprintf("NOTIFY_SOCKET=%s", rd.notify_path);
    }
    if (start_command(x, argv, "CC_RUN_COMMAND", app_env, &app, &out) < 0) {
        char *text = xasprintf("%d", out.status);

        run_failed_hooks(x, failure_env("exec", "exited", text, 0));
        free(text);
        free_env(app_env);
        ready_free(&rd);
        return out;
    }
    free_env(app_env);

    /* 3. Wait until the application is ready, saying what for every 5 s. */
    if (timeout > 0)
        deadline = app.started + timeout;
    next_msg = app.started + 5000;
    for (;;) {
        int64_t now = now_ms(), until;

        if (state == WAITING) {
            if (!app.running) {
                if (rd.kind == READY_EXIT && WIFEXITED(app.status) && WEXITSTATUS(app.status) == 0)
                    state = READY;
                else
                    state = NOT_READY;
            } else if (rd.kind == READY_NONE) {
                state = READY;
            } else if (rd.kind != READY_EXIT &&
                       (next_probe < 0 || now >= next_probe || pfd.revents)) {
                pfd.revents = 0;
                if (ready_step(&rd, app.started, now, &pfd, &next_probe) == 1)
                    state = READY;
            }
            if (state == WAITING && deadline >= 0 && now >= deadline)
                state = TIMED_OUT;
            if (state == WAITING && now >= next_msg) {
                log_info("%s", ready_waiting(&rd));
                next_msg += 5000;
            }

            /* 4. Ready: run-succeeded hooks start while the application keeps running. */
            if (state == READY) {
                log_info("Application ready (%s) after %.3f s", rd.spec,
                         (double)(now - app.started) / 1000.0);
                events_emit("ready", "sspec", rd.spec, "ipid", (int64_t)app.pid, "iafter_ms",
                            (int64_t)(now - app.started), EV_END);
                if (x->notify_socket && notify_send(x->notify_socket, "READY=1") < 0)
                    log_warn("%s: cannot send READY=1: %s", x->notify_socket, strerror(errno));
                succeeded_env = xcalloc(2, sizeof *succeeded_env);
                succeeded_env[0] = xasprintf("CCWRAP_APP_PID=%d", (int)app.pid);
                if (point_start(&succeeded, x, PT_RUN_SUCCEEDED, succeeded_env) < 0)
                    succeeded.done = true;
            }

            /* 5. Not ready: the application exited first, or the readiness timeout passed. */
            if (state == NOT_READY) {
                char *text = status_text(app.status);
                const char *result = WIFSIGNALED(app.status) ? "signal" : "exit-code";

                log_error("application %s before it was ready (%s: %s)",
                          WIFSIGNALED(app.status) ? "was killed" : "exited", result, text);
                events_emit("not_ready", "sresult", result, "ipid", (int64_t)app.pid, EV_END);
                run_failed_hooks(x, failure_env(result, status_code(app.status), text, 0));
                free(text);
            } else if (state == TIMED_OUT) {
                log_error("application not ready after %.3f s: %s", (double)timeout / 1000.0,
                          ready_waiting(&rd));
                events_emit("not_ready", "sresult", "timeout", "ipid", (int64_t)app.pid, EV_END);
                run_failed_hooks(x, failure_env("timeout", NULL, NULL, app.pid));
                if (!keep) {
                    proc_terminate(&app, x->cfg->kill_grace * 1000);
                    wait_for(&app);
                }
            }
        }
        if (!succeeded.done)
            point_poll(&succeeded, x);

        /* 6. ccwrap exits when the application exits, after run-succeeded hooks end. */
        if (!app.running && succeeded.done && state != WAITING)
            break;

        until = -1;
        if (state == WAITING) {
            until = next_msg;
            if (deadline >= 0 && deadline < until)
                until = deadline;
            if (next_probe >= 0 && next_probe < until)
                until = next_probe;
        }
        if (loop_step(state == WAITING ? &pfd : NULL, until) < 0)
            break;
    }
    point_free(&succeeded);
    free_env(succeeded_env);
    ready_free(&rd);
    events_emit("app_end", "ipid", (int64_t)app.pid, "istatus", (int64_t)status_shell(app.status),
                EV_END);
    if (state == TIMED_OUT && !keep)
        return exit_with(EXIT_TIMEOUT);
    return mirror(app.status);
}
