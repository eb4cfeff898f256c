/*
 * problems.h — findings collected below, printed above; defined in problems.c.
 */
#ifndef CCWRAP_PROBLEMS_H
#define CCWRAP_PROBLEMS_H

#include <stddef.h>

/* A problem found while reading hooks or legacy files: "PATH: text". */
struct problem {
    char *path;
    char *text;
};

struct problems {
    struct problem *v;
    size_t n;
};

void problem_add(struct problems *ps, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void problems_free(struct problems *ps);

#endif
