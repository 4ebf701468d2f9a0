/* tool_arc_record.c — a recording process for the kill -9 test.
 *
 * Usage: tool_arc_record DIR [MAX_SECONDS]
 * Appends records seq 1, 2, 3 ... (payload and receive time derived from seq,
 * see arc_crash_payload below; test_archive_crash.c regenerates them) to the
 * raw archive DIR/crash/ as fast as it can with fsync_ms = 20, and prints
 *   file <path>          once, when the day file is known
 *   durable <seq>        whenever arc_stats.durable_seq moves
 * on stdout, flushed at once, so that a parent that SIGKILLs it knows what
 * the archive promised was on disk. Exits 0 after MAX_SECONDS (default 30)
 * if nobody kills it first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "core/clock.h"
#include "core/shj_common.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [MAX_SECONDS]\n", argv[0]);
        return 2;
    }
    double max_s = argc > 2 ? atof(argv[2]) : 30;
    char err[1024], buf[700];
    arc_opts o = {.dir = argv[1], .source = "crash", .fsync_ms = 20, .compress = ARC_COMPRESS_LZ4};
    arc_writer *w = arc_open(&o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t t0 = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 0, 0);
    int64_t end = clk_mono_ns() + (int64_t)(max_s * 1e9);
    uint64_t seq = 1, reported = 0;
    for (;;) {
        uint8_t tag;
        uint32_t len = arc_test_payload(seq, buf, &tag);
        int rc = arc_append(w, tag, buf, len, t0 + (int64_t)seq * 1000, seq);
        if (rc == SHJ_ERR) {
            fprintf(stderr, "append: %s\n", arc_error(w));
            return 1;
        }
        if (rc == SHJ_OK) {
            if (seq == 1) {
                printf("file %s\n", arc_current_path(w));
                fflush(stdout);
            }
            seq++;
        }
        if (rc == SHJ_AGAIN || (seq & 255) == 0) {
            int64_t now = clk_mono_ns();
            arc_poll(w, now);
            arc_stats st;
            arc_get_stats(w, &st);
            if (st.durable_seq != reported) {
                reported = st.durable_seq;
                printf("durable %" PRIu64 "\n", reported);
                fflush(stdout);
            }
            if (now > end) break;
            if (rc == SHJ_AGAIN) usleep(100);
        }
    }
    if (arc_close(w, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return 0;
}
