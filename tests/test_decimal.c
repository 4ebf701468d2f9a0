/* test_decimal.c — dec_parse / dec_format: exact, shortest, overflow-safe.
 * Every expected value is written in units of S = SHJ_PRICE_SCALE (10^6),
 * so the test states the meaning ("585.5 is 5855 tenths") not a scale. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/decimal.h"
#include "core/shj_event.h"
#include "t.h"

#define S SHJ_PRICE_SCALE

static int parse(const char *s, int64_t *v) { return dec_parse(s, strlen(s), v); }

static void ok(const char *s, int64_t want) {
    int64_t v = 12345;
    int rc = parse(s, &v);
    CHECK_EQ_I64(rc, 0);
    CHECK_EQ_I64(v, want);
    if (rc != 0 || v != want) fprintf(stderr, "  input \"%s\"\n", s);
}

static void bad(const char *s) {
    int64_t v = 777;
    int rc = parse(s, &v);
    CHECK_EQ_I64(rc, -1);
    CHECK_EQ_I64(v, 777); /* untouched on failure */
    if (rc != -1) fprintf(stderr, "  accepted \"%s\"\n", s);
}

static void fmt(int64_t v, const char *want) {
    char buf[24];
    memset(buf, 'x', sizeof buf);
    size_t n = dec_format(v, buf);
    CHECK_STR(buf, want);
    CHECK_EQ_I64(n, strlen(want));
}

int main(void) {
    /* the scale is 10^DECIMALS and the FFI's copy equals it */
    int64_t p10 = 1;
    for (int i = 0; i < SHJ_PRICE_DECIMALS; i++) p10 *= 10;
    CHECK_EQ_I64(S, p10);
    CHECK_EQ_I64(S, 1000000); /* Shioaji 1.7.x: 6 places (the values below) */
    CHECK_EQ_I64(SHJ_PRICE_SCALE_FFI, S);
    CHECK_EQ_I64(SHJ_PRICE_DECIMALS_FFI, SHJ_PRICE_DECIMALS);
    CHECK_EQ_I64(SHJ_PRICE_MAX_UNITS, INT64_MAX / S);

    /* parse: the shapes Shioaji sends and the sign/fraction rules */
    ok("585.5", 5855 * S / 10);
    ok("33601", 33601 * S);
    ok("0", 0);
    ok("-0", 0);
    ok("+1.25", 125 * S / 100);
    ok("-12.5", -125 * S / 10);
    ok("-0.05", -5 * S / 100);
    ok("0.0001", S / 10000);
    ok("0.000001", 1);               /* the smallest unit */
    ok("1026.12", 102612 * S / 100);
    ok("0.49", 49 * S / 100);
    ok("007.50", 75 * S / 10);
    ok("1.50000000", 15 * S / 10);      /* extra fractional digits that are zeros */
    ok("23011.5500", 2301155 * S / 100);
    /* Shioaji's own 6-place decimals (Sinotrade/Sinotrade.github.io @4c63dd4
     * tutor/market_data/streaming/futures/index.md:209 and :220,
     * tutor/market_data/streaming/stocks/index.md:372): exact, not dropped. */
    ok("40461.608055", 40461 * S + 608055);
    ok("1.206261", 1 * S + 206261);
    ok("29.963436", 29 * S + 963436);
    ok("-0.000001", -1);
    ok("9223372036854.775807", INT64_MAX);
    ok("-9223372036854.775808", INT64_MIN);
    ok("00000000000000000000000000001", S); /* leading zeros do not overflow */

    bad("");
    bad("-");
    bad("+");
    bad(".5");
    bad("5.");
    bad("1.2.3");
    bad("58x.5");
    bad("1e3");
    bad(" 1");
    bad("1 ");
    bad("--1");
    bad("0x10");
    bad("1.0000001");             /* a seventh digit that is not zero */
    bad("0.1234567");
    bad("9223372036854.775808");  /* INT64_MAX + 1 */
    bad("-9223372036854.775809");
    bad("9223372036855");
    bad("922337203685477.5807");  /* the old × 10^4 limit: now out of range */
    bad("99999999999999999999999");
    bad("NaN");
    bad("inf");

    /* not NUL-terminated: only n bytes are read */
    int64_t v = 0;
    CHECK_EQ_I64(dec_parse("585.5999", 5, &v), 0);
    CHECK_EQ_I64(v, 5855 * S / 10);
    CHECK_EQ_I64(dec_parse("12", 0, &v), -1);
    CHECK_EQ_I64(dec_parse(NULL, 3, &v), -1);

    /* format: shortest exact text */
    fmt(5855 * S / 10, "585.5");
    fmt(-5 * S / 100, "-0.05");
    fmt(33601 * S, "33601");
    fmt(0, "0");
    fmt(1, "0.000001");
    fmt(-1, "-0.000001");
    fmt(S / 10000, "0.0001");
    fmt(S, "1");
    fmt(102612 * S / 100, "1026.12");
    fmt(2301155 * S / 100, "23011.55");
    fmt(40461 * S + 608055, "40461.608055");
    fmt(INT64_MAX, "9223372036854.775807");
    fmt(INT64_MIN, "-9223372036854.775808");

    /* round trip: format(parse(x)) == x for shortest spellings, and
     * parse(format(v)) == v for random v (including the extremes) */
    const char *shortest[] = {"585.5", "-0.05", "33601", "0.0001", "123456789.1234", "-7",
                              "0.000001", "40461.608055", "-1.206261"};
    for (size_t i = 0; i < sizeof shortest / sizeof *shortest; i++) {
        char buf[24];
        CHECK_EQ_I64(parse(shortest[i], &v), 0);
        dec_format(v, buf);
        CHECK_STR(buf, shortest[i]);
    }
    srand(12345);
    int round_fail = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        int64_t x = (int64_t)r;
        if (i % 4 == 1) x %= 10000 * S;   /* realistic prices too */
        if (i == 2) x = INT64_MIN;
        if (i == 3) x = INT64_MAX;
        char buf[24];
        size_t n = dec_format(x, buf);
        int64_t y = 0;
        if (dec_parse(buf, n, &y) != 0 || y != x || strlen(buf) != n) round_fail++;
    }
    CHECK_EQ_I64(round_fail, 0);
    T_DONE();
}
