/* bench_archive.c — raw archive throughput, lz4 vs none.
 *
 * Usage: bench_archive [DIR=.] [MILLIONS=4] [CODECS=lz4,none]
 * Appends MILLIONS x 10^6 realistic Shioaji-like JSON payloads (~250 bytes,
 * tick_stk and bidask_stk, prices/volumes/times varying; a pool of 65536
 * distinct payloads, far more than lz4's 64 KiB window, cycled) from this
 * thread — the "loop" — through arc_append with the default options
 * (block 256 KiB, queue 64, fsync_ms 100), then arc_flush. Reports per
 * codec: records/s and MB/s of raw input over the wall time including the
 * final flush + fsync, MB/s written to disk, the compression ratio, the time
 * the loop spent inside arc_append (vs wall), stalls (SHJ_AGAIN), peak RSS.
 * MB = 10^6 bytes, as dd prints. Files are removed afterwards (KEEP=1 keeps).
 * The last line per codec is machine-readable ("RESULT ...") for
 * bench/archive_vs_dd.sh.
 */
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "parse/parse.h"
#include "core/shj_common.h"

#define POOL 65536

static char *pool_data;
static uint32_t pool_off[POOL], pool_len[POOL];
static uint8_t pool_tag[POOL];

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void build_pool(void) {
    static const char *const codes[] = {"2330", "2317", "0050", "2454", "2412", "2882", "2303",
                                        "1301", "2002", "3008", "2891", "5880", "6505", "2308"};
    pool_data = malloc((size_t)POOL * 512);
    size_t off = 0;
    int64_t us = 0;
    for (int i = 0; i < POOL; i++) {
        char *p = pool_data + off;
        const char *code = codes[rnd() % 14];
        unsigned px = 500 + (unsigned)(rnd() % 500);
        us += 1 + (int64_t)(rnd() % 900);
        int hh = 9 + (int)(us / 3600000000LL) % 4, mm = (int)(us / 60000000) % 60,
            ss = (int)(us / 1000000) % 60, fr = (int)(us % 1000000);
        int n;
        if (rnd() % 2) {
            pool_tag[i] = PSR_TAG_TICK_STK;
            n = snprintf(p, 512,
                         "{\"code\":\"%s\",\"date\":\"2026-11-25\",\"time\":\"%02d:%02d:%02d.%06d\","
                         "\"open\":\"%u\",\"close\":\"%u.%u\",\"high\":\"%u\",\"low\":\"%u\","
                         "\"amount\":\"%u\",\"volume\":%u,\"vol_sum\":%u,\"tick_type\":%u,"
                         "\"diff_price\":\"%u\",\"avg_price\":\"%u.%02u\",\"chg_type\":%u,"
                         "\"simtrade\":false}",
                         code, hh, mm, ss, fr, px, px + 3, (unsigned)(rnd() % 10), px + 10, px - 8,
                         px * (unsigned)(1 + rnd() % 50), (unsigned)(1 + rnd() % 50),
                         (unsigned)(rnd() % 90000), (unsigned)(1 + rnd() % 2),
                         (unsigned)(rnd() % 20), px, (unsigned)(rnd() % 100),
                         (unsigned)(1 + rnd() % 5));
        } else {
            pool_tag[i] = PSR_TAG_BIDASK_STK;
            n = snprintf(p, 512,
                         "{\"code\":\"%s\",\"date\":\"2026-11-25\",\"time\":\"%02d:%02d:%02d.%06d\","
                         "\"bid_price\":[\"%u\",\"%u\",\"%u\",\"%u\",\"%u\"],"
                         "\"bid_volume\":[%u,%u,%u,%u,%u],"
                         "\"ask_price\":[\"%u\",\"%u\",\"%u\",\"%u\",\"%u\"],"
                         "\"ask_volume\":[%u,%u,%u,%u,%u],\"simtrade\":false,\"suspend\":false}",
                         code, hh, mm, ss, fr, px, px - 1, px - 2, px - 3, px - 4,
                         (unsigned)(rnd() % 300), (unsigned)(rnd() % 300), (unsigned)(rnd() % 300),
                         (unsigned)(rnd() % 300), (unsigned)(rnd() % 300), px + 1, px + 2, px + 3,
                         px + 4, px + 5, (unsigned)(rnd() % 300), (unsigned)(rnd() % 300),
                         (unsigned)(rnd() % 300), (unsigned)(rnd() % 300), (unsigned)(rnd() % 300));
        }
        pool_off[i] = (uint32_t)off;
        pool_len[i] = (uint32_t)n;
        off += (size_t)n;
    }
}

static double cpu_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    SHJ_UNUSED(st), SHJ_UNUSED(flag), SHJ_UNUSED(f);
    return remove(p);
}

static int run(const char *dir, const char *codec, uint64_t n) {
    char err[1024], sub[4096];
    snprintf(sub, sizeof sub, "%s/bench_archive_%s_%d", dir, codec, (int)getpid());
    arc_opts o = {.dir = sub, .source = "bench", .fsync_ms = 100,
                  .compress = strcmp(codec, "lz4") == 0 ? ARC_COMPRESS_LZ4 : ARC_COMPRESS_NONE};
    arc_writer *w = arc_open(&o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t recv0 = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 0, 0);
    /* Process CPU minus this thread's CPU = the writer thread's CPU: a
     * figure that does not depend on how busy the shared machine is. */
    double proc0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), loop0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    int64_t t_start = clk_mono_ns(), in_append = 0, seg = t_start;
    uint64_t waits = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)(i & (POOL - 1));
        int rc = arc_append(w, pool_tag[k], pool_data + pool_off[k], pool_len[k],
                            recv0 + (int64_t)i * 500, i + 1);
        if (rc == SHJ_AGAIN) {
            /* The loop would pause the source here; time spent waiting is not append time. */
            int64_t now = clk_mono_ns();
            in_append += now - seg;
            while (!arc_ready(w, pool_len[k])) {
                usleep(50);
                waits++;
            }
            seg = clk_mono_ns();
            i--;
            continue;
        }
        if (rc != SHJ_OK) {
            fprintf(stderr, "append: %s\n", arc_error(w));
            return 1;
        }
        if ((i & 1023) == 1023) {
            int64_t now = clk_mono_ns();
            in_append += now - seg;   /* includes the poll: it is loop-thread archive work */
            arc_poll(w, now);
            seg = clk_mono_ns();
        }
    }
    int64_t t_appended = clk_mono_ns();
    in_append += t_appended - seg;
    if (arc_flush(w, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int64_t t_end = clk_mono_ns();
    arc_stats st;
    arc_get_stats(w, &st);
    double loop_cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID) - loop0;
    double writer_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - proc0 - loop_cpu;
    if (arc_close(w, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double wall = (double)(t_end - t_start) / 1e9;
    double rps = (double)n / wall;
    double raw_mbs = (double)st.bytes_raw / 1e6 / wall;
    double wr_mbs = (double)st.bytes_written / 1e6 / wall;
    double ratio = (double)st.bytes_raw / (double)st.bytes_written;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-4s: %" PRIu64 " records (avg %.0f B framed) in %.2f s wall (flush+fsync %.0f ms)\n",
           codec, n, (double)st.bytes_raw / (double)n, wall, (double)(t_end - t_appended) / 1e6);
    printf("      %.2f M records/s, raw input %.0f MB/s, written %.0f MB/s, ratio %.2fx, "
           "%" PRIu64 " blocks\n",
           rps / 1e6, raw_mbs, wr_mbs, ratio, st.blocks);
    printf("      loop thread in arc_append+poll: %.2f s of %.2f s wall (%.0f%%), %.1f ns/record; "
           "stalls %" PRIu64 " (%" PRIu64 " x 50 us waits); peak RSS %ld MiB\n",
           (double)in_append / 1e9, wall, 100.0 * (double)in_append / (double)(t_end - t_start),
           (double)in_append / (double)n, st.stalls, waits, ru.ru_maxrss / 1024);
    printf("      writer thread CPU %.2f s = %.0f MB/s of raw input per writer core; "
           "loop thread CPU %.2f s\n",
           writer_cpu, (double)st.bytes_raw / 1e6 / writer_cpu, loop_cpu);
    printf("RESULT codec=%s records=%" PRIu64 " rec_per_s=%.0f raw_MBps=%.1f written_MBps=%.1f "
           "ratio=%.3f append_ns=%.1f append_share=%.3f stalls=%" PRIu64 " writer_core_MBps=%.1f\n",
           codec, n, rps, raw_mbs, wr_mbs, ratio, (double)in_append / (double)n,
           (double)in_append / (double)(t_end - t_start), st.stalls,
           (double)st.bytes_raw / 1e6 / writer_cpu);
    const char *keep = getenv("KEEP");
    if (!keep || strcmp(keep, "1") != 0) nftw(sub, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    double millions = argc > 2 ? atof(argv[2]) : 4;
    const char *codecs = argc > 3 ? argv[3] : "lz4,none";
    uint64_t n = (uint64_t)(millions * 1e6);
    if (n == 0) {
        fprintf(stderr, "usage: %s [DIR] [MILLIONS] [lz4,none]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    build_pool();
    printf("bench_archive: %s, %.1f M records per codec, pool of %d distinct payloads\n", dir,
           millions, POOL);
    int rc = 0;
    char list[64];
    shj_strlcpy(list, codecs, sizeof list);
    for (char *save = NULL, *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
        rc |= run(dir, c, n);
    free(pool_data);
    return rc;
}
