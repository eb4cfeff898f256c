/*
 * deps.h — the dependency archives of CC_CACHE_DEPENDENCIES; defined in deps.c.
 */
#ifndef CCWRAP_CACHE_DEPS_H
#define CCWRAP_CACHE_DEPS_H

int deps_save(const char *root, const char *app);
int deps_restore(const char *root, const char *app);
int deps_plan(const char *root, const char *app);

#endif
