/* bench_bus.c — events/s through the bus (publish + dispatch), single core.
 *
 * Measures: bus_publish of pre-built 256-byte events in batches, then
 * bus_dispatch to 1, 2 or 4 subscribers whose callback sums one field of
 * every event it gets (so every delivered event is really read), under these
 * filters:
 *   none     kind mask 0xffffffff, no inst filter (no per-event scan)
 *   all      SHJ_MASK_ALL (per-event kind test, everything matches)
 *   tick     SHJ_MASK_TICK (per-event kind test, ~40% match, runs split)
 *   inst-bm  SHJ_MASK_ALL + 4 of 64 instruments, bitmap lookup
 *   inst-bs  same 4 + one huge id, which forces the sorted-array lookup
 * next to baselines from the same run on the same events: a plain memcpy of
 * each event into a 65536-slot array (the ring's footprint), and memcpy plus
 * reading the field back (what one unfiltered subscriber costs at best).
 *
 * Each row is the best of R repetitions, timed in thread CPU time (the
 * machine is shared).
 * Usage: bench_bus [events=5000000] [batch=256] [reps=3] [ring=65536]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop/bus.h"
#include "core/shj_common.h"

#define SRC_N 4096          /* distinct source events, cycled */
#define N_INST 64
static size_t RING = 65536; /* ring slots, power of two (argv[4]) */

static shj_event *src;

/* CPU time of this thread: on a shared machine, time spent descheduled
 * would otherwise count against whichever row happened to run then. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_src(void) {
    src = aligned_alloc(64, SRC_N * sizeof *src);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < SRC_N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        shj_event *e = &src[i];
        memset(e, 0, sizeof *e);
        unsigned r = (unsigned)(x % 100);
        e->kind = r < 40 ? SHJ_KIND_TICK : r < 80 ? SHJ_KIND_BIDASK : r < 90 ? SHJ_KIND_QUOTE
                                                                            : SHJ_KIND_STATUS;
        e->inst_id = 1 + (uint32_t)((x >> 20) % N_INST);
        e->seq = i + 1;
        e->close = (int64_t)(x >> 32) % 10000000;
        snprintf(e->code, sizeof e->code, "%u", 1000 + e->inst_id);
    }
}

typedef struct sink {
    int64_t sum;
    uint64_t n;
} sink;

static size_t sum_deliver(void *ctx, const shj_event *evs, size_t n) {
    sink *s = ctx;
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++) acc += evs[i].close;
    s->sum += acc;
    s->n += n;
    return n;
}

enum { F_NONE, F_ALL, F_TICK, F_INST_BM, F_INST_BS, F_COUNT };
static const char *f_names[] = {"none", "all", "tick", "inst-bm", "inst-bs"};

/* Expected sum and count for one subscriber under filter f over `events`
 * events cycled from src: checks the bench measured the real thing. */
static void expected(int f, uint64_t events, int64_t *sum, uint64_t *n) {
    *sum = 0;
    *n = 0;
    for (uint64_t i = 0; i < events; i++) {
        const shj_event *e = &src[i % SRC_N];
        int ok = 1;
        if (f == F_ALL || f == F_INST_BM || f == F_INST_BS) ok = (SHJ_MASK_ALL >> e->kind) & 1;
        if (f == F_TICK) ok = e->kind == SHJ_KIND_TICK;
        if (ok && (f == F_INST_BM || f == F_INST_BS))
            ok = e->inst_id == 3 || e->inst_id == 17 || e->inst_id == 42 || e->inst_id == 60;
        if (ok) {
            *sum += e->close;
            (*n)++;
        }
    }
}

/* Publish `events` events in batches, dispatching after each batch.
 * Returns seconds; fills sinks. */
static double run_bus(int n_subs, int f, uint64_t events, size_t batch, sink *sinks, int *ok) {
    bus *b = bus_new(RING);
    static const uint32_t ids_bm[] = {3, 17, 42, 60};
    static const uint32_t ids_bs[] = {3, 17, 42, 60, 0xfffffff0u};
    for (int i = 0; i < n_subs; i++) {
        memset(&sinks[i], 0, sizeof sinks[i]);
        uint32_t mask = f == F_NONE ? 0xffffffffu : f == F_TICK ? SHJ_MASK_TICK : SHJ_MASK_ALL;
        const uint32_t *ids = f == F_INST_BM ? ids_bm : f == F_INST_BS ? ids_bs : NULL;
        size_t n_ids = f == F_INST_BM ? 4 : f == F_INST_BS ? 5 : 0;
        bus_subscribe(b, "bench", mask, ids, n_ids, i % 2 ? BUS_DROP : BUS_BLOCK, sum_deliver,
                      &sinks[i]);
    }
    double t0 = now_s();
    uint64_t done = 0;
    size_t j = 0;
    while (done < events) {
        size_t k = events - done < batch ? (size_t)(events - done) : batch;
        for (size_t i = 0; i < k; i++) {
            if (bus_publish(b, &src[j]) != SHJ_OK) {
                bus_dispatch(b); /* never happens with take-all subscribers */
                i--;
                continue;
            }
            j = (j + 1) & (SRC_N - 1);
        }
        done += k;
        bus_dispatch(b);
    }
    double dt = now_s() - t0;
    *ok = bus_published(b) == events;
    for (size_t i = 0; i < bus_sub_count(b); i++) {
        bus_sub_stats st;
        bus_sub_stats_at(b, i, NULL, &st);
        *ok &= st.dropped == 0 && st.lag == 0;
    }
    bus_free(b);
    return dt;
}

static volatile int64_t g_sink;

/* Baseline: memcpy each event into a RING-slot array; with_read also reads
 * the field back after each batch, as one subscriber would. */
static double run_base(uint64_t events, size_t batch, int with_read) {
    shj_event *arr = aligned_alloc(64, RING * sizeof *arr);
    memset(arr, 0, RING * sizeof *arr);
    double t0 = now_s();
    uint64_t done = 0, w = 0;
    size_t j = 0;
    int64_t acc = 0;
    while (done < events) {
        size_t k = events - done < batch ? (size_t)(events - done) : batch;
        uint64_t w0 = w;
        for (size_t i = 0; i < k; i++) {
            memcpy(&arr[w & (RING - 1)], &src[j], sizeof *arr);
            w++;
            j = (j + 1) & (SRC_N - 1);
        }
        if (with_read)
            for (uint64_t q = w0; q < w; q++) acc += arr[q & (RING - 1)].close;
        done += k;
    }
    double dt = now_s() - t0;
    g_sink = acc + arr[events & (RING - 1)].close;
    free(arr);
    return dt;
}

int main(int argc, char **argv) {
    uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    size_t batch = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    RING = argc > 4 ? strtoull(argv[4], NULL, 10) : 65536;
    if (!events || !batch || reps < 1 || RING < 2 || (RING & (RING - 1)) || batch > RING) {
        fprintf(stderr, "usage: bench_bus [events] [batch] [reps] [ring, a power of two >= batch]\n");
        return 2;
    }
    make_src();
    printf("bench_bus: %" PRIu64 " events of %zu B, batch %zu, ring %zu, best of %d (CPU time)\n",
           events, sizeof(shj_event), batch, RING, reps);
    printf("%-22s %10s %9s %9s\n", "case", "Mev/s", "ns/ev", "vs memcpy");

    double base = 1e9, base_r = 1e9;
    for (int r = 0; r < reps; r++) {
        double t = run_base(events, batch, 0);
        if (t < base) base = t;
        t = run_base(events, batch, 1);
        if (t < base_r) base_r = t;
    }
    printf("%-22s %10.1f %9.2f %9.2f\n", "baseline memcpy", events / base / 1e6,
           base * 1e9 / events, 1.0);
    printf("%-22s %10.1f %9.2f %9.2f\n", "baseline memcpy+read", events / base_r / 1e6,
           base_r * 1e9 / events, base / base_r);

    int all_ok = 1;
    sink sinks[4];
    {
        double best = 1e9;
        int ok = 1;
        for (int r = 0; r < reps; r++) {
            double t = run_bus(0, F_NONE, events, batch, sinks, &ok);
            if (t < best) best = t;
            all_ok &= ok;
        }
        printf("%-22s %10.1f %9.2f %9.2f\n", "bus 0 subs", events / best / 1e6,
               best * 1e9 / events, base / best);
    }
    for (int f = 0; f < F_COUNT; f++) {
        int64_t want_sum;
        uint64_t want_n;
        expected(f, events, &want_sum, &want_n);
        for (int ns = 1; ns <= 4; ns *= 2) {
            double best = 1e9;
            for (int r = 0; r < reps; r++) {
                int ok = 1;
                double t = run_bus(ns, f, events, batch, sinks, &ok);
                if (t < best) best = t;
                for (int i = 0; i < ns; i++) ok &= sinks[i].sum == want_sum && sinks[i].n == want_n;
                all_ok &= ok;
            }
            char label[64];
            snprintf(label, sizeof label, "bus %d sub%s %s", ns, ns > 1 ? "s" : "", f_names[f]);
            printf("%-22s %10.1f %9.2f %9.2f\n", label, events / best / 1e6, best * 1e9 / events,
                   base / best);
        }
    }
    printf("check: every subscriber got exactly the expected events and sum: %s\n",
           all_ok ? "yes" : "NO");
    free(src);
    return all_ok ? 0 : 1;
}
