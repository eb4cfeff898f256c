/*
 * log.h — the JSON-lines event log (--events); defined in log.c. Messages are msg.h's.
 */
#ifndef CCWRAP_LOG_H
#define CCWRAP_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Opens FILE for appending events; 0 or -1 after reporting. NULL: no event log. */
int events_open(const char *path);
void events_close(void);
/* Whether an event log is being written. */
bool events_enabled(void);
/*
 * One event: a type and key/value pairs, the value's kind given by the key's first character:
 * 's' string, 'i' integer (int64_t), 'b' boolean (int). Terminated by EV_END.
 * events_emit("hook_end", "spoint", "pre-run", "istatus", (int64_t)0, EV_END) writes
 * {"event":"hook_end","point":"pre-run","status":0,"time":…}.
 */
void events_emit(const char *type, ...) __attribute__((sentinel));
#define EV_END ((const char *)NULL)

#endif
