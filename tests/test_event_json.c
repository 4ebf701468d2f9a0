/* test_event_json.c — evj_format: exact text per kind, escaping, bounds,
 * and valid JSON (parsed back with cJSON; exact values re-read from the text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/event_json.h"
#include "core/instrument.h"
#include "core/names.h"
#include "parse/parse.h"
#include "t.h"

#ifdef SHJ_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

static const char *TICK_STK =
    "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.123456\",\"open\":\"1025\","
    "\"close\":\"585.5\",\"high\":\"1030\",\"low\":\"1020\",\"avg_price\":\"1026.12\",\"amount\":\"3090000\","
    "\"amount_sum\":\"1234567890\",\"volume\":3,\"vol_sum\":1234,\"tick_type\":1,\"chg_type\":2,"
    "\"diff_price\":\"-0.05\",\"diff_rate\":\"0.49\",\"trade_bid_vol_sum\":600,\"trade_ask_vol_sum\":634,"
    "\"simtrade\":true,\"suspend\":false,\"intraday_odd\":false}";
static const char *BIDASK_FOP =
    "{\"code\":\"TXFL6\",\"date\":\"2026-11-26\",\"time\":\"00:30:00.000000\","
    "\"bid_price\":[\"23011\",\"23010.5\",\"23009\",\"23008\",\"23007\"],\"bid_volume\":[5,8,7,9,9],"
    "\"diff_bid_vol\":[1,0,0,0,-2147483648],\"ask_price\":[\"23012\",\"23013\",\"23014\",\"23015\",\"23016\"],"
    "\"ask_volume\":[6,9,8,9,9],\"diff_ask_vol\":[0,0,-1,0,0],\"simtrade\":false}";

/* Is the output valid JSON? (cJSON as the independent judge.) */
static int valid_json(const char *s, size_t n) {
#ifdef SHJ_HAVE_CJSON
    cJSON *doc = cJSON_ParseWithLength(s, n);
    int ok = doc && cJSON_IsObject(doc);
    cJSON_Delete(doc);
    return ok;
#else
    (void)s;
    (void)n;
    return 0; /* fails the test: the oracle is part of what this test proves */
#endif
}

/* The raw text of member `name`'s value (up to the next ',' '}' or ']'). */
static int raw_value(const char *json, const char *name, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(json, pat);
    if (!p) return -1;
    p += strlen(pat);
    size_t n = strcspn(p, ",}]");
    if (n >= cap) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static void test_tick(void) {
    shj_event ev;
    char err[256];
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, TICK_STK, strlen(TICK_STK), &ev, err, sizeof err), PSR_EVENT);
    ev.seq = 42;
    ev.ts_recv_ns = 1795568401200000000LL;
    ev.source_id = 3;
    char buf[EVJ_MAX];
    size_t n = evj_format(&ev, buf, sizeof buf);
    CHECK_EQ_I64(n, strlen(buf));
    CHECK_STR(buf,
              "{\"kind\":\"tick\",\"code\":\"2330\",\"exchange\":\"TSE\",\"sec_type\":\"STK\","
              "\"ts\":1795568401123456000,\"recv_ts\":1795568401200000000,"
              "\"time\":\"2026-11-25T01:00:01.123456000Z\",\"seq\":42,\"source_id\":3,\"flags\":1,"
              "\"open\":1025,\"high\":1030,\"low\":1020,\"close\":585.5,\"avg_price\":1026.12,"
              "\"diff_price\":-0.05,\"diff_rate\":0.49,\"amount\":3090000,\"amount_sum\":1234567890,"
              "\"underlying_price\":0,\"volume\":3,\"vol_sum\":1234,\"bid_side_vol_sum\":600,"
              "\"ask_side_vol_sum\":634,\"tick_type\":1,\"chg_type\":2}");
    CHECK(valid_json(buf, n));
#ifdef SHJ_HAVE_CJSON
    cJSON *doc = cJSON_ParseWithLength(buf, n);
    cJSON *close = cJSON_GetObjectItemCaseSensitive(doc, "close");
    CHECK(cJSON_IsNumber(close)); /* unquoted: what ClickHouse 18.16 JSONEachRow needs */
    CHECK(close && close->valuedouble == 585.5);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "time")));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind")), "tick");
    cJSON_Delete(doc);
#endif
    /* quote: same fields, kind "quote"; bar adds its own */
    ev.kind = SHJ_KIND_QUOTE;
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strncmp(buf, "{\"kind\":\"quote\",", 16) == 0);
    CHECK(strstr(buf, "\"close\":585.5,") != NULL);
    CHECK(strstr(buf, "bar_start") == NULL);
    /* 6 places, as Shioaji 1.7.x sends them (Sinotrade/Sinotrade.github.io
     * @4c63dd4 tutor/market_data/streaming/futures/index.md:209, :220), exact */
    int64_t avg = ev.avg_price, rate = ev.diff_rate;
    ev.avg_price = 40461 * SHJ_PRICE_SCALE + 608055;
    ev.diff_rate = -(1 * SHJ_PRICE_SCALE + 206261);
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "\"avg_price\":40461.608055,") != NULL);
    CHECK(strstr(buf, "\"diff_rate\":-1.206261,") != NULL);
    ev.avg_price = avg;
    ev.diff_rate = rate;
    ev.kind = SHJ_KIND_BAR;
    ev.bar_start_ns = 1795568400000000000LL;
    ev.period_s = 60;
    ev.trades = 17;
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "\"chg_type\":2,\"bar_start\":1795568400000000000,\"period_s\":60,\"trades\":17}") != NULL);
    CHECK(valid_json(buf, n));
}

static void test_bidask(void) {
    shj_event ev;
    char err[256];
    CHECK_EQ_I64(psr_parse(PSR_TAG_BIDASK_FOP, BIDASK_FOP, strlen(BIDASK_FOP), &ev, err, sizeof err),
                 PSR_EVENT);
    ev.seq = 18446744073709551615ULL; /* full uint64 range */
    char buf[EVJ_MAX];
    size_t n = evj_format(&ev, buf, sizeof buf);
    CHECK_STR(buf,
              "{\"kind\":\"bidask\",\"code\":\"TXFL6\",\"exchange\":\"TAIFEX\",\"sec_type\":\"FUT\","
              "\"ts\":1795624200000000000,\"recv_ts\":0,\"time\":\"2026-11-25T16:30:00.000000000Z\","
              "\"seq\":18446744073709551615,\"source_id\":0,\"flags\":0,"
              "\"bid_price\":[23011,23010.5,23009,23008,23007],"
              "\"ask_price\":[23012,23013,23014,23015,23016],\"bid_volume\":[5,8,7,9,9],"
              "\"ask_volume\":[6,9,8,9,9],\"diff_bid_vol\":[1,0,0,0,-2147483648],"
              "\"diff_ask_vol\":[0,0,-1,0,0]}");
    CHECK(valid_json(buf, n));
#ifdef SHJ_HAVE_CJSON
    cJSON *doc = cJSON_ParseWithLength(buf, n);
    cJSON *bp = cJSON_GetObjectItemCaseSensitive(doc, "bid_price");
    CHECK(cJSON_IsArray(bp) && cJSON_GetArraySize(bp) == 5);
    CHECK(cJSON_GetArrayItem(bp, 1) && cJSON_GetArrayItem(bp, 1)->valuedouble == 23010.5);
    cJSON_Delete(doc);
#endif
}

static void test_status(void) {
    shj_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SHJ_KIND_STATUS;
    ev.exchange = SHJ_EX_OTC;
    ev.sec_type = SHJ_SEC_STK;
    strcpy(ev.code, "6488");
    ev.status = SHJ_STATUS_GAP;
    ev.http_status = 0;
    ev.gap_start_ns = 1795568401000000000LL;
    ev.gap_end_ns = 1795568461000000000LL;
    const char *detail = "reconnect: \"slow\" \\ server\n\ttab \x01 \xe5\x8f\xb0 done";
    strcpy(ev.detail, detail);
    char buf[EVJ_MAX];
    size_t n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "\"exchange\":\"OTC\"") != NULL);
    CHECK(strstr(buf, ",\"status\":\"gap\",\"status_code\":4,\"http_status\":0,"
                      "\"gap_start\":1795568401000000000,\"gap_end\":1795568461000000000,"
                      "\"detail\":\"reconnect: \\\"slow\\\" \\\\ server\\n\\ttab \\u0001 \xe5\x8f\xb0 done\"}") != NULL);
    CHECK(valid_json(buf, n));
#ifdef SHJ_HAVE_CJSON
    cJSON *doc = cJSON_ParseWithLength(buf, n);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "detail")), detail);
    cJSON_Delete(doc);
#endif
    ev.status = SHJ_STATUS_ERROR;
    ev.http_status = 404;
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "\"status\":\"error\",\"status_code\":7,\"http_status\":404") != NULL);
    ev.status = 99;
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "\"status\":\"unknown\",\"status_code\":99") != NULL);

    /* a detail without NUL (a producer bug) stays bounded to its 120 bytes */
    memset(ev.detail, 'd', sizeof ev.detail);
    memset(ev.reserved_tail, 'X', sizeof ev.reserved_tail);
    n = evj_format(&ev, buf, sizeof buf);
    CHECK(strstr(buf, "X") == NULL);
    CHECK(valid_json(buf, n));
}

static void test_names(void) {
    CHECK_STR(nm_kind(SHJ_KIND_NONE), "none");
    CHECK_STR(nm_kind(SHJ_KIND_TICK), "tick");
    CHECK_STR(nm_kind(SHJ_KIND_BIDASK), "bidask");
    CHECK_STR(nm_kind(SHJ_KIND_STATUS), "status");
    CHECK_STR(nm_kind(SHJ_KIND_BAR), "bar");
    CHECK_STR(nm_kind(SHJ_KIND_QUOTE), "quote");
    CHECK_STR(nm_kind(SHJ_KIND_MAX), "unknown");
    CHECK_STR(nm_kind(-1), "unknown");
    CHECK_STR(nm_exchange(SHJ_EX_TSE), "TSE");
    CHECK_STR(nm_exchange(SHJ_EX_OTC), "OTC");
    CHECK_STR(nm_exchange(SHJ_EX_OES), "OES");
    CHECK_STR(nm_exchange(SHJ_EX_TAIFEX), "TAIFEX");
    CHECK_STR(nm_exchange(SHJ_EX_UNKNOWN), "UNKNOWN");
    CHECK_STR(nm_exchange(5), "UNKNOWN");
    CHECK_STR(nm_exchange(-3), "UNKNOWN");
    CHECK_STR(nm_sec_type(SHJ_SEC_STK), "STK");
    CHECK_STR(nm_sec_type(SHJ_SEC_FUT), "FUT");
    CHECK_STR(nm_sec_type(SHJ_SEC_OPT), "OPT");
    CHECK_STR(nm_sec_type(SHJ_SEC_IND), "IND");
    CHECK_STR(nm_sec_type(0), "UNKNOWN");
    CHECK_STR(nm_sec_type(200), "UNKNOWN");
    CHECK_STR(nm_status(SHJ_STATUS_CONNECTED), "connected");
    CHECK_STR(nm_status(SHJ_STATUS_DISCONNECTED), "disconnected");
    CHECK_STR(nm_status(SHJ_STATUS_RESUBSCRIBED), "resubscribed");
    CHECK_STR(nm_status(SHJ_STATUS_SESSION_OPEN), "session_open");
    CHECK_STR(nm_status(SHJ_STATUS_SESSION_CLOSE), "session_close");
    CHECK_STR(nm_status(SHJ_STATUS_BACKFILLED), "backfilled");
    CHECK_STR(nm_status(0), "unknown");
}

/* The biggest output there can be, and every too-small buffer. */
static void test_bounds(void) {
    static const int kinds[] = {SHJ_KIND_TICK, SHJ_KIND_BIDASK, SHJ_KIND_STATUS, SHJ_KIND_BAR,
                                SHJ_KIND_QUOTE, SHJ_KIND_NONE, 200};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        shj_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = (uint8_t)kinds[k];
        ev.exchange = 77;
        ev.flags = UINT32_MAX;
        ev.source_id = UINT16_MAX;
        ev.seq = UINT64_MAX;
        ev.ts_exch_ns = INT64_MIN + 1; /* clk_utc_iso's day math must not overflow */
        ev.ts_recv_ns = INT64_MIN;
        memset(ev.code, 0x01, sizeof ev.code); /* 16 escapes, no NUL */
        if (ev.kind == SHJ_KIND_STATUS) {
            ev.status = INT32_MIN;
            ev.http_status = INT32_MIN;
            ev.gap_start_ns = ev.gap_end_ns = INT64_MIN;
            memset(ev.detail, 0x1f, sizeof ev.detail);
        } else if (ev.kind == SHJ_KIND_BIDASK) {
            for (int i = 0; i < 5; i++) {
                ev.bid_price[i] = ev.ask_price[i] = INT64_MIN;
                ev.bid_volume[i] = ev.ask_volume[i] = ev.diff_bid_vol[i] = ev.diff_ask_vol[i] = INT32_MIN;
            }
        } else {
            ev.open = ev.high = ev.low = ev.close = ev.avg_price = ev.diff_price = INT64_MIN;
            ev.diff_rate = ev.amount = ev.amount_sum = ev.underlying_price = INT64_MIN;
            ev.vol_sum = ev.bid_side_vol_sum = ev.ask_side_vol_sum = ev.bar_start_ns = INT64_MIN;
            ev.volume = ev.period_s = ev.trades = INT32_MIN;
            ev.tick_type = ev.chg_type = INT8_MIN;
        }
        static char big[EVJ_MAX + 64];
        size_t n = evj_format(&ev, big, EVJ_MAX);
        CHECK(n > 0 && n < EVJ_MAX);
        CHECK(valid_json(big, n));
        if (!valid_json(big, n)) fprintf(stderr, "  invalid: %s\n", big);
        /* every cap up to n: 0 returned, "" left, not a byte written past cap */
        int overflow = 0, nonzero = 0;
        for (size_t cap = 0; cap <= n; cap++) {
            memset(big, 'Z', sizeof big);
            size_t r = evj_format(&ev, big, cap);
            if (r != 0) nonzero++;
            if (cap > 0 && big[0] != '\0') nonzero++;
            for (size_t i = cap; i < sizeof big; i++)
                if (big[i] != 'Z') overflow++;
        }
        CHECK_EQ_I64(overflow, 0);
        CHECK_EQ_I64(nonzero, 0);
        memset(big, 'Z', sizeof big);
        CHECK_EQ_I64(evj_format(&ev, big, n + 1), n);
        CHECK_EQ_I64(big[n], '\0');
        CHECK_EQ_I64(big[n + 1], 'Z');
    }
    CHECK_EQ_I64(evj_format(&(shj_event){0}, NULL, 10), 0); /* no buffer: nothing written */
}

/* Random ticks and books: valid JSON, and every price re-read from the text is exact. */
static void test_random_roundtrip(void) {
    srand(99);
    int invalid = 0, inexact = 0;
    static const char *price_keys[] = {"open", "high", "low", "close", "avg_price", "diff_price",
                                       "diff_rate", "amount", "amount_sum", "underlying_price"};
    for (int round = 0; round < 20000; round++) {
        shj_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = round % 2 ? SHJ_KIND_TICK : SHJ_KIND_BIDASK;
        snprintf(ev.code, sizeof ev.code, "C%d", rand() % 1000);
        ev.ts_exch_ns = (((int64_t)rand() << 31 | rand()) % 4000000000000000LL) * 1000;
        int64_t v[10];
        for (int i = 0; i < 10; i++) {
            uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
            v[i] = i % 3 ? (int64_t)(r % 100000000) - 50000000 : (int64_t)r;
        }
        if (ev.kind == SHJ_KIND_TICK) {
            int64_t *slots[10] = {&ev.open, &ev.high, &ev.low, &ev.close, &ev.avg_price,
                                  &ev.diff_price, &ev.diff_rate, &ev.amount, &ev.amount_sum,
                                  &ev.underlying_price};
            for (int i = 0; i < 10; i++) *slots[i] = v[i];
            ev.volume = rand();
        } else {
            for (int i = 0; i < 5; i++) ev.bid_price[i] = v[i], ev.ask_price[i] = v[i + 5];
        }
        char buf[EVJ_MAX];
        size_t n = evj_format(&ev, buf, sizeof buf);
        if (!valid_json(buf, n)) invalid++;
        if (ev.kind == SHJ_KIND_TICK) {
            for (int i = 0; i < 10; i++) {
                char raw[64];
                int64_t got = 0;
                if (raw_value(buf, price_keys[i], raw, sizeof raw) != 0 ||
                    dec_parse(raw, strlen(raw), &got) != 0 || got != v[i])
                    inexact++;
            }
        } else {
            const char *p = strstr(buf, "\"bid_price\":[");
            for (int i = 0; p && i < 5; i++) {
                p += i == 0 ? strlen("\"bid_price\":[") : 1;
                size_t k = strcspn(p, ",]");
                int64_t got = 0;
                if (dec_parse(p, k, &got) != 0 || got != v[i]) inexact++;
                p += k;
            }
            if (!p) inexact++;
        }
    }
    CHECK_EQ_I64(invalid, 0);
    CHECK_EQ_I64(inexact, 0);
}

int main(void) {
    inst_reset();
    test_tick();
    test_bidask();
    test_status();
    test_names();
    test_bounds();
    test_random_roundtrip();
    inst_reset();
#ifndef SHJ_HAVE_CJSON
    CHECK(!"cJSON (libcjson-dev) missing: JSON validity was not checked");
#endif
    T_DONE();
}
