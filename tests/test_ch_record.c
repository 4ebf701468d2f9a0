/* test_ch_record.c — issue 4's acceptance with the whole runtime:
 * the simulated market recorded through rt into the raw archive AND
 * ClickHouse (chw_route on the bus); the server is SIGKILLed by PID mid-run
 * and restarted while recording goes on; the writer resumes by itself; then
 * `shijim restore.lua --apply` replays the fallback. ClickHouse must then hold
 * exactly the raw archive's events, re-normalized from the archived payloads:
 * same count and per-day digest, 0 duplicates under FINAL. */
#include <dirent.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "ch_digest.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_writer.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "core/shj_common.h"
#include "loop/source.h"
#include "t.h"

static chx_server server;
static int route_id;
static int killed, restarted;
static uint64_t inserted_at_restart;
static ev_timer chaos;

static void chaos_cb(struct ev_loop *loop, ev_timer *t, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(t);
    SHJ_UNUSED(revents);
    uint64_t n = rt_events_published();
    char err[300];
    if (!killed && n >= 100000) {
        chx_kill9(&server);
        killed = 1;
        fprintf(stderr, "chaos: clickhouse-server SIGKILLed after %llu events\n", (unsigned long long)n);
    } else if (restarted && n >= 300000) {
        /* run on until the writer has shown it resumed by itself */
        chw_stats st;
        chw_route_stats(route_id, &st);
        if (st.state == CHW_UP && st.rows_inserted > inserted_at_restart) rt_stop("test done");
    } else if (killed && !restarted && n >= 200000) {
        if (chx_restart(&server, err, sizeof err) != 0) fprintf(stderr, "restart: %s\n", err);
        restarted = 1;
        chw_stats st;
        chw_route_stats(route_id, &st);
        inserted_at_restart = st.rows_inserted;
        fprintf(stderr, "chaos: restarted after %llu events (writer state %d, %llu rows in fallback)\n",
                (unsigned long long)n, st.state, (unsigned long long)st.rows_fallback);
    }
}

/* Every stored event of the raw archive, normalized again from the payloads. */
static uint64_t digest_archive(const char *dir, chg_digest *d) {
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
            if (chs_table_for_kind(ev.kind) < 0) continue;
            ev.seq = rec.seq;
            ev.ts_recv_ns = rec.recv_ns;
            ev.source_id = 1;
            chg_add(d, &ev);
            n++;
        }
        arc_reader_close(r);
    }
    if (dd) closedir(dd);
    return n;
}

int main(void) {
    char err[600], tmp[] = "/tmp/shj-chrec.XXXXXX", raw[300], fb[300], arc[300], dsn[200];
    if (chx_start(&server, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    snprintf(raw, sizeof raw, "%s/raw", tmp);
    snprintf(fb, sizeof fb, "%s/raw/fallback", tmp);
    snprintf(arc, sizeof arc, "%s/restored", tmp);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/market", server.http_port);

    CHECK_EQ_I64(rt_init(0), SHJ_OK);
    src_source *s = simsrc_new("sim", 2026, "2026-11-25", 100000, err, sizeof err);
    CHECK(s != NULL);
    const char *stocks[] = {"2330", "2317", "0050", "2454"};
    for (int i = 0; i < 4; i++) CHECK_EQ_I64(shj_src_subscribe(s, stocks[i], "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_src_subscribe(s, "TXFR1", "FUT", "TAIFEX", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_rt_add_source(s, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_route_raw(s, raw, 50, 0, 1, err, sizeof err), SHJ_OK);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = 5000;
    o.batch_ms = 100;
    o.probe_min_ms = 50;
    o.probe_max_ms = 500;
    route_id = chw_route(s, &o, 0, err, sizeof err);
    CHECK(route_id >= 0);
    if (route_id < 0) fprintf(stderr, "route: %s\n", err);
    ev_timer_init(&chaos, chaos_cb, 0.01, 0.01);
    ev_timer_start(rt_loop(), &chaos);
    rt_set_status_interval(1000);
    rt_set_limits(40, 0); /* the chaos timer stops the run; 40 s is only a safety net */
    CHECK_EQ_I64(rt_run(err, sizeof err), SHJ_OK);
    ev_timer_stop(rt_loop(), &chaos);
    CHECK(killed && restarted);
    CHECK(rt_events_published() >= 300000);

    chw_stats st;
    chw_route_stats(route_id, &st);
    uint64_t stored = s->counters.per_kind[SHJ_KIND_TICK] + s->counters.per_kind[SHJ_KIND_QUOTE] +
                      s->counters.per_kind[SHJ_KIND_BIDASK];
    fprintf(stderr, "recorded %llu events: %llu inserted, %llu to the fallback, %llu batches failed\n",
            (unsigned long long)st.rows_in, (unsigned long long)st.rows_inserted,
            (unsigned long long)st.rows_fallback, (unsigned long long)st.batches_failed);
    CHECK_EQ_I64(st.rows_in, stored);
    CHECK_EQ_I64(st.rows_in, st.rows_inserted + st.rows_fallback);
    CHECK(st.rows_fallback > 0);
    CHECK(st.rows_inserted > inserted_at_restart); /* resumed by itself */
    CHECK_EQ_I64(st.state, CHW_CLOSED);
    rt_shutdown();

    /* the raw archive is the ground truth */
    chg_digest truth = {0};
    char rawsim[400];
    snprintf(rawsim, sizeof rawsim, "%s/sim", raw);
    CHECK_EQ_I64(digest_archive(rawsim, &truth), stored);

    /* before the restore ClickHouse is short by the fallback's rows */
    long long before = chx_scalar(&server, "SELECT count() FROM market.ticks FINAL") +
                       chx_scalar(&server, "SELECT count() FROM market.bidasks FINAL");
    CHECK(before < (long long)stored);

    /* shijim restore.lua --apply, the real command */
    const char *bdir = getenv("SHJ_BUILD_DIR");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s/shijim restore.lua --fallback-dir %s --apply --dsn %s --archive-dir %s --progress never",
             bdir ? bdir : "build", fb, dsn, arc);
    int files = chrr_count_files(fb);
    CHECK(files >= 1);
    CHECK_EQ_I64(system(cmd), 0);
    CHECK_EQ_I64(chrr_count_files(fb), 0);
    CHECK_EQ_I64(chrr_count_files(arc), files);

    chg_digest got = {0};
    CHECK_EQ_I64(chg_from_server(&server, "market", CHS_TICKS, 1, &got), 0);
    CHECK_EQ_I64(chg_from_server(&server, "market", CHS_BIDASKS, 1, &got), 0);
    CHECK_EQ_I64(chg_total(&got), stored);
    CHECK(chg_equal(&truth, &got, "ClickHouse vs raw archive"));
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM (SELECT code, ts, source, seq, count() AS c FROM market.ticks FINAL GROUP BY code, ts, source, seq HAVING c > 1)"), 0);
    CHECK_EQ_I64(chx_scalar(&server, "SELECT count() FROM (SELECT code, ts, source, seq, count() AS c FROM market.bidasks FINAL GROUP BY code, ts, source, seq HAVING c > 1)"), 0);

    chx_stop(&server);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
