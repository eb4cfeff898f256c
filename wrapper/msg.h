/*
 * msg.h — the messages of ccwrap and of its helper ccwrap-cache, one core for both: "ccwrap: …"
 * on stderr, one line and one write each, control bytes shown as '?', -q and -v. No jansson,
 * no libconfuse: the helper links it with util.c alone.
 */
#ifndef CCWRAP_MSG_H
#define CCWRAP_MSG_H

#include <stdbool.h>

enum verbosity { V_QUIET = 0, V_NORMAL = 1, V_VERBOSE = 2 };
extern enum verbosity log_verbosity;
/* `check`: messages become plain "PATH: problem" lines on stdout. */
extern bool log_plain;

/* "ccwrap: …" on stderr. info is hidden by -q, detail shown only by -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ccwrap: warning: …", hidden by -q. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ccwrap: …", always shown. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
