/*
 * config.c — reads ccwrap.conf with libconfuse (SPEC §8) into a plain struct config.
 * The only file that includes <confuse.h>; every error names FILE:LINE and the fix.
 * prescan() covers what libconfuse 3.3 gets wrong: see there.
 */
#include "ccwrap.h"
#include "storespec.h"

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
static const char *const misplaced_words[] = {"skip", "run", NULL};
static const char *const leftovers_words[] = {"stop", "keep", NULL};
static const char *const bool_words[] = {"false", "true", NULL};

#define CONFIG_MAX (1 << 20)

/* What the libconfuse callbacks need, set before cfg_parse_buf: they get no user data. */
static const char *current_file; /* as shown to the user */
static bool reported;
static int ready_line;
/*
 * Lines holding ${VAR}: an error about their value must not print it (it may be a secret).
 * Each holds the name of its first variable, or of its first empty one, for the fix.
 */
static char **var_lines;
static int n_var_lines;

static bool line_has_variable(int line)
{
    return line >= 0 && line < n_var_lines && var_lines[line];
}

static void forget_variables(void)
{
    for (int i = 0; i < n_var_lines; i++)
        free(var_lines[i]);
    free(var_lines);
    var_lines = NULL;
    n_var_lines = 0;
}

static bool is_empty_variable(const char *name)
{
    const char *v = getenv(name);

    return v && !*v;
}

/* NAME appears on LINE. */
static void note_variable(int line, const char *name, size_t len)
{
    char *n;

    if (line >= n_var_lines) {
        int more = line * 2 + 16;

        var_lines = xrealloc(var_lines, (size_t)more * sizeof *var_lines);
        memset(var_lines + n_var_lines, 0, (size_t)(more - n_var_lines) * sizeof *var_lines);
        n_var_lines = more;
    }
    n = strndup(name, len);
    if (!n)
        return;
    if (var_lines[line] && (is_empty_variable(var_lines[line]) || !is_empty_variable(n))) {
        free(n);
        return;
    }
    free(var_lines[line]);
    var_lines[line] = n;
}

/* An option's value for an error message: 'value', or no value at all when it came from ${VAR}. */
static const char *shown_value(cfg_t *cfg, const char *v)
{
    static char buf[600];
    char *s;

    if (line_has_variable(cfg ? cfg->line : -1))
        return "the value given with ${...} (not shown)";
    s = shown_text(v);
    snprintf(buf, sizeof buf, "'%s'", s);
    free(s);
    return buf;
}

static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    char text[512];

    /* fmt comes from libconfuse itself, never from the file (STYLE.md). */
    vsnprintf(text, sizeof text, fmt, ap);
    if (strncmp(fmt, "no such option", 14) == 0)
        log_error("%s:%d: %s; the options are shell, hooks_dirs, hook_timeout, kill_grace, "
                  "legacy_post_deploy, legacy_misplaced, ready, ready_timeout, on_ready_timeout, "
                  "leftovers, exec_in_place, trusted_users, trust_expansions, cache, cache_key, "
                  "cache_keep, cache_max_bytes, cache_max_entries, cache_sign_key, "
                  "cache_verify_key and env_files",
                  current_file, cfg ? cfg->line : 0, text);
    else
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

static const char *last_value(cfg_opt_t *opt)
{
    const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);

    return v ? v : "";
}

static int validate_word(cfg_t *cfg, cfg_opt_t *opt, const char *const *words, const char *list)
{
    const char *v = last_value(opt);

    if (word_index(words, v) < 0) {
        cfg_error(cfg, "%s must be one of %s, not %s", cfg_opt_name(opt), list,
                  shown_value(cfg, v));
        return -1;
    }
    return 0;
}

static int validate_legacy(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, legacy_words, "run, ignore, fail");
}

static int validate_misplaced(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, misplaced_words, "skip, run");
}

static int validate_on_timeout(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, on_timeout_words, "stop, keep");
}

static int validate_leftovers(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, leftovers_words, "stop, keep");
}

static int validate_bool(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_word(cfg, opt, bool_words, "true, false");
}

/* Numbers are read as strings and parsed here: libconfuse takes 0x10 and 010 (eight). */
static int validate_seconds(cfg_t *cfg, cfg_opt_t *opt, long max)
{
    const char *v = last_value(opt);
    long n;

    if (parse_long(v, 0, max, &n) < 0) {
        cfg_error(cfg, "%s must be a whole number of seconds from 0 to %ld, not %s",
                  cfg_opt_name(opt), max, shown_value(cfg, v));
        return -1;
    }
    return 0;
}

static int validate_timeout(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_seconds(cfg, opt, 86400);
}

/* The build cache store (SPEC §10): its syntax here; whether it answers, at build time. */
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

static int validate_keep(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);
    long n;

    if (parse_long(v, 0, 10000, &n) < 0) {
        cfg_error(cfg,
                  "cache_keep must be a whole number of archives from 0 (all) to 10000, "
                  "not %s",
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

static int validate_max_entries(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);
    long n;

    if (parse_long(v, 1, (long)CACHE_MAX_ENTRIES_LIMIT, &n) < 0) {
        cfg_error(cfg,
                  "cache_max_entries must be a whole number of entries from 1 to 1000000000, "
                  "not %s",
                  shown_value(cfg, v));
        return -1;
    }
    return 0;
}

static int validate_grace(cfg_t *cfg, cfg_opt_t *opt)
{
    return validate_seconds(cfg, opt, 3600);
}

static int validate_shell(cfg_t *cfg, cfg_opt_t *opt)
{
    const char *v = last_value(opt);

    if (v[0] != '/') {
        cfg_error(cfg, "shell must be an absolute path such as \"/bin/sh\", not %s",
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

static int shell_line;

static int note_shell(cfg_t *cfg, cfg_opt_t *opt)
{
    if (validate_shell(cfg, opt) < 0)
        return -1;
    shell_line = cfg->line;
    return 0;
}

/* A user name or a uid. 0, or -1. */
static int user_uid(const char *s, uid_t *uid)
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

        if (!v || user_uid(v, &uid) < 0) {
            cfg_error(cfg, "trusted_users: no user %s on this system; give a user name or uid",
                      shown_value(cfg, v ? v : ""));
            return -1;
        }
    }
    return 0;
}

/* ${NAME} as libconfuse expands it: "" when unset, unless written ${NAME:-default}. */
static int check_variable(const char *p, const char *display, int line)
{
    const char *close = strchr(p + 2, '}');
    const char *colon;
    char *name;
    int rc = 0;

    note_variable(line, p + 2, close ? strcspn(p + 2, ":}") : 0);
    if (!close)
        return 0;
    colon = memchr(p + 2, ':', (size_t)(close - p - 2));
    if (colon && colon[1] == '-')
        return 0;
    name = strndup(p + 2, (size_t)(close - p - 2));
    if (!name || !getenv(name)) {
        log_error("%s:%d: ${%s} is not set; set it, or give a default with ${%s:-value}", display,
                  line, name ? name : "", name ? name : "");
        rc = -1;
    }
    free(name);
    return rc;
}

/*
 * A pass over the text that follows libconfuse's lexer, for what libconfuse 3.3 gets wrong:
 * it accepts a string, a comment or a '{' left open at the end of the file, it makes ${VAR}
 * of an unset variable "", and it counts a '#' or '//' comment as three lines and a '/ *'
 * comment as one more. Reports the first of the others, and blanks the comments (keeping
 * their newlines) so that libconfuse's line numbers are the file's. 0, or -1 after reporting.
 */
static int prescan(char *buf, const char *display)
{
    enum { CODE, LINE_COMMENT, BLOCK_COMMENT, DQ, SQ } state = CODE;
    int line = 1, opened = 0, brace_line = 0, depth = 0;
    bool word = false; /* inside an unquoted word, where '//' and '/ *' are plain text */

    for (char *p = buf; *p; p++) {
        switch (state) {
        case CODE:
            if (*p == '#' || (!word && p[0] == '/' && p[1] == '/')) {
                state = LINE_COMMENT;
                *p = ' ';
            } else if (!word && p[0] == '/' && p[1] == '*') {
                state = BLOCK_COMMENT;
                opened = line;
                p[0] = p[1] = ' ';
                p++;
            } else if (*p == '"' || *p == '\'') {
                state = *p == '"' ? DQ : SQ;
                opened = line;
                word = false;
            } else if (!word && p[0] == '$' && p[1] == '{') {
                if (check_variable(p, display, line) < 0)
                    return -1;
                word = true;
            } else if (strchr(" \t\r\n={}()+,*", *p)) {
                word = false;
                if (*p == '\n')
                    line++;
                else if (*p == '{' && depth++ == 0)
                    brace_line = line;
                else if (*p == '}' && depth > 0)
                    depth--;
            } else {
                word = true;
            }
            break;
        case LINE_COMMENT:
            if (*p == '\n') {
                state = CODE;
                line++;
            } else {
                *p = ' ';
            }
            break;
        case BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') {
                state = CODE;
                p[0] = p[1] = ' ';
                p++;
            } else if (*p == '\n') {
                line++;
            } else {
                *p = ' ';
            }
            break;
        case DQ:
        case SQ:
            if (*p == '\\' && p[1] &&
                (state == DQ || p[1] == '\\' || p[1] == '\'' || p[1] == '\n')) {
                if (*++p == '\n')
                    line++;
            } else if (*p == (state == DQ ? '"' : '\'')) {
                state = CODE;
            } else if (*p == '\n') {
                line++;
            } else if (state == DQ && p[0] == '$' && p[1] == '{' &&
                       check_variable(p, display, line) < 0) {
                return -1;
            }
            break;
        }
    }
    if (state == DQ || state == SQ) {
        log_error("%s:%d: this string is never closed; add the closing %s", display, opened,
                  state == DQ ? "\"" : "'");
        return -1;
    }
    if (state == BLOCK_COMMENT) {
        log_error("%s:%d: this comment is never closed; add */", display, opened);
        return -1;
    }
    if (depth > 0) {
        log_error("%s:%d: this '{' is never closed; add its '}'", display, brace_line);
        return -1;
    }
    return 0;
}

/* The whole file as a string. NULL after reporting. */
static char *slurp(const char *path, const char *display)
{
    char *buf = NULL;
    size_t len = 0, cap;
    ssize_t n;
    struct stat st;
    /* O_NONBLOCK: a FIFO named as the configuration must be refused, not waited on. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0 || fstat(fd, &st) < 0) {
        log_error("%s: cannot read the configuration: %s", display, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        log_error("%s: is a folder; name the configuration file itself", display);
        goto fail;
    }
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        log_error("%s: not a regular file; name the configuration file itself", display);
        goto fail;
    }
    /* Sized by the file, grown if it grows (or is a device): no 1 MiB mapping for 200 bytes. */
    cap = st.st_size > 0 && st.st_size < CONFIG_MAX ? (size_t)st.st_size + 1 : 4096;
    buf = xmalloc(cap + 1);
    while (len < CONFIG_MAX && (n = read(fd, buf + len, cap - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("%s: cannot read the configuration: %s", display, strerror(errno));
            goto fail;
        }
        len += (size_t)n;
        if (len == cap && cap < CONFIG_MAX) {
            cap = cap * 2 > CONFIG_MAX ? CONFIG_MAX : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    if (len == CONFIG_MAX) {
        log_error("%s: larger than 1 MiB; is it the configuration file?", display);
        goto fail;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        log_error("%s: holds a NUL byte; is it the configuration file?", display);
        goto fail;
    }
    close(fd);
    return buf;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

/* Same folder, whatever the spelling. */
static bool same_folder(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/*
 * The file to read, as shown to the user: as given with --config or $CCWRAP_CONFIG,
 * "ccwrap.conf" for ROOT/ccwrap.conf when the root is the working folder, else the full
 * path. *named_by is the option or variable that named it, NULL when searched for.
 */
static char *find_file(const char *explicit_file, const char *root, const char **named_by)
{
    const char *env = getenv("CCWRAP_CONFIG");
    struct stat st;
    char *p;

    *named_by = NULL;
    if (explicit_file) {
        *named_by = "--config";
        return xstrdup(explicit_file);
    }
    if (env && *env) {
        *named_by = "CCWRAP_CONFIG";
        return xstrdup(env);
    }
    /* lstat: a ccwrap.conf that is a broken symlink is an error, not "no file". */
    p = xasprintf("%s/ccwrap.conf", root);
    if (lstat(p, &st) == 0) {
        if (same_folder(root, ".")) {
            free(p);
            return xstrdup("ccwrap.conf");
        }
        return p;
    }
    free(p);
    p = xstrdup(SYSCONFDIR "/ccwrap/ccwrap.conf");
    if (lstat(p, &st) == 0)
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
    c->legacy_misplaced = MISPLACED_SKIP;
    c->ready = xstrdup("tcp");
    c->ready_timeout = 60;
    c->on_ready_timeout = ON_TIMEOUT_STOP;
    c->leftovers = LEFTOVERS_STOP;
    c->cache_keep = 2;
    c->cache_max_bytes = CACHE_MAX_BYTES;
    c->cache_max_entries = CACHE_MAX_ENTRIES;
    c->exec_in_place = true;
}

static long seconds(cfg_t *cfg, const char *name)
{
    long n = 0;

    /* Validated already; parse_long fills n. */
    parse_long(cfg_getstr(cfg, name), 0, 86400, &n);
    return n;
}

/* "hooks.d/" and "hooks.d" are one folder; the slash would show in every drop-in's name. */
static char *folder_name(const char *s)
{
    size_t n = strlen(s);

    while (n > 1 && s[n - 1] == '/')
        n--;
    return strndup(s, n);
}

int config_parse(struct config *c, char *buf, const char *file)
{
    cfg_opt_t opts[] = {
        CFG_STR("shell", "/bin/sh", CFGF_NONE),
        CFG_STR_LIST("hooks_dirs", "{hooks.d}", CFGF_NONE),
        CFG_STR("hook_timeout", "0", CFGF_NONE),
        CFG_STR("kill_grace", "10", CFGF_NONE),
        CFG_STR("legacy_post_deploy", "run", CFGF_NONE),
        CFG_STR("legacy_misplaced", "skip", CFGF_NONE),
        CFG_STR("ready", "tcp", CFGF_NONE),
        CFG_STR("ready_timeout", "60", CFGF_NONE),
        CFG_STR("on_ready_timeout", "stop", CFGF_NONE),
        CFG_STR("leftovers", "stop", CFGF_NONE),
        CFG_STR("exec_in_place", "true", CFGF_NONE),
        CFG_STR_LIST("trusted_users", "{}", CFGF_NONE),
        CFG_STR("trust_expansions", "false", CFGF_NONE),
        CFG_STR("cache", "", CFGF_NONE),
        CFG_STR("cache_key", "", CFGF_NONE),
        CFG_STR("cache_keep", "2", CFGF_NONE),
        CFG_STR("cache_max_bytes", "64G", CFGF_NONE),
        CFG_STR("cache_max_entries", "10000000", CFGF_NONE),
        CFG_STR("cache_sign_key", "", CFGF_NONE),
        CFG_STR("cache_verify_key", "", CFGF_NONE),
        CFG_STR_LIST("env_files", "{}", CFGF_NONE),
        CFG_END(),
    };
    cfg_t *cfg;
    int rc;

    forget_variables();
    if (prescan(buf, file) < 0)
        return -1;
    cfg = cfg_init(opts, CFGF_NONE);
    if (!cfg) {
        log_error("%s: cannot set up the configuration parser: %s", file, strerror(errno));
        return -1;
    }
    cfg_set_error_function(cfg, on_confuse_error);
    cfg_set_validate_func(cfg, "shell", note_shell);
    cfg_set_validate_func(cfg, "trusted_users", validate_users);
    cfg_set_validate_func(cfg, "hooks_dirs", validate_dirs);
    cfg_set_validate_func(cfg, "hook_timeout", validate_timeout);
    cfg_set_validate_func(cfg, "kill_grace", validate_grace);
    cfg_set_validate_func(cfg, "ready_timeout", validate_timeout);
    cfg_set_validate_func(cfg, "legacy_post_deploy", validate_legacy);
    cfg_set_validate_func(cfg, "legacy_misplaced", validate_misplaced);
    cfg_set_validate_func(cfg, "on_ready_timeout", validate_on_timeout);
    cfg_set_validate_func(cfg, "leftovers", validate_leftovers);
    cfg_set_validate_func(cfg, "exec_in_place", validate_bool);
    cfg_set_validate_func(cfg, "trust_expansions", validate_bool);
    cfg_set_validate_func(cfg, "ready", note_ready);
    cfg_set_validate_func(cfg, "cache", validate_cache);
    cfg_set_validate_func(cfg, "cache_keep", validate_keep);
    cfg_set_validate_func(cfg, "cache_max_bytes", validate_max_bytes);
    cfg_set_validate_func(cfg, "cache_max_entries", validate_max_entries);
    cfg_set_validate_func(cfg, "cache_sign_key", validate_key_path);
    cfg_set_validate_func(cfg, "cache_verify_key", validate_key_path);

    current_file = file;
    reported = false;
    ready_line = shell_line = 0;
    rc = cfg_parse_buf(cfg, buf);
    if (rc != CFG_SUCCESS) {
        if (!reported)
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
        c->hooks_dirs[i] = folder_name(cfg_getnstr(cfg, "hooks_dirs", (unsigned)i));
    for (size_t i = 0; i < c->n_env_files; i++)
        free(c->env_files[i]);
    free(c->env_files);
    c->n_env_files = cfg_size(cfg, "env_files");
    c->env_files = xcalloc(c->n_env_files + 1, sizeof *c->env_files);
    for (size_t i = 0; i < c->n_env_files; i++)
        c->env_files[i] = xstrdup(cfg_getnstr(cfg, "env_files", (unsigned)i));
    c->hook_timeout = seconds(cfg, "hook_timeout");
    c->kill_grace = seconds(cfg, "kill_grace");
    c->legacy = (enum legacy_mode)word_index(legacy_words, cfg_getstr(cfg, "legacy_post_deploy"));
    c->legacy_misplaced =
        (enum misplaced_mode)word_index(misplaced_words, cfg_getstr(cfg, "legacy_misplaced"));
    free(c->ready);
    c->ready = xstrdup(cfg_getstr(cfg, "ready"));
    if (ready_line > 0) {
        free(c->ready_origin);
        c->ready_origin = xasprintf("%s:%d", file, ready_line);
    }
    c->ready_hidden = line_has_variable(ready_line);
    free(c->ready_variable);
    c->ready_variable = c->ready_hidden ? xstrdup(var_lines[ready_line]) : NULL;
    c->shell_hidden = line_has_variable(shell_line);
    free(c->trusted_uids);
    c->n_trusted_uids = cfg_size(cfg, "trusted_users");
    c->trusted_uids = xcalloc(c->n_trusted_uids + 1, sizeof *c->trusted_uids);
    for (size_t i = 0; i < c->n_trusted_uids; i++)
        user_uid(cfg_getnstr(cfg, "trusted_users", (unsigned)i), &c->trusted_uids[i]);
    c->ready_timeout = seconds(cfg, "ready_timeout");
    c->on_ready_timeout =
        (enum on_timeout)word_index(on_timeout_words, cfg_getstr(cfg, "on_ready_timeout"));
    c->leftovers = (enum leftovers)word_index(leftovers_words, cfg_getstr(cfg, "leftovers"));
    free(c->cache_store);
    c->cache_store = *cfg_getstr(cfg, "cache") ? xstrdup(cfg_getstr(cfg, "cache")) : NULL;
    free(c->cache_key);
    c->cache_key = *cfg_getstr(cfg, "cache_key") ? xstrdup(cfg_getstr(cfg, "cache_key")) : NULL;
    parse_long(cfg_getstr(cfg, "cache_keep"), 0, 10000, &c->cache_keep);
    cache_size_parse(cfg_getstr(cfg, "cache_max_bytes"), &c->cache_max_bytes);
    {
        long n = (long)CACHE_MAX_ENTRIES;

        parse_long(cfg_getstr(cfg, "cache_max_entries"), 1, (long)CACHE_MAX_ENTRIES_LIMIT, &n);
        c->cache_max_entries = (uint64_t)n;
    }
    free(c->cache_sign_key);
    c->cache_sign_key =
        *cfg_getstr(cfg, "cache_sign_key") ? xstrdup(cfg_getstr(cfg, "cache_sign_key")) : NULL;
    free(c->cache_verify_key);
    c->cache_verify_key =
        *cfg_getstr(cfg, "cache_verify_key") ? xstrdup(cfg_getstr(cfg, "cache_verify_key")) : NULL;
    c->exec_in_place = word_index(bool_words, cfg_getstr(cfg, "exec_in_place")) == 1;
    c->trust_expansions = word_index(bool_words, cfg_getstr(cfg, "trust_expansions")) == 1;
    /* conf/ccwrap.conf spells out the defaults: a file that does asks for nothing. */
    c->readiness_set = strcmp(c->ready, "tcp") != 0 || c->ready_timeout != 60 ||
                       c->on_ready_timeout != ON_TIMEOUT_STOP;
    cfg_free(cfg);
    return 0;
}

static int read_file(struct config *c, const char *file)
{
    char *buf = slurp(file, file);
    int rc;

    if (!buf)
        return -1;
    rc = config_parse(c, buf, file);
    free(buf);
    return rc;
}

/* A hooks_dirs entry as merge_dirs compares it. */
struct dir_key {
    const char *name; /* without a leading "./" */
    bool exists;
    dev_t dev;
    ino_t ino;
    size_t index;
};

static int cmp_name(const void *a, const void *b)
{
    const struct dir_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_inode(const void *a, const void *b)
{
    const struct dir_key *x = a, *y = b;

    if (x->exists != y->exists)
        return x->exists ? -1 : 1;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Sorted by CMP, equal keys (index aside) are one folder: all but the last listed are marked
 * in DUP, and the last takes the spelling of the first one still kept, as the user wrote it.
 */
static void mark_earlier(struct dir_key *k, size_t n, int (*cmp)(const void *, const void *),
                         bool by_inode, bool *dup, char **dirs)
{
    qsort(k, n, sizeof *k, cmp);
    for (size_t g = 0, e; g < n; g = e) {
        size_t first = n;

        for (e = g + 1; e < n; e++) {
            bool same = by_inode ? k[g].exists && k[e].exists && k[g].dev == k[e].dev &&
                                       k[g].ino == k[e].ino
                                 : strcmp(k[g].name, k[e].name) == 0;

            if (!same)
                break;
        }
        for (size_t i = g; i + 1 < e; i++) {
            if (first == n && !dup[k[i].index])
                first = k[i].index;
            dup[k[i].index] = true;
        }
        if (first != n) {
            char *t = dirs[first];

            dirs[first] = dirs[k[e - 1].index];
            dirs[k[e - 1].index] = t;
        }
    }
}

/*
 * A folder listed twice ("hooks.d", "./hooks.d", or the same folder by another name) is read
 * once, where it is listed last: there its drop-ins replace the earlier folders' ones, as
 * they did when it was read twice. Sorted, not compared in pairs: 10,000 entries are fine.
 */
static void merge_dirs(struct config *c, const char *root)
{
    struct dir_key *k = xcalloc(c->n_hooks_dirs + 1, sizeof *k);
    bool *dup = xcalloc(c->n_hooks_dirs + 1, sizeof *dup);
    size_t n = c->n_hooks_dirs, j = 0;

    for (size_t i = 0; i < n; i++) {
        const char *a = c->hooks_dirs[i];
        char *path = a[0] == '/' ? xstrdup(a) : xasprintf("%s/%s", root, a);
        struct stat st;

        while (a[0] == '.' && a[1] == '/' && a[2])
            a += 2 + strspn(a + 2, "/");
        k[i].name = a;
        k[i].index = i;
        k[i].exists = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (k[i].exists) {
            k[i].dev = st.st_dev;
            k[i].ino = st.st_ino;
        }
        free(path);
    }
    mark_earlier(k, n, cmp_name, false, dup, c->hooks_dirs);
    mark_earlier(k, n, cmp_inode, true, dup, c->hooks_dirs);
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            free(c->hooks_dirs[i]);
        else
            c->hooks_dirs[j++] = c->hooks_dirs[i];
    }
    c->n_hooks_dirs = j;
    c->hooks_dirs[j] = NULL;
    free(k);
    free(dup);
}

/*
 * The settings that decide what root runs, restores or trusts (SPEC §10): trusted_users
 * widens who may own what ccwrap runs, trust_expansions lets the shell pick it, cache and
 * cache_key choose the archive root extracts, the keys who vouches for it. Only a file that
 * passes the strict rule may set them, or whoever writes ROOT/ccwrap.conf could trust
 * themselves or point root at a store of theirs: from any other file they are ignored, each
 * with a warning naming the file, the setting and the fix.
 */
static void check_trusted_settings(struct config *c, const char *file)
{
    struct {
        const char *name;
        bool set;
    } v[] = {
        {"trusted_users", c->n_trusted_uids > 0},
        {"trust_expansions", c->trust_expansions},
        {"cache", c->cache_store != NULL},
        {"cache_key", c->cache_key != NULL},
        {"cache_sign_key", c->cache_sign_key != NULL},
        {"cache_verify_key", c->cache_verify_key != NULL},
    };
    char *abs, *problem = NULL;
    bool any = false;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        any = any || v[i].set;
    if (!any)
        return;
    abs = realpath(file, NULL);
    problem = abs ? trust_problem(abs, NULL, file, NULL) : xasprintf("%s", strerror(errno));
    free(abs);
    if (!problem)
        return;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i].set)
            log_warn("%s: %s ignored: only a file ccwrap trusts may set it, and %s", file,
                     v[i].name, problem);
    free(problem);
    c->n_trusted_uids = 0;
    c->trust_expansions = false;
    free(c->cache_store);
    free(c->cache_key);
    free(c->cache_sign_key);
    free(c->cache_verify_key);
    c->cache_store = c->cache_key = c->cache_sign_key = c->cache_verify_key = NULL;
}

/*
 * $CCWRAP_TRUSTED_USERS replaces the file's trusted_users (environment > file): whoever sets
 * ccwrap's environment already chooses what it runs, as with CC_*_HOOK.
 */
static int env_trusted_users(struct config *c)
{
    const char *env = getenv("CCWRAP_TRUSTED_USERS");
    char *copy, *save = NULL;
    size_t n = 0;

    if (!env)
        return 0;
    copy = xstrdup(env);
    free(c->trusted_uids);
    c->trusted_uids = xcalloc(strlen(env) / 2 + 2, sizeof *c->trusted_uids);
    for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
        if (user_uid(w, &c->trusted_uids[n]) < 0) {
            char *shown = shown_text(w);

            log_error("CCWRAP_TRUSTED_USERS: no user '%s' on this system; give user names or "
                      "uids, separated by commas",
                      shown);
            free(shown);
            free(copy);
            c->n_trusted_uids = 0;
            return -1;
        }
        n++;
    }
    c->n_trusted_uids = n;
    free(copy);
    return 0;
}

/* $CCWRAP_EXEC_IN_PLACE replaces the file's exec_in_place (environment > file). */
static int env_exec_in_place(struct config *c)
{
    const char *env = getenv("CCWRAP_EXEC_IN_PLACE");
    int i;

    if (!env)
        return 0;
    i = word_index(bool_words, env);
    if (i < 0) {
        char *shown = shown_text(env);

        log_error("CCWRAP_EXEC_IN_PLACE: give true or false, not '%s'", shown);
        free(shown);
        return -1;
    }
    c->exec_in_place = i == 1;
    return 0;
}

/*
 * $CCWRAP_CACHE_MAX_BYTES and $CCWRAP_CACHE_MAX_ENTRIES replace the file's caps on what a
 * restore writes (environment > file), as $CCWRAP_CACHE replaces its cache.
 */
static int env_cache_caps(struct config *c)
{
    const char *bytes = getenv("CCWRAP_CACHE_MAX_BYTES"),
               *entries = getenv("CCWRAP_CACHE_MAX_ENTRIES");
    uint64_t n;
    long e;

    if (bytes && *bytes) {
        if (cache_size_parse(bytes, &n) < 0 || n == 0) {
            char *shown = shown_text(bytes);

            log_error("CCWRAP_CACHE_MAX_BYTES: give a whole number of bytes from 1, with K, M, "
                      "G or T for KiB, MiB, GiB or TiB, at most 1024T, not '%s'",
                      shown);
            free(shown);
            return -1;
        }
        c->cache_max_bytes = n;
    }
    if (entries && *entries) {
        if (parse_long(entries, 1, (long)CACHE_MAX_ENTRIES_LIMIT, &e) < 0) {
            char *shown = shown_text(entries);

            log_error("CCWRAP_CACHE_MAX_ENTRIES: give a whole number of entries from 1 to "
                      "1000000000, not '%s'",
                      shown);
            free(shown);
            return -1;
        }
        c->cache_max_entries = (uint64_t)e;
    }
    return 0;
}

int config_load(struct config *c, const char *explicit_file, const char *root)
{
    const char *named_by;
    char *file = find_file(explicit_file, root, &named_by);
    struct stat st;

    set_defaults(c);
    if (!file)
        return env_trusted_users(c) < 0 || env_exec_in_place(c) < 0 || env_cache_caps(c) < 0 ? -1
                                                                                             : 0;
    c->file = file;
    if (named_by && stat(file, &st) < 0 && errno == ENOENT) {
        log_error("%s: no such configuration file; fix %s", file, named_by);
        return -1;
    }
    if (read_file(c, file) < 0)
        return -1;
    check_trusted_settings(c, file);
    if (env_trusted_users(c) < 0 || env_exec_in_place(c) < 0 || env_cache_caps(c) < 0)
        return -1;
    merge_dirs(c, root);
    return 0;
}

void config_free(struct config *c)
{
    free(c->file);
    free(c->shell);
    for (size_t i = 0; i < c->n_hooks_dirs; i++)
        free(c->hooks_dirs[i]);
    free(c->hooks_dirs);
    for (size_t i = 0; i < c->n_env_files; i++)
        free(c->env_files[i]);
    free(c->env_files);
    free(c->ready);
    free(c->ready_origin);
    free(c->ready_variable);
    free(c->trusted_uids);
    free(c->cache_store);
    free(c->cache_key);
    free(c->cache_sign_key);
    free(c->cache_verify_key);
    memset(c, 0, sizeof *c);
}

const char *config_ready(const struct config *c, const char *cli, const char **from)
{
    const char *env = getenv("CCWRAP_READY"), *task = getenv("CC_TASK");

    if (cli) {
        *from = "--ready";
        return cli;
    }
    if (env && *env) {
        *from = "CCWRAP_READY";
        return env;
    }
    if (task && strcmp(task, "true") == 0) {
        *from = "CC_TASK=true";
        return "exit";
    }
    *from = c->ready_origin ? c->ready_origin : "default";
    return c->ready;
}

char *config_ready_error(const struct config *c, const char *from, const char *err)
{
    const char *name = c->ready_variable;

    if (!c->ready_hidden || !name || !c->ready_origin || strcmp(from, c->ready_origin) != 0)
        return xstrdup(err);
    /* libconfuse takes a default after :- only for an unset variable, not an empty one. */
    if (is_empty_variable(name))
        return xasprintf("the readiness spec given with ${%s} is not valid: %s is set but "
                         "empty; give it a value, or see ccwrap(1) for the forms the spec takes",
                         name, name);
    return xasprintf("the readiness spec given with ${%s} is not valid (its value is not "
                     "shown); fix %s, or see ccwrap(1) for the forms the spec takes",
                     name, name);
}
