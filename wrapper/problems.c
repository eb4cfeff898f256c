/*
 * problems.c — a list of "PATH: text" findings that lower files collect and upper files print
 * (hooks.c and legacy.c fill it; check, plan and the phases show it). Calls nothing above it.
 */
#include <stddef.h>
#include <stdarg.h>

#include "util.h"
#include "problems.h"

#include <stdio.h>
#include <stdlib.h>

void problem_add(struct problems *ps, const char *path, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = xstrdup("(out of memory)");
    va_end(ap);
    ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof *ps->v);
    ps->v[ps->n].path = xstrdup(path);
    ps->v[ps->n].text = text;
    ps->n++;
}

void problems_free(struct problems *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].path);
        free(ps->v[i].text);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}
