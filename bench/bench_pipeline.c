/* bench_pipeline.c — the end-to-end number of issue 2:
 * simulated source -> raw archive -> parse/normalize -> bus, on one loop thread
 * (the archive's writer thread compresses and writes on the other core).
 * And the live Shioaji ingest path on two payload mixes side by side (issue
 * 10): SSE bytes in 16 KiB chunks -> SSE framing -> src_deliver -> raw
 * archive (lz4) -> parse -> bus, once with the simulator's payloads and once
 * with Sinopac's published samples (bench_sinopac.h), their dates restamped
 * to one trading day as one session's stream (see one_session).
 *
 * Baselines measured in the same run: the generator alone, and generator +
 * parser without bus or archive, so the table shows where the time goes.
 * Usage: bench_pipeline [events=5000000] [dir=/tmp/shj-bench-pipeline]
 */
#include <ev.h>
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
#include "parse/sse.h"

#include "bench_sinopac.h"

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

/* The ingest path as the live Shioaji source drives it --------------------------- */

static int manual_start(src_source *s, char *err, size_t errlen) {
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    s->state = SRC_RUNNING;
    return SHJ_OK;
}
static void manual_stop(src_source *s) { s->state = SRC_STOPPED; }
static const src_ops manual_ops = {.type = "bench", .start = manual_start, .stop = manual_stop};

typedef struct {
    src_source *src;
    uint64_t refused; /* back-pressure: the bus or the archive had no room; offered again */
} sse_ctx;

/* As the live source does: a payload without room pauses the framing and is
 * offered again (sse_resume) once the loop has drained. */
static int on_sse(void *ctx, const sse_event *ev) {
    sse_ctx *c = ctx;
    int tag = psr_tag_from_name(ev->name, ev->name_len);
    if (src_deliver(c->src, tag, ev->data, ev->data_len, clk_now_ns()) == SHJ_OK) return 0;
    c->refused++;
    return 1;
}

/* The mix as the server frames it: "event: NAME\ndata: JSON\n\n". */
static char *frame_sse(const corpus *c, size_t *len) {
    size_t cap = c->bytes + c->n * 48 + 1, o = 0;
    char *out = malloc(cap);
    for (size_t i = 0; i < c->n; i++)
        o += (size_t)snprintf(out + o, cap - o, "event: %s\ndata: %.*s\n\n", psr_tag_name(c->tag[i]),
                              (int)c->len[i], c->buf + c->off[i]);
    *len = o;
    return out;
}

/* payloads/s and events/s of SSE bytes -> framing -> src_deliver -> archive -> parse -> bus. */
static void bench_ingest(const corpus *c, const char *dir, double *payloads_s, double *events_s, double *mb_s) {
    char err[512];
    size_t len;
    char *stream = frame_sse(c, &len);
    rt_init(0);
    static src_source s;
    src_init(&s, &manual_ops, "ingest");
    if (rt_add_source(&s, err, sizeof err) != SHJ_OK || shj_route_raw(&s, dir, 100, 0, 1, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    uint64_t sum = 0;
    bus_subscribe(rt_bus(), "bench", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sink_cb, &sum);
    sse_ctx ctx = {&s, 0};
    sse_parser p;
    sse_init(&p, on_sse, &ctx);
    int64_t t0 = clk_mono_ns();
    for (size_t o = 0; o < len; o += 16384) {
        sse_feed(&p, stream + o, len - o < 16384 ? len - o : 16384);
        bus_dispatch(rt_bus());
        while (sse_paused(&p)) {
            ev_run(rt_loop(), EVRUN_NOWAIT);
            bus_dispatch(rt_bus());
            sse_resume(&p);
        }
    }
    double el = (double)(clk_mono_ns() - t0) / 1e9;
    *payloads_s = (double)s.counters.payloads / el;
    *events_s = (double)s.counters.events / el;
    *mb_s = (double)len / el / 1e6;
    if (s.counters.payloads != c->n)
        fprintf(stderr, "bench: %llu of %zu payloads delivered\n", (unsigned long long)s.counters.payloads, c->n);
    else if (ctx.refused)
        fprintf(stderr, "bench: back-pressure paused the stream %llu times (all delivered)\n",
                (unsigned long long)ctx.refused);
    sse_free(&p);
    rt_shutdown();
    free(stream);
}

/* The simulator's payloads as a corpus (the same 7 instruments). */
static void sim_corpus(corpus *c, size_t n) {
    sim_market *m = make_market();
    size_t cap = n * 400;
    c->buf = malloc(cap);
    c->off = malloc(n * sizeof *c->off);
    c->len = malloc(n * sizeof *c->len);
    c->tag = malloc(n);
    c->n = n;
    c->bytes = 0;
    char buf[4096];
    int tag;
    int64_t exch;
    for (size_t i = 0; i < n; i++) {
        size_t l = sim_next(m, &tag, buf, sizeof buf, &exch);
        if (c->bytes + l > cap) {
            cap *= 2;
            c->buf = realloc(c->buf, cap);
        }
        memcpy(c->buf + c->bytes, buf, l);
        c->off[i] = c->bytes;
        c->len[i] = (uint32_t)l;
        c->tag[i] = (uint8_t)tag;
        c->bytes += l;
    }
    sim_free(m);
}

static void free_corpus(corpus *c) {
    free(c->buf);
    free(c->off);
    free(c->len);
    free(c->tag);
}

/* Sinopac's samples come from three days (2026-04-01, 05-20, 05-21) and
 * both sessions; cycled, nearly every payload would belong to another
 * trading day than the one before, and the raw archive (one file per trading
 * day, by exchange time) would seal a block per payload, which no real feed
 * does. Restamp every "date" so that all belong to trading day 2026-05-21 as
 * one session's stream would: day-session times get 2026-05-21, night-session
 * times (>= 15:00) the evening before. Same length: the bytes stay the mix. */
static char *find_key(char *p, char *end, const char *lower, const char *upper) {
    char *k = memmem(p, (size_t)(end - p), lower, strlen(lower));
    return k ? k : memmem(p, (size_t)(end - p), upper, strlen(upper)); /* quote_idx: "Date", "Time" */
}

static void one_session(corpus *c) {
    for (size_t i = 0; i < c->n; i++) {
        char *p = c->buf + c->off[i], *end = p + c->len[i];
        char *d = find_key(p, end, "\"date\":\"", "\"Date\":\"");
        char *t = find_key(p, end, "\"time\":\"", "\"Time\":\"");
        if (!d || !t || d + 8 + 10 > end || t + 8 + 2 > end) continue;
        d += 8; /* past "date":" */
        t += 8;
        int night = (t[0] - '0') * 10 + (t[1] - '0') >= 15;
        memcpy(d, night ? "2026-05-20" : "2026-05-21", 10);
    }
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
    /* The ingest path on both mixes (at most 1 M payloads each: the stream is held in memory). */
    size_t n_ingest = n < 1000000 ? (size_t)n : 1000000;
    corpus simc, sinopac;
    double sim_p = 0, sim_e = 0, sim_mb = 0, sp_p = 0, sp_e = 0, sp_mb = 0;
    sim_corpus(&simc, n_ingest);
    bench_ingest(&simc, dir, &sim_p, &sim_e, &sim_mb);
    if (system(cmd) != 0) return 1;
    int have_sinopac = load_sinopac(&sinopac, n_ingest) == 0;
    if (have_sinopac) {
        one_session(&sinopac);
        bench_ingest(&sinopac, dir, &sp_p, &sp_e, &sp_mb);
        if (system(cmd) != 0) return 1;
    }
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
    printf("\nShioaji ingest path: SSE bytes (16 KiB chunks) -> framing -> src_deliver -> raw archive (lz4) -> parse -> bus, %zu payloads per mix\n",
           n_ingest);
    printf("%-40s %14s %14s %9s %9s\n", "mix", "payloads/s", "events/s", "MB/s", "vs sim");
    printf("%-40s %14.0f %14.0f %9.1f %8.2fx\n", "simulator's payloads (baseline)", sim_p, sim_e, sim_mb, 1.0);
    if (have_sinopac)
        printf("%-40s %14.0f %14.0f %9.1f %8.2fx\n", "Sinopac's published samples", sp_p, sp_e, sp_mb, sp_p / sim_p);
    else
        printf("Sinopac's samples not found (set SHJ_SOURCE_DIR to the source tree)\n");
    printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    free_corpus(&simc);
    if (have_sinopac) free_corpus(&sinopac);
    return 0;
}
