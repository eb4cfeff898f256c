/*
 * fuzz_http.c — libFuzzer harness for the answers an http:// or health-check probe reads:
 * http_status_parse must give a status only for a real first line, and read nothing past LEN.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../wrapper/util.h"
#include "../../wrapper/ready_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is S[0..N) "HTTP/" VERSION SP+ STATUS (then the end, SP, CR or LF), VERSION printable? */
static bool first_line_says(const char *s, size_t n, int status)
{
    char digits[4];
    size_t i = 5, v;

    if (n < 5 || memcmp(s, "HTTP/", 5) != 0)
        return false;
    for (v = i; i < n && s[i] > ' ' && s[i] < 0x7f;)
        i++;
    if (i == v || i >= n || s[i] != ' ')
        return false;
    while (i < n && s[i] == ' ')
        i++;
    if (n - i < 3 || status < 100 || status > 999)
        return false;
    digits[0] = (char)('0' + status / 100);
    digits[1] = (char)('0' + status / 10 % 10);
    digits[2] = (char)('0' + status % 10);
    digits[3] = '\0';
    return memcmp(s + i, digits, 3) == 0 &&
           (n - i == 3 || s[i + 3] == ' ' || s[i + 3] == '\r' || s[i + 3] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past the answer the probe received. */
    char *s = xmalloc(size ? size : 1), *line;
    const char *nl;
    int status, again;
    size_t first;

    memcpy(s, data, size);
    status = http_status_parse(s, size);
    if (status != -1 && !first_line_says(s, size, status))
        abort();
    /* What follows the first line never changes the status. */
    nl = memchr(s, '\n', size);
    first = nl ? (size_t)(nl - s) + 1 : size;
    line = xmalloc(first + 8);
    memcpy(line, s, first);
    memcpy(line + first, "X: 200\r\n", 8);
    again = http_status_parse(line, nl ? first + 8 : first);
    if (again != status)
        abort();
    /* A real status line made of the input's bytes is always read right. */
    if (size >= 3) {
        char ok[32];
        int want = 100 + (data[0] * 256 * 256 + data[1] * 256 + data[2]) % 900;

        snprintf(ok, sizeof ok, "HTTP/1.%d %d %s\r\n", data[0] % 2, want, size > 3 ? "OK" : "");
        if (http_status_parse(ok, strlen(ok)) != want)
            abort();
    }
    free(line);
    free(s);
    return 0;
}
