/*
 * conftext.c — a configuration file's text before libconfuse reads it: the whole file read
 * (bounded, no FIFO), the pass that catches what libconfuse 3.3 gets wrong (see
 * config_prescan), and which lines hold ${VAR}, whose values an error must not show.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "msg.h"
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (1 << 20)

/*
 * Lines holding ${VAR}: an error about their value must not print it (it may be a secret).
 * Each holds the name of its first variable, or of its first empty one, for the fix.
 */
static char **var_lines;
static int n_var_lines;

const char *config_line_variable(int line)
{
    return line >= 0 && line < n_var_lines ? var_lines[line] : NULL;
}

static void forget_variables(void)
{
    for (int i = 0; i < n_var_lines; i++)
        free(var_lines[i]);
    free(var_lines);
    var_lines = NULL;
    n_var_lines = 0;
}

bool config_variable_empty(const char *name)
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
    if (var_lines[line] && (config_variable_empty(var_lines[line]) || !config_variable_empty(n))) {
        free(n);
        return;
    }
    free(var_lines[line]);
    var_lines[line] = n;
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
int config_prescan(char *buf, const char *display)
{
    enum { CODE, LINE_COMMENT, BLOCK_COMMENT, DQ, SQ } state = CODE;
    int line = 1, opened = 0, brace_line = 0, depth = 0;
    bool word = false; /* inside an unquoted word, where '//' and '/ *' are plain text */

    forget_variables();

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
char *config_slurp(const char *path, const char *display)
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
