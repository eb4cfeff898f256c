/*
 * dotenv.c — variable files (§13): --env-file and the config's env_files, in the two
 * formats of Clever Cloud's console and CLI: NAME="value" lines (optionally `export NAME=…`)
 * and the JSON array [{"name": …, "value": …}]. Loaded before the hooks run; the environment
 * ccwrap was given wins over any file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "problems.h"
#include "config.h"
#include "trust.h"
#include "dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_FILE_MAX (1 << 20)

const char **env_file_options;
size_t n_env_file_options;

bool secret_name(const char *name)
{
    static const char *const words[] = {"KEY", "SECRET", "TOKEN", "PASSWORD"};

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return true;
    return false;
}

void env_set_free(struct env_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
        free(s->v[i].source);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* NAME=VALUE from SOURCE; a later file's NAME replaces an earlier one's, as with docker. */
static void put(struct env_set *s, const char *name, size_t len, const char *value, char *source)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strlen(s->v[i].name) == len && strncmp(s->v[i].name, name, len) == 0) {
            free(s->v[i].value);
            free(s->v[i].source);
            s->v[i].value = xstrdup(value);
            s->v[i].source = source;
            return;
        }
    }
    s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n].name = strndup(name, len);
    s->v[s->n].value = xstrdup(value);
    s->v[s->n].source = source;
    s->n++;
}

/* The file's text, after the trust rule: its values reach every hook's environment. */
static char *slurp(const char *path, const char *root, const struct config *c,
                   struct problems *errors)
{
    char *problem, *buf;
    struct stat st;
    ssize_t n;
    int fd;

    if ((problem = trust_problem(path, root, NULL, c)) != NULL) {
        problem_add(errors, path, "%s", problem);
        free(problem);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        problem_add(errors, path, "cannot read it: %s; fix the path or remove it", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > ENV_FILE_MAX) {
        problem_add(errors, path, "%s",
                    S_ISREG(st.st_mode) ? "bigger than 1 MiB" : "not a regular file");
        close(fd);
        return NULL;
    }
    buf = xmalloc((size_t)st.st_size + 1);
    n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        problem_add(errors, path, "cannot read it: %s", strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', (size_t)n)) {
        problem_add(errors, path, "holds a NUL byte: not a text file of variables");
        free(buf);
        return NULL;
    }
    return buf;
}

/* [{"name": "A", "value": "1"}, …]: the CLI's and the console's JSON export. */
static void read_json(const char *path, const char *text, struct env_set *out,
                      struct problems *errors)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr), *item;
    size_t i;

    if (!doc) {
        problem_add(errors, path, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return;
    }
    json_array_foreach(doc, i, item) {
        json_t *name = json_object_get(item, "name"), *value = json_object_get(item, "value");
        const char *n = json_string_value(name);

        if (!json_is_object(item) || !json_is_string(name) || !json_is_string(value)) {
            problem_add(errors, path, "entry %zu: not {\"name\": \"NAME\", \"value\": \"VALUE\"}",
                        i);
            continue;
        }
        if (!env_name_valid(n, strlen(n))) {
            char *shown = shown_text(n);

            problem_add(errors, path,
                        "entry %zu: '%s' is not a variable name "
                        "([A-Za-z_][A-Za-z0-9_]*)",
                        i, shown);
            free(shown);
            continue;
        }
        put(out, n, strlen(n), json_string_value(value), xasprintf("%s entry %zu", path, i));
    }
    json_decref(doc);
}

/*
 * A double-quoted value from P (after the quote), escapes \" \\ \n \t \$ \` undone; it may
 * span lines (*line counts them). *end: after the closing quote. NULL: unterminated.
 */
static char *double_quoted(const char *p, const char **end, int *line)
{
    char *out = xmalloc(strlen(p) + 1), *q = out;

    for (; *p && *p != '"'; p++) {
        if (*p == '\n')
            ++*line;
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 'n')
                *q++ = '\n';
            else if (*p == 't')
                *q++ = '\t';
            else if (*p == 'r')
                *q++ = '\r';
            else
                *q++ = *p;
            if (*p == '\n')
                ++*line;
            continue;
        }
        *q++ = *p;
    }
    if (*p != '"') {
        free(out);
        return NULL;
    }
    *q = '\0';
    *end = p + 1;
    return out;
}

/* "FILE:LINE: why", as the configuration's errors read. */
static void line_problem(struct problems *errors, const char *path, int line, const char *why)
{
    char *where = xasprintf("%s:%d", path, line);

    problem_add(errors, where, "%s", why);
    free(where);
}

/* NAME="value" lines: blank lines and # comments skipped, `export ` allowed before NAME. */
static void read_lines(const char *path, const char *text, struct env_set *out,
                       struct problems *errors)
{
    const char *p = text;
    int line = 1;

    while (*p) {
        const char *name, *eq, *end = NULL;
        int first = line;
        char *value = NULL;

        p += strspn(p, " \t");
        if (*p == '\n' || *p == '#' || *p == '\r') {
            p += strcspn(p, "\n");
            p += *p == '\n';
            line++;
            continue;
        }
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
            p += 6 + strspn(p + 6, " \t");
        name = p;
        eq = p + strcspn(p, "=\n");
        if (*eq != '=' || !env_name_valid(name, (size_t)(eq - name))) {
            line_problem(errors, path, first,
                         "not NAME=\"value\" with NAME like "
                         "[A-Za-z_][A-Za-z0-9_]*; fix or remove the line");
        } else if (eq[1] == '"') {
            value = double_quoted(eq + 2, &end, &line);
            if (!value)
                line_problem(errors, path, first, "the value's \" is never closed; close it");
        } else if (eq[1] == '\'') {
            const char *close = strchr(eq + 2, '\'');

            if (!close) {
                line_problem(errors, path, first, "the value's ' is never closed; close it");
            } else {
                value = strndup(eq + 2, (size_t)(close - eq - 2));
                for (const char *c = eq + 2; c < close; c++)
                    line += *c == '\n';
                end = close + 1;
            }
        } else {
            size_t len = strcspn(eq + 1, "\n");

            while (len > 0 && isspace((unsigned char)eq[1 + len - 1]))
                len--;
            value = strndup(eq + 1, len);
            end = eq + 1 + len;
        }
        if (value) {
            size_t rest = strspn(end, " \t\r");

            if (end[rest] != '\n' && end[rest] != '\0' && end[rest] != '#')
                line_problem(errors, path, line, "text after the quoted value; quote all of it");
            else
                put(out, name, (size_t)(eq - name), value, xasprintf("%s:%d", path, first));
            free(value);
            p = end;
        }
        /* On to the next line, whatever this one held. */
        p += strcspn(p, "\n");
        p += *p == '\n';
        line++;
    }
}

int env_files_read(const char *root, const struct config *c, struct env_set *out,
                   struct problems *errors)
{
    size_t before = errors->n;

    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < c->n_env_files + n_env_file_options; k++) {
        bool from_config = k < c->n_env_files;
        const char *given = from_config ? c->env_files[k] : env_file_options[k - c->n_env_files];
        /* The config's are the root's files, as hooks_dirs; --env-file is the caller's path. */
        char *path =
            from_config && given[0] != '/' ? xasprintf("%s/%s", root, given) : xstrdup(given);
        char *text = slurp(path, root, c, errors);

        if (text) {
            const char *first = text + strspn(text, " \t\r\n");

            if (*first == '[')
                read_json(path, text, out, errors);
            else
                read_lines(path, text, out, errors);
        }
        free(text);
        free(path);
    }
    return errors->n > before ? -1 : 0;
}

int env_files_apply(const char *root, const struct config *c)
{
    struct problems errors = {0};
    struct env_set s;
    int rc = env_files_read(root, c, &s, &errors);

    for (size_t i = 0; i < errors.n; i++)
        log_error("%s: %s", errors.v[i].path, errors.v[i].text);
    if (rc == 0) {
        for (size_t i = 0; i < s.n; i++) {
            if (getenv(s.v[i].name)) {
                log_detail("%s: %s is set in the environment, which wins", s.v[i].source,
                           s.v[i].name);
                continue;
            }
            setenv(s.v[i].name, s.v[i].value, 1);
        }
    }
    problems_free(&errors);
    env_set_free(&s);
    return rc;
}
