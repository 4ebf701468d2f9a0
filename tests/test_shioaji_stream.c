/* test_shioaji_stream.c — the live Shioaji source against the stand-in over TCP.
 *
 * Subscribes contracts across TSE, OTC and TAIFEX (an OTC stock found by
 * lookup, a continuous alias TXFR1, an unknown contract, a subscription that
 * first gets 500 and one added at run time that first gets 429), injects a
 * night-session tick, then checks:
 *  - the raw archive holds every payload the stand-in sent, exactly once;
 *  - every published event's fields equal the payload the stand-in sent,
 *    checked independently of the parser (decimal text, UTC time from the
 *    Taipei date+time, volumes, levels, exchange from the lookup);
 *  - the unknown contract gives one ERROR status naming it and the server's
 *    message, and the other subscriptions go on;
 *  - REST calls were paced under the stand-in's rate limit (no 429 from
 *    pacing) and the alias resolved to the month code.
 */
#include "sj_harness.h"
#include "core/decimal.h"
#include "parse/parse.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    double t_phase;
    int64_t sent;
} ctx;

static size_t count_code(const sh_rec *r, const char *code, int kind) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += r->ev[i].kind == kind && !strcmp(r->ev[i].code, code);
    return n;
}

static int add_sub(src_source *s, const char *code, int ex, int sec, uint32_t kinds) {
    src_sub_req q = {code, ex, sec, kinds, 0};
    char err[256];
    int rc = s->ops->subscribe(s, &q, err, sizeof err);
    if (rc != SHJ_OK) fprintf(stderr, "subscribe %s: %s\n", code, err);
    return rc;
}

static const uint32_t TB = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
static const uint32_t T = 1u << SHJ_KIND_TICK;
static const uint32_t B = 1u << SHJ_KIND_BIDASK;

static size_t count_odd(const sh_rec *r) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->ev[i].kind == SHJ_KIND_TICK && (r->ev[i].flags & SHJ_FLAG_ODDLOT) && !strcmp(r->ev[i].code, "2330");
    return n;
}

static int step(void *p, double el) {
    ctx *c = p;
    switch (c->phase) {
    case 0: /* everything subscribed and flowing (odd lots trade from 09:00 exchange time) */
        if (sj_counter(c->src, "subscribed") >= 10 && count_code(&c->rec, "6488", SHJ_KIND_TICK) > 3 &&
            count_code(&c->rec, "TXFL6", SHJ_KIND_BIDASK) > 3 && count_code(&c->rec, "0050", SHJ_KIND_BIDASK) > 0 &&
            count_odd(&c->rec) > 2 && el > 1.0) {
            /* A night-session trade after midnight carries the next calendar date. */
            sh_fault(&c->si,
                     "{\"fault\":\"inject\",\"event\":\"tick_fop\",\"data\":\"{\\\"code\\\":\\\"TXFL6\\\","
                     "\\\"date\\\":\\\"2026-11-26\\\",\\\"time\\\":\\\"00:30:00.500000\\\",\\\"open\\\":\\\"23010\\\","
                     "\\\"close\\\":\\\"23012.5\\\",\\\"high\\\":\\\"23015\\\",\\\"low\\\":\\\"23001\\\","
                     "\\\"volume\\\":2,\\\"vol_sum\\\":99,\\\"tick_type\\\":1,\\\"simtrade\\\":false}\"}");
            sh_fault(&c->si, "{\"fault\":\"subscribe_error\",\"status\":429,\"count\":2}");
            add_sub(c->src, "2454", SHJ_EX_TSE, SHJ_SEC_STK, T);
            c->phase = 1;
        }
        return 0;
    case 1: /* the run-time subscription got through the 429s; now drop one */
        if (count_code(&c->rec, "2454", SHJ_KIND_TICK) > 2) {
            src_sub_req q = {"2317", 0, 0, T, 0};
            char err[256];
            CHECK_EQ_I64(c->src->ops->unsubscribe(c->src, &q, err, sizeof err), SHJ_OK);
            CHECK_EQ_I64(c->src->ops->unsubscribe(c->src, &q, err, sizeof err), SHJ_ERR); /* not subscribed now */
            c->phase = 2;
        }
        return 0;
    case 2:
        if (sh_stat(&c->si, "unsubscribe_requests") >= 1) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            c->phase = 3;
        }
        return 0;
    default:
        return sh_caught_up(&c->si, c->src, &c->sent);
    }
}

/* Independent checks ------------------------------------------------------------- */

/* "1030.50" -> "1030.5", "23012" -> "23012": the canonical text dec_format writes. */
static void canon(char *t) {
    if (!strchr(t, '.')) return;
    size_t n = strlen(t);
    while (n && t[n - 1] == '0') t[--n] = '\0';
    if (n && t[n - 1] == '.') t[--n] = '\0';
}

static int same_decimal(const char *payload, size_t len, const char *key, int64_t v) {
    char txt[40], mine[24];
    if (sj_json_get_str(payload, len, key, txt, sizeof txt) != 1) return v == 0; /* absent: zero */
    canon(txt);
    dec_format(v, mine);
    return strcmp(txt, mine) == 0;
}

static int same_int(const char *payload, size_t len, const char *key, int64_t v) {
    int64_t x = 0;
    if (sj_json_get_i64(payload, len, key, &x) != 1) return v == 0;
    return x == v;
}

/* The session volume's key: Shioaji 1.7.x's (the simulator's default) or 1.5.0's. */
static const char *vol_sum_key(const char *payload, size_t len) {
    const char *v;
    size_t vn;
    return sj_json_find(payload, len, "total_volume", &v, &vn) == 1 ? "total_volume" : "vol_sum";
}

/* The five levels of key: prices (decimal text) against prices, or volumes
 * (integers) against ints; the other is NULL. Levels past the array's end are 0. */
static int same_levels(const char *payload, size_t len, const char *key, const int64_t *prices,
                       const int32_t *ints) {
    const char *arr;
    size_t an;
    if (sj_json_find(payload, len, key, &arr, &an) != 1) return 0;
    const char *p = arr, *e;
    size_t en;
    for (int i = 0; i < 5; i++) {
        int64_t want = prices ? prices[i] : ints[i];
        int r = sj_json_array_next(&p, arr + an, &e, &en);
        if (r != 1) return want == 0;
        if (prices) {
            char txt[40], mine[24];
            if (sj_json_unquote(e, en, txt, sizeof txt) != 0) return 0;
            canon(txt);
            dec_format(want, mine);
            if (strcmp(txt, mine) != 0) return 0;
        } else if (strtol(e, NULL, 10) != want) {
            return 0;
        }
    }
    return 1;
}

static const sh_item *by_seq(const sh_items *a, uint64_t seq) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->v[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n && a->v[lo].seq == seq ? &a->v[lo] : NULL;
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256];
    sh_mkdtemp(dir, sizeof dir, "sj-stream");
    const char *args[] = {"--rate", "600", "--nominal-rate", "2", "--heartbeat-ms", "200", "--date", "2026-11-25",
                          "--log-payloads",
                          "--unknown", "9999", "--rate-limit", "8", "--rate-window-ms", "1000",
                          "--subscribe-error", "500:1", NULL};
    if (sh_standin_start(&c.si, dir, 0, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    char err[256];
    c.src = sh_source_new(&c.si, 0, "sj", "combined", 3.0, err, sizeof err);
    CHECK(c.src != NULL);
    CHECK_EQ_I64(sj_set(c.src, "rate_limit", 6, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "rate_window_s", 1.0, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "no_such_option", 1, err, sizeof err), SHJ_ERR);
    CHECK(sh_wire(c.src, dir, &c.rec, err, sizeof err) == SHJ_OK);

    CHECK_EQ_I64(add_sub(c.src, "2330", SHJ_EX_TSE, SHJ_SEC_STK, TB), SHJ_OK);
    CHECK_EQ_I64(add_sub(c.src, "2317", 0, 0, T), SHJ_OK);          /* exchange found by lookup */
    CHECK_EQ_I64(add_sub(c.src, "6488", 0, 0, TB), SHJ_OK);         /* OTC, found by lookup */
    CHECK_EQ_I64(add_sub(c.src, "TXFR1", 0, 0, TB), SHJ_OK);        /* alias -> TXFL6 */
    CHECK_EQ_I64(add_sub(c.src, "MXFR1", 0, SHJ_SEC_FUT, T), SHJ_OK);
    CHECK_EQ_I64(add_sub(c.src, "0050", SHJ_EX_TSE, SHJ_SEC_STK, B), SHJ_OK);
    CHECK_EQ_I64(add_sub(c.src, "9999", SHJ_EX_TSE, SHJ_SEC_STK, T), SHJ_OK); /* 404 */
    src_sub_req odd = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, T, 1};          /* intraday odd lots */
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &odd, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(add_sub(c.src, "", 0, 0, T), SHJ_ERR);

    CHECK_EQ_I64(sh_run(step, &c, 40.0), 0);

    /* Stand-in side: paced, nothing refused for pacing, the alias asked for. */
    CHECK_EQ_I64(sh_stat(&c.si, "rate_limited"), 0);
    /* The client paces 6 per 1 s by its own clock; arrival jitter may squeeze
     * a window on the server's side, which is why the source keeps headroom
     * (45 under Shioaji's 50; 6 under the stand-in's 8 here). */
    CHECK(sh_stat(&c.si, "max_in_window") <= 8);
    CHECK(sj_counter(c.src, "rate_waits") > 0);
    CHECK(sh_stat(&c.si, "contract_requests") >= 3);
    char resolved[16] = "";
    CHECK(sj_resolved(c.src, "TXFR1", resolved) == 1);
    CHECK_STR(resolved, "TXFL6");
    CHECK_STR(sj_server_version(c.src), sh_api_version());
    CHECK_EQ_I64(sj_simulation(c.src), 1);
    CHECK_EQ_I64(sj_counter(c.src, "subscribe_errors"), 1);
    CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 10); /* 9 + odd lot + 2454 - 2317 */
    CHECK_EQ_I64(sh_stat(&c.si, "unsubscribe_requests"), 1);
    CHECK_EQ_I64(sh_stat(&c.si, "subscriptions"), 7); /* 2330, 2330 odd, 6488, TXFL6, MXFL6, 0050, 2454 */
    sh_standin_stop(&c.si);

    /* Archive vs. log: 0 missing, 0 duplicated, 0 extra. */
    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.si.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sj") == 0);
    CHECK(diff.sent.n > 500);
    CHECK_EQ_I64(diff.missing, 0);
    CHECK_EQ_I64(diff.duplicated, 0);
    CHECK_EQ_I64(diff.extra, 0);
    CHECK_EQ_I64((int64_t)c.sent, (int64_t)diff.sent.n);
    for (size_t i = 1; i < diff.arch.n; i++)
        if (diff.arch.v[i].seq != diff.arch.v[i - 1].seq + 1) {
            CHECK(0); /* sequences are dense */
            break;
        }

    /* Every market event against its payload. */
    size_t checked = 0, bad_fields = 0, market = 0;
    int saw_night = 0, otc_ok = 1, fut_ok = 1;
    int64_t night_utc = (sh_days_civil(2026, 11, 25) * 86400 + 16 * 3600 + 30 * 60) * 1000000000LL + 500000000LL;
    for (size_t i = 0; i < c.rec.n; i++) {
        const shj_event *ev = &c.rec.ev[i];
        if (ev->kind != SHJ_KIND_TICK && ev->kind != SHJ_KIND_BIDASK) continue;
        market++;
        const sh_item *it = by_seq(&diff.arch, ev->seq);
        if (!it) {
            bad_fields++;
            continue;
        }
        const char *p = it->data;
        size_t n = it->len;
        char code[16] = "";
        sj_json_get_str(p, n, "code", code, sizeof code);
        int ok = !strcmp(code, ev->code) && ev->ts_exch_ns == sh_payload_utc(p, n) && ev->ts_recv_ns == it->recv_ns &&
                 ev->payload_tag == it->tag;
        if (ev->kind == SHJ_KIND_TICK) {
            ok = ok && same_decimal(p, n, "close", ev->close) && same_decimal(p, n, "open", ev->open) &&
                 same_decimal(p, n, "high", ev->high) && same_decimal(p, n, "low", ev->low) &&
                 same_int(p, n, "volume", ev->volume) &&
                 same_int(p, n, vol_sum_key(p, n), ev->vol_sum) &&
                 same_int(p, n, "tick_type", ev->tick_type);
            int sim = 0;
            sj_json_get_bool(p, n, "simtrade", &sim);
            ok = ok && (!!(ev->flags & SHJ_FLAG_SIMTRADE) == sim);
        } else {
            ok = ok && same_levels(p, n, "bid_price", ev->bid_price, NULL) &&
                 same_levels(p, n, "ask_price", ev->ask_price, NULL) &&
                 same_levels(p, n, "bid_volume", NULL, ev->bid_volume) &&
                 same_levels(p, n, "ask_volume", NULL, ev->ask_volume);
        }
        if (!ok) {
            if (bad_fields++ < 3) fprintf(stderr, "field mismatch: seq %llu %s\n", (unsigned long long)ev->seq, p);
        }
        checked++;
        if (!strcmp(ev->code, "6488") && (ev->exchange != SHJ_EX_OTC || ev->sec_type != SHJ_SEC_STK)) otc_ok = 0;
        if (!strcmp(ev->code, "TXFL6") && (ev->exchange != SHJ_EX_TAIFEX || ev->sec_type != SHJ_SEC_FUT)) fut_ok = 0;
        if (!strcmp(ev->code, "TXFL6") && ev->ts_exch_ns == night_utc && ev->close == 230125 * SHJ_PRICE_SCALE / 10 && ev->volume == 2)
            saw_night = 1;
    }
    fprintf(stderr, "checked %zu market events field by field, %zu mismatches\n", checked, bad_fields);
    CHECK(checked > 300);
    CHECK_EQ_I64(bad_fields, 0);
    CHECK(otc_ok);
    CHECK(fut_ok);
    CHECK(saw_night);
    CHECK(count_code(&c.rec, "MXFL6", SHJ_KIND_TICK) > 0);
    CHECK(count_code(&c.rec, "2317", SHJ_KIND_TICK) > 0);
    CHECK_EQ_I64(count_code(&c.rec, "9999", SHJ_KIND_TICK), 0);
    /* Every archived market payload became an event (none was malformed here). */
    size_t arch_market = 0;
    for (size_t i = 0; i < diff.arch.n; i++) arch_market += diff.arch.v[i].tag != PSR_TAG_HEARTBEAT;
    CHECK_EQ_I64(market, arch_market);
    CHECK(c.src->counters.control > 0); /* heartbeats archived and counted */

    /* Status: connected once, one error naming the unknown contract with the server's message. */
    CHECK(sh_count_status(&c.rec, SHJ_STATUS_CONNECTED) >= 1);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_DISCONNECTED), 0);
    size_t errors = 0;
    for (size_t i = 0; i < c.rec.n; i++) {
        const shj_event *ev = &c.rec.ev[i];
        if (ev->kind != SHJ_KIND_STATUS || ev->status != SHJ_STATUS_ERROR) continue;
        errors++;
        CHECK_STR(ev->code, "9999");
        CHECK_EQ_I64(ev->http_status, 404);
        CHECK(strstr(ev->detail, "9999") && strstr(ev->detail, "contract not found"));
    }
    CHECK_EQ_I64(errors, 1);

    sh_diff_free(&diff);
    sh_teardown(&c.rec, dir);
    T_DONE();
}
