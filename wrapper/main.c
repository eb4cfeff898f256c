/*
 * main.c — the command line (§1): options, the subcommand, and the exit status.
 * Everything else is done by the phases; only this file exits.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "points.h"
#include "util.h"
#include "msg.h"
#include "log.h"
#include "config.h"
#include "envfile.h"
#include "instance.h"
#include "children.h"
#include "signals.h"
#include "confload.h"
#include "dotenv.h"
#include "point.h"
#include "migrate.h"
#include "cache.h"
#include "cron.h"
#include "ops.h"
#include "check.h"
#include "phase.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static const char usage_text[] =
    "usage: ccwrap [GLOBAL] build [--from-cache] [--cache STORE] [--] [COMMAND [ARG...]]\n"
    "       ccwrap [GLOBAL] run [--ready SPEC] [--ready-timeout SECONDS] [--keep-on-timeout]\n"
    "                           [--] [COMMAND [ARG...]]\n"
    "       ccwrap [GLOBAL] hook POINT\n"
    "       ccwrap [GLOBAL] plan [--cache STORE] [build|run]\n"
    "       ccwrap [GLOBAL] check [--cache STORE]\n"
    "       ccwrap [GLOBAL] migrate [--write] [--force] [--remove-empty]\n"
    "       ccwrap [GLOBAL] cache [--cache STORE] list | prune [--keep N]\n"
    "       ccwrap [GLOBAL] cron [--from TIME] [--count N] [EXPRESSION]\n"
    "       ccwrap -h | --help | --version\n"
    "\n"
    "GLOBAL: -C, --root DIR   application root (default: $APP_HOME, else the working folder)\n"
    "        -c, --config FILE  configuration file (default: $CCWRAP_CONFIG, ROOT/ccwrap.conf,\n"
    "                           " SYSCONFDIR "/ccwrap/ccwrap.conf)\n"
    "        -q, --quiet        only errors\n"
    "        -v, --verbose      more detail (also CC_TROUBLESHOOT=true)\n"
    "        --events FILE      append JSON-lines events to FILE (also $CCWRAP_EVENTS)\n"
    "        --env-file FILE    variables for every child, unless already set (repeatable)\n"
    "\n"
    "POINT: pre-build, post-build, pre-run, run-succeeded, run-failed.\n"
    "Without COMMAND, build runs $CC_BUILD_COMMAND and run runs $CC_RUN_COMMAND.\n"
    "See ccwrap(1).\n";

enum sub {
    SUB_NONE = -1,
    SUB_BUILD,
    SUB_RUN,
    SUB_HOOK,
    SUB_PLAN,
    SUB_CHECK,
    SUB_MIGRATE,
    SUB_CACHE,
    SUB_CRON
};

static const char *const sub_names[] = {"build",   "run",   "hook", "plan", "check",
                                        "migrate", "cache", "cron", NULL};

static enum sub sub_parse(const char *s)
{
    for (int i = 0; sub_names[i]; i++)
        if (strcmp(s, sub_names[i]) == 0)
            return (enum sub)i;
    return SUB_NONE;
}

struct cli {
    const char *root;
    const char *config;
    const char *events;
    int quiet, verbose;
    bool from_cache, keep_on_timeout;
    const char *cache; /* --cache STORE */
    struct migrate_opts migrate;
    const char *ready;
    int64_t ready_timeout;
    long keep;        /* cache prune --keep, -1: cache_keep */
    const char *from; /* cron --from TIME */
    long count;       /* cron --count N */
};

enum {
    OPT_EVENTS = 256,
    OPT_FROM_CACHE,
    OPT_READY,
    OPT_READY_TIMEOUT,
    OPT_KEEP,
    OPT_WRITE,
    OPT_FORCE,
    OPT_REMOVE_EMPTY,
    OPT_CACHE,
    OPT_KEEP_N,
    OPT_FROM,
    OPT_COUNT,
    OPT_ENV_FILE,
    OPT_HELP,
    OPT_VERSION
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_error("%s; see 'ccwrap --help'", text);
    return EXIT_CCWRAP;
}

/* The options that go with some subcommands only: with another one, a usage error. */
static const struct {
    int opt;
    unsigned subs; /* 1u << SUB_x for each */
    const char *error;
} sub_options[] = {
    {OPT_FROM_CACHE, 1u << SUB_BUILD, "--from-cache goes with build"},
    {OPT_READY, 1u << SUB_RUN, "--ready goes with run"},
    {OPT_READY_TIMEOUT, 1u << SUB_RUN, "--ready-timeout goes with run"},
    {OPT_KEEP, 1u << SUB_RUN, "--keep-on-timeout goes with run"},
    {OPT_WRITE, 1u << SUB_MIGRATE, "--write goes with migrate"},
    {OPT_FORCE, 1u << SUB_MIGRATE, "--force goes with migrate"},
    {OPT_REMOVE_EMPTY, 1u << SUB_MIGRATE, "--remove-empty goes with migrate"},
    {OPT_CACHE, 1u << SUB_BUILD | 1u << SUB_CACHE | 1u << SUB_PLAN | 1u << SUB_CHECK,
     "--cache goes with build, cache, plan or check"},
    {OPT_KEEP_N, 1u << SUB_CACHE, "--keep goes with cache prune"},
    {OPT_FROM, 1u << SUB_CRON, "--from goes with cron"},
    {OPT_COUNT, 1u << SUB_CRON, "--count goes with cron"},
};

/* The usage error for option OPT given with SUB, or NULL: it may be. */
static const char *misplaced_option(int opt, enum sub sub)
{
    for (size_t k = 0; k < sizeof sub_options / sizeof sub_options[0]; k++)
        if (sub_options[k].opt == opt && (sub == SUB_NONE || !(sub_options[k].subs & 1u << sub)))
            return sub_options[k].error;
    return NULL;
}

/*
 * Parses options up to `--` or the first other word, from argv[*i]. The subcommand's own
 * options are allowed after it as well as the global ones. 0, or an exit status.
 */
static int parse_options(int argc, char **argv, int *i, enum sub sub, struct cli *c)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'C'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"from-cache", no_argument, NULL, OPT_FROM_CACHE},
        {"ready", required_argument, NULL, OPT_READY},
        {"ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT},
        {"keep-on-timeout", no_argument, NULL, OPT_KEEP},
        {"write", no_argument, NULL, OPT_WRITE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"remove-empty", no_argument, NULL, OPT_REMOVE_EMPTY},
        {"cache", required_argument, NULL, OPT_CACHE},
        {"keep", required_argument, NULL, OPT_KEEP_N},
        {"from", required_argument, NULL, OPT_FROM},
        {"env-file", required_argument, NULL, OPT_ENV_FILE},
        {"count", required_argument, NULL, OPT_COUNT},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int ch, sub_argc = argc - *i + 1;
    char **sub_argv = argv + *i - 1;

    optind = 0; /* glibc: start afresh, the argument vector changed */
    opterr = 0;
    while ((ch = getopt_long(sub_argc, sub_argv, "+:C:c:qvh", opts, NULL)) != -1) {
        const char *misplaced = misplaced_option(ch, sub);

        if (misplaced)
            return usage_error("%s", misplaced);
        switch (ch) {
        case 'C':
            c->root = optarg;
            break;
        case 'c':
            c->config = optarg;
            break;
        case 'q':
            c->quiet = 1;
            break;
        case 'v':
            c->verbose = 1;
            break;
        case OPT_EVENTS:
            c->events = optarg;
            break;
        case OPT_FROM_CACHE:
            c->from_cache = true;
            break;
        case OPT_READY:
            c->ready = optarg;
            break;
        case OPT_READY_TIMEOUT:
            if (parse_duration(optarg, &c->ready_timeout) < 0)
                return usage_error("--ready-timeout '%s': give seconds such as 60, 2.5 or "
                                   "500ms, at most one day (0: no limit)",
                                   optarg);
            break;
        case OPT_KEEP:
            c->keep_on_timeout = true;
            break;
        case OPT_WRITE:
            c->migrate.write = true;
            break;
        case OPT_FORCE:
            c->migrate.force = true;
            break;
        case OPT_REMOVE_EMPTY:
            c->migrate.remove_empty = true;
            break;
        case OPT_CACHE:
            c->cache = optarg;
            break;
        case OPT_KEEP_N:
            if (parse_long(optarg, 0, 10000, &c->keep) < 0)
                return usage_error("--keep '%s': give a whole number of archives from 0 (all) "
                                   "to 10000",
                                   optarg);
            break;
        case OPT_ENV_FILE:
            if (n_env_file_options >= 64)
                return usage_error("--env-file: at most 64 files");
            env_file_options =
                xrealloc(env_file_options, (n_env_file_options + 1) * sizeof *env_file_options);
            env_file_options[n_env_file_options++] = optarg;
            break;
        case OPT_FROM:
            c->from = optarg;
            break;
        case OPT_COUNT:
            if (parse_long(optarg, 1, 1000, &c->count) < 0)
                return usage_error("--count '%s': give a whole number of times from 1 to 1000",
                                   optarg);
            break;
        case 'h':
        case OPT_HELP:
            fputs(usage_text, stdout);
            return -1;
        case OPT_VERSION:
            printf("ccwrap %s\n", CCWRAP_VERSION);
            return -1;
        case ':':
            return usage_error("option '%s' needs a value", sub_argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", sub_argv[optind - 1]);
        }
    }
    *i += optind - 1;
    return 0;
}

static char *resolve_root(const char *given)
{
    const char *r = given ? given : getenv("APP_HOME");
    char *abs;
    struct stat st;

    if (!r || !*r)
        r = ".";
    abs = realpath(r, NULL);
    if (!abs || stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        log_error("%s: the application root is not a folder; fix %s", r,
                  given                ? "--root"
                  : getenv("APP_HOME") ? "APP_HOME"
                                       : "the working folder");
        free(abs);
        return NULL;
    }
    return abs;
}

static bool blank(const char *s)
{
    return !s || s[strspn(s, " \t\n\r")] == '\0';
}

/*
 * The words after the subcommand: POINT for hook, COMMAND for the phases, and in *OPERAND
 * plan's build|run, cache's list|prune or cron's EXPRESSION (its first word).
 */
static int parse_operands(enum sub sub, int argc, char **argv, int *i, int *point,
                          const char **operand)
{
    const char *var = sub == SUB_BUILD ? "CC_BUILD_COMMAND" : "CC_RUN_COMMAND";

    switch (sub) {
    case SUB_HOOK:
        if (*i >= argc)
            return usage_error("hook needs a POINT: pre-build, post-build, pre-run, "
                               "run-succeeded or run-failed");
        *point = point_parse(argv[*i]);
        if (*point < 0)
            return usage_error("unknown hook point '%s': pre-build, post-build, pre-run, "
                               "run-succeeded or run-failed",
                               argv[*i]);
        ++*i;
        break;
    case SUB_BUILD:
    case SUB_RUN:
        if (*i >= argc && blank(getenv(var)))
            return usage_error("%s: no COMMAND given and the variable is empty", var);
        return 0;
    case SUB_CACHE:
        if (*i >= argc || (strcmp(argv[*i], "list") != 0 && strcmp(argv[*i], "prune") != 0))
            return usage_error("cache takes list or prune");
        *operand = argv[(*i)++];
        return 0; /* --keep may follow */
    case SUB_CRON:
        /* One EXPRESSION, or its five fields as separate words. */
        if (*i < argc)
            *operand = argv[(*i)++];
        if (*i < argc)
            return 0;
        break;
    case SUB_PLAN:
        if (*i < argc && strcmp(argv[*i], "build") != 0 && strcmp(argv[*i], "run") != 0)
            return usage_error("plan takes build or run, not '%s'", argv[*i]);
        if (*i < argc)
            *operand = argv[(*i)++];
        break;
    default:
        break;
    }
    if (*i < argc)
        return usage_error("unexpected '%s'", argv[*i]);
    return 0;
}

/*
 * A descriptor 0, 1 or 2 that ccwrap was started without would be the next open()'s: the
 * event log would become stderr and receive every message. /dev/null holds the place,
 * close-on-exec, so children still get exactly the descriptors ccwrap inherited.
 */
static int hold_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (open("/dev/null", O_RDWR | O_CLOEXEC) != fd)
            return -1;
    }
    return 0;
}

/*
 * Set-user-ID, ccwrap would run whatever the caller's environment names (CC_*_HOOK, --root)
 * with its owner's rights: refused, as env(1)-like tools must be.
 */
static int refuse_setid(void)
{
    char self[4096];
    ssize_t n;

    if (getuid() == geteuid() && getgid() == getegid())
        return 0;
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    log_error("%s: installed set-user-ID or set-group-ID (real uid %u, effective uid %u): "
              "anyone could run hooks with its owner's rights; chmod u-s,g-s %s",
              n > 0 ? self : "ccwrap", (unsigned)getuid(), (unsigned)geteuid(),
              n > 0 ? self : "ccwrap");
    return -1;
}

int main(int argc, char **argv)
{
    struct cli cli = {.ready_timeout = -1, .keep = -1, .count = 5};
    struct config cfg = {0};
    struct outcome o = {0};
    struct ctx x = {0};
    const char *troubleshoot = getenv("CC_TROUBLESHOOT"), *operand = NULL;
    char *root = NULL, *notify = NULL;
    int i = 1, rc, point = -1;
    enum sub sub;

    if (hold_std_fds() < 0 || refuse_setid() < 0)
        return EXIT_CCWRAP;
    rc = parse_options(argc, argv, &i, SUB_NONE, &cli);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (i >= argc) {
        log_error("no subcommand; see 'ccwrap --help'");
        return EXIT_CCWRAP;
    }
    sub = sub_parse(argv[i]);
    if (sub == SUB_NONE)
        return usage_error("unknown subcommand '%s'", argv[i]);
    i++;
    rc = parse_options(argc, argv, &i, sub, &cli);
    if (rc)
        return rc < 0 ? 0 : rc;
    rc = parse_operands(sub, argc, argv, &i, &point, &operand);
    if (rc)
        return rc;
    /* `cache prune --keep N`: the option may follow the action. */
    if (sub == SUB_CACHE && i < argc) {
        rc = parse_options(argc, argv, &i, sub, &cli);
        if (rc)
            return rc < 0 ? 0 : rc;
        if (i < argc)
            return usage_error("unexpected '%s'", argv[i]);
    }
    if (cli.keep >= 0 && (sub != SUB_CACHE || strcmp(operand, "prune") != 0))
        return usage_error("--keep goes with cache prune");
    cache_option = cli.cache;

    log_verbosity = cli.quiet                                             ? V_QUIET
                    : cli.verbose                                         ? V_VERBOSE
                    : (troubleshoot && strcmp(troubleshoot, "true") == 0) ? V_VERBOSE
                                                                          : V_NORMAL;
    root = resolve_root(cli.root);
    if (!root)
        return EXIT_CCWRAP;
    /* check prints its findings, a broken configuration among them, as "PATH: problem". */
    log_plain = sub == SUB_CHECK;
    if (config_load(&cfg, cli.config, root) < 0) {
        config_free(&cfg);
        free(root);
        return sub == SUB_CHECK ? 1 : EXIT_CCWRAP;
    }
    if (sub == SUB_PLAN || sub == SUB_CHECK) {
        rc = sub == SUB_PLAN ? plan_print(root, &cfg, operand) : check_print(root, &cfg);
        config_free(&cfg);
        free(root);
        if (fflush(stdout) != 0)
            return EXIT_CCWRAP;
        return rc < 0 ? EXIT_CCWRAP : rc > 0 ? 1 : 0;
    }
    if (sub == SUB_CRON) {
        char *expr = operand ? xstrdup(operand) : NULL;

        /* No field starts with '-': such a word after the schedule is an option. */
        while (i < argc && rc == 0) {
            char *more;

            if (argv[i][0] == '-' && argv[i][1] != '\0') {
                rc = parse_options(argc, argv, &i, sub, &cli);
                continue;
            }
            more = xasprintf("%s %s", expr, argv[i++]);
            free(expr);
            expr = more;
        }
        if (rc == 0)
            rc = cron_print(root, &cfg, expr, cli.from, cli.count);
        else if (rc < 0)
            rc = 0;
        free(expr);
        config_free(&cfg);
        free(root);
        if (fflush(stdout) != 0)
            return EXIT_CCWRAP;
        return rc;
    }
    if (sub == SUB_MIGRATE) {
        rc = legacy_migrate(root, &cfg, &cli.migrate) < 0 ? EXIT_CCWRAP : 0;
        config_free(&cfg);
        free(root);
        return rc;
    }
    if (!cli.events)
        cli.events = getenv("CCWRAP_EVENTS");
    /* The event log is for dashboards: without it the deployment goes on all the same. */
    events_open(cli.events);
    if (loop_init() < 0) {
        config_free(&cfg);
        free(root);
        return EXIT_CCWRAP;
    }
    setenv("APP_HOME", root, 1);
    /* ccwrap answers systemd itself; the application gets its own socket only with notify. */
    if (getenv("NOTIFY_SOCKET")) {
        notify = xstrdup(getenv("NOTIFY_SOCKET"));
        unsetenv("NOTIFY_SOCKET");
    }

    x.root = root;
    x.cfg = &cfg;
    x.notify_socket = notify;
    if (sub == SUB_CACHE) {
        rc = cache_command(&x, operand, cli.keep);
        events_close();
        config_free(&cfg);
        free(root);
        free(notify);
        return rc;
    }
    /* §13: the files' variables, then what the platform sets, for every child. */
    if (env_files_apply(root, &cfg) < 0) {
        events_close();
        config_free(&cfg);
        free(root);
        free(notify);
        return EXIT_CCWRAP;
    }
    instance_env(root, sub == SUB_BUILD || (sub == SUB_HOOK && point <= PT_POST_BUILD)
                           ? "build"
                           : "production");
    if (sub == SUB_BUILD) {
        x.phase = "build";
        o = build_phase(&x, argv + i, cli.from_cache);
    } else if (sub == SUB_RUN) {
        struct run_opts ro = {cli.ready, cli.ready_timeout, cli.keep_on_timeout};

        x.phase = "run";
        o = run_phase(&x, argv + i, &ro);
    } else {
        x.phase = point <= PT_POST_BUILD ? "build" : "run";
        o = hook_phase(&x, (enum point)point);
    }
    events_emit("phase_end", "sphase", x.phase, "istatus", (int64_t)o.status, "ssignal",
                o.signal ? signal_name(o.signal) : NULL, EV_END);
    events_emit("exit", "istatus", (int64_t)o.status, "ssignal",
                o.signal ? signal_name(o.signal) : NULL, EV_END);
    events_close();
    envfile_cleanup();
    config_free(&cfg);
    free(root);
    free(notify);
    if (o.signal)
        signals_reraise(o.signal);
    return o.status;
}
