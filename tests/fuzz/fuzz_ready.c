/*
 * fuzz_ready.c — libFuzzer harness for readiness specs (--ready, CCWRAP_READY, ready = …):
 * ready_parse must answer every string with a spec or a one-line error, never crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"
#include "../../wrapper/ready.h"
#include "../../wrapper/ready_text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = xmalloc(size + 1), err[256];
    struct ready r;

    memcpy(spec, data, size);
    spec[size] = '\0';
    memset(&r, 0, sizeof r);
    r.notify_fd = -1;
    if (ready_parse(spec, &r, err, sizeof err) < 0) {
        if (!memchr(err, '\0', sizeof err) || strchr(err, '\n'))
            abort();
    } else {
        (void)ready_waiting(&r);
    }
    ready_free(&r);
    free(spec);
    return 0;
}
