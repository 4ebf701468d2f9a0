/* test_bars.c — bars against hand-computed fixtures.
 *
 * Every expected number below was worked out by hand from the ticks listed
 * next to it (see the comments), not produced by the code under test.
 * Covers: 1 min / 5 min / 1 h / session bars, an empty minute (no bar),
 * simtrade/odd-lot/outside-session ticks, the closing-auction print at the
 * session close, TAIFEX night session across midnight, the session boundary
 * night -> day, late ticks, the STATUS flush, and publishing on a bus.
 */
#include <stdlib.h>
#include <string.h>

#include "backtest/bars.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

#define PX(x) ((int64_t)((x) * SHJ_PRICE_SCALE))
#define TPE(y, mo, d, h, mi, s) clk_taipei_to_utc_ns(y, mo, d, h, mi, s, 0)

static uint64_t seq_no;

static shj_event tick(const char *code, uint32_t id, int exchange, int64_t ts, int64_t px,
                      int vol, int side, uint32_t flags) {
    shj_event e;
    memset(&e, 0, sizeof e);
    e.kind = SHJ_KIND_TICK;
    e.exchange = (uint8_t)exchange;
    e.sec_type = exchange == SHJ_EX_TAIFEX ? SHJ_SEC_FUT : SHJ_SEC_STK;
    e.inst_id = id;
    e.source_id = 3;
    shj_strlcpy(e.code, code, sizeof e.code);
    e.ts_exch_ns = ts;
    e.ts_recv_ns = ts + 1000;
    e.seq = ++seq_no;
    e.close = px;
    e.volume = vol;
    e.amount = px * vol; /* the trade value in units (a lot counted as 1 here) */
    e.vol_sum = (int64_t)seq_no * 10;
    e.tick_type = (int8_t)side;
    e.flags = flags;
    return e;
}

static size_t take_all(bars *b, shj_event *out, size_t cap) { return bars_take(b, out, cap); }

static void check_bar(const shj_event *e, const char *code, int period, int64_t start,
                      int64_t end, int64_t o, int64_t h, int64_t l, int64_t c, int vol,
                      int trades) {
    CHECK_EQ_I64(e->kind, SHJ_KIND_BAR);
    CHECK_STR(e->code, code);
    CHECK_EQ_I64(e->period_s, period);
    CHECK_EQ_I64(e->bar_start_ns, start);
    CHECK_EQ_I64(e->ts_exch_ns, end);
    CHECK_EQ_I64(e->open, o);
    CHECK_EQ_I64(e->high, h);
    CHECK_EQ_I64(e->low, l);
    CHECK_EQ_I64(e->close, c);
    CHECK_EQ_I64(e->volume, vol);
    CHECK_EQ_I64(e->trades, trades);
}

/* TWSE 2330 on 2026-11-25, periods 1m, 5m, session; grace 0. */
static void test_twse_day(void) {
    char err[256];
    bars *b = bars_new("1m,5m,D", 0, err, sizeof err);
    CHECK(b != NULL);
    if (!b) return;
    shj_event out[32];
    shj_event t;
#define FEED(...) (t = tick(__VA_ARGS__), bars_feed(b, &t))
    /* 08:59:58 trial match before the open: never counts. */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 8, 59, 58), PX(1000), 5, 0, SHJ_FLAG_SIMTRADE);
    /* minute 09:00: 1025x10 (sell), 1030x3 (buy), 1020x2 (sell) */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 0), PX(1025), 10, SHJ_SIDE_SELL, 0);
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 30), PX(1030), 3, SHJ_SIDE_BUY, 0);
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 59) + 999999000, PX(1020), 2,
         SHJ_SIDE_SELL, 0);
    CHECK_EQ_I64(bars_pending(b), 0); /* 09:00 bar still open at 09:00:59.999999 */
    /* an odd-lot print inside the minute: ignored */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 1, 5), PX(999), 400, 0, SHJ_FLAG_ODDLOT);
    CHECK_EQ_I64(bars_pending(b), 1); /* ...but its time finished the 09:00 bar */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 1, 10), PX(1015), 1, SHJ_SIDE_SELL, 0);
    /* minute 09:02: nothing traded -> no bar */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 3, 5), PX(1035), 4, SHJ_SIDE_BUY, 0);
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 5, 0), PX(1040), 2, SHJ_SIDE_BUY, 0);
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 13, 29, 50), PX(1050), 1, SHJ_SIDE_BUY, 0);
    /* the closing auction prints at 13:30:00 exactly: last bar of the session */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 13, 30, 0), PX(1055), 100, 0, 0);
    /* after-hours fixed-price trading at 14:00: outside the session */
    FEED("2330", 7, SHJ_EX_TSE, TPE(2026, 11, 25, 14, 0, 0), PX(1055), 5, 0, 0);
#undef FEED
    size_t n = take_all(b, out, 32);
    CHECK_EQ_I64(n, 9);
    if (n != 9) goto done;
    int64_t d = TPE(2026, 11, 25, 0, 0, 0);
    const int64_t M = 60 * CLK_NS_PER_SEC;
    /* 09:00 1m: O1025 H1030 L1020 C1020 V15, 3 trades;
     * VWAP = (1025*10 + 1030*3 + 1020*2)/15 = 15380/15 = 1025.333333... -> 1025.333333 */
    check_bar(&out[0], "2330", 60, d + 540 * M, d + 541 * M, PX(1025), PX(1030), PX(1020),
              PX(1020), 15, 3);
    CHECK_EQ_I64(out[0].avg_price, 1025 * SHJ_PRICE_SCALE + SHJ_PRICE_SCALE / 3);
    CHECK_EQ_I64(out[0].ask_side_vol_sum, 3);  /* buyer-initiated */
    CHECK_EQ_I64(out[0].bid_side_vol_sum, 12); /* seller-initiated */
    CHECK_EQ_I64(out[0].amount, PX(1025 * 10 + 1030 * 3 + 1020 * 2));
    CHECK_EQ_I64(out[0].seq, 4); /* last tick aggregated */
    CHECK_EQ_I64(out[0].payload_tag, 0);
    CHECK_EQ_I64(out[0].source_id, 3);
    CHECK_EQ_I64(out[0].exchange, SHJ_EX_TSE);
    /* 09:01 1m: 1015 x1 */
    check_bar(&out[1], "2330", 60, d + 541 * M, d + 542 * M, PX(1015), PX(1015), PX(1015),
              PX(1015), 1, 1);
    /* no 09:02 bar; 09:03 1m: 1035 x4 (finished by the 09:05 tick) */
    check_bar(&out[2], "2330", 60, d + 543 * M, d + 544 * M, PX(1035), PX(1035), PX(1035),
              PX(1035), 4, 1);
    /* 09:00-09:05 5m: O1025 H1035 L1015 C1035 V20, 5 trades */
    check_bar(&out[3], "2330", 300, d + 540 * M, d + 545 * M, PX(1025), PX(1035), PX(1015),
              PX(1035), 20, 5);
    /* finished by the 13:29:50 tick: 09:05 1m and 09:05 5m, both 1040 x2 */
    check_bar(&out[4], "2330", 60, d + 545 * M, d + 546 * M, PX(1040), PX(1040), PX(1040),
              PX(1040), 2, 1);
    check_bar(&out[5], "2330", 300, d + 545 * M, d + 550 * M, PX(1040), PX(1040), PX(1040),
              PX(1040), 2, 1);
    /* finished by the 14:00 print (close 13:30 + 60 s grace passed):
     * 13:29 1m with the closing print: O1050 H1055 L1050 C1055 V101 */
    check_bar(&out[6], "2330", 60, d + 809 * M, d + 810 * M, PX(1050), PX(1055), PX(1050),
              PX(1055), 101, 2);
    check_bar(&out[7], "2330", 300, d + 805 * M, d + 810 * M, PX(1050), PX(1055), PX(1050),
              PX(1055), 101, 2);
    /* session bar 09:00-13:30: O1025 H1055 L1015 C1055 V 15+1+4+2+1+100 = 123, 8 trades */
    check_bar(&out[8], "2330", 86400, d + 540 * M, d + 810 * M, PX(1025), PX(1055), PX(1015),
              PX(1055), 123, 8);
    bars_stats st;
    bars_get_stats(b, &st);
    CHECK_EQ_I64(st.simtrade, 1);
    CHECK_EQ_I64(st.oddlot, 1);
    CHECK_EQ_I64(st.outside, 1);
    CHECK_EQ_I64(st.ticks, 8);
    CHECK_EQ_I64(st.bars, 9);
    CHECK_EQ_I64(st.late, 0);
done:
    bars_free(b);
}

/* TAIFEX TXFL6 night session 2026-11-25 15:00 -> 11-26 05:00, then the day session. */
static void test_taifex_night(void) {
    char err[256];
    bars *b = bars_new("1m,5m,D", 0, err, sizeof err);
    CHECK(b != NULL);
    if (!b) return;
    shj_event out[32];
    shj_event t;
#define FEED(...) (t = tick(__VA_ARGS__), bars_feed(b, &t))
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 25, 15, 0, 0) + 500000000, PX(23000), 2, 1, 0);
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 25, 23, 59, 30), PX(23010), 1, 1, 0);
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 0, 0, 10), PX(23020), 3, 1, 0);
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 4, 59, 59), PX(23030), 1, 2, 0);
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 5, 0, 20), PX(23040), 1, 2, 0);
    size_t n = take_all(b, out, 32);
    /* 15:00 1m, 15:00 5m (by 23:59:30); 23:59 1m, 23:55 5m (by 00:00:10);
     * 00:00 1m, 00:00 5m (by 04:59:59) */
    CHECK_EQ_I64(n, 6);
    int64_t d25 = TPE(2026, 11, 25, 0, 0, 0), d26 = TPE(2026, 11, 26, 0, 0, 0);
    const int64_t M = 60 * CLK_NS_PER_SEC;
    if (n == 6) {
        check_bar(&out[0], "TXFL6", 60, d25 + 900 * M, d25 + 901 * M, PX(23000), PX(23000),
                  PX(23000), PX(23000), 2, 1);
        check_bar(&out[2], "TXFL6", 60, d25 + 1439 * M, d26, PX(23010), PX(23010), PX(23010),
                  PX(23010), 1, 1);
        check_bar(&out[3], "TXFL6", 300, d25 + 1435 * M, d26, PX(23010), PX(23010), PX(23010),
                  PX(23010), 1, 1);
        /* after midnight: still the session opened at 15:00 (5m bars stay on the 15:00 grid) */
        check_bar(&out[4], "TXFL6", 60, d26, d26 + 1 * M, PX(23020), PX(23020), PX(23020),
                  PX(23020), 3, 1);
        check_bar(&out[5], "TXFL6", 300, d26, d26 + 5 * M, PX(23020), PX(23020), PX(23020),
                  PX(23020), 3, 1);
    }
    /* the day session opens at 08:45: the night's last bars (04:59 with the 05:00:20
     * print in the close grace) and the night session bar are finished first. */
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 8, 45, 0), PX(23050), 5, 1, 0);
    n = take_all(b, out, 32);
    CHECK_EQ_I64(n, 3);
    if (n == 3) {
        check_bar(&out[0], "TXFL6", 60, d26 + 299 * M, d26 + 300 * M, PX(23030), PX(23040),
                  PX(23030), PX(23040), 2, 2);
        check_bar(&out[1], "TXFL6", 300, d26 + 295 * M, d26 + 300 * M, PX(23030), PX(23040),
                  PX(23030), PX(23040), 2, 2);
        /* night session bar: 15:00 -> 05:00, O23000 H23040 L23000 C23040, V 2+1+3+1+1 = 8 */
        check_bar(&out[2], "TXFL6", 86400, d25 + 900 * M, d26 + 300 * M, PX(23000), PX(23040),
                  PX(23000), PX(23040), 8, 5);
        CHECK_EQ_I64(out[2].ask_side_vol_sum, 6);
        CHECK_EQ_I64(out[2].bid_side_vol_sum, 2);
    }
    /* 13:45:00 print belongs to the day session's last bar (13:44). */
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 13, 45, 0), PX(23060), 2, 1, 0);
    /* 14:30: between sessions -> outside */
    FEED("TXFL6", 9, SHJ_EX_TAIFEX, TPE(2026, 11, 26, 14, 30, 0), PX(23070), 1, 1, 0);
#undef FEED
    n = take_all(b, out, 32);
    /* 08:45 1m + 08:45 5m (by 13:45:00), then 13:44 1m, 13:40 5m, day session (by 14:30) */
    CHECK_EQ_I64(n, 5);
    if (n == 5) {
        check_bar(&out[2], "TXFL6", 60, d26 + 824 * M, d26 + 825 * M, PX(23060), PX(23060),
                  PX(23060), PX(23060), 2, 1);
        check_bar(&out[4], "TXFL6", 86400, d26 + 525 * M, d26 + 825 * M, PX(23050), PX(23060),
                  PX(23050), PX(23060), 7, 2);
    }
    bars_stats st;
    bars_get_stats(b, &st);
    CHECK_EQ_I64(st.outside, 1);
    CHECK_EQ_I64(st.ticks, 7);
    bars_flush(b);
    CHECK_EQ_I64(bars_pending(b), 0); /* nothing was left open */
    bars_free(b);
}

/* 1 h bars are aligned to the session open and cut at the close. */
static void test_hour_alignment(void) {
    char err[256];
    bars *b = bars_new("1h", 0, err, sizeof err);
    CHECK(b != NULL);
    if (!b) return;
    shj_event t, out[4];
    const int64_t M = 60 * CLK_NS_PER_SEC;
    int64_t d = TPE(2026, 11, 25, 0, 0, 0);
    t = tick("2330", 1, SHJ_EX_TSE, TPE(2026, 11, 25, 13, 10, 0), PX(500), 1, 0, 0);
    bars_feed(b, &t);
    t = tick("TXFL6", 2, SHJ_EX_TAIFEX, TPE(2026, 11, 25, 13, 0, 0), PX(23000), 1, 0, 0);
    bars_feed(b, &t);
    bars_flush(b);
    size_t n = take_all(b, out, 4);
    CHECK_EQ_I64(n, 2);
    if (n == 2) {
        /* TWSE: 13:00-13:30 (session close cuts the hour) */
        check_bar(&out[0], "2330", 3600, d + 780 * M, d + 810 * M, PX(500), PX(500), PX(500),
                  PX(500), 1, 1);
        /* TAIFEX day: hours run 08:45, 09:45, ... so 13:00 is in 12:45-13:45 */
        check_bar(&out[1], "TXFL6", 3600, d + 765 * M, d + 825 * M, PX(23000), PX(23000),
                  PX(23000), PX(23000), 1, 1);
    }
    bars_free(b);
}

static void test_sessions(void) {
    int64_t o, c;
    const int64_t M = 60 * CLK_NS_PER_SEC;
    int64_t d25 = TPE(2026, 11, 25, 0, 0, 0), d26 = TPE(2026, 11, 26, 0, 0, 0);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 0, 0, 10), &o, &c), 0);
    CHECK_EQ_I64(o, d25 + 900 * M);
    CHECK_EQ_I64(c, d26 + 300 * M);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 5, 0, 59), &o, &c), 0);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 5, 1, 0), &o, &c), -1);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 8, 44, 59), &o, &c), -1);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 8, 45, 0), &o, &c), 0);
    CHECK_EQ_I64(o, d26 + 525 * M);
    CHECK_EQ_I64(c, d26 + 825 * M);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 14, 59, 59), &o, &c), -1);
    CHECK_EQ_I64(bars_session(SHJ_EX_TAIFEX, TPE(2026, 11, 26, 15, 0, 0), &o, &c), 0);
    CHECK_EQ_I64(o, d26 + 900 * M);
    CHECK_EQ_I64(bars_session(SHJ_EX_TSE, TPE(2026, 11, 26, 8, 59, 59), &o, &c), -1);
    CHECK_EQ_I64(bars_session(SHJ_EX_OTC, TPE(2026, 11, 26, 9, 0, 0), &o, &c), 0);
    CHECK_EQ_I64(c, d26 + 810 * M);
    CHECK_EQ_I64(bars_session(SHJ_EX_TSE, TPE(2026, 11, 26, 13, 31, 0), &o, &c), -1);
}

/* A tick older than a bar already finished by the stream clock is late. */
static void test_late_and_grace(void) {
    char err[256];
    shj_event t, out[8];
    for (int grace = 0; grace <= 1000; grace += 1000) {
        bars *b = bars_new("1m", grace, err, sizeof err);
        CHECK(b != NULL);
        if (!b) return;
        t = tick("2330", 1, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 10), PX(500), 1, 0, 0);
        bars_feed(b, &t);
        /* another instrument at 09:01:00.5 advances the stream clock past 09:01 */
        t = tick("2317", 2, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 1, 0) + 500000000, PX(100), 1, 0, 0);
        bars_feed(b, &t);
        CHECK_EQ_I64(bars_pending(b), grace ? 0 : 1);
        /* 2330 prints late for 09:00 */
        t = tick("2330", 1, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 50), PX(501), 7, 0, 0);
        bars_feed(b, &t);
        bars_flush(b);
        size_t n = take_all(b, out, 8);
        CHECK_EQ_I64(n, 2);
        bars_stats st;
        bars_get_stats(b, &st);
        CHECK_EQ_I64(st.late, grace ? 0 : 1);
        if (n == 2) {
            CHECK_STR(out[0].code, "2330");
            CHECK_EQ_I64(out[0].volume, grace ? 8 : 1);
            CHECK_EQ_I64(out[0].close, grace ? PX(501) : PX(500));
        }
        bars_free(b);
    }
}

static void test_status_flush_and_invalid(void) {
    char err[256];
    bars *b = bars_new("5m", 0, err, sizeof err);
    shj_event t, out[4];
    t = tick("2330", 0, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 10), PX(500), 1, 0, 0); /* no id */
    bars_feed(b, &t);
    t = tick("2330", 1, SHJ_EX_TSE, TPE(2026, 11, 25, 9, 0, 10), PX(500), 1, 0,
             SHJ_FLAG_REPLAY | SHJ_FLAG_SUSPENDED);
    bars_feed(b, &t);
    memset(&t, 0, sizeof t);
    t.kind = SHJ_KIND_STATUS;
    t.status = SHJ_STATUS_SESSION_CLOSE;
    bars_feed(b, &t);
    CHECK_EQ_I64(take_all(b, out, 4), 1);
    CHECK_EQ_I64(out[0].flags, SHJ_FLAG_REPLAY); /* provenance kept, SUSPENDED not */
    bars_stats st;
    bars_get_stats(b, &st);
    CHECK_EQ_I64(st.invalid, 1);
    bars_free(b);
}

static void test_periods_text(void) {
    char err[256];
    bars *b = bars_new("60,5m, 2h,D", 0, err, sizeof err);
    CHECK(b != NULL);
    bars_free(b);
    const char *bad[] = {"", "0", "5x", "1m,60", "25h", "m", "86401", "1,2,3,4,5,6,7,8,9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        b = bars_new(bad[i], 0, err, sizeof err);
        CHECK(b == NULL);
        CHECK(err[0] != '\0');
        bars_free(b);
    }
    CHECK(bars_new("1m", -1, err, sizeof err) == NULL);
}

/* Same input twice -> byte-identical bars. */
static void test_deterministic(void) {
    char err[256];
    static shj_event a[512], c[512];
    size_t na = 0, nc = 0;
    for (int round = 0; round < 2; round++) {
        bars *b = bars_new("1m,3m,D", 0, err, sizeof err);
        uint64_t x = 12345;
        seq_no = 0;
        for (int i = 0; i < 2000; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t ts = TPE(2026, 11, 25, 9, 0, 0) + (int64_t)i * 5 * CLK_NS_PER_SEC;
            shj_event t = tick(i % 2 ? "2330" : "2317", 1 + (uint32_t)(i % 2), SHJ_EX_TSE, ts,
                               PX(500) + (int64_t)(x >> 60) * 5000, (int)(x >> 58) + 1,
                               (int)(x >> 62) % 3, 0);
            bars_feed(b, &t);
            shj_event *dst = round ? c : a;
            size_t *nn = round ? &nc : &na;
            while (bars_pending(b)) {
                shj_event tmp;
                bars_take(b, &tmp, 1);
                if (*nn < 512) dst[*nn] = tmp;
                (*nn)++;
            }
        }
        bars_free(b);
    }
    CHECK(na > 50);
    CHECK_EQ_I64(na, nc);
    CHECK(na <= 512 && memcmp(a, c, na * sizeof a[0]) == 0);
}

/* On a bus: ticks in, bars out to another subscriber, in order after the tick
 * that finished them. */
typedef struct collect {
    size_t n_bar, n_tick;
    shj_event last_bar;
} collect;

static size_t collect_fn(void *ctx, const shj_event *evs, size_t n) {
    collect *c = ctx;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind == SHJ_KIND_BAR) {
            c->n_bar++;
            c->last_bar = evs[i];
        } else {
            c->n_tick++;
        }
    }
    return n;
}

static void test_bus(void) {
    char err[256];
    bus *bs = bus_new(64);
    bars *b = bars_new("1m", 0, err, sizeof err);
    CHECK(bars_attach(b, bs, err, sizeof err) == SHJ_OK);
    collect c;
    memset(&c, 0, sizeof c);
    bus_subscribe(bs, "collect", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, collect_fn, &c);
    /* 200 ticks, one every 20 s: 200*20/60 = 66.7 minutes -> 67 distinct minutes,
     * 66 finished by later ticks and the last by the flush status. */
    for (int i = 0; i < 200; i++) {
        shj_event t = tick("2330", 1, SHJ_EX_TSE,
                           TPE(2026, 11, 25, 9, 0, 0) + (int64_t)i * 20 * CLK_NS_PER_SEC, PX(500),
                           2, 0, 0);
        while (bus_publish(bs, &t) != SHJ_OK) bus_dispatch(bs);
        bus_dispatch(bs);
    }
    shj_event st;
    memset(&st, 0, sizeof st);
    st.kind = SHJ_KIND_STATUS;
    st.status = SHJ_STATUS_SESSION_CLOSE;
    while (bus_publish(bs, &st) != SHJ_OK) bus_dispatch(bs);
    for (int i = 0; i < 4; i++) {
        bus_dispatch(bs);
        bars_publish(b);
    }
    CHECK_EQ_I64(c.n_tick, 201);
    CHECK_EQ_I64(c.n_bar, 67);
    CHECK_EQ_I64(c.last_bar.volume, 2 * 2); /* 10:06 holds the ticks at :00 and :20 */
    CHECK_EQ_I64(c.last_bar.bar_start_ns, TPE(2026, 11, 25, 10, 6, 0));
    bars_stats s;
    bars_get_stats(b, &s);
    CHECK_EQ_I64(s.published, 67);
    bars_free(b); /* unsubscribes: before bus_free */
    bus_free(bs);
}

/* Amounts at 10^6: realistic Taiwan sums are exact; only corrupt input
 * reaches the int64 limit, and then the bar saturates (never wraps). */
static void test_amount_limits(void) {
    char err[128];
    bars *b = bars_new("D", 0, err, sizeof err);
    CHECK(b != NULL);
    if (!b) return;
    /* A session of 2330 far above its real turnover (~5e10 TWD): 500 trades
     * of 1e9 TWD each = 5e11 TWD, TWSE's whole daily turnover, in one bar. */
    int64_t t0 = TPE(2026, 11, 25, 9, 0, 0);
    for (int i = 0; i < 500; i++) {
        shj_event e = tick("2330", 1, SHJ_EX_TSE, t0 + (int64_t)i * CLK_NS_PER_SEC, PX(1000), 1000, 1, 0);
        e.amount = PX(1000000000LL); /* 1e9 TWD */
        bars_feed(b, &e);
    }
    /* Corrupt input: amounts and a price near the int64 limit. */
    static const struct {
        int vol;
        int64_t amount;
    } bad_ticks[] = {{1, INT64_MAX - 5}, {3, 100}, {1, -1000 /* after saturation the sum stays put */}};
    for (int i = 0; i < 3; i++) {
        shj_event x = tick("9999", 2, SHJ_EX_TSE, t0 + i * CLK_NS_PER_SEC, 1, bad_ticks[i].vol, 1, 0);
        x.close = INT64_MAX / 2;
        x.amount = bad_ticks[i].amount;
        bars_feed(b, &x);
    }
    bars_flush(b);
    shj_event out[4];
    size_t n = bars_take(b, out, 4);
    CHECK_EQ_I64(n, 2);
    if (n != 2) goto done;
    const shj_event *big = strcmp(out[0].code, "2330") == 0 ? &out[0] : &out[1];
    const shj_event *bad = big == &out[0] ? &out[1] : &out[0];
    CHECK_EQ_I64(big->amount, 500 * PX(1000000000LL)); /* 5e17 units: exact */
    CHECK(big->amount <= SHJ_PRICE_MAX_UNITS * SHJ_PRICE_SCALE);
    CHECK_EQ_I64(big->avg_price, PX(1000));
    CHECK_EQ_I64(bad->amount, INT64_MAX); /* saturated, not wrapped negative */
    CHECK_EQ_I64(bad->avg_price, 0);      /* price x volume overflowed: unknown */
    CHECK_EQ_I64(bad->volume, 5);
    bars_stats st;
    bars_get_stats(b, &st);
    CHECK_EQ_I64(st.saturated, 1);
    CHECK_EQ_I64(st.bars, 2);
done:
    bars_free(b);
}

int main(void) {
    test_twse_day();
    test_taifex_night();
    test_hour_alignment();
    test_sessions();
    test_late_and_grace();
    test_status_flush_and_invalid();
    test_periods_text();
    test_deterministic();
    test_bus();
    test_amount_limits();
    T_DONE();
}
