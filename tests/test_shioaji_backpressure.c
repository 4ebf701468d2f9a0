/* test_shioaji_backpressure.c — a stuck consumer mutes the stream's socket, nothing is lost.
 *
 * A small bus and a subscriber that stops taking events for 1.5 s: the bus
 * fills, src_deliver says "not now", the SSE parser keeps what it has and
 * the stream's socket is muted (sj_http: its ev_io stopped, nobody reads it,
 * the bytes wait in the kernel and TCP slows the stand-in). The heartbeat
 * watchdog must not take our own pause for a dead server (timeout 0.5 s
 * here). When the subscriber takes events again, rt resumes the source,
 * which delivers the held events first and unmutes.
 *
 * Proves:
 *  - the mute took effect (sj_http counted it, and never failed to find the
 *    stream's socket), and the stream stayed muted to the end of the stall;
 *  - while muted, not one byte reached the stream: the parser's held bytes
 *    and the bytes curl handed over stay exactly where they were at the
 *    mute, however long the stall, so memory does not grow with it;
 *  - what the parser held during the stall is a small part of what the
 *    stand-in had for us in that time (without muting it would be all);
 *  - every payload the stand-in sent is in the archive once and on the bus
 *    in sequence order.
 * Reads the source's private state (sj_internal.h) to see the parser and
 * the HTTP client.
 */
#include "shioaji/sj_internal.h"
#include "sj_harness.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int blocked;
    int phase;
    double t_phase;
    uint64_t mark;
    int saw_paused;
    int64_t sent;
    /* the stall */
    int64_t queued0, queued1;  /* stand-in: bytes given to our stream at its start / end */
    size_t held_stall;         /* most bytes the parsers held during it */
    size_t held_max;           /* ... and over the whole run */
    int muted_steps;           /* steps that found the stream muted */
    int muted_at_end;          /* still muted when the subscriber came back */
    size_t held_at_mute;       /* parser bytes / bytes received at the first muted step */
    uint64_t bytes_at_mute;
    int grew_while_muted;      /* steps where either changed while muted */
} ctx;

static sj_src *sjs(const ctx *c) { return (sj_src *)c->src; }

static size_t held(const ctx *c) {
    size_t n = 0;
    for (int i = 0; i < SJ_MAX_STREAMS; i++)
        if (sjs(c)->streams[i].used) n += sse_held_bytes(&sjs(c)->streams[i].parser);
    return n;
}

static int stream_muted(const ctx *c) {
    for (int i = 0; i < SJ_MAX_STREAMS; i++)
        if (sjs(c)->streams[i].used && sjs(c)->streams[i].req && sj_http_is_muted(sjs(c)->streams[i].req)) return 1;
    return 0;
}

static uint64_t bytes_in(const ctx *c) {
    sj_http_stats st;
    sj_http_get_stats(sjs(c)->http, &st);
    return st.bytes_in;
}

static size_t slow_cb(void *p, const shj_event *evs, size_t n) {
    ctx *c = p;
    if (c->blocked) return 0;
    return sh_rec_cb(&c->rec, evs, n);
}

/* Runs on the loop, never inside curl: what it sees is between reads. */
static void watch_stall(ctx *c) {
    size_t h = held(c);
    if (h > c->held_stall) c->held_stall = h;
    int muted = stream_muted(c);
    c->muted_at_end = muted;
    if (!muted) return;
    if (c->muted_steps++ == 0) {
        c->held_at_mute = h;
        c->bytes_at_mute = bytes_in(c);
    } else if (h != c->held_at_mute || bytes_in(c) != c->bytes_at_mute) {
        c->grew_while_muted++;
    }
}

static int step(void *p, double el) {
    ctx *c = p;
    if (c->src->state == SRC_PAUSED) c->saw_paused = 1;
    size_t h = held(c);
    if (h > c->held_max) c->held_max = h;
    switch (c->phase) {
    case 0:
        if (c->src->counters.payloads > 100) {
            c->queued0 = sh_stat(&c->si, "stream_bytes_queued");
            c->blocked = 1;
            c->t_phase = el;
            c->phase = 1;
        }
        return 0;
    case 1:
        watch_stall(c);
        if (el - c->t_phase > 1.5) {
            c->queued1 = sh_stat(&c->si, "stream_bytes_queued");
            c->blocked = 0;
            c->mark = c->src->counters.payloads;
            c->phase = 2;
        }
        return 0;
    case 2:
        if (sh_pause_after(&c->si, c->src, c->mark, 300)) c->phase = 3;
        return 0;
    default:
        return sh_caught_up(&c->si, c->src, &c->sent);
    }
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-bp");
    const char *args[] = {"--rate", "1500", "--heartbeat-ms", "100", "--date", "2026-11-25", NULL};
    if (sh_standin_start(&c.si, dir, 0, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    c.src = sh_source_new(&c.si, 64, "sjp", "combined", 0.5, err, sizeof err);
    sh_wire(c.src, dir, NULL, err, sizeof err); /* recorded by slow_cb instead */
    bus_subscribe(rt_bus(), "slow", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, slow_cb, &c);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"TXFR1", 0, 0, tb, 0}, b = {"MXFR1", 0, 0, tb, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);

    CHECK_EQ_I64(sh_run(step, &c, 40.0), 0);
    CHECK(c.saw_paused);
    CHECK(c.src->counters.pauses > 0);
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 0); /* our pause is not the server's silence */
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_DISCONNECTED), 0);

    /* The socket was muted, and muting held. */
    sj_http_stats hs;
    sj_http_get_stats(sjs(&c)->http, &hs);
    int64_t stall_bytes = c.queued1 - c.queued0;
    fprintf(stderr,
            "mutes %llu (no socket: %llu); stall: stand-in had %lld bytes for us, parser held at most %zu "
            "(%zu at the mute, muted %d steps, %d with growth); held at most %zu over the run\n",
            (unsigned long long)hs.mutes, (unsigned long long)hs.mute_misses, (long long)stall_bytes,
            c.held_stall, c.held_at_mute, c.muted_steps, c.grew_while_muted, c.held_max);
    CHECK(hs.mutes >= 1);
    CHECK_EQ_I64(hs.mute_misses, 0);
    CHECK(c.muted_steps >= 10);
    CHECK(c.muted_at_end);
    CHECK_EQ_I64(c.grew_while_muted, 0);
    CHECK(c.queued0 > 0 && stall_bytes > 0);
    CHECK((int64_t)c.held_stall * 4 < stall_bytes);
    sh_standin_stop(&c.si);

    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.si.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sjp") == 0);
    CHECK(diff.sent.n > 500);
    CHECK_EQ_I64(diff.missing, 0);
    CHECK_EQ_I64(diff.duplicated, 0);
    CHECK_EQ_I64(diff.extra, 0);
    /* The bus saw every market payload, in sequence order. */
    size_t market = 0, ordered = 1;
    uint64_t last = 0;
    for (size_t i = 0; i < c.rec.n; i++) {
        if (c.rec.ev[i].kind != SHJ_KIND_TICK && c.rec.ev[i].kind != SHJ_KIND_BIDASK) continue;
        market++;
        if (c.rec.ev[i].seq <= last) ordered = 0;
        last = c.rec.ev[i].seq;
    }
    CHECK(ordered);
    CHECK_EQ_I64(market + c.src->counters.control, diff.arch.n);
    sh_diff_free(&diff);
    sh_teardown(&c.rec, dir);
    T_DONE();
}
