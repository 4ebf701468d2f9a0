/* test_archive_resync.c — a damaged block never hides the blocks after it.
 *
 * Issue 11, fault 2: one flipped byte far from the end of a day file made
 * dump and replay stop there, with every later record unreachable. Here a
 * file of ~60 blocks gets a flipped data byte in one block and a flipped
 * header byte in another; every reader (synchronous, read-ahead, parallel
 * decoding with a hook) must, via arc_reader_resync, return every record of
 * every other block in order, and name exactly the two damaged byte ranges.
 * A torn tail has nothing after it: resync says so and keeps the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "archive/archive_dump.h"
#include "t.h"

#define N_REC 3000
#define T0 1764000000000000000LL

static uint64_t blk_start[512], blk_end[512];
static uint64_t blk_first[512], blk_last[512];
static size_t nblk;

/* Block boundaries of a pristine file, from the reader's good offset. */
static void map_blocks(const char *path) {
    char err[4600];
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    arc_record rec;
    uint64_t prev = arc_reader_good_offset(r);
    nblk = 0;
    while (arc_reader_next(r, &rec) == 1) {
        uint64_t g = arc_reader_good_offset(r);
        if (g != prev) {
            blk_start[nblk] = prev;
            blk_end[nblk] = g;
            blk_first[nblk] = rec.seq;
            nblk++;
            prev = g;
        }
        blk_last[nblk - 1] = rec.seq;
    }
    arc_reader_close(r);
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
    fclose(a);
    fclose(b);
}

static void flip(const char *path, uint64_t off) {
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)off, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

typedef struct hook_ctx {
    int blocks_decoded;
} hook_ctx;

static void hk_decode(void *ctx, void **state, const arc_record *recs, size_t n) {
    hook_ctx *h = ctx;
    if (!*state) *state = malloc(sizeof(uint64_t));
    *(uint64_t *)*state = n ? recs[0].seq : 0; /* the block's first seq, checked by the owner */
    __atomic_add_fetch(&h->blocks_decoded, 1, __ATOMIC_RELAXED);
}
static void hk_release(void *ctx, void *state) {
    (void)ctx;
    free(state);
}

/* Reads path with resync; fills seen[] with the seqs returned in order. */
static size_t read_resync(const char *path, int kind, uint64_t *seen, uint64_t ranges[][2],
                          size_t *nranges, int *tail_error) {
    char err[4600];
    hook_ctx hc = {0};
    arc_decode_hook hook = {hk_decode, hk_release, &hc};
    arc_reader *r = kind == 0   ? arc_reader_open(path, err, sizeof err)
                    : kind == 1 ? arc_reader_open_prefetch(path, 4, err, sizeof err)
                                : arc_reader_open_decoding(path, 4, 2, &hook, err, sizeof err);
    CHECK(r != NULL);
    size_t n = 0;
    *nranges = 0;
    *tail_error = 0;
    arc_record rec;
    for (;;) {
        int k;
        while ((k = arc_reader_next(r, &rec)) == 1) {
            if (kind == 2) {
                size_t idx;
                uint64_t *first = arc_reader_block_state(r, &idx);
                CHECK(first != NULL && *first + idx == rec.seq); /* decoded state is this block's */
            }
            seen[n++] = rec.seq;
        }
        if (k == 0) break;
        uint64_t a, b;
        char before[4600];
        snprintf(before, sizeof before, "%s", arc_reader_error(r));
        if (arc_reader_resync(r, &a, &b) != SHJ_OK) {
            *tail_error = 1;
            CHECK_STR(arc_reader_error(r), before); /* still stopped, same error */
            break;
        }
        ranges[*nranges][0] = a;
        ranges[*nranges][1] = b;
        (*nranges)++;
    }
    arc_reader_close(r);
    return n;
}

int main(void) {
    char dir[] = "/tmp/shj_resync_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char buf[700];
    arc_opts o = {.dir = dir, .source = "rs", .fsync_ms = -1, .compress = ARC_COMPRESS_LZ4,
                  .block_bytes = 16384};
    CHECK_EQ_I64(arc_test_write(&o, 1, N_REC, arc_test_payload, T0, buf), SHJ_OK);
    char cmd[512], path[512], bad[600];
    snprintf(cmd, sizeof cmd, "ls %s/rs/*.shjraw", dir);
    FILE *ls = popen(cmd, "r");
    CHECK(fgets(path, sizeof path, ls) != NULL);
    pclose(ls);
    path[strcspn(path, "\n")] = '\0';
    map_blocks(path);
    CHECK(nblk > 30);
    fprintf(stderr, "file of %zu blocks\n", nblk);

    /* Damage: a data byte of block 5 and the magic of block 20's header. */
    const size_t d1 = 5, d2 = 20;
    snprintf(bad, sizeof bad, "%s.bad", path);
    copy_file(path, bad);
    flip(bad, blk_start[d1] + 64 + 100);
    flip(bad, blk_start[d2]);

    static uint64_t seen[N_REC];
    uint64_t ranges[8][2];
    for (int kind = 0; kind < 3; kind++) {
        size_t nr;
        int tail;
        size_t n = read_resync(bad, kind, seen, ranges, &nr, &tail);
        size_t want = N_REC - (blk_last[d1] - blk_first[d1] + 1) - (blk_last[d2] - blk_first[d2] + 1);
        CHECK_EQ_I64(n, want);
        CHECK_EQ_I64(nr, 2);
        CHECK_EQ_I64(tail, 0);
        CHECK_EQ_I64(ranges[0][0], blk_start[d1]);
        CHECK_EQ_I64(ranges[0][1], blk_end[d1]);
        CHECK_EQ_I64(ranges[1][0], blk_start[d2]);
        CHECK_EQ_I64(ranges[1][1], blk_end[d2]);
        /* in order, and exactly the records outside the damaged blocks */
        size_t i = 0;
        int order_ok = 1;
        for (uint64_t s = 1; s <= N_REC; s++) {
            if ((s >= blk_first[d1] && s <= blk_last[d1]) || (s >= blk_first[d2] && s <= blk_last[d2]))
                continue;
            if (i >= n || seen[i++] != s) order_ok = 0;
        }
        CHECK(order_ok);
        fprintf(stderr, "reader %d: %zu of %d records, skipped [%lu,%lu) [%lu,%lu)\n", kind, n, N_REC,
                (unsigned long)ranges[0][0], (unsigned long)ranges[0][1], (unsigned long)ranges[1][0],
                (unsigned long)ranges[1][1]);
    }

    /* dump --check --resync names both ranges and counts what is readable. */
    char out[600], err[600];
    snprintf(out, sizeof out, "%s/check.txt", dir);
    FILE *f = fopen(out, "w");
    CHECK_EQ_I64(arcd_dump_jsonl(bad, f, ARCD_CHECK | ARCD_RESYNC, err, sizeof err), SHJ_ERR);
    fclose(f);
    f = fopen(out, "r");
    char line[1024] = "";
    CHECK(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    CHECK(strstr(line, "DAMAGED") != NULL);
    CHECK(strstr(line, "2 damaged range(s)") != NULL);
    CHECK(strstr(err, "2 damaged range(s)") != NULL);
    /* dump --resync prints the records after the damage too. */
    f = fopen(out, "w");
    CHECK_EQ_I64(arcd_dump_jsonl(bad, f, ARCD_RESYNC, err, sizeof err), SHJ_ERR);
    fclose(f);
    f = fopen(out, "r");
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) lines += strchr(line, '\n') != NULL;
    fclose(f);
    CHECK(lines > 0);
    CHECK(strstr(line, "\"seq\":3000,") != NULL); /* the last record of the file */

    /* A torn tail: nothing valid follows, resync refuses and keeps the error. */
    copy_file(path, bad);
    truncate(bad, (off_t)(blk_end[nblk - 1] - 10));
    size_t nr;
    int tail;
    for (int kind = 0; kind < 3; kind++) {
        size_t n = read_resync(bad, kind, seen, ranges, &nr, &tail);
        CHECK_EQ_I64(n, blk_first[nblk - 1] - 1);
        CHECK_EQ_I64(nr, 0);
        CHECK_EQ_I64(tail, 1);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    T_DONE();
}
