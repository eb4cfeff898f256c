/*
 * fuzz_config.c — libFuzzer harness for the configuration parser (prescan and libconfuse):
 * any text gives a configuration whose every value is in bounds, or an error, never a crash,
 * a hang or a leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"
#include "../../wrapper/msg.h"
#include "../../wrapper/config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char *buf;

    /* slurp() refuses a file holding a NUL byte before the parser sees it. */
    if (memchr(data, '\0', size))
        return 0;
    buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    memset(&c, 0, sizeof c);
    log_verbosity = V_QUIET;
    if (config_parse(&c, buf, "fuzz.conf") == 0) {
        if (!c.shell || c.shell[0] != '/' || !c.ready)
            abort();
        for (size_t i = 0; i < c.n_hooks_dirs; i++)
            if (!c.hooks_dirs[i] || !c.hooks_dirs[i][0])
                abort();
        if (c.hook_timeout < 0 || c.hook_timeout > 86400 || c.kill_grace < 0 ||
            c.kill_grace > 3600 || c.ready_timeout < 0 || c.ready_timeout > 86400)
            abort();
        if ((int)c.legacy < 0 || c.legacy > LEGACY_FAIL || (int)c.on_ready_timeout < 0 ||
            c.on_ready_timeout > ON_TIMEOUT_KEEP)
            abort();
    }
    config_free(&c);
    free(buf);
    return 0;
}
