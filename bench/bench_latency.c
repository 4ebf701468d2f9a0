/* bench_latency.c — tick latency, socket to strategy and to disk (issue 12 part 3).
 *
 * The Shioaji stand-in (tests/tool_standin.c) sends the simulated market
 * (stocks 2330 2317 0050 2454 2603, futures TXFR1 MXFR1; ticks and books, 1
 * tick for 2 books, 2330 and TXF busiest) over HTTP+SSE on loopback at a
 * fixed pace; the runtime in this process receives it with the real Shioaji
 * source and records it into the raw archive (LZ4, fsync_ms 100, as main.lua).
 *
 * Coordinated omission: every latency is measured from the event's
 * SCHEDULED send time (--sched-log: the stand-in writes, per event it
 * publishes, when the pace said it was due), not from when it was actually
 * sent or received. An event that waited behind a slow one, on either side
 * of the socket, counts its wait.
 *
 * Stages (each event, exact quantiles from every sample, not buckets):
 *   bus      scheduled -> offered to the bus's first subscriber
 *   handler  scheduled -> a handler subscriber placed after the raw archive
 *            (where main.lua's Lua handlers sit; a C function here: the Lua
 *            call itself costs what bench/lua_handlers.lua prints)
 *   durable  scheduled -> the raw archive reported its sequence fsynced
 *            (seen by a 1 ms poll, so up to 1 ms late)
 * A second table measures the same stages from our socket read (the
 * event's ts_recv_ns), i.e. without the stand-in's own pacing (it sends
 * from a 2 ms timer, so an event leaves up to 2 ms after it was due).
 * Both are printed beside the seed's target (p99 < 5 ms) and issue 12's goals (p99 socket ->
 * handler <= 100 us at 50k/s; durable <= fsync interval + 5 ms = 105 ms).
 *
 * The first WARMUP_MS of the schedule is left out (the source is still
 * making its 7 subscriptions, paced by Sinopac's rate limit, while the pace
 * already runs); every later event counts, stalls included.
 *
 *   bench_latency [SECONDS] [RATE...]     default 8 s at 10000 50000 200000 events/s
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/sj_harness.h"

#define MAXEV (64u << 20)
#define FSYNC_MS 100
#define WARMUP_MS 1000 /* events due in the first second are left out: subscriptions still being made */

enum { ST_BUS, ST_HANDLER, ST_DURABLE, NST };
static const char *stage_names[NST] = {"socket->bus", "socket->handler", "socket->durable"};

static struct {
    int64_t *t[NST];   /* per market payload k: when the stage saw it (mono ns) */
    uint64_t *seq;     /* its source sequence */
    int64_t *recv;     /* its ts_recv_ns (wall): when our socket read returned it */
    int64_t wall_minus_mono;
    uint64_t n_bus, n_handler, n_durable;
    uint64_t last_seq_bus, last_seq_handler;
    arc_writer *raw;
    src_source *src;
    sh_standin *si;
    double run_s;
    int64_t t_start;
    ev_timer durable_poll;
} B;

static int is_market(int kind) {
    return kind == SHJ_KIND_TICK || kind == SHJ_KIND_BIDASK || kind == SHJ_KIND_QUOTE;
}

/* A quote payload publishes two events with one seq: count payloads. */
static size_t on_bus(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(ctx);
    int64_t now = clk_mono_ns();
    for (size_t i = 0; i < n; i++) {
        if (!is_market(evs[i].kind) || evs[i].seq == B.last_seq_bus || B.n_bus >= MAXEV) continue;
        B.last_seq_bus = evs[i].seq;
        B.seq[B.n_bus] = evs[i].seq;
        B.recv[B.n_bus] = evs[i].ts_recv_ns;
        B.t[ST_BUS][B.n_bus++] = now;
    }
    return n;
}

static size_t on_handler(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(ctx);
    int64_t now = clk_mono_ns();
    for (size_t i = 0; i < n; i++) {
        if (!is_market(evs[i].kind) || evs[i].seq == B.last_seq_handler || B.n_handler >= MAXEV) continue;
        B.last_seq_handler = evs[i].seq;
        B.t[ST_HANDLER][B.n_handler++] = now;
    }
    return n;
}

static void durable_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    if (!B.raw) return;
    arc_stats st;
    arc_get_stats(B.raw, &st);
    int64_t now = clk_mono_ns();
    while (B.n_durable < B.n_bus && B.seq[B.n_durable] <= st.durable_seq) B.t[ST_DURABLE][B.n_durable++] = now;
}

static int step(void *ctx, double el) {
    SHJ_UNUSED(ctx);
    if (el < B.run_s) return 0;
    sh_fault(B.si, "{\"fault\":\"pause\"}");
    /* then wait until everything sent was received and made durable */
    if (!sh_caught_up(B.si, B.src, NULL)) return 0;
    return B.n_durable == B.n_bus;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double q(const int64_t *v, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e3;
}

static void run_rate(double seconds, double rate) {
    static sh_standin si;
    char dir[256], err[512], sched_path[400], raw_dir[400];
    sh_mkdtemp(dir, sizeof dir, "bench-latency");
    snprintf(sched_path, sizeof sched_path, "%s/sched.bin", dir);
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", dir);
    char rate_s[32];
    snprintf(rate_s, sizeof rate_s, "%.0f", rate);
    const char *args[] = {"--rate", rate_s, "--heartbeat-ms", "1000", "--history", "0", "--sched-log", sched_path, NULL};
    if (sh_standin_start(&si, dir, 0, args) != 0) {
        fprintf(stderr, "bench_latency: cannot start the stand-in\n");
        exit(1);
    }
    memset(&B, 0, sizeof B);
    for (int s = 0; s < NST; s++) B.t[s] = malloc(MAXEV * sizeof(int64_t));
    B.seq = malloc(MAXEV * sizeof(uint64_t));
    B.recv = malloc(MAXEV * sizeof(int64_t));
    B.wall_minus_mono = clk_now_ns() - clk_mono_ns();
    B.si = &si;
    B.run_s = seconds + WARMUP_MS / 1000.0;
    B.src = sh_source_new(&si, 1u << 16, "sj", NULL, 5.0, err, sizeof err);
    if (!B.src) {
        fprintf(stderr, "bench_latency: %s\n", err);
        exit(1);
    }
    rt_add_source(B.src, err, sizeof err);
    bus_subscribe(rt_bus(), "bench-bus", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, on_bus, NULL);
    arc_opts o;
    memset(&o, 0, sizeof o);
    o.dir = raw_dir;
    o.source = B.src->name;
    o.fsync_ms = FSYNC_MS;
    o.compress = ARC_COMPRESS_LZ4;
    B.raw = arc_open(&o, err, sizeof err);
    if (!B.raw) {
        fprintf(stderr, "arc_open: %s\n", err);
        exit(1);
    }
    B.src->raw = B.raw;
    rt_add_writer("raw", &sh_arc_ops, B.raw);
    bus_subscribe(rt_bus(), "bench-handler", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, on_handler, NULL);
    ev_timer_init(&B.durable_poll, durable_cb, 0.001, 0.001);
    ev_timer_start(rt_loop(), &B.durable_poll);
    const char *codes[] = {"2330", "2317", "0050", "2454", "2603", "TXFR1", "MXFR1"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        src_sub_req r = {codes[i], 0, 0, 1u << SHJ_KIND_TICK | 1u << SHJ_KIND_BIDASK, 0};
        B.src->ops->subscribe(B.src, &r, err, sizeof err);
    }
    B.t_start = clk_mono_ns();
    int rc = sh_run(step, NULL, seconds + 60);
    ev_timer_stop(rt_loop(), &B.durable_poll);
    sh_standin_stop(&si); /* closes (flushes) the sched log */

    FILE *f = fopen(sched_path, "rb");
    int64_t *sched = malloc(MAXEV * sizeof(int64_t));
    size_t ns = f ? fread(sched, sizeof(int64_t), MAXEV, f) : 0;
    if (f) fclose(f);
    size_t n = B.n_bus < ns ? B.n_bus : ns;
    printf("rate %.0f/s: %s; %zu events sent, %llu received (%.0f/s over %.1f s)\n", rate,
           rc == 0 ? "ok" : "RUN FAILED", ns, (unsigned long long)B.n_bus, (double)B.n_bus / B.run_s, B.run_s);
    if (ns != B.n_bus) printf("  WARNING: sent %zu != received %llu: stages matched by order up to %zu\n", ns,
                              (unsigned long long)B.n_bus, n);
    printf("  %-17s %10s %10s %10s %10s   (us, from the scheduled send time)\n", "stage", "p50", "p99", "p99.9", "max");
    size_t k0 = 0;
    while (k0 < n && sched[k0] - sched[0] < (int64_t)WARMUP_MS * 1000000) k0++;
    printf("  %zu events of the first %d ms left out (warm-up); %zu measured\n", k0, WARMUP_MS, n - k0);
    int64_t *lat = malloc((n ? n : 1) * sizeof(int64_t));
    for (int s = 0; s < NST; s++) {
        size_t m = s == ST_BUS ? n : s == ST_HANDLER ? (B.n_handler < n ? B.n_handler : n) : (B.n_durable < n ? B.n_durable : n);
        size_t j = 0;
        for (size_t i = k0; i < m; i++) lat[j++] = B.t[s][i] - sched[i];
        m = j;
        qsort(lat, m, sizeof *lat, cmp_i64);
        printf("  %-17s %10.1f %10.1f %10.1f %10.1f\n", stage_names[s], q(lat, m, 0.5), q(lat, m, 0.99),
               q(lat, m, 0.999), m ? (double)lat[m - 1] / 1e3 : 0);
    }
    printf("  %-17s %10s %10s %10s %10s   (us, from our socket read: ts_recv_ns)\n", "stage", "p50", "p99", "p99.9", "max");
    for (int s = 0; s < NST; s++) {
        size_t m = s == ST_BUS ? n : s == ST_HANDLER ? (B.n_handler < n ? B.n_handler : n) : (B.n_durable < n ? B.n_durable : n);
        size_t j = 0;
        for (size_t i = k0; i < m; i++) lat[j++] = B.t[s][i] + B.wall_minus_mono - B.recv[i];
        m = j;
        qsort(lat, m, sizeof *lat, cmp_i64);
        printf("  %-17s %10.1f %10.1f %10.1f %10.1f\n", stage_names[s], q(lat, m, 0.5), q(lat, m, 0.99),
               q(lat, m, 0.999), m ? (double)lat[m - 1] / 1e3 : 0);
    }
    printf("  targets: seed p99 < 5000 us (every stage); issue 12: p99 socket->handler <= 100 us at 50k/s, "
           "durable <= fsync %d ms + 5 ms = %d us\n", FSYNC_MS, (FSYNC_MS + 5) * 1000);
    fflush(stdout);
    free(lat);
    free(sched);
    for (int s = 0; s < NST; s++) free(B.t[s]);
    free(B.seq);
    free(B.recv);
    sh_rec rec = {0};
    sh_teardown(&rec, dir);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 8;
    printf("bench_latency: stand-in -> HTTP+SSE (loopback) -> Shioaji source -> bus -> raw archive; %.0f s per rate\n",
           seconds);
    if (argc > 2) {
        for (int i = 2; i < argc; i++) run_rate(seconds, atof(argv[i]));
    } else {
        double rates[] = {10000, 50000, 200000};
        for (int i = 0; i < 3; i++) run_rate(seconds, rates[i]);
    }
    return 0;
}
