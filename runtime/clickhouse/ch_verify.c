/* ch_verify.c — archive day file vs ClickHouse (see ch_verify.h). */
#include "clickhouse/ch_verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "clickhouse/ch_dsn.h"
#include "clickhouse/ch_http.h"
#include "clickhouse/ch_reconcile.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "parse/parse.h"

#define VERIFY_SEQ_STEP 100000

/* ---- a set of row keys (open addressing over 64-bit key hashes) --------- */

typedef struct key_set {
    uint64_t *slot; /* 0 = empty (a key hashing to 0 is stored as 1) */
    size_t cap, n;
} key_set;

static int set_add(key_set *s, uint64_t k) {
    if (!k) k = 1;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1 << 16;
        uint64_t *p = calloc(cap, sizeof *p);
        if (!p) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t j = s->slot[i] & (cap - 1);
            while (p[j]) j = (j + 1) & (cap - 1);
            p[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = p;
        s->cap = cap;
    }
    size_t j = k & (s->cap - 1);
    while (s->slot[j]) {
        if (s->slot[j] == k) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = k;
    s->n++;
    return 1;
}

static int kind_index(int kind) {
    if (kind == SHJ_KIND_TICK) return CHV_TICK;
    if (kind == SHJ_KIND_QUOTE) return CHV_QUOTE;
    if (kind == SHJ_KIND_BIDASK) return CHV_BIDASK;
    return -1;
}

/* Count a row (once per key) and add its encoding to the digest. */
static void add_row(key_set *keys, const shj_event *ev, uint64_t *rows, uint64_t *digest) {
    int k = kind_index(ev->kind);
    int t = chs_table_for_kind(ev->kind);
    if (k < 0 || t < 0) return;
    struct {
        int32_t table;
        char code[sizeof ev->code];
        int64_t ts;
        uint64_t seq;
        uint32_t source;
    } key;
    memset(&key, 0, sizeof key);
    key.table = t;
    memcpy(key.code, ev->code, sizeof key.code);
    key.ts = ev->ts_exch_ns;
    key.seq = ev->seq;
    key.source = ev->source_id;
    if (set_add(keys, XXH64(&key, sizeof key, 0)) != 1) return;
    chb_buf b;
    chb_init(&b);
    chb_encode(&b, ev);
    *digest += XXH64(b.data, b.len, 0);
    chb_free(&b);
    rows[k]++;
}

static void gap_text(chv_report *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gap_text(chv_report *out, const char *fmt, ...) {
    size_t used = strlen(out->gaps);
    if (used + 4 >= sizeof out->gaps) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out->gaps + used, sizeof out->gaps - used, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof out->gaps - used) memcpy(out->gaps + sizeof out->gaps - 4, "...", 4);
}

int chv_archive(const char *path, uint16_t source_id, chv_report *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->being_written = arc_file_being_written(path);
    arc_reader *r = arc_reader_open(path, err, errlen);
    if (!r) return SHJ_ERR;
    key_set keys = {0};
    arc_record rec;
    uint64_t prev = 0, damaged_from = 0, damaged_to = 0;
    int after_damage = 0;
    char perr[200];
    shj_event ev;
    for (;;) {
        int k = arc_reader_next(r, &rec);
        if (k == 0) break;
        if (k < 0) {
            shj_strlcpy(out->detail, arc_reader_error(r), sizeof out->detail);
            if (arc_reader_resync(r, &damaged_from, &damaged_to) == SHJ_OK) {
                out->damaged_ranges++;
                out->damaged_bytes += damaged_to - damaged_from;
                after_damage = 1;
                continue;
            }
            out->torn = arc_reader_cut_short(r);
            break;
        }
        out->records++;
        if (!out->first_seq) out->first_seq = rec.seq;
        if (rec.seq > out->last_seq) out->last_seq = rec.seq;
        if (prev && rec.seq > prev + 1) {
            out->seq_gaps++;
            out->seq_missing += rec.seq - prev - 1;
            if (after_damage)
                gap_text(out, "%sseq %" PRIu64 "..%" PRIu64 " missing (damaged bytes %" PRIu64 "..%" PRIu64
                              " passed over)", out->gaps[0] ? "; " : "", prev + 1, rec.seq - 1, damaged_from, damaged_to);
            else
                gap_text(out, "%sseq %" PRIu64 "..%" PRIu64 " missing (no damage seen: never archived)",
                         out->gaps[0] ? "; " : "", prev + 1, rec.seq - 1);
        } else if (prev && rec.seq < prev) {
            out->seq_restarts++;
            gap_text(out, "%sseq back from %" PRIu64 " to %" PRIu64 " (a restart before sequences continued)",
                     out->gaps[0] ? "; " : "", prev, rec.seq);
        }
        after_damage = 0;
        prev = rec.seq;
        if (psr_parse(rec.tag, rec.data, rec.len, &ev, perr, sizeof perr) == PSR_EVENT) {
            ev.seq = rec.seq;
            ev.ts_recv_ns = rec.recv_ns;
            ev.source_id = source_id;
            add_row(&keys, &ev, out->rows, &out->digest);
            if (psr_tag_has_book(rec.tag) && psr_parse_book(rec.tag, rec.data, rec.len, &ev, perr, sizeof perr) == PSR_EVENT) {
                ev.seq = rec.seq;
                ev.ts_recv_ns = rec.recv_ns;
                ev.source_id = source_id;
                add_row(&keys, &ev, out->rows, &out->digest);
            }
        }
    }
    arc_reader_close(r);
    free(keys.slot);
    return SHJ_OK;
}

int chv_clickhouse(const char *dsn, uint16_t source_id, chv_report *out, char *err, size_t errlen) {
    memset(out->ch_rows, 0, sizeof out->ch_rows);
    out->ch_digest = 0;
    chd_dsn d;
    if (chd_parse(dsn, &d, err, errlen) != SHJ_OK) return SHJ_ERR;
    chh_opts o = {2000, 300000};
    chh_sync *s = chh_sync_new(&d, &o, err, errlen);
    if (!s) return SHJ_ERR;
    int rc = SHJ_OK;
    key_set keys = {0};
    /* windows of VERIFY_SEQ_STEP sequences: each answer stays far below
     * CHH_BODY_MAX (a quote makes two rows of a few hundred bytes) */
    for (uint64_t lo = out->first_seq; out->records && lo <= out->last_seq && rc == SHJ_OK; lo += VERIFY_SEQ_STEP)
    for (int t = 0; t < CHS_NTABLES && rc == SHJ_OK; t++) {
        char sql[4096], why[400];
        uint64_t hi = out->last_seq - lo < VERIFY_SEQ_STEP ? out->last_seq : lo + VERIFY_SEQ_STEP - 1;
        snprintf(sql, sizeof sql,
                 "SELECT %s FROM %s.%s FINAL WHERE source = %u AND seq BETWEEN %" PRIu64 " AND %" PRIu64
                 " FORMAT RowBinary",
                 chs_columns((chs_table)t), d.database, chs_table_name((chs_table)t), (unsigned)source_id, lo, hi);
        chh_result r;
        if (chh_sync_exec(s, sql, NULL, 0, 0, &r) != CHH_OK) {
            chh_classify(&r, why, sizeof why);
            rc = shj_fail(err, errlen, "clickhouse %s: %s", d.redacted, why);
            break;
        }
        if (r.body_len >= CHH_BODY_MAX) {
            rc = shj_fail(err, errlen, "clickhouse %s: answer for seq %" PRIu64 "..%" PRIu64 " too big", d.redacted, lo, hi);
            break;
        }
        size_t off = 0, used;
        shj_event ev;
        while (off < r.body_len) {
            if (chb_decode((chs_table)t, (const uint8_t *)r.body + off, r.body_len - off, &used, &ev) != 0) {
                rc = shj_fail(err, errlen, "clickhouse %s: cannot decode the %s rows at byte %zu", d.redacted,
                              chs_table_name((chs_table)t), off);
                break;
            }
            off += used;
            add_row(&keys, &ev, out->ch_rows, &out->ch_digest);
        }
    }
    free(keys.slot);
    chh_sync_free(s);
    return rc;
}

int chv_reconcile(const char *archive_dir, const char *source, uint16_t source_id, const char *dsn,
                  uint64_t *replayed, char *err, size_t errlen) {
    chrc_result *res = malloc(sizeof *res);
    if (!res) return shj_fail(err, errlen, "out of memory");
    int rc = chrc_run(archive_dir, source, source_id, dsn, 1, res, err, errlen);
    *replayed = res->records_replayed;
    if (rc == SHJ_AGAIN) {
        shj_fail(err, errlen, "%s", res->error);
        rc = 1;
    }
    free(res);
    return rc;
}
