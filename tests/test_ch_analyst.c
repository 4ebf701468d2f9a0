/* test_ch_analyst.c — issue 13 part 5's ClickHouse objects on the real 18.16
 * server: bars_1m (AggregatingMergeTree fed by a materialized view over
 * ticks), instruments (idem) and aliases, and the migration of a database an
 * older Shijim made.
 *
 *  1. An "old" database: only ticks/bidasks (as created before this change),
 *     a simulated day recorded into it by the writer (create_schema off).
 *  2. `shijim schema.lua --dsn DSN --migrate` (the real command) adds the
 *     tables and views and backfills them: no row of ticks/bidasks lost, and
 *     bars_1m's OHLCV, volume, amount and trade count equal, minute by
 *     minute, the same bars computed by SQL from ticks FINAL.
 *  3. A second simulated day recorded by the writer with its defaults: the
 *     views fill live; the bars still equal the ticks' for both days;
 *     instruments holds one row per (code, trading_day) with the exact
 *     reference price (close - diff_price of the first trade) and product.
 *     The alias map: the source resolved TXFR1 (sim: TXFL6 on these dates);
 *     day 2's writer stored (2026-11-26, TXFR1 -> TXFL6) in aliases, and the
 *     documented query `code = 'TXFR1'` through aliases returns exactly the
 *     TXFL6 ticks of that day. Day 1 went to the old database (no aliases
 *     table, create_schema off): its rows were dropped with a warning, the
 *     events were not (metadata never costs an event).
 *  4. --migrate again changes nothing (the backfill skips what is there).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ch_harness.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "t.h"

static chx_server server;
static char dsn[200], tmp[] = "/tmp/shj-chan.XXXXXX";

static int run_cmd(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

/* One simulated day through the writer. */
static void record(const char *date, int create_schema, uint64_t events) {
    char err[400], fb[300];
    snprintf(fb, sizeof fb, "%s/fallback-%s", tmp, date);
    CHECK_EQ_I64(rt_init(0), SHJ_OK);
    src_source *s = simsrc_new("sim", 7, date, 0, err, sizeof err);
    CHECK(s != NULL);
    const char *stk[] = {"2330", "2317"};
    for (int i = 0; i < 2; i++)
        CHECK_EQ_I64(shj_src_subscribe(s, stk[i], "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_src_subscribe(s, "TXFR1", "FUT", "TAIFEX", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_rt_add_source(s, err, sizeof err), SHJ_OK);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.create_schema = create_schema;
    o.wait_when_slow = 1;
    o.batch_rows = 20000;
    int r = chw_route(s, &o, 1, err, sizeof err);
    CHECK(r >= 0);
    if (r < 0) fprintf(stderr, "route: %s\n", err);
    rt_set_limits(60, events);
    CHECK_EQ_I64(rt_run(err, sizeof err), SHJ_OK);
    chw_stats st;
    chw_route_stats(r, &st);
    CHECK_EQ_I64(st.rows_fallback, 0);
    CHECK(st.rows_inserted > 0);
    rt_shutdown();
}

static const char *BARS =
    "SELECT trading_day, code, minute, argMinMerge(open_state) AS o, maxMerge(high_state) AS h, "
    "minMerge(low_state) AS l, argMaxMerge(close_state) AS c, sumMerge(volume_state) AS v, "
    "sumMerge(amount_state) AS a, countMerge(trades_state) AS n "
    "FROM an.bars_1m GROUP BY trading_day, code, minute";
static const char *REF =
    "SELECT trading_day, code, toStartOfMinute(dt) AS minute, argMin(close, (ts, source, seq)) AS o, "
    "max(close) AS h, min(close) AS l, argMax(close, (ts, source, seq)) AS c, sum(toInt64(volume)) AS v, "
    "sum(amount) AS a, count() AS n FROM an.ticks FINAL WHERE bitAnd(flags, 5) = 0 "
    "GROUP BY trading_day, code, minute";

/* bars_1m equals the bars computed from the ticks; returns the bar count. */
static long long bars_equal(void) {
    long long nb = chx_scalar(&server, "SELECT count() FROM (%s)", BARS);
    long long nr = chx_scalar(&server, "SELECT count() FROM (%s)", REF);
    long long same = chx_scalar(&server,
                                "SELECT count() FROM (SELECT * FROM (%s) ALL INNER JOIN (%s) "
                                "USING (trading_day, code, minute, o, h, l, c, v, a, n))",
                                BARS, REF);
    CHECK(nb > 0);
    CHECK_EQ_I64(nr, nb);
    CHECK_EQ_I64(same, nb);
    return nb;
}

static long long rows(void) {
    return chx_scalar(&server, "SELECT count() FROM an.ticks") + chx_scalar(&server, "SELECT count() FROM an.bidasks");
}

int main(void) {
    char err[600], sql[8192];
    if (chx_start(&server, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/an", server.http_port);
    const char *bdir = getenv("SHJ_BUILD_DIR");
    if (!bdir) bdir = "build";

    /* 1. the old schema: ticks and bidasks only */
    CHECK_EQ_I64(chx_post(&server, "CREATE DATABASE an", NULL, 0, NULL), 200);
    for (int t = 0; t < CHS_NTABLES; t++) {
        chs_create_sql((chs_table)t, "an", NULL, sql, sizeof sql);
        CHECK_EQ_I64(chx_post(&server, sql, NULL, 0, NULL), 200);
    }
    record("2026-11-25", 0, 150000);
    long long before = rows();
    CHECK(before > 100000);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM system.tables WHERE database = 'an'"), 2);

    /* 2. the migration: new objects, backfilled, nothing lost */
    CHECK_EQ_I64(run_cmd("%s/shijim schema.lua --dsn %s --migrate >/dev/null", bdir, dsn), 0);
    CHECK_EQ_I64(rows(), before);
    CHECK_EQ_I64(chx_scalar(&server,
                            "SELECT count() FROM system.tables WHERE database = 'an' AND name IN "
                            "('aliases', 'instruments', 'instruments_mv', 'bars_1m', 'bars_1m_mv')"),
                 5);
    long long bars1 = bars_equal();
    fprintf(stderr, "after the migration: %lld rows kept, %lld bars backfilled\n", before, bars1);

    /* 3. a second day with the writer's defaults: the views fill live */
    record("2026-11-26", 1, 150000);
    long long bars2 = bars_equal();
    CHECK(bars2 > bars1);
    CHECK(chx_scalar(&server, "SELECT count() FROM (%s) WHERE trading_day = '2026-11-26'", BARS) > 0);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT uniqExact(trading_day) FROM (%s)", BARS), 2);
    /* the simulated ticks move: bars are not all flat */
    CHECK(chx_scalar(&server, "SELECT countIf(h > l) FROM (%s)", BARS) > 0);

    /* instruments: one row per (code, trading_day) of ticks, exact reference */
    const char *INST =
        "SELECT trading_day, code, exchange, sec_type, product, argMinMerge(reference_state) AS ref, "
        "countMerge(events_state) AS n FROM an.instruments GROUP BY trading_day, code, exchange, sec_type, product";
    const char *IREF =
        "SELECT trading_day, code, argMin(close - diff_price, (ts, source, seq)) AS ref, count() AS n "
        "FROM an.ticks FINAL GROUP BY trading_day, code";
    long long ni = chx_scalar(&server, "SELECT count() FROM (%s)", INST);
    CHECK(ni >= 2);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM (%s)", IREF), ni);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM (SELECT * FROM (%s) ALL INNER JOIN (%s) USING (trading_day, code, ref, n))",
                            INST, IREF), ni);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM (%s) WHERE code = 'TXFL6' AND product = 'TXF' AND "
                                     "exchange = 'TAIFEX' AND sec_type = 'FUT'", INST), 2);
    CHECK(chx_scalar(&server, "SELECT count() FROM (%s) WHERE product = code AND sec_type = 'STK' AND ref > 0", INST) >= 2);

    /* the alias map answers code = 'TXFR1' */
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM an.aliases FINAL WHERE alias = 'TXFR1' AND code = 'TXFL6' "
                                     "AND trading_day = '2026-11-26' AND exchange = 'TAIFEX' AND sec_type = 'FUT'"), 1);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM an.aliases FINAL"), 1);
    long long via_alias = chx_scalar(&server,
        "SELECT count() FROM an.ticks FINAL WHERE (trading_day, code) IN "
        "(SELECT trading_day, code FROM an.aliases FINAL WHERE alias = 'TXFR1')");
    long long direct = chx_scalar(&server, "SELECT count() FROM an.ticks FINAL WHERE code = 'TXFL6' AND trading_day = '2026-11-26'");
    CHECK(direct > 0);
    CHECK_EQ_I64(via_alias, direct);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM an.ticks WHERE code = 'TXFR1'"), 0); /* why the map is needed */

    /* sizing figures for docs/clickhouse.md (printed, not asserted) */
    chx_body pb = {0};
    chx_post(&server, "SELECT table, sum(rows) AS r, sum(data_compressed_bytes) AS c, "
                      "round(sum(data_compressed_bytes) / sum(rows), 1), round(sum(data_uncompressed_bytes) / sum(rows), 1) "
                      "FROM system.parts WHERE database = 'an' AND active GROUP BY table ORDER BY table FORMAT TSV", NULL, 0, &pb);
    fprintf(stderr, "table\trows\tcompressed\tbytes/row\tuncompressed/row\n%s", pb.p ? pb.p : "");
    free(pb.p);

    /* 4. --migrate again: nothing doubled */
    CHECK_EQ_I64(run_cmd("%s/shijim schema.lua --dsn %s --migrate >/dev/null", bdir, dsn), 0);
    CHECK_EQ_I64(bars_equal(), bars2);
    fprintf(stderr, "two days: %lld bars equal to the ticks', %lld instrument-days\n", bars2, ni);

    chx_stop(&server);
    CHECK_EQ_I64(run_cmd("rm -rf '%s'", tmp), 0);
    T_DONE();
}
