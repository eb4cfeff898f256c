/*
 * fuzz_value.c — libFuzzer harness for trust_value (value.c): any command line gives a verdict,
 * NULL or one message, never a crash, a leak or a read past the value. The application root
 * holds a program of root's and nothing of anyone else's, so most lines pass.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/config.h"
#include "../../wrapper/value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    static struct config c = {.shell = "/bin/sh"};
    char *value, *why, path[128];
    FILE *f;
    char *env[] = {"APP_HOME=/tmp", "X=bin/app --flag", NULL};

    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/ccwrap-fuzz-value.%d", (int)getpid());
        mkdir(root, 0755);
        snprintf(path, sizeof path, "%s/bin", root);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/bin/app", root);
        f = fopen(path, "w");
        if (f)
            fclose(f);
        chmod(path, 0755);
        atexit(remove_root);
    }
    value = malloc(size + 1);
    if (!value)
        return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    why = trust_value(value, root, &c, env);
    if (why && !*why)
        abort();
    free(why);
    free(value);
    return 0;
}
