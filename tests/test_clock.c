/* test_clock.c — civil dates, Taipei -> UTC, and the ISO/Taipei formatters. */
#include <stdint.h>

#include "core/clock.h"
#include "t.h"

#define NS CLK_NS_PER_SEC

int main(void) {
    /* days_from_civil at known points */
    CHECK_EQ_I64(clk_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_I64(clk_days_from_civil(1970, 1, 2), 1);
    CHECK_EQ_I64(clk_days_from_civil(1969, 12, 31), -1);
    CHECK_EQ_I64(clk_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_I64(clk_days_from_civil(2026, 11, 25), 20782);  /* 1795564800 / 86400 */
    CHECK_EQ_I64(clk_days_from_civil(2024, 2, 29) + 1, clk_days_from_civil(2024, 3, 1));
    CHECK_EQ_I64(clk_days_from_civil(2100, 2, 28) + 1, clk_days_from_civil(2100, 3, 1));
    CHECK_EQ_I64(clk_days_from_civil(2000, 2, 29) + 1, clk_days_from_civil(2000, 3, 1));

    /* civil_from_days inverts it over a wide range (every day 1900..2300) */
    int bad = 0;
    int64_t prev = clk_days_from_civil(1900, 1, 1) - 1;
    for (int64_t d = clk_days_from_civil(1900, 1, 1); d <= clk_days_from_civil(2300, 1, 1); d++) {
        int y, m, dd;
        clk_civil_from_days(d, &y, &m, &dd);
        if (clk_days_from_civil(y, m, dd) != d || d != prev + 1) bad++;
        if (m < 1 || m > 12 || dd < 1 || dd > 31) bad++;
        prev = d;
    }
    CHECK_EQ_I64(bad, 0);

    /* Taipei -> UTC: 2026-11-25 09:00:01.123456 Taipei = 2026-11-25T01:00:01.123456Z */
    int64_t t = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 1, 123456);
    CHECK_EQ_I64(t, 1795568401123456000LL);
    char iso[31];
    clk_utc_iso(t, iso);
    CHECK_STR(iso, "2026-11-25T01:00:01.123456000Z");
    /* night session after midnight: 2026-11-26 00:30 Taipei = 2026-11-25T16:30Z */
    t = clk_taipei_to_utc_ns(2026, 11, 26, 0, 30, 0, 0);
    clk_utc_iso(t, iso);
    CHECK_STR(iso, "2026-11-25T16:30:00.000000000Z");
    /* year boundary: 2027-01-01 07:59:59.999999 Taipei is still 2026 in UTC */
    t = clk_taipei_to_utc_ns(2027, 1, 1, 7, 59, 59, 999999);
    clk_utc_iso(t, iso);
    CHECK_STR(iso, "2026-12-31T23:59:59.999999000Z");
    /* month boundary with a leap day: 2028-03-01 05:00 Taipei = 2028-02-29T21:00Z */
    t = clk_taipei_to_utc_ns(2028, 3, 1, 5, 0, 0, 0);
    clk_utc_iso(t, iso);
    CHECK_STR(iso, "2028-02-29T21:00:00.000000000Z");
    /* the epoch itself */
    CHECK_EQ_I64(clk_taipei_to_utc_ns(1970, 1, 1, 8, 0, 0, 0), 0);

    /* UTC -> Taipei date/time strings, including across midnight */
    char date[11], tm[16];
    t = clk_taipei_to_utc_ns(2026, 11, 26, 0, 30, 0, 250000);
    clk_taipei_date(t, date);
    clk_taipei_time(t, tm);
    CHECK_STR(date, "2026-11-26");
    CHECK_STR(tm, "00:30:00.250000");
    t = clk_taipei_to_utc_ns(2026, 4, 1, 18, 33, 18, 84000);
    clk_taipei_date(t, date);
    clk_taipei_time(t, tm);
    CHECK_STR(date, "2026-04-01");
    CHECK_STR(tm, "18:33:18.084000");
    /* before the epoch: floor division keeps the right day and time */
    clk_utc_iso(-1, iso);
    CHECK_STR(iso, "1969-12-31T23:59:59.999999999Z");
    clk_taipei_date(-1, date);
    clk_taipei_time(-1, tm);
    CHECK_STR(date, "1970-01-01");
    CHECK_STR(tm, "07:59:59.999999");

    /* the ends of the int64 ns range format without overflow (UBSan watches) */
    clk_utc_iso(INT64_MAX, iso);
    CHECK_STR(iso, "2262-04-11T23:47:16.854775807Z");
    clk_utc_iso(INT64_MIN, iso);
    CHECK_STR(iso, "1677-09-21T00:12:43.145224192Z");
    clk_taipei_date(INT64_MAX, date);
    clk_taipei_time(INT64_MAX, tm);
    CHECK_STR(date, "2262-04-12");
    CHECK_STR(tm, "07:47:16.854775");
    clk_taipei_time(INT64_MIN, tm);
    CHECK_STR(tm, "08:12:43.145224");

    /* round trip Taipei text -> ns -> Taipei text for a spread of instants */
    int rt_bad = 0;
    for (int64_t s = -86400LL * 400; s < 86400LL * 365 * 250; s += 86400LL * 7 + 3601 * 5 + 17) {
        int64_t ns = s * NS + 123456000;
        char d2[11], t2[16];
        clk_taipei_date(ns, d2);
        clk_taipei_time(ns, t2);
        int y = (d2[0] - '0') * 1000 + (d2[1] - '0') * 100 + (d2[2] - '0') * 10 + (d2[3] - '0');
        int mo = (d2[5] - '0') * 10 + (d2[6] - '0'), da = (d2[8] - '0') * 10 + (d2[9] - '0');
        int h = (t2[0] - '0') * 10 + (t2[1] - '0'), mi = (t2[3] - '0') * 10 + (t2[4] - '0');
        int se = (t2[6] - '0') * 10 + (t2[7] - '0');
        if (clk_taipei_to_utc_ns(y, mo, da, h, mi, se, 123456) != ns) rt_bad++;
    }
    CHECK_EQ_I64(rt_bad, 0);

    /* Taipei day / trading day / text (the offset's only owner) */
    const int64_t t0 = 1795568400000000000LL; /* 2026-11-25 09:00:00 Taipei = 01:00 UTC */
    char tx[CLK_TEXT_MAX], dt[11];
    CHECK_STR(clk_taipei_text(t0 + 1234567, tx), "2026-11-25 09:00:00.001234");
    CHECK_STR(clk_taipei_text(-1, tx), "1970-01-01 07:59:59.999999");
    CHECK_EQ_I64(clk_taipei_day(t0), 20782);
    CHECK_EQ_I64(clk_taipei_day(16LL * 3600 * NS - 1), 0); /* 23:59:59 Taipei */
    CHECK_EQ_I64(clk_taipei_day(16LL * 3600 * NS), 1);     /* midnight Taipei */
    CHECK_EQ_I64(clk_taipei_day(-8LL * 3600 * NS - 1), -1);
    CHECK_EQ_I64(clk_taipei_day_start(20782), t0 - 9LL * 3600 * NS);
    CHECK_STR(clk_day_text(20782, dt), "2026-11-25");
    /* the trading day rolls at 15:00 Taipei (07:00 UTC) */
    CHECK_EQ_I64(clk_trading_day(t0 + 6LL * 3600 * NS - 1), 20782); /* 14:59:59.999 */
    CHECK_EQ_I64(clk_trading_day(t0 + 6LL * 3600 * NS), 20783);     /* 15:00 */
    CHECK_EQ_I64(clk_trading_day(t0 - 9LL * 3600 * NS), 20782);     /* 00:00 */
    /* dates and weekdays */
    int y = 0, mo = 0, da = 0;
    CHECK_EQ_I64(clk_parse_date("2026-11-25", &y, &mo, &da), 0);
    CHECK(y == 2026 && mo == 11 && da == 25);
    CHECK_EQ_I64(clk_parse_date("2026-02-30", &y, &mo, &da), -1);
    CHECK_EQ_I64(clk_parse_date("2026/11/25", &y, &mo, &da), -1);
    CHECK_EQ_I64(clk_parse_date("2026-11-250", &y, &mo, &da), -1);
    CHECK_EQ_I64(clk_parse_date(NULL, &y, &mo, &da), -1);
    CHECK(y == 2026 && mo == 11 && da == 25); /* untouched by failures */
    CHECK_EQ_I64(clk_weekday(0), 4);                                  /* Thursday */
    CHECK_EQ_I64(clk_weekday(clk_days_from_civil(2026, 11, 25)), 3);  /* Wednesday */
    CHECK_EQ_I64(clk_weekday(-1), 3);

    /* clocks: realtime is after 2024, monotonic does not go back */
    CHECK(clk_now_ns() > clk_days_from_civil(2024, 1, 1) * 86400 * NS);
    int64_t m1 = clk_mono_ns(), m2 = clk_mono_ns();
    CHECK(m2 >= m1);
    T_DONE();
}
