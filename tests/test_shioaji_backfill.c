/* test_shioaji_backfill.c — a gap is filled from the historical ticks endpoint.
 *
 * The stand-in stalls the stream while its market keeps trading; the
 * watchdog reconnects; the source asks /api/v1/data/ticks for each
 * instrument's missing interval and publishes what it did not receive,
 * flagged SHJ_FLAG_BACKFILL. The stand-in logs every trade it generated
 * ("G" lines, sent or not). Then, per instrument, over the whole span the
 * archive covers: every generated trade is in the archive exactly once
 * (live or backfilled), nothing else is, and some really were backfilled.
 */
#include "sj_harness.h"
#include "parse/parse.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    uint64_t mark;
} ctx;

static int step(void *p, double el) {
    ctx *c = p;
    SHJ_UNUSED(el);
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 3 && c->src->counters.per_kind[SHJ_KIND_TICK] > 60) {
            sh_fault(&c->si, "{\"fault\":\"stall\"}");
            c->phase = 1;
        }
        return 0;
    case 1:
        if (sh_count_status(&c->rec, SHJ_STATUS_BACKFILLED) >= 2) {
            c->mark = c->src->counters.payloads;
            c->phase = 2;
        }
        return 0;
    case 2:
        if (sh_pause_after(&c->si, c->src, c->mark, 50)) c->phase = 3;
        return 0;
    default: /* caught up: live payloads (all but the backfilled) = what was sent */
        return sh_caught_up_live(&c->si, c->src);
    }
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-backfill");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", "--log-generated", NULL};
    if (sh_standin_start(&c.si, dir, 0, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    c.src = sh_source_new(&c.si, 0, "sjb", "combined", 0.8, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    /* Backfill at once, whatever the hour: the intraday rules have their own
     * test (test_shioaji_budget.c). */
    CHECK_EQ_I64(sj_set(c.src, "backfill_defer", 0, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_intraday_max", 10000, err, sizeof err), SHJ_OK);
    sh_wire(c.src, dir, &c.rec, err, sizeof err);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"TXFR1", 0, 0, tb, 0}, b = {"MXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);

    CHECK_EQ_I64(sh_run(step, &c, 40.0), 0);
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 1);
    CHECK_EQ_I64(sj_counter(c.src, "backfill_requests"), 2);
    uint64_t backfilled = sj_counter(c.src, "backfilled");
    CHECK(backfilled > 5);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_requests"), 2);
    sh_standin_stop(&c.si);

    /* Bus: the backfilled ticks are flagged and counted. */
    uint64_t flagged = 0;
    for (size_t i = 0; i < c.rec.n; i++)
        flagged += c.rec.ev[i].kind == SHJ_KIND_TICK && (c.rec.ev[i].flags & SHJ_FLAG_BACKFILL);
    CHECK_EQ_I64(flagged, backfilled);

    /* Archive vs. generated trades, per instrument over the span the archive covers. */
    static const char *const codes[] = {"TXFL6", "MXFL6"};
    sh_trade_diff trades;
    sh_diff_trades(&trades, dir, "sjb", 1u << PSR_TAG_TICK_FOP, c.si.log_path, codes, 2);
    CHECK(trades.archive_read);
    CHECK_EQ_I64(trades.archived_backfill, backfilled);
    CHECK(trades.log_read);
    sh_print_trades(&trades, backfilled);
    CHECK(trades.generated > 100);
    CHECK_EQ_I64(trades.missing, 0);
    CHECK_EQ_I64(trades.extra, 0);
    CHECK_EQ_I64(trades.generated, trades.archived);

    sh_teardown(&c.rec, dir);
    T_DONE();
}
