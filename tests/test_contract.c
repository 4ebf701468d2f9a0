/* test_contract.c — contract codes, aliases, inference, products, the futures
 * calendar (core/contract.h) and the enum names (core/names.h).
 *
 * Pinned by Sinopac's material (extracted under /work/sinopac/ from
 * Sinotrade/Sinotrade.github.io @4c63dd4 and Sinotrade/Shioaji @046010c):
 *  - tutor_market_data_historical.md:543: "R1, R2 are continuous near-month
 *    and next-to-near-month futures contracts ... They will automatically roll
 *    contracts on delivery date (i.e. target_code changes)".
 *  - tutor_contract.md:278: TXFR1 looked up on 2026/05/15 -> "target_code":
 *    "TXFE6", "delivery_date":"2026/05/20", "category":"TXF".
 *  - tutor_market_data_streaming_futures.md:193: TXFR1 looked up on
 *    2026/05/20 (the May delivery date) -> "target_code":"TXFF6",
 *    "delivery_date":"2026/06/17".
 *  - tutor_contract.md:294: option code "TXO32400E6" (May 2026 32400 call),
 *    symbol "TXO20260532400C".
 *  - STREAMING.md:171: the target_code rule "is futures R1/R2 only".
 */
#include <string.h>

#include "core/contract.h"
#include "core/names.h"
#include "core/shj_event.h"
#include "t.h"

static void test_alias_rule(void) {
    CHECK_EQ_I64(ctr_is_alias("TXFR1"), 1);
    CHECK_EQ_I64(ctr_is_alias("TXFR2"), 1);
    CHECK_EQ_I64(ctr_is_alias("MXFR1"), 1);
    CHECK_EQ_I64(ctr_is_alias("TXFR3"), 0); /* R1/R2 only */
    CHECK_EQ_I64(ctr_is_alias("TXFR0"), 0);
    CHECK_EQ_I64(ctr_is_alias("TXR1"), 0);   /* roots are three capitals */
    CHECK_EQ_I64(ctr_is_alias("ABCDR1"), 0);
    CHECK_EQ_I64(ctr_is_alias("txfR1"), 0);
    CHECK_EQ_I64(ctr_is_alias("00632R"), 0); /* an ETF ending in R */
    CHECK_EQ_I64(ctr_is_alias("TXFF6"), 0);
    CHECK_EQ_I64(ctr_is_alias(""), 0);
    CHECK_EQ_I64(ctr_is_alias(NULL), 0);
}

static void test_shapes(void) {
    CHECK_EQ_I64(ctr_is_future("TXFF6"), 1);
    CHECK_EQ_I64(ctr_is_future("TXFR1"), 1);
    CHECK_EQ_I64(ctr_is_future("TXFM6"), 0); /* month letters stop at L */
    CHECK_EQ_I64(ctr_is_future("2330"), 0);
    CHECK_EQ_I64(ctr_is_option("TXO32400E6"), 1);
    CHECK_EQ_I64(ctr_is_option("TXO23000X6"), 1); /* X: a December put */
    CHECK_EQ_I64(ctr_is_option("TXO23000Y6"), 0);
    CHECK_EQ_I64(ctr_is_option("TXFF6"), 0);
    CHECK_EQ_I64(ctr_is_stock("2330"), 1);
    CHECK_EQ_I64(ctr_is_stock("00878"), 1);
    CHECK_EQ_I64(ctr_is_stock("00632R"), 1);
    CHECK_EQ_I64(ctr_is_stock("233"), 0);
    CHECK_EQ_I64(ctr_is_stock("TXFF6"), 0);
}

static void test_infer(void) {
    int sec = 0, ex = 0;
    ctr_infer("2330", &sec, &ex);
    CHECK(sec == SHJ_SEC_STK && ex == SHJ_EX_UNKNOWN); /* TSE or OTC: the server knows */
    sec = ex = 0;
    ctr_infer("TXFR1", &sec, &ex);
    CHECK(sec == SHJ_SEC_FUT && ex == SHJ_EX_TAIFEX);
    sec = ex = 0;
    ctr_infer("TXO32400E6", &sec, &ex);
    CHECK(sec == SHJ_SEC_OPT && ex == SHJ_EX_TAIFEX);
    sec = ex = 0;
    ctr_infer("TXO20260532400C", &sec, &ex); /* the long option symbol */
    CHECK(sec == SHJ_SEC_OPT && ex == SHJ_EX_TAIFEX);
    sec = SHJ_SEC_IND, ex = SHJ_EX_OTC; /* what the caller said stays */
    ctr_infer("TXFF6", &sec, &ex);
    CHECK(sec == SHJ_SEC_IND && ex == SHJ_EX_OTC);
    ctr_infer("TXFF6", NULL, NULL); /* no crash */
}

static void test_product(void) {
    char p[16];
    CHECK_STR(ctr_product("TXFF6", p), "TXF");
    CHECK_STR(ctr_product("MXFR2", p), "MXF");
    CHECK_STR(ctr_product("TXO32400E6", p), "TXO");
    CHECK_STR(ctr_product("2330", p), "2330");
    CHECK_STR(ctr_product("TXFR9", p), "TXFR9"); /* not an alias: its own product */
}

static void test_calendar(void) {
    CHECK_EQ_I64(ctr_expiry_day(2026, 5), 20);  /* "delivery_date":"2026/05/20" */
    CHECK_EQ_I64(ctr_expiry_day(2026, 6), 17);  /* "delivery_date":"2026/06/17" */
    CHECK_EQ_I64(ctr_expiry_day(2026, 11), 18);
    CHECK_EQ_I64(ctr_expiry_day(2026, 12), 16);
    CHECK_EQ_I64(ctr_expiry_day(2026, 4), 15);  /* April 1st is a Wednesday */
    static const struct {
        const char *date, *code, *want;
        int rc;
    } cases[] = {
        {"2026-05-15", "TXFR1", "TXFE6", 1}, /* tutor_contract.md:278 */
        {"2026-05-20", "TXFR1", "TXFF6", 1}, /* delivery date: rolled (streaming_futures.md:193) */
        {"2026-05-19", "TXFR1", "TXFE6", 1},
        {"2026-05-20", "TXFR2", "TXFG6", 1},
        {"2026-11-25", "TXFR1", "TXFL6", 1},
        {"2026-11-25", "TXFR2", "TXFA7", 1},
        {"2026-12-16", "MXFR1", "MXFA7", 1},
        {"2029-12-31", "TXFR2", "TXFB0", 1},
        {"2026-11-25", "2330", "2330", 0},
        {"2026-11-25", "TXFR3", "TXFR3", 0},
        {"2026-02-30", "TXFR1", "TXFR1", -1},
        {"bad", "TXFR1", "TXFR1", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[16];
        CHECK_EQ_I64(ctr_resolve_alias(cases[i].date, cases[i].code, out), cases[i].rc);
        CHECK_STR(out, cases[i].want);
    }
    char out[16];
    CHECK_EQ_I64(ctr_resolve_alias(NULL, "TXFR1", out), 1); /* today */
    CHECK(strlen(out) == 5 && strncmp(out, "TXF", 3) == 0 && out[3] >= 'A' && out[3] <= 'L');
}

static void test_names(void) {
    for (int k = 0; k < SHJ_KIND_MAX; k++) {
        const char *n = nm_kind(k);
        CHECK_EQ_I64(nm_kind_of(n, strlen(n)), k);
    }
    for (int e = 0; e <= SHJ_EX_TAIFEX; e++) {
        const char *n = nm_exchange(e);
        CHECK_EQ_I64(nm_exchange_of(n, strlen(n)), e);
    }
    for (int s = 0; s <= SHJ_SEC_IND; s++) {
        const char *n = nm_sec_type(s);
        CHECK_EQ_I64(nm_sec_type_of(n, strlen(n)), s);
    }
    for (int s = 0; s <= SHJ_STATUS_BACKFILLED; s++) {
        const char *n = nm_status(s);
        CHECK_EQ_I64(nm_status_of(n, strlen(n)), s);
    }
    CHECK_EQ_I64(nm_kind_of("BidAsk", 6), SHJ_KIND_BIDASK);
    CHECK_EQ_I64(nm_kind_of("tickx", 4), SHJ_KIND_TICK); /* len, not NUL, delimits */
    CHECK_EQ_I64(nm_kind_of("tic", 3), -1);
    CHECK_EQ_I64(nm_exchange_of("taifex", 6), SHJ_EX_TAIFEX);
    CHECK_EQ_I64(nm_exchange_of("NYSE", 4), -1);
    CHECK_EQ_I64(nm_sec_type_of(NULL, 0), -1);
    CHECK_STR(nm_status(SHJ_STATUS_GAP), "gap");
    CHECK_STR(nm_exchange(99), "UNKNOWN");
}

int main(void) {
    test_alias_rule();
    test_shapes();
    test_infer();
    test_product();
    test_calendar();
    test_names();
    T_DONE();
}
