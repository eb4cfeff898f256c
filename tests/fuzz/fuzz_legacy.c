/*
 * fuzz_legacy.c — libFuzzer harness for the legacy clevercloud/ *.json extraction: any bytes
 * in a legacy file give entries or warnings, never a crash or a leak.
 */
#include "../../wrapper/ccwrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static void remove_root(void)
{
    char cmd[96];

    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        return;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct legacy_list l = {0};
    struct problems w = {0};
    char path[128];
    FILE *f;

    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/ccwrap-fuzz-legacy.%d", (int)getpid());
        mkdir(root, 0700);
        snprintf(path, sizeof path, "%s/clevercloud", root);
        mkdir(path, 0700);
        atexit(remove_root);
    }
    snprintf(path, sizeof path, "%s/clevercloud/php.json", root);
    f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    log_verbosity = V_QUIET;
    {
        struct config c = {.legacy_misplaced = MISPLACED_RUN};

        legacy_scan(root, &c, &l, &w);
    }
    legacy_list_free(&l);
    problems_free(&w);
    return 0;
}
