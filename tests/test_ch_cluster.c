/* test_ch_cluster.c — issue 14 part 4's acceptance: ClickHouse as a cluster.
 *
 * Two real clickhouse-server 18.16 processes on 127.0.0.1 are the two shards
 * of cluster "shj2" (remote_servers in each one's config.d). The schema is
 * applied to each server by the real command, `shijim schema.lua --dsn
 * <shard> --cluster shj2` (18.16 has no ON CLUSTER DDL without ZooKeeper).
 * Two simulated gateways (the sharded recording: disjoint code sets, as
 * `--shard 0/2` and `1/2` give) record through rt, each into its own raw
 * archive and, by the writer, into its own shard's local tables. Then,
 * asked on shard 1 only: count() through ticks_all + bidasks_all equals the
 * events of both archives; each shard holds exactly its gateway's codes; the
 * Distributed bars_1m_all merges the shards' aggregate states into bars equal
 * to the same bars computed from the ticks; and --print --cluster
 * --replicated prints the Replicated engines with the {shard}/{replica}
 * macros. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "ch_harness.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "parse/parse.h"
#include "sim/sim_source.h"
#include "t.h"

/* Stored events (ticks, quotes, books) in the archive files of dir. */
static uint64_t archive_events(const char *dir) {
    DIR *dd = opendir(dir);
    uint64_t n = 0;
    struct dirent *de;
    while (dd && (de = readdir(dd))) {
        if (!strstr(de->d_name, ".shjraw")) continue;
        char path[1024], err[300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        arc_reader *r = arc_reader_open(path, err, sizeof err);
        if (!r) continue;
        arc_record rec;
        while (arc_reader_next(r, &rec) == 1) {
            shj_event ev;
            if (psr_parse(rec.tag, rec.data, rec.len, &ev, err, sizeof err) != PSR_EVENT) continue;
            if (chs_table_for_kind(ev.kind) >= 0) n++;
        }
        arc_reader_close(r);
    }
    if (dd) closedir(dd);
    return n;
}

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

int main(void) {
    chx_server sh[2];
    char err[600], tmp[] = "/tmp/shj-chcl.XXXXXX", dsn[2][200], raw[300], fb[2][300];
    int up = chx_start_cluster(sh, 2, "shj2", err, sizeof err);
    CHECK_EQ_I64(up, 0);
    if (up != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        T_DONE();
    }
    CHECK_EQ_I64(chx_scalar(&sh[0], "SELECT count() FROM system.clusters WHERE cluster = 'shj2'"), 2);
    const char *bdir = getenv("SHJ_BUILD_DIR");
    if (!bdir) bdir = "build";
    for (int i = 0; i < 2; i++) {
        snprintf(dsn[i], sizeof dsn[i], "clickhouse://127.0.0.1:%d/market", sh[i].http_port);
        snprintf(fb[i], sizeof fb[i], "%s/fallback%d", tmp, i);
        CHECK_EQ_I64(run_cmd("%s/shijim schema.lua --dsn %s --cluster shj2 >/dev/null", bdir, dsn[i]), 0);
    }
    /* the DDL printed for replicas: every local engine Replicated, with the macros */
    CHECK_EQ_I64(run_cmd("%s/shijim schema.lua --print --db market --cluster shj2 --replicated > %s/repl.sql", bdir, tmp), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/repl.sql", tmp);
    FILE *f = fopen(p, "r");
    char text[65536] = "";
    size_t tl = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[tl] = '\0';
    if (f) fclose(f);
    CHECK(strstr(text, "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/market/ticks', '{replica}')") != NULL);
    CHECK(strstr(text, "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/market/bars_1m', '{replica}')") != NULL);
    CHECK(strstr(text, "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/market/aliases', '{replica}', noted_ts)") != NULL);
    CHECK(strstr(text, "ENGINE = Distributed(shj2, market, ticks, cityHash64(code))") != NULL);
    CHECK(strstr(text, "ENGINE = ReplacingMergeTree(") == NULL);

    /* two gateways, disjoint universes, each writing its own shard */
    CHECK_EQ_I64(rt_init(0), SHJ_OK);
    const char *codes[2][3] = {{"2330", "2317", "TXFR1"}, {"0050", "2454", "2603"}};
    src_source *src[2];
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "gw%d", i);
        src[i] = simsrc_new(name, 2026 + (uint64_t)i, "2026-11-25", 50000, err, sizeof err);
        CHECK(src[i] != NULL);
        for (int k = 0; k < 3; k++) {
            int fut = codes[i][k][0] == 'T';
            CHECK_EQ_I64(shj_src_subscribe(src[i], codes[i][k], fut ? "FUT" : "STK", fut ? "TAIFEX" : "TSE",
                                           "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
        }
        CHECK_EQ_I64(shj_rt_add_source(src[i], err, sizeof err), SHJ_OK);
        snprintf(raw, sizeof raw, "%s/raw", tmp);
        CHECK_EQ_I64(shj_route_raw(src[i], raw, 50, 0, 1, err, sizeof err), SHJ_OK);
        chw_opts o;
        chw_opts_default(&o);
        o.dsn = dsn[i];
        o.fallback_dir = fb[i];
        o.batch_rows = 5000;
        o.batch_ms = 100;
        o.wait_when_slow = 1;
        CHECK(chw_route(src[i], &o, 1, err, sizeof err) >= 0);
    }
    rt_set_limits(60, 100000);
    CHECK_EQ_I64(rt_run(err, sizeof err), SHJ_OK);
    rt_shutdown();

    uint64_t truth[2];
    for (int i = 0; i < 2; i++) {
        char d[400];
        snprintf(d, sizeof d, "%s/raw/gw%d", tmp, i);
        truth[i] = archive_events(d);
        CHECK(truth[i] > 1000);
    }
    fprintf(stderr, "archives: gw0 %llu, gw1 %llu events\n", (unsigned long long)truth[0], (unsigned long long)truth[1]);

    /* through the Distributed tables, asked on shard 1: both archives */
    long long all = chx_scalar(&sh[0], "SELECT count() FROM market.ticks_all") +
                    chx_scalar(&sh[0], "SELECT count() FROM market.bidasks_all");
    CHECK_EQ_I64(all, (long long)(truth[0] + truth[1]));
    /* each shard holds its gateway's events and codes, nothing of the other's */
    for (int i = 0; i < 2; i++) {
        long long local = chx_scalar(&sh[i], "SELECT count() FROM market.ticks") +
                          chx_scalar(&sh[i], "SELECT count() FROM market.bidasks");
        CHECK_EQ_I64(local, (long long)truth[i]);
        CHECK_EQ_I64(chx_scalar(&sh[i], "SELECT count() FROM market.ticks WHERE code IN ('%s', '%s', '%s')",
                                codes[1 - i][0], codes[1 - i][1], codes[1 - i][2]), 0);
    }
    /* the codes seen through the cluster are both shards' codes, disjoint */
    const char *codes_sql = "SELECT uniqExact(code) FROM (SELECT code FROM market.%s UNION ALL SELECT code FROM market.%s)";
    long long n_all = chx_scalar(&sh[0], codes_sql, "ticks_all", "bidasks_all");
    long long n0 = chx_scalar(&sh[0], codes_sql, "ticks", "bidasks"), n1 = chx_scalar(&sh[1], codes_sql, "ticks", "bidasks");
    CHECK(n0 >= 1 && n1 >= 1);
    CHECK_EQ_I64(n_all, n0 + n1);
    /* bars through the cluster: the states merged across shards equal the
     * bars computed from the ticks, minute by minute */
    const char *bars =
        "SELECT code, minute, argMinMerge(open_state) AS o, maxMerge(high_state) AS h, minMerge(low_state) AS l, "
        "argMaxMerge(close_state) AS c, sumMerge(volume_state) AS v, countMerge(trades_state) AS n "
        "FROM market.bars_1m_all GROUP BY code, minute";
    const char *ref =
        "SELECT code, toStartOfMinute(dt) AS minute, argMin(close, (ts, source, seq)) AS o, max(close) AS h, "
        "min(close) AS l, argMax(close, (ts, source, seq)) AS c, sum(toInt64(volume)) AS v, count() AS n "
        "FROM market.ticks_all WHERE bitAnd(flags, 5) = 0 GROUP BY code, minute";
    long long nbars = chx_scalar(&sh[0], "SELECT count() FROM (%s)", bars);
    CHECK(nbars > 0);
    CHECK_EQ_I64(chx_scalar(&sh[0], "SELECT count() FROM (%s)", ref), nbars);
    CHECK_EQ_I64(chx_scalar(&sh[0], "SELECT count() FROM (SELECT * FROM (%s) ALL INNER JOIN (%s) USING (code, minute, o, h, l, c, v, n))",
                            bars, ref), nbars);
    fprintf(stderr, "cluster: %lld rows through the Distributed tables, %lld 1-minute bars\n", all, nbars);

    for (int i = 0; i < 2; i++) chx_stop(&sh[i]);
    CHECK_EQ_I64(run_cmd("rm -rf '%s'", tmp), 0);
    T_DONE();
}
