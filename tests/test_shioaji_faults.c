/* test_shioaji_faults.c — every injected fault heals by itself, nothing is lost.
 *
 * Against the stand-in over TCP (combined stream), one after the other:
 * connection dropped in the middle of an event, a stall without heartbeats
 * (the watchdog must notice), bytes slow-dripped a few at a time (must NOT
 * cause a reconnect), a malformed and an unknown event (counted, archived,
 * no crash), and a clean end of the stream by the server. After each loss:
 * DISCONNECTED, CONNECTED, a GAP per instrument with exact bounds, and
 * RESUBSCRIBED. At the end the raw archive holds every payload the stand-in
 * sent exactly once.
 */
#include "sj_harness.h"
#include "parse/parse.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    double t_phase;
    uint64_t mark;
    int64_t sent;
    uint64_t reconnects_at_drip;
} ctx;

static void next(ctx *c, double el) {
    c->phase++;
    c->t_phase = el;
    c->mark = c->src->counters.payloads;
}

/* A loss healed: resubscribed as often as asked, and data flows again. */
static int healed(ctx *c, size_t resubs) {
    return sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= resubs && c->src->counters.payloads > c->mark + 30;
}

static int step(void *p, double el) {
    ctx *c = p;
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 5 && c->src->counters.payloads > 100) {
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            next(c, el);
        }
        return 0;
    case 1:
        if (healed(c, 1)) {
            sh_fault(&c->si, "{\"fault\":\"stall\"}");
            next(c, el);
        }
        return 0;
    case 2:
        if (healed(c, 2)) {
            c->reconnects_at_drip = sj_counter(c->src, "reconnects");
            sh_fault(&c->si, "{\"fault\":\"slow_drip\",\"bytes\":3000}");
            next(c, el);
        }
        return 0;
    case 3:
        if (el - c->t_phase > 1.2) {
            sh_fault(&c->si, "{\"fault\":\"malformed\"}");
            sh_fault(&c->si, "{\"fault\":\"unknown_event\"}");
            sh_fault(&c->si, "{\"fault\":\"unknown_event\"}");
            next(c, el);
        }
        return 0;
    case 4:
        if (el - c->t_phase > 0.3) {
            sh_fault(&c->si, "{\"fault\":\"close_all\"}");
            next(c, el);
        }
        return 0;
    case 5:
        if (healed(c, 3)) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            next(c, el);
        }
        return 0;
    default:
        return sh_caught_up(&c->si, c->src, &c->sent);
    }
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-faults");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    if (sh_standin_start(&c.si, dir, 0, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    c.src = sh_source_new(&c.si, 0, "sjf", "combined", 1.0, err, sizeof err);
    CHECK(c.src != NULL);
    sh_wire(c.src, dir, &c.rec, err, sizeof err);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, tb, 0}, b = {"TXFR1", 0, 0, tb, 0},
                d = {"6488", 0, 0, 1u << SHJ_KIND_TICK, 0};
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &a, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &b, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &d, err, sizeof err), SHJ_OK);

    CHECK_EQ_I64(sh_run(step, &c, 50.0), 0);
    CHECK(c.phase >= 6);

    /* Healed by itself, three times (drop, stall, clean end); the drip was no loss. */
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 3);
    CHECK_EQ_I64(c.reconnects_at_drip, 2);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_DISCONNECTED), 3);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_CONNECTED), 4);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_RESUBSCRIBED), 3);
    CHECK_EQ_I64(sj_counter(c.src, "resubscribed"), 3);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_GAP), 9); /* 3 losses x 3 instruments */
    /* The stall was found by the watchdog: a DISCONNECTED saying so. */
    int watchdog_seen = 0;
    for (size_t i = 0; i < c.rec.n; i++)
        if (c.rec.ev[i].kind == SHJ_KIND_STATUS && c.rec.ev[i].status == SHJ_STATUS_DISCONNECTED &&
            strstr(c.rec.ev[i].detail, "no data and no heartbeat"))
            watchdog_seen = 1;
    CHECK(watchdog_seen);
    /* Resubscription really happened on the server side: 5 + 3 x 5 subscribes. */
    CHECK(sh_stat(&c.si, "subscribe_requests") >= 20);
    CHECK_EQ_I64(c.src->counters.malformed, 1);
    CHECK_EQ_I64(c.src->counters.unknown, 2);
    CHECK_EQ_I64(sj_counter(c.src, "unknown_names"), 2);
    sh_standin_stop(&c.si);

    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.si.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sjf") == 0);
    CHECK(diff.sent.n > 300);
    CHECK_EQ_I64(diff.missing, 0);
    CHECK_EQ_I64(diff.duplicated, 0);
    CHECK_EQ_I64(diff.extra, 0);
    /* The malformed and the unknown payloads are in the archive as delivered. */
    int bad_kept = 0, unknown_kept = 0;
    for (size_t i = 0; i < diff.arch.n; i++) {
        const sh_item *it = &diff.arch.v[i];
        if (it->tag == PSR_TAG_TICK_STK && strstr(it->data, "\"time\":\"09:00:0") && it->data[it->len - 1] != '}')
            bad_kept++;
        if (it->tag == PSR_TAG_UNKNOWN && strstr(it->data, "not a market event")) unknown_kept++;
    }
    CHECK_EQ_I64(bad_kept, 1);
    CHECK_EQ_I64(unknown_kept, 2);

    size_t n_gaps = 0;
    CHECK_EQ_I64(sh_check_gaps(&c.rec, &diff.arch, 1, &n_gaps), 0);
    CHECK_EQ_I64(n_gaps, 9);
    int codes_ok = 1;
    for (size_t i = 0; i < c.rec.n; i++) {
        const shj_event *ev = &c.rec.ev[i];
        if (ev->kind == SHJ_KIND_STATUS && ev->status == SHJ_STATUS_GAP)
            codes_ok &= !strcmp(ev->code, "2330") || !strcmp(ev->code, "TXFL6") || !strcmp(ev->code, "6488");
    }
    CHECK(codes_ok);

    sh_diff_free(&diff);
    sh_teardown(&c.rec, dir);
    T_DONE();
}
