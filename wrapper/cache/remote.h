/*
 * remote.h — a store on a server, through libcurl (loaded when needed); defined in remote.c.
 */
#ifndef CCWRAP_CACHE_REMOTE_H
#define CCWRAP_CACHE_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A request's data: where a GET's body goes, where a PUT's comes from, an error answer's start. */
struct body {
    int out;        /* download target, or -1 */
    int in;         /* upload source, or -1 */
    char text[512]; /* the start of an error answer */
    size_t n;
};
/* libcurl loaded and set up for the remote store S. 0, or -1 reported. */
int remote_open(struct store *s);
void remote_close(struct store *s);
/*
 * One request on NAME of the app: METHOD "GET" (into B->out), "PUT" (from B->in, SIZE bytes) or
 * "DELETE". The HTTP status, or -1 after reporting a transport failure.
 */
long remote_request(struct store *s, const char *method, const char *name, struct body *b,
                    int64_t size);
/* The server answered CODE to METHOD of NAME and it was not what was asked: say so. */
void remote_refused(struct store *s, struct body *b, long code, const char *method,
                    const char *name);

#endif
