/* test_ch_rowbinary.c — RowBinary rows: exact round trip in memory, and the
 * real 18.16 server reads our bytes as the values we meant (decimals to the
 * last digit, Taipei dates) and gives back the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "ch_events.h"
#include "ch_harness.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "core/shj_common.h"
#include "t.h"

/* Compare what a stored row keeps: everything but inst_id/payload_tag/padding. */
static int same_stored(const shj_event *a, const shj_event *b) {
    shj_event x = *a, y = *b;
    x.inst_id = y.inst_id = 0;
    x.payload_tag = y.payload_tag = 0;
    if (x.kind != SHJ_KIND_BIDASK) { /* bar-only fields are not stored */
        x.bar_start_ns = y.bar_start_ns = 0;
        x.period_s = y.period_s = 0;
        x.trades = y.trades = 0;
    }
    return memcmp(&x, &y, sizeof x) == 0;
}

int main(void) {
    /* Taipei calendar day boundaries: 16:00 UTC is midnight in Taipei */
    CHECK_EQ_I64(chb_taipei_day(0), 0);
    CHECK_EQ_I64(chb_taipei_day(16LL * 3600 * 1000000000LL - 1), 0);
    CHECK_EQ_I64(chb_taipei_day(16LL * 3600 * 1000000000LL), 1);
    CHECK_EQ_I64(chb_taipei_day(-1), 0); /* 1969-12-31 23:59:59 UTC is 07:59 Taipei Jan 1 */
    CHECK_EQ_I64(chb_taipei_day(-8LL * 3600 * 1000000000LL - 1), -1);

    enum { N = 3000 };
    static shj_event evs[N], back;
    chb_buf b[CHS_NTABLES];
    size_t rows[CHS_NTABLES] = {0, 0};
    for (int t = 0; t < CHS_NTABLES; t++) chb_init(&b[t]);
    for (int i = 0; i < N; i++) {
        che_make(&evs[i], (uint64_t)i, 3);
        int t = chs_table_for_kind(evs[i].kind);
        CHECK_EQ_I64(chb_encode(&b[t], &evs[i]), SHJ_OK);
        rows[t]++;
    }
    /* edge values: longest code, negative and huge decimals */
    shj_event e = evs[0];
    memcpy(e.code, "ABCDEFGHIJKLMNO", 16);
    e.close = -5;                       /* -0.000005 */
    e.amount_sum = 999999999999999999LL; /* 999999999999.999999, Decimal64(6)'s largest */
    e.seq = UINT64_MAX;
    e.diff_rate = INT64_MIN + 1;
    CHECK_EQ_I64(chb_encode(&b[CHS_TICKS], &e), SHJ_OK);
    rows[CHS_TICKS]++;
    shj_event st = evs[0];
    st.kind = SHJ_KIND_STATUS;
    CHECK_EQ_I64(chb_encode(&b[CHS_TICKS], &st), SHJ_ERR); /* not a stored kind */

    /* decode everything back */
    size_t off[CHS_NTABLES] = {0, 0};
    int mismatches = 0;
    for (int i = 0; i < N; i++) {
        int t = chs_table_for_kind(evs[i].kind);
        size_t used = 0;
        if (chb_decode((chs_table)t, b[t].data + off[t], b[t].len - off[t], &used, &back) != SHJ_OK) {
            mismatches++;
            break;
        }
        off[t] += used;
        if (!same_stored(&evs[i], &back)) mismatches++;
    }
    CHECK_EQ_I64(mismatches, 0);
    size_t used = 0;
    CHECK_EQ_I64(chb_decode(CHS_TICKS, b[0].data + off[0], b[0].len - off[0], &used, &back), SHJ_OK);
    CHECK(same_stored(&e, &back));
    off[0] += used;
    CHECK_EQ_I64(off[0], b[0].len);
    CHECK_EQ_I64(off[1], b[1].len);
    /* truncated input is refused at every cut, never over-read */
    int refused = 0;
    for (size_t cut = 0; cut < used; cut++)
        refused += chb_decode(CHS_TICKS, b[0].data + off[0] - used, cut, &used, &back) == SHJ_ERR;
    CHECK_EQ_I64(refused, (long long)used);

    /* ---- against the real server ---- */
    chx_server s;
    char err[400];
    if (chx_start(&s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    chx_body r = {0};
    CHECK_EQ_I64(chx_post(&s, "CREATE DATABASE shj", NULL, 0, &r), 200);
    char sql[8192];
    for (int t = 0; t < CHS_NTABLES; t++) {
        chs_create_sql((chs_table)t, "shj", NULL, sql, sizeof sql);
        CHECK_EQ_I64(chx_post(&s, sql, NULL, 0, &r), 200);
        chs_insert_sql((chs_table)t, "shj", "RowBinary", sql, sizeof sql);
        long code = chx_post(&s, sql, b[t].data, b[t].len, &r);
        CHECK_EQ_I64(code, 200);
        if (code != 200) fprintf(stderr, "insert: %s\n", r.p);
    }
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM shj.ticks"), (long long)rows[0]);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM shj.bidasks"), (long long)rows[1]);

    /* decimals as the server prints them: exact to the last digit */
    chx_post(&s, "SELECT close, amount_sum, diff_rate, toString(day), toString(dt) FROM shj.ticks WHERE code = 'ABCDEFGHIJKLMNO' FORMAT TabSeparated", NULL, 0, &r);
    CHECK_STR(r.p, "-0.000005\t999999999999.999999\t-9223372036854.775807\t2026-11-25\t2026-11-25 09:00:00\n");
    /* 2330 tick close values: compare the server's sum with ours, exactly */
    long long sum = 0;
    for (int i = 0; i < N; i++)
        if (evs[i].kind != SHJ_KIND_BIDASK && strcmp(evs[i].code, "2330") == 0) sum += evs[i].close;
    CHECK_EQ_I64(chx_scalar(&s, "SELECT toInt64(sum(close) * %lld) FROM shj.ticks WHERE code = '2330'",
                            (long long)SHJ_PRICE_SCALE), sum);
    /* a Taipei day per event: the 3-day spread shows as 3 dates */
    CHECK_EQ_I64(chx_scalar(&s, "SELECT uniqExact(day) FROM shj.bidasks"), 3);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM shj.bidasks WHERE length(bid_price) != 5"), 0);

    /* the server's own RowBinary output of our rows is byte-identical */
    for (int t = 0; t < CHS_NTABLES; t++) {
        snprintf(sql, sizeof sql, "SELECT %s FROM shj.%s ORDER BY seq FORMAT RowBinary",
                 chs_columns((chs_table)t), chs_table_name((chs_table)t));
        chx_post(&s, sql, NULL, 0, &r);
        size_t expect_len = b[t].len;
        if (t == CHS_TICKS) expect_len -= used; /* the edge row has the largest seq: last */
        CHECK(r.len >= expect_len);
        CHECK(memcmp(r.p, b[t].data, expect_len) == 0);
    }
    free(r.p);
    chx_stop(&s);
    for (int t = 0; t < CHS_NTABLES; t++) chb_free(&b[t]);
    T_DONE();
}
