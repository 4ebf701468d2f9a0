/* bench_parse.c — psr_parse vs a cJSON-based parse of the same payloads.
 *
 * Pre-generates N (default 1M) Shioaji payloads in memory — the mix of
 * docs/shioaji-payloads.md: tick_stk, tick_fop, bidask_stk, bidask_fop with
 * varying codes, prices, volumes and times — then, in the same run, times
 *   psr_parse                         (the schema-specific scanner), and
 *   cJSON_ParseWithLength + extraction (a DOM parse, then every field looked
 *   up by name, decimals converted exactly with dec_parse from the strings,
 *   the same shj_event filled).
 * Checks first that both produce byte-identical events (so the comparison is
 * like for like), then prints: parser, events/s, ns/event, MB/s, ratio.
 * A second psr_parse row, same run: the mix of Sinopac's published samples
 * (tests/fixtures/sinopac/sse/, the payloads MANIFEST expects events from:
 * 1.7.x and 1.5.0 names, quotes with their books, odd lots, reprs; compacted
 * to one line as the server sends them), cycled to N payloads; a quote costs
 * psr_parse + psr_parse_book, as on the ingest path. The fixtures are found
 * under $SHJ_SOURCE_DIR (default ..: run from build/).
 * Usage: bench_parse [N] [repeats] [psr]. One core; best of `repeats` runs;
 * a third argument "psr" skips cJSON (for profiling the scanner alone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "core/instrument.h"
#include "parse/parse.h"

#ifdef SHJ_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#include "bench_sinopac.h"

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n) { /* xorshift64: deterministic corpus */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Price text of v × 10^-2 ("1026.12", "585.5", "1030") as Shioaji prints it. */
static int price(char *out, int64_t cents) {
    char tmp[24];
    dec_format(cents * 100, tmp);
    return sprintf(out, "%s", tmp);
}

static void gen(corpus *c, size_t n) {
    static const char *stocks[] = {"2330", "2317", "0050", "2454", "2603", "6488", "2412", "2881"};
    static const char *futs[] = {"TXFL6", "MXFL6", "TXFA7"};
    c->n = n;
    c->off = malloc(n * sizeof *c->off);
    c->len = malloc(n * sizeof *c->len);
    c->tag = malloc(n * sizeof *c->tag);
    size_t cap = n * 420 + 4096;
    c->buf = malloc(cap);
    size_t pos = 0;
    int64_t us = (9LL * 3600) * 1000000; /* 09:00:00 Taipei, advancing */
    for (size_t i = 0; i < n; i++) {
        if (pos + 1024 > cap) {
            cap *= 2;
            c->buf = realloc(c->buf, cap);
        }
        char *p = c->buf + pos;
        us += 1 + rnd(2000);
        int64_t t = us % (24LL * 3600 * 1000000);
        char date[16], tm[32];
        sprintf(date, "2026-11-%02d", 25 + (int)(us / (24LL * 3600 * 1000000)) % 4);
        sprintf(tm, "%02d:%02d:%02d.%06d", (int)(t / 3600000000LL), (int)(t / 60000000 % 60),
                (int)(t / 1000000 % 60), (int)(t % 1000000));
        int kind = (int)(i % 10); /* 0-3 tick_stk, 4-5 tick_fop, 6-8 bidask_stk, 9 bidask_fop */
        int fop = kind == 4 || kind == 5 || kind == 9;
        const char *code = fop ? futs[rnd(3)] : stocks[rnd(8)];
        int64_t base = fop ? 2300000 + rnd(20000) : 10000 + rnd(100000); /* cents */
        char o[24], h[24], l[24], cl[24], av[24], df[24];
        price(o, base - 500);
        price(h, base + 700);
        price(l, base - 900);
        price(cl, base);
        price(av, base - 37);
        price(df, (int64_t)rnd(2000) - 1000);
        int k;
        if (kind <= 5) {
            c->tag[i] = fop ? PSR_TAG_TICK_FOP : PSR_TAG_TICK_STK;
            uint32_t vol = 1 + rnd(50);
            k = sprintf(p,
                        "{\"code\":\"%s\",\"date\":\"%s\",\"time\":\"%s\",\"open\":\"%s\",\"close\":\"%s\","
                        "\"high\":\"%s\",\"low\":\"%s\",\"avg_price\":\"%s\",\"amount\":\"%lld\","
                        "\"amount_sum\":\"%lld\",\"volume\":%u,\"vol_sum\":%u,\"tick_type\":%u,"
                        "%s\"diff_price\":\"%s\",\"diff_rate\":\"0.%02u\",%s"
                        "\"trade_bid_vol_sum\":%u,\"trade_ask_vol_sum\":%u,\"simtrade\":%s%s}",
                        code, date, tm, o, cl, h, l, av, (long long)(base * vol / 100),
                        (long long)(base * 1000 + rnd(100000)), vol, 1000 + rnd(100000), rnd(3),
                        fop ? "" : "\"chg_type\":2,", df, rnd(100),
                        fop ? "\"target_kind_price\":\"23011.55\"," : "", rnd(50000), rnd(50000),
                        rnd(20) ? "false" : "true",
                        fop ? "" : ",\"suspend\":false,\"intraday_odd\":false");
        } else {
            c->tag[i] = fop ? PSR_TAG_BIDASK_FOP : PSR_TAG_BIDASK_STK;
            int64_t step = fop ? 100 : 50;
            char bp[5][24], ap[5][24];
            for (int j = 0; j < 5; j++) {
                price(bp[j], base - step * (j + 1));
                price(ap[j], base + step * j);
            }
            k = sprintf(p,
                        "{\"code\":\"%s\",\"date\":\"%s\",\"time\":\"%s\",%s"
                        "\"bid_price\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"],\"bid_volume\":[%u,%u,%u,%u,%u],"
                        "\"diff_bid_vol\":[%d,0,%d,0,0],"
                        "\"ask_price\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"],\"ask_volume\":[%u,%u,%u,%u,%u],"
                        "\"diff_ask_vol\":[0,%d,0,0,%d],%s\"simtrade\":false%s}",
                        code, date, tm, fop ? "\"bid_total_vol\":38,\"ask_total_vol\":41," : "",
                        bp[0], bp[1], bp[2], bp[3], bp[4], rnd(200), rnd(200), rnd(200), rnd(200),
                        rnd(200), (int)rnd(10) - 5, (int)rnd(10) - 5, ap[0], ap[1], ap[2], ap[3], ap[4],
                        rnd(200), rnd(200), rnd(200), rnd(200), rnd(200), (int)rnd(10) - 5,
                        (int)rnd(10) - 5,
                        fop ? "\"first_derived_bid_price\":\"0\",\"first_derived_ask_price\":\"0\","
                              "\"first_derived_bid_vol\":0,\"first_derived_ask_vol\":0,"
                              "\"underlying_price\":\"23011.55\","
                            : "\"suspend\":false,",
                        fop ? "" : ",\"intraday_odd\":false");
        }
        c->off[i] = pos;
        c->len[i] = (uint32_t)k;
        pos += (size_t)k;
    }
    c->bytes = pos;
}

/* ----------------------------------------------------------------- cJSON */
#ifdef SHJ_HAVE_CJSON
static int cj_dec(const cJSON *o, const char *name, int64_t *dst, int required) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it) return required ? -1 : 0;
    if (!cJSON_IsString(it)) return -1;
    return dec_parse(it->valuestring, strlen(it->valuestring), dst);
}

static int cj_int(const cJSON *o, const char *name, int64_t *dst, int required) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it) return required ? -1 : 0;
    if (!cJSON_IsNumber(it)) return -1;
    *dst = (int64_t)it->valuedouble; /* what a cJSON user gets: a double */
    return 0;
}

static void cj_flag(const cJSON *o, const char *name, uint32_t bit, uint32_t *flags) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name))) *flags |= bit;
}

static int cj_arr_dec(const cJSON *o, const char *name, int64_t *dst) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *it;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 5) return -1;
    int i = 0;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it) || dec_parse(it->valuestring, strlen(it->valuestring), &dst[i++]) != 0)
            return -1;
    }
    return 0;
}

static int cj_arr_i32(const cJSON *o, const char *name, int32_t *dst, int required) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *it;
    if (!a) return required ? -1 : 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 5) return -1;
    int i = 0;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsNumber(it)) return -1;
        dst[i++] = (int32_t)it->valuedouble;
    }
    return 0;
}

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* The same normalization as psr_parse, on top of a cJSON DOM. */
static int cj_parse(int tag, const char *json, size_t len, shj_event *ev) {
    memset(ev, 0, sizeof *ev);
    cJSON *o = cJSON_ParseWithLength(json, len);
    if (!o) return -1;
    int rc = -1;
    int book = tag == PSR_TAG_BIDASK_STK || tag == PSR_TAG_BIDASK_FOP;
    int fop = tag == PSR_TAG_TICK_FOP || tag == PSR_TAG_BIDASK_FOP;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(o, "date");
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(o, "time");
    if (!cJSON_IsString(code) || !cJSON_IsString(date) || !cJSON_IsString(time)) goto out;
    size_t cl = strlen(code->valuestring);
    if (cl == 0 || cl > 15) goto out;
    memcpy(ev->code, code->valuestring, cl);
    const char *d = date->valuestring, *t = time->valuestring;
    if (strlen(d) != 10 || strlen(t) != 15) goto out;
    ev->ts_exch_ns = clk_taipei_to_utc_ns(two(d) * 100 + two(d + 2), two(d + 5), two(d + 8), two(t),
                                          two(t + 3), two(t + 6), atoi(t + 9));
    int64_t v;
    if (book) {
        if (cj_arr_dec(o, "bid_price", ev->bid_price) || cj_arr_dec(o, "ask_price", ev->ask_price) ||
            cj_arr_i32(o, "bid_volume", ev->bid_volume, 1) ||
            cj_arr_i32(o, "ask_volume", ev->ask_volume, 1) ||
            cj_arr_i32(o, "diff_bid_vol", ev->diff_bid_vol, 0) ||
            cj_arr_i32(o, "diff_ask_vol", ev->diff_ask_vol, 0))
            goto out;
        ev->kind = SHJ_KIND_BIDASK;
    } else {
        if (cj_dec(o, "open", &ev->open, 0) || cj_dec(o, "high", &ev->high, 0) ||
            cj_dec(o, "low", &ev->low, 0) || cj_dec(o, "close", &ev->close, 1) ||
            cj_dec(o, "avg_price", &ev->avg_price, 0) || cj_dec(o, "diff_price", &ev->diff_price, 0) ||
            cj_dec(o, "diff_rate", &ev->diff_rate, 0) || cj_dec(o, "amount", &ev->amount, 0) ||
            cj_dec(o, "amount_sum", &ev->amount_sum, 0) ||
            cj_dec(o, "target_kind_price", &ev->underlying_price, 0) ||
            cj_int(o, "vol_sum", &ev->vol_sum, 0) ||
            cj_int(o, "trade_bid_vol_sum", &ev->bid_side_vol_sum, 0) ||
            cj_int(o, "trade_ask_vol_sum", &ev->ask_side_vol_sum, 0))
            goto out;
        v = 0;
        if (cj_int(o, "volume", &v, 1)) goto out;
        ev->volume = (int32_t)v;
        v = 0;
        if (cj_int(o, "tick_type", &v, 0)) goto out;
        ev->tick_type = (int8_t)v;
        v = 0;
        if (cj_int(o, "chg_type", &v, 0)) goto out;
        ev->chg_type = (int8_t)v;
        ev->kind = SHJ_KIND_TICK;
    }
    cj_flag(o, "simtrade", SHJ_FLAG_SIMTRADE, &ev->flags);
    cj_flag(o, "suspend", SHJ_FLAG_SUSPENDED, &ev->flags);
    cj_flag(o, "intraday_odd", SHJ_FLAG_ODDLOT, &ev->flags);
    ev->exchange = fop ? SHJ_EX_TAIFEX : SHJ_EX_TSE;
    ev->sec_type = fop ? SHJ_SEC_FUT : SHJ_SEC_STK;
    ev->payload_tag = (uint8_t)tag;
    ev->inst_id = inst_intern(ev->code, cl, ev->exchange, ev->sec_type);
    const inst_info *info = inst_get(ev->inst_id);
    if (info && info->exchange) ev->exchange = info->exchange;
    if (info && info->sec_type) ev->sec_type = info->sec_type;
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}
#endif

typedef int (*parse_fn)(int tag, const char *json, size_t len, shj_event *ev);

static volatile uint64_t sink; /* keeps the compiler from dropping the work */

/* What the ingest path does per payload: a quote's book is a second parse. */
static int psr_book_fn(int tag, const char *json, size_t len, shj_event *ev) {
    int rc = psr_parse(tag, json, len, ev, NULL, 0);
    if (rc == PSR_EVENT && psr_tag_has_book(tag)) {
        shj_event book;
        int brc = psr_parse_book(tag, json, len, &book, NULL, 0);
        if (brc == PSR_MALFORMED) return brc; /* PSR_CONTROL: a quote without a book */
        sink += (uint64_t)book.bid_price[0];
    }
    return rc;
}

static int psr_fn(int tag, const char *json, size_t len, shj_event *ev) {
    return psr_parse(tag, json, len, ev, NULL, 0);
}

/* CPU time of this thread, ns: the box is shared, and wall time would
 * count the moments another process had our core. */
static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}


/* Best-of-repeats ns for one pass over the corpus. */
static double run(const corpus *c, parse_fn fn, int repeats, size_t *bad) {
    double best = 1e30;
    shj_event ev;
    for (int r = 0; r < repeats; r++) {
        size_t failed = 0;
        uint64_t acc = 0;
        int64_t t0 = cpu_ns();
        for (size_t i = 0; i < c->n; i++) {
            if (fn(c->tag[i], c->buf + c->off[i], c->len[i], &ev) != PSR_EVENT) failed++;
            acc += (uint64_t)ev.ts_exch_ns ^ (uint64_t)ev.inst_id;
        }
        int64_t t1 = cpu_ns();
        sink += acc;
        *bad = failed;
        if ((double)(t1 - t0) < best) best = (double)(t1 - t0);
    }
    return best;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    int psr_only = argc > 3 && strcmp(argv[3], "psr") == 0;
    if (n == 0 || repeats <= 0) {
        fprintf(stderr, "usage: bench_parse [N] [repeats]\n");
        return 2;
    }
    corpus c;
    gen(&c, n);
    printf("corpus: %zu payloads, %.1f MB, %.0f bytes/payload (40%% tick_stk, 20%% tick_fop, "
           "30%% bidask_stk, 10%% bidask_fop)\n",
           c.n, (double)c.bytes / 1e6, (double)c.bytes / (double)c.n);

    size_t mismatches = 0;
#ifdef SHJ_HAVE_CJSON
    if (psr_only) goto measure;
    /* Like for like: both parsers must produce the same events. */
    for (size_t i = 0; i < c.n && i < 100000; i++) {
        shj_event a, b;
        int ra = psr_parse(c.tag[i], c.buf + c.off[i], c.len[i], &a, NULL, 0);
        int rb = cj_parse(c.tag[i], c.buf + c.off[i], c.len[i], &b);
        if (ra != PSR_EVENT || rb != 0 || memcmp(&a, &b, sizeof a) != 0) mismatches++;
    }
    printf("check: psr_parse and cJSON path agree on %s (%zu mismatches)\n",
           mismatches ? "NOT all events" : "every event of the first 100k", mismatches);
measure:; /* a label may not precede a declaration in C11 (clang) */
#endif

    /* Machine calibration, same corpus, same clock: a plain byte loop
     * (count '"') — the cost of merely touching every byte once. The box is
     * shared; this line says how fast it was during this run. */
    double ns_touch = 1e30;
    for (int r = 0; r < repeats; r++) {
        uint64_t quotes = 0;
        int64_t t0 = cpu_ns();
        for (size_t i = 0; i < c.bytes; i++) quotes += c.buf[i] == '"';
        int64_t t1 = cpu_ns();
        sink += quotes;
        if ((double)(t1 - t0) < ns_touch) ns_touch = (double)(t1 - t0);
    }

    size_t bad_psr = 0, bad_sp = 0;
    double ns_psr = run(&c, psr_fn, repeats, &bad_psr);
    corpus sp;
    double ns_sp = load_sinopac(&sp, n) == 0 ? run(&sp, psr_book_fn, repeats, &bad_sp) : 0;
    double ns_cj = 0;
#ifdef SHJ_HAVE_CJSON
    size_t bad_cj = 0;
    if (!psr_only) ns_cj = run(&c, cj_parse, repeats, &bad_cj);
#endif
    printf("\n%-34s %14s %10s %9s %10s\n", "parser", "events/s", "ns/event", "MB/s", "vs cJSON");
    printf("%-34s %14.0f %10.1f %9.0f", "psr_parse (schema scanner)", (double)c.n / ns_psr * 1e9,
           ns_psr / (double)c.n, (double)c.bytes / ns_psr * 1e3);
    if (ns_cj > 0)
        printf(" %9.2fx\n", ns_cj / ns_psr);
    else
        printf(" %10s\n", "-");
#ifdef SHJ_HAVE_CJSON
    if (ns_cj > 0) {
        printf("%-34s %14.0f %10.1f %9.0f %9.2fx\n", "cJSON_ParseWithLength + extract",
               (double)c.n / ns_cj * 1e9, ns_cj / (double)c.n, (double)c.bytes / ns_cj * 1e3, 1.0);
        if (bad_cj) printf("cJSON path failed on %zu payloads\n", bad_cj);
    }
#else
    printf("(cJSON not available: baseline skipped)\n");
#endif
    if (ns_sp > 0)
        printf("%-34s %14.0f %10.1f %9.0f %10s   (%.0f bytes/payload)\n", "psr_parse, Sinopac's samples",
               (double)sp.n / ns_sp * 1e9, ns_sp / (double)sp.n, (double)sp.bytes / ns_sp * 1e3, "-",
               (double)sp.bytes / (double)sp.n);
    else
        printf("(Sinopac's samples not found: set SHJ_SOURCE_DIR)\n");
    if (bad_sp) printf("psr_parse failed on %zu of Sinopac's samples\n", bad_sp);
    printf("%-34s %14s %10.1f %9.0f %10s\n", "(calibration: byte loop, no parse)", "-",
           ns_touch / (double)c.n, (double)c.bytes / ns_touch * 1e3, "-");
    if (bad_psr) printf("psr_parse failed on %zu payloads\n", bad_psr);
    free(c.buf);
    free(c.off);
    free(c.len);
    free(c.tag);
    if (ns_sp > 0) {
        free(sp.buf);
        free(sp.off);
        free(sp.len);
        free(sp.tag);
    }
    inst_reset();
    return bad_psr || bad_sp || mismatches ? 1 : 0;
}
