/* test_shioaji_budget.c — gap backfill keeps Sinopac's intraday query rules
 * across a day with many reconnects.
 *
 * tutor_limit.md:116-119 (/work/sinopac/, from Sinotrade.github.io @4c63dd4
 * tutor/limit): market-data queries 50 per 10 s, intraday `ticks` queries
 * at most 10; over a limit the service stops for a minute and repeated
 * excess suspends the IP and ID (tutor_limit.md:155-156). The stand-in
 * enforces both (--intraday-ticks-max 10 says the market is open; one query
 * too many is a 503 ban) and counts every ticks query.
 * The source's clock (test hook backfill_clock_offset_s) reads Wednesday
 * 2026-11-25 10:00 Taipei: TWSE and TAIFEX are in session.
 *  F1. Defaults: backfill is deferred until after the close: 8 reconnects of
 *      two futures, and not one ticks query reaches the server; the jobs wait.
 *  F2. backfill_defer off: 8 reconnects x 2 instruments = up to 16 jobs, and
 *      the server sees at most 10 ticks queries, never a ban; the rest wait.
 */
#include "sj_harness.h"
#include "t.h"

#define DROPS 8

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int drops;
    uint64_t mark;
    double t_last;
} ctx;

static int step(void *p, double el) {
    ctx *c = p;
    if (c->drops == 0) {
        if (sj_counter(c->src, "subscribed") == 2 && c->src->counters.payloads > 100) {
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            c->drops++;
            c->mark = c->src->counters.payloads;
        }
        return 0;
    }
    if (c->drops < DROPS) {
        if (sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= (size_t)c->drops &&
            c->src->counters.payloads > c->mark + 40) {
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            c->drops++;
            c->mark = c->src->counters.payloads;
        }
        return 0;
    }
    if (!c->t_last) {
        if (sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= DROPS && c->src->counters.payloads > c->mark + 40)
            c->t_last = el;
        return 0;
    }
    return el - c->t_last > 2.0; /* every job came due (backfill_delay_s 0.3) */
}

static void run(int defer, ctx *c, uint64_t *ticks_req, uint64_t *banned, uint64_t *violations,
                uint64_t *requests, uint64_t *queued) {
    memset(c, 0, sizeof *c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-budget");
    const char *args[] = {"--rate", "400", "--heartbeat-ms", "150", "--date", "2026-11-25",
                          "--intraday-ticks-max", "10", NULL};
    CHECK(sh_standin_start(&c->si, dir, 0, args) == 0);
    c->src = sh_source_new(&c->si, 0, "sjbud", NULL, 1.0, err, sizeof err);
    CHECK_EQ_I64(sj_set(c->src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c->src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    if (!defer) CHECK_EQ_I64(sj_set(c->src, "backfill_defer", 0, err, sizeof err), SHJ_OK);
    double offset = (double)(clk_taipei_to_utc_ns(2026, 11, 25, 10, 0, 0, 0) - clk_now_ns()) / 1e9;
    CHECK_EQ_I64(sj_set(c->src, "backfill_clock_offset_s", offset, err, sizeof err), SHJ_OK);
    sh_wire(c->src, NULL, &c->rec, err, sizeof err);
    src_sub_req a = {"TXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0}, b = {"MXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0};
    c->src->ops->subscribe(c->src, &a, err, sizeof err);
    c->src->ops->subscribe(c->src, &b, err, sizeof err);
    CHECK_EQ_I64(sh_run(step, c, 60.0), 0);
    CHECK_EQ_I64(c->drops, DROPS);
    *ticks_req = (uint64_t)sh_stat(&c->si, "ticks_requests");
    *banned = (uint64_t)sh_stat(&c->si, "banned_requests");
    *violations = (uint64_t)sh_stat(&c->si, "limit_violations");
    *requests = sj_counter(c->src, "backfill_requests");
    *queued = sj_counter(c->src, "backfill_queued");
    sh_standin_stop(&c->si);
    sh_teardown(&c->rec, dir);
}

int main(void) {
    static ctx c;
    uint64_t treq, banned, viol, req, queued;

    /* F1: deferred by default. */
    run(1, &c, &treq, &banned, &viol, &req, &queued);
    CHECK_EQ_I64(treq, 0);
    CHECK_EQ_I64(req, 0);
    CHECK_EQ_I64(banned, 0);
    CHECK(queued >= DROPS); /* at least one job per reconnect waits for the close */

    /* F2: not deferred: the intraday cap holds. */
    run(0, &c, &treq, &banned, &viol, &req, &queued);
    CHECK(treq <= 10);
    CHECK_EQ_I64(treq, req);
    CHECK_EQ_I64(viol, 0);
    CHECK_EQ_I64(banned, 0);
    CHECK(req + queued > 10); /* there was more to ask than the cap allows */
    CHECK(queued >= 1);
    T_DONE();
}
