/*
 * cronexpr.c — cron(5) schedules (§12): five fields or an @ word parsed into bit sets,
 * and the next matching minute after a time, in UTC. Pure: text in, times out; no I/O, no
 * globals, so tests drive it without waiting.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cronexpr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 400 years: the Gregorian calendar repeats, so a schedule that matches never is found out. */
#define SEARCH_YEARS 400

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const struct field {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is min + i */
    int n_names;
} fields[CRON_FIELDS] = {
    {"minute", 0, 59, NULL, 0},
    {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},
    {"month", 1, 12, month_names, 12},
    /* 7 is Sunday too (cron(5)); it is folded onto 0 once parsed. */
    {"day-of-week", 0, 7, day_names, 7},
};

static const struct shorthand {
    const char *word;
    const char *fields;
} shorthands[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

/* A number or (for months and days) a name at *p; advances *p. 0, or -1 with ERR. */
static int value_at(const char **p, const struct field *f, const char *item, int *v, char *err,
                    size_t errlen)
{
    const char *s = *p;
    long n = 0;
    int digits = 0;

    if (isalpha((unsigned char)*s)) {
        for (int i = 0; i < f->n_names; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
                *v = f->min + i;
                *p = s + 3;
                return 0;
            }
        }
        if (f->n_names > 0)
            return fail(err, errlen, "%s: '%s': '%.*s' is not a %s name (%s..%s)", f->name, item,
                        (int)strcspn(s, "-/,"), s, f == &fields[CRON_MONTH] ? "month" : "day",
                        f->names[0], f->names[f->n_names - 1]);
        return fail(err, errlen, "%s: '%s': names are for months and days; give a number %d-%d",
                    f->name, item, f->min, f->max);
    }
    while (isdigit((unsigned char)*s)) {
        if (++digits > 4)
            break;
        n = n * 10 + (*s++ - '0');
    }
    if (digits == 0)
        return fail(err, errlen, "%s: '%s' is not a number, a range, a list or *", f->name, item);
    if (digits > 4 || n < f->min || n > f->max)
        return fail(err, errlen, "%s: '%s' is out of range %d-%d", f->name, item, f->min, f->max);
    *v = (int)n;
    *p = s;
    return 0;
}

/* One element of a list: *, N, A-B, each with an optional /STEP. */
static int item_parse(const char *item, const struct field *f, uint64_t *bits, char *err,
                      size_t errlen)
{
    const char *p = item;
    int lo = 0, hi = 0, step = 1;

    if (*p == '*') {
        lo = f->min;
        hi = f->max == 7 ? 6 : f->max;
        p++;
    } else {
        if (value_at(&p, f, item, &lo, err, errlen) < 0)
            return -1;
        hi = lo;
        if (*p == '-') {
            p++;
            if (value_at(&p, f, item, &hi, err, errlen) < 0)
                return -1;
            if (hi < lo)
                return fail(err, errlen, "%s: '%s' is a range backwards; write it low-high",
                            f->name, item);
        } else if (*p == '/') {
            /* cron(5): steps go with ranges and *; "5/10" means nothing there. */
            return fail(err, errlen, "%s: '%s': a step goes with a range or *; write %d-%d%s",
                        f->name, item, lo, f->max == 7 ? 6 : f->max, p);
        }
    }
    if (*p == '/') {
        long n = 0;
        int digits = 0;

        for (p++; isdigit((unsigned char)*p) && digits <= 4; p++, digits++)
            n = n * 10 + (*p - '0');
        if (digits == 0 || *p != '\0')
            return fail(err, errlen, "%s: '%s': a step is a whole number after '/'", f->name, item);
        if (digits > 4 || n < 1 || n > f->max)
            return fail(err, errlen, "%s: '%s': the step is out of range 1-%d", f->name, item,
                        f->max);
        step = (int)n;
    } else if (*p != '\0') {
        return fail(err, errlen, "%s: '%s' is not a number, a range, a list or *", f->name, item);
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= (uint64_t)1 << (f->max == 7 && v == 7 ? 0 : v);
    return 0;
}

/* Field F's text (one word, no blanks) into E. */
static int field_parse(const char *word, size_t len, enum cron_field fi, struct cronexpr *e,
                       char *err, size_t errlen)
{
    const struct field *f = &fields[fi];
    char text[128], *item, *save = NULL;

    if (len >= sizeof text)
        return fail(err, errlen, "%s: '%.20s...' is too long", f->name, word);
    memcpy(text, word, len);
    text[len] = '\0';
    if (text[0] == ',' || text[len - 1] == ',' || strstr(text, ",,"))
        return fail(err, errlen, "%s: '%s' has an empty list item", f->name, text);
    /* cron(5)'s OR rule looks at the field's first character, as Vixie cron does. */
    if (fi == CRON_DOM)
        e->dom_star = text[0] == '*';
    if (fi == CRON_DOW)
        e->dow_star = text[0] == '*';
    for (item = strtok_r(text, ",", &save); item; item = strtok_r(NULL, ",", &save))
        if (item_parse(item, f, &e->bits[fi], err, errlen) < 0)
            return -1;
    return 0;
}

/* A schedule whose days can never come (30 feb) would search for ever: refused here. */
static int days_possible(const struct cronexpr *e, char *err, size_t errlen)
{
    if (!e->dow_star && !e->dom_star)
        return 0; /* OR: the weekday alone comes every week */
    for (int m = 1; m <= 12; m++) {
        if (!(e->bits[CRON_MONTH] >> m & 1))
            continue;
        for (int d = 1; d <= month_days[m - 1]; d++)
            if (e->bits[CRON_DOM] >> d & 1)
                return 0;
    }
    return fail(err, errlen,
                "day-of-month: no day of it exists in the months given (such as 30 "
                "feb); no time ever matches");
}

/* The five fields at P into E; *rest: what follows them. */
static int fields_parse(const char *p, struct cronexpr *e, const char **rest, char *err,
                        size_t errlen)
{
    for (int fi = 0; fi < CRON_FIELDS; fi++) {
        size_t len = strcspn(p, " \t\n");

        if (len == 0)
            return fail(err, errlen,
                        "%s: missing: a schedule has five fields, MIN HOUR "
                        "DAY-OF-MONTH MONTH DAY-OF-WEEK",
                        fields[fi].name);
        if (field_parse(p, len, (enum cron_field)fi, e, err, errlen) < 0)
            return -1;
        p += len;
        while (is_blank_char(*p))
            p++;
    }
    *rest = p;
    return days_possible(e, err, errlen);
}

int cronexpr_parse(const char *text, struct cronexpr *e, const char **rest, char *err,
                   size_t errlen)
{
    const char *p = text, *after = text;
    size_t len;

    memset(e, 0, sizeof *e);
    while (is_blank_char(*p))
        p++;
    if (*p != '@') {
        if (fields_parse(p, e, &after, err, errlen) < 0)
            return -1;
        if (rest)
            *rest = after;
        return 0;
    }
    len = strcspn(p, " \t");
    for (size_t i = 0; i < sizeof shorthands / sizeof shorthands[0]; i++) {
        if (strlen(shorthands[i].word) == len && strncasecmp(p, shorthands[i].word, len) == 0) {
            if (fields_parse(shorthands[i].fields, e, &after, err, errlen) < 0)
                return -1;
            p += len;
            while (is_blank_char(*p))
                p++;
            if (rest)
                *rest = p;
            return 0;
        }
    }
    if (len == 7 && strncasecmp(p, "@reboot", 7) == 0)
        return fail(err, errlen,
                    "@reboot is refused, as Clever Cloud refuses it; run it from a pre-run hook");
    return fail(err, errlen,
                "'%.*s' is not one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, "
                "@annually",
                (int)(len > 40 ? 40 : len), p);
}

/* ---- the calendar (proleptic Gregorian, UTC), after H. Hinnant's days_from_civil ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int64_t y, int m)
{
    return m == 2 && !leap(y) ? 28 : month_days[m - 1];
}

/* The lowest value >= FROM in BITS, or -1. */
static int first_from(uint64_t bits, int from, int max)
{
    for (int v = from; v <= max; v++)
        if (bits >> v & 1)
            return v;
    return -1;
}

static bool day_matches(const struct cronexpr *e, int64_t y, int m, int d)
{
    int64_t days = days_from_civil(y, m, d);
    int dow = (int)(days + 4 - floor_div(days + 4, 7) * 7); /* 1970-01-01 was a Thursday */
    bool dom_ok = e->bits[CRON_DOM] >> d & 1, dow_ok = e->bits[CRON_DOW] >> dow & 1;

    return e->dom_star || e->dow_star ? dom_ok && dow_ok : dom_ok || dow_ok;
}

int64_t cronexpr_next(const struct cronexpr *e, int64_t after)
{
    int64_t minutes = floor_div(after, 60) + 1, days = floor_div(minutes, 1440), y;
    int in_day = (int)(minutes - days * 1440), hour = in_day / 60, minute = in_day % 60, m, d;
    int64_t last_year;

    civil_from_days(days, &y, &m, &d);
    last_year = y + SEARCH_YEARS;
    while (y <= last_year) {
        int h, mi;

        if (!(e->bits[CRON_MONTH] >> m & 1) || d > days_in(y, m)) {
            m = m == 12 ? 1 : m + 1;
            y += m == 1;
            d = 1;
            hour = minute = 0;
            continue;
        }
        if (!day_matches(e, y, m, d) || (h = first_from(e->bits[CRON_HOUR], hour, 23)) < 0) {
            d++;
            hour = minute = 0;
            continue;
        }
        if (h > hour)
            minute = 0;
        if ((mi = first_from(e->bits[CRON_MINUTE], minute, 59)) < 0) {
            hour = h + 1;
            minute = 0;
            if (hour > 23) {
                d++;
                hour = 0;
            }
            continue;
        }
        return (days_from_civil(y, m, d) * 1440 + (int64_t)h * 60 + mi) * 60;
    }
    return -1;
}

/* ---- times as users write them ---------------------------------------- */

/* N digits at S as a number in [MIN, MAX], or -1. */
static int digits(const char *s, int n, int min, int max)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < min || v > max ? -1 : v;
}

int cron_time_parse(const char *s, int64_t *t)
{
    size_t len = strlen(s);
    int y, mo, d, h, mi, sec = 0;

    /* YYYY-MM-DDTHH:MM, then :SS, then Z: fixed places, as ISO 8601's extended format. */
    if (len > 0 && s[len - 1] == 'Z')
        len--;
    if ((len != 16 && len != 19) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        (len == 19 && s[16] != ':'))
        return -1;
    y = digits(s, 4, 1970, 9999);
    mo = digits(s + 5, 2, 1, 12);
    d = digits(s + 8, 2, 1, 31);
    h = digits(s + 11, 2, 0, 23);
    mi = digits(s + 14, 2, 0, 59);
    if (len == 19)
        sec = digits(s + 17, 2, 0, 59);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || d > days_in(y, mo))
        return -1;
    *t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
    return 0;
}

void cron_time_format(int64_t t, char *buf, size_t len)
{
    int64_t days = floor_div(t, 86400), y;
    int secs = (int)(t - days * 86400), m, d;

    civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, secs / 3600,
             secs / 60 % 60, secs % 60);
}
