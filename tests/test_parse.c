/* test_parse.c — psr_parse: field-by-field normalization of every payload kind,
 * exact prices, Taipei -> UTC, JSON tolerance (order, whitespace, unknown
 * values, escapes) and robustness (every truncation, random corruption,
 * missing fields, bad values). Every payload is copied into a buffer of
 * exactly its length (no NUL), so ASan catches any read past json+len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/instrument.h"
#include "parse/parse.h"
#include "parse/sse.h"
#include "t.h"

#ifdef SHJ_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#define P4 SHJ_PRICE_SCALE /* short (the name predates the 10^6 scale) */

/* The payloads of docs/shioaji-payloads.md, line breaks included (JSON whitespace). */
static const char *TICK_STK =
    "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.123456\",\"open\":\"1025\",\"close\":\"1030\",\n"
    " \"high\":\"1030\",\"low\":\"1020\",\"avg_price\":\"1026.12\",\"amount\":\"3090000\",\"amount_sum\":\"1234567890\",\n"
    " \"volume\":3,\"vol_sum\":1234,\"tick_type\":1,\"chg_type\":2,\"diff_price\":\"5\",\"diff_rate\":\"0.49\",\n"
    " \"trade_bid_vol_sum\":600,\"trade_ask_vol_sum\":634,\"simtrade\":false,\"suspend\":false,\n"
    " \"intraday_odd\":false}";
static const char *TICK_FOP =
    "{\"code\":\"TXFL6\",\"date\":\"2026-11-25\",\"time\":\"08:45:00.250000\",\"open\":\"23010\",\"close\":\"23012\",\n"
    " \"high\":\"23015\",\"low\":\"23001\",\"avg_price\":\"23008.41\",\"amount\":\"23012\",\"amount_sum\":\"52345678\",\n"
    " \"volume\":1,\"vol_sum\":2275,\"tick_type\":2,\"diff_price\":\"49\",\"diff_rate\":\"0.21\",\n"
    " \"target_kind_price\":\"23011.55\",\"trade_bid_vol_sum\":1100,\"trade_ask_vol_sum\":1175,\n"
    " \"simtrade\":false}";
static const char *BIDASK_STK =
    "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.123456\",\n"
    " \"bid_price\":[\"1025\",\"1020\",\"1015\",\"1010\",\"1005\"],\"bid_volume\":[120,85,60,40,33],\n"
    " \"diff_bid_vol\":[5,0,-3,0,0],\n"
    " \"ask_price\":[\"1030\",\"1035\",\"1040\",\"1045\",\"1050\"],\"ask_volume\":[90,70,52,41,20],\n"
    " \"diff_ask_vol\":[0,-2,0,0,1],\"suspend\":false,\"simtrade\":false,\"intraday_odd\":false}";
static const char *BIDASK_FOP =
    "{\"code\":\"TXFL6\",\"date\":\"2026-11-25\",\"time\":\"08:45:00.250000\",\"bid_total_vol\":38,\n"
    " \"ask_total_vol\":41,\"bid_price\":[\"23011\",\"23010\",\"23009\",\"23008\",\"23007\"],\n"
    " \"bid_volume\":[5,8,7,9,9],\"diff_bid_vol\":[1,0,0,0,0],\n"
    " \"ask_price\":[\"23012\",\"23013\",\"23014\",\"23015\",\"23016\"],\"ask_volume\":[6,9,8,9,9],\n"
    " \"diff_ask_vol\":[0,0,-1,0,0],\"first_derived_bid_price\":\"0\",\"first_derived_ask_price\":\"0\",\n"
    " \"first_derived_bid_vol\":0,\"first_derived_ask_vol\":0,\"underlying_price\":\"23011.55\",\n"
    " \"simtrade\":false}";
/* The sample of shared/reference/shioaji.md: a night-session futures tick. */
static const char *TICK_FOP_REF =
    "{\"code\":\"TXFD6\",\"date\":\"2026-04-01\",\"time\":\"18:33:18.084000\",\"open\":\"33601\",\"close\":\"33438\",\"high\":\"33728\",\"low\":\"33317\",\"volume\":1,\"vol_sum\":21748,\"tick_type\":0,\"diff_price\":\"49\",\"simtrade\":false}";
/* A Quote in the SDK v1 spelling, with book arrays a tick event has no room for. */
static const char *QUOTE_STK =
    "{\"code\":\"2317\",\"date\":\"2026-11-25\",\"time\":\"10:15:30.000001\",\"open\":\"180\",\"avg_price\":\"181.35\","
    "\"close\":\"182.5\",\"high\":\"183\",\"low\":\"179.5\",\"amount\":\"365000\",\"total_amount\":\"987654321.5\","
    "\"volume\":2,\"total_volume\":5432,\"tick_type\":1,\"chg_type\":2,\"price_chg\":\"2.5\",\"pct_chg\":\"1.38\","
    "\"bid_side_total_vol\":2500,\"ask_side_total_vol\":2932,\"bid_side_total_cnt\":100,"
    "\"bid_price\":[\"182\",\"181.5\",\"181\",\"180.5\",\"180\"],\"bid_volume\":[1,2,3,4,5],"
    "\"ask_price\":[\"182.5\",\"183\",\"183.5\",\"184\",\"184.5\"],\"ask_volume\":[5,4,3,2,1],"
    "\"avail_borrowing\":12345,\"suspend\":false,\"simtrade\":true}";
static const char *HEARTBEAT =
    "{\"type\":\"heartbeat\",\"timestamp\":\"2024-01-15T08:30:00Z\",\"connection_id\":\"42\"}";

static char err[256];

/* psr_parse on an exact-length heap copy (no NUL after it). */
static int parse_n(int tag, const char *json, size_t len, shj_event *ev) {
    char *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, json, len);
    err[0] = '\0';
    int rc = psr_parse(tag, copy, len, ev, err, sizeof err);
    free(copy);
    return rc;
}

static int parse(int tag, const char *json, shj_event *ev) {
    return parse_n(tag, json, strlen(json), ev);
}

/* Malformed, with err containing want. */
static void expect_bad(int tag, const char *json, const char *want) {
    shj_event ev;
    int rc = parse(tag, json, &ev);
    CHECK_EQ_I64(rc, PSR_MALFORMED);
    int has = strstr(err, want) != NULL;
    CHECK(has);
    if (rc != PSR_MALFORMED || !has)
        fprintf(stderr, "  payload %s\n  err \"%s\" (wanted \"%s\")\n", json, err, want);
}

/* Published, with SHJ_FLAG_FIELD_LOST: a field was left 0 (the caller
 * checks which), the rest of *ev parsed. */
static int expect_lost(int tag, const char *json, shj_event *ev) {
    int rc = parse(tag, json, ev);
    CHECK_EQ_I64(rc, PSR_EVENT);
    CHECK(ev->flags & SHJ_FLAG_FIELD_LOST);
    if (rc != PSR_EVENT || !(ev->flags & SHJ_FLAG_FIELD_LOST))
        fprintf(stderr, "  payload %s\n  rc %d flags %u err \"%s\"\n", json, rc, ev->flags, err);
    return rc == PSR_EVENT;
}

static void expect_err(int tag, const char *json, const char *exact) {
    shj_event ev;
    CHECK_EQ_I64(parse(tag, json, &ev), PSR_MALFORMED);
    CHECK_STR(err, exact);
}

/* Replace the first occurrence of `from` in src by `to` (test payload edits). */
static char *subst(const char *src, const char *from, const char *to) {
    static char out[8192];
    const char *at = strstr(src, from);
    if (!at) {
        fprintf(stderr, "subst: \"%s\" not in payload\n", from);
        abort();
    }
    size_t a = (size_t)(at - src);
    snprintf(out, sizeof out, "%.*s%s%s", (int)a, src, to, at + strlen(from));
    return out;
}

static int js_digit(char c) { return c >= '0' && c <= '9'; }

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------------ kinds */

static void test_tick_stk(void) {
    shj_event ev;
    memset(&ev, 0xAB, sizeof ev); /* psr_parse must zero what it does not fill */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_TICK);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TSE);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_STK);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_TICK_STK);
    CHECK_EQ_I64(ev.flags, 0);
    CHECK_STR(ev.code, "2330");
    CHECK_EQ_I64(ev.inst_id, inst_find("2330", 4));
    CHECK(ev.inst_id > 0);
    CHECK_EQ_I64(ev.ts_exch_ns, 1795568401123456000LL); /* 2026-11-25T01:00:01.123456Z */
    CHECK_EQ_I64(ev.ts_recv_ns, 0);
    CHECK_EQ_I64(ev.seq, 0);
    CHECK_EQ_I64(ev.source_id, 0);
    CHECK_EQ_I64(ev.open, 1025 * P4);
    CHECK_EQ_I64(ev.close, 1030 * P4);
    CHECK_EQ_I64(ev.high, 1030 * P4);
    CHECK_EQ_I64(ev.low, 1020 * P4);
    CHECK_EQ_I64(ev.avg_price, 102612 * P4 / 100);
    CHECK_EQ_I64(ev.amount, 3090000 * P4);
    CHECK_EQ_I64(ev.amount_sum, 1234567890 * P4);
    CHECK_EQ_I64(ev.volume, 3);
    CHECK_EQ_I64(ev.vol_sum, 1234);
    CHECK_EQ_I64(ev.tick_type, SHJ_SIDE_BUY);
    CHECK_EQ_I64(ev.chg_type, 2);
    CHECK_EQ_I64(ev.diff_price, 5 * P4);
    CHECK_EQ_I64(ev.diff_rate, 49 * P4 / 100);
    CHECK_EQ_I64(ev.bid_side_vol_sum, 600);
    CHECK_EQ_I64(ev.ask_side_vol_sum, 634);
    CHECK_EQ_I64(ev.underlying_price, 0);
    CHECK_EQ_I64(ev.bar_start_ns, 0);
    CHECK_EQ_I64(ev.period_s, 0);
    CHECK_EQ_I64(ev.trades, 0);
    CHECK_EQ_I64(ev.reserved0, 0);
    CHECK_EQ_I64(ev.reserved1, 0);
    CHECK(all_zero(ev.reserved_tail, sizeof ev.reserved_tail));
    CHECK(all_zero(ev.code + 5, sizeof ev.code - 5));
}

static void test_tick_fop(void) {
    shj_event ev;
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, TICK_FOP, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_TICK);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TAIFEX);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_FUT);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_TICK_FOP);
    CHECK_STR(ev.code, "TXFL6");
    CHECK_EQ_I64(ev.ts_exch_ns, 1795567500250000000LL); /* 2026-11-25T00:45:00.25Z */
    CHECK_EQ_I64(ev.open, 23010 * P4);
    CHECK_EQ_I64(ev.close, 23012 * P4);
    CHECK_EQ_I64(ev.high, 23015 * P4);
    CHECK_EQ_I64(ev.low, 23001 * P4);
    CHECK_EQ_I64(ev.avg_price, 2300841 * P4 / 100);
    CHECK_EQ_I64(ev.amount, 23012 * P4);
    CHECK_EQ_I64(ev.amount_sum, 52345678 * P4);
    CHECK_EQ_I64(ev.volume, 1);
    CHECK_EQ_I64(ev.vol_sum, 2275);
    CHECK_EQ_I64(ev.tick_type, SHJ_SIDE_SELL);
    CHECK_EQ_I64(ev.chg_type, 0);
    CHECK_EQ_I64(ev.diff_price, 49 * P4);
    CHECK_EQ_I64(ev.diff_rate, 21 * P4 / 100);
    CHECK_EQ_I64(ev.underlying_price, 2301155 * P4 / 100);
    CHECK_EQ_I64(ev.bid_side_vol_sum, 1100);
    CHECK_EQ_I64(ev.ask_side_vol_sum, 1175);
    CHECK_EQ_I64(ev.flags, 0);

    /* the reference sample: an evening (night session) tick, 18:33 Taipei = 10:33 UTC */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, TICK_FOP_REF, &ev), PSR_EVENT);
    CHECK_STR(ev.code, "TXFD6");
    CHECK_EQ_I64(ev.ts_exch_ns, 1775039598084000000LL);
    CHECK_EQ_I64(ev.open, 33601 * P4);
    CHECK_EQ_I64(ev.close, 33438 * P4);
    CHECK_EQ_I64(ev.high, 33728 * P4);
    CHECK_EQ_I64(ev.low, 33317 * P4);
    CHECK_EQ_I64(ev.volume, 1);
    CHECK_EQ_I64(ev.vol_sum, 21748);
    CHECK_EQ_I64(ev.tick_type, SHJ_SIDE_UNKNOWN);
    CHECK_EQ_I64(ev.diff_price, 49 * P4);
    CHECK_EQ_I64(ev.avg_price, 0); /* absent optional fields stay 0 */
    CHECK_EQ_I64(ev.amount, 0);
}

static void check_levels64(const int64_t *got, const int64_t *want) {
    for (int i = 0; i < SHJ_LEVELS; i++) CHECK_EQ_I64(got[i], want[i]);
}
static void check_levels32(const int32_t *got, const int32_t *want) {
    for (int i = 0; i < SHJ_LEVELS; i++) CHECK_EQ_I64(got[i], want[i]);
}

static void test_bidask(void) {
    shj_event ev;
    memset(&ev, 0x5A, sizeof ev);
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, BIDASK_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_BIDASK);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TSE);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_STK);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_BIDASK_STK);
    CHECK_STR(ev.code, "2330");
    CHECK_EQ_I64(ev.ts_exch_ns, 1795568401123456000LL);
    CHECK_EQ_I64(ev.flags, 0);
    int64_t bp[5] = {1025 * P4, 1020 * P4, 1015 * P4, 1010 * P4, 1005 * P4};
    int64_t ap[5] = {1030 * P4, 1035 * P4, 1040 * P4, 1045 * P4, 1050 * P4};
    int32_t bv[5] = {120, 85, 60, 40, 33}, av[5] = {90, 70, 52, 41, 20};
    int32_t db[5] = {5, 0, -3, 0, 0}, da[5] = {0, -2, 0, 0, 1};
    check_levels64(ev.bid_price, bp);
    check_levels64(ev.ask_price, ap);
    check_levels32(ev.bid_volume, bv);
    check_levels32(ev.ask_volume, av);
    check_levels32(ev.diff_bid_vol, db);
    check_levels32(ev.diff_ask_vol, da);
    CHECK(all_zero(ev.reserved_tail, sizeof ev.reserved_tail));
    /* the book part of the union ends at diff_ask_vol: the rest is zero */
    const char *after = (const char *)&ev.diff_ask_vol[5];
    CHECK(all_zero(after, (size_t)((const char *)ev.reserved_tail - after)));

    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_FOP, BIDASK_FOP, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_BIDASK);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TAIFEX);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_FUT);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_BIDASK_FOP);
    CHECK_STR(ev.code, "TXFL6");
    CHECK_EQ_I64(ev.ts_exch_ns, 1795567500250000000LL);
    int64_t fbp[5] = {23011 * P4, 23010 * P4, 23009 * P4, 23008 * P4, 23007 * P4};
    int64_t fap[5] = {23012 * P4, 23013 * P4, 23014 * P4, 23015 * P4, 23016 * P4};
    int32_t fbv[5] = {5, 8, 7, 9, 9}, fav[5] = {6, 9, 8, 9, 9};
    int32_t fdb[5] = {1, 0, 0, 0, 0}, fda[5] = {0, 0, -1, 0, 0};
    check_levels64(ev.bid_price, fbp);
    check_levels64(ev.ask_price, fap);
    check_levels32(ev.bid_volume, fbv);
    check_levels32(ev.ask_volume, fav);
    check_levels32(ev.diff_bid_vol, fdb);
    check_levels32(ev.diff_ask_vol, fda);

    /* fewer than 5 levels: deeper levels stay 0; empty arrays are allowed */
    const char *thin =
        "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"13:30:00\",\"bid_price\":[\"585.5\",\"585\"],"
        "\"bid_volume\":[7,8],\"ask_price\":[],\"ask_volume\":[ ]}";
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, thin, &ev), PSR_EVENT);
    int64_t tbp[5] = {5855 * P4 / 10, 585 * P4, 0, 0, 0}, zero64[5] = {0};
    int32_t tbv[5] = {7, 8, 0, 0, 0}, zero32[5] = {0};
    check_levels64(ev.bid_price, tbp);
    check_levels32(ev.bid_volume, tbv);
    check_levels64(ev.ask_price, zero64);
    check_levels32(ev.ask_volume, zero32);
    check_levels32(ev.diff_bid_vol, zero32);

    /* tick fields in a book payload are skipped: they must not land in the union */
    const char *mixed = subst(BIDASK_STK, "\"suspend\"", "\"close\":\"999\",\"volume\":77,\"suspend\"");
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, mixed, &ev), PSR_EVENT);
    check_levels64(ev.bid_price, bp);
    check_levels32(ev.diff_ask_vol, da);
}

static void test_quote(void) {
    shj_event ev;
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_STK, QUOTE_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_QUOTE);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TSE);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_STK);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_QUOTE_STK);
    CHECK_STR(ev.code, "2317");
    CHECK_EQ_I64(ev.ts_exch_ns, 1795568401123456000LL + (3600LL + 15 * 60 + 29) * 1000000000LL -
                                    123455000LL); /* 10:15:30.000001 */
    CHECK_EQ_I64(ev.open, 180 * P4);
    CHECK_EQ_I64(ev.close, 1825 * P4 / 10);
    CHECK_EQ_I64(ev.high, 183 * P4);
    CHECK_EQ_I64(ev.low, 1795 * P4 / 10);
    CHECK_EQ_I64(ev.avg_price, 18135 * P4 / 100);
    CHECK_EQ_I64(ev.amount, 365000 * P4);
    CHECK_EQ_I64(ev.amount_sum, 9876543215 * P4 / 10); /* total_amount */
    CHECK_EQ_I64(ev.volume, 2);
    CHECK_EQ_I64(ev.vol_sum, 5432);               /* total_volume */
    CHECK_EQ_I64(ev.diff_price, 25 * P4 / 10);  /* price_chg */
    CHECK_EQ_I64(ev.diff_rate, 138 * P4 / 100); /* pct_chg */
    CHECK_EQ_I64(ev.bid_side_vol_sum, 2500);      /* bid_side_total_vol */
    CHECK_EQ_I64(ev.ask_side_vol_sum, 2932);
    CHECK_EQ_I64(ev.tick_type, 1);
    CHECK_EQ_I64(ev.chg_type, 2);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_SIMTRADE);
    CHECK(all_zero(ev.reserved_tail, sizeof ev.reserved_tail));

    const char *fop = subst(TICK_FOP, "\"code\":\"TXFL6\"", "\"code\":\"MXFL6\"");
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_FOP, fop, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_QUOTE);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TAIFEX);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_FUT);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_QUOTE_FOP);
    CHECK_STR(ev.code, "MXFL6");
    CHECK_EQ_I64(ev.close, 23012 * P4);
    CHECK_EQ_I64(ev.underlying_price, 2301155 * P4 / 100);
}

static void test_control_and_tags(void) {
    shj_event ev;
    CHECK_EQ_I64(parse(PSR_TAG_HEARTBEAT, HEARTBEAT, &ev), PSR_CONTROL);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_NONE);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_HEARTBEAT);
    CHECK_EQ_I64(parse(PSR_TAG_HEARTBEAT, " {} \n", &ev), PSR_CONTROL);
    expect_bad(PSR_TAG_HEARTBEAT, "{\"type\":\"heartbeat\"", "heartbeat: truncated JSON at byte 19");
    expect_bad(PSR_TAG_HEARTBEAT, "[1]", "expected '{'");
    expect_bad(PSR_TAG_HEARTBEAT, "{} x", "trailing bytes");
    expect_bad(PSR_TAG_HEARTBEAT, "", "truncated JSON at byte 0");
    /* Not market data (order_event, contract_event, unknown names): PSR_OTHER,
     * whatever the payload looks like (never counted as bad), and not read:
     * Sinotrade/Shioaji@046010c STREAMING.md:616 publishes order_event as
     * {"operation":{...},"order":{...},...}, not JSON. */
    const int others[] = {PSR_TAG_UNKNOWN, 99, -1, PSR_TAG_ORDER_EVENT, PSR_TAG_CONTRACT_EVENT};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        memset(&ev, 0xAB, sizeof ev);
        CHECK_EQ_I64(parse(others[i], TICK_STK, &ev), PSR_OTHER);
        CHECK_EQ_I64(ev.kind, SHJ_KIND_NONE);
        CHECK_EQ_I64(ev.payload_tag, others[i] > 0 && others[i] < PSR_TAG_MAX ? others[i] : 0);
        CHECK_EQ_I64(parse(others[i], "{\"operation\":{...},\"order\":{...},...}", &ev), PSR_OTHER);
    }
    CHECK_EQ_I64(psr_tag_from_name("order_event", 11), PSR_TAG_ORDER_EVENT);
    CHECK_EQ_I64(psr_tag_from_name("contract_event", 14), PSR_TAG_CONTRACT_EVENT);
    CHECK_EQ_I64(psr_tag_from_name("quote_idx", 9), PSR_TAG_QUOTE_IDX);
    CHECK_EQ_I64(psr_tag_from_name("system_event", 12), PSR_TAG_UNKNOWN);
    /* NULL payload: malformed, not a crash */
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, NULL, 0, &ev, err, sizeof err), PSR_MALFORMED);
    /* err may be NULL or tiny */
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, "{", 1, &ev, NULL, 0), PSR_MALFORMED);
    char tiny[8];
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, "{", 1, &ev, tiny, sizeof tiny), PSR_MALFORMED);
    CHECK_EQ_I64(strlen(tiny), 7);
    /* tag names round trip (parse_tags.c) */
    for (int t = 1; t < PSR_TAG_MAX; t++) {
        const char *name = psr_tag_name(t);
        CHECK_EQ_I64(psr_tag_from_name(name, strlen(name)), t);
    }
    CHECK_EQ_I64(psr_tag_from_name("tick_stkx", 8), PSR_TAG_TICK_STK);
    CHECK_EQ_I64(psr_tag_from_name("tick", 4), PSR_TAG_UNKNOWN);
}

/* ------------------------------------------------------- exact values, time */

static void test_exact_prices(void) {
    shj_event ev;
    const char *p = subst(TICK_STK, "\"close\":\"1030\"", "\"close\":\"585.5\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.close, 5855 * P4 / 10);
    char buf[24];
    dec_format(ev.close, buf);
    CHECK_STR(buf, "585.5");

    struct {
        const char *in;
        int64_t want;
        const char *out;
    } cases[] = {
        {"585.5", 5855 * P4 / 10, "585.5"}, {"0.05", 5 * P4 / 100, "0.05"}, {"-0.05", -5 * P4 / 100, "-0.05"},
        {"33601", 33601 * P4, "33601"}, {"1026.1200", 102612 * P4 / 100, "1026.12"}, {"+7.25", 725 * P4 / 100, "7.25"},
        {"0.0001", P4 / 10000, "0.0001"}, {"0.000001", 1, "0.000001"}, {"1.206261", P4 + 206261, "1.206261"},
        {"9223372036854.775807", INT64_MAX, "9223372036854.775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char repl[64];
        snprintf(repl, sizeof repl, "\"diff_price\":\"%s\"", cases[i].in);
        CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"diff_price\":\"5\"", repl), &ev),
                     PSR_EVENT);
        CHECK_EQ_I64(ev.diff_price, cases[i].want);
        dec_format(ev.diff_price, buf);
        CHECK_STR(buf, cases[i].out);
    }
    /* a bare JSON number for a price is read from its text, exactly */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":585.5"), &ev),
                 PSR_EVENT);
    CHECK_EQ_I64(ev.close, 5855 * P4 / 10);
    /* an integer given as a string is fine too */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"volume\":3", "\"volume\":\"30\""), &ev),
                 PSR_EVENT);
    CHECK_EQ_I64(ev.volume, 30);
    /* negative and extreme integers */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK,
                       subst(TICK_STK, "\"vol_sum\":1234", "\"vol_sum\":9223372036854775807"), &ev),
                 PSR_EVENT);
    CHECK_EQ_I64(ev.vol_sum, INT64_MAX);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"volume\":3", "\"volume\":2147483647"), &ev),
                 PSR_EVENT);
    CHECK_EQ_I64(ev.volume, INT32_MAX);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"chg_type\":2", "\"chg_type\":-5"), &ev),
                 PSR_EVENT);
    CHECK_EQ_I64(ev.chg_type, -5);
}

static int64_t ts_of(const char *date, const char *time) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"code\":\"TXFL6\",\"date\":\"%s\",\"time\":\"%s\",\"close\":\"1\",\"volume\":1}", date,
             time);
    shj_event ev;
    int rc = parse(PSR_TAG_TICK_FOP, json, &ev);
    CHECK_EQ_I64(rc, PSR_EVENT);
    return rc == PSR_EVENT ? ev.ts_exch_ns : -1;
}

static void test_times(void) {
    /* Taipei is UTC+8, no DST: subtract 8 h, across day/month/year boundaries */
    CHECK_EQ_I64(ts_of("2026-11-25", "09:00:01.123456"), 1795568401123456000LL);
    CHECK_EQ_I64(ts_of("2026-11-26", "00:30:00.000000"), 1795624200000000000LL); /* night session */
    CHECK_EQ_I64(ts_of("2027-01-01", "07:59:59.999999"), 1798761599999999000LL); /* -> 2026 UTC */
    CHECK_EQ_I64(ts_of("2028-03-01", "05:00:00"), 1835470800000000000LL);       /* -> Feb 29 UTC */
    CHECK_EQ_I64(ts_of("2028-02-29", "23:59:59"), 1835452799000000000LL);       /* leap day */
    CHECK_EQ_I64(ts_of("1970-01-01", "08:00:00"), 0);
    /* fraction: 1..9 digits, right-padded */
    CHECK_EQ_I64(ts_of("2026-11-25", "09:00:01.5"), 1795568401500000000LL);
    CHECK_EQ_I64(ts_of("2026-11-25", "09:00:01.123456789"), 1795568401123456789LL);
    CHECK_EQ_I64(ts_of("2026-11-25", "09:00:01"), 1795568401000000000LL);
    /* midnight rollover: 23:59:59.999999 then 00:00:00 of the next date is 1 us later */
    CHECK_EQ_I64(ts_of("2026-11-26", "00:00:00") - ts_of("2026-11-25", "23:59:59.999999"), 1000);
    /* month/year: the first instant of a month is one us after the last of the previous */
    CHECK_EQ_I64(ts_of("2026-12-01", "00:00:00") - ts_of("2026-11-30", "23:59:59.999999"), 1000);
    CHECK_EQ_I64(ts_of("2027-01-01", "00:00:00") - ts_of("2026-12-31", "23:59:59.999999"), 1000);

    const char *bad_dates[] = {"2026-02-29", "2026-13-01", "2026-00-10", "2026-11-31", "2026-11-00",
                               "2026/11/25", "2026-1-25",  "26-11-25",   "2026-11-25 ",  "",
                               "1969-12-31", "2262-01-01", "2100-02-29", "20a6-11-25", "2026-11-2x"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
        char json[512], want[96];
        snprintf(json, sizeof json,
                 "{\"code\":\"2330\",\"date\":\"%s\",\"time\":\"09:00:00\",\"close\":\"1\",\"volume\":1}",
                 bad_dates[i]);
        snprintf(want, sizeof want, "tick_stk: field \"date\": bad date \"%s\"", bad_dates[i]);
        expect_err(PSR_TAG_TICK_STK, json, want);
    }
    const char *bad_times[] = {"24:00:00", "09:60:00", "09:00:60", "9:00:01",  "09:00:01.",
                               "09:00:01.1234567890", "09:00:01,5", "09-00-01", "09:00", "",
                               "09:00:01.12a", "-9:00:01",
                               /* the usual 15-byte shape, which the fast path reads */
                               "24:00:00.000000", "23:60:00.000000", "23:59:60.000000",
                               "2a:00:00.000000", "23:59:59.00000a", "23:59:59:000000",
                               "23-59:59.000000", "23:59:5 .000000"};
    for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++) {
        char json[512], want[96];
        snprintf(json, sizeof json,
                 "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"%s\",\"close\":\"1\",\"volume\":1}",
                 bad_times[i]);
        snprintf(want, sizeof want, "tick_stk: field \"time\": bad time \"%s\"", bad_times[i]);
        expect_err(PSR_TAG_TICK_STK, json, want);
    }
    expect_err(PSR_TAG_TICK_STK,
               "{\"code\":\"2330\",\"date\":20261125,\"time\":\"09:00:00\",\"close\":\"1\",\"volume\":1}",
               "tick_stk: field \"date\": bad string \"20261125\"");
}

/* ------------------------------------------------------ flags, instruments */

static void test_flags_and_instruments(void) {
    shj_event ev;
    const char *p = subst(TICK_STK, "\"simtrade\":false", "\"simtrade\":true");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_SIMTRADE);
    p = subst(TICK_STK, "\"suspend\":false", "\"suspend\":true");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_SUSPENDED);
    p = subst(TICK_STK, "\"intraday_odd\":false", "\"intraday_odd\":true");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_ODDLOT);
    p = subst(BIDASK_STK, "\"suspend\":false,\"simtrade\":false,\"intraday_odd\":false",
              "\"suspend\":true,\"simtrade\":true,\"intraday_odd\":true");
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_SIMTRADE | SHJ_FLAG_SUSPENDED | SHJ_FLAG_ODDLOT);
    /* our backfill marks payloads fetched after a gap; replay must see the flag */
    p = subst(TICK_STK, "\"simtrade\":false", "\"simtrade\":false,\"backfill\":true");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, SHJ_FLAG_BACKFILL);
    p = subst(TICK_STK, "\"simtrade\":false", "\"simtrade\":null"); /* null = absent */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.flags, 0);
    /* not a boolean: the flag is lost (left clear), err says which and why */
    if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"simtrade\":false", "\"simtrade\":1"), &ev)) {
        CHECK_EQ_I64(ev.flags, SHJ_FLAG_FIELD_LOST);
        CHECK_STR(err, "tick_stk: field \"simtrade\": expected true or false at byte 337");
    }

    /* defaults from the tag unless a subscription registered the instrument */
    uint32_t otc = inst_register("6488", SHJ_EX_OTC, SHJ_SEC_STK, 0);
    CHECK(otc > 0);
    p = subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"6488\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.inst_id, otc);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_OTC);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_STK);
    uint32_t opt = inst_register("TXO23000L6", SHJ_EX_TAIFEX, SHJ_SEC_OPT, 0);
    p = subst(TICK_FOP, "\"code\":\"TXFL6\"", "\"code\":\"TXO23000L6\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.inst_id, opt);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_OPT);
    /* first seen in a payload: interned with the tag's defaults */
    p = subst(TICK_FOP, "\"code\":\"TXFL6\"", "\"code\":\"MXFA7\"");
    uint32_t before = inst_count();
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, p, &ev), PSR_EVENT);
    CHECK_EQ_I64(inst_count(), before + 1);
    CHECK_EQ_I64(ev.inst_id, inst_find("MXFA7", 5));
    CHECK_EQ_I64(inst_get(ev.inst_id)->exchange, SHJ_EX_TAIFEX);
    CHECK_EQ_I64(inst_get(ev.inst_id)->sec_type, SHJ_SEC_FUT);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, p, &ev), PSR_EVENT); /* same id next time */
    CHECK_EQ_I64(inst_count(), before + 1);
    /* codes: 15 bytes max, printable ASCII, not empty */
    p = subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"ABCDEFGHIJKLMNO\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_STR(ev.code, "ABCDEFGHIJKLMNO");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"ABCDEFGHIJKLMNOP\""),
               "field \"code\": bad code (longer than 15 bytes) \"ABCDEFGHIJKLMNOP\"");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"\""),
               "field \"code\": bad code (empty)");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"23 30\""),
               "not printable ASCII");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"code\":\"2330\"", "\"code\":2330"),
               "field \"code\": bad string \"2330\"");
    /* a duplicate code key: the last wins, and a shorter one leaves no tail */
    p = subst(TICK_STK, "\"code\":\"2330\"", "\"code\":\"LONGCODE1\",\"code\":\"2330\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK_STR(ev.code, "2330");
    CHECK(all_zero(ev.code + 4, sizeof ev.code - 4));
    CHECK_EQ_I64(ev.inst_id, inst_find("2330", 4));
}

/* ---------------------------------------------------------- JSON tolerance */

/* The tick_stk payload as key:value members, to reorder and re-space. */
static const char *MEMBERS[] = {
    "\"code\":\"2330\"", "\"date\":\"2026-11-25\"", "\"time\":\"09:00:01.123456\"",
    "\"open\":\"1025\"", "\"close\":\"1030\"", "\"high\":\"1030\"", "\"low\":\"1020\"",
    "\"avg_price\":\"1026.12\"", "\"amount\":\"3090000\"", "\"amount_sum\":\"1234567890\"",
    "\"volume\":3", "\"vol_sum\":1234", "\"tick_type\":1", "\"chg_type\":2",
    "\"diff_price\":\"5\"", "\"diff_rate\":\"0.49\"", "\"trade_bid_vol_sum\":600",
    "\"trade_ask_vol_sum\":634", "\"simtrade\":false", "\"suspend\":false",
    "\"intraday_odd\":false",
};
#define NMEMBERS (sizeof MEMBERS / sizeof *MEMBERS)

static const char *WS[] = {"", " ", "\n", "\t", "\r\n", "  \t \n "};

/* Insert random whitespace between the tokens of a member (outside strings). */
static size_t spaced(const char *m, char *out) {
    size_t n = 0;
    int in_str = 0;
    for (const char *p = m; *p; p++) {
        if (!in_str && (*p == ':' || *p == ',')) {
            const char *w = WS[rand() % 6];
            n += (size_t)sprintf(out + n, "%s%c%s", w, *p, WS[rand() % 6]);
            continue;
        }
        if (*p == '"') in_str = !in_str;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n;
}

static const char *UNKNOWN_VALUES[] = {
    "\"x_str\":\"hello \\\"world\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\ud83d\\ude00\"",
    "\"x_obj\":{\"a\":{\"b\":[1,2,{\"c\":null}],\"d\":\"}\"},\"e\":[]}",
    "\"x_arr\":[[],[[]],{},\"]\",-0.5e-3,1E+9,true,false,null]",
    "\"x_num\":-12.5e10", "\"x_zero\":0", "\"x_true\":true", "\"x_null\":null",
    "\"bid_price\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\"]", /* a book key in a tick: not ours */
    "\"first_derived_bid_price\":\"0\"", "\"\":\"empty key\"", "\"x_utf8\":\"\xe5\x8f\xb0\xe7\xa9\x8d\xe9\x9b\xbb\"",
};
#define NUNKNOWN (sizeof UNKNOWN_VALUES / sizeof *UNKNOWN_VALUES)

static void test_tolerance(void) {
    shj_event ref, ev;
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ref), PSR_EVENT);
    srand(7);
    char json[8192];
    int diff = 0, fails = 0;
    for (int round = 0; round < 500; round++) {
        size_t order[NMEMBERS + NUNKNOWN];
        size_t total = NMEMBERS + (round % 2 ? NUNKNOWN : 0);
        for (size_t i = 0; i < total; i++) order[i] = i;
        for (size_t i = total - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = (size_t)rand() % (i + 1);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        size_t n = 0;
        n += (size_t)sprintf(json + n, "%s{%s", WS[rand() % 6], WS[rand() % 6]);
        for (size_t i = 0; i < total; i++) {
            const char *m = order[i] < NMEMBERS ? MEMBERS[order[i]] : UNKNOWN_VALUES[order[i] - NMEMBERS];
            if (i) n += (size_t)sprintf(json + n, "%s,%s", WS[rand() % 6], WS[rand() % 6]);
            n += spaced(m, json + n);
        }
        n += (size_t)sprintf(json + n, "%s}%s", WS[rand() % 6], WS[rand() % 6]);
        if (parse_n(PSR_TAG_TICK_STK, json, n, &ev) != PSR_EVENT) {
            if (fails++ < 3) fprintf(stderr, "  rejected: %s\n  err: %s\n", json, err);
            continue;
        }
        if (memcmp(&ev, &ref, sizeof ev) != 0) diff++;
    }
    CHECK_EQ_I64(fails, 0);
    CHECK_EQ_I64(diff, 0);

    /* a book payload reversed and pretty-printed (whitespace inside arrays
     * too) gives the same event as the compact one */
    shj_event bref, bev;
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, BIDASK_STK, &bref), PSR_EVENT);
    const char *book_rev =
        "{\n  \"intraday_odd\" : false,\n  \"simtrade\" : false,\n  \"suspend\" : false,\n"
        "  \"diff_ask_vol\" : [ 0, -2, 0, 0, 1 ],\n  \"ask_volume\" : [ 90, 70, 52, 41, 20 ],\n"
        "  \"ask_price\" : [ \"1030\", \"1035\", \"1040\", \"1045\", \"1050\" ],\n"
        "  \"diff_bid_vol\" : [ 5, 0, -3, 0, 0 ],\n  \"bid_volume\" : [ 120, 85, 60, 40, 33 ],\n"
        "  \"bid_price\" : [ \"1025\", \"1020\", \"1015\", \"1010\", \"1005\" ],\n"
        "  \"time\" : \"09:00:01.123456\",\n  \"date\" : \"2026-11-25\",\n  \"code\" : \"2330\"\n}\n";
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, book_rev, &bev), PSR_EVENT);
    CHECK(memcmp(&bev, &bref, sizeof bev) == 0);

    /* escapes in keys and values decode to the same thing */
    char esc1[4096];
    snprintf(esc1, sizeof esc1, "%s", subst(TICK_STK, "\"code\":\"2330\"", "\"c\\u006fde\":\"\\u0032330\""));
    const char *esc = subst(esc1, "\"close\":\"1030\"", "\"close\":\"10\\u00330\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, esc, &ev), PSR_EVENT);
    if (err[0]) fprintf(stderr, "  escapes: %s\n", err);
    CHECK(memcmp(&ev, &ref, sizeof ev) == 0);
    CHECK_STR(ev.code, "2330");
    /* bad escapes and raw control bytes are malformed wherever they are */
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"intraday_odd\"", "\"zz\":\"a\\x\",\"intraday_odd\""),
               "expected a valid escape");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"intraday_odd\"", "\"zz\":\"\\u12G4\",\"intraday_odd\""),
               "hex digit");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"intraday_odd\"", "\"zz\":\"a\tb\",\"intraday_odd\""),
               "control bytes must be escaped");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":\"\\ud800\""),
               "field \"close\": bad string");
    /* JSON grammar is enforced in skipped values too */
    const char *badjson[] = {"01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "[1,]", "{\"a\"}",
                             "{\"a\":1,}", "[1 2]", "{1:2}", "'x'", "NaN", "\"\\\"", "[", "{"};
    for (size_t i = 0; i < sizeof badjson / sizeof *badjson; i++) {
        char m[64];
        snprintf(m, sizeof m, "\"zz\":%s,\"intraday_odd\"", badjson[i]);
        shj_event e2;
        int rc = parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"intraday_odd\"", m), &e2);
        CHECK_EQ_I64(rc, PSR_MALFORMED);
        if (rc != PSR_MALFORMED) fprintf(stderr, "  accepted bad value %s\n", badjson[i]);
    }
    /* structure */
    expect_bad(PSR_TAG_TICK_STK, "", "truncated JSON at byte 0");
    expect_bad(PSR_TAG_TICK_STK, "   ", "truncated JSON at byte 3");
    expect_bad(PSR_TAG_TICK_STK, "[]", "expected '{' at byte 0, found '['");
    expect_bad(PSR_TAG_TICK_STK, "{}", "missing required field \"code\"");
    expect_bad(PSR_TAG_TICK_STK, "{\"code\" \"2330\"}", "expected ':' at byte 8");
    expect_bad(PSR_TAG_TICK_STK, "{\"code\":\"2330\" \"date\":1}", "expected ',' or '}' at byte 15, found '\"'");
    expect_bad(PSR_TAG_TICK_STK, "{code:1}", "expected '\"' (a key) at byte 1");
    char trailing[4096];
    snprintf(trailing, sizeof trailing, "%s}", TICK_STK);
    expect_bad(PSR_TAG_TICK_STK, trailing, "trailing bytes after the JSON object");
    snprintf(trailing, sizeof trailing, "%s\n\r\t ", TICK_STK);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, trailing, &ev), PSR_EVENT);
    CHECK_EQ_I64(parse_n(PSR_TAG_TICK_STK, "{\"code\":\"2330\"}\0", 16, &ev), PSR_MALFORMED);
    /* nesting: 64 levels inside an unknown value are fine, deeper is refused
     * cleanly (no stack overflow even for 100k brackets) */
    static char deep[300000];
    for (int depth = 60; depth <= 70; depth += 10) {
        size_t n = (size_t)sprintf(deep, "{\"zz\":");
        for (int i = 0; i < depth; i++) deep[n++] = '[';
        for (int i = 0; i < depth; i++) deep[n++] = ']';
        n += (size_t)sprintf(deep + n, ",%s", TICK_STK + 1);
        int rc = parse_n(PSR_TAG_TICK_STK, deep, n, &ev);
        CHECK_EQ_I64(rc, depth <= 63 ? PSR_EVENT : PSR_MALFORMED);
    }
    size_t n = (size_t)sprintf(deep, "{\"zz\":");
    for (int i = 0; i < 100000; i++) deep[n++] = '[';
    CHECK_EQ_I64(parse_n(PSR_TAG_TICK_STK, deep, n, &ev), PSR_MALFORMED);
    CHECK(strstr(err, "nested deeper than 64") != NULL);
}

/* ---------------------------------------------------------- bad values */

static void test_bad_values(void) {
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":\"58x.5\""),
               "tick_stk: field \"close\": bad decimal \"58x.5\"");
    /* An auxiliary field we cannot hold costs only itself (left 0, flagged). */
    shj_event e, base;
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, TICK_FOP, &base), PSR_EVENT);
    CHECK_EQ_I64(base.flags & SHJ_FLAG_FIELD_LOST, 0);
    if (expect_lost(PSR_TAG_TICK_FOP, subst(TICK_FOP, "\"open\":\"23010\"", "\"open\":\"23010.1234567\""), &e)) {
        CHECK_EQ_I64(e.open, 0); /* 7 places: finer than any scale we use */
        e.open = base.open;
        e.flags &= ~(uint32_t)SHJ_FLAG_FIELD_LOST;
        CHECK(memcmp(&e, &base, sizeof e) == 0); /* nothing else changed */
    }
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, subst(TICK_FOP, "\"open\":\"23010\"", "\"open\":\"23010.5000000\""), &e),
                 PSR_EVENT);
    CHECK_EQ_I64(e.open, 230105 * P4 / 10); /* extra zero digits are exact */
    if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"amount_sum\":\"1234567890\"", "\"amount_sum\":\"9223372036855\""), &e)) {
        CHECK_EQ_I64(e.amount_sum, 0);
        CHECK_EQ_I64(e.close, 1030 * P4);
    }
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":\"\""),
               "tick_stk: field \"close\": bad decimal \"\"");
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":1e3"),
               "tick_stk: field \"close\": bad decimal \"1e3\"");
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":true"),
               "tick_stk: expected a string or a number at byte 82, found 't'");
    const char *lost_vol[] = {"2147483648", "3.0", "\"abc\"", "true", "[3]", "{\"v\":3}"};
    for (size_t i = 0; i < sizeof lost_vol / sizeof *lost_vol; i++) {
        char v[64];
        snprintf(v, sizeof v, "\"volume\":%s", lost_vol[i]);
        if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"volume\":3", v), &e)) {
            CHECK_EQ_I64(e.volume, 0);
            CHECK_EQ_I64(e.vol_sum, 1234);
        }
    }
    if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"vol_sum\":1234", "\"vol_sum\":9223372036854775808"), &e))
        CHECK_EQ_I64(e.vol_sum, 0);
    if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"tick_type\":1", "\"tick_type\":300"), &e))
        CHECK_EQ_I64(e.tick_type, 0);
    if (expect_lost(PSR_TAG_TICK_STK, subst(TICK_STK, "\"simtrade\":false", "\"simtrade\":1"), &e))
        CHECK_EQ_I64(e.flags, SHJ_FLAG_FIELD_LOST);
    /* a broken value of a skipped or lost field is still broken JSON */
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"volume\":3", "\"volume\":03"), "tick_stk: ");
    expect_bad(PSR_TAG_TICK_STK, subst(TICK_STK, "\"volume\":3", "\"volume\":[3,]"), "tick_stk: ");
    /* the trade price carries the event: a price we cannot hold is malformed */
    expect_err(PSR_TAG_TICK_FOP, subst(TICK_FOP, "\"close\":\"23012\"", "\"close\":\"23012.1234567\""),
               "tick_fop: field \"close\": bad decimal \"23012.1234567\"");
    /* a long bad value is shown bounded */
    char longv[200] = "\"close\":\"";
    for (int i = 0; i < 100; i++) strcat(longv, "9");
    strcat(longv, "x\"");
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", longv),
               "tick_stk: field \"close\": bad decimal \"9999999999999999999999999999999999999999...\"");
    /* arrays */
    /* arrays: an entry we cannot hold is left 0, the other levels kept */
    shj_event b0;
    CHECK_EQ_I64(parse(PSR_TAG_BIDASK_STK, BIDASK_STK, &b0), PSR_EVENT);
    if (expect_lost(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[120,85,60,40,33]", "[120,85,60,40,33,1]"), &e))
        CHECK(memcmp(e.bid_volume, b0.bid_volume, sizeof e.bid_volume) == 0); /* a 6th level */
    if (expect_lost(PSR_TAG_BIDASK_FOP, subst(BIDASK_FOP, "\"23016\"]", "\"23016\",\"23017\"]"), &e))
        CHECK_EQ_I64(e.ask_price[4], 23016 * P4);
    if (expect_lost(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "\"1005\"]", "\"1005.0000001\"]"), &e)) {
        CHECK_EQ_I64(e.bid_price[4], 0);
        CHECK_EQ_I64(e.bid_price[3], 1010 * P4);
    }
    if (expect_lost(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[120,85,", "[120,null,"), &e)) {
        CHECK_EQ_I64(e.bid_volume[1], 0);
        CHECK_EQ_I64(e.bid_volume[2], 60);
    }
    if (expect_lost(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[120,85,60,40,33]", "120"), &e)) {
        CHECK(all_zero(e.bid_volume, sizeof e.bid_volume));
        CHECK_EQ_I64(e.ask_volume[0], 90);
    }
    if (expect_lost(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[5,0,-3,0,0]", "[5,0,-3,0,2147483648]"), &e)) {
        CHECK_EQ_I64(e.diff_bid_vol[4], 0);
        CHECK_EQ_I64(e.diff_bid_vol[2], -3);
    }
    expect_bad(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[120,85,60,40,33]", "[120,85,60,]"),
               "bidask_stk: expected a digit at byte");
    expect_bad(PSR_TAG_BIDASK_STK, subst(BIDASK_STK, "[120,85,60,40,33]", "[120 85]"),
               "expected ',' or ']'");
}

/* ---------------------------------------------------------- missing fields */

/* Remove member `key` (with its value and one comma) from a compact payload. */
static void without(const char *src, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(src, pat);
    if (!at) abort();
    /* the value ends at the next ',' or '}' outside strings/brackets */
    const char *p = at + strlen(pat);
    int depth = 0, in_str = 0;
    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\') p++;
            else if (*p == '"') in_str = 0;
            continue;
        }
        if (*p == '"') in_str = 1;
        else if (*p == '[' || *p == '{') depth++;
        else if (*p == ']' || (*p == '}' && depth > 0)) depth--;
        else if (depth == 0 && (*p == ',' || *p == '}')) break;
    }
    if (*p == ',') p++;
    else { /* last member: drop the comma before it (and the whitespace between) */
        while (at > src && (at[-1] == ' ' || at[-1] == '\n')) at--;
        if (at > src && at[-1] == ',') at--;
    }
    snprintf(out, cap, "%.*s%s", (int)(at - src), src, p);
}

static void test_missing(void) {
    char json[4096], want[128];
    /* Only code, date, time and the trade price carry a tick. */
    const char *tick_req[] = {"code", "date", "time", "close"};
    const char *samples[] = {TICK_STK, TICK_FOP, TICK_FOP_REF};
    int tags[] = {PSR_TAG_TICK_STK, PSR_TAG_TICK_FOP, PSR_TAG_TICK_FOP};
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < 4; i++) {
            without(samples[s], tick_req[i], json, sizeof json);
            snprintf(want, sizeof want, "%s: missing required field \"%s\"", psr_tag_name(tags[s]),
                     tick_req[i]);
            expect_err(tags[s], json, want);
        }
        /* optional ones may go: left 0, not flagged lost (nothing was sent) */
        shj_event ev;
        without(samples[s], "volume", json, sizeof json);
        CHECK_EQ_I64(parse(tags[s], json, &ev), PSR_EVENT);
        CHECK_EQ_I64(ev.volume, 0);
        CHECK_EQ_I64(ev.flags & SHJ_FLAG_FIELD_LOST, 0);
        without(samples[s], "open", json, sizeof json);
        CHECK_EQ_I64(parse(tags[s], json, &ev), PSR_EVENT);
        CHECK_EQ_I64(ev.open, 0);
        without(samples[s], "simtrade", json, sizeof json);
        CHECK_EQ_I64(parse(tags[s], json, &ev), PSR_EVENT);
    }
    const char *book_req[] = {"code", "date", "time", "bid_price", "bid_volume", "ask_price", "ask_volume"};
    const char *books[] = {BIDASK_STK, BIDASK_FOP};
    int btags[] = {PSR_TAG_BIDASK_STK, PSR_TAG_BIDASK_FOP};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 7; i++) {
            without(books[s], book_req[i], json, sizeof json);
            snprintf(want, sizeof want, "%s: missing required field \"%s\"", psr_tag_name(btags[s]),
                     book_req[i]);
            expect_err(btags[s], json, want);
        }
        shj_event ev;
        without(books[s], "diff_bid_vol", json, sizeof json);
        CHECK_EQ_I64(parse(btags[s], json, &ev), PSR_EVENT);
    }
    /* null counts as missing for a required field */
    expect_err(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\"", "\"close\":null"),
               "tick_stk: missing required field \"close\"");
    /* the message names the time when both date and time are gone */
    without(TICK_STK, "date", json, sizeof json);
    char json2[4096];
    without(json, "time", json2, sizeof json2);
    expect_err(PSR_TAG_TICK_STK, json2, "tick_stk: missing required field \"date\"");
}

/* ---------------------------------------- fast paths vs the strict rules */

/* A random number text: mostly well-shaped (sign, 0-17 integer digits, an
 * optional fraction of 0-6 digits, leading/trailing zeros), sometimes junk. */
static void random_number_text(char *out, int allow_junk) {
    size_t n = 0;
    int r = rand() % 100;
    if (allow_junk && r < 10) {
        /* no whitespace (legal around unquoted numbers) and never empty
         * (an empty single entry is the legal empty array) */
        static const char alpha[] = "0123456789.-+ex";
        int len = 1 + rand() % 11;
        for (int i = 0; i < len; i++) out[n++] = alpha[rand() % (int)(sizeof alpha - 1)];
        out[n] = '\0';
        return;
    }
    if (rand() % 5 == 0) out[n++] = '-';
    if (allow_junk && rand() % 40 == 0) out[n++] = '+';
    int nd = rand() % 4 == 0 ? rand() % 18 : 1 + rand() % 6;
    for (int i = 0; i < nd; i++) out[n++] = (char)('0' + (i == 0 && rand() % 3 ? 1 + rand() % 9 : rand() % 10));
    if (rand() % 2) {
        out[n++] = '.';
        int nf = rand() % 9; /* past SHJ_PRICE_DECIMALS too */
        for (int i = 0; i < nf; i++) out[n++] = (char)('0' + (rand() % 3 == 0 ? 0 : rand() % 10));
    }
    out[n] = '\0';
}

/* Reference for a JSON integer field: -?(0|[1-9][0-9]*) within [lo, hi]. */
static int ref_int(const char *t, int64_t lo, int64_t hi, int64_t *v) {
    const char *p = t;
    if (*p == '-') p++;
    if (!js_digit(*p)) return -1;
    if (*p == '0' && js_digit(p[1])) return -1;
    while (js_digit(*p)) p++;
    if (*p) return -1;
    if (dec_parse(t, strlen(t), v) != 0) return -1; /* exact integer via the decimal parser */
    if (*v % P4 != 0) return -1;
    *v /= P4;
    return *v >= lo && *v <= hi ? 0 : -1;
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number_ok(const char *t) {
    const char *p = t;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (js_digit(*p)) p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!js_digit(*p)) return 0;
        while (js_digit(*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!js_digit(*p)) return 0;
        while (js_digit(*p)) p++;
    }
    return *p == '\0';
}

static void test_fast_vs_strict(void) {
    srand(4242);
    int wrong_dec = 0, wrong_int = 0, wrong_arr = 0, cases = 0;
    char t[64], json[2048];
    for (int round = 0; round < 30000; round++) {
        /* a price string, early in the payload (fast path) and last (the
         * loop path near the end of the buffer): psr must agree with dec_parse */
        random_number_text(t, 1);
        int64_t want = 0, got;
        int ok = dec_parse(t, strlen(t), &want) == 0;
        for (int last = 0; last < 2; last++) {
            if (last)
                snprintf(json, sizeof json,
                         "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01\",\"volume\":1,\"close\":\"%s\"}", t);
            else
                snprintf(json, sizeof json,
                         "{\"code\":\"2330\",\"close\":\"%s\",\"date\":\"2026-11-25\",\"time\":\"09:00:01\",\"volume\":1,"
                         "\"x\":\"padding padding padding padding padding\"}", t);
            shj_event ev;
            int rc = parse(PSR_TAG_TICK_STK, json, &ev);
            got = ev.close;
            cases++;
            if ((rc == PSR_EVENT) != ok || (ok && got != want)) {
                if (wrong_dec++ < 5) fprintf(stderr, "  price \"%s\": rc %d got %lld want %s%lld\n", t, rc, (long long)got, ok ? "" : "reject ", (long long)want);
            }
        }
        /* an integer field, unquoted (never empty: that is a different error) */
        do random_number_text(t, 1);
        while (!t[0]);
        int64_t wi = 0;
        int oki = ref_int(t, INT32_MIN, INT32_MAX, &wi) == 0;
        /* volume is auxiliary: a valid JSON value it cannot hold is lost
         * (0 + SHJ_FLAG_FIELD_LOST), only broken JSON is malformed */
        int jsok = json_number_ok(t);
        for (int last = 0; last < 2; last++) {
            if (last)
                snprintf(json, sizeof json,
                         "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01\",\"close\":\"1\",\"volume\":%s}", t);
            else
                snprintf(json, sizeof json,
                         "{\"code\":\"2330\",\"volume\":%s,\"date\":\"2026-11-25\",\"time\":\"09:00:01\",\"close\":\"1\","
                         "\"x\":\"padding padding padding padding padding\"}", t);
            shj_event ev;
            int rc = parse(PSR_TAG_TICK_STK, json, &ev);
            cases++;
            int lost = rc == PSR_EVENT && (ev.flags & SHJ_FLAG_FIELD_LOST);
            if ((rc == PSR_EVENT) != jsok ||
                (jsok && (lost == oki || ev.volume != (oki ? wi : 0)))) {
                if (wrong_int++ < 5) fprintf(stderr, "  volume %s: rc %d got %d\n", t, rc, ev.volume);
            }
        }
        /* arrays: 1-6 entries of prices and of volumes, compact or spaced */
        int k = 1 + rand() % 6, spaced_arr = rand() % 4 == 0;
        char pt[6][64], vt[6][64];
        int64_t pw[6], vw[6];
        int pok[6], vok[6], jsok_arr = 1;
        size_t n = (size_t)snprintf(json, sizeof json,
                                    "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01\",\"bid_price\":[");
        for (int i = 0; i < k; i++) {
            random_number_text(pt[i], rand() % 8 == 0);
            pok[i] = dec_parse(pt[i], strlen(pt[i]), &pw[i]) == 0;
            n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\"", i ? (spaced_arr ? " , " : ",") : "", pt[i]);
        }
        n += (size_t)snprintf(json + n, sizeof json - n, "],\"bid_volume\":[");
        for (int i = 0; i < k; i++) {
            do random_number_text(vt[i], rand() % 8 == 0);
            while (!vt[i][0]);
            vok[i] = ref_int(vt[i], INT32_MIN, INT32_MAX, &vw[i]) == 0;
            if (!json_number_ok(vt[i])) jsok_arr = 0;
            n += (size_t)snprintf(json + n, sizeof json - n, "%s%s", i ? (spaced_arr ? ", " : ",") : "", vt[i]);
        }
        snprintf(json + n, sizeof json - n,
                 "],\"ask_price\":[\"1\"],\"ask_volume\":[1],\"x\":\"padding padding padding padding padding\"}");
        shj_event ev;
        int rc = parse(PSR_TAG_BIDASK_STK, json, &ev);
        cases++;
        /* entries we cannot hold (and a sixth level) are lost, the rest kept */
        int want_lost = k > 5, same = 1;
        for (int i = 0; i < k && i < 5; i++) {
            want_lost |= !pok[i] || !vok[i];
            if (jsok_arr && rc == PSR_EVENT &&
                (ev.bid_price[i] != (pok[i] ? pw[i] : 0) || ev.bid_volume[i] != (vok[i] ? vw[i] : 0)))
                same = 0;
        }
        int want_ok = jsok_arr;
        if (rc == PSR_EVENT && !!(ev.flags & SHJ_FLAG_FIELD_LOST) != want_lost) same = 0;
        if ((rc == PSR_EVENT) != want_ok || !same) {
            if (wrong_arr++ < 5) fprintf(stderr, "  arrays rc %d want %d: %s\n", rc, want_ok, json);
        }
    }
    CHECK_EQ_I64(wrong_dec, 0);
    CHECK_EQ_I64(wrong_int, 0);
    CHECK_EQ_I64(wrong_arr, 0);
    CHECK(cases > 100000);
}

/* ------------------------------------------------- truncation, corruption */

static const char *ALL[] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
static int ALL_TAGS[] = {PSR_TAG_TICK_STK, PSR_TAG_TICK_FOP, PSR_TAG_BIDASK_STK, PSR_TAG_BIDASK_FOP,
                         PSR_TAG_QUOTE_STK, PSR_TAG_TICK_FOP, PSR_TAG_HEARTBEAT};

static void test_truncation(void) {
    ALL[0] = TICK_STK, ALL[1] = TICK_FOP, ALL[2] = BIDASK_STK, ALL[3] = BIDASK_FOP;
    ALL[4] = QUOTE_STK, ALL[5] = TICK_FOP_REF, ALL[6] = HEARTBEAT;
    int wrong = 0, bad_msg = 0, total = 0;
    for (int s = 0; s < 7; s++) {
        size_t len = strlen(ALL[s]);
        for (size_t k = 0; k < len; k++) { /* every proper prefix */
            shj_event ev;
            int rc = parse_n(ALL_TAGS[s], ALL[s], k, &ev);
            total++;
            if (rc != PSR_MALFORMED) {
                wrong++;
                fprintf(stderr, "  prefix %zu of sample %d accepted\n", k, s);
            }
            /* a prefix ends inside the object: the error is the truncation, at its end */
            char want[96];
            snprintf(want, sizeof want, "%s: truncated JSON at byte %zu", psr_tag_name(ALL_TAGS[s]), k);
            if (strcmp(err, want) != 0) {
                bad_msg++;
                if (bad_msg < 5) fprintf(stderr, "  prefix %zu: %s\n", k, err);
            }
        }
    }
    CHECK_EQ_I64(wrong, 0);
    CHECK_EQ_I64(bad_msg, 0);
    CHECK(total > 2000);
    /* a concrete one */
    shj_event ev;
    CHECK_EQ_I64(parse_n(PSR_TAG_TICK_STK, TICK_STK, 57, &ev), PSR_MALFORMED);
    CHECK_STR(err, "tick_stk: truncated JSON at byte 57");
}

static void test_corruption(void) {
    srand(2026);
    int crashes_would_show = 0, no_err = 0, bad_event = 0, ctrl_accepted = 0;
    int oracle_disagree = 0, accepted = 0, rejected = 0;
    char buf[4096];
    for (int round = 0; round < 40000; round++) {
        int s = round % 7;
        size_t len = strlen(ALL[s]);
        memcpy(buf, ALL[s], len);
        int flips = 1 + rand() % 3;
        int ctrl = round % 5 == 0; /* a raw control byte: never valid JSON anywhere */
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)rand() % len;
            if (ctrl) {
                static const char cb[] = {0, 1, 2, 7, 8, 11, 12, 27, 31};
                buf[at] = cb[rand() % (int)sizeof cb];
            } else {
                buf[at] = (char)(rand() % 256);
            }
        }
        shj_event ev;
        int rc = parse_n(ALL_TAGS[s], buf, len, &ev);
        if (rc == PSR_MALFORMED) {
            rejected++;
            if (err[0] == '\0') no_err++;
        } else {
            accepted++;
            if (ctrl) ctrl_accepted++;
            if (rc == PSR_EVENT && (ev.code[0] == '\0' || ev.inst_id == 0 || ev.kind == 0)) bad_event++;
            if (rc != PSR_EVENT && rc != PSR_CONTROL) crashes_would_show++;
#ifdef SHJ_HAVE_CJSON
            /* what we accept, a general JSON parser accepts too */
            cJSON *doc = cJSON_ParseWithLength(buf, len);
            if (!doc) {
                oracle_disagree++;
                if (oracle_disagree < 3) fprintf(stderr, "  cJSON rejects accepted: %.*s\n", (int)len, buf);
            }
            cJSON_Delete(doc);
#endif
        }
    }
    CHECK_EQ_I64(crashes_would_show, 0);
    CHECK_EQ_I64(no_err, 0);
    CHECK_EQ_I64(bad_event, 0);
    CHECK_EQ_I64(ctrl_accepted, 0);
    CHECK_EQ_I64(oracle_disagree, 0);
    CHECK(rejected > 1000);  /* the corruption did hit structure */
    CHECK(accepted > 1000);  /* and also plain digits/letters we must take */
#ifndef SHJ_HAVE_CJSON
    CHECK(!"cJSON (libcjson-dev) missing: the corruption oracle did not run");
#endif
}

/* The parser's memos (date -> midnight, code -> id) must give exactly what
 * parsing and inst_intern would, also after the table is reset and an id
 * is reused for another code, and after a subscription re-registers. */
static void test_memos(void) {
    shj_event ev;
    inst_reset();
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    uint32_t old_id = ev.inst_id;
    int64_t ts = ev.ts_exch_ns;
    inst_reset();
    uint32_t other = inst_intern("ZZZZ", 4, SHJ_EX_TSE, SHJ_SEC_STK);
    CHECK_EQ_I64(other, old_id); /* the memo's id now names another code */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    CHECK(ev.inst_id != other);
    CHECK(inst_get(ev.inst_id) != NULL);
    if (inst_get(ev.inst_id)) CHECK_STR(inst_get(ev.inst_id)->code, ev.code);
    CHECK_EQ_I64(ev.ts_exch_ns, ts);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TSE);
    inst_register(ev.code, SHJ_EX_OTC, SHJ_SEC_STK, 0); /* a memo hit must see it */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_OTC);
    CHECK_EQ_I64(inst_count(), 2);
    /* another date, then the first again: each converted as itself */
    const char *p = subst(TICK_STK, "2026-11-25", "2027-01-01");
    CHECK(strcmp(p, TICK_STK) != 0);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, p, &ev), PSR_EVENT);
    CHECK(ev.ts_exch_ns != ts);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.ts_exch_ns, ts);
}

/* ------------------------------------------------ quotes, index, units */

/* psr_parse_book on an exact-length heap copy. */
static int parse_book(int tag, const char *json, shj_event *ev) {
    size_t len = strlen(json);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, json, len);
    err[0] = '\0';
    int rc = psr_parse_book(tag, copy, len, ev, err, sizeof err);
    free(copy);
    return rc;
}

/* A quote's book is its second event: a BIDASK with the quote's tag, code,
 * time and flags (Sinotrade.github.io@4c63dd4 tutor/market_data/streaming/
 * stocks/index.md:838-875 carries both halves in one payload). */
static void test_quote_book(void) {
    shj_event q, b;
    memset(&b, 0xAB, sizeof b);
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_STK, QUOTE_STK, &q), PSR_EVENT);
    CHECK_EQ_I64(parse_book(PSR_TAG_QUOTE_STK, QUOTE_STK, &b), PSR_EVENT);
    CHECK_EQ_I64(b.kind, SHJ_KIND_BIDASK);
    CHECK_EQ_I64(b.payload_tag, PSR_TAG_QUOTE_STK);
    CHECK_STR(b.code, "2317");
    CHECK_EQ_I64(b.inst_id, q.inst_id);
    CHECK_EQ_I64(b.ts_exch_ns, q.ts_exch_ns);
    CHECK_EQ_I64(b.flags, SHJ_FLAG_SIMTRADE);
    CHECK_EQ_I64(b.bid_price[0], 182 * P4);
    CHECK_EQ_I64(b.bid_price[4], 180 * P4);
    CHECK_EQ_I64(b.ask_price[0], 1825 * P4 / 10);
    CHECK_EQ_I64(b.bid_volume[4], 5);
    CHECK_EQ_I64(b.ask_volume[0], 5);
    CHECK(all_zero(b.diff_bid_vol, sizeof b.diff_bid_vol)); /* absent in this payload */
    CHECK(all_zero(b.reserved_tail, sizeof b.reserved_tail));
    /* the book half does not disturb the trade half, and vice versa */
    shj_event q2;
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_STK, QUOTE_STK, &q2), PSR_EVENT);
    CHECK(memcmp(&q, &q2, sizeof q) == 0);
    /* a quote without a book has no second event; a tick tag has none either */
    CHECK_EQ_I64(parse_book(PSR_TAG_QUOTE_FOP, TICK_FOP, &b), PSR_CONTROL);
    CHECK_EQ_I64(parse_book(PSR_TAG_TICK_STK, TICK_STK, &b), PSR_MALFORMED);
    CHECK(strstr(err, "carry no book") != NULL);
    /* a broken level in the book is lost there, not in the trade half */
    const char *broken = subst(QUOTE_STK, "\"181.5\"", "\"181.50000001\"");
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", broken);
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_STK, copy, &q2), PSR_EVENT);
    CHECK_EQ_I64(q2.flags & SHJ_FLAG_FIELD_LOST, 0);
    CHECK_EQ_I64(parse_book(PSR_TAG_QUOTE_STK, copy, &b), PSR_EVENT);
    CHECK(b.flags & SHJ_FLAG_FIELD_LOST);
    CHECK_EQ_I64(b.bid_price[1], 0);
    CHECK_EQ_I64(b.bid_price[2], 181 * P4);
}

/* quote_idx keeps the upstream PascalCase names (Sinotrade/Shioaji@046010c
 * plugins/shioaji/skills/shioaji/references/STREAMING.md:618-624). */
static void test_quote_idx(void) {
    const char *idx = "{\"exchange\":\"TSE\",\"code\":\"IX0001\",\"Date\":\"2026-07-14\",\"Time\":\"09:00:01\","
                      "\"Reference\":\"22750.12\",\"Open\":\"22761.5\",\"High\":\"22790.03\",\"Low\":\"22755.01\","
                      "\"Close\":\"22788.88\",\"Amount\":\"1500000\",\"AmountSum\":\"1234567890\",\"Volume\":12,"
                      "\"VolSum\":345678,\"NoTrade\":3,\"RaiseStop\":1}";
    shj_event ev;
    memset(&ev, 0xAB, sizeof ev);
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_IDX, idx, &ev), PSR_EVENT);
    if (err[0]) fprintf(stderr, "  quote_idx: %s\n", err);
    CHECK_EQ_I64(ev.kind, SHJ_KIND_QUOTE);
    CHECK_EQ_I64(ev.sec_type, SHJ_SEC_IND);
    CHECK_EQ_I64(ev.exchange, SHJ_EX_TSE);
    CHECK_EQ_I64(ev.payload_tag, PSR_TAG_QUOTE_IDX);
    CHECK_STR(ev.code, "IX0001");
    /* 2026-07-14 09:00:01 Taipei = 01:00:01 UTC */
    CHECK_EQ_I64(ev.ts_exch_ns, 1783990801LL * 1000000000LL);
    CHECK_EQ_I64(ev.open, 227615 * P4 / 10);
    CHECK_EQ_I64(ev.high, 2279003 * P4 / 100);
    CHECK_EQ_I64(ev.low, 2275501 * P4 / 100);
    CHECK_EQ_I64(ev.close, 2278888 * P4 / 100);
    CHECK_EQ_I64(ev.amount, 1500000 * P4);
    CHECK_EQ_I64(ev.amount_sum, 1234567890LL * P4);
    CHECK_EQ_I64(ev.volume, 12);
    CHECK_EQ_I64(ev.vol_sum, 345678);
    CHECK_EQ_I64(ev.flags, 0);
    CHECK_EQ_I64(ev.diff_price, 0); /* Reference has no slot: not invented */
    /* lower-case spellings too (shioaji-pro-app@dc12745 src/lib/stream.ts:192-200) */
    const char *lower = "{\"code\":\"IX0001\",\"date\":\"2026-07-14\",\"time\":\"09:00:01\",\"open\":\"22761.5\","
                        "\"high\":\"22790.03\",\"low\":\"22755.01\",\"close\":\"22788.88\",\"amount\":\"1500000\","
                        "\"amount_sum\":\"1234567890\",\"volume\":12,\"vol_sum\":345678}";
    shj_event ev2;
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_IDX, lower, &ev2), PSR_EVENT);
    CHECK(memcmp(&ev, &ev2, sizeof ev) == 0);
    /* the published placeholder "..." is a broken trade price */
    expect_err(PSR_TAG_QUOTE_IDX,
               "{\"exchange\":\"TSE\",\"code\":\"IX0001\",\"Date\":\"2026-07-14\",\"Time\":\"09:00:01\","
               "\"Reference\":\"...\",\"Open\":\"...\",\"High\":\"...\",\"Low\":\"...\",\"Close\":\"...\"}",
               "quote_idx: field \"Close\": bad decimal \"...\"");
    /* index names are not read on other tags, nor stock names on the index */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, subst(TICK_STK, "\"close\":\"1030\",", "\"close\":\"1030\",\"Close\":\"1\","), &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.close, 1030 * P4);
}

/* pct_chg: stock payloads send an integer in hundredths of a percent,
 * futures a decimal string in percent; both are stored in percent.
 * Sinotrade.github.io@4c63dd4 tutor/market_data/streaming/stocks/index.md:
 * 311-312 price_chg "0.1" on close "29.9" (ref 29.8: 0.336 %) -> 33;
 * :382-383 "0.15" on "29.95" (0.503 %) -> 50; :193-194 "0.05" on "29.85"
 * (0.168 %) -> 16; futures/index.md:210, :219-220 price_chg "484" on close
 * "40608" (ref 40124: 1.2063 %) -> "1.206261". */
static void test_pct_units(void) {
    shj_event ev;
    const char *stk = subst(TICK_STK, "\"diff_rate\":\"0.49\"", "\"pct_chg\":33");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, stk, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, 33 * P4 / 100); /* 0.33 % */
    stk = subst(TICK_STK, "\"diff_rate\":\"0.49\"", "\"pct_chg\":-1000");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, stk, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, -10 * P4); /* limit down: -10 % */
    stk = subst(TICK_STK, "\"diff_rate\":\"0.49\"", "\"diff_rate\":50"); /* the 1.5.0 name */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, stk, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, P4 / 2);
    CHECK_EQ_I64(parse(PSR_TAG_QUOTE_STK, subst(QUOTE_STK, "\"pct_chg\":\"1.38\"", "\"pct_chg\":138"), &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, 138 * P4 / 100);
    /* a string is percent as written, stock or not */
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, TICK_STK, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, 49 * P4 / 100);
    const char *fop = subst(TICK_FOP, "\"diff_rate\":\"0.21\"", "\"pct_chg\":\"1.206261\"");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, fop, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, 1206261 * P4 / 1000000);
    /* a futures number is percent too (no hundredths there) */
    fop = subst(TICK_FOP, "\"diff_rate\":\"0.21\"", "\"pct_chg\":2");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, fop, &ev), PSR_EVENT);
    CHECK_EQ_I64(ev.diff_rate, 2 * P4);
    /* hundredths that do not fit the slot are lost, not wrapped */
    stk = subst(TICK_STK, "\"diff_rate\":\"0.49\"", "\"pct_chg\":999999999999999999");
    if (expect_lost(PSR_TAG_TICK_STK, stk, &ev)) CHECK_EQ_I64(ev.diff_rate, 0);
}

/* The 1.5.0 names (Sinotrade.github.io@78303b9, the same pages) and the
 * 1.7.x ones give the same event, in either key order. */
static void test_v150_names(void) {
    const char *v17 =
        "{\"code\":\"2890\",\"date\":\"2026-05-21\",\"time\":\"09:18:31.867798\",\"open\":\"29.8\",\"avg_price\":\"29.86\","
        "\"close\":\"29.9\",\"high\":\"30\",\"low\":\"29.75\",\"amount\":\"29900\",\"total_amount\":\"109559950\",\"volume\":1,"
        "\"total_volume\":3668,\"tick_type\":1,\"chg_type\":2,\"price_chg\":\"0.1\",\"pct_chg\":33,\"bid_side_total_vol\":1781,"
        "\"ask_side_total_vol\":1322,\"suspend\":false,\"simtrade\":false,\"intraday_odd\":false}";
    const char *v150 =
        "{\"code\":\"2890\",\"date\":\"2026-05-21\",\"time\":\"09:18:31.867798\",\"open\":\"29.8\",\"avg_price\":\"29.86\","
        "\"close\":\"29.9\",\"high\":\"30\",\"low\":\"29.75\",\"amount\":\"29900\",\"amount_sum\":\"109559950\",\"volume\":1,"
        "\"vol_sum\":3668,\"tick_type\":1,\"diff_type\":2,\"diff_price\":\"0.1\",\"diff_rate\":33,\"trade_bid_vol_sum\":1781,"
        "\"trade_ask_vol_sum\":1322,\"suspend\":false,\"simtrade\":false,\"intraday_odd\":false}";
    shj_event a, b;
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, v17, &a), PSR_EVENT);
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, v150, &b), PSR_EVENT);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK_EQ_I64(a.chg_type, 2);
    CHECK_EQ_I64(a.vol_sum, 3668);
    CHECK_EQ_I64(a.ask_side_vol_sum, 1322);
    CHECK_EQ_I64(a.amount_sum, 109559950LL * P4);
    /* mixed: 1.5.0 keys inside a 1.7.x payload still land (the parser
     * switches its key prediction and back) */
    const char *mixed = subst(v17, "\"total_volume\":3668", "\"vol_sum\":3668");
    CHECK_EQ_I64(parse(PSR_TAG_TICK_STK, mixed, &b), PSR_EVENT);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    const char *fop150 = "{\"code\":\"TXFF6\",\"date\":\"2026-05-20\",\"time\":\"18:54:43.871000\",\"open\":\"40270\","
                         "\"target_kind_price\":\"40020.82\",\"trade_bid_vol_sum\":7540,\"trade_ask_vol_sum\":5908,"
                         "\"avg_price\":\"40461.608055\",\"close\":\"40608\",\"volume\":1,\"vol_sum\":13780,"
                         "\"diff_type\":2,\"diff_price\":\"484\",\"diff_rate\":\"1.206261\",\"simtrade\":false}";
    CHECK_EQ_I64(parse(PSR_TAG_TICK_FOP, fop150, &a), PSR_EVENT);
    CHECK_EQ_I64(a.underlying_price, 4002082 * P4 / 100);
    CHECK_EQ_I64(a.avg_price, 40461608055LL * P4 / 1000000);
    CHECK_EQ_I64(a.diff_rate, 1206261 * P4 / 1000000);
    CHECK_EQ_I64(a.bid_side_vol_sum, 7540);
    CHECK_EQ_I64(a.chg_type, 2);
    CHECK_EQ_I64(a.flags & SHJ_FLAG_FIELD_LOST, 0);
}

/* The SSE path: payloads (lost fields, quotes, pretty-printed multi-line
 * data) framed as a stream and fed whole, byte by byte and in random
 * chunks give the very events a direct parse gives. */
typedef struct {
    const char *const *payloads;
    const int *tags;
    int n, at, bad;
} sse_ctx;

static int sse_cb(void *vctx, const sse_event *ev) {
    sse_ctx *c = vctx;
    if (c->at >= c->n) {
        c->bad++;
        return 0;
    }
    int tag = c->tags[c->at];
    const char *want = c->payloads[c->at++];
    if ((int)psr_tag_from_name(ev->name, ev->name_len) != tag) c->bad++;
    shj_event a, b, ab, bb;
    char e1[256], e2[256];
    char *copy = malloc(ev->data_len ? ev->data_len : 1); /* exact length: ASan */
    memcpy(copy, ev->data, ev->data_len);
    int ra = psr_parse(tag, copy, ev->data_len, &a, e1, sizeof e1);
    int rb = psr_parse(tag, want, strlen(want), &b, e2, sizeof e2);
    if (ra != rb || (ra == PSR_EVENT && memcmp(&a, &b, sizeof a))) c->bad++;
    if (ra == PSR_EVENT && psr_tag_has_book(tag)) {
        int ka = psr_parse_book(tag, copy, ev->data_len, &ab, e1, sizeof e1);
        int kb = psr_parse_book(tag, want, strlen(want), &bb, e2, sizeof e2);
        if (ka != kb || (ka == PSR_EVENT && memcmp(&ab, &bb, sizeof ab))) c->bad++;
    }
    free(copy);
    return 0;
}

static void test_sse_chunks(void) {
    static char lost[4096], pretty[4096];
    snprintf(lost, sizeof lost, "%s", subst(TICK_STK, "\"volume\":3", "\"volume\":3.5"));
    snprintf(pretty, sizeof pretty, "%s", BIDASK_STK); /* has line breaks: multi-line data */
    const char *payloads[] = {TICK_STK, lost, QUOTE_STK, pretty, HEARTBEAT, "{\"order\":{...}}"};
    const int tags[] = {PSR_TAG_TICK_STK, PSR_TAG_TICK_STK, PSR_TAG_QUOTE_STK, PSR_TAG_BIDASK_STK,
                        PSR_TAG_HEARTBEAT, PSR_TAG_ORDER_EVENT};
    const int n = 6;
    static char stream[32768];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(stream + len, sizeof stream - len, "event: %s\n", psr_tag_name(tags[i]));
        const char *p = payloads[i];
        for (;;) {
            const char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            len += (size_t)snprintf(stream + len, sizeof stream - len, "data: %.*s\r\n", (int)l, p);
            if (!nl) break;
            p = nl + 1;
        }
        len += (size_t)snprintf(stream + len, sizeof stream - len, "\n");
    }
    srand(99);
    for (int mode = 0; mode < 3; mode++) {
        for (int round = 0; round < (mode == 2 ? 50 : 1); round++) {
            sse_ctx c = {payloads, tags, n, 0, 0};
            sse_parser sp;
            sse_init(&sp, sse_cb, &c);
            for (size_t at = 0; at < len;) {
                size_t k = mode == 0 ? len - at : mode == 1 ? 1 : 1 + (size_t)rand() % 64;
                if (k > len - at) k = len - at;
                char *chunk = malloc(k);
                memcpy(chunk, stream + at, k);
                CHECK(sse_feed(&sp, chunk, k) == 0);
                free(chunk);
                at += k;
            }
            CHECK_EQ_I64(c.at, n);
            CHECK_EQ_I64(c.bad, 0);
            sse_free(&sp);
        }
    }
}

int main(void) {
    inst_reset();
    test_tick_stk();
    test_tick_fop();
    test_bidask();
    test_quote();
    test_quote_book();
    test_quote_idx();
    test_pct_units();
    test_v150_names();
    test_sse_chunks();
    test_control_and_tags();
    test_exact_prices();
    test_times();
    test_flags_and_instruments();
    test_tolerance();
    test_bad_values();
    test_missing();
    test_fast_vs_strict();
    test_truncation();
    test_corruption();
    test_memos();
    inst_reset();
    T_DONE();
}
