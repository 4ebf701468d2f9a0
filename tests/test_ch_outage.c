/* test_ch_outage.c — the acceptance story of issue 4 in C:
 * record; SIGKILL the server mid-run (by PID); keep recording (fallback files
 * appear, nothing is lost); restart it: the writer resumes by itself; restore
 * the fallback: ClickHouse holds exactly the events recorded (0 lost, 0
 * duplicated under FINAL, per-day digest equal). Restore again, and restore
 * a copy of the archived files: still 0 duplicates; the archive holds each
 * file once. */
#include <stdlib.h>
#include <string.h>

#include "ch_feed.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

/* fed, and ClickHouse acknowledged at least one batch: the kill comes while
 * later batches may still be in flight */
static int fed_some_acked(void *ctx) {
    ch_feeder *f = ctx;
    chw_stats st;
    chw_get_stats(f->w, &st);
    return ch_feed_done(f) && st.rows_inserted > 0;
}

static int dups(const chx_server *s, const char *table) {
    return (int)chx_scalar(s, "SELECT count() FROM (SELECT code, ts, source, seq, count() AS c FROM out.%s FINAL GROUP BY code, ts, source, seq HAVING c > 1)", table);
}

static long long final_rows(const chx_server *s) {
    return chx_scalar(s, "SELECT count() FROM out.ticks FINAL") + chx_scalar(s, "SELECT count() FROM out.bidasks FINAL");
}

int main(void) {
    struct ev_loop *loop = ev_default_loop(0);
    chx_server s;
    char err[600], dsn[200], tmp[] = "/tmp/shj-cho.XXXXXX";
    if (chx_start(&s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    char fb[300], arc[300];
    snprintf(fb, sizeof fb, "%s/fallback", tmp);
    snprintf(arc, sizeof arc, "%s/archive", tmp);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/out", s.http_port);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = 3000;
    o.batch_ms = 50;
    o.probe_min_ms = 50;
    o.probe_max_ms = 300;
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) T_DONE();
    static ch_feeder feed;
    const uint64_t N1 = 60000, N2 = 40000, N3 = 60000, N = N1 + N2 + N3;

    /* phase 1: recording normally */
    ch_feed_start(&feed, loop, w, 0, N1, 3000, 2);
    CHECK(ch_run_until(loop, fed_some_acked, &feed, 30));
    chw_stats st;
    chw_get_stats(w, &st);
    uint64_t before_kill = st.rows_inserted;
    CHECK(before_kill > 0);

    /* phase 2: SIGKILL mid-run, keep recording for a while */
    chx_kill9(&s);
    ch_feed_start(&feed, loop, w, N1, N2, 100, 2); /* ~100 events/ms for ~0.4 s */
    CHECK(ch_run_until(loop, ch_feed_settled, &feed, 30));
    chw_get_stats(w, &st);
    CHECK_EQ_I64(st.state, CHW_DOWN);
    CHECK(st.rows_fallback > 0);
    CHECK(st.probes >= 2);
    CHECK(chrr_count_files(fb) >= 2); /* ticks and bidasks */
    CHECK_EQ_I64(feed.refused_ticks, 0); /* the outage never pushed back on the bus */

    /* phase 3: restart; the writer resumes by itself */
    CHECK_EQ_I64(chx_restart(&s, err, sizeof err), 0);
    CHECK(ch_run_until(loop, ch_writer_is_up, w, 15));
    chw_get_stats(w, &st);
    uint64_t at_restart = st.rows_inserted;
    ch_feed_start(&feed, loop, w, N1 + N2, N3, 3000, 2);
    CHECK(ch_run_until(loop, ch_feed_settled, &feed, 30));
    ch_feed_stop(&feed, loop);
    chw_get_stats(w, &st);
    CHECK(st.rows_inserted >= at_restart + N3 - 3000); /* the last phase went to ClickHouse */
    CHECK_EQ_I64(st.rows_in, N);
    CHECK_EQ_I64(st.rows_in, st.rows_inserted + st.rows_fallback);
    CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(chg_total(&feed.taken), N);
    long long in_ch = final_rows(&s);
    CHECK(in_ch < (long long)N); /* some events are only in the fallback so far */
    fprintf(stderr, "before restore: %lld in ClickHouse, %llu in fallback files\n", in_ch,
            (unsigned long long)st.rows_fallback);

    /* dry run: exact counts, nothing written */
    chrr_result rr;
    int files = chrr_count_files(fb);
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_DRY_RUN, NULL, 5000, &rr), 0);
    CHECK_EQ_I64(rr.rows, st.rows_fallback);
    CHECK_EQ_I64(final_rows(&s), in_ch);

    /* restore with archive: exactly the recorded events */
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_APPLY, arc, 5000, &rr), 0);
    if (rr.err[0]) fprintf(stderr, "restore: %s\n", rr.err);
    CHECK_EQ_I64(rr.inserted, st.rows_fallback);
    CHECK_EQ_I64(rr.archived, files);
    CHECK_EQ_I64(chrr_count_files(fb), 0);
    CHECK_EQ_I64(chrr_count_files(arc), files);
    CHECK_EQ_I64(final_rows(&s), (long long)N);
    CHECK_EQ_I64(dups(&s, "ticks"), 0);
    CHECK_EQ_I64(dups(&s, "bidasks"), 0);
    chg_digest ch = {0};
    CHECK_EQ_I64(chg_from_server(&s, "out", CHS_TICKS, 1, &ch), 0);
    CHECK_EQ_I64(chg_from_server(&s, "out", CHS_BIDASKS, 1, &ch), 0);
    CHECK(chg_equal(&feed.taken, &ch, "after restore"));

    /* restore again: nothing left to do, archive unchanged */
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_APPLY, arc, 5000, &rr), 0);
    CHECK_EQ_I64(rr.files, 0);
    CHECK_EQ_I64(chrr_count_files(arc), files);

    /* replay the archived files once more (as if restored twice): inserted
     * again, collapsed by the key — still N under FINAL, 0 duplicates */
    char again[300], cmd[800];
    snprintf(again, sizeof again, "%s/again", tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", arc, again);
    CHECK_EQ_I64(system(cmd), 0);
    CHECK_EQ_I64(chrr_run(again, dsn, CHR_APPLY, NULL, 5000, &rr), 0);
    CHECK_EQ_I64(rr.inserted, st.rows_fallback);
    CHECK_EQ_I64(final_rows(&s), (long long)N);
    CHECK_EQ_I64(dups(&s, "ticks"), 0);
    CHECK_EQ_I64(dups(&s, "bidasks"), 0);
    /* and after the server merges, the duplicates are physically gone too */
    /* (OPTIMIZE may do nothing while a background merge runs: try again) */
    chx_body b = {0};
    long long physical = -1;
    for (int i = 0; i < 50 && physical != (long long)N; i++) {
        if (i) chx_sleep_ms(100);
        chx_post(&s, "OPTIMIZE TABLE out.ticks FINAL", NULL, 0, &b);
        chx_post(&s, "OPTIMIZE TABLE out.bidasks FINAL", NULL, 0, &b);
        physical = chx_scalar(&s, "SELECT count() FROM out.ticks") + chx_scalar(&s, "SELECT count() FROM out.bidasks");
    }
    free(b.p);
    CHECK_EQ_I64(physical, (long long)N);

    chx_stop(&s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
