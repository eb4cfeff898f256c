/*
 * util.h — small helpers every module of ccwrap and of its helper ccwrap-cache uses (util.c):
 * allocation that never returns NULL, bounded number and duration parsing, the monotonic
 * clock, text made safe to show. libc only.
 */
#ifndef CCWRAP_UTIL_H
#define CCWRAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "ccwrap: out of memory" and exit 125: what every x*alloc does when there is none. */
void out_of_memory(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);
/* "1 s", "0.25 s": a duration the user set, without trailing zeros. Allocated. */
char *seconds_text(int64_t ms);
/*
 * A duration in seconds, as a user writes it: "10", "0.5", "250ms", "2s", "1min".
 * At most three decimals, at most one day. Returns 0 and sets *ms, or -1.
 */
int parse_duration(const char *s, int64_t *ms);
/* A whole number in [min, max]; returns 0 or -1. */
int parse_long(const char *s, long min, long max, long *out);
/* A TCP port, 1..65535. */
int parse_port(const char *s, int *port);
/* Signal name without "SIG" ("TERM"), or the number as text when it has none. */
const char *signal_name(int sig);
/* True for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool env_name_valid(const char *s, size_t len);
/* S cut to at most MAX bytes by taking out its middle ("head[...]tail"). Allocated. */
char *abbrev(const char *s, size_t max);
/* S as one line on a terminal: control bytes become \xNN. Allocated. */
char *shown_text(const char *s);
/* S as one shell word for a fix the user may paste: as is, '…' or $'…'. Allocated. */
char *shell_word(const char *s);
/* A CCWRAP_ENV line "NAME=value", split in place. 0, or -1 when it is not one. */
int env_line_parse(char *line, char **name, char **value);
/* All of BUF to FD, despite short writes and EINTR. 0, or -1 with errno (ENOSPC: none taken). */
int write_all(int fd, const char *buf, size_t len);

#endif
