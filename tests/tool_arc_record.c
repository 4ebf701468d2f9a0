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

#include "archive.h"
#include "clock.h"
#include "shj_common.h"

static uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Same generator as in test_archive_crash.c: 50..600 bytes, JSON-like. */
static uint32_t arc_crash_payload(uint64_t seq, char *buf, uint8_t *tag) {
    uint64_t h = mix64(seq);
    uint32_t len = 50 + (uint32_t)(h % 551);
    *tag = (uint8_t)(1 + (h >> 20) % 7);
    uint32_t n = (uint32_t)snprintf(buf, len + 1, "{\"code\":\"%04u\",\"seq\":%" PRIu64 ",",
                                    (unsigned)(1000 + h % 9000), seq);
    uint64_t s = h | 1;
    while (n < len) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        char field[48];
        int k = snprintf(field, sizeof field, "\"p%u\":\"%u.%u\",", (unsigned)(s % 9),
                         (unsigned)(s >> 8) % 2000, (unsigned)(s >> 24) % 100);
        uint32_t take = (uint32_t)k < len - n ? (uint32_t)k : len - n;
        memcpy(buf + n, field, take);
        n += take;
    }
    return len;
}

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
        uint32_t len = arc_crash_payload(seq, buf, &tag);
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
