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
#include "decimal.h"
#include "parse.h"
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
        if (shj_shioaji_counter(c->src, "subscribed") == 3 && c->src->counters.per_kind[SHJ_KIND_TICK] > 60) {
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
        if (c->src->counters.payloads > c->mark + 50) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            c->phase = 3;
        }
        return 0;
    default: {
        /* Caught up: live payloads (all but the backfilled) = what was sent. */
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

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], url[128], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-backfill");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", "--log-generated", NULL};
    if (sh_standin_start(&c.si, dir, 0, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    sh_url(&c.si, url, sizeof url);
    rt_init(0);
    rt_set_status_interval(0);
    c.src = shj_shioaji_new("sjb", url, NULL, "combined", 0.8, err, sizeof err);
    shj_shioaji_set(c.src, "backoff_initial_s", 0.05, err, sizeof err);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_shioaji_set(c.src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    rt_add_source(c.src, err, sizeof err);
    sh_route_raw(c.src, dir);
    bus_subscribe(rt_bus(), "test", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sh_rec_cb, &c.rec);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"TXFR1", 0, 0, tb, 0}, b = {"MXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);

    CHECK_EQ_I64(sh_run(step, &c, 40.0), 0);
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "reconnects"), 1);
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "backfill_requests"), 2);
    uint64_t backfilled = shj_shioaji_counter(c.src, "backfilled");
    CHECK(backfilled > 5);
    CHECK_EQ_I64(sh_stat(&c.si, "ticks_requests"), 2);
    sh_standin_stop(&c.si);

    /* Bus: the backfilled ticks are flagged and counted. */
    uint64_t flagged = 0;
    for (size_t i = 0; i < c.rec.n; i++)
        flagged += c.rec.ev[i].kind == SHJ_KIND_TICK && (c.rec.ev[i].flags & SHJ_FLAG_BACKFILL);
    CHECK_EQ_I64(flagged, backfilled);

    /* Archive trades. */
    sh_items arch = {0};
    CHECK(sh_read_archive(dir, "sjb", &arch) == 0);
    size_t na = 0;
    trade *at = calloc(arch.n + 1, sizeof *at);
    for (size_t i = 0; i < arch.n; i++) {
        const sh_item *it = &arch.v[i];
        if (it->tag != PSR_TAG_TICK_FOP) continue;
        trade *t = &at[na++];
        char close[32] = "";
        sjj_get_str(it->data, it->len, "code", t->code, sizeof t->code);
        sjj_get_str(it->data, it->len, "close", close, sizeof close);
        dec_parse(close, strlen(close), &t->close);
        int64_t v = 0;
        sjj_get_i64(it->data, it->len, "volume", &v);
        t->volume = (int32_t)v;
        t->ts = sh_payload_utc(it->data, it->len);
        sjj_get_bool(it->data, it->len, "backfill", &t->backfill);
    }
    /* Generated trades within the span the archive covers, per instrument. */
    int64_t lo[2] = {INT64_MAX, INT64_MAX}, hi[2] = {INT64_MIN, INT64_MIN};
    const char *codes[2] = {"TXFL6", "MXFL6"};
    size_t n_backfill_archived = 0;
    for (size_t i = 0; i < na; i++) {
        n_backfill_archived += at[i].backfill != 0;
        for (int k = 0; k < 2; k++)
            if (!strcmp(at[i].code, codes[k])) {
                if (at[i].ts < lo[k]) lo[k] = at[i].ts;
                if (at[i].ts > hi[k]) hi[k] = at[i].ts;
            }
    }
    CHECK_EQ_I64(n_backfill_archived, backfilled);
    FILE *f = fopen(c.si.log_path, "r");
    CHECK(f != NULL);
    size_t ng = 0, capg = 4096;
    trade *gt = calloc(capg, sizeof *gt);
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] != 'G') continue;
        trade t;
        memset(&t, 0, sizeof t);
        char close[32];
        long long ts;
        if (sscanf(line, "G %15s %lld %31s %d", t.code, &ts, close, &t.volume) != 4) continue;
        t.ts = ts;
        dec_parse(close, strlen(close), &t.close);
        int keep = 0;
        for (int k = 0; k < 2; k++) keep |= !strcmp(t.code, codes[k]) && t.ts >= lo[k] && t.ts <= hi[k];
        if (!keep) continue;
        if (ng == capg) gt = realloc(gt, (capg *= 2) * sizeof *gt);
        gt[ng++] = t;
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
    fprintf(stderr, "generated trades in span %zu, archived trades %zu (%zu backfilled): missing %zu extra %zu\n",
            ng, na, (size_t)backfilled, missing, extra);
    CHECK(ng > 100);
    CHECK_EQ_I64(missing, 0);
    CHECK_EQ_I64(extra, 0);
    CHECK_EQ_I64(ng, na);

    free(at);
    free(gt);
    sh_items_free(&arch);
    free(c.rec.ev);
    rt_shutdown();
    sh_rmrf(dir);
    T_DONE();
}
