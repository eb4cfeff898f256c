/*
 * check.c — `ccwrap check` (§9): every problem plan's inputs have, one "PATH: problem; fix"
 * line each on stdout (the shell, hooks_dirs, the commands, each point's hooks, legacy files,
 * readiness, workers, cron, variable files, the cache store). It runs nothing.
 */
#include <stddef.h>

#include "points.h"
#include "util.h"
#include "problems.h"
#include "config.h"
#include "ready.h"
#include "trust.h"
#include "legacy.h"
#include "value.h"
#include "confload.h"
#include "dotenv.h"
#include "hooks.h"
#include "worker.h"
#include "cache.h"
#include "cron.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints "PATH: text" once: a problem met at every hook point is still one problem. */
static int check_problem(const char *path, const char *text)
{
    static char **seen;
    static size_t n_seen;
    char *raw = xasprintf("%s: %s", path, text), *line = shown_text(raw);

    free(raw);
    for (size_t i = 0; i < n_seen; i++) {
        if (strcmp(seen[i], line) == 0) {
            free(line);
            return 0;
        }
    }
    seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
    seen[n_seen++] = line;
    printf("%s\n", line);
    return 1;
}

/* The worker variables' problems, and each worker's command as §3 resolves it. */
static int check_workers(const char *root, const struct config *c)
{
    struct problems errors = {0}, warnings = {0};
    struct worker_conf wc;
    int n = 0;

    worker_conf_read(&wc, &errors, &warnings);
    for (size_t i = 0; i < errors.n; i++)
        n += check_problem(errors.v[i].path, errors.v[i].text);
    for (size_t i = 0; i < warnings.n; i++)
        n += check_problem(warnings.v[i].path, warnings.v[i].text);
    for (size_t i = 0; i < wc.n; i++) {
        struct hooklist l;

        worker_resolve(root, c, &wc.v[i], &l);
        if (l.v[0].kind == HOOK_BROKEN)
            n += check_problem(wc.v[i].name, l.v[0].problem);
        hooklist_free(&l);
    }
    problems_free(&errors);
    problems_free(&warnings);
    worker_conf_free(&wc);
    return n;
}

/* clevercloud/cron.json: the file, each entry's schedule and what it runs. */
static int check_cron(const char *root, const struct config *c)
{
    struct problems errors = {0};
    int n = 0;

    cron_check(root, c, &errors);
    for (size_t i = 0; i < errors.n; i++)
        n += check_problem(errors.v[i].path, errors.v[i].text);
    problems_free(&errors);
    return n;
}

/* --env-file and env_files: each file's trust and each bad line. */
static int check_env_files(const char *root, const struct config *c)
{
    struct problems errors = {0};
    struct env_set s;
    int n = 0;

    env_files_read(root, c, &s, &errors);
    for (size_t i = 0; i < errors.n; i++)
        n += check_problem(errors.v[i].path, errors.v[i].text);
    problems_free(&errors);
    env_set_free(&s);
    return n;
}

/* Every problem plan's inputs have, one line each; returns how many. */
int check_print(const char *root, const struct config *c)
{
    static const char *const commands[] = {"CC_BUILD_COMMAND", "CC_RUN_COMMAND"};
    struct ready r = {.notify_fd = -1};
    const char *from, *spec = config_ready(c, NULL, &from);
    char err[256];
    struct stat st;
    char *distrust = NULL;
    int n = 0;

    if (access(c->shell, X_OK) < 0)
        n += check_problem(c->shell_hidden ? "shell" : c->shell,
                           c->file ? "the configured shell cannot be executed; install it "
                                     "or change shell"
                                   : "the shell cannot be executed; install it or set "
                                     "shell in ccwrap.conf");
    else if ((distrust = trust_problem(c->shell, root, NULL, c)) != NULL)
        n += check_problem(c->shell_hidden ? "shell" : c->shell, distrust);
    free(distrust);
    distrust = NULL;
    for (size_t i = 0; i < c->n_hooks_dirs; i++) {
        char *path = c->hooks_dirs[i][0] == '/' ? xstrdup(c->hooks_dirs[i])
                                                : xasprintf("%s/%s", root, c->hooks_dirs[i]);

        if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
            n += check_problem(c->hooks_dirs[i], "not a folder; fix hooks_dirs or remove it");
        else if (stat(path, &st) == 0 && (distrust = trust_problem(path, root, NULL, c)) != NULL)
            n += check_problem(c->hooks_dirs[i], distrust);
        free(distrust);
        distrust = NULL;
        free(path);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *value = getenv(commands[i]);

        if (value && (distrust = command_trust_problem(value, root, c)) != NULL)
            n += check_problem(commands[i], distrust);
        free(distrust);
        distrust = NULL;
    }
    for (int p = 0; p < PT_COUNT; p++) {
        struct hooklist l;
        struct problems w = {0};

        if (hooks_collect((enum point)p, root, c, &l, &w) < 0)
            return -1;
        for (size_t i = 0; i < l.n; i++) {
            if (l.v[i].kind == HOOK_BROKEN)
                n += check_problem(l.v[i].source, l.v[i].problem);
            if (l.v[i].legacy && c->legacy == LEGACY_FAIL)
                n += check_problem(l.v[i].source, "legacy_post_deploy is \"fail\": run refuses to "
                                                  "start; run 'ccwrap migrate --write'");
        }
        for (size_t i = 0; i < w.n; i++)
            n += check_problem(w.v[i].path, w.v[i].text);
        hooklist_free(&l);
        problems_free(&w);
    }
    if (c->legacy == LEGACY_FAIL) {
        struct legacy_list ll = {0};
        struct problems w = {0};

        /* A file that cannot be read may hold a postDeploy: "fail" refuses it as one. */
        if (legacy_scan(root, c, &ll, &w) == 0)
            for (size_t i = 0; i < ll.unread.n; i++)
                n += check_problem(ll.unread.v[i].path,
                                   "cannot be read and legacy_post_deploy is \"fail\": run "
                                   "refuses to start; fix or remove it");
        legacy_list_free(&ll);
        problems_free(&w);
    }
    if (ready_parse(spec, &r, err, sizeof err) < 0) {
        char *why = config_ready_error(c, from, err);

        n += check_problem(strcmp(from, "default") ? from : "ready", why);
        free(why);
    }
    ready_free(&r);
    return n + check_workers(root, c) + check_cron(root, c) + check_env_files(root, c) +
           cache_check(c, check_problem);
}
