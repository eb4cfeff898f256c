/*
 * shell.c — what ccwrap knows of the command lines it hands to the hook shell: whether a value
 * is one simple command, which the shell can replace itself with (`exec`), so that signals and
 * the exit status are the program's own and not those of a shell waiting for it (§7).
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "shell.h"

#include <string.h>

/* Words that make the line shell syntax or a builtin, not a program to exec. */
static const char *const not_programs[] = {
    "!",        "{",        "}",      "[[",       "]]",      "case",  "do",    "done",    "elif",
    "else",     "esac",     "fi",     "for",      "if",      "in",    "then",  "until",   "while",
    "function", "select",   "time",   ".",        ":",       "alias", "bg",    "break",   "cd",
    "command",  "continue", "eval",   "exit",     "export",  "fc",    "fg",    "getopts", "hash",
    "jobs",     "local",    "read",   "readonly", "return",  "set",   "shift", "source",  "times",
    "trap",     "type",     "ulimit", "umask",    "unalias", "unset", "wait",
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Scans one word from *S: quotes and backslashes are followed, and anything that would make
 * the line more than one simple command (; & | < > ( ) ` $( and newlines) fails it.
 * Returns the word's length, 0 at the end, -1 when the line is not simple.
 */
static int scan_word(const char **s)
{
    const char *p = *s;

    while (is_blank(*p))
        p++;
    *s = p;
    while (*p && !is_blank(*p)) {
        switch (*p) {
        case '\'':
            p = strchr(p + 1, '\'');
            if (!p)
                return -1;
            p++;
            continue;
        case '"':
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == '`' || (*p == '$' && p[1] == '('))
                    return -1;
            }
            if (!*p)
                return -1;
            p++;
            continue;
        case '\\':
            if (!p[1] || p[1] == '\n')
                return -1;
            p += 2;
            continue;
        case '$':
            if (p[1] == '(')
                return -1;
            p++;
            continue;
        case ';':
        case '&':
        case '|':
        case '<':
        case '>':
        case '(':
        case ')':
        case '`':
        case '\n':
        case '\r':
            return -1;
        default:
            p++;
        }
    }
    return (int)(p - *s);
}

/* NAME=… with a valid NAME: an assignment for the command that follows. */
static bool is_assignment(const char *w, int len)
{
    const char *eq = memchr(w, '=', (size_t)len);

    return eq && eq > w && env_name_valid(w, (size_t)(eq - w));
}

char *shell_exec_form(const char *cmd)
{
    const char *s = cmd, *first = NULL;
    size_t first_len = 0;
    int len;

    while ((len = scan_word(&s)) > 0) {
        if (!first && !is_assignment(s, len)) {
            first = s;
            first_len = (size_t)len;
        }
        s += len;
    }
    /* "#" starts a comment; "exec -l" would be an option of exec. */
    if (len < 0 || !first || first[0] == '#' || first[0] == '-')
        return NULL;
    if (first_len == 4 && memcmp(first, "exec", 4) == 0)
        return xstrdup(cmd);
    for (size_t i = 0; i < sizeof not_programs / sizeof not_programs[0]; i++)
        if (strlen(not_programs[i]) == first_len && memcmp(first, not_programs[i], first_len) == 0)
            return NULL;
    /* Assignments stay in front: `PORT=1 exec node app.js` exports PORT to node. */
    return xasprintf("%.*sexec %s", (int)(first - cmd), cmd, first);
}
