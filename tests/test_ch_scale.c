/* test_ch_scale.c — tables an older Shijim created (prices Decimal64(4))
 * against the writer and restore at SHJ_PRICE_SCALE (10^6), on a real
 * clickhouse-server 18.16:
 *  1. the live writer refuses them at open (create_schema on and off), with
 *     an error naming the table, the column, its type and the migration, and
 *     inserts nothing;
 *  2. a writer that reaches the server only later (probing) FAILS on them
 *     before its first insert, and everything it took is in the fallback;
 *  3. restore refuses them before its first insert;
 *  4. the migration (chr_client_migrate_sql's ALTER TABLE ... MODIFY COLUMN,
 *     what `shijim schema.lua --migrate` runs) converts them in place: the
 *     old rows keep their exact values, the writer then records, and the
 *     fallback of (2) restores — nothing lost. */
#include <stdlib.h>
#include <string.h>

#include "ch_feed.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

static struct ev_loop *loop;

static int fatal_calls;
static char fatal_why[600];
static void on_fatal(void *ctx, chw_writer *w, const char *why) {
    SHJ_UNUSED(ctx);
    SHJ_UNUSED(w);
    fatal_calls++;
    shj_strlcpy(fatal_why, why, sizeof fatal_why);
}

/* The writer gave up and everything it took is saved (inserted or in the fallback). */
static int failed_and_saved(void *ctx) {
    chw_stats st;
    chw_get_stats(ctx, &st);
    return st.state == CHW_FAILED && st.rows_held == 0;
}

static int has(const char *s, const char *what) {
    int ok = s && strstr(s, what) != NULL;
    if (!ok) fprintf(stderr, "  \"%s\" lacks \"%s\"\n", s ? s : "(null)", what);
    return ok;
}

/* The DDL an older Shijim ran: ours with the decimal scale 4. */
static void create_old_tables(const chx_server *s, const char *db) {
    char sql[8192], want[32], old[32];
    snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", db);
    CHECK_EQ_I64(chx_post(s, sql, NULL, 0, NULL), 200);
    snprintf(want, sizeof want, "Decimal64(%d)", SHJ_PRICE_DECIMALS);
    snprintf(old, sizeof old, "Decimal64(%d)", 4);
    for (int t = 0; t < CHS_NTABLES; t++) {
        chs_create_sql((chs_table)t, db, NULL, sql, sizeof sql);
        int swapped = 0;
        for (char *p = strstr(sql, want); p; p = strstr(p, want)) {
            memcpy(p, old, strlen(old)); /* same length: "Decimal64(N)" */
            swapped++;
        }
        CHECK(swapped > 0);
        CHECK_EQ_I64(chx_post(s, sql, NULL, 0, NULL), 200);
    }
}

static void writer_opts(chw_opts *o, const char *dsn, const char *fb) {
    chw_opts_default(o);
    o->dsn = dsn;
    o->fallback_dir = fb;
    o->batch_rows = 2000;
    o->batch_ms = 50;
    o->probe_min_ms = 20;
    o->probe_max_ms = 100;
}

int main(void) {
    loop = ev_default_loop(0);
    chx_server s;
    char err[1024], dsn[200], tmp[] = "/tmp/shj-chscale.XXXXXX";
    if (chx_start(&s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    static ch_feeder feed;
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/old", s.http_port);
    create_old_tables(&s, "old");
    /* a row an older Shijim wrote: 585.5, avg 585.1234 (4 places) */
    const char *row = "{\"code\":\"2330\",\"exchange\":\"TSE\",\"sec_type\":\"STK\",\"kind\":\"tick\",\"ts\":1795568400000000001,"
                      "\"recv_ts\":1795568400001000000,\"dt\":1795568400,\"day\":\"2026-11-25\",\"source\":1,\"seq\":1,"
                      "\"flags\":0,\"open\":580,\"high\":590,\"low\":575,\"close\":585.5,\"avg_price\":585.1234,"
                      "\"diff_price\":5.5,\"diff_rate\":0.95,\"amount\":585500,\"amount_sum\":123456789.5,"
                      "\"underlying_price\":0,\"volume\":1,\"vol_sum\":10,\"bid_side_vol_sum\":1,\"ask_side_vol_sum\":2,"
                      "\"tick_type\":1,\"chg_type\":2}\n";
    CHECK_EQ_I64(chx_post(&s, "INSERT INTO old.ticks FORMAT JSONEachRow", row, strlen(row), NULL), 200);

    /* ---- 1. refused at open --------------------------------------------- */
    for (int create = 1; create >= 0; create--) {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb-open%d", tmp, create);
        chw_opts o;
        writer_opts(&o, dsn, fb);
        o.create_schema = create;
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w == NULL);
        if (w) chw_close(w, err, sizeof err);
        fprintf(stderr, "open refused (create_schema %d): %s\n", create, err);
        CHECK(has(err, "table old.ticks column open is Decimal(18, 4)"));
        CHECK(has(err, "100x too large"));
        CHECK(has(err, "ALTER TABLE old.ticks MODIFY COLUMN open Decimal64(6)"));
        CHECK(has(err, "shijim schema.lua --dsn DSN --migrate"));
        CHECK(has(err, "all 12 such columns")); /* 10 in ticks, 2 in bidasks */
    }
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.ticks"), 1);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.bidasks"), 0);

    /* ---- 2. reached later: FAILED before the first insert ---------------- */
    char fb2[300];
    snprintf(fb2, sizeof fb2, "%s/fb-probe", tmp);
    uint64_t taken2 = 0;
    {
        chw_opts o;
        writer_opts(&o, dsn, fb2);
        o.skip_open_check = 1; /* start DOWN, as when the server is away at start */
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (w) {
            chw_set_fatal_cb(w, on_fatal, NULL);
            memset(&feed, 0, sizeof feed);
            ch_feed_start(&feed, loop, w, 0, 6000, 300, 1);
            CHECK(ch_run_until(loop, failed_and_saved, w, 20));
            ch_feed_stop(&feed, loop);
            chw_stats st;
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.state, CHW_FAILED);
            CHECK_EQ_I64(fatal_calls, 1);
            CHECK(has(fatal_why, "table old.ticks column open is Decimal(18, 4)"));
            CHECK_EQ_I64(st.rows_inserted, 0);
            CHECK_EQ_I64(st.rows_held, 0);
            CHECK(st.rows_in > 0);
            CHECK_EQ_I64(st.rows_in, st.rows_fallback);
            taken2 = chg_total(&feed.taken);
            CHECK_EQ_I64(taken2, st.rows_in);
            chw_close(w, err, sizeof err);
        }
    }
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.ticks"), 1);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.bidasks"), 0);

    /* ---- 3. restore refuses too ------------------------------------------ */
    chrr_result rr;
    CHECK_EQ_I64(chrr_run(fb2, dsn, CHR_APPLY, NULL, 1000, &rr), -1);
    CHECK(has(rr.err, "table old.ticks column open is Decimal(18, 4)"));
    CHECK_EQ_I64(rr.inserted, 0);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.ticks"), 1);

    /* ---- 4. migrate in place, then everything works ---------------------- */
    chr_client *c = chr_client_new(dsn, 0, err, sizeof err);
    CHECK(c != NULL);
    if (c) {
        static char sql[8192];
        int n = chr_client_migrate_sql(c, sql, sizeof sql, err, sizeof err);
        CHECK(n > 0);
        fprintf(stderr, "migration:\n%s", sql);
        CHECK(has(sql, "ALTER TABLE old.ticks MODIFY COLUMN open Decimal64(6), MODIFY COLUMN high Decimal64(6)"));
        CHECK(has(sql, "MODIFY COLUMN underlying_price Decimal64(6);\n"));
        CHECK(has(sql, "ALTER TABLE old.bidasks MODIFY COLUMN bid_price Array(Decimal64(6)), "
                       "MODIFY COLUMN ask_price Array(Decimal64(6));\n"));
        char *save = NULL;
        for (char *stmt = strtok_r(sql, ";\n", &save); stmt; stmt = strtok_r(NULL, ";\n", &save))
            CHECK_EQ_I64(chr_client_exec(c, stmt, NULL, 0, err, sizeof err), SHJ_OK);
        CHECK_EQ_I64(chr_client_migrate_sql(c, sql, sizeof sql, err, sizeof err), 0); /* nothing left */
        chr_client_free(c);
    }
    /* the old row kept its exact values */
    CHECK_EQ_I64(chx_scalar(&s, "SELECT toInt64(close * %lld) FROM old.ticks WHERE ts = 1795568400000000001", (long long)SHJ_PRICE_SCALE),
                 5855 * SHJ_PRICE_SCALE / 10);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT toInt64(avg_price * %lld) FROM old.ticks WHERE ts = 1795568400000000001", (long long)SHJ_PRICE_SCALE),
                 5851234 * SHJ_PRICE_SCALE / 10000);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT toInt64(amount_sum * 10) FROM old.ticks WHERE ts = 1795568400000000001"), 1234567895LL);
    /* the fallback of (2) restores, and the live writer records */
    CHECK_EQ_I64(chrr_run(fb2, dsn, CHR_APPLY, NULL, 1000, &rr), 0);
    if (rr.err[0]) fprintf(stderr, "restore: %s\n", rr.err);
    CHECK_EQ_I64(rr.inserted, taken2);
    {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb-new", tmp);
        chw_opts o;
        writer_opts(&o, dsn, fb);
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (!w) fprintf(stderr, "open after migration: %s\n", err);
        if (w) {
            memset(&feed, 0, sizeof feed);
            ch_feed_start(&feed, loop, w, 100000, 10000, 1000, 1);
            CHECK(ch_run_until(loop, ch_feed_settled, &feed, 20));
            ch_feed_stop(&feed, loop);
            chw_stats st;
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.rows_inserted, 10000);
            CHECK_EQ_I64(st.rows_fallback, 0);
            CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
        }
    }
    /* exact prices through RowBinary at the new scale: the server's sum of the
     * ticks' close equals ours, to the last unit */
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM old.ticks FINAL") + chx_scalar(&s, "SELECT count() FROM old.bidasks FINAL"),
                 (long long)(1 + taken2 + 10000));

    chx_stop(&s);
    chx_rm_rf(tmp);
    T_DONE();
}
