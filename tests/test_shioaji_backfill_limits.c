/* test_shioaji_backfill_limits.c — gap backfill within a query budget and a server quota.
 *
 * Five instruments lose the stream at once (stall); five backfill jobs are
 * due together. The source's budget is 2 queries per 2 s and the stand-in
 * answers only 3 ticks queries before "usage exceeded" (429). So: jobs 1-2
 * run; 3-5 are queued (budget: log line, status text, queue length 3); as
 * the window frees, 3 runs and 4 is refused by the server's limit: it and 5
 * wait for backfill_retry_at (13:50 Taipei; 5 will not spend a query before). The test lifts the stand-in's
 * limit and moves the source's clock (test hook backfill_clock_offset_s) to
 * just before 13:50; both run. Then, per instrument, over the span the
 * archive covers: every trade the stand-in generated is in the archive
 * exactly once, live or flagged backfill, and nothing else is.
 */
#include "sj_harness.h"
#include "parse/parse.h"
#include "t.h"

#define NCODES 5
static const char *const codes[NCODES] = {"TXFL6", "MXFL6", "TXFA7", "MXFA7", "TXFB7"};

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    uint64_t mark;
    size_t queued_at_budget;     /* queue length seen while the budget was spent */
    char status_at_budget[256];  /* the connection's status text then */
    uint64_t requests_at_budget;
    uint64_t deferred_at_server, queued_at_server;
} ctx;

static int all_ticking(const sh_rec *r) {
    for (int k = 0; k < NCODES; k++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n && n < 5; i++)
            n += r->ev[i].kind == SHJ_KIND_TICK && !strcmp(r->ev[i].code, codes[k]);
        if (n < 5) return 0;
    }
    return 1;
}

/* Offset that makes the source's wall clock read Taipei time hh:mm:ss.5 now. */
static double offset_to(int hh, int mm, int ss) {
    const int64_t day = 86400 * CLK_NS_PER_SEC;
    int64_t now = clk_now_ns(), local = now + (int64_t)CLK_TAIPEI_OFFSET_S * CLK_NS_PER_SEC;
    int64_t tod = ((local % day) + day) % day;
    int64_t want = ((int64_t)hh * 3600 + mm * 60 + ss) * CLK_NS_PER_SEC + CLK_NS_PER_SEC / 2;
    return (double)(want - tod) / 1e9;
}

static int step(void *p, double el) {
    ctx *c = p;
    char err[256];
    SHJ_UNUSED(el);
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 6 && all_ticking(&c->rec)) {
            sh_fault(&c->si, "{\"fault\":\"stall\"}");
            c->phase = 1;
        }
        return 0;
    case 1: /* the budget is spent: two queries sent, three jobs queued */
        if (sj_counter(c->src, "backfill_queued") == 3) {
            c->queued_at_budget = sj_counter(c->src, "backfill_queued");
            c->requests_at_budget = sj_counter(c->src, "backfill_requests");
            sj_status_line(c->src, c->status_at_budget, sizeof c->status_at_budget);
            c->phase = 2;
        }
        return 0;
    case 2: /* the server's limit: two jobs wait for backfill_retry_at */
        if (sj_counter(c->src, "backfill_refusals") == 1 &&
            sj_counter(c->src, "backfill_queued") == 2 &&
            sh_count_status(&c->rec, SHJ_STATUS_BACKFILLED) == 3) {
            c->deferred_at_server = sj_counter(c->src, "backfill_deferred");
            c->queued_at_server = sj_counter(c->src, "backfill_queued");
            sh_fault(&c->si, "{\"fault\":\"ticks_limit\",\"limit\":-1}");
            /* Half a second before 13:50 Taipei on the source's clock. */
            sj_set(c->src, "backfill_clock_offset_s", offset_to(13, 49, 59), err, sizeof err);
            c->phase = 3;
        }
        return 0;
    case 3:
        if (sh_count_status(&c->rec, SHJ_STATUS_BACKFILLED) >= NCODES) {
            c->mark = c->src->counters.payloads;
            c->phase = 4;
        }
        return 0;
    case 4:
        if (sh_pause_after(&c->si, c->src, c->mark, 50)) c->phase = 5;
        return 0;
    default:
        return sh_caught_up_live(&c->si, c->src);
    }
}

static size_t count_lines(const char *text, const char *a, const char *b) {
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, a)); p++) {
        const char *eol = strchr(p, '\n');
        const char *q = strstr(p, b);
        n += q && (!eol || q < eol);
    }
    return n;
}

int main(void) {
    static ctx c;
    char dir[256], err[256], logpath[300];
    sh_mkdtemp(dir, sizeof dir, "sj-bflimits");
    /* The source's log goes to a file for the checks, then back to stderr. */
    snprintf(logpath, sizeof logpath, "%s/test.log", dir);
    fflush(stderr);
    int saved_err = dup(2), logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_err < 0 || logfd < 0) {
        CHECK(0);
        T_DONE();
    }
    dup2(logfd, 2);
    close(logfd);

    const char *args[] = {"--rate", "400", "--heartbeat-ms", "150", "--date", "2026-11-25", "--log-generated",
                          "--ticks-limit", "3", NULL};
    int started = sh_standin_start(&c.si, dir, 0, args) == 0;
    CHECK(started);
    c.src = sh_source_new(&c.si, 0, "sjl", "combined", 0.8, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    /* Backfill at once, whatever the hour: the intraday rules have their own
     * test (test_shioaji_budget.c). */
    CHECK_EQ_I64(sj_set(c.src, "backfill_defer", 0, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_intraday_max", 10000, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_max_queries", 2, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_window_s", 2, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_retry_at", 1350, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_retry_at", 1360, err, sizeof err), SHJ_ERR);
    CHECK_EQ_I64(sj_set(c.src, "backfill_max_queries", 0, err, sizeof err), SHJ_ERR);
    /* Far from 13:50 on the source's clock until the test moves it. */
    CHECK_EQ_I64(sj_set(c.src, "backfill_clock_offset_s", offset_to(10, 0, 0), err, sizeof err), SHJ_OK);
    sh_wire(c.src, dir, &c.rec, err, sizeof err);
    uint32_t t = 1u << SHJ_KIND_TICK, tb = t | (1u << SHJ_KIND_BIDASK);
    /* Futures: at the simulated 08:45 only TAIFEX trades (stocks are in their trial match). */
    src_sub_req subs[NCODES] = {{"TXFR1", 0, 0, tb, 0}, {"MXFR1", 0, 0, t, 0}, {"TXFR2", 0, 0, t, 0},
                                {"MXFR2", 0, 0, t, 0}, {"TXFB7", 0, 0, t, 0}};
    for (int k = 0; k < NCODES; k++) CHECK_EQ_I64(c.src->ops->subscribe(c.src, &subs[k], err, sizeof err), SHJ_OK);

    CHECK_EQ_I64(started ? sh_run(step, &c, 40.0) : -1, 0);
    CHECK_EQ_I64(c.phase, 5);
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 1);
    /* The budget: 2 queries, then 3 jobs queued, shown in the status text. */
    CHECK_EQ_I64(c.requests_at_budget, 2);
    CHECK_EQ_I64(c.queued_at_budget, 3);
    CHECK(strstr(c.status_at_budget, "backfill queued 3") != NULL);
    /* The server's limit: one refusal, two jobs waiting for 13:50. */
    CHECK_EQ_I64(c.queued_at_server, 2);
    CHECK_EQ_I64(c.deferred_at_server, 5); /* 3 budget, then MXFA7 refused, then TXFB7 held back */
    CHECK_EQ_I64(sj_counter(c.src, "backfill_refusals"), 1);
    /* Then everything ran: 2 + 1 + 1 refused + 2 retried = 6 queries, nothing left queued. */
    CHECK_EQ_I64(sj_counter(c.src, "backfill_requests"), 6);
    CHECK_EQ_I64(sj_counter(c.src, "backfill_queued"), 0);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_requests"), 6);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_refused"), 1);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_BACKFILLED), NCODES);
    uint64_t backfilled = sj_counter(c.src, "backfilled");
    CHECK(backfilled > 10);
    sh_standin_stop(&c.si);

    /* Bus: the backfilled ticks are flagged and counted; every instrument got some. */
    uint64_t flagged = 0, per_code[NCODES] = {0};
    for (size_t i = 0; i < c.rec.n; i++) {
        const shj_event *ev = &c.rec.ev[i];
        if (ev->kind != SHJ_KIND_TICK || !(ev->flags & SHJ_FLAG_BACKFILL)) continue;
        flagged++;
        int k = sh_code_index(ev->code, codes, NCODES);
        if (k >= 0) per_code[k]++;
    }
    CHECK_EQ_I64(flagged, backfilled);
    for (int k = 0; k < NCODES; k++) {
        if (!per_code[k]) fprintf(stderr, "no backfilled tick of %s\n", codes[k]);
        CHECK(per_code[k] > 0);
    }

    /* Archive (both tick kinds) vs. generated trades, per instrument over the span the archive covers. */
    sh_trade_diff trades;
    sh_diff_trades(&trades, dir, "sjl", (1u << PSR_TAG_TICK_FOP) | (1u << PSR_TAG_TICK_STK), c.si.log_path, codes,
                   NCODES);
    CHECK(trades.archive_read);
    CHECK_EQ_I64(trades.archived_backfill, backfilled);
    CHECK(trades.log_read);
    free(c.rec.ev);
    rt_shutdown();

    /* Back to the real stderr; show the run's log, then check its lines. */
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    size_t loglen = 0;
    char *logtext = NULL;
    FILE *lf = fopen(logpath, "r");
    if (lf) {
        logtext = malloc(1 << 22);
        loglen = logtext ? fread(logtext, 1, (1 << 22) - 1, lf) : 0;
        fclose(lf);
    }
    if (logtext) {
        logtext[loglen] = '\0';
        fputs(logtext, stderr);
    }
    const char *lt = logtext ? logtext : "";
    sh_print_trades(&trades, backfilled);
    CHECK(trades.generated > 200);
    CHECK_EQ_I64(trades.missing, 0);
    CHECK_EQ_I64(trades.extra, 0);
    CHECK_EQ_I64(trades.generated, trades.archived);
    /* One "queued" line per job and reason, naming the instrument and its window. */
    CHECK_EQ_I64(count_lines(lt, "queued: query limit reached (2 per 2 s); retry when the budget window frees", ""), 3);
    CHECK_EQ_I64(count_lines(lt, "backfill TXFA7 ", "queued: query limit reached"), 1);
    CHECK_EQ_I64(count_lines(lt, "queued: server query limit (HTTP 429: usage exceeded", "retry after 13:50"), 1);
    CHECK_EQ_I64(count_lines(lt, "backfill MXFA7 ", "queued: server query limit (HTTP 429"), 1);
    CHECK_EQ_I64(count_lines(lt, "backfill TXFB7 ", "retry after 13:50"), 1);
    CHECK(strstr(lt, "\xe2\x80\x93") != NULL); /* "09:01:02–09:01:07" */
    CHECK_EQ_I64(count_lines(lt, "not done at stop", ""), 0);
    free(logtext);
    sh_rmrf(dir);
    T_DONE();
}
