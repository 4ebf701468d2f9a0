/* test_archive.c — the raw archive writer and reader (runtime/archive.h).
 *
 * Proves: a 1M-record round trip per codec (lz4, none) across the 15:00
 * Taipei day rollover, every field of every record checked; block/record
 * accounting (bytes on disk are exactly headers + raw for codec none); the
 * day rule including a clock stepping back into an earlier day; records
 * larger than a block; back-pressure (full queue -> SHJ_AGAIN, counted, no
 * drop, arc_ready agrees); the fsync policy by record count, by age and
 * per block (fsync_ms 0);
 * sticky disk errors naming the file (ENOSPC on a tiny tmpfs when mounts are
 * allowed, EFBIG via RLIMIT_FSIZE always); open errors; a second writer is
 * locked out; the JSONL dump, exactly.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "archive/archive_dump.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

/* Deterministic records ================================================== */

static size_t put_str(char *o, const char *s) {
    size_t n = strlen(s);
    memcpy(o, s, n);
    return n;
}

static size_t put_u(char *o, uint64_t v) {
    char t[24];
    size_t n = 0;
    do t[n++] = (char)('0' + v % 10); while (v /= 10);
    for (size_t i = 0; i < n; i++) o[i] = t[n - 1 - i];
    return n;
}

/* A payload of 50..600 bytes derived from seq: JSON-like text (compressible)
 * and, for about 1 in 50 records, arbitrary bytes including NUL. */
static uint32_t gen_payload(uint64_t seq, char *buf, uint8_t *tag) {
    uint64_t h = mix64(seq);
    uint32_t len = 50 + (uint32_t)(h % 551);
    *tag = (uint8_t)(1 + (h >> 20) % 7);
    if ((h >> 40) % 50 == 0) {
        uint64_t s = h;
        for (uint32_t i = 0; i < len; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = (char)(s >> 56);
        }
        return len;
    }
    /* Shioaji-like JSON: field names repeat (lz4 finds them), numbers vary.
     * Hand-rolled (no snprintf): 2M records are generated twice per run. */
    static const char *const names[] = {"open", "high", "low", "close", "avg_price", "amount",
                                        "volume", "vol_sum", "tick_type", "diff_price",
                                        "bid_price", "ask_volume"};
    char tmp[600];
    size_t n = 0;
    n += put_str(tmp + n, "{\"code\":\"");
    n += put_u(tmp + n, 1000 + h % 9000);
    n += put_str(tmp + n, "\",\"seq\":");
    n += put_u(tmp + n, seq);
    tmp[n++] = ',';
    uint64_t s = h | 1;
    while (n < len) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        char field[64];
        size_t k = 0;
        field[k++] = '"';
        k += put_str(field + k, names[s % 12]);
        k += put_str(field + k, "\":\"");
        k += put_u(field + k, (s >> 8) % 2000);
        field[k++] = '.';
        k += put_u(field + k, (s >> 24) % 100);
        k += put_str(field + k, "\",");
        size_t take = k < len - n ? k : len - n;
        memcpy(tmp + n, field, take);
        n += take;
    }
    memcpy(buf, tmp, len);
    return len;
}

static int64_t T0;   /* 2026-11-25 14:59:59.5 Taipei: the 15:00 roll comes 0.5 s later */
static int64_t STEP = 1000; /* ns between records: n records span 1 s */

static int64_t gen_recv(uint64_t seq) {
    /* Every 5th record steps half a STEP back (negative deltas). */
    return T0 + (int64_t)seq * STEP - (seq % 5 == 0 ? STEP + STEP / 2 : 0);
}

static int append_retry(arc_writer *w, uint8_t tag, const void *d, uint32_t len, int64_t recv,
                        uint64_t seq) {
    for (;;) {
        int rc = arc_append(w, tag, d, len, recv, seq);
        if (rc != SHJ_AGAIN) return rc;
        usleep(200);
    }
}

/* Files ================================================================== */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    SHJ_UNUSED(st), SHJ_UNUSED(flag), SHJ_UNUSED(f);
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static char *mk_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char *t = malloc(4096);
    snprintf(t, 4096, "%s/shj_arc_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t)) {
        perror("mkdtemp");
        exit(2);
    }
    return t;
}

/* Reads path and checks its records are exactly seq from..to (those for
 * which want(seq) holds), in order, ending cleanly. Returns records read. */
static uint64_t verify_file(const char *path, uint64_t from, uint64_t to, int (*want)(uint64_t)) {
    char err[512], buf[700];
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    arc_record rec;
    uint64_t n = 0, bad = 0, seq = from;
    int k;
    while ((k = arc_reader_next(r, &rec)) == 1) {
        while (seq <= to && want && !want(seq)) seq++;
        uint8_t tag;
        uint32_t len = gen_payload(seq, buf, &tag);
        if (rec.seq != seq || rec.recv_ns != gen_recv(seq) || rec.tag != tag || rec.len != len ||
            memcmp(rec.data, buf, len) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "%s: record %" PRIu64 ": got seq %" PRIu64 " len %" PRIu32 "\n", path,
                        seq, rec.seq, rec.len);
        }
        seq++;
        n++;
    }
    while (seq <= to && want && !want(seq)) seq++;
    CHECK_EQ_I64(k, 0);
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(seq, to + 1);
    arc_reader_close(r);
    return n;
}

static int64_t roll_ns;   /* 2026-11-25 15:00:00 Taipei */
static int before_roll(uint64_t seq) { return gen_recv(seq) < roll_ns; }
static int after_roll(uint64_t seq) { return gen_recv(seq) >= roll_ns; }

/* 1. Round trip across the day roll ====================================== */

static void test_round_trip(int compress, uint64_t n) {
    char *dir = mk_tmpdir();
    char err[512], buf[700];
    arc_opts o = {.dir = dir, .source = "sim", .fsync_ms = 500, .compress = compress};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_STR(arc_current_path(w), "");
    char first_path[4200];
    first_path[0] = '\0';
    for (uint64_t seq = 1; seq <= n; seq++) {
        uint8_t tag;
        uint32_t len = gen_payload(seq, buf, &tag);
        if (append_retry(w, tag, buf, len, gen_recv(seq), seq) != SHJ_OK) {
            CHECK(!"append failed");
            break;
        }
        if (seq == 1) snprintf(first_path, sizeof first_path, "%s", arc_current_path(w));
        if ((seq & 1023) == 0) arc_poll(w, clk_mono_ns());
    }
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_OK);
    arc_stats st;
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.records, n);
    CHECK_EQ_I64(st.durable_records, n);
    CHECK_EQ_I64(st.durable_seq, n);
    CHECK_EQ_I64(st.failed, 0);
    CHECK(st.blocks > n * 325 / (256 << 10));
    if (compress == ARC_COMPRESS_NONE)
        CHECK_EQ_I64(st.bytes_written, st.bytes_raw + st.blocks * 64 + 2 * 128);
    else
        CHECK(st.bytes_written < st.bytes_raw * 2 / 3);
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/sim/2026-11-25.shjraw", dir);
    snprintf(p2, sizeof p2, "%s/sim/2026-11-26.shjraw", dir);
    CHECK_STR(first_path, p1);
    CHECK_STR(arc_current_path(w), p2);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);

    uint64_t a = verify_file(p1, 1, n, before_roll);
    uint64_t b = verify_file(p2, 1, n, after_roll);
    CHECK_EQ_I64(a + b, n);
    CHECK(a > n / 3 && b > n / 3);   /* really two days */
    arc_scan sc;
    CHECK_EQ_I64(arc_scan_file(p2, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.torn, 0);
    CHECK_EQ_I64(sc.records, b);
    CHECK_EQ_I64(sc.last_seq, n);
    CHECK_EQ_I64(sc.good_bytes, sc.file_bytes);
    rm_rf(dir);
    free(dir);
}

/* 2. Day rule, clock stepping back, huge records ========================== */

static void test_days_and_big_records(void) {
    char *dir = mk_tmpdir();
    char err[512];
    arc_opts o = {.dir = dir, .source = "s", .fsync_ms = -1, .compress = ARC_COMPRESS_LZ4,
                  .block_bytes = 64 << 10};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    int64_t d0_0930 = clk_taipei_to_utc_ns(2026, 11, 25, 9, 30, 0, 0);
    int64_t d0_1459 = clk_taipei_to_utc_ns(2026, 11, 25, 14, 59, 59, 999999) + 999;
    int64_t d1_1500 = clk_taipei_to_utc_ns(2026, 11, 25, 15, 0, 0, 0);    /* belongs to 11-26 */
    int64_t d1_0000 = clk_taipei_to_utc_ns(2026, 11, 26, 0, 0, 0, 0);
    size_t big = 3u << 20;
    char *p = malloc(big + 16);   /* record i starts at p + i */
    for (size_t i = 0; i < big; i++) p[i] = (char)(i * 7 + i / 1000);
    struct {
        int64_t recv;
        uint32_t len;
        const char *want_day;
    } rs[] = {
        {d0_0930, 100, "2026-11-25"}, {d1_1500, 1u << 20, "2026-11-26"},
        {d0_1459, 200, "2026-11-25"}, {d1_0000, (uint32_t)big, "2026-11-26"},
        {d1_0000 + 1, 10, "2026-11-26"},
    };
    size_t nrs = sizeof rs / sizeof rs[0];
    for (size_t i = 0; i < nrs; i++) {
        CHECK_EQ_I64(append_retry(w, 3, p + i, rs[i].len, rs[i].recv, 100 + i), SHJ_OK);
        char want[4200];
        snprintf(want, sizeof want, "%s/s/%s.shjraw", dir, rs[i].want_day);
        CHECK_STR(arc_current_path(w), want);
        arc_poll(w, clk_mono_ns() + 3600 * CLK_NS_PER_SEC);
    }
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    const char *days[2] = {"2026-11-25", "2026-11-26"};
    for (int d = 0; d < 2; d++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/s/%s.shjraw", dir, days[d]);
        arc_reader *r = arc_reader_open(path, err, sizeof err);
        CHECK(r != NULL);
        if (!r) continue;
        arc_record rec;
        for (size_t i = 0; i < nrs; i++) {
            if (strcmp(rs[i].want_day, days[d]) != 0) continue;
            CHECK_EQ_I64(arc_reader_next(r, &rec), 1);
            CHECK_EQ_I64(rec.seq, 100 + i);
            CHECK_EQ_I64(rec.recv_ns, rs[i].recv);
            CHECK_EQ_I64(rec.len, rs[i].len);
            CHECK_EQ_I64(rec.tag, 3);
            CHECK(memcmp(rec.data, p + i, rs[i].len) == 0);
        }
        CHECK_EQ_I64(arc_reader_next(r, &rec), 0);
        arc_reader_close(r);
    }
    /* Day boundaries by the clock module: 15:00 Taipei is the first ns of the next day. */
    char name[11];
    clk_taipei_date(d1_1500 + 9 * 3600 * CLK_NS_PER_SEC, name);
    CHECK_STR(name, "2026-11-26");
    free(p);
    rm_rf(dir);
    free(dir);
}

/* 3. Back-pressure ======================================================== */

void arc__test_pause(arc_writer *w, int paused);

static void test_back_pressure(void) {
    char *dir = mk_tmpdir();
    char err[512], buf[700];
    arc_opts o = {.dir = dir, .source = "bp", .fsync_ms = -1, .compress = ARC_COMPRESS_NONE,
                  .block_bytes = 1024, .queue_blocks = 2};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    arc__test_pause(w, 1);
    /* 300-byte payloads: 3 per 1 KiB block; 1 filling + 2 queued = 9 records. */
    memset(buf, 'q', 300);
    uint64_t seq = 0;
    int rc;
    while ((rc = arc_append(w, 1, buf, 300, T0 + (int64_t)seq, seq + 1)) == SHJ_OK) seq++;
    CHECK_EQ_I64(rc, SHJ_AGAIN);
    CHECK_EQ_I64(seq, 9);
    CHECK_EQ_I64(arc_ready(w, 300), 0);
    CHECK_EQ_I64(arc_append(w, 1, buf, 300, T0 + (int64_t)seq, seq + 1), SHJ_AGAIN);
    arc_stats st;
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.stalls, 2);
    CHECK_EQ_I64(st.records, 9);
    CHECK_EQ_I64(st.durable_records, 0);
    arc__test_pause(w, 0);
    for (int i = 0; i < 20000 && !arc_ready(w, 300); i++) usleep(1000);
    CHECK(arc_ready(w, 300) != 0);
    CHECK_EQ_I64(arc_append(w, 1, buf, 300, T0 + (int64_t)seq, seq + 1), SHJ_OK);
    seq++;
    for (; seq < 500; seq++) {
        buf[0] = (char)seq;
        CHECK_EQ_I64(append_retry(w, 1, buf, 300, T0 + (int64_t)seq, seq + 1), SHJ_OK);
    }
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_OK);
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.durable_records, 500);
    char path[4200];
    snprintf(path, sizeof path, "%s", arc_current_path(w));
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        arc_record rec;
        uint64_t n = 0, ok = 0;
        while (arc_reader_next(r, &rec) == 1) {
            n++;
            ok += rec.seq == n && rec.recv_ns == T0 + (int64_t)n - 1 && rec.len == 300 &&
                  (n <= 10 || rec.data[0] == (char)(n - 1));
        }
        CHECK_EQ_I64(n, 500);
        CHECK_EQ_I64(ok, 500);
        arc_reader_close(r);
    }
    rm_rf(dir);
    free(dir);
}

/* 4. Fsync policy ========================================================= */

static void test_fsync_policy(void) {
    char *dir = mk_tmpdir();
    char err[512], buf[100];
    memset(buf, 'f', sizeof buf);
    /* By count: the age limit (10 min) never fires during the test. */
    arc_opts o = {.dir = dir, .source = "cnt", .fsync_ms = 600000, .fsync_records = 1000,
                  .compress = ARC_COMPRESS_LZ4};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    for (uint64_t s = 1; s <= 10500; s++)
        CHECK_EQ_I64(append_retry(w, 1, buf, sizeof buf, T0 + (int64_t)s, s), SHJ_OK);
    arc_stats st;
    for (int i = 0; i < 20000; i++) {
        arc_get_stats(w, &st);
        if (st.durable_records >= 10000) break;
        usleep(1000);
    }
    CHECK_EQ_I64(st.durable_records, 10000);   /* 10 full 1000-record blocks, each fsynced */
    CHECK_EQ_I64(st.durable_seq, 10000);
    usleep(20000);
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.durable_records, 10000);   /* the last 500 wait for count, age or flush */
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_OK);
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.durable_records, 10500);
    CHECK_EQ_I64(st.durable_seq, 10500);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);

    /* By age: fsync_ms = 20, no count; the loop only polls. */
    arc_opts o2 = {.dir = dir, .source = "age", .fsync_ms = 20, .compress = ARC_COMPRESS_LZ4};
    w = arc_open(&o2, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    for (uint64_t s = 1; s <= 10; s++)
        CHECK_EQ_I64(append_retry(w, 1, buf, sizeof buf, T0 + (int64_t)s, s), SHJ_OK);
    for (int i = 0; i < 20000; i++) {
        arc_poll(w, clk_mono_ns());
        arc_get_stats(w, &st);
        if (st.durable_records == 10) break;
        usleep(1000);
    }
    CHECK_EQ_I64(st.durable_records, 10);
    CHECK_EQ_I64(st.durable_seq, 10);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);

    /* fsync_ms = 0: every poll seals, every block is fsynced at once. */
    arc_opts o0 = {.dir = dir, .source = "zero", .fsync_ms = 0, .compress = ARC_COMPRESS_LZ4};
    w = arc_open(&o0, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    for (uint64_t s = 1; s <= 30; s++) {
        CHECK_EQ_I64(append_retry(w, 1, buf, sizeof buf, T0 + (int64_t)s, s), SHJ_OK);
        if (s % 10 == 0) arc_poll(w, clk_mono_ns());
    }
    for (int i = 0; i < 20000; i++) {
        arc_get_stats(w, &st);
        if (st.durable_records == 30) break;
        usleep(1000);
    }
    CHECK_EQ_I64(st.durable_records, 30);
    CHECK_EQ_I64(st.blocks, 3);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);

    w = arc_open(&o2, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    /* Large blocks written by size still get fsynced by age with no poll. */
    char big[4000];
    memset(big, 'b', sizeof big);
    for (uint64_t s = 11; s <= 400; s++)
        CHECK_EQ_I64(append_retry(w, 1, big, sizeof big, T0 + (int64_t)s, s), SHJ_OK);
    for (int i = 0; i < 20000; i++) {
        arc_get_stats(w, &st);
        if (st.durable_records >= 5 * 60) break;
        usleep(1000);
    }
    /* ~65 records of ~4 KiB fill a 256 KiB block: 5 full blocks were sealed. */
    CHECK(st.durable_records >= 5 * 60);
    CHECK(st.durable_records < 390);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    rm_rf(dir);
    free(dir);
}

/* 5. Disk errors ========================================================== */

/* Child body: fill the archive under dir until the disk refuses. Exit code =
 * failed checks. */
static int fill_until_error(const char *dir, const char *want_errno_text) {
    char err[1024];
    t_failed = 0;   /* count this child's failures only */
    arc_opts o = {.dir = dir, .source = "full", .fsync_ms = 0, .compress = ARC_COMPRESS_NONE,
                  .block_bytes = 64 << 10};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char buf[1000];
    uint64_t x = 88172645463325252ull;
    int rc = SHJ_OK;
    uint64_t seq;
    for (seq = 1; seq <= 8000 && rc == SHJ_OK; seq++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (char)x;
        }
        rc = append_retry(w, 2, buf, sizeof buf, T0 + (int64_t)seq, seq);
        if ((seq & 63) == 0) arc_poll(w, clk_mono_ns());
    }
    if (rc == SHJ_OK) rc = arc_flush(w, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_ERR);
    arc_stats st;
    arc_get_stats(w, &st);
    CHECK_EQ_I64(st.failed, 1);
    char path[4200];
    snprintf(path, sizeof path, "%s", arc_current_path(w));
    const char *e = arc_error(w);
    CHECK(strstr(e, path) != NULL);
    CHECK(strstr(e, want_errno_text) != NULL);
    fprintf(stderr, "(expected) sticky error: %s\n", e);
    CHECK_EQ_I64(arc_append(w, 1, "x", 1, T0, seq + 1), SHJ_ERR);   /* sticky */
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, want_errno_text) != NULL);
    uint64_t durable = st.durable_records;
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, path) != NULL);
    /* What did reach the disk is whole: the partial block was cut again. */
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        arc_record rec;
        uint64_t n = 0;
        int k;
        while ((k = arc_reader_next(r, &rec)) == 1) n++;
        CHECK_EQ_I64(k, 0);
        CHECK(n >= durable);
        CHECK(n > 0);
        arc_reader_close(r);
    }
    return t_failed;
}

static int run_child(int (*fn)(const char *), const char *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(fn(arg) & 0x7f);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int child_enospc(const char *dir) {
    /* A private mount namespace (needs root or user namespaces): the tmpfs
     * disappears with the child. 2 = "cannot mount here". */
    if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return 99;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return 99;
    if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0) return 99;
    return fill_until_error(dir, "No space left on device");
}

static int child_efbig(const char *dir) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 300 << 10, .rlim_max = 300 << 10};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 1;
    return fill_until_error(dir, "File too large");
}

static void test_disk_errors(void) {
    char *dir = mk_tmpdir();
    int rc = run_child(child_efbig, dir);
    CHECK_EQ_I64(rc, 0);
    rm_rf(dir);
    free(dir);
    dir = mk_tmpdir();
    rc = run_child(child_enospc, dir);
    if (rc == 99)
        fprintf(stderr, "note: cannot mount a tmpfs here; ENOSPC is covered by the EFBIG case\n");
    else
        CHECK_EQ_I64(rc, 0);
    rm_rf(dir);
    free(dir);
}

/* 6. Open errors, locking ================================================= */

static void test_open_errors(void) {
    char err[512];
    arc_opts o = {.dir = "/dev/full/x", .source = "s"};
    CHECK(arc_open(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "/dev/full") != NULL);
    char *dir = mk_tmpdir();
    arc_opts bad_src = {.dir = dir, .source = "a/b"};
    CHECK(arc_open(&bad_src, err, sizeof err) == NULL);
    CHECK(strstr(err, "a/b") != NULL);
    arc_opts bad_codec = {.dir = dir, .source = "s", .compress = 7};
    CHECK(arc_open(&bad_codec, err, sizeof err) == NULL);
    arc_opts bad_block = {.dir = dir, .source = "s", .block_bytes = 10};
    CHECK(arc_open(&bad_block, err, sizeof err) == NULL);
    CHECK(arc_reader_open("/nonexistent/x.shjraw", err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/x.shjraw") != NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/not_archive", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 50; i++) fputs("hello world\n", f);
    fclose(f);
    CHECK(arc_reader_open(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "bad magic") != NULL);

    /* A record over the limit is refused without poisoning the writer. */
    arc_opts ok = {.dir = dir, .source = "s", .fsync_ms = -1};
    arc_writer *w = arc_open(&ok, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    CHECK_EQ_I64(arc_append(w, 1, "x", (32u << 20) + 1, T0, 1), SHJ_ERR);
    CHECK_STR(arc_error(w), "");
    CHECK_EQ_I64(arc_append(w, 1, "x", 1, T0, 1), SHJ_OK);
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_OK);
    /* A second writer on the same source and day is locked out. */
    arc_writer *w2 = arc_open(&ok, err, sizeof err);
    CHECK(w2 != NULL);
    if (w2) {
        CHECK_EQ_I64(arc_append(w2, 1, "y", 1, T0, 1), SHJ_OK);
        CHECK_EQ_I64(arc_flush(w2, err, sizeof err), SHJ_ERR);
        CHECK(strstr(err, "locked") != NULL);
        CHECK(strstr(arc_error(w2), arc_current_path(w)) != NULL);
        CHECK_EQ_I64(arc_close(w2, err, sizeof err), SHJ_ERR);
    }
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    rm_rf(dir);
    free(dir);
}

/* 7. Dump ================================================================= */

static char *dump_to_string(const char *path, int check_only, int *rc, char *err, size_t errlen) {
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    *rc = arcd_dump_jsonl(path, f, check_only, err, errlen);
    fclose(f);
    return out;
}

static void test_dump(void) {
    char *dir = mk_tmpdir();
    char err[512];
    arc_opts o = {.dir = dir, .source = "d", .fsync_ms = -1, .compress = ARC_COMPRESS_LZ4};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return;
    int64_t t = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 1, 123456) + 789;
    const char *p1 = "{\"code\":\"2330\",\"close\":\"585.5\"}";
    const char p2[] = "q\"b\\s\n\t\x01\xe5\x8f\xb0\xe7\xa9\x8d";   /* quote, escapes, 台積 */
    const char p3[] = "\xff\x00z";                                 /* not UTF-8 */
    CHECK_EQ_I64(arc_append(w, 1, p1, (uint32_t)strlen(p1), t, 1), SHJ_OK);
    CHECK_EQ_I64(arc_append(w, 7, p2, sizeof p2 - 1, t + 1, 2), SHJ_OK);
    CHECK_EQ_I64(arc_append(w, 200, p3, sizeof p3 - 1, t - 5, 4), SHJ_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s", arc_current_path(w));
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    int rc;
    char *out = dump_to_string(path, 0, &rc, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_OK);
    const char *want =
        "{\"seq\":1,\"recv_ns\":1795568401123456789,\"recv_time\":\"2026-11-25T01:00:01.123456789Z\","
        "\"event\":\"tick_stk\",\"len\":31,\"data\":\"{\\\"code\\\":\\\"2330\\\",\\\"close\\\":\\\"585.5\\\"}\"}\n"
        "{\"seq\":2,\"recv_ns\":1795568401123456790,\"recv_time\":\"2026-11-25T01:00:01.123456790Z\","
        "\"event\":\"heartbeat\",\"len\":14,\"data\":\"q\\\"b\\\\s\\n\\t\\u0001\xe5\x8f\xb0\xe7\xa9\x8d\"}\n"
        "{\"seq\":4,\"recv_ns\":1795568401123456784,\"recv_time\":\"2026-11-25T01:00:01.123456784Z\","
        "\"event\":\"unknown\",\"tag\":200,\"len\":3,\"data_b64\":\"/wB6\"}\n";
    CHECK_STR(out, want);
    free(out);
    out = dump_to_string(path, 1, &rc, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_OK);
    CHECK(strstr(out, ": ok, 3 records in 1 blocks, seq 1..4") != NULL);
    free(out);
    /* A torn copy: nothing printed for the torn block, error with the offset. */
    struct stat st;
    stat(path, &st);
    CHECK_EQ_I64(truncate(path, st.st_size - 1), 0);
    out = dump_to_string(path, 0, &rc, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_ERR);
    CHECK_STR(out, "");
    CHECK(strstr(err, "torn/corrupt block at byte offset 128") != NULL);
    CHECK(strstr(err, path) != NULL);
    free(out);
    out = dump_to_string(path, 1, &rc, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_ERR);
    CHECK(strstr(out, "DAMAGED, 0 good records") != NULL);
    free(out);
    /* The same bytes while a writer holds the file's lock: a block in
     * flight, not damage. */
    int lock_fd = open(path, O_RDONLY);
    CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX) == 0);
    out = dump_to_string(path, 1, &rc, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_OK);
    CHECK(strstr(out, "RECORDING, 0 records in 0 blocks so far") != NULL);
    CHECK(strstr(out, "complete up to byte offset 128") != NULL);
    free(out);
    close(lock_fd);
    rm_rf(dir);
    free(dir);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    T0 = clk_taipei_to_utc_ns(2026, 11, 25, 14, 59, 59, 500000);
    roll_ns = clk_taipei_to_utc_ns(2026, 11, 25, 15, 0, 0, 0);
    uint64_t n = 1000000;
    const char *e = getenv("SHJ_ARC_TEST_RECORDS");
    if (e && atoll(e) > 0) n = (uint64_t)atoll(e);
    STEP = 1000000000 / (int64_t)n;
    test_open_errors();
    test_dump();
    test_days_and_big_records();
    test_back_pressure();
    test_fsync_policy();
    test_disk_errors();
    test_round_trip(ARC_COMPRESS_LZ4, n);
    test_round_trip(ARC_COMPRESS_NONE, n);
    T_DONE();
}
