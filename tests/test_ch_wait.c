/* test_ch_wait.c — a source that can wait is held back by a slow ClickHouse,
 * never spilled (chw_opts.wait_when_slow; replay.lua sets it).
 *
 * Issue 11, fault 10: replaying an archive into a healthy ClickHouse sent
 * 195,215 of 1,199,083 rows to the fallback and exited 1, because replay
 * outran the writer and the writer spilled past max_mem_bytes as it must for
 * a live feed. Here a real 18.16 server is stopped (SIGSTOP) while events are
 * offered far faster than it could take them: with wait_when_slow the writer
 * refuses events (the bus holds the source) once max_mem_bytes is held,
 * spills nothing, and after the server thaws every event is inserted, none
 * in the fallback; the server's content equals what the writer took.
 */
#include <stdlib.h>
#include <string.h>

#include "ch_feed.h"
#include "ch_harness.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

static int refused_a_while(void *ctx) { return ((ch_feeder *)ctx)->refused_ticks >= 300; }

int main(void) {
    struct ev_loop *loop = ev_default_loop(0);
    chx_server s;
    char err[600], dsn[200], tmp[] = "/tmp/shj-chw.XXXXXX";
    if (chx_start(&s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    char fb[300];
    snprintf(fb, sizeof fb, "%s/fallback", tmp);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/waiting", s.http_port);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = 10000;
    o.batch_ms = 50;
    o.max_mem_bytes = 4 << 20;
    o.timeout_ms = 60000; /* the stall below is a slow server, not a dead one */
    o.wait_when_slow = 1;
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) T_DONE();
    CHECK(ch_run_until(loop, ch_writer_is_up, w, 15));
    static ch_feeder feed;
    const uint64_t N = 150000;

    chx_pause(&s);
    ch_feed_start(&feed, loop, w, 0, N, 200, 1); /* 200k events/s offered */
    CHECK(ch_run_until(loop, refused_a_while, &feed, 30));
    chw_stats st;
    chw_get_stats(w, &st);
    fprintf(stderr, "server stopped: %llu rows taken, %.2f MiB held (limit %.2f), %llu refusals, %llu rows to fallback\n",
            (unsigned long long)st.rows_in, (double)st.mem_bytes / 1048576.0,
            (double)o.max_mem_bytes / 1048576.0, (unsigned long long)st.refusals,
            (unsigned long long)st.rows_fallback);
    CHECK(st.refusals > 0);              /* the source is held back ... */
    CHECK_EQ_I64(st.rows_fallback, 0);   /* ... instead of spilled */
    CHECK_EQ_I64(st.batches_spilled, 0);
    CHECK(st.rows_in < N);
    CHECK_EQ_I64(st.state, CHW_UP);
    /* bounded: the limit, plus what was in flight and open when it was reached */
    CHECK(st.mem_peak <= o.max_mem_bytes + (o.max_inflight + 2) * (2 << 20));

    chx_resume(&s);
    CHECK(ch_run_until(loop, ch_feed_settled, &feed, 60));
    ch_feed_stop(&feed, loop);
    chw_get_stats(w, &st);
    CHECK_EQ_I64(st.rows_in, N);
    CHECK_EQ_I64(st.rows_inserted, N);
    CHECK_EQ_I64(st.rows_fallback, 0);
    CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
    chg_digest ch = {0};
    CHECK_EQ_I64(chg_from_server(&s, "waiting", CHS_TICKS, 1, &ch), 0);
    CHECK_EQ_I64(chg_from_server(&s, "waiting", CHS_BIDASKS, 1, &ch), 0);
    CHECK_EQ_I64(chg_total(&ch), N);
    CHECK(chg_equal(&feed.taken, &ch, "after the wait"));

    chx_stop(&s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
