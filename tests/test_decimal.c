/* test_decimal.c — dec_parse / dec_format: exact, shortest, overflow-safe. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/decimal.h"
#include "t.h"

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
    /* parse: the shapes Shioaji sends and the sign/fraction rules */
    ok("585.5", 5855000);
    ok("33601", 336010000);
    ok("0", 0);
    ok("-0", 0);
    ok("+1.25", 12500);
    ok("-12.5", -125000);
    ok("-0.05", -500);
    ok("0.0001", 1);
    ok("1026.12", 10261200);
    ok("0.49", 4900);
    ok("007.50", 75000);
    ok("1.50000000", 15000);      /* extra fractional digits that are zeros */
    ok("23011.5500", 230115500);
    ok("922337203685477.5807", INT64_MAX);
    ok("-922337203685477.5808", INT64_MIN);
    ok("00000000000000000000000000001", 10000); /* leading zeros do not overflow */

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
    bad("1.00001");               /* a fifth digit that is not zero */
    bad("0.12345");
    bad("922337203685477.5808");  /* INT64_MAX + 1 */
    bad("-922337203685477.5809");
    bad("922337203685478");
    bad("99999999999999999999999");
    bad("NaN");
    bad("inf");

    /* not NUL-terminated: only n bytes are read */
    int64_t v = 0;
    CHECK_EQ_I64(dec_parse("585.5999", 5, &v), 0);
    CHECK_EQ_I64(v, 5855000);
    CHECK_EQ_I64(dec_parse("12", 0, &v), -1);
    CHECK_EQ_I64(dec_parse(NULL, 3, &v), -1);

    /* format: shortest exact text */
    fmt(5855000, "585.5");
    fmt(-500, "-0.05");
    fmt(336010000, "33601");
    fmt(0, "0");
    fmt(1, "0.0001");
    fmt(-1, "-0.0001");
    fmt(10000, "1");
    fmt(10261200, "1026.12");
    fmt(230115500, "23011.55");
    fmt(INT64_MAX, "922337203685477.5807");
    fmt(INT64_MIN, "-922337203685477.5808");

    /* round trip: format(parse(x)) == x for shortest spellings, and
     * parse(format(v)) == v for random v (including the extremes) */
    const char *shortest[] = {"585.5", "-0.05", "33601", "0.0001", "123456789.1234", "-7"};
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
        if (i % 4 == 1) x %= 100000000;   /* realistic prices too */
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
