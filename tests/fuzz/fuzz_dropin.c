/*
 * fuzz_dropin.c — libFuzzer harness for drop-in name filtering: any name (any byte but '/'
 * and NUL) is either run or skipped with a one-line reason, and the rules are those of
 * doc/design.md.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"
#include "../../wrapper/hooks.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = xmalloc(size + 1), *reason;
    size_t len;

    memcpy(name, data, size);
    name[size] = '\0';
    len = strlen(name);
    if (len == 0 || memchr(name, '/', len)) {
        free(name);
        return 0;
    }
    reason = hook_skip_reason(name);
    /* A hidden name is always skipped; a skipped name always says why, on one line. */
    if (name[0] == '.' && !reason)
        abort();
    if (reason && (strncmp(reason, "skipped: ", 9) != 0 || strchr(reason, '\n')))
        abort();
    if (!reason && len >= 4 && strcmp(name + len - 4, ".bak") == 0)
        abort();
    free(reason);
    free(name);
    return 0;
}
