/* standin_catalog.h — the stand-in's contract list (tool_standin.c only).
 *
 * Owns a realistic, deterministic Taiwan contract list for the Contract V2
 * and scanner endpoints (HTTP_API.md:166-173, 421-434, 456-515; CONTRACTS.md):
 *  - 1,800 stocks: exactly 1,000 TSE (ETFs included) and 800 OTC. The codes
 *    the other tests use keep their exchange (2330 ... TSE; the OTC codes of
 *    is_otc in tool_standin.c); the rest are a fixed pseudo-random pick of
 *    1101..9998 (a permutation of the range: no code twice), so the list is
 *    the same on every run and machine and does not depend on --seed.
 *  - TXF and MXF: the three nearest months and the three quarterly months
 *    after them (TAIFEX's listing rule), plus the continuous aliases R1/R2
 *    whose target_code names the real month (CONTRACTS.md:114).
 *  - TXO: the three nearest monthly expiries; strikes every 50 points within
 *    1,500 of the index for the near month, every 100 within 2,000 for the
 *    others, a call and a put each.
 * Month codes, aliases and expiries are core/contract.h's; exchange and type
 * names core/names.h's; futures and option references come from a private
 * simulated market with the stand-in's seed and date (sim.h), so they are the
 * references the streamed market starts from. Scanner values (volumes,
 * prices) are a deterministic function of the code.
 */
#ifndef SHJ_STANDIN_CATALOG_H
#define SHJ_STANDIN_CATALOG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/contract.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "sim/sim.h"

#define SC_TSE_STOCKS 1000
#define SC_OTC_STOCKS 800

typedef struct sc_contract {
    char code[16];
    char target[16];         /* continuous aliases: the real month */
    int exchange, sec_type;  /* shj_exchange / shj_sec_type */
    char root[4];            /* FUT/OPT */
    char delivery_month[7];  /* "202612" */
    char delivery_date[11];  /* "2026/12/16" */
    int64_t strike;          /* OPT, whole points */
    char right;              /* OPT: 'C' or 'P' */
    int64_t reference;       /* × SHJ_PRICE_SCALE; 0 = unknown */
    uint64_t total_volume;   /* STK: the scanner's day volume (lots) */
} sc_contract;

typedef struct sc_catalog {
    sc_contract *c;
    size_t n, cap;
} sc_catalog;

static sc_contract *sc_push(sc_catalog *k) {
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4096;
        k->c = realloc(k->c, k->cap * sizeof *k->c);
        if (!k->c) {
            fprintf(stderr, "standin: out of memory (catalog)\n");
            exit(3);
        }
    }
    sc_contract *c = &k->c[k->n++];
    memset(c, 0, sizeof *c);
    return c;
}

static const sc_contract *sc_find(const sc_catalog *k, const char *code) {
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->c[i].code, code)) return &k->c[i];
    return NULL;
}

static void sc_add_stock(sc_catalog *k, const char *code, int exchange) {
    if (sc_find(k, code)) return;
    sc_contract *c = sc_push(k);
    shj_strlcpy(c->code, code, sizeof c->code);
    c->exchange = exchange;
    c->sec_type = SHJ_SEC_STK;
    /* Day volume, heavy-tailed: most names trade hundreds to a few thousand
     * lots, one in sixteen tens of thousands. */
    uint64_t h = XXH64(code, strlen(code), 0x564f4cULL);
    c->total_volume = 50 + h % 3000 + ((h >> 40) % 16 == 0 ? (h >> 16) % 60000 : 0);
    if (!strcmp(code, "2330")) c->total_volume = 250000;
    c->reference = (int64_t)(1000 + (h >> 8) % 59000) / 5 * 5 * (SHJ_PRICE_SCALE / 100); /* NT$10-600 */
}

/* The real month code of root for (y, m): core/contract.h's calendar, by
 * resolving the near-month alias on the 1st of that month (always before its
 * third-Wednesday expiry). */
static void sc_month_code(const char *root, int y, int m, char out[16]) {
    char date[16], alias[8];
    snprintf(date, sizeof date, "%04d-%02d-01", y, m);
    snprintf(alias, sizeof alias, "%.3sR1", root);
    ctr_resolve_alias(date, alias, out);
}

static void sc_months_from(const char *date, int *y, int *m) {
    char near[16];
    ctr_resolve_alias(date, "TXFR1", near); /* the near month on date */
    int dy = near[4] - '0', dm = near[3] - 'A' + 1;
    int cy = atoi(date);
    int yy = cy - cy % 10 + dy;
    if (yy < cy) yy += 10;
    *y = yy;
    *m = dm;
}

static void sc_fill_month(sc_contract *c, const char *root, int y, int m) {
    shj_strlcpy(c->root, root, sizeof c->root);
    /* y and m come from a real code's month letter and year digit; a value
     * that would not fit leaves the field empty rather than cut */
    int n = snprintf(c->delivery_month, sizeof c->delivery_month, "%04d%02d", y, m);
    if (n < 0 || (size_t)n >= sizeof c->delivery_month) c->delivery_month[0] = '\0';
    n = snprintf(c->delivery_date, sizeof c->delivery_date, "%04d/%02d/%02d", y, m, ctr_expiry_day(y, m));
    if (n < 0 || (size_t)n >= sizeof c->delivery_date) c->delivery_date[0] = '\0';
}

/* Reference of code in the private market (0 when it cannot be simulated). */
static int64_t sc_reference(sim_market *ref_mkt, const char *code) {
    char resolved[16], err[128];
    if (sim_add(ref_mkt, code, 0, 0, 1u << SHJ_KIND_TICK, 0, resolved, err, sizeof err) != SHJ_OK) return 0;
    sim_contract sc;
    size_t n = sim_count(ref_mkt);
    if (n == 0 || sim_contract_at(ref_mkt, n - 1, &sc) != SHJ_OK) return 0;
    int64_t r = sc.reference;
    sim_remove(ref_mkt, resolved);
    return r;
}

static void sc_build(sc_catalog *k, uint64_t seed, const char *date) {
    /* Stocks: the codes other tests rely on first, then the pick. */
    static const char *const tse[] = {"2330", "2317", "2454", "0050", "2888", "2603", "2412", "2881",
                                      "2882", "2303", "0056", "00878", "2308", "2891", "2002", "3008",
                                      "0051", "0052", "0053", "0055", "0057", "006208", "00692",
                                      "00713", "00881", "00900", "00919", "00929", "00940", "00632R"};
    static const char *const otc[] = {"6488", "5483", "3105", "8069", "6547", "3293", "5347"};
    size_t n_tse = 0, n_otc = 0;
    for (size_t i = 0; i < sizeof tse / sizeof tse[0]; i++, n_tse++) sc_add_stock(k, tse[i], SHJ_EX_TSE);
    for (size_t i = 0; i < sizeof otc / sizeof otc[0]; i++, n_otc++) sc_add_stock(k, otc[i], SHJ_EX_OTC);
    /* 1101..9998: 8898 = 2 * 3 * 1483 codes; 7919 is coprime to it, so
     * r -> 1101 + (r * 7919) mod 8898 visits every code once. */
    const uint32_t span = 8898;
    for (uint32_t r = 0; r < span && (n_tse < SC_TSE_STOCKS || n_otc < SC_OTC_STOCKS); r++) {
        char code[8];
        snprintf(code, sizeof code, "%u", 1101 + (unsigned)(((uint64_t)r * 7919) % span));
        if (sc_find(k, code)) continue;
        int want_otc = (r % 9) >= 5; /* 4 in 9 OTC while both have room */
        if (n_otc >= SC_OTC_STOCKS) want_otc = 0;
        if (n_tse >= SC_TSE_STOCKS) want_otc = 1;
        sc_add_stock(k, code, want_otc ? SHJ_EX_OTC : SHJ_EX_TSE);
        if (want_otc) n_otc++;
        else n_tse++;
    }

    sim_market *ref_mkt = sim_new(seed, date, 1000);
    int y0, m0;
    sc_months_from(date, &y0, &m0);
    /* Futures: three nearest months + three quarterly months after them. */
    static const char *const froots[] = {"TXF", "MXF"};
    for (size_t f = 0; f < 2; f++) {
        int y = y0, m = m0, listed = 0;
        while (listed < 6) {
            if (listed < 3 || m % 3 == 0) {
                sc_contract *c = sc_push(k);
                sc_month_code(froots[f], y, m, c->code);
                c->exchange = SHJ_EX_TAIFEX;
                c->sec_type = SHJ_SEC_FUT;
                sc_fill_month(c, froots[f], y, m);
                if (ref_mkt) c->reference = sc_reference(ref_mkt, c->code);
                listed++;
            }
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
        for (int r = 1; r <= 2; r++) { /* continuous aliases */
            sc_contract *c = sc_push(k);
            snprintf(c->code, sizeof c->code, "%.3sR%d", froots[f], r);
            ctr_resolve_alias(date, c->code, c->target);
            const sc_contract *t = sc_find(k, c->target);
            c->exchange = SHJ_EX_TAIFEX;
            c->sec_type = SHJ_SEC_FUT;
            if (t) {
                shj_strlcpy(c->root, t->root, sizeof c->root);
                shj_strlcpy(c->delivery_month, t->delivery_month, sizeof c->delivery_month);
                shj_strlcpy(c->delivery_date, t->delivery_date, sizeof c->delivery_date);
                c->reference = t->reference;
            }
        }
    }
    /* TXO: the strike grid centres on the index (the near future's
     * reference, rounded to 100). */
    const sc_contract *near = sc_find(k, "TXFR1");
    int64_t centre = near && near->reference ? near->reference / SHJ_PRICE_SCALE / 100 * 100 : 23000;
    int y = y0, m = m0;
    for (int month = 0; month < 3; month++) {
        int step = month == 0 ? 50 : 100, width = month == 0 ? 1500 : 2000;
        char fut[16];
        sc_month_code("TXF", y, m, fut); /* letter + year digit of the month */
        for (int64_t s = centre - width; s <= centre + width; s += step) {
            for (int put = 0; put <= 1; put++) {
                sc_contract *c = sc_push(k);
                /* TXO + strike + month letter (A-L calls, M-X puts) + year digit (contract.h). */
                char code[40];
                snprintf(code, sizeof code, "TXO%lld%c%c", (long long)s, put ? fut[3] + 12 : fut[3], fut[4]);
                shj_strlcpy(c->code, code, sizeof c->code);
                c->exchange = SHJ_EX_TAIFEX;
                c->sec_type = SHJ_SEC_OPT;
                sc_fill_month(c, "TXO", y, m);
                c->strike = s;
                c->right = put ? 'P' : 'C';
                if (ref_mkt) c->reference = sc_reference(ref_mkt, c->code);
            }
        }
        if (++m > 12) {
            m = 1;
            y++;
        }
    }
    sim_free(ref_mkt);
}

#endif
