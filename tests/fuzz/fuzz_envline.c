/*
 * fuzz_envline.c — libFuzzer harness for CCWRAP_ENV lines: env_line_parse either splits
 * NAME=value with a valid NAME or refuses, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = xmalloc(size + 1), *name, *value;

    memcpy(line, data, size);
    line[size] = '\0';
    if (env_line_parse(line, &name, &value) == 0) {
        if (name != line || !env_name_valid(name, strlen(name)) || value <= name)
            abort();
    }
    free(line);
    return 0;
}
