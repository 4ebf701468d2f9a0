/* bench_pipeline.c — the end-to-end number of issue 2:
 * simulated source -> raw archive -> parse/normalize -> bus, on one loop thread
 * (the archive's writer thread compresses and writes on the other core).
 *
 * Baselines measured in the same run: the generator alone, and generator +
 * parser without bus or archive, so the table shows where the time goes.
 * Usage: bench_pipeline [events=5000000] [dir=/tmp/shj-bench-pipeline]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "loop/bus.h"
#include "core/clock.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "core/shj_common.h"
#include "sim/sim.h"
#include "loop/source.h"

static const char *codes[][3] = {{"2330", "STK", "TSE"},    {"2317", "STK", "TSE"},
                                 {"0050", "STK", "TSE"},    {"2454", "STK", "TSE"},
                                 {"2603", "STK", "TSE"},    {"TXFR1", "FUT", "TAIFEX"},
                                 {"MXFR1", "FUT", "TAIFEX"}};
#define N_CODES (sizeof codes / sizeof codes[0])

static sim_market *make_market(void) {
    sim_market *m = sim_new(42, "2026-11-25", 0);
    char resolved[16], err[256];
    for (size_t i = 0; i < N_CODES; i++)
        sim_add(m, codes[i][0], 0, 0, (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK), 0, resolved,
                err, sizeof err);
    return m;
}

static double bench_generator(uint64_t n, uint64_t *bytes) {
    sim_market *m = make_market();
    char buf[4096];
    int tag;
    int64_t exch;
    *bytes = 0;
    int64_t t0 = clk_mono_ns();
    for (uint64_t i = 0; i < n; i++) *bytes += sim_next(m, &tag, buf, sizeof buf, &exch);
    double s = (double)(clk_mono_ns() - t0) / 1e9;
    sim_free(m);
    return (double)n / s;
}

static double bench_generator_parse(uint64_t n) {
    sim_market *m = make_market();
    char buf[4096], err[256];
    int tag;
    int64_t exch;
    shj_event ev;
    uint64_t bad = 0;
    int64_t t0 = clk_mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        size_t len = sim_next(m, &tag, buf, sizeof buf, &exch);
        if (psr_parse(tag, buf, len, &ev, err, sizeof err) != PSR_EVENT) bad++;
    }
    double s = (double)(clk_mono_ns() - t0) / 1e9;
    if (bad) fprintf(stderr, "bench: %llu payloads failed to parse\n", (unsigned long long)bad);
    sim_free(m);
    return (double)n / s;
}

static size_t sink_cb(void *ctx, const shj_event *evs, size_t n) {
    uint64_t *sum = ctx;
    for (size_t i = 0; i < n; i++) *sum += (uint64_t)evs[i].volume;
    return n;
}

static double bench_pipeline(uint64_t n, const char *dir, int compress, int with_archive) {
    char err[512];
    rt_init(0);
    src_source *s = simsrc_new("sim", 42, "2026-11-25", 0, err, sizeof err);
    for (size_t i = 0; i < N_CODES; i++)
        shj_src_subscribe(s, codes[i][0], codes[i][1], codes[i][2], "tick,bidask", 0, NULL, err,
                          sizeof err);
    rt_add_source(s, err, sizeof err);
    if (with_archive && shj_route_raw(s, dir, 100, 0, compress, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    uint64_t sum = 0;
    bus_subscribe(rt_bus(), "bench", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sink_cb, &sum);
    rt_set_status_interval(0);
    rt_set_limits(0, n);
    int64_t t0 = clk_mono_ns();
    if (rt_run(err, sizeof err) != SHJ_OK) fprintf(stderr, "bench: %s\n", err);
    double s_el = (double)(clk_mono_ns() - t0) / 1e9;
    uint64_t got = rt_events_published();
    rt_shutdown();
    return (double)got / s_el;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: bench_pipeline [events=5000000] [dir=/tmp/shj-bench-pipeline]\n");
        return 0;
    }
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    if (n == 0) {
        fprintf(stderr, "bench_pipeline: events must be a positive number\n");
        return 2;
    }
    const char *dir = argc > 2 ? argv[2] : "/tmp/shj-bench-pipeline";
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    shj_log_set_level(SHJ_LOG_WARN);

    uint64_t bytes;
    double gen = bench_generator(n, &bytes);
    double gen_parse = bench_generator_parse(n);
    double no_arc = bench_pipeline(n, dir, 1, 0);
    double lz4 = bench_pipeline(n, dir, 1, 1);
    if (system(cmd) != 0) return 1;
    double raw = bench_pipeline(n, dir, 0, 1);
    if (system(cmd) != 0) return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("pipeline benchmark: %llu events, 7 instruments (5 stocks, TXF, MXF), tick+bidask, avg payload %.0f B\n",
           (unsigned long long)n, (double)bytes / (double)n);
    printf("%-52s %14s %10s\n", "stage", "events/s", "vs gen");
    printf("%-52s %14.0f %9.2fx\n", "simulated generator alone (baseline)", gen, 1.0);
    printf("%-52s %14.0f %9.2fx\n", "generator + parse", gen_parse, gen_parse / gen);
    printf("%-52s %14.0f %9.2fx\n", "source -> parse -> bus -> subscriber (no archive)", no_arc, no_arc / gen);
    printf("%-52s %14.0f %9.2fx\n", "source -> raw archive (lz4) -> parse -> bus", lz4, lz4 / gen);
    printf("%-52s %14.0f %9.2fx\n", "source -> raw archive (uncompressed) -> parse -> bus", raw, raw / gen);
    printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    return 0;
}
