/*
 * ccwrap.h — what every room of ccwrap shares: its version and the exit statuses it chooses.
 * Each room NAME.c has its own NAME.h; tests/layers lists the rooms lowest first and checks
 * that no header includes one above it and no room calls upward.
 */
#ifndef CCWRAP_H
#define CCWRAP_H

#define CCWRAP_VERSION "0.1.0"

/* Exit statuses of §7 that ccwrap itself chooses. */
enum {
    EXIT_TIMEOUT = 124,
    EXIT_CCWRAP = 125,
    EXIT_NOEXEC = 126,
    EXIT_NOTFOUND = 127,
};

#endif
