/* test_session.c — core/session: Taiwan's trading hours and the trading
 * day, written once.
 * Dates: 2026-12-02 is a Wednesday, 12-04 a Friday, 12-05/06 the weekend,
 * 12-07 a Monday (Taipei); 12-25 (Friday) is Constitution Day in
 * scripts/data/holidays.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/session.h"
#include "core/shj_event.h"
#include "t.h"

static int64_t at(int d, int h, int m) { return clk_taipei_to_utc_ns(2026, 12, d, h, m, 0, 0); }
static int64_t day(int m, int d) { return clk_days_from_civil(2026, m, d); }
/* The trading day of a Taipei time as "YYYY-MM-DD". */
static const char *td(int m, int d, int h, int mi, int s) {
    static char buf[11];
    return clk_day_text(ses_trading_day(clk_taipei_to_utc_ns(2026, m, d, h, mi, s, 0)), buf);
}

static void trading_day_rule(void) {
    /* day session and stocks: their own date */
    CHECK_STR(td(12, 2, 8, 45, 0), "2026-12-02");
    CHECK_STR(td(12, 2, 13, 30, 0), "2026-12-02");
    CHECK_STR(td(12, 2, 14, 59, 59), "2026-12-02");
    /* the night session belongs to the next trading day, from its first second */
    CHECK_STR(td(12, 2, 15, 0, 0), "2026-12-03");
    CHECK_STR(td(12, 2, 23, 59, 59), "2026-12-03");
    /* midnight does not change it: the tail until 05:00 is the same session */
    CHECK_STR(td(12, 3, 0, 0, 0), "2026-12-03");
    CHECK_STR(td(12, 3, 4, 59, 59), "2026-12-03");
    CHECK_STR(td(12, 3, 8, 45, 0), "2026-12-03");
    /* exactly at the roll, in ns: 14:59:59.999999999 vs 15:00:00 */
    int64_t roll = at(2, 15, 0);
    CHECK_EQ_I64(ses_trading_day(roll - 1), day(12, 2));
    CHECK_EQ_I64(ses_trading_day(roll), day(12, 3));
    /* Friday's night session and its Saturday tail belong to Monday */
    CHECK_STR(td(12, 4, 13, 44, 0), "2026-12-04");
    CHECK_STR(td(12, 4, 15, 0, 0), "2026-12-07");
    CHECK_STR(td(12, 4, 23, 30, 0), "2026-12-07");
    CHECK_STR(td(12, 5, 4, 59, 0), "2026-12-07");
    /* weekend (a status record stamped with its receive time) rolls forward */
    CHECK_STR(td(12, 5, 12, 0, 0), "2026-12-07");
    CHECK_STR(td(12, 6, 20, 0, 0), "2026-12-07");
    CHECK_STR(td(12, 7, 3, 0, 0), "2026-12-07");
    CHECK_EQ_I64(ses_is_trading_day(day(12, 5)), 0);
    CHECK_EQ_I64(ses_is_trading_day(day(12, 6)), 0);
    CHECK_EQ_I64(ses_is_trading_day(day(12, 7)), 1);
    /* holiday: Constitution Day, Friday 2026-12-25. Thursday's night session
     * skips it and the weekend: Monday 12-28 */
    CHECK_EQ_I64(ses_is_trading_day(day(12, 25)), 0);
    CHECK_STR(td(12, 24, 13, 0, 0), "2026-12-24");
    CHECK_STR(td(12, 24, 15, 0, 0), "2026-12-28");
    CHECK_STR(td(12, 25, 10, 0, 0), "2026-12-28");
    /* Lunar New Year 2026: Wed 02-11 is the last day; its night session and
     * everything through Sunday 02-22 belong to Monday 02-23 */
    CHECK_STR(td(2, 11, 9, 0, 0), "2026-02-11");
    CHECK_STR(td(2, 11, 15, 0, 0), "2026-02-23");
    CHECK_STR(td(2, 17, 10, 0, 0), "2026-02-23");
    CHECK_EQ_I64(ses_trading_day_from(day(2, 12)), day(2, 23));
    /* across a year: 2026-12-31 night -> 2027-01-01 holiday -> Monday 01-04 */
    CHECK_STR(td(12, 31, 15, 0, 0), "2027-01-04");
    /* clk_trading_day is the same rule (one owner) */
    CHECK_EQ_I64(clk_trading_day(at(4, 15, 0)), day(12, 7));
    /* times before 1970 still floor correctly */
    CHECK_EQ_I64(ses_trading_day(-1), 0);                       /* 1970-01-01 07:59 Taipei, a Thursday */
    CHECK_EQ_I64(ses_trading_day(-86400 * CLK_NS_PER_SEC - 1), -1); /* Wednesday 1969-12-31 */
}

static void calendar_file(void) {
    char err[256];
    CHECK(ses_holiday_count() >= 15); /* the compiled-in 2026 calendar */
    /* errors name the file and line, and leave the calendar unchanged */
    int before = ses_holiday_count();
    const char bad[] = "# c\n2026-12-07 ok\n2026-13-01 bad month\n";
    CHECK_EQ_I64(ses_holidays_parse(bad, sizeof bad - 1, "t.txt", err, sizeof err), -1);
    CHECK(strstr(err, "t.txt:3") != NULL);
    CHECK_EQ_I64(ses_holiday_count(), before);
    const char dup[] = "2026-12-07\n2026-12-07 again\n";
    CHECK_EQ_I64(ses_holidays_parse(dup, sizeof dup - 1, "t.txt", err, sizeof err), -1);
    CHECK(strstr(err, "twice") != NULL);
    const char glued[] = "2026-12-07x\n";
    CHECK_EQ_I64(ses_holidays_parse(glued, sizeof glued - 1, "t.txt", err, sizeof err), -1);
    /* a file replaces it: make Monday 12-07 a holiday -> Friday night goes to Tuesday */
    char path[] = "/tmp/test_session_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char txt[] = "  # comment line\n\n2026-12-07\tinvented holiday\r\n2026-12-25 # x\n";
    CHECK_EQ_I64(write(fd, txt, sizeof txt - 1), (int64_t)(sizeof txt - 1));
    close(fd);
    CHECK_EQ_I64(ses_holidays_load(path, err, sizeof err), 0);
    CHECK_EQ_I64(ses_holiday_count(), 2);
    CHECK_STR(td(12, 4, 15, 0, 0), "2026-12-08");
    CHECK_EQ_I64(ses_is_trading_day(day(12, 7)), 0);
    unlink(path);
    CHECK_EQ_I64(ses_holidays_load(path, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    CHECK_EQ_I64(ses_holidays_load(NULL, err, sizeof err), 0); /* back to compiled-in */
    CHECK_EQ_I64(ses_holiday_count(), before);
    CHECK_STR(td(12, 4, 15, 0, 0), "2026-12-07");
    /* a run of closed days longer than a month is refused (the roll must end) */
    char longrun[64 * 16];
    size_t n = 0;
    for (int d = 2; d <= 31; d++) n += (size_t)snprintf(longrun + n, sizeof longrun - n, "2026-03-%02d\n", d);
    n += (size_t)snprintf(longrun + n, sizeof longrun - n, "2026-04-01\n2026-04-02\n");
    CHECK_EQ_I64(ses_holidays_parse(longrun, n, "t.txt", err, sizeof err), -1);
    CHECK(strstr(err, "without trading") != NULL);
    /* the repository's file itself parses (the build embeds it; this names a bad line) */
    const char *src = getenv("SHJ_SOURCE_DIR");
    if (src) {
        char p2[4096];
        snprintf(p2, sizeof p2, "%s/scripts/data/holidays.txt", src);
        CHECK_EQ_I64(ses_holidays_load(p2, err, sizeof err), 0);
        CHECK_EQ_I64(ses_holiday_count(), before);
    }
}

/* main.lua --schedule: when subscriptions are on, and the next change. Hours
 * pinned against Sinopac's notes: TWSE 09:00-13:30 (/work/sinopac/
 * TROUBLESHOOTING.md:579, Sinotrade/Shioaji @046010c plugins/shioaji/skills/
 * shioaji/references/TROUBLESHOOTING.md), futures day session 08:45-13:45
 * (MARKET_DATA.md:474-475, 564-565), the night session from 15:00 attached to
 * the next trading day (MARKET_DATA.md:674-676). */
static void schedule(void) {
    char a[CLK_TEXT_MAX], b[CLK_TEXT_MAX];
#define NEXT_IS(ex, t, pre, lead, lag, want)                                                    \
    do {                                                                                        \
        int64_t got_ = ses_sched_next((ex), (t), (pre), (lead), (lag));                         \
        CHECK_STR(clk_taipei_text(got_, a), clk_taipei_text((want), b));                        \
    } while (0)
    /* stocks with the pre-open, subscribing 10 min early, closing 5 min late */
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 7, 0), 1, 600, 300), 0);
    NEXT_IS(SHJ_EX_TSE, at(2, 7, 0), 1, 600, 300, at(2, 8, 20));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 8, 20), 1, 600, 300), 1);
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 8, 20) - 1, 1, 600, 300), 0);
    NEXT_IS(SHJ_EX_TSE, at(2, 8, 20), 1, 600, 300, at(2, 13, 35));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 13, 35), 1, 600, 300), 0);
    /* without the pre-open and margins: exactly 09:00-13:30 */
    NEXT_IS(SHJ_EX_TSE, at(2, 7, 0), 0, 0, 0, at(2, 9, 0));
    NEXT_IS(SHJ_EX_TSE, at(2, 9, 0), 0, 0, 0, at(2, 13, 30));
    /* Friday's close: the weekend is skipped, Monday 08:20 is next */
    NEXT_IS(SHJ_EX_TSE, at(4, 13, 35), 1, 600, 300, at(7, 8, 20));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(5, 10, 0), 1, 600, 300), 0);
    /* Thursday 12-24, then Friday 12-25 (holiday), then the weekend: Monday 12-28 */
    NEXT_IS(SHJ_EX_TSE, at(24, 13, 35), 1, 600, 300, at(28, 8, 20));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(25, 10, 0), 1, 600, 300), 0);

    /* futures: day session, then the night session across midnight */
    NEXT_IS(SHJ_EX_TAIFEX, at(2, 7, 0), 0, 0, 0, at(2, 8, 45));
    NEXT_IS(SHJ_EX_TAIFEX, at(2, 8, 45), 0, 0, 0, at(2, 13, 45));
    NEXT_IS(SHJ_EX_TAIFEX, at(2, 13, 45), 0, 0, 0, at(2, 15, 0));
    NEXT_IS(SHJ_EX_TAIFEX, at(2, 15, 0), 0, 0, 0, at(3, 5, 0));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TAIFEX, at(3, 0, 0), 0, 0, 0), 1);   /* past midnight */
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TAIFEX, at(3, 4, 59), 0, 0, 0), 1);
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TAIFEX, at(3, 5, 0), 0, 0, 0), 0);
    /* Friday night ends Saturday 05:00; nothing until Monday 08:45 */
    NEXT_IS(SHJ_EX_TAIFEX, at(4, 15, 0), 0, 0, 0, at(5, 5, 0));
    NEXT_IS(SHJ_EX_TAIFEX, at(5, 5, 0), 0, 0, 0, at(7, 8, 45));
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TAIFEX, at(5, 23, 0), 0, 0, 0), 0); /* Saturday night */
    /* Thursday 12-24's night session runs (it opens on a trading day), ends
     * on the holiday at 05:00; no day or night session on 12-25 */
    NEXT_IS(SHJ_EX_TAIFEX, at(24, 15, 0), 0, 0, 0, at(25, 5, 0));
    NEXT_IS(SHJ_EX_TAIFEX, at(25, 5, 0), 0, 0, 0, at(28, 8, 45));
    /* margins that make windows touch merge them: one change per boundary */
    NEXT_IS(SHJ_EX_TAIFEX, at(2, 9, 0), 0, 3600, 3600, at(3, 6, 0));
    NEXT_IS(SHJ_EX_TAIFEX, at(3, 6, 0), 0, 3600, 3600, at(3, 7, 45));
    /* margins beyond 6 h are clamped, not an unbounded search */
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 1, 0), 0, 100000, 0), 0);
    CHECK_EQ_I64(ses_sched_on(SHJ_EX_TSE, at(2, 3, 0), 0, 100000, 0), 1);
#undef NEXT_IS
}

int main(void) {
    schedule();
    trading_day_rule();
    calendar_file();
    const ses_window *w;
    CHECK_EQ_I64(ses_windows(SHJ_EX_TAIFEX, &w), 2);
    CHECK_EQ_I64(w[1].open_min, 15 * 60);
    CHECK_EQ_I64(w[1].close_min, 5 * 60);
    CHECK_EQ_I64(ses_windows(SHJ_EX_TSE, &w), 1);
    CHECK_EQ_I64(w[0].close_min, 13 * 60 + 30);
    /* stocks */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 9, 0), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 13, 29), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 13, 30), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 8, 30), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 8, 30), 1), 1); /* pre-open counts when asked */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_OTC, at(5, 10, 0), 0), 0); /* Saturday */
    /* futures: day, night across midnight, the weekend */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(2, 8, 45), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(2, 14, 0), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(4, 23, 0), 0), 1);  /* Friday night */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 4, 59), 0), 1);  /* its Saturday tail */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 5, 0), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 15, 0), 0), 0);  /* no Saturday night session */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(6, 4, 0), 0), 0);   /* nor its Sunday tail */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(7, 4, 0), 0), 0);   /* Monday 04:00: no Sunday night */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(7, 8, 45), 0), 1);
    T_DONE();
}
