/* test_archive_prefetch.c — arc_reader_open_prefetch and
 * arc_reader_open_decoding read exactly what arc_reader_open reads.
 *
 * Proves, with the synchronous reader as the oracle (and the generator as a
 * second one for the pristine file):
 *   (a) a 220 000-record day file (lz4 blocks, then raw blocks appended by a
 *       second writer, plus records larger than a block) reads back the same
 *       records in the same order at depths 0, 1, 2, 4, 64 and 1000
 *       (clamped), with arc_reader_good_offset equal after every record;
 *   (b) truncated copies (every block boundary and ±1 around it, ~300 random
 *       offsets, the file header) and 150 single-byte flips of a smaller
 *       many-block file, plus cuts of the big file: same records, same
 *       return code, same error text (file + byte offset), same good offset;
 *       open failures give the same message;
 *   every (a) and (b) comparison is also made with the decoding reader and
 *   1..4 parallel workers, whose decode hook fingerprints every record: the
 *   owner checks that arc_reader_block_state hands each record the
 *   fingerprint of that very record (right block, right index);
 *   (c) closing early — before the first record, after 1, mid-block,
 *       mid-file, after the end, after damage, 300 quick open/close rounds —
 *       returns promptly (a hang fails the ctest timeout) and leaks nothing
 *       (the ASan build checks).
 */
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "archive/archive_format.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

#define BIG_LZ4 150000
#define BIG_ALL 220000
#define SMALL_LZ4 3000
#define SMALL_ALL 5000
#define HUGE_LEN 300000u /* larger than any block_bytes used here */

static int64_t T0;
static int64_t gen_recv(uint64_t seq) { return arc_test_recv(T0, seq); }

/* arc_test_payload, except that one record in 40 000 is HUGE_LEN bytes. */
static uint32_t gen_payload(uint64_t seq, char *buf, uint8_t *tag) {
    if (seq % 40000 != 7) return arc_test_payload(seq, buf, tag);
    *tag = 3;
    for (uint32_t i = 0; i < HUGE_LEN; i++) buf[i] = (char)('a' + (mix64(seq + i / 64) % 26));
    return HUGE_LEN;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    SHJ_UNUSED(st), SHJ_UNUSED(flag), SHJ_UNUSED(f);
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int append_records(const char *dir, const char *source, int compress, size_t block_bytes,
                          uint64_t from, uint64_t to) {
    static char buf[HUGE_LEN + 1];
    arc_opts o = {.dir = dir, .source = source, .fsync_ms = -1, .compress = compress,
                  .block_bytes = block_bytes, .queue_blocks = 256};
    return arc_test_write(&o, from, to, gen_payload, T0, buf);
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

static void write_all(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* The decode hook of the tests: a fingerprint per record, in a state that
 * is recycled with its slot. */
typedef struct fp_state {
    size_t n, cap;
    uint64_t *fp;
} fp_state;

static uint64_t fingerprint(const arc_record *r) {
    uint64_t h = mix64(r->seq ^ ((uint64_t)r->recv_ns << 1) ^ ((uint64_t)r->tag << 56) ^ r->len);
    for (uint32_t i = 0; i < r->len; i += 61) h = mix64(h ^ (unsigned char)r->data[i]);
    return h;
}

static void fp_decode(void *ctx, void **state, const arc_record *recs, size_t n) {
    SHJ_UNUSED(ctx);
    fp_state *st = *state;
    if (!st) *state = st = calloc(1, sizeof *st);
    if (n > st->cap) {
        st->fp = realloc(st->fp, n * sizeof *st->fp);
        st->cap = n;
    }
    for (size_t i = 0; i < n; i++) st->fp[i] = fingerprint(&recs[i]);
    st->n = n;
}

static void fp_release(void *ctx, void *state) {
    SHJ_UNUSED(ctx);
    fp_state *st = state;
    free(st->fp);
    free(st);
}

static const arc_decode_hook fp_hook = {fp_decode, fp_release, NULL};

/* The reader under test: read-ahead (workers 0) or decoding with workers. */
static arc_reader *open_tested(const char *path, int depth, int workers, char *err, size_t errlen) {
    if (workers == 0) return arc_reader_open_prefetch(path, depth, err, errlen);
    return arc_reader_open_decoding(path, depth, workers, &fp_hook, err, errlen);
}

/* A decoding reader's state must fingerprint the record just returned. */
static int fp_mismatch(const arc_reader *r, int workers, const arc_record *rec) {
    size_t idx;
    const fp_state *st = arc_reader_block_state(r, &idx);
    if (workers == 0) return st != NULL;
    return !st || idx >= st->n || st->fp[idx] != fingerprint(rec);
}

/* Reads path with both readers in lock step. Every difference is one count
 * in the result (0 = identical). *n_rec gets the records read, *rc_end the
 * final return of arc_reader_next (or 2 when both opens failed alike). When
 * check_gen, records must also be seq 1.. with the generator's bytes. */
static uint64_t compare(const char *path, int depth, int workers, int check_gen, uint64_t *n_rec,
                        int *rc_end) {
    char e1[4600], e2[4600];
    static char buf[HUGE_LEN + 1];
    e1[0] = e2[0] = '\0';
    arc_reader *a = arc_reader_open(path, e1, sizeof e1);
    arc_reader *b = open_tested(path, depth, workers, e2, sizeof e2);
    uint64_t diff = 0;
    *n_rec = 0;
    if (!a || !b) {
        diff += !a != !b;
        diff += strcmp(e1, e2) != 0;
        if (a) arc_reader_close(a);
        if (b) arc_reader_close(b);
        *rc_end = 2;
        return diff;
    }
    arc_record ra, rb;
    int ka, kb;
    for (;;) {
        ka = arc_reader_next(a, &ra);
        kb = arc_reader_next(b, &rb);
        if (ka != kb) {
            diff++;
            break;
        }
        diff += arc_reader_good_offset(a) != arc_reader_good_offset(b);
        if (ka != 1) break;
        (*n_rec)++;
        if (ra.seq != rb.seq || ra.recv_ns != rb.recv_ns || ra.tag != rb.tag || ra.len != rb.len ||
            memcmp(ra.data, rb.data, ra.len) != 0)
            diff++;
        diff += fp_mismatch(b, workers, &rb);
        if (check_gen) {
            uint8_t tag;
            uint32_t len = gen_payload(*n_rec, buf, &tag);
            if (rb.seq != *n_rec || rb.recv_ns != gen_recv(*n_rec) || rb.tag != tag ||
                rb.len != len || memcmp(rb.data, buf, len) != 0)
                diff++;
        }
    }
    *rc_end = kb;
    diff += strcmp(arc_reader_error(a), arc_reader_error(b)) != 0;
    diff += arc_reader_good_offset(a) != arc_reader_good_offset(b);
    /* A finished reader stays finished, with the same verdict. */
    diff += arc_reader_next(b, &rb) != kb;
    if (diff) fprintf(stderr, "%s depth %d workers %d: sync \"%s\" / prefetch \"%s\"\n", path,
                      depth, workers, arc_reader_error(a), arc_reader_error(b));
    arc_reader_close(a);
    arc_reader_close(b);
    return diff;
}

/* Block ends of a pristine file, by a header walk. */
static size_t block_ends(const unsigned char *p, size_t len, uint64_t *ends, size_t max) {
    size_t n = 0;
    uint64_t off = ARC_FILE_HDR_BYTES;
    while (off + ARC_BLOCK_HDR_BYTES <= len && n < max) {
        off += ARC_BLOCK_HDR_BYTES + arc__get32(p + off + ARC_BH_STORED_LEN);
        ends[n++] = off;
    }
    return n;
}

static uint64_t rng = 0x1234567ull;
static uint64_t rnd(uint64_t n) { return (rng = mix64(rng)) % n; }

/* (a) ---------------------------------------------------------------------- */
static void test_big(const char *path) {
    static const struct {
        int depth, workers;
    } modes[] = {{4, 0}, {0, 0}, {1, 0}, {2, 0}, {64, 0}, {1000, 0},
                 {4, 2}, {1, 1}, {1, 3}, {6, 2}, {8, 4}, {64, 3}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        uint64_t n;
        int k;
        CHECK_EQ_I64(compare(path, modes[i].depth, modes[i].workers, i < 2 || i == 6, &n, &k), 0);
        CHECK_EQ_I64(n, BIG_ALL);
        CHECK_EQ_I64(k, 0);
    }
}

/* (b) ---------------------------------------------------------------------- */
static size_t damaged, damaged_errs, damaged_clean;

static void check_damaged(const char *dir, const unsigned char *bytes, size_t len, uint64_t max_rec) {
    char path[4200];
    snprintf(path, sizeof path, "%s/damaged.shjraw", dir);
    write_all(path, bytes, len);
    uint64_t n;
    int k;
    int depth = 1 + (int)(damaged % 6);   /* depths 1..6 in turn */
    int workers = (int)(damaged / 6 % 5); /* 0 (read-ahead) and 1..4 decoding workers */
    CHECK_EQ_I64(compare(path, depth, workers, 0, &n, &k), 0);
    CHECK(n <= max_rec);
    damaged++;
    damaged_errs += k == -1 || k == 2;
    damaged_clean += k == 0;
}

static void test_damage(const char *dir, const char *small, const char *big) {
    size_t len, blen;
    unsigned char *p = read_all(small, &len);
    CHECK(p != NULL);
    if (!p) return;
    static uint64_t ends[100000];
    size_t nb = block_ends(p, len, ends, 100000);
    CHECK(nb > 300);
    /* file header */
    for (size_t at = 0; at <= ARC_FILE_HDR_BYTES; at += 32) check_damaged(dir, p, at, 0);
    /* every 3rd block boundary, exactly and one byte either side */
    for (size_t b = 0; b < nb; b += 3) {
        check_damaged(dir, p, (size_t)ends[b], SMALL_ALL);
        check_damaged(dir, p, (size_t)ends[b] - 1, SMALL_ALL);
        if (ends[b] + 1 < len) check_damaged(dir, p, (size_t)ends[b] + 1, SMALL_ALL);
    }
    /* random cuts */
    for (int i = 0; i < 300; i++) check_damaged(dir, p, 1 + rnd(len - 1), SMALL_ALL);
    /* single-byte flips anywhere (header, block headers, stored bytes) */
    unsigned char *q = malloc(len);
    for (int i = 0; i < 150; i++) {
        memcpy(q, p, len);
        size_t at = i < 10 ? (size_t)rnd(ARC_FILE_HDR_BYTES) : (size_t)rnd(len);
        q[at] ^= (unsigned char)(1 + rnd(255));
        check_damaged(dir, q, len, SMALL_ALL);
    }
    free(q);
    free(p);
    /* the big file: cuts in the lz4 part, the raw part, near the end */
    unsigned char *bp = read_all(big, &blen);
    CHECK(bp != NULL);
    if (!bp) return;
    const size_t cuts[] = {blen / 3 + 5, blen / 2 + 77, blen * 4 / 5 + 3, blen - 10};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) check_damaged(dir, bp, cuts[i], BIG_ALL);
    free(bp);
}

/* (c) ---------------------------------------------------------------------- */
static void test_early_close(const char *big, const char *small_damaged_dir) {
    char err[4600];
    static const uint64_t stops[] = {0, 1, 2, 300, 5000, 110000, 219999};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        arc_reader *r = open_tested(big, 4, (int)(i % 3), err, sizeof err);
        CHECK(r != NULL);
        if (!r) continue;
        arc_record rec;
        uint64_t n = 0, bad = 0;
        while (n < stops[i] && arc_reader_next(r, &rec) == 1) bad += rec.seq != ++n;
        CHECK_EQ_I64(n, stops[i]);
        CHECK_EQ_I64(bad, 0);
        arc_reader_close(r);
    }
    /* Open and close at once, many times: the thread may be anywhere. */
    int opened = 0;
    for (int i = 0; i < 300; i++) {
        arc_reader *r = open_tested(big, 1 + i % 8, i % 4, err, sizeof err);
        if (!r) continue;
        opened++;
        arc_record rec;
        for (int k = 0; k < i % 3; k++) arc_reader_next(r, &rec);
        arc_reader_close(r);
    }
    CHECK_EQ_I64(opened, 300);
    /* Closed after the end and after damage. */
    arc_reader *r = arc_reader_open_prefetch(big, 2, err, sizeof err);
    arc_record rec;
    uint64_t n = 0;
    while (r && arc_reader_next(r, &rec) == 1) n++;
    CHECK_EQ_I64(n, BIG_ALL);
    arc_reader_close(r);
    char path[4200];
    snprintf(path, sizeof path, "%s/damaged.shjraw", small_damaged_dir);
    r = arc_reader_open_prefetch(path, 3, err, sizeof err);
    CHECK(r != NULL);
    int k = 1;
    while (r && (k = arc_reader_next(r, &rec)) == 1) n++;
    CHECK(k != 1);
    arc_reader_close(r);
    CHECK(arc_reader_open_prefetch("/nonexistent/x.shjraw", 4, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/x.shjraw") != NULL);
    err[0] = '\0';
    CHECK(open_tested("/nonexistent/y.shjraw", 4, 2, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/y.shjraw") != NULL);
    /* a decoding reader without a hook is a caller's mistake, said so */
    CHECK(arc_reader_open_decoding(big, 4, 2, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "decode hook") != NULL);
}

static const char *find_day_file(const char *dir, char *out, size_t outlen) {
    DIR *d = opendir(dir);
    struct dirent *de;
    out[0] = '\0';
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".shjraw") && !strstr(de->d_name, ".torn"))
            snprintf(out, outlen, "%s/%s", dir, de->d_name);
    if (d) closedir(d);
    return out;
}

int main(void) {
    char root[] = "/tmp/shj-arc-prefetch-XXXXXX";
    if (!mkdtemp(root)) return 2;
    /* 2026-11-25 10:00 Taipei = 02:00 UTC: all records in one trading day. */
    T0 = 1795572000LL * 1000000000LL;
    char big[4300], small[4300], sdir[4200];
    /* big: lz4 blocks of 64 KiB, then raw blocks of 16 KiB by a second writer */
    CHECK_EQ_I64(append_records(root, "big", ARC_COMPRESS_LZ4, 65536, 1, BIG_LZ4), SHJ_OK);
    CHECK_EQ_I64(append_records(root, "big", ARC_COMPRESS_NONE, 16384, BIG_LZ4 + 1, BIG_ALL), SHJ_OK);
    /* small: many small blocks, both codecs */
    CHECK_EQ_I64(append_records(root, "small", ARC_COMPRESS_LZ4, 4096, 1, SMALL_LZ4), SHJ_OK);
    CHECK_EQ_I64(append_records(root, "small", ARC_COMPRESS_NONE, 2048, SMALL_LZ4 + 1, SMALL_ALL),
                 SHJ_OK);
    snprintf(sdir, sizeof sdir, "%s/big", root);
    find_day_file(sdir, big, sizeof big);
    snprintf(sdir, sizeof sdir, "%s/small", root);
    find_day_file(sdir, small, sizeof small);
    CHECK(big[0] && small[0]);

    test_big(big);
    test_damage(root, small, big);
    /* the damage run both failed with errors and read cleanly to the end */
    CHECK(damaged > 900);
    CHECK(damaged_errs > 500);
    CHECK(damaged_clean > 50);
    printf("damaged copies: %zu (%zu with an error, %zu clean ends)\n", damaged, damaged_errs,
           damaged_clean);
    test_early_close(big, root);
    rm_rf(root);
    T_DONE();
}
