/* archive_dump.c — a raw archive file as JSON lines (see archive_dump.h).
 *
 * Guarantees: the output is valid JSON per line and loses nothing: payloads
 * that are valid UTF-8 (strictly: no overlongs, no surrogates, <= U+10FFFF)
 * are printed as escaped JSON strings; any other payload is printed as
 * base64. Damage is reported only after every good record was printed.
 */
#include "archive/archive_dump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "core/bytebuf.h"
#include "core/clock.h"
#include "parse/parse.h"
#include "core/shj_common.h"

typedef bb_buf dbuf; /* core/bytebuf.h */

static int db_reserve(dbuf *b, size_t more) { return bb_reserve(b, more) == 0 ? SHJ_OK : SHJ_ERR; }

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c == 0xE0) k = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) k = 3;
    else if (c == 0xED) k = 3, hi = 0x9F;            /* no UTF-16 surrogates */
    else if (c == 0xF0) k = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) k = 4;
    else if (c == 0xF4) k = 4, hi = 0x8F;            /* <= U+10FFFF */
    else return 0;
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return k;
}

static int is_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* Appends s as the inside of a JSON string (no quotes). */
static int put_json_string(dbuf *b, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (db_reserve(b, n * 6) != SHJ_OK) return SHJ_ERR;
    char *o = (char *)b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c >= 0x20) {
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\', *o++ = 'n';
        } else if (c == '\r') {
            *o++ = '\\', *o++ = 'r';
        } else if (c == '\t') {
            *o++ = '\\', *o++ = 't';
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        }
    }
    b->len = (size_t)(o - (char *)b->data);
    return SHJ_OK;
}

static int put_base64(dbuf *b, const unsigned char *s, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (db_reserve(b, (n + 2) / 3 * 4) != SHJ_OK) return SHJ_ERR;
    char *o = (char *)b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63], *o++ = tab[(v >> 6) & 63], *o++ = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63], *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63], *o++ = tab[(v >> 6) & 63], *o++ = '=';
    }
    b->len = (size_t)(o - (char *)b->data);
    return SHJ_OK;
}

static int put_text(dbuf *b, const char *s) {
    size_t n = strlen(s);
    if (db_reserve(b, n) != SHJ_OK) return SHJ_ERR;
    memcpy((char *)b->data + b->len, s, n);
    b->len += n;
    return SHJ_OK;
}

static int format_record(dbuf *b, const arc_record *r) {
    char head[256], iso[31];
    clk_utc_iso(r->recv_ns, iso);
    int known = r->tag > PSR_TAG_UNKNOWN && r->tag < PSR_TAG_MAX;
    char tagtxt[32] = "";
    if (!known) snprintf(tagtxt, sizeof tagtxt, ",\"tag\":%u", (unsigned)r->tag);
    int utf8 = is_utf8((const unsigned char *)r->data, r->len);
    snprintf(head, sizeof head,
             "{\"seq\":%" PRIu64 ",\"recv_ns\":%" PRId64 ",\"recv_time\":\"%s\",\"event\":\"%s\"%s,"
             "\"len\":%" PRIu32 ",\"%s\":\"",
             r->seq, r->recv_ns, iso, psr_tag_name(r->tag), tagtxt, r->len,
             utf8 ? "data" : "data_b64");
    b->len = 0;
    if (put_text(b, head) != SHJ_OK) return SHJ_ERR;
    int rc = utf8 ? put_json_string(b, (const unsigned char *)r->data, r->len)
                  : put_base64(b, (const unsigned char *)r->data, r->len);
    if (rc != SHJ_OK) return SHJ_ERR;
    return put_text(b, "\"}\n");
}

static int check_file(const char *path, FILE *out, char *err, size_t errlen) {
    arc_scan sc;
    if (arc_scan_file(path, &sc, err, errlen) != SHJ_OK) {
        fprintf(stderr, "shijim dump: %s\n", err);
        return SHJ_ERR;
    }
    if (sc.damaged_ranges) {
        /* Holes with valid blocks after them: readable with --resync. */
        fprintf(out, "%s: DAMAGED, %" PRIu64 " damaged range(s) (%" PRIu64 " bytes; first: %s), %" PRIu64
                     " records readable past them in %" PRIu64 " blocks, seq %" PRIu64 "..%" PRIu64 "%s\n",
                path, sc.damaged_ranges, sc.damaged_bytes, sc.detail, sc.records, sc.blocks,
                sc.first_seq, sc.last_seq, sc.torn ? ", then a torn tail" : "");
        shj_fail(err, errlen, "file %s: %" PRIu64 " damaged range(s); `shijim dump --resync` reads past them",
                 path, sc.damaged_ranges);
        fprintf(stderr, "shijim dump: %s\n", err);
        return SHJ_ERR;
    }
    if (!sc.torn) {
        fprintf(out, "%s: ok, %" PRIu64 " records in %" PRIu64 " blocks, seq %" PRIu64 "..%" PRIu64
                     ", %" PRIu64 " bytes\n",
                path, sc.records, sc.blocks, sc.first_seq, sc.last_seq, sc.file_bytes);
        return SHJ_OK;
    }
    if (sc.cut_short && arc_file_being_written(path)) {
        /* a recorder is appending: the tail is its block in flight */
        fprintf(out, "%s: RECORDING, %" PRIu64 " records in %" PRIu64 " blocks so far, seq %" PRIu64
                     "..%" PRIu64 ", complete up to byte offset %" PRIu64 " (a writer is appending)\n",
                path, sc.records, sc.blocks, sc.first_seq, sc.last_seq, sc.good_bytes);
        return SHJ_OK;
    }
    fprintf(out, "%s: DAMAGED, %" PRIu64 " good records in %" PRIu64 " blocks, seq %" PRIu64
                 "..%" PRIu64 ", good up to byte offset %" PRIu64 " of %" PRIu64 ": %s\n",
            path, sc.records, sc.blocks, sc.first_seq, sc.last_seq, sc.good_bytes, sc.file_bytes,
            sc.detail);
    shj_fail(err, errlen, "file %s: %s (%" PRIu64 " bytes after byte offset %" PRIu64 ")", path,
             sc.detail, sc.file_bytes - sc.good_bytes, sc.good_bytes);
    fprintf(stderr, "shijim dump: %s\n", err);
    return SHJ_ERR;
}

/* --check --resync: walk every block, passing over damage, and name every
 * byte range skipped; the summary counts the records still readable. */
static int check_resync(const char *path, FILE *out, char *err, size_t errlen) {
    arc_reader *r = arc_reader_open(path, err, errlen);
    if (!r) {
        fprintf(stderr, "shijim dump: %s\n", err);
        return SHJ_ERR;
    }
    uint64_t records = 0, first = 0, last = 0, ranges = 0;
    arc_record rec;
    int k;
    for (;;) {
        while ((k = arc_reader_next(r, &rec)) == 1) {
            if (!records++) first = rec.seq;
            last = rec.seq;
        }
        if (k == 0) break;
        uint64_t a, b;
        fprintf(stderr, "shijim dump: %s\n", arc_reader_error(r));
        if (arc_reader_resync(r, &a, &b) != SHJ_OK) break;
        ranges++;
        fprintf(stderr, "shijim dump: %s: skipped bytes [%" PRIu64 ", %" PRIu64 ") (%" PRIu64
                        " bytes), resuming at the next valid block\n", path, a, b, b - a);
    }
    int rc = SHJ_OK;
    if (k == 0 && ranges == 0) {
        fprintf(out, "%s: OK, %" PRIu64 " records, seq %" PRIu64 "..%" PRIu64 "\n", path, records,
                first, last);
    } else {
        fprintf(out, "%s: DAMAGED, %" PRIu64 " records readable, seq %" PRIu64 "..%" PRIu64
                     ", %" PRIu64 " damaged range(s) skipped (%" PRIu64 " bytes)%s\n",
                path, records, first, last, ranges, arc_reader_skipped_bytes(r),
                k < 0 ? ", then a torn tail" : "");
        rc = shj_fail(err, errlen, "file %s: %" PRIu64 " damaged range(s)%s", path, ranges,
                      k < 0 ? " and a torn tail" : "");
    }
    arc_reader_close(r);
    return rc;
}

int arcd_dump_jsonl(const char *path, FILE *out, int mode, char *err, size_t errlen) {
    if ((mode & ARCD_CHECK) && (mode & ARCD_RESYNC)) return check_resync(path, out, err, errlen);
    if (mode & ARCD_CHECK) return check_file(path, out, err, errlen);
    arc_reader *r = arc_reader_open(path, err, errlen);
    if (!r) {
        fprintf(stderr, "shijim dump: %s\n", err);
        return SHJ_ERR;
    }
    dbuf b = {0};
    arc_record rec;
    int k, rc = SHJ_OK, damaged = 0;
    for (;;) {
        while ((k = arc_reader_next(r, &rec)) == 1) {
            if (format_record(&b, &rec) != SHJ_OK) {
                rc = shj_fail(err, errlen, "file %s: out of memory formatting seq %" PRIu64, path,
                              rec.seq);
                break;
            }
            if (fwrite(b.data, 1, b.len, out) != b.len) {
                rc = shj_fail(err, errlen, "file %s: writing the dump failed", path);
                break;
            }
        }
        if (rc != SHJ_OK || k >= 0 || !(mode & ARCD_RESYNC)) break;
        uint64_t a, z;
        fflush(out);
        fprintf(stderr, "shijim dump: %s\n", arc_reader_error(r));
        if (arc_reader_resync(r, &a, &z) != SHJ_OK) {
            damaged = 1;
            break;
        }
        damaged = 1;
        fprintf(stderr, "shijim dump: %s: skipped bytes [%" PRIu64 ", %" PRIu64 ") (%" PRIu64
                        " bytes), resuming at the next valid block\n", path, a, z, z - a);
    }
    if (rc == SHJ_OK && k < 0) rc = shj_fail(err, errlen, "%s", arc_reader_error(r));
    else if (rc == SHJ_OK && damaged)
        rc = shj_fail(err, errlen, "file %s: %" PRIu64 " damaged bytes skipped", path,
                      arc_reader_skipped_bytes(r));
    if (rc != SHJ_OK) {
        fflush(out);
        fprintf(stderr, "shijim dump: %s\n", err);
    }
    bb_free(&b);
    arc_reader_close(r);
    return rc;
}
