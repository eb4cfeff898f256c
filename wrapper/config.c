/*
 * config.c — the options of ccwrap.conf (§8): one table names each, its default and its
 * check; libconfuse reads a file's text against it into a plain struct config, and a file
 * with no options gives the defaults. The only file that includes <confuse.h>; every error
 * names FILE:LINE and the fix. What comes before (the file's text) is conftext.c's, what
 * comes after (which file, trust, the environment) confload.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "storespec.h"
#include "config.h"
#include "config_int.h"

#include <confuse.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word option's words (index = enum value), and how a message lists them. */
struct words {
    const char *const *v;
    const char *list;
};

static const struct words legacy_words = {(const char *const[]){"run", "ignore", "fail", NULL},
                                          "run, ignore, fail"};
static const struct words misplaced_words = {(const char *const[]){"skip", "run", NULL},
                                             "skip, run"};
static const struct words stop_keep = {(const char *const[]){"stop", "keep", NULL}, "stop, keep"};
static const struct words bool_words = {(const char *const[]){"false", "true", NULL},
                                        "true, false"};

/* A number option's unit in messages, its bounds, and what 0 means ("all"), if anything. */
struct range {
    const char *unit;
    long min, max;
    const char *zero;
};

static const struct range day = {"seconds", 0, 86400, NULL};
static const struct range hour = {"seconds", 0, 3600, NULL};
static const struct range archives = {"archives", 0, 10000, " (all)"};
static const struct range entries = {"entries", 1, (long)CACHE_MAX_ENTRIES_LIMIT, NULL};

/* What the libconfuse callbacks need, set before cfg_parse_buf: they get no user data. */
static const char *current_file; /* as shown to the user */
static bool reported;
static int ready_line, shell_line;

/* An option of the file: how it is written, its default, how it is checked. */
struct option {
    const char *name;
    const char *def; /* as the file would write it; a list's as libconfuse's "{a,b}" */
    bool list;
    const struct words *words;     /* one of these words */
    const struct range *range;     /* a whole number */
    cfg_validate_callback_t check; /* else this check, or none */
};

static const struct option *option_named(const char *name);

/* An option's value for an error message: 'value', or no value at all when it came from ${VAR}. */
static const char *shown_value(cfg_t *cfg, const char *v)
{
    static char buf[600];
    char *s;

    if (config_line_variable(cfg ? cfg->line : -1))
        return "the value given with ${...} (not shown)";
    s = shown_text(v);
    snprintf(buf, sizeof buf, "'%s'", s);
    free(s);
    return buf;
}

/* "shell, hooks_dirs, … and env_files": every option, for the fix of a misspelt one. */
static const char *option_names(void);

static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    char text[512];

    /* fmt comes from libconfuse itself, never from the file: a file name may hold a %. */
    vsnprintf(text, sizeof text, fmt, ap);
    if (strncmp(fmt, "no such option", 14) == 0)
        log_error("%s:%d: %s; the options are %s", current_file, cfg ? cfg->line : 0, text,
                  option_names());
    else
        log_error("%s:%d: %s", current_file, cfg ? cfg->line : 0, text);
    reported = true;
}

static int word_index(const struct words *words, const char *w)
{
    for (int i = 0; words->v[i]; i++)
        if (strcmp(words->v[i], w) == 0)
            return i;
    return -1;
}

int config_word(const char *name, const char *value)
{
    return word_index(option_named(name)->words, value);
}

static const char *last_value(cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);

    return v ? v : "";
}

static int validate_word(cfg_t *cfg, cfg_opt_t *opt)
{
    const struct option *o = option_named(cfg_opt_name(opt));
    const char *v = last_value(opt);

    if (word_index(o->words, v) < 0) {
        cfg_error(cfg, "%s must be one of %s, not %s", o->name, o->words->list,
                  shown_value(cfg, v));
        return -1;
    }
    return 0;
}

/* Numbers are read as strings and parsed here: libconfuse takes 0x10 and 010 (eight). */
static int validate_number(cfg_t *cfg, cfg_opt_t *opt)
{
    const struct option *o = option_named(cfg_opt_name(opt));
    const char *v = last_value(opt);
    long n;

    const struct range *r = o->range;

    if (parse_long(v, r->min, r->max, &n) < 0) {
        cfg_error(cfg, "%s must be a whole number of %s from %ld%s to %ld, not %s", o->name,
                  r->unit, r->min, r->zero ? r->zero : "", r->max, shown_value(cfg, v));
        return -1;
    }
    return 0;
}

/* The build cache store (§10): its syntax here; whether it answers, at build time. */
static int validate_cache(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);
    struct store_spec spec;
    char err[256];

    if (!*v)
        return 0;
    if (store_spec_parse(v, &spec, err, sizeof err) < 0) {
        char *safe = store_spec_shown(v);

        cfg_error(cfg, "cache %s: %s", shown_value(cfg, safe), err);
        free(safe);
        return -1;
    }
    store_spec_free(&spec);
    return 0;
}

/* cache_sign_key, cache_verify_key: the absolute path of a PEM key file (never the key). */
static int validate_key_path(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);

    if (*v && v[0] != '/') {
        cfg_error(cfg, "%s %s: give the absolute path of a PEM key file", opt->name,
                  shown_value(cfg, v));
        return -1;
    }
    return 0;
}

/* cache_max_bytes: "64G", "500M", "1073741824". */
static int validate_max_bytes(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);
    uint64_t n;

    if (cache_size_parse(v, &n) < 0 || n == 0) {
        cfg_error(cfg,
                  "cache_max_bytes must be a whole number of bytes from 1, with K, M, G or T for "
                  "KiB, MiB, GiB or TiB, at most 1024T, not %s",
                  shown_value(cfg, v));
        return -1;
    }
    return 0;
}

static int validate_dirs(cfg_t *cfg, cfg_opt_t *opt)
{
    for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
        const char *v = cfg_opt_getnstr(opt, i);

        if (!v || !*v) {
            cfg_error(cfg, "hooks_dirs holds an empty folder name; remove it");
            return -1;
        }
    }
    return 0;
}

/* The readiness spec is checked by the run phase, which names where it was set. */
static int note_ready(cfg_t *cfg, cfg_opt_t *opt)
{
    (void)opt;
    ready_line = cfg->line;
    return 0;
}

static int note_shell(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);

    if (v[0] != '/') {
        cfg_error(cfg, "shell must be an absolute path such as \"/bin/sh\", not %s",
                  shown_value(cfg, v));
        return -1;
    }
    shell_line = cfg->line;
    return 0;
}

/* A user name or a uid. 0, or -1. */
int config_user_uid(const char *s, uid_t *uid)
{
    struct passwd *pw = getpwnam(s);
    long n;

    if (pw) {
        *uid = pw->pw_uid;
        return 0;
    }
    if (parse_long(s, 0, 2147483646L, &n) < 0)
        return -1;
    *uid = (uid_t)n;
    return 0;
}

static int validate_users(cfg_t *cfg, cfg_opt_t *opt)
{
    for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
        const char *v = cfg_opt_getnstr(opt, i);
        uid_t uid;

        if (!v || config_user_uid(v, &uid) < 0) {
            cfg_error(cfg, "trusted_users: no user %s on this system; give a user name or uid",
                      shown_value(cfg, v ? v : ""));
            return -1;
        }
    }
    return 0;
}

/*
 * The options, in the order the "no such option" message lists them. conf/ccwrap.conf spells
 * each out at its default for users; this table is what ccwrap goes by.
 */
static const struct option options[] = {
    {.name = "shell", .def = "/bin/sh", .check = note_shell},
    {.name = "hooks_dirs", .def = "{hooks.d}", .list = true, .check = validate_dirs},
    {.name = "hook_timeout", .def = "0", .range = &day},
    {.name = "kill_grace", .def = "10", .range = &hour},
    {.name = "legacy_post_deploy", .def = "run", .words = &legacy_words},
    {.name = "legacy_misplaced", .def = "skip", .words = &misplaced_words},
    {.name = "ready", .def = "tcp", .check = note_ready},
    {.name = "ready_timeout", .def = "60", .range = &day},
    {.name = "on_ready_timeout", .def = "stop", .words = &stop_keep},
    {.name = "leftovers", .def = "stop", .words = &stop_keep},
    {.name = "exec_in_place", .def = "true", .words = &bool_words},
    {.name = "trusted_users", .def = "{}", .list = true, .check = validate_users},
    {.name = "trust_expansions", .def = "false", .words = &bool_words},
    {.name = "cache", .def = "", .check = validate_cache},
    {.name = "cache_key", .def = ""},
    {.name = "cache_keep", .def = "2", .range = &archives},
    {.name = "cache_max_bytes", .def = "64G", .check = validate_max_bytes},
    {.name = "cache_max_entries", .def = "10000000", .range = &entries},
    {.name = "cache_sign_key", .def = "", .check = validate_key_path},
    {.name = "cache_verify_key", .def = "", .check = validate_key_path},
    {.name = "env_files", .def = "{}", .list = true},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const struct option *option_named(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    abort(); /* only ever called with a name of the table */
}

static const char *option_names(void)
{
    static char text[512];
    size_t len = 0;

    if (text[0])
        return text;
    for (size_t i = 0; i < N_OPTIONS && len < sizeof text; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s",
                                i == 0              ? ""
                                : i + 1 < N_OPTIONS ? ", "
                                                    : " and ",
                                options[i].name);
    return text;
}

/* libconfuse's parser for the table, OPTS its room. NULL after reporting (FILE: the file). */
static cfg_t *schema(cfg_opt_t opts[N_OPTIONS + 1], const char *file)
{
    cfg_t *cfg;

    for (size_t i = 0; i < N_OPTIONS; i++) {
        /* libconfuse's macros take a default it never writes to. */
        char *def = (char *)options[i].def;

        opts[i] = options[i].list ? (cfg_opt_t)CFG_STR_LIST(options[i].name, def, CFGF_NONE)
                                  : (cfg_opt_t)CFG_STR(options[i].name, def, CFGF_NONE);
    }
    opts[N_OPTIONS] = (cfg_opt_t)CFG_END();
    cfg = cfg_init(opts, CFGF_NONE);
    if (!cfg) {
        log_error("%s: cannot set up the configuration parser: %s", file, strerror(errno));
        return NULL;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option *o = &options[i];
        cfg_validate_callback_t check = o->words   ? validate_word
                                        : o->range ? validate_number
                                                   : o->check;

        if (check)
            cfg_set_validate_func(cfg, o->name, check);
    }
    return cfg;
}

/* Option NAME's number (checked already, a default too). */
static long number(cfg_t *cfg, const char *name)
{
    const struct option *o = option_named(name);
    long n = 0;

    parse_long(cfg_getstr(cfg, name), o->range->min, o->range->max, &n);
    return n;
}

/* Whether option NAME is at its default ("060" is 60). */
static bool at_default(cfg_t *cfg, const char *name)
{
    const struct option *o = option_named(name);
    long d = 0;

    if (!o->range)
        return strcmp(cfg_getstr(cfg, name), o->def) == 0;
    parse_long(o->def, o->range->min, o->range->max, &d);
    return number(cfg, name) == d;
}

static int word(cfg_t *cfg, const char *name)
{
    return config_word(name, cfg_getstr(cfg, name));
}

/* Option NAME's text, NULL for "". */
static char *text_or_null(cfg_t *cfg, const char *name)
{
    const char *v = cfg_getstr(cfg, name);

    return *v ? xstrdup(v) : NULL;
}

/* "hooks.d/" and "hooks.d" are one folder; the slash would show in every drop-in's name. */
static char *folder_name(const char *s)
{
    size_t n = strlen(s);

    while (n > 1 && s[n - 1] == '/')
        n--;
    return strndup(s, n);
}

/* List option NAME as strings, each made by MAKE, NULL-terminated; *N their number. */
static char **strings(cfg_t *cfg, const char *name, size_t *n, char *(*make)(const char *))
{
    char **v;

    *n = cfg_size(cfg, name);
    v = xcalloc(*n + 1, sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = make(cfg_getnstr(cfg, name, (unsigned)i));
    return v;
}

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* What the options set in *C, freed. */
static void free_values(struct config *c)
{
    free(c->shell);
    strings_free(c->hooks_dirs, c->n_hooks_dirs);
    strings_free(c->env_files, c->n_env_files);
    free(c->ready);
    free(c->trusted_uids);
    free(c->cache_store);
    free(c->cache_key);
    free(c->cache_sign_key);
    free(c->cache_verify_key);
}

/* Every option's value in CFG into *C, its previous values freed. */
static void take_values(struct config *c, cfg_t *cfg)
{
    free_values(c);
    c->shell = xstrdup(cfg_getstr(cfg, "shell"));
    c->hooks_dirs = strings(cfg, "hooks_dirs", &c->n_hooks_dirs, folder_name);
    c->env_files = strings(cfg, "env_files", &c->n_env_files, xstrdup);
    c->hook_timeout = number(cfg, "hook_timeout");
    c->kill_grace = number(cfg, "kill_grace");
    c->legacy = (enum legacy_mode)word(cfg, "legacy_post_deploy");
    c->legacy_misplaced = (enum misplaced_mode)word(cfg, "legacy_misplaced");
    c->ready = xstrdup(cfg_getstr(cfg, "ready"));
    c->n_trusted_uids = cfg_size(cfg, "trusted_users");
    c->trusted_uids = xcalloc(c->n_trusted_uids + 1, sizeof *c->trusted_uids);
    for (size_t i = 0; i < c->n_trusted_uids; i++)
        config_user_uid(cfg_getnstr(cfg, "trusted_users", (unsigned)i), &c->trusted_uids[i]);
    c->ready_timeout = number(cfg, "ready_timeout");
    c->on_ready_timeout = (enum on_timeout)word(cfg, "on_ready_timeout");
    c->leftovers = (enum leftovers)word(cfg, "leftovers");
    c->cache_store = text_or_null(cfg, "cache");
    c->cache_key = text_or_null(cfg, "cache_key");
    c->cache_keep = number(cfg, "cache_keep");
    cache_size_parse(cfg_getstr(cfg, "cache_max_bytes"), &c->cache_max_bytes);
    c->cache_max_entries = (uint64_t)number(cfg, "cache_max_entries");
    c->cache_sign_key = text_or_null(cfg, "cache_sign_key");
    c->cache_verify_key = text_or_null(cfg, "cache_verify_key");
    c->exec_in_place = word(cfg, "exec_in_place") == 1;
    c->trust_expansions = word(cfg, "trust_expansions") == 1;
    /* conf/ccwrap.conf spells out the defaults: a file that does asks for nothing. */
    c->readiness_set = !at_default(cfg, "ready") || !at_default(cfg, "ready_timeout") ||
                       !at_default(cfg, "on_ready_timeout");
}

int config_defaults(struct config *c)
{
    cfg_opt_t opts[N_OPTIONS + 1];
    cfg_t *cfg = schema(opts, "the built-in configuration");

    memset(c, 0, sizeof *c);
    if (!cfg)
        return -1;
    take_values(c, cfg);
    cfg_free(cfg);
    return 0;
}

int config_parse(struct config *c, char *buf, const char *file)
{
    cfg_opt_t opts[N_OPTIONS + 1];
    const char *ready_variable;
    cfg_t *cfg;

    if (config_prescan(buf, file) < 0)
        return -1;
    cfg = schema(opts, file);
    if (!cfg)
        return -1;
    cfg_set_error_function(cfg, on_confuse_error);
    current_file = file;
    reported = false;
    ready_line = shell_line = 0;
    if (cfg_parse_buf(cfg, buf) != CFG_SUCCESS) {
        if (!reported)
            log_error("%s: cannot parse the configuration", file);
        cfg_free(cfg);
        return -1;
    }
    take_values(c, cfg);
    if (ready_line > 0) {
        free(c->ready_origin);
        c->ready_origin = xasprintf("%s:%d", file, ready_line);
    }
    ready_variable = config_line_variable(ready_line);
    c->ready_hidden = ready_variable != NULL;
    free(c->ready_variable);
    c->ready_variable = ready_variable ? xstrdup(ready_variable) : NULL;
    c->shell_hidden = config_line_variable(shell_line) != NULL;
    cfg_free(cfg);
    return 0;
}

void config_free(struct config *c)
{
    free(c->file);
    free_values(c);
    free(c->ready_origin);
    free(c->ready_variable);
    memset(c, 0, sizeof *c);
}
