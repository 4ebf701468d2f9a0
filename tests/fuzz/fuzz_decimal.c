/* fuzz_decimal.c — libFuzzer target: exact decimal text <-> fixed point.
 *
 * Oracle: whatever dec_parse accepts, dec_format writes back as text that
 * dec_parse reads to the same integer (a round trip never moves a value), and
 * the canonical text is a fixed point of format∘parse. A rejected input leaves
 * the output untouched (callers rely on it to keep the previous field value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const int64_t sentinel = 0x5a5a5a5a5a5aLL;
    int64_t v = sentinel;
    if (dec_parse((const char *)data, size, &v) != 0) {
        if (v != sentinel) abort(); /* a failed parse must not write */
        return 0;
    }
    char text[32];
    size_t n = dec_format(v, text);
    if (n == 0 || n >= 24 || text[n] != '\0') abort();
    int64_t back = 0;
    if (dec_parse(text, n, &back) != 0 || back != v) abort();
    char again[32];
    size_t m = dec_format(back, again);
    if (m != n || memcmp(text, again, n) != 0) abort();
    return 0;
}
