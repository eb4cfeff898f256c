/*
 * msg.c — every message ccwrap and its helper ccwrap-cache print: "ccwrap: …" on stderr
 * (for `check`, plain "PATH: problem" lines on stdout), unbuffered, one write each, so they
 * interleave cleanly with hooks'; one line each, control bytes shown as '?', whatever bytes a
 * name or value holds. The event log is log.c's.
 */
#include "util.h"
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum verbosity log_verbosity = V_NORMAL;
bool log_plain;

static void emit(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void emit(const char *prefix, const char *fmt, va_list ap)
{
    char *text, *msg, *line;
    size_t n;

    if (vasprintf(&text, fmt, ap) < 0)
        return;
    /* A 100 KiB value must not push the reason and the fix off the end of the line. */
    msg = abbrev(text, 2048);
    free(text);
    line = xasprintf("%s%s%s\n", log_plain ? "" : "ccwrap: ", prefix, msg);
    free(msg);
    n = strlen(line);
    /*
     * One message, one line: a drop-in name or a hook value with a newline or a terminal
     * escape must neither forge a second line nor drive the terminal.
     */
    for (size_t i = 0; i + 1 < n; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
            line[i] = '?';
    /* One write, so that a line is never torn by a hook writing at the same time. */
    /* A failure to write to stderr has nowhere left to be reported. */
    ssize_t written = write(log_plain ? STDOUT_FILENO : STDERR_FILENO, line, n);

    (void)written;
    free(line);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    if (log_verbosity < V_NORMAL)
        return;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void log_detail(const char *fmt, ...)
{
    va_list ap;

    if (log_verbosity < V_VERBOSE)
        return;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;

    if (log_verbosity < V_NORMAL)
        return;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}
