/* test_ch_stall.c — a server that accepts connections but never answers
 * (SIGSTOP): the writer holds at most max_mem_bytes for ClickHouse (+ the
 * fallback's backlog and the batches in flight and open), spills the oldest
 * waiting batches to the fallback, never pushes back on the bus, times the
 * stuck inserts out, probes, and resumes when the server thaws. Afterwards
 * ClickHouse + fallback hold every event once. */
#include <stdlib.h>
#include <string.h>

#include "ch_feed.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

int main(void) {
    struct ev_loop *loop = ev_default_loop(0);
    chx_server s;
    char err[600], dsn[200], fb[300], tmp[] = "/tmp/shj-chs.XXXXXX";
    chw_opts o;
    if (ch_writer_test_setup(&s, tmp, "stall", &o, dsn, sizeof dsn, fb, sizeof fb) != 0) {
        CHECK(0);
        T_DONE();
    }
    o.batch_rows = 10000;
    o.batch_ms = 50;
    o.max_mem_bytes = 8 << 20;
    o.timeout_ms = 1500;
    o.probe_min_ms = 100;
    o.probe_max_ms = 400;
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) T_DONE();
    static ch_feeder feed;
    const uint64_t N1 = 100000, N2 = 20000;

    chx_pause(&s);
    /* A pace the fallback disk keeps up with, so that any push-back would be
     * ClickHouse's doing: 50k events/s, 20k under the sanitizers (whose
     * fallback thread is several times slower). The test runs alone (CMake
     * RUN_SERIAL) so other tests' fsyncs do not stall its disk. */
#ifdef __SANITIZE_ADDRESS__
    const int pace_k = 20;
#else
    const int pace_k = 50;
#endif
    ch_feed_start(&feed, loop, w, 0, N1, pace_k, 1);
    CHECK(ch_run_until(loop, ch_feed_settled, &feed, 30));
    chw_stats st;
    chw_get_stats(w, &st);
    fprintf(stderr, "stalled: peak %.2f MiB held, %llu batches spilled, %llu failed (timeouts), %llu rows to fallback\n",
            (double)st.mem_peak / 1048576.0, (unsigned long long)st.batches_spilled,
            (unsigned long long)st.batches_failed, (unsigned long long)st.rows_fallback);
    /* The bus is never blocked because of ClickHouse: the writer refuses
     * events only while the fallback disk is a whole max_mem behind, which
     * depends on the disk (a busy container's fsync), not on the server. */
    fprintf(stderr, "fallback backlog peak %.2f MiB (limit %.2f), refusals %llu\n",
            (double)st.spill_peak / 1048576.0, (double)o.max_mem_bytes / 1048576.0,
            (unsigned long long)st.refusals);
    CHECK(feed.refused_ticks == 0 || st.spill_peak > o.max_mem_bytes);
    CHECK(st.batches_spilled > 0);             /* memory limit reached: oldest waiting spilled */
    CHECK(st.batches_failed >= 1);             /* stuck inserts timed out */
    /* bounded: the limit for batches waiting for ClickHouse, as much again
     * waiting for the disk, plus the in-flight and open batches (2 MiB each) */
    CHECK(st.mem_peak <= 2 * o.max_mem_bytes + (o.max_inflight + 2) * (2 << 20));
    CHECK(st.refusals == 0 || st.spill_peak > o.max_mem_bytes);
    CHECK(st.spill_peak > 0);                  /* the spilled batches went through the disk */
    CHECK_EQ_I64(st.rows_inserted, 0);
    CHECK_EQ_I64(st.state, CHW_DOWN);

    chx_resume(&s);
    CHECK(ch_run_until(loop, ch_writer_is_up, w, 15));
    ch_feed_start(&feed, loop, w, N1, N2, 100, 1); /* a pace 2 inserts in flight keep up with */
    CHECK(ch_run_until(loop, ch_feed_settled, &feed, 30));
    ch_feed_stop(&feed, loop);
    chw_get_stats(w, &st);
    CHECK(st.rows_inserted >= N2);
    CHECK_EQ_I64(st.rows_in, st.rows_inserted + st.rows_fallback);
    CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);

    chrr_result rr;
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_APPLY, NULL, 10000, &rr), 0);
    CHECK_EQ_I64(rr.rejected, 0);
    chg_digest ch = {0};
    CHECK_EQ_I64(chg_from_server(&s, "stall", CHS_TICKS, 1, &ch), 0);
    CHECK_EQ_I64(chg_from_server(&s, "stall", CHS_BIDASKS, 1, &ch), 0);
    CHECK_EQ_I64(chg_total(&ch), N1 + N2);
    CHECK(chg_equal(&feed.taken, &ch, "after stall"));

    chx_stop(&s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
