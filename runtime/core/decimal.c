/* decimal.c — exact decimal text <-> fixed-point int64 × SHJ_PRICE_SCALE (10^6) (see decimal.h).
 *
 * Guarantees: no double anywhere; dec_parse and the payload parser share one
 * implementation (js_dec_parse in json_scan.h), so "what the parser accepts"
 * and "what dec_parse accepts" are the same set; dec_format(dec_parse(s)) is
 * the shortest exact spelling of s, and every int64 (INT64_MIN included)
 * formats without overflow.
 */
#include "core/decimal.h"

#include "core/json_scan.h"
#include "core/shj_event.h"

int dec_parse(const char *s, size_t n, int64_t *out) {
    if (!s || !out) return -1;
    return js_dec_parse(s, n, out);
}

size_t dec_format(int64_t v, char *buf) {
    /* Work on the magnitude as unsigned: -INT64_MIN does not exist as int64. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = mag / (uint64_t)SHJ_PRICE_SCALE;
    unsigned frac = (unsigned)(mag % (uint64_t)SHJ_PRICE_SCALE);
    char tmp[24];
    size_t n = 0;
    if (frac) {
        int digits = SHJ_PRICE_DECIMALS;
        while (frac % 10 == 0) { /* shortest: drop trailing zeros */
            frac /= 10;
            digits--;
        }
        for (int i = 0; i < digits; i++) {
            tmp[n++] = (char)('0' + frac % 10);
            frac /= 10;
        }
        tmp[n++] = '.';
    }
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (v < 0) tmp[n++] = '-';
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}
