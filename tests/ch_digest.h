/* ch_digest.h — per-day row counts and an order-independent digest of every
 * stored field, computed the same way from source events and from what
 * ClickHouse returns (SELECT ... FINAL FORMAT RowBinary, decoded with
 * chb_decode). Equal digests mean the same multiset of rows. */
#ifndef SHJ_CH_DIGEST_H
#define SHJ_CH_DIGEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "ch_harness.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "core/shj_event.h"

#define CHD_DAYS 16

typedef struct chg_digest {
    int64_t day[CHD_DAYS];
    uint64_t count[CHD_DAYS];
    uint64_t sum[CHD_DAYS];   /* sum of xxh64 of each row, mod 2^64 */
    int ndays;
    uint64_t overflow;
} chg_digest;

static inline uint64_t chg_row_hash(const shj_event *ev) {
    /* the stored fields only, in a fixed layout */
    chb_buf b;
    chb_init(&b);
    chb_encode(&b, ev);
    uint64_t h = XXH64(b.data, b.len, 0);
    chb_free(&b);
    return h;
}

static inline void chg_add(chg_digest *d, const shj_event *ev) {
    int64_t day = chb_taipei_day(ev->ts_exch_ns);
    int i = 0;
    while (i < d->ndays && d->day[i] != day) i++;
    if (i == d->ndays) {
        if (d->ndays == CHD_DAYS) {
            d->overflow++;
            return;
        }
        d->day[d->ndays++] = day;
    }
    d->count[i]++;
    d->sum[i] += chg_row_hash(ev);
}

static inline uint64_t chg_total(const chg_digest *d) {
    uint64_t n = 0;
    for (int i = 0; i < d->ndays; i++) n += d->count[i];
    return n;
}

/* 1 when both have the same days, counts and sums. Prints differences. */
static inline int chg_equal(const chg_digest *a, const chg_digest *b, const char *what) {
    int ok = a->ndays == b->ndays && !a->overflow && !b->overflow;
    for (int i = 0; i < a->ndays; i++) {
        int j = 0;
        while (j < b->ndays && b->day[j] != a->day[i]) j++;
        if (j == b->ndays || a->count[i] != b->count[j] || a->sum[i] != b->sum[j]) {
            fprintf(stderr, "%s: day %lld: %llu rows vs %llu\n", what, (long long)a->day[i],
                    (unsigned long long)a->count[i], j < b->ndays ? (unsigned long long)b->count[j] : 0ULL);
            ok = 0;
        }
    }
    return ok;
}

/* Digest of a table as ClickHouse holds it (final = collapse duplicates). */
static inline int chg_from_server(const chx_server *s, const char *db, chs_table t, int final, chg_digest *d) {
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s.%s%s FORMAT RowBinary", chs_columns(t), db,
             chs_table_name(t), final ? " FINAL" : "");
    chx_body r = {0};
    long code = chx_post(s, sql, NULL, 0, &r);
    if (code != 200) {
        fprintf(stderr, "chg_from_server: HTTP %ld %s\n", code, r.p ? r.p : "");
        free(r.p);
        return -1;
    }
    size_t off = 0;
    shj_event ev;
    while (off < r.len) {
        size_t used;
        if (chb_decode(t, (const uint8_t *)r.p + off, r.len - off, &used, &ev) != 0) {
            free(r.p);
            return -1;
        }
        off += used;
        chg_add(d, &ev);
    }
    free(r.p);
    return 0;
}

#endif
