/*
 * config.c — reads ccwrap.conf with libconfuse (SPEC §8) into a plain struct config.
 * The only file that includes <confuse.h>; every error names FILE:LINE and the fix.
 */
#include "ccwrap.h"

#include <confuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static const char *const legacy_words[] = {"run", "ignore", "fail", NULL};
static const char *const on_timeout_words[] = {"stop", "keep", NULL};

/* Where an error is reported: set before cfg_parse for the error callback. */
static const char *current_file;
static bool reported;

static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    char text[512];

    /* fmt comes from libconfuse itself, never from the file (STYLE.md). */
    vsnprintf(text, sizeof text, fmt, ap);
    log_error("%s:%d: %s", current_file, cfg ? cfg->line : 0, text);
    reported = true;
}

static int word_index(const char *const *words, const char *w)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(words[i], w) == 0)
            return i;
    return -1;
}

static int validate_word(cfg_t *cfg, cfg_opt_t *opt, const char *const *words, const char *list)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);

    if (word_index(words, v) < 0) {
        cfg_error(cfg, "%s must be one of %s, not '%s'", cfg_opt_name(opt), list, v);
        return -1;
    }
    return 0;
}

static int validate_legacy(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, legacy_words, "run, ignore, fail");
}

static int validate_on_timeout(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, on_timeout_words, "stop, keep");
}

static int validate_seconds(cfg_t *cfg, cfg_opt_t *opt, long min, long max)
{
    long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

    if (v < min || v > max) {
        cfg_error(cfg, "%s must be a whole number of seconds from %ld to %ld, not %ld",
                  cfg_opt_name(opt), min, max, v);
        return -1;
    }
    return 0;
}

static int validate_timeout(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_seconds(cfg, opt, 0, 86400);
}

static int validate_grace(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_seconds(cfg, opt, 0, 3600);
}

static int validate_shell(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);

    if (!v || v[0] != '/') {
        cfg_error(cfg, "shell must be an absolute path such as \"/bin/sh\", not '%s'", v ? v : "");
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

/*
 * libconfuse turns ${VAR} of an unset variable into "" without a word: a hooks_dirs or shell
 * that silently became empty is worse than an error.
 */
static int check_unset_variables(const char *file)
{
    FILE *f = fopen(file, "re");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;

    if (!f)
        return 0;
    while (getline(&line, &cap, f) > 0) {
        const char *p = line;

        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#')
            continue;
        for (p = strstr(p, "${"); p; p = strstr(p + 2, "${")) {
            size_t n = strcspn(p + 2, "}:-");
            char name[256];

            if (p[2 + n] != '}' || n == 0 || n >= sizeof name)
                continue;
            memcpy(name, p + 2, n);
            name[n] = '\0';
            if (!getenv(name)) {
                log_error("%s:%d: ${%s} is not set; set it, or give a default with ${%s:-value}",
                          file, lineno, name, name);
                rc = -1;
                break;
            }
        }
        if (rc)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

static char *find_file(const char *explicit_file, const char *root, bool *must_exist)
{
    const char *env = getenv("CCWRAP_CONFIG");
    char *p;

    *must_exist = true;
    if (explicit_file)
        return xstrdup(explicit_file);
    if (env && *env)
        return xstrdup(env);
    *must_exist = false;
    p = xasprintf("%s/ccwrap.conf", root);
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    p = xstrdup(SYSCONFDIR "/ccwrap/ccwrap.conf");
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    return NULL;
}

static void set_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    c->shell = xstrdup("/bin/sh");
    c->hooks_dirs = xcalloc(1, sizeof *c->hooks_dirs);
    c->hooks_dirs[0] = xstrdup("hooks.d");
    c->n_hooks_dirs = 1;
    c->hook_timeout = 0;
    c->kill_grace = 10;
    c->legacy = LEGACY_RUN;
    c->ready = xstrdup("tcp");
    c->ready_timeout = 60;
    c->on_ready_timeout = ON_TIMEOUT_STOP;
}

static int read_file(struct config *c, const char *file)
{
    cfg_opt_t opts[] = {
        CFG_STR("shell", "/bin/sh", CFGF_NONE),
        CFG_STR_LIST("hooks_dirs", "{hooks.d}", CFGF_NONE),
        CFG_INT("hook_timeout", 0, CFGF_NONE),
        CFG_INT("kill_grace", 10, CFGF_NONE),
        CFG_STR("legacy_post_deploy", "run", CFGF_NONE),
        CFG_STR("ready", "tcp", CFGF_NONE),
        CFG_INT("ready_timeout", 60, CFGF_NONE),
        CFG_STR("on_ready_timeout", "stop", CFGF_NONE),
        CFG_END(),
    };
    struct stat st;
    cfg_t *cfg;
    int rc;

    if (stat(file, &st) < 0) {
        log_error("%s: cannot read the configuration: %s", file, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        log_error("%s: is a folder; name the configuration file itself", file);
        return -1;
    }
    if (check_unset_variables(file) < 0)
        return -1;

    cfg = cfg_init(opts, CFGF_NONE);
    if (!cfg) {
        log_error("%s: cannot set up the configuration parser: %s", file, strerror(errno));
        return -1;
    }
    cfg_set_error_function(cfg, on_confuse_error);
    cfg_set_validate_func(cfg, "shell", validate_shell);
    cfg_set_validate_func(cfg, "hooks_dirs", validate_dirs);
    cfg_set_validate_func(cfg, "hook_timeout", validate_timeout);
    cfg_set_validate_func(cfg, "kill_grace", validate_grace);
    cfg_set_validate_func(cfg, "ready_timeout", validate_timeout);
    cfg_set_validate_func(cfg, "legacy_post_deploy", validate_legacy);
    cfg_set_validate_func(cfg, "on_ready_timeout", validate_on_timeout);

    current_file = file;
    reported = false;
    rc = cfg_parse(cfg, file);
    if (rc != CFG_SUCCESS) {
        if (rc == CFG_FILE_ERROR)
            log_error("%s: cannot read the configuration: %s", file, strerror(errno));
        else if (!reported)
            log_error("%s: cannot parse the configuration", file);
        cfg_free(cfg);
        return -1;
    }

    free(c->shell);
    c->shell = xstrdup(cfg_getstr(cfg, "shell"));
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        free(c->hooks_dirs[i]);
    free(c->hooks_dirs);
    c->n_hooks_dirs = cfg_size(cfg, "hooks_dirs");
    c->hooks_dirs = xcalloc(c->n_hooks_dirs + 1, sizeof *c->hooks_dirs);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        c->hooks_dirs[i] = xstrdup(cfg_getnstr(cfg, "hooks_dirs", (unsigned)i));
    c->hook_timeout = cfg_getint(cfg, "hook_timeout");
    c->kill_grace = cfg_getint(cfg, "kill_grace");
    c->legacy = (enum legacy_mode)word_index(legacy_words, cfg_getstr(cfg, "legacy_post_deploy"));
    free(c->ready);
    c->ready = xstrdup(cfg_getstr(cfg, "ready"));
    c->ready_timeout = cfg_getint(cfg, "ready_timeout");
    c->on_ready_timeout =
        (enum on_timeout)word_index(on_timeout_words, cfg_getstr(cfg, "on_ready_timeout"));
    cfg_free(cfg);
    return 0;
}

int config_load(struct config *c, const char *explicit_file, const char *root)
{
    bool must_exist;
    char *file = find_file(explicit_file, root, &must_exist);

    set_defaults(c);
    if (!file)
        return 0;
    if (must_exist && access(file, F_OK) < 0) {
        log_error("%s: no such configuration file; fix --config or CCWRAP_CONFIG", file);
        free(file);
        return -1;
    }
    c->file = file;
    return read_file(c, file);
}

void config_free(struct config *c)
{
    free(c->file);
    free(c->shell);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        free(c->hooks_dirs[i]);
    free(c->hooks_dirs);
    free(c->ready);
    memset(c, 0, sizeof *c);
}
