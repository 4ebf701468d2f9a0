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
#include "decimal.h"
#include "parse.h"
#include "t.h"

#define NCODES 5
static const char *codes[NCODES] = {"TXFL6", "MXFL6", "TXFA7", "MXFA7", "TXFB7"};

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
        if (shj_shioaji_counter(c->src, "subscribed") == 6 && all_ticking(&c->rec)) {
            sh_fault(&c->si, "{\"fault\":\"stall\"}");
            c->phase = 1;
        }
        return 0;
    case 1: /* the budget is spent: two queries sent, three jobs queued */
        if (shj_shioaji_counter(c->src, "backfill_queued") == 3) {
            c->queued_at_budget = shj_shioaji_counter(c->src, "backfill_queued");
            c->requests_at_budget = shj_shioaji_counter(c->src, "backfill_requests");
            shj_shioaji_status(c->src, c->status_at_budget, sizeof c->status_at_budget);
            c->phase = 2;
        }
        return 0;
    case 2: /* the server's limit: two jobs wait for backfill_retry_at */
        if (shj_shioaji_counter(c->src, "backfill_refusals") == 1 &&
            shj_shioaji_counter(c->src, "backfill_queued") == 2 &&
            sh_count_status(&c->rec, SHJ_STATUS_BACKFILLED) == 3) {
            c->deferred_at_server = shj_shioaji_counter(c->src, "backfill_deferred");
            c->queued_at_server = shj_shioaji_counter(c->src, "backfill_queued");
            sh_fault(&c->si, "{\"fault\":\"ticks_limit\",\"limit\":-1}");
            /* Half a second before 13:50 Taipei on the source's clock. */
            shj_shioaji_set(c->src, "backfill_clock_offset_s", offset_to(13, 49, 59), err, sizeof err);
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
        if (c->src->counters.payloads > c->mark + 50) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            c->phase = 5;
        }
        return 0;
    default: {
        int64_t sent = sh_stat(&c->si, "sent");
        return sent > 0 &&
               (int64_t)(c->src->counters.payloads - shj_shioaji_counter(c->src, "backfilled")) >= sent;
    }
    }
}

typedef struct trade {
    char code[16];
    int64_t ts;
    int64_t close;
    int32_t volume;
    int backfill;
} trade;

static int cmp_trade(const void *a, const void *b) {
    const trade *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    if (c) return c;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->close != y->close) return x->close < y->close ? -1 : 1;
    return (x->volume > y->volume) - (x->volume < y->volume);
}

static int code_index(const char *code) {
    for (int k = 0; k < NCODES; k++)
        if (!strcmp(code, codes[k])) return k;
    return -1;
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
    char dir[256], url[128], err[256], logpath[300];
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
    sh_url(&c.si, url, sizeof url);
    rt_init(0);
    rt_set_status_interval(0);
    c.src = shj_shioaji_new("sjl", url, NULL, "combined", 0.8, err, sizeof err);
    shj_shioaji_set(c.src, "backoff_initial_s", 0.05, err, sizeof err);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_max_queries", 2, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_window_s", 2, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_retry_at", 1350, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_retry_at", 1360, err, sizeof err), SHJ_ERR);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_max_queries", 0, err, sizeof err), SHJ_ERR);
    /* Far from 13:50 on the source's clock until the test moves it. */
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_clock_offset_s", offset_to(10, 0, 0), err, sizeof err), SHJ_OK);
    rt_add_source(c.src, err, sizeof err);
    sh_route_raw(c.src, dir);
    bus_subscribe(rt_bus(), "test", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sh_rec_cb, &c.rec);
    uint32_t t = 1u << SHJ_KIND_TICK, tb = t | (1u << SHJ_KIND_BIDASK);
    /* Futures: at the simulated 08:45 only TAIFEX trades (stocks are in their trial match). */
    src_sub_req subs[NCODES] = {{"TXFR1", 0, 0, tb, 0}, {"MXFR1", 0, 0, t, 0}, {"TXFR2", 0, 0, t, 0},
                                {"MXFR2", 0, 0, t, 0}, {"TXFB7", 0, 0, t, 0}};
    for (int k = 0; k < NCODES; k++) CHECK_EQ_I64(c.src->ops->subscribe(c.src, &subs[k], err, sizeof err), SHJ_OK);

    CHECK_EQ_I64(started ? sh_run(step, &c, 40.0) : -1, 0);
    CHECK_EQ_I64(c.phase, 5);
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "reconnects"), 1);
    /* The budget: 2 queries, then 3 jobs queued, shown in the status text. */
    CHECK_EQ_I64(c.requests_at_budget, 2);
    CHECK_EQ_I64(c.queued_at_budget, 3);
    CHECK(strstr(c.status_at_budget, "backfill queued 3") != NULL);
    /* The server's limit: one refusal, two jobs waiting for 13:50. */
    CHECK_EQ_I64(c.queued_at_server, 2);
    CHECK_EQ_I64(c.deferred_at_server, 5); /* 3 budget, then MXFA7 refused, then TXFB7 held back */
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "backfill_refusals"), 1);
    /* Then everything ran: 2 + 1 + 1 refused + 2 retried = 6 queries, nothing left queued. */
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "backfill_requests"), 6);
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "backfill_queued"), 0);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_requests"), 6);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_refused"), 1);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_BACKFILLED), NCODES);
    uint64_t backfilled = shj_shioaji_counter(c.src, "backfilled");
    CHECK(backfilled > 10);
    sh_standin_stop(&c.si);

    /* Bus: the backfilled ticks are flagged and counted; every instrument got some. */
    uint64_t flagged = 0, per_code[NCODES] = {0};
    for (size_t i = 0; i < c.rec.n; i++) {
        const shj_event *ev = &c.rec.ev[i];
        if (ev->kind != SHJ_KIND_TICK || !(ev->flags & SHJ_FLAG_BACKFILL)) continue;
        flagged++;
        int k = code_index(ev->code);
        if (k >= 0) per_code[k]++;
    }
    CHECK_EQ_I64(flagged, backfilled);
    for (int k = 0; k < NCODES; k++) {
        if (!per_code[k]) fprintf(stderr, "no backfilled tick of %s\n", codes[k]);
        CHECK(per_code[k] > 0);
    }

    /* Archive trades, both tick kinds. */
    sh_items arch = {0};
    CHECK(sh_read_archive(dir, "sjl", &arch) == 0);
    size_t na = 0;
    trade *at = calloc(arch.n + 1, sizeof *at);
    for (size_t i = 0; i < arch.n; i++) {
        const sh_item *it = &arch.v[i];
        if (it->tag != PSR_TAG_TICK_FOP && it->tag != PSR_TAG_TICK_STK) continue;
        trade *tr = &at[na++];
        char close[32] = "";
        sjj_get_str(it->data, it->len, "code", tr->code, sizeof tr->code);
        sjj_get_str(it->data, it->len, "close", close, sizeof close);
        dec_parse(close, strlen(close), &tr->close);
        int64_t v = 0;
        sjj_get_i64(it->data, it->len, "volume", &v);
        tr->volume = (int32_t)v;
        tr->ts = sh_payload_utc(it->data, it->len);
        sjj_get_bool(it->data, it->len, "backfill", &tr->backfill);
    }
    int64_t lo[NCODES], hi[NCODES];
    for (int k = 0; k < NCODES; k++) lo[k] = INT64_MAX, hi[k] = INT64_MIN;
    size_t n_backfill_archived = 0;
    for (size_t i = 0; i < na; i++) {
        n_backfill_archived += at[i].backfill != 0;
        int k = code_index(at[i].code);
        if (k < 0) continue;
        if (at[i].ts < lo[k]) lo[k] = at[i].ts;
        if (at[i].ts > hi[k]) hi[k] = at[i].ts;
    }
    CHECK_EQ_I64(n_backfill_archived, backfilled);
    /* Generated trades within the span the archive covers, per instrument. */
    FILE *f = fopen(c.si.log_path, "r");
    CHECK(f != NULL);
    size_t ng = 0, capg = 4096;
    trade *gt = calloc(capg, sizeof *gt);
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] != 'G') continue;
        trade tr;
        memset(&tr, 0, sizeof tr);
        char close[32];
        long long ts;
        if (sscanf(line, "G %15s %lld %31s %d", tr.code, &ts, close, &tr.volume) != 4) continue;
        tr.ts = ts;
        dec_parse(close, strlen(close), &tr.close);
        int k = code_index(tr.code);
        if (k < 0 || tr.ts < lo[k] || tr.ts > hi[k]) continue;
        if (ng == capg) gt = realloc(gt, (capg *= 2) * sizeof *gt);
        gt[ng++] = tr;
    }
    if (f) fclose(f);
    qsort(at, na, sizeof *at, cmp_trade);
    qsort(gt, ng, sizeof *gt, cmp_trade);
    size_t i = 0, j = 0, missing = 0, extra = 0;
    while (i < ng || j < na) {
        int c3 = i == ng ? 1 : j == na ? -1 : cmp_trade(&gt[i], &at[j]);
        if (c3 < 0) {
            missing++;
            i++;
        } else if (c3 > 0) {
            extra++;
            j++;
        } else {
            i++;
            j++;
        }
    }

    free(at);
    free(gt);
    sh_items_free(&arch);
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
    fprintf(stderr, "generated trades in span %zu, archived trades %zu (%llu backfilled): missing %zu extra %zu\n",
            ng, na, (unsigned long long)backfilled, missing, extra);
    CHECK(ng > 200);
    CHECK_EQ_I64(missing, 0);
    CHECK_EQ_I64(extra, 0);
    CHECK_EQ_I64(ng, na);
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
