/* test_shioaji_backpressure.c — a stuck consumer pauses the transfer, nothing is lost.
 *
 * A small bus and a subscriber that stops taking events for 1.5 s: the bus
 * fills, src_deliver says "not now", the SSE parser keeps what it has, curl
 * is paused (SJH_PAUSE) and stops reading the socket. The heartbeat watchdog
 * must not take our own pause for a dead server (timeout 0.5 s here). When
 * the subscriber takes events again, rt resumes the source, which delivers
 * the held events first and unpauses the transfer. Then: every payload the
 * stand-in sent is in the archive once and on the bus in sequence order.
 */
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
} ctx;

static size_t slow_cb(void *p, const shj_event *evs, size_t n) {
    ctx *c = p;
    if (c->blocked) return 0;
    return sh_rec_cb(&c->rec, evs, n);
}

static int step(void *p, double el) {
    ctx *c = p;
    if (c->src->state == SRC_PAUSED) c->saw_paused = 1;
    switch (c->phase) {
    case 0:
        if (c->src->counters.payloads > 100) {
            c->blocked = 1;
            c->t_phase = el;
            c->phase = 1;
        }
        return 0;
    case 1:
        if (el - c->t_phase > 1.5) {
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
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "reconnects"), 0); /* our pause is not the server's silence */
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_DISCONNECTED), 0);
    sh_standin_stop(&c.si);

    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.si.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sjp") == 0);
    fprintf(stderr, "pauses %llu\n", (unsigned long long)c.src->counters.pauses);
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
