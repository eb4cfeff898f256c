/*
 * cronexpr.h — cron(5) schedules, pure (§12); defined in cronexpr.c.
 */
#ifndef CCWRAP_CRONEXPR_H
#define CCWRAP_CRONEXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cron_field { CRON_MINUTE, CRON_HOUR, CRON_DOM, CRON_MONTH, CRON_DOW, CRON_FIELDS };

/* A schedule: the values each field allows, as bits (day-of-week 0-6, Sunday 0). */
struct cronexpr {
    uint64_t bits[CRON_FIELDS];
    bool dom_star, dow_star; /* the field began with '*': cron's OR rule does not apply */
};

/*
 * The schedule at the start of TEXT: five fields or an @ word (@reboot refused). *REST, when
 * REST is given, is what follows it (an entry's command), blanks skipped. 0, or -1 with ERR
 * naming the field and why: "day-of-month: '32' is out of range 1-31".
 */
int cronexpr_parse(const char *text, struct cronexpr *e, const char **rest, char *err,
                   size_t errlen);
/* The first matching minute strictly after AFTER (seconds since the epoch, UTC), or -1: none
 * within 400 years. */
int64_t cronexpr_next(const struct cronexpr *e, int64_t after);
/* "2026-12-06T10:00Z", "…T10:00:30Z" (Z optional) to seconds since the epoch. 0 or -1. */
int cron_time_parse(const char *s, int64_t *t);
/* T as "2026-12-06T10:00:00Z" in BUF (at least 21 bytes). */
void cron_time_format(int64_t t, char *buf, size_t len);

#endif
