/* test_ch_enospc.c — the fallback disk fills up while ClickHouse is down.
 * Rows the fallback could not take stay in memory (nothing accepted is
 * lost), the error names the file and "No space left on device", no torn
 * line is left in any file, and once max_mem_bytes is held the writer stops
 * taking events (the only case it pushes back on the bus). When space comes
 * back, everything held is written and the writer takes events again.
 * Run twice: on a real, tiny tmpfs (when this process may mount one) and
 * with the fallback's simulated ENOSPC (chf_set_fault), which always runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "clickhouse/ch_fallback.h"
#include "ch_feed.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

static int blocked(void *ctx) {
    ch_feeder *f = ctx;
    chw_stats st;
    chw_get_stats(f->w, &st);
    /* Blocked because the disk is full, not merely because a slow (sanitizer)
     * fallback thread fell behind: wait until an append has failed too. */
    /* The last error alternates between the failed append and the probe of
     * the (absent) server: check while it names the disk. */
    /* And nothing on the fallback thread: a batch it appended but the loop
     * has not collected is on disk before rows_fallback counts it (the
     * dry-run below compares the two; the loop starts no append meanwhile). */
    return st.blocked && f->refused_ticks > 0 && st.fallback_errors > 0 &&
           strstr(chw_last_error(f->w), "No space left on device") != NULL && chw_fallback_busy(f->w) == 0;
}

static int settled(void *ctx) {
    ch_feeder *f = ctx;
    chw_stats st;
    chw_get_stats(f->w, &st);
    return ch_feed_done(f) && st.queued == 0 && st.rows_held == 0 && !st.blocked;
}

static int fill(const char *path, long long bytes) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    static char block[65536];
    long long done = 0;
    while (done < bytes) {
        ssize_t w = write(fd, block, (size_t)(bytes - done < (long long)sizeof block ? bytes - done : (long long)sizeof block));
        if (w <= 0) break;
        done += w;
    }
    close(fd);
    return 0;
}

static void scenario(struct ev_loop *loop, const char *fb, const char *dsn, int real_disk, const char *filler) {
    fprintf(stderr, "--- %s ---\n", real_disk ? "tmpfs full" : "simulated ENOSPC");
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = 2000;
    o.batch_ms = 20;
    o.max_mem_bytes = 2 << 20;
    o.probe_min_ms = 1000;
    o.probe_max_ms = 1000;
    char err[600];
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    if (!real_disk) chf_set_fault(chw_fallback(w), ENOSPC, 150000); /* some lines fit, then full */
    static ch_feeder feed;
    memset(&feed, 0, sizeof feed);
    const uint64_t N = 60000;
    ch_feed_start(&feed, loop, w, 0, N, 500, 1);
    CHECK(ch_run_until(loop, blocked, &feed, 20));
    chw_stats st;
    chw_get_stats(w, &st);
    fprintf(stderr, "blocked after %llu rows taken: %llu held in memory, %llu in the fallback; error: %s\n",
            (unsigned long long)st.rows_in, (unsigned long long)st.rows_held,
            (unsigned long long)st.rows_fallback, chw_last_error(w));
    CHECK(st.fallback_errors > 0);
    CHECK(strstr(chw_last_error(w), "No space left on device") != NULL);
    CHECK(strstr(chw_last_error(w), fb) != NULL);
    CHECK(st.rows_held > 0);
    CHECK_EQ_I64(st.rows_in, st.rows_held + st.rows_fallback); /* nothing taken is lost */
    CHECK(st.rows_in < N);                                    /* it stopped taking */
    char status[300];
    chw_status(w, status, sizeof status);
    CHECK(strstr(status, "BLOCKED") != NULL);
    /* what is on disk so far is whole lines only */
    chrr_result rr;
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_DRY_RUN, NULL, 5000, &rr), 0);
    CHECK_EQ_I64(rr.rejected, 0);
    CHECK_EQ_I64(rr.rows, st.rows_fallback);

    /* space comes back */
    if (real_disk) CHECK_EQ_I64(unlink(filler), 0);
    else chf_set_fault(chw_fallback(w), 0, 0);
    CHECK(ch_run_until(loop, settled, &feed, 30));
    ch_feed_stop(&feed, loop);
    chw_get_stats(w, &st);
    CHECK_EQ_I64(st.rows_in, N);
    CHECK_EQ_I64(st.rows_fallback, N);
    CHECK_EQ_I64(st.blocked, 0);
    CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(chrr_run(fb, dsn, CHR_DRY_RUN, NULL, 5000, &rr), 0);
    CHECK_EQ_I64(rr.rejected, 0);
    CHECK_EQ_I64(rr.rows, N);
}

int main(void) {
    struct ev_loop *loop = ev_default_loop(0);
    char tmp[] = "/tmp/shj-che.XXXXXX", fb[400], dsn[200], mnt[64], filler[400];
    CHECK(mkdtemp(tmp) != NULL);
    /* a port nobody listens on: ClickHouse is down for the whole test */
    int fds[1] = {-1};
    int port = chx_free_port(fds, 0);
    close(fds[0]);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/x", port);

    snprintf(mnt, sizeof mnt, "%s/tmpfs", tmp);
    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m") == 0) {
        snprintf(filler, sizeof filler, "%s/filler", mnt);
        fill(filler, (64LL << 20) - (256 << 10)); /* leave 256 KiB */
        snprintf(fb, sizeof fb, "%s/fallback", mnt);
        scenario(loop, fb, dsn, 1, filler);
        CHECK_EQ_I64(umount(mnt), 0);
    } else {
        fprintf(stderr, "cannot mount a tmpfs here (%s): the simulated case below covers ENOSPC\n", strerror(errno));
    }
    snprintf(fb, sizeof fb, "%s/fallback-sim", tmp);
    scenario(loop, fb, dsn, 0, NULL);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
