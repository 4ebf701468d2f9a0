/* bench_sim.c — how fast the simulated market writes payloads.
 *
 * sim_next is the first stage of the end-to-end pipeline (target >= 2M
 * events/s on one core for sim -> parse -> bus -> archive), so the generator
 * alone should stay well above that. Reports payloads/s, MB/s and the mix of
 * kinds for a typical subscription (2330, 2317, 0050, TXFR1, MXFR1, tick +
 * bidask) and for a wide one (200 stocks + 2 futures).
 *
 * Rates use this process's CPU time (the machine is shared, wall time is
 * noisy); the best of three rounds per scenario is reported.
 *
 * Usage: bench_sim [payloads]   (default 10,000,000 per round)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "parse/parse.h"
#include "core/shj_event.h"
#include "sim/sim.h"

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int run(const char *name, const char *const *codes, size_t ncodes, long n) {
    sim_market *m = sim_new(42, "2026-11-25", 2000);
    if (!m) return 1;
    char resolved[16], err[160];
    uint32_t mask = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    for (size_t i = 0; i < ncodes; i++) {
        if (sim_add(m, codes[i], 0, 0, mask, 0, resolved, err, sizeof err) != 0) {
            fprintf(stderr, "bench_sim: %s\n", err);
            sim_free(m);
            return 1;
        }
    }
    static char buf[1024];
    uint64_t bytes = 0, per_tag[PSR_TAG_MAX] = {0}, sink = 0;
    int tag = 0;
    int64_t exch = 0;
    int64_t dt = INT64_MAX;
    for (int round = 0; round < 3; round++) {
        bytes = 0;
        memset(per_tag, 0, sizeof per_tag);
        int64_t t0 = cpu_ns();
        for (long i = 0; i < n; i++) {
            size_t len = sim_next(m, &tag, buf, sizeof buf, &exch);
            bytes += len;
            per_tag[tag]++;
            sink += (unsigned char)buf[len - 2]; /* keep the writes observable */
        }
        int64_t d = cpu_ns() - t0;
        if (d < dt) dt = d;
    }
    double s = (double)dt / 1e9;
    char when[31];
    clk_utc_iso(exch, when);
    printf("%-10s %6.2f M payloads/s  %7.1f MB/s  avg %5.1f B  (%ld payloads in %.2f s CPU; "
           "tick_stk %.1f%% bidask_stk %.1f%% tick_fop %.1f%% bidask_fop %.1f%%; last %s; %llu)\n",
           name, (double)n / s / 1e6, (double)bytes / s / 1e6, (double)bytes / (double)n, n, s,
           100.0 * (double)per_tag[PSR_TAG_TICK_STK] / (double)n,
           100.0 * (double)per_tag[PSR_TAG_BIDASK_STK] / (double)n,
           100.0 * (double)per_tag[PSR_TAG_TICK_FOP] / (double)n,
           100.0 * (double)per_tag[PSR_TAG_BIDASK_FOP] / (double)n, when,
           (unsigned long long)(sink & 1));
    sim_free(m);
    return 0;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000000L;
    if (n <= 0) n = 10000000L;
    static const char *const typical[] = {"2330", "2317", "0050", "TXFR1", "MXFR1"};
    if (run("typical", typical, 5, n)) return 1;

    static char codes[200][8];
    static const char *wide[202];
    for (int i = 0; i < 200; i++) {
        snprintf(codes[i], sizeof codes[i], "%d", 1101 + i * 37);
        wide[i] = codes[i];
    }
    wide[200] = "TXFR1";
    wide[201] = "MXFR1";
    return run("wide-202", wide, 202, n);
}
