/*
 * valueprog.c — what one simple command of a line runs, and whether it may: the shell's own
 * words (builtins, exec, command, eval, trap, ., cd, export, unset), the wrapper programs whose
 * arguments are a command (env, nohup, nice, ionice, setsid, stdbuf, timeout, sh -c), then the
 * program found as execvp finds it (a path from each folder the line may be in, or each PATH
 * entry, which must be absolute and trusted) and held to the trust rule.
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "trust.h"
#include "value_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* NOLINTBEGIN(misc-no-recursion): eval, trap and sh -c hold lines (MAX_DEPTH). */

/* Words the shell runs itself: no file is looked up for them. */
static const char *const builtins[] = {
    ":",        "[",        "alias",   "bg",        "break",    "caller",  "cd",      "compgen",
    "complete", "continue", "declare", "dirs",      "disown",   "echo",    "enable",  "exit",
    "export",   "false",    "fc",      "fg",        "getopts",  "hash",    "help",    "history",
    "jobs",     "kill",     "let",     "local",     "logout",   "mapfile", "popd",    "printf",
    "pushd",    "pwd",      "read",    "readarray", "readonly", "return",  "set",     "shift",
    "shopt",    "suspend",  "test",    "times",     "true",     "type",    "typeset", "ulimit",
    "umask",    "unalias",  "unset",   "wait",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return true;
    return false;
}

/* PATH when the variable is unset: the C library's default, as execvp uses it. */
static char *default_path(void)
{
    char buf[256];
    size_t n = confstr(_CS_PATH, buf, sizeof buf);

    return n > 0 && n <= sizeof buf ? xstrdup(buf) : xstrdup("/bin:/usr/bin");
}

static bool runnable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* PATH as the user names it: relative to the root when under it. */
static const char *shown(const struct scan *s, const char *path)
{
    size_t n = strlen(s->root);

    return strncmp(path, s->root, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

/*
 * PROBLEM (or none) of the program PROG. In a value of several commands "its folder bin" could
 * be anyone's: a problem about a folder or a link on the way names the program first.
 */
static void fail_program(struct scan *s, const char *prog, const char *problem)
{
    if (problem && strncmp(problem, "its ", 4) == 0)
        scan_fail(s, "%s: %s", prog, problem);
    else if (problem)
        scan_fail(s, "%s", problem);
}

/* NAME (with a /) judged from every folder the line may be in. */
static void judge_path(struct scan *s, const char *name, const char *dir)
{
    if (name[0] == '/') {
        char *p = trust_problem(name, s->root, name, s->c);

        fail_program(s, name, p);
        free(p);
        return;
    }
    if (dir) {
        char *full = xasprintf("%s/%s", dir, name);

        judge_path(s, full, NULL);
        free(full);
        return;
    }
    if (s->cwd_unknown) {
        scan_fail(s,
                  "%s is a relative path after '%s', which only the shell can follow; name it by "
                  "its full path, or put the line in a script",
                  name, s->cwd_unknown);
        return;
    }
    for (size_t i = 0; i < s->n_cwds && !s->problem; i++) {
        const char *rel = name;
        char *full, *p;

        while (rel[0] == '.' && rel[1] == '/')
            rel += 2 + strspn(rel + 2, "/");
        full = xasprintf("%s/%s", s->cwds[i], rel);
        /* As the user names it: relative to the root when under it. */
        p = trust_problem(full, s->root, i == 0 ? rel : shown(s, full), s->c);
        fail_program(s, i == 0 ? rel : shown(s, full), p);
        free(p);
        free(full);
    }
}

/* NAME (no /) looked up in PATH as execvp does; the folders searched must be trusted too. */
static void judge_lookup(struct scan *s, const char *name, struct vars *overlay, bool std_path)
{
    const char *unknown = NULL,
               *path = std_path ? NULL : vars_lookup(s, overlay, "PATH", 4, &unknown);
    char *dup, *entry, *next;
    bool found = false;

    if (!std_path && unknown) {
        scan_fail(s,
                  "%s is looked up in a PATH that only the shell knows (%s); name the program by "
                  "its full path",
                  name, unknown);
        return;
    }
    dup = path ? xstrdup(path) : default_path();
    for (entry = dup; entry && !s->problem && !found; entry = next) {
        const char *dir;
        bool relative;

        next = strchr(entry, ':');
        if (next)
            *next++ = '\0';
        dir = *entry ? entry : ".";
        relative = dir[0] != '/';
        for (size_t i = 0; i < (relative ? s->n_cwds : 1) && !s->problem && !found; i++) {
            char *folder = relative ? xasprintf("%s/%s", s->cwds[i], dir) : xstrdup(dir),
                 *full = xasprintf("%s/%s", folder, name), *p = NULL;

            /* A folder ccwrap's user may not search: execvp finds nothing there either. */
            bool searchable = faccessat(AT_FDCWD, folder, X_OK, AT_EACCESS) == 0 || errno != EACCES;

            if (searchable && (p = trust_problem(full, s->root, full, s->c)) != NULL)
                scan_fail(s, "%s, looked up in the PATH entry %s: %s", name, dir, p);
            else if (searchable && relative && runnable(full))
                scan_fail(s,
                          "%s is found through the relative PATH entry %s%s, which names another "
                          "file in each folder; name it by its path (%s/%s), or put an absolute "
                          "folder in PATH",
                          name, *entry ? entry : "''", *entry ? "" : " (the working folder)", dir,
                          name);
            else if (searchable && runnable(full))
                found = true;
            free(p);
            free(full);
            free(folder);
        }
        if (relative && s->cwd_unknown && !s->problem && !found)
            scan_fail(s,
                      "%s is looked up in the relative PATH entry %s after '%s', which only the "
                      "shell can follow; name it by its full path",
                      name, dir, s->cwd_unknown);
    }
    free(dup);
}

static void judge_program(struct scan *s, const char *name, struct vars *overlay, const char *dir,
                          bool std_path)
{
    if (strchr(name, '/'))
        judge_path(s, name, dir);
    else if (*name)
        judge_lookup(s, name, overlay, std_path);
}

static const char *base_name(const char *w)
{
    const char *slash = strrchr(w, '/');

    return slash ? slash + 1 : w;
}

/* --opt=value, --opt value, -o value, -ovalue: how many fields OPT takes at ARGV[I]. */
static bool long_opt(const char *f, const char *name)
{
    size_t n = strlen(name);

    return strncmp(f, name, n) == 0 && (f[n] == '\0' || f[n] == '=');
}

static void cd_to(struct scan *s, struct fields *f, size_t i, struct vars *overlay)
{
    const char *dir, *unknown;
    size_t n = s->n_cwds;

    if (i + 1 < f->n && strcmp(f->v[i + 1].text, "--") == 0)
        i++;
    if (i + 1 >= f->n) {
        dir = vars_lookup(s, overlay, "HOME", 4, &unknown);
    } else {
        dir = f->v[i + 1].text;
        unknown = f->v[i + 1].unknown;
        if (strcmp(dir, "-") == 0 || dir[0] == '-')
            unknown = "cd -";
        else if (dir[0] != '/' && strncmp(dir, "./", 2) != 0 && strncmp(dir, "../", 3) != 0 &&
                 vars_lookup(s, overlay, "CDPATH", 6, &unknown))
            unknown = "CDPATH";
    }
    if (unknown || !dir || n * 2 > MAX_CWDS) {
        s->cwd_unknown = "cd";
        return;
    }
    /* cd may fail or sit in a branch: the folders before it stay possible. */
    for (size_t k = 0; k < n; k++)
        s->cwds[s->n_cwds++] = dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", s->cwds[k], dir);
}

static void assign_words(struct scan *s, struct fields *f, size_t from)
{
    for (size_t i = from; i < f->n; i++) {
        const char *t = f->v[i].text, *eq = strchr(t, '=');

        if (eq && env_name_valid(t, (size_t)(eq - t))) {
            vars_set(&s->vars, t, (size_t)(eq - t), eq + 1, f->v[i].unknown);
            if (eq - t == 3 && strncmp(t, "IFS", 3) == 0)
                s->ifs_set = true;
        }
    }
}

static bool skip_options(struct scan *s, struct fields *f, size_t *i, const char *prog);

/* The program of fields F from I on, each wrapper word and its options skipped. */
static void resolve(struct scan *s, struct fields *f, size_t i, struct vars *overlay)
{
    const char *dir = NULL; /* env -C */
    bool std_path = false, external = false;

    while (i < f->n && !s->problem) {
        const struct field *w = &f->v[i];
        const char *b;

        if (w->unknown) {
            if (s->c && s->c->trust_expansions)
                return;
            scan_fail(s,
                      "the program %s is only known to the shell (it needs %s); name the program "
                      "by its literal path, or put the line in a script, or set trust_expansions = "
                      "true in a ccwrap.conf ccwrap trusts",
                      w->word, w->unknown);
            return;
        }
        /* After env, nohup …, which exec what follows, a word is a program, never a builtin. */
        if (!external) {
            if (strcmp(w->text, "exec") == 0 || strcmp(w->text, "command") == 0) {
                bool command = w->text[0] == 'c';

                for (i++; i < f->n && f->v[i].text[0] == '-' && !f->v[i].unknown; i++) {
                    const char *o = f->v[i].text;

                    if (strcmp(o, "--") == 0) {
                        i++;
                        break;
                    }
                    if (command && (strchr(o, 'v') || strchr(o, 'V')))
                        return; /* command -v prints; it runs nothing */
                    if (command && strchr(o, 'p'))
                        std_path = true;
                    if (!command && strchr(o, 'a'))
                        i++; /* exec -a NAME */
                }
                continue;
            }
            if (strcmp(w->text, "eval") == 0) {
                char *line = xstrdup("");

                for (size_t k = i + 1; k < f->n; k++) {
                    char *l = xasprintf("%s%s%s", line, *line ? " " : "", f->v[k].text);

                    if (f->v[k].unknown && !(s->c && s->c->trust_expansions))
                        scan_fail(
                            s,
                            "eval runs %s, which only the shell can expand; put the line in a "
                            "script",
                            f->v[k].word);
                    free(line);
                    line = l;
                }
                scan_line(s, line, strlen(line));
                free(line);
                return;
            }
            if (strcmp(w->text, "trap") == 0) {
                if (i + 2 < f->n && f->v[i + 1].text[0] != '-')
                    scan_line(s, f->v[i + 1].text, strlen(f->v[i + 1].text));
                return;
            }
            if (strcmp(w->text, ".") == 0 || strcmp(w->text, "source") == 0) {
                /* A script the shell reads: its text runs as root like a program. */
                if (i + 1 < f->n && !f->v[i + 1].unknown)
                    judge_program(s, f->v[i + 1].text, overlay, dir, false);
                if (i + 1 < f->n && !strchr(f->v[i + 1].text, '/'))
                    judge_path(s, f->v[i + 1].text, dir);
                return;
            }
            if (strcmp(w->text, "cd") == 0 || strcmp(w->text, "pushd") == 0) {
                cd_to(s, f, i, overlay);
                return;
            }
            if (strcmp(w->text, "export") == 0 || strcmp(w->text, "readonly") == 0 ||
                strcmp(w->text, "declare") == 0 || strcmp(w->text, "typeset") == 0 ||
                strcmp(w->text, "local") == 0) {
                assign_words(s, f, i + 1);
                return;
            }
            if (strcmp(w->text, "unset") == 0) {
                for (size_t k = i + 1; k < f->n; k++)
                    if (f->v[k].text[0] != '-')
                        vars_set(&s->vars, f->v[k].text, strlen(f->v[k].text), NULL, NULL);
                return;
            }
            if (strcmp(w->text, "builtin") == 0 ||
                in_list(w->text, builtins, sizeof builtins / sizeof builtins[0]))
                return;
        }
        judge_program(s, w->text, overlay, dir, std_path);
        std_path = false;
        external = true;
        b = base_name(w->text);
        if (strcmp(b, "env") == 0) {
            for (i++; i < f->n && !s->problem; i++) {
                const char *o = f->v[i].text;

                if (strcmp(o, "-i") == 0 || strcmp(o, "-") == 0 ||
                    strcmp(o, "--ignore-environment") == 0) {
                    overlay->cleared = true;
                } else if (strcmp(o, "-u") == 0 && i + 1 < f->n) {
                    i++;
                    vars_set(overlay, f->v[i].text, strlen(f->v[i].text), NULL, NULL);
                } else if (strncmp(o, "-u", 2) == 0 || long_opt(o, "--unset")) {
                    const char *n = o[1] == 'u' ? o + 2 : strchr(o, '=');

                    if (!n && i + 1 < f->n)
                        n = f->v[++i].text;
                    else if (n && *n == '=')
                        n++;
                    if (n)
                        vars_set(overlay, n, strlen(n), NULL, NULL);
                } else if (strcmp(o, "-C") == 0 && i + 1 < f->n) {
                    dir = f->v[++i].text;
                } else if (strncmp(o, "-C", 2) == 0 && o[2]) {
                    dir = o + 2;
                } else if (long_opt(o, "--chdir")) {
                    dir = strchr(o, '=') ? strchr(o, '=') + 1 : i + 1 < f->n ? f->v[++i].text : "";
                } else if (strcmp(o, "-0") == 0 || strcmp(o, "-v") == 0 ||
                           strcmp(o, "--null") == 0 || strcmp(o, "--debug") == 0) {
                    continue;
                } else if (strcmp(o, "--") == 0) {
                    i++;
                    break;
                } else if (o[0] == '-') {
                    scan_fail(s,
                              "env's option %s is not one ccwrap knows, so it cannot tell what env "
                              "runs; name the program without env, or put the line in a script",
                              o);
                } else {
                    break; /* NAME=value, then the program: no option after them */
                }
            }
            while (
                i < f->n && strchr(f->v[i].text, '=') && f->v[i].text[0] != '=' &&
                env_name_valid(f->v[i].text, (size_t)(strchr(f->v[i].text, '=') - f->v[i].text))) {
                vars_set(overlay, f->v[i].text, (size_t)(strchr(f->v[i].text, '=') - f->v[i].text),
                         strchr(f->v[i].text, '=') + 1, f->v[i].unknown);
                i++;
            }
            continue;
        }
        if (strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "dash") == 0) {
            /* sh -c LINE: LINE is a command line like the value itself. */
            bool line = false;

            for (i++; i < f->n && (f->v[i].text[0] == '-' || f->v[i].text[0] == '+'); i++) {
                line = line || (f->v[i].text[0] == '-' && strchr(f->v[i].text, 'c'));
                if (strcmp(f->v[i].text, "-o") == 0 || strcmp(f->v[i].text, "+o") == 0)
                    i++;
            }
            if (line && i < f->n && f->v[i].unknown && !(s->c && s->c->trust_expansions))
                scan_fail(
                    s, "%s -c runs %s, which only the shell can expand; put the line in a script",
                    b, f->v[i].word);
            else if (line && i < f->n)
                scan_line(s, f->v[i].text, strlen(f->v[i].text));
            return;
        }
        if (strcmp(b, "nohup") == 0 || strcmp(b, "nice") == 0 || strcmp(b, "ionice") == 0 ||
            strcmp(b, "setsid") == 0 || strcmp(b, "stdbuf") == 0 || strcmp(b, "timeout") == 0) {
            i++;
            if (!skip_options(s, f, &i, b))
                return;
            continue;
        }
        return;
    }
}

/*
 * After a wrapper program PROG (nohup, nice, ionice, setsid, stdbuf, timeout): *I moved past its
 * options to the program it runs. False when it runs none (ionice -p) or after a problem.
 */
static bool skip_options(struct scan *s, struct fields *f, size_t *i, const char *prog)
{
    /* Short options that take a value, per wrapper; long ones are --name=value or --name value. */
    const char *with_value = strcmp(prog, "nice") == 0      ? "n"
                             : strcmp(prog, "ionice") == 0  ? "cn"
                             : strcmp(prog, "stdbuf") == 0  ? "ioe"
                             : strcmp(prog, "timeout") == 0 ? "ks"
                                                            : "";
    const char *flags = strcmp(prog, "setsid") == 0    ? "cfw"
                        : strcmp(prog, "ionice") == 0  ? "t"
                        : strcmp(prog, "timeout") == 0 ? "v"
                                                       : "";
    static const char *const long_values[] = {"--adjustment", "--class",  "--classdata",
                                              "--input",      "--output", "--error",
                                              "--kill-after", "--signal"};
    static const char *const long_flags[] = {
        "--ctty", "--fork", "--wait", "--ignore", "--preserve-status", "--foreground", "--verbose"};

    for (; *i < f->n; (*i)++) {
        const char *o = f->v[*i].text;

        if (f->v[*i].unknown || o[0] != '-' || !o[1])
            break;
        if (strcmp(o, "--") == 0) {
            (*i)++;
            break;
        }
        if (strcmp(prog, "nice") == 0 && o[1] >= '0' && o[1] <= '9')
            continue; /* nice -5 */
        if (strcmp(prog, "ionice") == 0 && strchr("pPu", o[1]) && !o[2])
            return false; /* ionice -p PID: changes a running process */
        if (o[1] == '-') {
            bool known = false;

            for (size_t k = 0; k < sizeof long_values / sizeof long_values[0]; k++)
                if (long_opt(o, long_values[k])) {
                    known = true;
                    if (!strchr(o, '='))
                        (*i)++;
                }
            for (size_t k = 0; k < sizeof long_flags / sizeof long_flags[0]; k++)
                known = known || strcmp(o, long_flags[k]) == 0;
            if (known)
                continue;
        } else if (strchr(with_value, o[1])) {
            if (!o[2])
                (*i)++;
            continue;
        } else if (strspn(o + 1, flags) == strlen(o + 1)) {
            continue;
        }
        scan_fail(s,
                  "%s's option %s is not one ccwrap knows, so it cannot tell what %s runs; name "
                  "the program without %s, or put the line in a script",
                  prog, o, prog, prog);
        return false;
    }
    /* timeout DURATION COMMAND */
    if (strcmp(prog, "timeout") == 0 && *i < f->n)
        (*i)++;
    return !s->problem;
}

static bool is_assignment_word(const char *w, size_t n)
{
    size_t k = 0;

    while (k < n && word_name_char(w[k], k == 0))
        k++;
    return k > 0 && k < n && w[k] == '=';
}

/* WORDS of one simple command, redirections already taken out. */
void scan_command(struct scan *s, const struct tok *words, size_t n)
{
    struct vars overlay = {0};
    struct fields f = {0};
    size_t i = 0;

    for (; i < n && is_assignment_word(words[i].s, words[i].len); i++) {
        const char *eq = memchr(words[i].s, '=', words[i].len);
        struct fields v = {0};
        size_t name_len = (size_t)(eq - words[i].s);
        char *text;

        /* The value is one field: no splitting, no glob. */
        word_expand(s, eq + 1, words[i].len - name_len - 1, &overlay, &v, true);
        text = v.n ? v.v[0].text : (char *)"";
        vars_set(&overlay, words[i].s, name_len, text, v.n ? v.v[0].unknown : NULL);
        fields_free(&v);
    }
    for (size_t k = i; k < n; k++)
        word_expand(s, words[k].s, words[k].len, &overlay, &f, false);
    if (f.n == 0) {
        /* NAME=value alone: set for the rest of the line. */
        for (size_t k = 0; k < overlay.n; k++) {
            vars_set(&s->vars, overlay.v[k].name, strlen(overlay.v[k].name), overlay.v[k].value,
                     overlay.v[k].unknown);
            if (strcmp(overlay.v[k].name, "IFS") == 0)
                s->ifs_set = true;
        }
    } else {
        resolve(s, &f, 0, &overlay);
    }
    fields_free(&f);
    vars_free(&overlay);
}

/* NOLINTEND(misc-no-recursion) */
