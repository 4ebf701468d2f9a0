/* test_shioaji_latency.c — the Shioaji stream hands a burst to the bus while
 * it is still reading it (sj_stream.c on_data, rt_dispatch_now), and that
 * keeps every guarantee.
 *
 * The stand-in sends at 50k events/s from a 2 ms timer: bursts of ~100
 * events in one write, read by curl in one pass. Checks:
 *  - the source dispatched from inside read passes (pass_dispatches > 0:
 *    without it a burst's first event waits for the whole burst's parse and
 *    archive before any handler sees it; bench/bench_latency.c measures that);
 *  - archive before publish, also mid-pass: a subscriber never sees an event
 *    whose sequence the raw archive has not taken yet;
 *  - nothing lost, nothing twice, in order: the subscriber sees the payload
 *    sequences 1..N with no gap once the stand-in paused, and N equals what
 *    the stand-in sent and what the archive holds.
 */
#include "sj_harness.h"
#include "t.h"

static struct {
    sh_standin si;
    src_source *src;
    arc_writer *raw;
    uint64_t last_seq;     /* last payload sequence seen (a quote's two events share one) */
    uint64_t seen;         /* distinct payload sequences seen */
    uint64_t gaps, backwards, before_archive, batches;
    int paused;            /* the stand-in was told to stop sending */
    uint64_t arc_records;  /* the archive's records when the run ended (rt_run closes it) */
} T;

static size_t on_ev(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(ctx);
    arc_stats st;
    arc_get_stats(T.raw, &st);
    T.batches++;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind == SHJ_KIND_STATUS) continue;
        uint64_t q = evs[i].seq;
        if (q > st.records) T.before_archive++; /* published before the archive took it */
        if (q == T.last_seq) continue;
        if (q < T.last_seq) T.backwards++;
        else if (q != T.last_seq + 1) T.gaps++;
        T.last_seq = q;
        T.seen++;
    }
    return n;
}

static int step(void *ctx, double el) {
    SHJ_UNUSED(ctx);
    SHJ_UNUSED(el);
    /* ~0.4 s of the pace, however slow a sanitizer makes both sides */
    if (!T.paused && !(T.paused = sh_pause_after(&T.si, T.src, 0, 20000))) return 0;
    if (!sh_caught_up(&T.si, T.src, NULL)) return 0;
    arc_stats st;
    arc_get_stats(T.raw, &st);
    T.arc_records = st.records;
    return 1;
}

int main(void) {
    char dir[256], err[512], raw_dir[300];
    sh_mkdtemp(dir, sizeof dir, "sj-latency");
    snprintf(raw_dir, sizeof raw_dir, "%s/raw", dir);
    const char *args[] = {"--rate", "50000", "--heartbeat-ms", "600000", "--history", "0", NULL};
    if (sh_standin_start(&T.si, dir, 0, args) != 0) {
        fprintf(stderr, "cannot start the stand-in\n");
        return 1;
    }
    /* No heartbeats (so every payload is a market event) and a watchdog
     * that waits for the subscriptions however slow a sanitizer makes them. */
    T.src = sh_source_new(&T.si, 1u << 16, "sj", NULL, 600.0, err, sizeof err);
    CHECK(T.src != NULL);
    if (!T.src) return 1;
    rt_add_source(T.src, err, sizeof err);
    T.raw = sh_route_raw(T.src, raw_dir);
    bus_subscribe(rt_bus(), "latency", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, on_ev, NULL);
    const char *codes[] = {"2330", "2317", "TXFR1"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        src_sub_req r = {codes[i], 0, 0, 1u << SHJ_KIND_TICK | 1u << SHJ_KIND_BIDASK, 0};
        CHECK_EQ_I64(T.src->ops->subscribe(T.src, &r, err, sizeof err), SHJ_OK);
    }
    CHECK_EQ_I64(sh_run(step, NULL, 200), 0);
    int64_t sent = sh_stat(&T.si, "sent");
    uint64_t dispatches = sj_counter(T.src, "pass_dispatches");
    fprintf(stderr, "sent %lld, seen %llu payloads in %llu batches, %llu dispatches from inside a read pass\n",
            (long long)sent, (unsigned long long)T.seen, (unsigned long long)T.batches,
            (unsigned long long)dispatches);
    CHECK(sent > 20000); /* a real load, in bursts */
    /* No heartbeat in the run (--heartbeat-ms 600000): every payload is a
     * market event, so the sequences seen must be exactly 1..sent. */
    CHECK_EQ_I64(T.src->counters.control, 0);
    CHECK(dispatches > 0);
    CHECK_EQ_I64(T.before_archive, 0);
    CHECK_EQ_I64(T.gaps, 0);
    CHECK_EQ_I64(T.backwards, 0);
    CHECK_EQ_I64((int64_t)T.seen, sent);
    CHECK_EQ_I64((int64_t)T.src->counters.payloads, sent);
    CHECK_EQ_I64((int64_t)T.arc_records, sent);
    sh_standin_stop(&T.si);
    sh_rec rec = {0};
    sh_teardown(&rec, dir);
    T_DONE();
}
