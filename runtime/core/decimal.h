/* decimal.h — exact decimal text <-> fixed-point int64 (scale SHJ_PRICE_SCALE).
 *
 * Never goes through a double. "585.5" -> 585500000, 585500000 -> "585.5".
 * More fractional digits than SHJ_PRICE_DECIMALS are accepted only when the
 * extra digits are zeros; otherwise the value is rejected (exactness first).
 */
#ifndef SHJ_DECIMAL_H
#define SHJ_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Parse s[0..n) ("-12.5", "0", "33601", "+1.25"). 0 ok, -1 malformed/overflow/too precise. */
int dec_parse(const char *s, size_t n, int64_t *out);

/* Format v (scaled) as the shortest exact decimal text ("585.5", "-0.05", "33601").
 * buf must hold 24 bytes; returns the length written (no NUL counted, NUL written). */
size_t dec_format(int64_t v, char *buf);

#endif
