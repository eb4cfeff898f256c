/*
 * fuzz_numbers.c — libFuzzer harness for the numbers a user writes: durations
 * (--ready-timeout, delay:), whole numbers and ports. Every result must be in bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    int64_t ms;
    long l;
    int port;

    memcpy(s, data, size);
    s[size] = '\0';
    if (parse_duration(s, &ms) == 0 && (ms < 0 || ms > 86400000))
        abort();
    if (parse_long(s, -5, 86400, &l) == 0 && (l < -5 || l > 86400))
        abort();
    if (parse_port(s, &port) == 0 && (port < 1 || port > 65535))
        abort();
    free(s);
    return 0;
}
