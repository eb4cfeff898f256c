/*
 * fuzz_legacy.c — libFuzzer harness for the legacy clevercloud/ *.json extraction: any bytes
 * in a legacy file give entries or warnings, and migrate --write rewrites it, never a crash
 * or a leak.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/msg.h"
#include "../../wrapper/problems.h"
#include "../../wrapper/config.h"
#include "../../wrapper/legacy.h"
#include "../../wrapper/migrate.h"

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

/* What migrate wrote back must read again as JSON, with no postDeploy left in it. */
static void check_rewritten(const struct config *c)
{
    struct legacy_list again = {0};
    struct problems w = {0};

    legacy_scan(root, c, &again, &w);
    if (again.n > 0 || again.unread.n > 0)
        abort();
    legacy_list_free(&again);
    problems_free(&w);
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
        if (!freopen("/dev/null", "w", stdout))
            return 0;
    }
    snprintf(path, sizeof path, "%s/clevercloud/php.json", root);
    f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    log_verbosity = V_QUIET;
    {
        char *dirs[] = {"hooks.d", NULL};
        struct config c = {
            .legacy_misplaced = MISPLACED_RUN, .hooks_dirs = dirs, .n_hooks_dirs = 1};
        struct migrate_opts o = {.write = true, .force = true};

        legacy_scan(root, &c, &l, &w);
        /* And the way back: the file rewritten in its own style, whatever its bytes. */
        if (legacy_migrate(root, &c, &o) == 0 && l.n > 0)
            check_rewritten(&c);
        snprintf(path, sizeof path, "rm -rf %s/hooks.d", root);
        if (system(path) != 0)
            return 0;
    }
    legacy_list_free(&l);
    problems_free(&w);
    return 0;
}
