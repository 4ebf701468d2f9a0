/* test_archive_torn.c — torn and corrupt tails of raw archive files.
 *
 * Builds one day file (lz4 blocks, then raw blocks appended by a second
 * writer), then damages copies of it: truncation at 250+ random offsets plus
 * every interesting edge (inside the file header, exactly on block
 * boundaries, one byte short), and 120 random single-byte flips. A flip in a
 * block with blocks after it is a hole, not a tail: the scan counts it and
 * what follows, reopening for append cuts nothing, and a resyncing reader
 * gets every other record (expect_scan_hole, expect_reopen_hole). Otherwise:
 *   - the reader returns every record of every block that ends before the
 *     damage, byte for byte, and then reports "torn/corrupt block at byte
 *     offset N" with N the end of the last good block (or reads to a clean
 *     end when the cut falls exactly on a block boundary);
 *   - arc_scan_file agrees (records, blocks, good_bytes, torn);
 * and for every tenth damaged copy, reopening it for append keeps the
 * survivors, saves the cut bytes to the side file, cuts the tail and appends
 * new records after the survivors.
 */
#include <dirent.h>
#include <fcntl.h>
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
#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

#define N_LZ4 4000
#define N_RAW 2000
#define N_ALL (N_LZ4 + N_RAW)
#define NEW_SEQ 100001
#define N_NEW 50

static int64_t T0;
static int64_t gen_recv(uint64_t seq) { return arc_test_recv(T0, seq); }

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    SHJ_UNUSED(st), SHJ_UNUSED(flag), SHJ_UNUSED(f);
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void write_file(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static unsigned char *read_file(const char *path, size_t *n) {
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

static int append_records(const char *dir, int compress, size_t block_bytes, uint64_t from,
                          uint64_t to) {
    char buf[700];
    arc_opts o = {.dir = dir, .source = "torn", .fsync_ms = -1, .compress = compress,
                  .block_bytes = block_bytes};
    return arc_test_write(&o, from, to, arc_test_payload, T0, buf);
}

/* The pristine file and where its blocks end. */
static unsigned char *orig;
static size_t orig_len;
static uint64_t rec_end[N_ALL];        /* end offset of the block holding record i (seq i+1) */
static uint64_t bend[N_ALL], bstart[N_ALL];
static size_t nblocks;

/* Expected survivors of damage at byte offset `at`: records of blocks
 * ending at or before it. Returns the good offset (0 = header damaged). */
static uint64_t survivors(uint64_t at, size_t *nrec, size_t *nblk) {
    *nrec = *nblk = 0;
    if (at < 128) return 0;
    uint64_t good = 128;
    for (size_t b = 0; b < nblocks && bend[b] <= at; b++) {
        good = bend[b];
        *nblk = b + 1;
    }
    while (*nrec < N_ALL && rec_end[*nrec] <= good) (*nrec)++;
    return good;
}

/* Reads path; expects records seq 1..nrec exactly, then (extra > 0) seq
 * NEW_SEQ.. NEW_SEQ+extra-1, then a clean end at the end of the file
 * (clean) or damage reported at good (good 0: the file header). */
static void expect_file(const char *path, size_t nrec, size_t extra, uint64_t good, int clean) {
    char err[4600], buf[700];
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    if (!clean && good == 0) {
        CHECK(r == NULL);
        CHECK(strstr(err, "byte offset 0") != NULL);
        if (r) arc_reader_close(r);
        return;
    }
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    arc_record rec;
    size_t got = 0, bad = 0;
    int k;
    while ((k = arc_reader_next(r, &rec)) == 1) {
        uint64_t seq = got < nrec ? got + 1 : NEW_SEQ + (got - nrec);
        uint8_t tag;
        uint32_t len = arc_test_payload(seq, buf, &tag);
        if (rec.seq != seq || rec.recv_ns != gen_recv(seq) || rec.tag != tag || rec.len != len ||
            memcmp(rec.data, buf, len) != 0)
            bad++;
        got++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(got, nrec + extra);
    if (clean) {
        CHECK_EQ_I64(k, 0);
        CHECK_STR(arc_reader_error(r), "");
    } else {
        CHECK_EQ_I64(k, -1);
        char want[128];
        snprintf(want, sizeof want, "torn/corrupt block at byte offset %" PRIu64 ":", good);
        const char *e = arc_reader_error(r);
        CHECK(strstr(e, want) != NULL);
        CHECK(strstr(e, path) != NULL);
        if (!strstr(e, want)) fprintf(stderr, "want \"%s\" in \"%s\"\n", want, e);
    }
    struct stat st;
    stat(path, &st);
    CHECK_EQ_I64(arc_reader_good_offset(r), clean ? (uint64_t)st.st_size : good);
    arc_reader_close(r);
}

static void expect_scan(const char *path, size_t len, size_t nrec, size_t nblk, uint64_t good,
                        int clean) {
    arc_scan sc;
    char err[512];
    CHECK_EQ_I64(arc_scan_file(path, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.torn, !clean);
    CHECK_EQ_I64(sc.good_bytes, good);
    CHECK_EQ_I64(sc.records, nrec);
    CHECK_EQ_I64(sc.blocks, nblk);
    CHECK_EQ_I64(sc.file_bytes, len);
    if (nrec) {
        CHECK_EQ_I64(sc.first_seq, 1);
        CHECK_EQ_I64(sc.last_seq, nrec);
    }
    if (!clean) CHECK(strstr(sc.detail, "byte offset") != NULL);
}

static int reopens;

/* Writes bytes as the day file of a fresh archive under root/re, reopens it
 * for append with N_NEW new records; path gets the day file's path and dir
 * the archive root. */
static void reopen_append(const char *root, const unsigned char *bytes, size_t len, char *dir,
                          char *path) {
    snprintf(dir, 4200, "%s/re", root);
    rm_rf(dir);
    mkdir(dir, 0755);
    snprintf(path, 4300, "%s/torn", dir);
    mkdir(path, 0755);
    snprintf(path, 4300, "%s/torn/2026-11-25.shjraw", dir);
    write_file(path, bytes, len);
    reopens++;
    CHECK_EQ_I64(append_records(dir, ARC_COMPRESS_LZ4, 8192, NEW_SEQ, NEW_SEQ + N_NEW - 1), SHJ_OK);
}

/* Reopen the damaged bytes for append, then check survivors + new records
 * and the side file holding exactly the cut bytes. */
static void expect_reopen(const char *root, const unsigned char *bytes, size_t len, size_t nrec,
                          uint64_t good, int clean) {
    char dir[4200], path[4300];
    reopen_append(root, bytes, len, dir, path);
    expect_file(path, nrec, N_NEW, 0, 1);
    /* The survivors are kept byte for byte; a clean file was not cut at all. */
    size_t now_len = 0;
    unsigned char *now = read_file(path, &now_len);
    CHECK(now && now_len > good && (good < 128 || memcmp(now, bytes, good) == 0));
    if (clean) CHECK_EQ_I64(good, len);
    free(now);
    /* Side file: "<file>.torn-<good>-<ns>" with the cut bytes, or none. */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "2026-11-25.shjraw.torn-%" PRIu64 "-", good);
    char sdir[4300];
    snprintf(sdir, sizeof sdir, "%s/torn", dir);
    DIR *d = opendir(sdir);
    int sides = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strstr(de->d_name, ".torn-") == NULL) continue;
        sides++;
        CHECK(strncmp(de->d_name, prefix, strlen(prefix)) == 0);
        char sp[4600];
        snprintf(sp, sizeof sp, "%s/%s", sdir, de->d_name);
        size_t sn = 0;
        unsigned char *sb = read_file(sp, &sn);
        /* The side file opens with the day file's header (so dump and replay
         * can read it), then holds exactly the cut bytes. */
        size_t hdr = good >= 128 ? 128 : 0;
        CHECK_EQ_I64(sn, hdr + len - good);
        CHECK(sb && memcmp(sb, bytes, hdr) == 0 && memcmp(sb + hdr, bytes + good, len - good) == 0);
        free(sb);
    }
    if (d) closedir(d);
    CHECK_EQ_I64(sides, len > good ? 1 : 0);
}

/* Block b (not the last) is damaged: a hole. The scan counts it and the
 * blocks after it; a plain reader still stops there (expect_file). */
static size_t block_records(size_t b) {
    size_t n = 0;
    for (size_t i = 0; i < N_ALL; i++) n += rec_end[i] == bend[b];
    return n;
}

static void expect_scan_hole(const char *path, size_t b) {
    arc_scan sc;
    char err[512];
    CHECK_EQ_I64(arc_scan_file(path, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.torn, 0);
    CHECK_EQ_I64(sc.damaged_ranges, 1);
    CHECK_EQ_I64(sc.damaged_bytes, bend[b] - bstart[b]);
    CHECK_EQ_I64(sc.records, N_ALL - block_records(b));
    CHECK_EQ_I64(sc.blocks, nblocks - 1);
    CHECK_EQ_I64(sc.good_bytes, orig_len);
    CHECK_EQ_I64(sc.last_seq, N_ALL);
    CHECK(strstr(sc.detail, "byte offset") != NULL);
}

/* Reopening a file with a hole destroys nothing: no cut, no side file; the
 * new records follow the last block and a resyncing reader returns every
 * record outside the hole, then the new ones (issue 11 fault 2). */
static void expect_reopen_hole(const char *root, const unsigned char *bytes, size_t len, size_t b) {
    char dir[4200], path[4300];
    reopen_append(root, bytes, len, dir, path);
    size_t now_len = 0;
    unsigned char *now = read_file(path, &now_len);
    CHECK(now && now_len > len && memcmp(now, bytes, len) == 0);
    free(now);
    char err[4600];
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    if (!r) return;
    uint64_t want = 1, got = 0, holes = 0;
    int ok = 1;
    arc_record rec;
    for (;;) {
        int k;
        while ((k = arc_reader_next(r, &rec)) == 1) {
            while (want <= N_ALL && rec_end[want - 1] == bend[b]) want++; /* the hole's records */
            if (want == N_ALL + 1) want = NEW_SEQ;
            ok &= rec.seq == want;
            want++;
            got++;
        }
        if (k == 0) break;
        uint64_t a, z;
        if (arc_reader_resync(r, &a, &z) != SHJ_OK) break;
        holes++;
        ok &= a == bstart[b] && z == bend[b];
    }
    arc_reader_close(r);
    CHECK(ok);
    CHECK_EQ_I64(holes, 1);
    CHECK_EQ_I64(got, N_ALL - block_records(b) + N_NEW);
    char sdir[4300];
    snprintf(sdir, sizeof sdir, "%s/torn", dir);
    DIR *d = opendir(sdir);
    struct dirent *de;
    int sides = 0;
    while (d && (de = readdir(d))) sides += strstr(de->d_name, ".torn-") != NULL;
    if (d) closedir(d);
    CHECK_EQ_I64(sides, 0);
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    shj_log_set_level(SHJ_LOG_ERROR);   /* the expected "cutting N bytes" warnings */
    T0 = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 0, 0);
    const char *base = getenv("TMPDIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/shj_torn_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(root)) return 2;

    /* The pristine file: lz4 blocks, then raw blocks from a second writer. */
    char path[4200], copy[4200];
    snprintf(path, sizeof path, "%s/torn/2026-11-25.shjraw", root);
    snprintf(copy, sizeof copy, "%s/copy.shjraw", root);
    CHECK_EQ_I64(append_records(root, ARC_COMPRESS_LZ4, 8192, 1, N_LZ4), SHJ_OK);
    CHECK_EQ_I64(append_records(root, ARC_COMPRESS_NONE, 4096, N_LZ4 + 1, N_ALL), SHJ_OK);
    orig = read_file(path, &orig_len);
    CHECK(orig != NULL);
    if (!orig) T_DONE();
    {
        char err[512];
        arc_reader *r = arc_reader_open(path, err, sizeof err);
        CHECK(r != NULL);
        arc_record rec;
        size_t i = 0;
        while (r && i < N_ALL && arc_reader_next(r, &rec) == 1) {
            CHECK_EQ_I64(rec.seq, i + 1);
            rec_end[i] = arc_reader_good_offset(r);
            if (nblocks == 0 || bend[nblocks - 1] != rec_end[i]) {
                bstart[nblocks] = nblocks ? bend[nblocks - 1] : 128;
                bend[nblocks++] = rec_end[i];
            }
            i++;
        }
        CHECK_EQ_I64(i, N_ALL);
        CHECK_EQ_I64(bend[nblocks - 1], orig_len);
        if (r) arc_reader_close(r);
    }
    printf("pristine file: %zu bytes, %zu blocks, %d records\n", orig_len, nblocks, N_ALL);
    expect_file(path, N_ALL, 0, orig_len, 1);

    /* Truncations. */
    uint64_t cuts[400];
    size_t ncuts = 0;
    uint64_t edges[] = {0, 1, 127, 128, 129, 128 + 63, 128 + 64, orig_len - 1};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) cuts[ncuts++] = edges[i];
    for (size_t b = 0; b < nblocks; b += nblocks / 10 + 1) {
        cuts[ncuts++] = bend[b];       /* exactly on a boundary: a shorter, clean file */
        cuts[ncuts++] = bend[b] - 1;
        cuts[ncuts++] = bend[b] + 1;
    }
    while (ncuts < 300) cuts[ncuts++] = rnd() % orig_len;
    size_t torn_seen = 0, clean_seen = 0;
    for (size_t i = 0; i < ncuts; i++) {
        uint64_t c = cuts[i];
        if (c > orig_len) continue;
        size_t nrec, nblk;
        uint64_t good = survivors(c, &nrec, &nblk);
        int clean = good == c && c >= 128;
        write_file(copy, orig, c);
        expect_file(copy, nrec, 0, good, clean);
        expect_scan(copy, c, nrec, nblk, good, clean);
        if (i % 10 == 0) expect_reopen(root, orig, c, nrec, good, clean);
        torn_seen += !clean;
        clean_seen += clean;
    }
    printf("truncations: %zu (%zu torn, %zu on a boundary)\n", ncuts, torn_seen, clean_seen);

    /* Single-byte flips. */
    unsigned char *dmg = malloc(orig_len);
    int holes_seen = 0;
    for (int i = 0; i < 120; i++) {
        uint64_t at = i == 0 ? 5 : i == 1 ? 130 : rnd() % orig_len;
        memcpy(dmg, orig, orig_len);
        dmg[at] ^= (unsigned char)(1 + rnd() % 255);
        size_t nrec = 0, nblk = 0, b = 0;
        uint64_t good = 0;
        if (at >= 128) {
            while (bend[b] <= at) b++;
            good = survivors(bstart[b], &nrec, &nblk);
        }
        write_file(copy, dmg, orig_len);
        expect_file(copy, nrec, 0, good, 0);
        if (at >= 128 && b + 1 < nblocks) {
            holes_seen++;
            expect_scan_hole(copy, b);
            if (i % 10 == 0) expect_reopen_hole(root, dmg, orig_len, b);
            continue;
        }
        expect_scan(copy, orig_len, nrec, nblk, good, 0);
        if (i % 10 == 0) expect_reopen(root, dmg, orig_len, nrec, good, 0);
    }
    printf("byte flips: 120 (%d holes with blocks after them); damaged copies reopened for append: %d\n",
           holes_seen, reopens);
    CHECK(holes_seen > 60);
    free(dmg);
    free(orig);
    rm_rf(root);
    T_DONE();
}
