/* test_sim.c — the simulated market (runtime/sim.c, sim_book.c, sim_format.c).
 *
 * Proves: byte-identical streams for the same inputs (digest of 100k
 * payloads) and different ones for another seed/rate; near-month codes and
 * aliases; the exchange clock (rate 3 -> floor(k * 10^6 / 3) us); sessions,
 * weekends and pre-open simtrade; and, for every payload of multi-day runs,
 * JSON validity (cJSON), the exact field list of each kind, decimal strings
 * in shortest exact form, every price on its TWSE/ETF/TAIFEX ladder and inside
 * the daily limits, the book's shape, diff volumes equal to consecutive
 * differences, trades at the touch of the book as last published and updated
 * by the trades since, and the session statistics recomputed independently
 * with integer arithmetic (vol_sum, amounts, avg_price, diff_rate, chg_type,
 * open/high/low, next day's reference = previous close). Every payload is
 * also read back by the real parser (psr_parse) and its event compared field
 * by field with what cJSON read.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/contract.h"
#include "core/clock.h"
#include "parse/parse.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "sim/sim.h"
#include "t.h"

#define TICK_BIT (1u << SHJ_KIND_TICK)
#define BIDASK_BIT (1u << SHJ_KIND_BIDASK)
#define BOTH (TICK_BIT | BIDASK_BIT)
#define CENT (SHJ_PRICE_SCALE / 100) /* one cent (the simulator's unit) in event units */

/* ---- an independent model of the rules the simulator must follow ---- */

enum { C_STK, C_ODD, C_FUT, C_OPT }; /* C_FUT and above: TAIFEX, *_fop payloads */
enum { L_STK, L_ETF, L_FUT, L_OPT };

/* TWSE: <10 0.01, 10-50 0.05, 50-100 0.1, 100-500 0.5, 500-1000 1, >=1000 5;
 * ETF: <50 0.01, >=50 0.05; TXF/MXF: 1 point; TXO premiums: <10 0.1,
 * 10-50 0.5, 50-500 1, 500-1000 5, >=1000 10. In cents. */
static int64_t tick_of(int ladder, int64_t p) {
    static const int64_t stk_edge[] = {1000, 5000, 10000, 50000, 100000};
    static const int64_t stk_tick[] = {1, 5, 10, 50, 100, 500};
    static const int64_t opt_edge[] = {1000, 5000, 50000, 100000, INT64_MAX};
    static const int64_t opt_tick[] = {10, 50, 100, 500, 1000};
    if (ladder == L_FUT) return 100;
    if (ladder == L_ETF) return p >= 5000 ? 5 : 1;
    int i = 0;
    if (ladder == L_OPT) {
        while (p >= opt_edge[i]) i++;
        return opt_tick[i];
    }
    while (i < 5 && p >= stk_edge[i]) i++;
    return stk_tick[i];
}
static int on_ladder(int ladder, int64_t p) { return p > 0 && p % tick_of(ladder, p) == 0; }
static int64_t up_of(int ladder, int64_t p) { return p + tick_of(ladder, p); }
static int64_t down_of(int ladder, int64_t p) { return p - tick_of(ladder, p - 1); }
static int64_t limit_up_of(int ladder, int64_t ref) {
    int64_t p = ref * 11 / 10;
    return p - p % tick_of(ladder, p);
}
static int64_t limit_down_of(int ladder, int64_t ref) {
    int64_t p = (ref * 9 + 9) / 10;
    int64_t t = tick_of(ladder, p);
    return p % t ? p + t - p % t : p;
}

/* Strict decimal text -> cents: [-]digits[.d[d]], shortest form (no leading
 * zeros, no trailing fractional zero, no "-0"). 0 ok, -1 otherwise. */
static int cents_of(const char *s, int64_t *out) {
    int neg = 0;
    const char *p = s;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (*p < '0' || *p > '9') return -1;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9') return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    v *= 100;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        v += (*p++ - '0') * 10;
        if (*p >= '0' && *p <= '9') v += *p++ - '0';
        if (v % 10 == 0 && p[-1] == '0') return -1; /* trailing zero */
    }
    if (*p != '\0') return -1;
    if (neg && v == 0) return -1;
    *out = neg ? -v : v;
    return 0;
}

static int64_t div_round(int64_t num, int64_t den) {
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

/* Shioaji 1.7.x writes avg_price and pct_chg with 6 decimal places
 * (Sinotrade/Sinotrade.github.io @4c63dd4 tutor/market_data/streaming/
 * futures/index.md:209 "40461.608055", :220 "1.206261"); the simulator's
 * avg_price and diff_rate follow. Strict: 1..6 places, no trailing zero. */
#define MICROS 1000000LL            /* millionths per unit */
#define MICROS_PER_CENT (MICROS / 100)
static int micros_of(const char *s, int64_t *out) {
    int neg = 0;
    const char *p = s;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (*p < '0' || *p > '9') return -1;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9') return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    v *= MICROS;
    if (*p == '.') {
        p++;
        int64_t unit = MICROS / 10;
        const char *ds = p;
        while (*p >= '0' && *p <= '9' && unit > 0) {
            v += (*p++ - '0') * unit;
            unit /= 10;
        }
        if (p == ds || p[-1] == '0') return -1; /* no digit, or a trailing zero */
    }
    if (*p != '\0') return -1;
    if (neg && v == 0) return -1;
    *out = neg ? -v : v;
    return 0;
}

typedef struct tinst {
    char code[16];
    int odd, cls, ladder;
    int64_t mult;
    int64_t ref;          /* expected reference of the current day (cents) */
    int64_t opt_span;     /* options: limit up - reference (10% of the index, from the contract) */
    char day[11];         /* current day of this instrument */
    int traded;
    int64_t last_close, open, high, low, vol_sum, amount_sum, bid_sum, ask_sum;
    int have_book;        /* model book valid */
    int64_t bpx[5], apx[5];
    int32_t bvol[5], avol[5]; /* -1 = unknown (fresh volume the model cannot know) */
    int32_t pub_b[5], pub_a[5];
    long ticks, bidasks, touch_checked;
} tinst;

typedef struct stream_stats {
    long payloads, bad, simtrade, blocks, stk_ticks, stk_small, odd_ticks, odd_over_lot, days;
    long fine_avg, fine_rate; /* avg_price / diff_rate with more than 2 places */
    long tick_cont, bidask_cont, touch_checked, shifts_seen;
    long sessions, ref_changes, night_payloads, flagged;
    char last_date[11];
    char dates[16][11];
    int64_t last_ns;
} stream_stats;

static stream_stats st;

#define BAD(...)                                                          \
    do {                                                                  \
        if (st.bad++ < 12) {                                              \
            fprintf(stderr, "bad payload #%ld: ", st.payloads);           \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n  %.*s\n", (int)len, buf);                 \
        }                                                                 \
    } while (0)

static const char *const tick_stk_keys[] = {
    "code", "date", "time", "open", "close", "high", "low", "avg_price", "amount", "amount_sum",
    "volume", "vol_sum", "tick_type", "chg_type", "diff_price", "diff_rate", "trade_bid_vol_sum",
    "trade_ask_vol_sum", "simtrade", "suspend", "intraday_odd", "simulated", NULL};
static const char *const tick_fop_keys[] = {
    "code", "date", "time", "open", "close", "high", "low", "avg_price", "amount", "amount_sum",
    "volume", "vol_sum", "tick_type", "diff_price", "diff_rate", "target_kind_price",
    "trade_bid_vol_sum", "trade_ask_vol_sum", "simtrade", "simulated", NULL};
static const char *const bidask_stk_keys[] = {
    "code", "date", "time", "bid_price", "bid_volume", "diff_bid_vol", "ask_price", "ask_volume",
    "diff_ask_vol", "suspend", "simtrade", "intraday_odd", "simulated", NULL};
static const char *const bidask_fop_keys[] = {
    "code", "date", "time", "bid_total_vol", "ask_total_vol", "bid_price", "bid_volume",
    "diff_bid_vol", "ask_price", "ask_volume", "diff_ask_vol", "first_derived_bid_price",
    "first_derived_ask_price", "first_derived_bid_vol", "first_derived_ask_vol",
    "underlying_price", "simtrade", "simulated", NULL};

static const char *const string_keys[] = {
    "code", "date", "time", "open", "close", "high", "low", "avg_price", "amount", "amount_sum",
    "diff_price", "diff_rate", "target_kind_price", "first_derived_bid_price",
    "first_derived_ask_price", "underlying_price", NULL};
static const char *const bool_keys[] = {"simtrade", "suspend", "intraday_odd", "simulated", NULL};

static int in_list(const char *const *list, const char *k) {
    for (; *list; list++) {
        if (strcmp(*list, k) == 0) return 1;
    }
    return 0;
}

static const char *str_of(const cJSON *o, const char *k) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}
static int64_t int_of(const cJSON *o, const char *k) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : INT64_MIN;
}
static int64_t px_of(const cJSON *o, const char *k) {
    const char *s = str_of(o, k);
    int64_t v;
    return (s && cents_of(s, &v) == 0) ? v : INT64_MIN;
}
static int64_t micro_of(const cJSON *o, const char *k) {
    const char *s = str_of(o, k);
    int64_t v;
    return (s && micros_of(s, &v) == 0) ? v : INT64_MIN;
}
static int bool_of(const cJSON *o, const char *k) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Five prices (strings) or five ints of an array field; 0 ok. */
static int arr5(const cJSON *o, const char *k, int prices, int64_t out[5]) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 5) return -1;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (prices) {
            if (!cJSON_IsString(e) || cents_of(e->valuestring, &out[i]) != 0) return -1;
        } else {
            if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int64_t)e->valuedouble) return -1;
            out[i] = (int64_t)e->valuedouble;
        }
    }
    return 0;
}

static int64_t tod_us(const char *time) { /* "HH:MM:SS.ffffff" -> us of day, -1 if malformed */
    if (strlen(time) != 15 || time[2] != ':' || time[5] != ':' || time[8] != '.') return -1;
    for (int i = 0; i < 15; i++) {
        if (i == 2 || i == 5 || i == 8) continue;
        if (time[i] < '0' || time[i] > '9') return -1;
    }
    int h = (time[0] - '0') * 10 + time[1] - '0', mi = (time[3] - '0') * 10 + time[4] - '0';
    int s = (time[6] - '0') * 10 + time[7] - '0';
    return ((int64_t)h * 3600 + mi * 60 + s) * 1000000 + atoi(time + 9);
}

#define T_US(h, m) (((int64_t)(h) * 3600 + (m) * 60) * 1000000)

static void model_shift(tinst *ti, int up) {
    int L = ti->ladder;
    if (up) {
        for (int i = 4; i > 0; i--) {
            ti->bpx[i] = ti->bpx[i - 1];
            ti->bvol[i] = ti->bvol[i - 1];
        }
        ti->bpx[0] = ti->apx[0];
        ti->bvol[0] = -1;
        for (int i = 0; i < 4; i++) {
            ti->apx[i] = ti->apx[i + 1];
            ti->avol[i] = ti->avol[i + 1];
        }
        ti->apx[4] = up_of(L, ti->apx[3]);
        ti->avol[4] = -1;
    } else {
        for (int i = 4; i > 0; i--) {
            ti->apx[i] = ti->apx[i - 1];
            ti->avol[i] = ti->avol[i - 1];
        }
        ti->apx[0] = ti->bpx[0];
        ti->avol[0] = -1;
        for (int i = 0; i < 4; i++) {
            ti->bpx[i] = ti->bpx[i + 1];
            ti->bvol[i] = ti->bvol[i + 1];
        }
        ti->bpx[4] = down_of(L, ti->bpx[3]);
        ti->bvol[4] = -1;
    }
}

/* Limits: +-10% rounded inward; options: premium + 10% of the index, floor 0.1. */
static int64_t lim_up(const tinst *ti) {
    return ti->cls == C_OPT ? ti->ref + ti->opt_span : limit_up_of(ti->ladder, ti->ref);
}
static int64_t lim_down(const tinst *ti) {
    return ti->cls == C_OPT ? 10 : limit_down_of(ti->ladder, ti->ref);
}

static int is_block(const tinst *ti, int64_t v) {
    return (ti->cls == C_STK && v >= 100) || (ti->cls == C_FUT && v >= 20);
}

static void check_tick(tinst *ti, const cJSON *o, int simtrade, const char *buf, size_t len) {
    int64_t close = px_of(o, "close"), open = px_of(o, "open"), high = px_of(o, "high"),
            low = px_of(o, "low"), avg = micro_of(o, "avg_price"), amount = px_of(o, "amount"),
            amount_sum = px_of(o, "amount_sum"), diff = px_of(o, "diff_price"),
            rate = micro_of(o, "diff_rate");
    int64_t vol = int_of(o, "volume"), vol_sum = int_of(o, "vol_sum"),
            tt = int_of(o, "tick_type"), bsum = int_of(o, "trade_bid_vol_sum"),
            asum = int_of(o, "trade_ask_vol_sum");
    if (close == INT64_MIN || open == INT64_MIN || high == INT64_MIN || low == INT64_MIN ||
        avg == INT64_MIN || amount == INT64_MIN || amount_sum == INT64_MIN ||
        diff == INT64_MIN || rate == INT64_MIN || vol < 1 || vol_sum < 1 || tt < 0 || bsum < 0 ||
        asum < 0) {
        BAD("tick field missing or malformed");
        return;
    }
    int L = ti->ladder;
    if (!on_ladder(L, close) || !on_ladder(L, open) || !on_ladder(L, high) || !on_ladder(L, low))
        BAD("price off the ladder");
    if (close - diff != ti->ref) BAD("reference %lld, expected %lld", (long long)(close - diff),
                                     (long long)ti->ref);
    int64_t lu = lim_up(ti), ld = lim_down(ti);
    if (close > lu || close < ld) BAD("close outside limits");
    if (rate != div_round(diff * 100 * MICROS, ti->ref)) BAD("diff_rate"); /* percent, 6 places */
    if (amount != close * vol * ti->mult) BAD("amount");
    if (ti->cls < C_FUT) {
        int64_t ct = int_of(o, "chg_type");
        int64_t want = close >= lu ? 1 : close > ti->ref ? 2 : close == ti->ref ? 3 : close <= ld ? 5 : 4;
        if (ct != want) BAD("chg_type %lld want %lld", (long long)ct, (long long)want);
        if (bool_of(o, "intraday_odd") != ti->odd) BAD("intraday_odd");
        if (bool_of(o, "suspend")) BAD("suspend");
    } else if (px_of(o, "target_kind_price") == INT64_MIN) {
        BAD("target_kind_price");
    }
    if (simtrade) {
        st.simtrade++;
        if (tt != 0 || vol_sum != vol || bsum || asum || amount_sum != amount || open != close ||
            high != close || low != close || avg != close * MICROS_PER_CENT)
            BAD("simtrade tick fields");
        if (ti->have_book && close != ti->bpx[0] && close != ti->apx[0]) BAD("simtrade off touch");
        return;
    }
    /* Trade at the touch of the book as last published and moved by trades since. */
    if (tt != 1 && tt != 2) BAD("tick_type %lld", (long long)tt);
    int buy = tt == 1;
    if (ti->have_book) {
        st.touch_checked++;
        if (close != (buy ? ti->apx[0] : ti->bpx[0]))
            BAD("trade %lld not at the %s %lld", (long long)close, buy ? "ask" : "bid",
                (long long)(buy ? ti->apx[0] : ti->bpx[0]));
        int32_t *touch = buy ? &ti->avol[0] : &ti->bvol[0];
        if (*touch < 0) {
            ti->have_book = 0; /* depletion unknowable: wait for the next snapshot */
        } else if (vol < *touch) {
            *touch -= (int32_t)vol;
        } else {
            if (vol > *touch && !is_block(ti, vol)) BAD("ordinary trade larger than the touch");
            int can = buy ? up_of(L, ti->apx[4]) <= lu : down_of(L, ti->bpx[4]) >= ld;
            if (can) {
                model_shift(ti, buy);
                st.shifts_seen++;
            } else {
                *touch = -1;
            }
        }
    }
    /* Session statistics, recomputed. */
    if (!ti->traded) {
        ti->traded = 1;
        ti->open = ti->high = ti->low = close;
    }
    if (close > ti->high) ti->high = close;
    if (close < ti->low) ti->low = close;
    ti->last_close = close;
    ti->vol_sum += vol;
    ti->amount_sum += close * vol * ti->mult;
    if (buy) ti->ask_sum += vol;
    else ti->bid_sum += vol;
    if (open != ti->open || high != ti->high || low != ti->low) BAD("open/high/low");
    if (vol_sum != ti->vol_sum || bsum != ti->bid_sum || asum != ti->ask_sum) BAD("volume sums");
    if (amount_sum != ti->amount_sum) BAD("amount_sum");
    /* 6 places: amount_sum x 10^4 / (vol_sum x mult), rounded half up (the
     * model's own 128-bit product: it cannot overflow) */
    __int128 avg_num = (__int128)ti->amount_sum * MICROS_PER_CENT, avg_den = (__int128)ti->vol_sum * ti->mult;
    if (avg != (int64_t)((avg_num + avg_den / 2) / avg_den)) BAD("avg_price");
    if (avg % MICROS_PER_CENT) st.fine_avg++;
    if (rate % MICROS_PER_CENT) st.fine_rate++;
    if (ti->cls == C_STK) {
        st.stk_ticks++;
        if (vol <= 5) st.stk_small++;
        if (vol >= 100) st.blocks++;
    } else if (ti->cls == C_ODD) {
        st.odd_ticks++;
        if (vol >= 1000) st.odd_over_lot++;
    }
}

static void check_bidask(tinst *ti, const cJSON *o, const char *buf, size_t len) {
    int64_t bp[5], ap[5], bv[5], av[5], db[5], da[5];
    if (arr5(o, "bid_price", 1, bp) || arr5(o, "ask_price", 1, ap) ||
        arr5(o, "bid_volume", 0, bv) || arr5(o, "ask_volume", 0, av) ||
        arr5(o, "diff_bid_vol", 0, db) || arr5(o, "diff_ask_vol", 0, da)) {
        BAD("bid/ask arrays");
        return;
    }
    int L = ti->ladder;
    if (!(bp[0] < ap[0]) || ap[0] != up_of(L, bp[0])) BAD("touch: spread is not one tick");
    for (int i = 0; i < 5; i++) {
        if (!on_ladder(L, bp[i]) || !on_ladder(L, ap[i])) BAD("level %d off the ladder", i);
        if (i && (bp[i] != down_of(L, bp[i - 1]) || ap[i] != up_of(L, ap[i - 1])))
            BAD("level %d not one tick from %d", i, i - 1);
        if (bv[i] < 1 || av[i] < 1) BAD("level %d volume < 1", i);
        if (db[i] != bv[i] - ti->pub_b[i] || da[i] != av[i] - ti->pub_a[i])
            BAD("diff at level %d is not the change since the last snapshot", i);
        ti->pub_b[i] = (int32_t)bv[i];
        ti->pub_a[i] = (int32_t)av[i];
    }
    if (bp[4] < lim_down(ti) || ap[4] > lim_up(ti)) BAD("book outside limits");
    /* Order flow moves the quote by at most one tick between snapshots. */
    if (ti->have_book && bp[0] != ti->bpx[0] && bp[0] != up_of(L, ti->bpx[0]) &&
        bp[0] != down_of(L, ti->bpx[0]))
        BAD("quote jumped more than a tick");
    if (ti->cls >= C_FUT) {
        int64_t bt = int_of(o, "bid_total_vol"), at = int_of(o, "ask_total_vol");
        if (bt != bv[0] + bv[1] + bv[2] + bv[3] + bv[4] || at != av[0] + av[1] + av[2] + av[3] + av[4])
            BAD("total volumes");
        if (px_of(o, "underlying_price") == INT64_MIN || px_of(o, "first_derived_bid_price") != 0)
            BAD("futures extras");
    } else {
        if (bool_of(o, "intraday_odd") != ti->odd) BAD("intraday_odd");
    }
    ti->have_book = 1;
    for (int i = 0; i < 5; i++) {
        ti->bpx[i] = bp[i];
        ti->apx[i] = ap[i];
        ti->bvol[i] = (int32_t)bv[i];
        ti->avol[i] = (int32_t)av[i];
    }
}

static tinst *find_inst(tinst *ts, size_t n, const char *code, int odd) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ts[i].code, code) == 0 && ts[i].odd == odd) return &ts[i];
    }
    return NULL;
}

/* ---- the real parser reads every simulated payload back ---- */

static long parsed_ok, parsed_bad;

#define PBAD(...)                                                         \
    do {                                                                  \
        if (parsed_bad++ < 12) {                                          \
            fprintf(stderr, "psr_parse mismatch: ");                      \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n  %.*s\n", (int)len, buf);                 \
        }                                                                 \
    } while (0)

/* Decimal string field -> SHJ_PRICE_SCALE units through the test's own
 * strict parser (cents × 100). */
static int64_t scaled(const cJSON *o, const char *k) {
    if (!strcmp(k, "avg_price") || !strcmp(k, "diff_rate")) { /* 6 places */
        int64_t m = micro_of(o, k);
        return m == INT64_MIN ? INT64_MIN : m * (SHJ_PRICE_SCALE / MICROS);
    }
    int64_t c = px_of(o, k);
    return c == INT64_MIN ? INT64_MIN : c * CENT;
}

static void check_parsed(const cJSON *o, int tag, const char *buf, size_t len, int64_t exch_ns) {
    shj_event ev;
    char err[256] = "";
    int rc = psr_parse(tag, buf, len, &ev, err, sizeof err);
    if (rc != PSR_EVENT) {
        PBAD("rc %d: %s", rc, err);
        return;
    }
    int fop = tag == PSR_TAG_TICK_FOP || tag == PSR_TAG_BIDASK_FOP;
    int tick = tag == PSR_TAG_TICK_STK || tag == PSR_TAG_TICK_FOP;
    const char *code = str_of(o, "code");
    if (!code || strcmp(ev.code, code) != 0) PBAD("code %s", ev.code);
    if (ev.ts_exch_ns != exch_ns) PBAD("ts_exch_ns %lld", (long long)ev.ts_exch_ns);
    if (ev.kind != (tick ? SHJ_KIND_TICK : SHJ_KIND_BIDASK)) PBAD("kind %d", ev.kind);
    if (ev.payload_tag != tag) PBAD("payload_tag %d", ev.payload_tag);
    if (!fop && (ev.sec_type != SHJ_SEC_STK || ev.exchange != SHJ_EX_TSE)) PBAD("stock defaults");
    if (fop && ev.exchange != SHJ_EX_TAIFEX) PBAD("TAIFEX default");
    if (ev.inst_id == 0) PBAD("inst_id");
    if (!!(ev.flags & SHJ_FLAG_SIMTRADE) != bool_of(o, "simtrade")) PBAD("SIMTRADE flag");
    if (!!(ev.flags & SHJ_FLAG_ODDLOT) != bool_of(o, "intraday_odd")) PBAD("ODDLOT flag");
    if (ev.flags & SHJ_FLAG_SUSPENDED) PBAD("SUSPENDED flag");
    if (!(ev.flags & SHJ_FLAG_SIMULATED)) PBAD("SIMULATED flag (\"simulated\":true -> parser)");
    else st.flagged++;
    if (tick) {
        static const struct {
            const char *name;
            size_t off;
        } px[] = {
            {"open", offsetof(shj_event, open)},           {"high", offsetof(shj_event, high)},
            {"low", offsetof(shj_event, low)},             {"close", offsetof(shj_event, close)},
            {"avg_price", offsetof(shj_event, avg_price)}, {"diff_price", offsetof(shj_event, diff_price)},
            {"diff_rate", offsetof(shj_event, diff_rate)}, {"amount", offsetof(shj_event, amount)},
            {"amount_sum", offsetof(shj_event, amount_sum)},
        };
        for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
            int64_t got;
            memcpy(&got, (const char *)&ev + px[i].off, sizeof got);
            if (got != scaled(o, px[i].name)) PBAD("%s = %lld", px[i].name, (long long)got);
        }
        if (fop && ev.underlying_price != scaled(o, "target_kind_price")) PBAD("underlying_price");
        if (ev.volume != int_of(o, "volume") || ev.vol_sum != int_of(o, "vol_sum") ||
            ev.bid_side_vol_sum != int_of(o, "trade_bid_vol_sum") ||
            ev.ask_side_vol_sum != int_of(o, "trade_ask_vol_sum") || ev.tick_type != int_of(o, "tick_type"))
            PBAD("tick volumes / tick_type");
        if (!fop && ev.chg_type != int_of(o, "chg_type")) PBAD("chg_type");
    } else {
        int64_t bp[5], ap[5], bv[5], av[5], db[5], da[5];
        arr5(o, "bid_price", 1, bp);
        arr5(o, "ask_price", 1, ap);
        arr5(o, "bid_volume", 0, bv);
        arr5(o, "ask_volume", 0, av);
        arr5(o, "diff_bid_vol", 0, db);
        arr5(o, "diff_ask_vol", 0, da);
        for (int i = 0; i < 5; i++) {
            if (ev.bid_price[i] != bp[i] * CENT || ev.ask_price[i] != ap[i] * CENT ||
                ev.bid_volume[i] != bv[i] || ev.ask_volume[i] != av[i] ||
                ev.diff_bid_vol[i] != db[i] || ev.diff_ask_vol[i] != da[i])
                PBAD("level %d", i);
        }
    }
    parsed_ok++;
}

/* Check one payload against the model; returns nothing, counts in st. */
static void check_payload(tinst *ts, size_t nts, int tag, const char *buf, size_t len,
                          int64_t exch_ns) {
    st.payloads++;
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!o || end != buf + len || !cJSON_IsObject(o)) {
        BAD("not one JSON object");
        cJSON_Delete(o);
        return;
    }
    /* Exact field list, in the documented order, with the documented types. */
    const char *const *keys = tag == PSR_TAG_TICK_STK     ? tick_stk_keys
                              : tag == PSR_TAG_TICK_FOP   ? tick_fop_keys
                              : tag == PSR_TAG_BIDASK_STK ? bidask_stk_keys
                              : tag == PSR_TAG_BIDASK_FOP ? bidask_fop_keys
                                                          : NULL;
    if (!keys) {
        BAD("tag %d", tag);
        cJSON_Delete(o);
        return;
    }
    int k = 0, order_ok = 1;
    for (const cJSON *it = o->child; it; it = it->next, k++) {
        if (!keys[k] || strcmp(keys[k], it->string) != 0) {
            BAD("field %d is \"%s\", want \"%s\"", k, it->string, keys[k] ? keys[k] : "(end)");
            order_ok = 0;
            break;
        }
        if (in_list(string_keys, it->string) ? !cJSON_IsString(it)
            : in_list(bool_keys, it->string) ? !cJSON_IsBool(it)
                                             : !(cJSON_IsNumber(it) || cJSON_IsArray(it)))
            BAD("field \"%s\" has the wrong JSON type", it->string);
    }
    if (order_ok && keys[k]) BAD("field \"%s\" missing", keys[k]);
    check_parsed(o, tag, buf, len, exch_ns);

    const char *code = str_of(o, "code"), *date = str_of(o, "date"), *time = str_of(o, "time");
    int fop = tag == PSR_TAG_TICK_FOP || tag == PSR_TAG_BIDASK_FOP;
    int odd = !fop && bool_of(o, "intraday_odd");
    tinst *ti = code ? find_inst(ts, nts, code, odd) : NULL;
    int y, mo, d;
    int64_t tod = time ? tod_us(time) : -1;
    if (!ti || !date || tod < 0 || sscanf(date, "%4d-%2d-%2d", &y, &mo, &d) != 3) {
        BAD("code/date/time");
        cJSON_Delete(o);
        return;
    }
    if ((ti->cls >= C_FUT) != fop) BAD("tag does not fit the instrument");
    /* Time: equals exch_ns, never goes back, weekday, inside the session. */
    int64_t ns = clk_taipei_to_utc_ns(y, mo, d, 0, 0, 0, 0) + tod * 1000;
    if (ns != exch_ns) BAD("exch_ns differs from date+time");
    if (ns < st.last_ns) BAD("time went backwards");
    st.last_ns = ns;
    int64_t days = clk_days_from_civil(y, mo, d);
    int wd = (int)((days % 7 + 11) % 7);
    int night = ti->cls >= C_FUT && (tod >= T_US(15, 0) || tod < T_US(5, 0));
    /* Saturday 00:00-05:00 is the tail of Friday's night session. */
    if (wd == 0 || (wd == 6 && !(night && tod < T_US(5, 0))) || (wd == 1 && night && tod < T_US(5, 0)))
        BAD("weekend");
    int simtrade = bool_of(o, "simtrade");
    st.night_payloads += night;
    if (ti->cls >= C_FUT) {
        if (simtrade || (!night && (tod < T_US(8, 45) || tod >= T_US(13, 45)))) BAD("outside TAIFEX session");
    } else if (simtrade) {
        if (ti->cls != C_STK || tod < T_US(8, 30) || tod >= T_US(9, 0)) BAD("simtrade outside pre-open");
    } else if (tod < T_US(9, 0) || tod >= T_US(13, 30)) {
        BAD("outside TWSE session");
    }
    if (strcmp(date, st.last_date) != 0) {
        if (st.last_date[0] && strcmp(date, st.last_date) < 0) BAD("date went backwards");
        if (st.days < 16) memcpy(st.dates[st.days], date, 11);
        st.days++;
        memcpy(st.last_date, date, 11);
    }
    memcpy(ti->day, date, 11);
    if (tag == PSR_TAG_TICK_STK || tag == PSR_TAG_TICK_FOP) {
        ti->ticks++;
        if (!simtrade) st.tick_cont++;
        check_tick(ti, o, simtrade, buf, len);
    } else {
        ti->bidasks++;
        if (!simtrade) st.bidask_cont++;
        check_bidask(ti, o, buf, len);
    }
    cJSON_Delete(o);
}

typedef struct spec {
    const char *code;
    int odd;
} spec;

/* Run n payloads of a market through every check. */
static void run_stream(uint64_t seed, const char *date, double rate, const spec *sp, size_t nsp,
                       long n) {
    memset(&st, 0, sizeof st);
    parsed_ok = parsed_bad = 0;
    sim_market *m = sim_new(seed, date, rate);
    CHECK(m != NULL);
    if (!m) return;
    sim_configure(m, &(sim_config){.payload_v150 = 1}); /* the names these checks read */
    tinst *ts = calloc(nsp, sizeof *ts);
    char resolved[16], err[160];
    for (size_t i = 0; i < nsp; i++) {
        int rc = sim_add(m, sp[i].code, 0, 0, BOTH, sp[i].odd, resolved, err, sizeof err);
        CHECK(rc == SHJ_OK);
        sim_contract c;
        CHECK(sim_contract_at(m, i, &c) == SHJ_OK);
        tinst *ti = &ts[i];
        memcpy(ti->code, resolved, 16);
        ti->odd = sp[i].odd;
        ti->cls = c.sec_type == SHJ_SEC_FUT   ? C_FUT
                  : c.sec_type == SHJ_SEC_OPT ? C_OPT
                  : sp[i].odd                 ? C_ODD
                                              : C_STK;
        ti->ladder = ti->cls == C_FUT   ? L_FUT
                     : ti->cls == C_OPT ? L_OPT
                     : (resolved[0] == '0' && resolved[1] == '0') ? L_ETF
                                                                  : L_STK;
        ti->mult = ti->cls == C_STK ? 1000 : 1;
        ti->ref = c.reference / CENT;
        if (ti->cls == C_OPT) {
            /* 10% of the index (~23000 points, walking), on the ladder; the floor binds (premium < span). */
            ti->opt_span = c.limit_up / CENT - ti->ref;
            CHECK(ti->opt_span >= 150000 && ti->opt_span <= 350000);
            CHECK_EQ_I64(c.limit_down, 10 * CENT);
            CHECK(ti->ref < ti->opt_span);
        } else {
            CHECK_EQ_I64(c.limit_up / CENT, limit_up_of(ti->ladder, ti->ref));
            CHECK_EQ_I64(c.limit_down / CENT, limit_down_of(ti->ladder, ti->ref));
        }
        CHECK(on_ladder(ti->ladder, ti->ref));
    }
    static char buf[1024];
    int64_t session = -1;
    for (long i = 0; i < n; i++) {
        int tag = 0;
        int64_t ns = 0;
        size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
        if (len == 0 || len >= sizeof buf) {
            CHECK(len > 0 && len < sizeof buf);
            break;
        }
        /* A new session (trading day, day or night) is set up from (seed,
         * day) alone: new reference and limits (sim_contract_at), fresh
         * session statistics and a fresh book whose first snapshot's diffs
         * count from zero. */
        int64_t tod = ((ns / 1000000000LL + 8 * 3600) % 86400) / 60;
        int night = tod >= 15 * 60 || tod < 5 * 60;
        int64_t key = sim_trading_day(m) * 2 + !night; /* T's night comes before T's day */
        if (key != session) {
            if (session >= 0 && key < session) CHECK(key > session); /* sessions only move forward */
            session = key;
            st.sessions++;
            for (size_t k = 0; k < nsp; k++) {
                tinst *ti = &ts[k];
                sim_contract c;
                CHECK(sim_contract_at(m, k, &c) == SHJ_OK);
                if (c.reference / CENT != ti->ref) st.ref_changes++;
                ti->ref = c.reference / CENT;
                if (ti->cls == C_OPT) ti->opt_span = c.limit_up / CENT - ti->ref;
                else {
                    CHECK_EQ_I64(c.limit_up / CENT, limit_up_of(ti->ladder, ti->ref));
                    CHECK_EQ_I64(c.limit_down / CENT, limit_down_of(ti->ladder, ti->ref));
                }
                CHECK(on_ladder(ti->ladder, ti->ref));
                ti->traded = 0;
                ti->vol_sum = ti->amount_sum = ti->bid_sum = ti->ask_sum = 0;
                ti->have_book = 0;
                memset(ti->pub_b, 0, sizeof ti->pub_b);
                memset(ti->pub_a, 0, sizeof ti->pub_a);
            }
        }
        check_payload(ts, nsp, tag, buf, len, ns);
    }
    /* Every payload went through the real parser with matching fields. */
    CHECK_EQ_I64(parsed_bad, 0);
    CHECK_EQ_I64(parsed_ok, st.payloads);
    /* The simulator's own reference agrees with the model's at the end. */
    for (size_t i = 0; i < nsp; i++) {
        sim_contract c;
        sim_contract_at(m, i, &c);
        CHECK_EQ_I64(c.reference / CENT, ts[i].ref);
        CHECK(ts[i].ticks > 0 && ts[i].bidasks > 0);
    }
    free(ts);
    sim_free(m);
}

/* ---- the tests ---- */

static const spec mixed[] = {{"2330", 0},  {"2317", 0},  {"0050", 0},       {"2603", 0},
                             {"00878", 0}, {"1234", 0},  {"2330", 1},       {"TXFR1", 0},
                             {"MXFR1", 0}, {"TXFR2", 0}, {"TXO23000L6", 0}, {"TXO22500X6", 0}};

static void test_stream_multi_day(void) {
    /* 3 events/s: a TAIFEX day is ~55k payloads, so 250k cross 4+ days
     * starting on a Thursday (so a weekend is skipped). */
    run_stream(7, "2026-11-26", 3, mixed, sizeof mixed / sizeof mixed[0], 250000);
    printf("multi-day: %ld payloads, %ld bad, %ld parsed back, %ld days (%s .. %s), %ld simtrade, "
           "%ld touch checks, %ld model shifts, %ld blocks / %ld stock ticks\n",
           st.payloads, st.bad, parsed_ok, st.days, st.dates[0], st.last_date, st.simtrade,
           st.touch_checked, st.shifts_seen, st.blocks, st.stk_ticks);
    CHECK_EQ_I64(st.bad, 0);
    CHECK_EQ_I64(st.payloads, 250000);
    CHECK(st.days >= 4);
    CHECK_STR(st.dates[0], "2026-11-26");
    CHECK_STR(st.dates[1], "2026-11-27");
    CHECK_STR(st.dates[2], "2026-11-30"); /* Saturday and Sunday skipped */
    CHECK(st.simtrade > 0);
    CHECK(st.touch_checked > 10000);
    CHECK(st.shifts_seen > 100);
    CHECK(st.blocks > 0);                        /* occasional block trades */
    CHECK(st.fine_avg > 0 && st.fine_rate > 0);  /* 6-place values, as Shioaji 1.7.x sends */
    CHECK(st.stk_small * 10 > st.stk_ticks * 8); /* mostly small trades */
    CHECK(st.odd_ticks > 0 && st.odd_over_lot == 0);
    /* 1 tick : 2 bid/asks during continuous trading. */
    CHECK(st.tick_cont * 100 > (st.tick_cont + st.bidask_cont) * 30);
    CHECK(st.tick_cont * 100 < (st.tick_cont + st.bidask_cont) * 37);
}

static const spec stocks[] = {{"2330", 0}, {"2317", 0}, {"0050", 0}, {"2603", 0},
                              {"00878", 0}, {"1234", 0}, {"2330", 1}};
static const spec futures[] = {{"TXFR1", 0},      {"MXFR1", 0},      {"TXFR2", 0},
                               {"TXO23000L6", 0}, {"TXO23000X6", 0}, {"TXO27000L6", 0},
                               {"TXO19000X6", 0}};

static void test_stream_fast(void) {
    /* The default 2000 events/s: a minute or so of trading, many book moves. */
    run_stream(99, "2026-11-25", 0, stocks, sizeof stocks / sizeof stocks[0], 100000);
    printf("fast stocks: %ld payloads, %ld bad, %ld parsed back, %ld touch checks, %ld model shifts\n",
           st.payloads, st.bad, parsed_ok, st.touch_checked, st.shifts_seen);
    CHECK_EQ_I64(st.bad, 0);
    CHECK(st.touch_checked > 10000);
    CHECK(st.simtrade > 0);
    run_stream(98, "2026-11-25", 0, futures, sizeof futures / sizeof futures[0], 60000);
    printf("fast futures+options: %ld payloads, %ld bad, %ld parsed back, %ld touch checks, "
           "%ld model shifts\n",
           st.payloads, st.bad, parsed_ok, st.touch_checked, st.shifts_seen);
    CHECK_EQ_I64(st.bad, 0);
    CHECK(st.touch_checked > 10000);
    CHECK_EQ_I64(st.simtrade, 0);
}

static uint64_t digest(uint64_t seed, const char *date, double rate, long n) {
    sim_market *m = sim_new(seed, date, rate);
    if (!m) return 0;
    static const char *const codes[] = {"2330", "2317", "0050", "TXFR1", "MXFR1", "6488"};
    char resolved[16], err[160];
    for (int i = 0; i < 6; i++) sim_add(m, codes[i], 0, 0, BOTH, 0, resolved, err, sizeof err);
    sim_add(m, "2330", 0, 0, TICK_BIT, 1, resolved, err, sizeof err);
    static char buf[1024];
    uint64_t h = 0xcbf29ce484222325ULL;
    for (long i = 0; i < n; i++) {
        int tag = 0;
        int64_t ns = 0;
        size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
        unsigned char meta[16];
        memcpy(meta, &ns, 8);
        memcpy(meta + 8, &tag, 4);
        memcpy(meta + 12, &len, 4);
        for (int j = 0; j < 16; j++) h = (h ^ meta[j]) * 0x100000001b3ULL;
        for (size_t j = 0; j < len; j++) h = (h ^ (unsigned char)buf[j]) * 0x100000001b3ULL;
    }
    sim_free(m);
    return h;
}

static void test_determinism(void) {
    uint64_t a = digest(42, "2026-11-25", 2000, 100000);
    uint64_t b = digest(42, "2026-11-25", 2000, 100000);
    CHECK(a != 0);
    CHECK(a == b);
    CHECK(digest(43, "2026-11-25", 2000, 100000) != a);
    CHECK(digest(42, "2026-11-24", 2000, 100000) != a);
    CHECK(digest(42, "2026-11-25", 3000, 100000) != a);
    /* The realistic clock too. */
    uint64_t r = digest(42, "2026-11-25", 0, 100000);
    CHECK(r != 0 && r == digest(42, "2026-11-25", 0, 100000));
    CHECK(digest(42, "2026-11-24", 0, 100000) != r);
    CHECK(digest(7, "2026-11-25", 0, 100000) != r);
}

static void test_aliases(void) {
    char out[16];
    static const struct {
        const char *date, *code, *want;
    } cases[] = {
        {"2026-11-25", "TXFR1", "TXFL6"}, /* Nov 18 was the third Wednesday */
        {"2026-11-10", "TXFR1", "TXFK6"}, {"2026-12-20", "TXFR1", "TXFA7"},
        {"2026-11-18", "TXFR1", "TXFL6"}, /* expiry day: R1 already rolled (test_contract.c) */
        {"2026-11-17", "TXFR1", "TXFK6"}, {"2026-12-15", "MXFR1", "MXFL6"},
        {"2026-12-17", "MXFR1", "MXFA7"}, {"2026-11-25", "TXFR2", "TXFA7"},
        {"2026-11-10", "MXFR2", "MXFL6"}, {"2026-04-01", "TXFR1", "TXFD6"},
        {"2029-12-31", "TXFR2", "TXFB0"}, {"2026-11-25", "2330", "2330"},
        {"2026-11-25", "TXFL6", "TXFL6"}, {"2026-11-25", "TXFR3", "TXFR3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctr_resolve_alias(cases[i].date, cases[i].code, out);
        CHECK_STR(out, cases[i].want);
    }
    ctr_resolve_alias(NULL, "TXFR1", out); /* today: some real month code */
    CHECK(strlen(out) == 5 && strncmp(out, "TXF", 3) == 0 && out[3] >= 'A' && out[3] <= 'L');
}

static void test_add_remove_contracts(void) {
    CHECK(sim_new(1, "2026-02-30", 100) == NULL);
    CHECK(sim_new(1, "2026/11/25", 100) == NULL);
    sim_market *m = sim_new(1, "2026-11-25", 100);
    char res[16], err[160];
    int64_t ns;
    int tag;
    char buf[1024];
    CHECK(sim_next(m, &tag, buf, sizeof buf, &ns) == 0); /* nothing configured */
    CHECK(sim_add(m, "", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "23\"30", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(strstr(err, "letters and digits") != NULL);
    CHECK(sim_add(m, "ABCDEFGHIJKLMNOPQ", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "HELLO", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(strstr(err, "HELLO") != NULL);
    CHECK(sim_add(m, "TXO23000Z6", 0, SHJ_SEC_OPT, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "001", 0, SHJ_SEC_IND, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "TXFL6", 0, SHJ_SEC_OPT, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "2330", SHJ_EX_TAIFEX, 0, BOTH, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "TXFR1", 0, 0, BOTH, 1, res, err, sizeof err) == SHJ_ERR);
    CHECK(sim_add(m, "2330", 0, 0, 1u << SHJ_KIND_STATUS, 0, res, err, sizeof err) == SHJ_ERR);
    CHECK_EQ_I64(sim_count(m), 0);

    CHECK(sim_add(m, "2330", 0, 0, TICK_BIT, 0, res, err, sizeof err) == SHJ_OK);
    CHECK_STR(res, "2330");
    CHECK(sim_add(m, "2330", 0, 0, BIDASK_BIT, 0, res, err, sizeof err) == SHJ_OK); /* widens */
    CHECK_EQ_I64(sim_count(m), 1);
    CHECK(sim_add(m, "2330", 0, 0, BOTH, 1, res, err, sizeof err) == SHJ_OK); /* odd-lot board */
    CHECK(sim_add(m, "2317", SHJ_EX_TSE, SHJ_SEC_STK, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(m, "0050", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(m, "TXFR1", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK_STR(res, "TXFL6");
    CHECK(sim_add(m, "MXFR2", SHJ_EX_TAIFEX, SHJ_SEC_FUT, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK_STR(res, "MXFA7");
    CHECK_EQ_I64(sim_count(m), 6);

    /* References: a seeded daily walk from the profile's base price (2330
     * NT$1025, 2317 180.5, 0050 190 on 2026-01-05), on the ladder, with
     * +-10% limits rounded inward to the ladder (limit_*_of, by hand). */
    static const struct {
        size_t i;
        const char *code, *alias;
        int ex, sec;
        int64_t base; /* NT$ × 100 */
    } want[] = {
        {0, "2330", "", SHJ_EX_TSE, SHJ_SEC_STK, 102500},
        {2, "2317", "", SHJ_EX_TSE, SHJ_SEC_STK, 18050},
        {3, "0050", "", SHJ_EX_TSE, SHJ_SEC_STK, 19000},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        sim_contract c;
        CHECK(sim_contract_at(m, want[k].i, &c) == SHJ_OK);
        CHECK_STR(c.code, want[k].code);
        CHECK_STR(c.alias, want[k].alias);
        CHECK_EQ_I64(c.exchange, want[k].ex);
        CHECK_EQ_I64(c.sec_type, want[k].sec);
        int64_t ref = c.reference / CENT;
        int ladder = want[k].code[0] == '0' ? L_ETF : L_STK;
        CHECK_EQ_I64(c.reference % CENT, 0);
        CHECK(on_ladder(ladder, ref));
        CHECK(ref > want[k].base / 2 && ref < want[k].base * 2);
        CHECK_EQ_I64(c.limit_up, limit_up_of(ladder, ref) * CENT);
        CHECK_EQ_I64(c.limit_down, limit_down_of(ladder, ref) * CENT);
    }
    /* The 2330 ladder by hand: ref 1025 -> 1127.5 -> 1125 up, 922.5 -> 923 down. */
    CHECK_EQ_I64(limit_up_of(L_STK, 102500), 112500);
    CHECK_EQ_I64(limit_down_of(L_STK, 102500), 92300);
    sim_contract c;
    CHECK(sim_contract_at(m, 4, &c) == SHJ_OK);
    CHECK_STR(c.code, "TXFL6");
    CHECK_STR(c.alias, "TXFR1");
    CHECK_EQ_I64(c.exchange, SHJ_EX_TAIFEX);
    CHECK_EQ_I64(c.sec_type, SHJ_SEC_FUT);
    CHECK(c.reference >= 15000 * SHJ_PRICE_SCALE && c.reference <= 35000 * SHJ_PRICE_SCALE); /* ~23000 points, walking */
    CHECK_EQ_I64(c.reference % SHJ_PRICE_SCALE, 0);
    CHECK(sim_contract_at(m, 6, &c) == SHJ_ERR);

    /* Options: TAIFEX, premium on the TXO ladder; calls A-L, puts M-X. */
    sim_market *mo = sim_new(3, "2026-11-25", 100);
    CHECK(sim_add(mo, "TXO23000L6", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(mo, "TXO23000X6", SHJ_EX_TAIFEX, SHJ_SEC_OPT, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(mo, "TXO23000L6", 0, 0, BOTH, 1, res, err, sizeof err) == SHJ_ERR); /* no odd lots */
    for (size_t i = 0; i < 2; i++) {
        sim_contract oc;
        CHECK(sim_contract_at(mo, i, &oc) == SHJ_OK);
        CHECK_EQ_I64(oc.exchange, SHJ_EX_TAIFEX);
        CHECK_EQ_I64(oc.sec_type, SHJ_SEC_OPT);
        CHECK(oc.reference >= 100 * SHJ_PRICE_SCALE && oc.reference <= 1000 * SHJ_PRICE_SCALE); /* 100-1000 points near the money */
        CHECK(on_ladder(L_OPT, oc.reference / CENT));
    }
    size_t olen = sim_next(mo, &tag, buf, sizeof buf, &ns);
    CHECK(olen > 0 && (tag == PSR_TAG_TICK_FOP || tag == PSR_TAG_BIDASK_FOP));
    sim_free(mo);

    /* Unknown codes: a deterministic price from the code (and seed), on the ladder. */
    sim_market *m2 = sim_new(1, "2026-11-25", 100);
    CHECK(sim_add(m2, "6488", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(m, "6488", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    sim_contract c1, c2;
    sim_contract_at(m2, 0, &c1);
    sim_contract_at(m, 6, &c2);
    CHECK_EQ_I64(c1.reference, c2.reference);
    CHECK(c1.reference >= 5 * SHJ_PRICE_SCALE && c1.reference <= 1200 * SHJ_PRICE_SCALE);
    CHECK(on_ladder(L_STK, c1.reference / CENT));
    sim_free(m2);

    /* Removal by code or by alias; removed codes never appear again. */
    CHECK(sim_remove(m, "TXFR1") == SHJ_OK);
    CHECK(sim_remove(m, "2330") == SHJ_OK); /* both boards */
    CHECK(sim_remove(m, "2330") == SHJ_ERR);
    CHECK_EQ_I64(sim_count(m), 4);
    long seen_removed = 0, got = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
        if (!len) break;
        got++;
        if (memmem(buf, len, "\"2330\"", 6) || memmem(buf, len, "TXFL6", 5)) seen_removed++;
    }
    CHECK_EQ_I64(got, 20000);
    CHECK_EQ_I64(seen_removed, 0);
    CHECK(sim_remove(m, "2317") == SHJ_OK);
    CHECK(sim_remove(m, "0050") == SHJ_OK);
    CHECK(sim_remove(m, "MXFA7") == SHJ_OK);
    CHECK(sim_remove(m, "6488") == SHJ_OK);
    CHECK(sim_next(m, &tag, buf, sizeof buf, &ns) == 0);
    CHECK(sim_next(m, &tag, buf, 100, &ns) == 0); /* too small a buffer: nothing written */
    sim_free(m);
}

static void test_clock(void) {
    /* Rate 3 does not divide 10^6: event k is at floor(k * 10^6 / 3) us. */
    sim_market *m = sim_new(5, "2026-11-25", 3);
    char res[16], err[160], buf[1024];
    CHECK(sim_add(m, "TXFR1", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    int64_t open_ns = clk_taipei_to_utc_ns(2026, 11, 25, 8, 45, 0, 0);
    long bad = 0;
    int tag;
    for (int64_t k = 0; k < 3000; k++) {
        int64_t ns;
        size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
        if (!len || ns != open_ns + (k * 1000000 / 3) * 1000) bad++;
        if (k == 0) CHECK(memmem(buf, len, "\"time\":\"08:45:00.000000\"", 24) != NULL);
        if (k == 2) CHECK(memmem(buf, len, "\"time\":\"08:45:00.666666\"", 24) != NULL);
    }
    CHECK_EQ_I64(bad, 0);
    sim_free(m);

    /* A Saturday start opens on Monday; stocks alone start with the 08:30
     * trial match; after 13:30 the next payload is the next day's 08:30. */
    m = sim_new(5, "2026-11-28", 0.05); /* one event per 20 s */
    CHECK(sim_add(m, "2330", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    int64_t ns, prev = 0;
    size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
    CHECK(memmem(buf, len, "\"date\":\"2026-11-30\",\"time\":\"08:30:00.000000\"", 44) != NULL);
    CHECK(memmem(buf, len, "\"simtrade\":true", 15) != NULL);
    long day2 = 0;
    for (int i = 0; i < 3000 && !day2; i++) {
        prev = ns;
        len = sim_next(m, &tag, buf, sizeof buf, &ns);
        if (memmem(buf, len, "2026-12-01", 10)) day2 = 1;
    }
    CHECK(day2);
    CHECK_EQ_I64(ns, clk_taipei_to_utc_ns(2026, 12, 1, 8, 30, 0, 0));
    CHECK(prev < clk_taipei_to_utc_ns(2026, 11, 30, 13, 30, 0, 0));
    CHECK(prev >= clk_taipei_to_utc_ns(2026, 11, 30, 13, 29, 40, 0));
    sim_free(m);
}

/* The default (Shioaji 1.7.x) shapes: Sinopac's key names and order
 * (Sinotrade.github.io@4c63dd4 tutor/market_data/streaming/stocks/index.md:
 * 296-327, :367-398, :616-630; futures/index.md:201-223, :365-384), and
 * the same market as the 1.5.0 spelling: a 1.7.x payload parses to the
 * event of the 1.5.0 payload of the same seed, except where 1.7.x says
 * more (futures chg_type) or says it differently (stock pct_chg: integer
 * hundredths of a percent, truncated: stocks/index.md:311-312). */
static const char *const v17_tick_stk[] = {
    "code", "date", "time", "open", "avg_price", "close", "high", "low", "amount",
    "total_amount", "volume", "total_volume", "tick_type", "chg_type", "price_chg", "pct_chg",
    "bid_side_total_vol", "ask_side_total_vol", "bid_side_total_cnt", "ask_side_total_cnt",
    "closing_oddlot_shares", "closing_oddlot_close", "closing_oddlot_amount",
    "closing_oddlot_bid_price", "closing_oddlot_ask_price", "fixed_trade_vol",
    "fixed_trade_amount", "suspend", "simtrade", "intraday_odd", "simulated", NULL};
static const char *const v17_tick_fop[] = {
    "code", "date", "time", "open", "underlying_price", "bid_side_total_vol",
    "ask_side_total_vol", "avg_price", "close", "high", "low", "amount", "total_amount", "volume",
    "total_volume", "tick_type", "chg_type", "price_chg", "pct_chg", "simtrade", "simulated", NULL};

static int keys_are(const cJSON *o, const char *const *want) {
    const cJSON *it = o->child;
    for (; *want; want++, it = it->next)
        if (!it || !it->string || strcmp(it->string, *want) != 0) return 0;
    return it == NULL;
}

static void test_v17_shapes(void) {
    /* 10 events per simulated second: 60000 payloads reach 10:10, past the stock open */
    sim_market *a = sim_new(21, "2026-11-25", 10), *b = sim_new(21, "2026-11-25", 10);
    CHECK(a && b);
    if (!a || !b) return;
    sim_configure(b, &(sim_config){.payload_v150 = 1});
    static const char *const codes[] = {"2330", "0050", "TXFR1", "MXFR1"};
    char resolved[16], err[160];
    for (int i = 0; i < 4; i++) {
        CHECK(sim_add(a, codes[i], 0, 0, BOTH, 0, resolved, err, sizeof err) == SHJ_OK);
        CHECK(sim_add(b, codes[i], 0, 0, BOTH, 0, resolved, err, sizeof err) == SHJ_OK);
    }
    CHECK(sim_add(a, "2317", 0, 0, TICK_BIT, 1, resolved, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(b, "2317", 0, 0, TICK_BIT, 1, resolved, err, sizeof err) == SHJ_OK);
    static char ba[1024], bb[1024];
    long ticks_stk = 0, ticks_fop = 0, odd = 0, bad_keys = 0, differ = 0, bad = 0;
    for (long n = 0; n < 60000; n++) {
        int ta, tb;
        int64_t xa, xb;
        size_t la = sim_next(a, &ta, ba, sizeof ba, &xa), lb = sim_next(b, &tb, bb, sizeof bb, &xb);
        if (ta != tb || xa != xb || !la || !lb) {
            bad++;
            break;
        }
        if (ta != PSR_TAG_TICK_STK && ta != PSR_TAG_TICK_FOP) {
            if (la != lb || memcmp(ba, bb, la) != 0) differ++; /* books: the same in both */
            continue;
        }
        cJSON *o = cJSON_ParseWithLength(ba, la);
        if (!o || !keys_are(o, ta == PSR_TAG_TICK_STK ? v17_tick_stk : v17_tick_fop)) {
            if (bad_keys++ < 3) fprintf(stderr, "  1.7.x keys: %.*s\n", (int)la, ba);
        }
        if (o && ta == PSR_TAG_TICK_STK) {
            const cJSON *pct = cJSON_GetObjectItemCaseSensitive(o, "pct_chg");
            if (!cJSON_IsNumber(pct)) bad_keys++; /* an integer, not a string */
            odd += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "intraday_odd"));
        }
        cJSON_Delete(o);
        shj_event ea, eb;
        char e1[200], e2[200];
        if (psr_parse(ta, ba, la, &ea, e1, sizeof e1) != PSR_EVENT ||
            psr_parse(tb, bb, lb, &eb, e2, sizeof e2) != PSR_EVENT) {
            if (bad++ < 3) fprintf(stderr, "  parse: %s / %s\n", e1, e2);
            continue;
        }
        if (ea.flags & SHJ_FLAG_FIELD_LOST) bad++;
        if (ta == PSR_TAG_TICK_STK) {
            ticks_stk++;
            /* hundredths of a percent, truncated: from the event's own change and reference */
            int64_t ref = ea.close - ea.diff_price;
            if (ref <= 0 || ea.diff_rate != ea.diff_price * 10000 / ref * (SHJ_PRICE_SCALE / 100)) bad++;
            eb.diff_rate = ea.diff_rate;
        } else {
            ticks_fop++;
            if (ea.chg_type < 1 || ea.chg_type > 5) bad++;
            eb.chg_type = ea.chg_type; /* 1.5.0 futures ticks carry none */
        }
        if (memcmp(&ea, &eb, sizeof ea) != 0 && differ++ < 3)
            fprintf(stderr, "  1.7.x vs 1.5.0 event differ:\n  %.*s\n  %.*s\n", (int)la, ba, (int)lb, bb);
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(bad_keys, 0);
    CHECK_EQ_I64(differ, 0);
    printf("1.7.x shapes: %ld stock ticks (%ld odd-lot), %ld futures ticks\n", ticks_stk, odd, ticks_fop);
    CHECK(ticks_stk > 1000 && ticks_fop > 1000 && odd > 100);
    sim_free(a);
    sim_free(b);
}

/* ---- the realistic clock (nominal rate 0): dates, reproduction, rates ---- */

typedef struct day_run {
    uint64_t hash;              /* every payload (bytes + time + tag) of the trading day */
    long payloads, parsed, flagged, off_ladder, outside;
    long trades_2330, trades_txf_day, trades_txf_night;
    int64_t vol_2330, vol_2330_first30, vol_2330_last30;
    int64_t hi_2330, lo_2330, ref_2330;
} day_run;

/* Simulate from `start` and record trading day `day` (YYYY-MM-DD) of 2330 and TXFR1. */
static void run_day(uint64_t seed, const char *start, const char *day, day_run *r) {
    memset(r, 0, sizeof *r);
    r->hash = 0xcbf29ce484222325ULL;
    r->lo_2330 = INT64_MAX;
    int y, mo, d;
    sscanf(day, "%d-%d-%d", &y, &mo, &d);
    int64_t T = clk_days_from_civil(y, mo, d);
    sim_market *m = sim_new(seed, start, 0);
    CHECK(m != NULL);
    if (!m) return;
    char res[16], txf[16], err[160];
    CHECK(sim_add(m, "2330", 0, 0, BOTH, 0, res, err, sizeof err) == SHJ_OK);
    CHECK(sim_add(m, "TXFR1", 0, 0, BOTH, 0, txf, err, sizeof err) == SHJ_OK);
    static char buf[1024];
    for (long i = 0; i < 5000000; i++) {
        int tag;
        int64_t ns;
        size_t len = sim_next(m, &tag, buf, sizeof buf, &ns);
        CHECK(len > 0);
        if (!len) break;
        int64_t t = sim_trading_day(m);
        if (t < T) continue;
        if (t > T) break;
        r->payloads++;
        unsigned char meta[12];
        memcpy(meta, &ns, 8);
        memcpy(meta + 8, &tag, 4);
        for (int j = 0; j < 12; j++) r->hash = (r->hash ^ meta[j]) * 0x100000001b3ULL;
        for (size_t j = 0; j < len; j++) r->hash = (r->hash ^ (unsigned char)buf[j]) * 0x100000001b3ULL;
        shj_event ev;
        if (psr_parse(tag, buf, len, &ev, err, sizeof err) != PSR_EVENT) continue;
        r->parsed++;
        if (ev.flags & SHJ_FLAG_SIMULATED) r->flagged++;
        int fop = strcmp(ev.code, txf) == 0;
        int ladder = fop ? L_FUT : L_STK;
        int64_t tod = ((ns / 1000000000LL + 8 * 3600) % 86400) / 60; /* Taipei minute */
        if (ev.kind == SHJ_KIND_BIDASK) {
            for (int k = 0; k < 5; k++)
                if (!on_ladder(ladder, ev.bid_price[k] / CENT) || !on_ladder(ladder, ev.ask_price[k] / CENT) ||
                    ev.bid_price[k] % CENT || ev.ask_price[k] % CENT)
                    r->off_ladder++;
            continue;
        }
        if (ev.close % CENT || !on_ladder(ladder, ev.close / CENT)) r->off_ladder++;
        if (ev.flags & SHJ_FLAG_SIMTRADE) continue;
        if (fop) {
            int day_s = tod >= 8 * 60 + 45 && tod < 13 * 60 + 45, night = tod >= 15 * 60 || tod < 5 * 60;
            if (day_s) r->trades_txf_day++;
            else if (night) r->trades_txf_night++;
            else r->outside++;
            continue;
        }
        if (tod < 9 * 60 || tod >= 13 * 60 + 30) r->outside++;
        r->trades_2330++;
        r->vol_2330 += ev.volume;
        if (tod < 9 * 60 + 30) r->vol_2330_first30 += ev.volume;
        if (tod >= 13 * 60) r->vol_2330_last30 += ev.volume;
        if (ev.close > r->hi_2330) r->hi_2330 = ev.close;
        if (ev.close < r->lo_2330) r->lo_2330 = ev.close;
        r->ref_2330 = ev.close - ev.diff_price;
    }
    sim_free(m);
}

static void test_realistic_days(void) {
    day_run a, b, c, e;
    /* Wednesday 2026-11-25 simulated on its own and as the third day of a
     * market started on Monday: byte for byte the same trading day (its
     * night session from Tuesday 15:00 included). */
    run_day(42, "2026-11-25", "2026-11-25", &a);
    run_day(42, "2026-11-23", "2026-11-25", &b);
    CHECK(a.payloads > 100000);
    CHECK_EQ_I64(a.payloads, b.payloads);
    CHECK(a.hash == b.hash);
    /* Other dates and other seeds: other paths. */
    run_day(42, "2026-11-26", "2026-11-26", &c);
    run_day(43, "2026-11-25", "2026-11-25", &e);
    CHECK(c.hash != a.hash && e.hash != a.hash);
    CHECK(c.hi_2330 != a.hi_2330 || c.lo_2330 != a.lo_2330 || c.ref_2330 != a.ref_2330);
    printf("realistic 2026-11-25: %ld payloads; 2330 %ld trades (%lld lots, range %.2f%%, first/last 30 min %.1f%%/%.1f%%), "
           "TXF %ld day + %ld night trades\n",
           a.payloads, a.trades_2330, (long long)a.vol_2330,
           100.0 * (double)(a.hi_2330 - a.lo_2330) / (double)a.ref_2330,
           100.0 * (double)a.vol_2330_first30 / (double)a.vol_2330,
           100.0 * (double)a.vol_2330_last30 / (double)a.vol_2330, a.trades_txf_day, a.trades_txf_night);
    const day_run *runs[] = {&a, &c, &e};
    for (int i = 0; i < 3; i++) {
        const day_run *r = runs[i];
        /* Every event flagged simulated, every price exact and on its tick ladder, inside its session. */
        CHECK_EQ_I64(r->parsed, r->payloads);
        CHECK_EQ_I64(r->flagged, r->parsed);
        CHECK_EQ_I64(r->off_ladder, 0);
        CHECK_EQ_I64(r->outside, 0);
        /* Published bands (sim_model.c, docs/simulator.md): 2330 1e4-3e4 prints a
         * day, TXF 3e4-1.5e5 in the day session, the night session 20-60 % of it. */
        CHECK(r->trades_2330 >= 10000 && r->trades_2330 <= 30000);
        CHECK(r->trades_txf_day >= 30000 && r->trades_txf_day <= 150000);
        CHECK(r->trades_txf_night * 100 >= r->trades_txf_day * 20 && r->trades_txf_night * 100 <= r->trades_txf_day * 60);
        /* U-shaped: the first 30 of 270 minutes hold well above their uniform 11 %. */
        CHECK(r->vol_2330_first30 * 100 >= r->vol_2330 * 15);
        CHECK(r->vol_2330_last30 * 100 >= r->vol_2330 * 12);
        /* A day range that moves a strategy, short of the limits. */
        int64_t range_bp = (r->hi_2330 - r->lo_2330) * 10000 / r->ref_2330;
        CHECK(range_bp >= 30 && range_bp <= 600);
    }
}

int main(void) {
    test_realistic_days();
    test_v17_shapes();
    test_aliases();
    test_add_remove_contracts();
    test_clock();
    test_determinism();
    test_stream_fast();
    test_stream_multi_day();
    T_DONE();
}
