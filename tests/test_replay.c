/* test_replay.c — record a simulated session, replay it, compare.
 *
 * 1. Record one minute of the simulated market (exchange time: 120,000
 *    events at the simulator's nominal 2,000 events per simulated second)
 *    into a raw archive, hashing every market event the live run publishes.
 * 2. Replay the archive twice: every replayed event equals the recorded one
 *    in order (per-event hashes, source_id and the replay flag aside), so the
 *    digests are equal; the bars built on both replays are identical.
 *    Unmarked (mark = 0, what replay.lua does by default) the events are the
 *    live ones with their flags exactly (an exact digest, only source_id
 *    aside); marked, every flags value differs by SHJ_FLAG_REPLAY alone.
 * 2b. The read-ahead parse workers change nothing: parsing on the loop
 *    (workers -1) and with 1 or 4 workers gives the live digest; an archive
 *    mixing good payloads with malformed JSON, heartbeats and unknown tags
 *    in many small blocks replays to the same events and the same
 *    malformed / control / unknown counts either way.
 * 3. Filter by codes (with the TXFR1 alias), a paced replay, and damaged
 *    input: a truncated copy, a corrupted copy (played past its hole) and a missing file are reported
 *    and skipped, never crash, and what is delivered is still a correct prefix.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "backtest/bars.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "core/shj_common.h"
#include "loop/source.h"
#include "replay/replay.h"
#include "t.h"

#define LIVE_EVENTS 120000

typedef struct digest {
    XXH64_state_t *st;
    uint64_t n, n_2330, n_txf, n_replay_flag, mismatch, bars, status;
    uint64_t hole;    /* live events passed over at the one place a hole may be (resync) */
    int holes;        /* places where the replay jumped ahead in the live stream */
    uint64_t *hashes; /* live: record; replay: compare against `expect` */
    const uint64_t *expect;
    size_t expect_n;
    int64_t min_exch, max_exch;
    XXH64_state_t *bar_st;
    XXH64_state_t *exact_st; /* market events with only source_id zeroed: flags as published */
    uint64_t flags_or;       /* OR of every market event's flags */
} digest;

static uint64_t ev_hash(const shj_event *e) {
    shj_event c = *e;
    c.source_id = 0;                    /* the replay source's own id */
    c.flags &= ~(uint32_t)SHJ_FLAG_REPLAY;
    return XXH64(&c, sizeof c, 0);
}

static size_t digest_cb(void *ctx, const shj_event *evs, size_t n) {
    digest *d = ctx;
    for (size_t i = 0; i < n; i++) {
        const shj_event *e = &evs[i];
        if (e->kind == SHJ_KIND_BAR) {
            d->bars++;
            XXH64_update(d->bar_st, e, sizeof *e);
            continue;
        }
        if (e->kind == SHJ_KIND_STATUS) {
            d->status++;
            continue;
        }
        uint64_t h = ev_hash(e);
        XXH64_update(d->st, &h, sizeof h);
        shj_event exact = *e;
        exact.source_id = 0;
        XXH64_update(d->exact_st, &exact, sizeof exact);
        d->flags_or |= e->flags;
        if (d->hashes && d->n < LIVE_EVENTS) d->hashes[d->n] = h;
        if (d->expect) {
            /* A damaged block passed over (arc_reader_resync) drops its
             * records: the replay may jump ahead in the live stream, and
             * must match it exactly from there on. */
            size_t at = d->n + d->hole;
            if (at < d->expect_n && d->expect[at] != h) {
                size_t j = at + 1;
                while (j < d->expect_n && d->expect[j] != h) j++;
                if (j < d->expect_n) {
                    d->hole += j - at;
                    d->holes++;
                    at = j;
                }
            }
            if (at >= d->expect_n || d->expect[at] != h) d->mismatch++;
        }
        d->n++;
        if (strcmp(e->code, "2330") == 0) d->n_2330++;
        if (strncmp(e->code, "TXF", 3) == 0) d->n_txf++;
        if (e->flags & SHJ_FLAG_REPLAY) d->n_replay_flag++;
        if (e->ts_exch_ns < d->min_exch) d->min_exch = e->ts_exch_ns;
        if (e->ts_exch_ns > d->max_exch) d->max_exch = e->ts_exch_ns;
    }
    return n;
}

static void digest_init(digest *d) {
    memset(d, 0, sizeof *d);
    d->st = XXH64_createState();
    XXH64_reset(d->st, 0);
    d->bar_st = XXH64_createState();
    XXH64_reset(d->bar_st, 0);
    d->exact_st = XXH64_createState();
    XXH64_reset(d->exact_st, 0);
    d->min_exch = INT64_MAX;
    d->max_exch = INT64_MIN;
}

static uint64_t last_exact; /* digest_done's exact digest of the last run */

static void digest_done(digest *d, uint64_t *out, uint64_t *bars_out) {
    *out = XXH64_digest(d->st);
    if (bars_out) *bars_out = XXH64_digest(d->bar_st);
    last_exact = XXH64_digest(d->exact_st);
    XXH64_freeState(d->st);
    XXH64_freeState(d->bar_st);
    XXH64_freeState(d->exact_st);
}

static char tmpdir[256];
static char files[8][1024];
static int n_files;
static uint64_t *live_hashes;
static digest live;
static uint64_t live_digest, live_exact;

static void record(void) {
    char err[512];
    CHECK(rt_init(0) == SHJ_OK);
    src_source *s = simsrc_new("sim", 7, "2026-11-25", 0, err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    CHECK(shj_src_subscribe(s, "2330", "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err) == 0);
    CHECK(shj_src_subscribe(s, "2317", "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err) == 0);
    CHECK(shj_src_subscribe(s, "TXFR1", "FUT", "TAIFEX", "tick,bidask", 0, NULL, err, sizeof err) == 0);
    CHECK(shj_rt_add_source(s, err, sizeof err) == SHJ_OK);
    char raw[400];
    snprintf(raw, sizeof raw, "%s/raw", tmpdir);
    CHECK(shj_route_raw(s, raw, 10, 0, 1, err, sizeof err) == SHJ_OK);
    digest_init(&live);
    live.hashes = live_hashes;
    CHECK(bus_subscribe(rt_bus(), "digest", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, digest_cb, &live) != NULL);
    rt_set_status_interval(0);
    rt_set_limits(0, LIVE_EVENTS);
    CHECK(rt_run(err, sizeof err) == SHJ_OK);
    rt_shutdown();
    digest_done(&live, &live_digest, NULL);
    live_exact = last_exact;
    CHECK_EQ_I64(live.n, LIVE_EVENTS);
    /* at least a minute of exchange time (the simulator's realistic clock:
     * TXF's night session, then the day; a few thousand payloads a minute) */
    CHECK(live.max_exch - live.min_exch >= 59 * CLK_NS_PER_SEC);
    CHECK(live.n_2330 > 0 && live.n_txf > 0);

    char sub[500];
    snprintf(sub, sizeof sub, "%s/sim", raw);
    DIR *d = opendir(sub);
    CHECK(d != NULL);
    struct dirent *de;
    while (d && (de = readdir(d)) && n_files < 8)
        if (strstr(de->d_name, ".shjraw")) snprintf(files[n_files++], sizeof files[0], "%s/%s", sub, de->d_name);
    if (d) closedir(d);
    CHECK(n_files >= 1);
}

typedef struct replay_result {
    digest d;
    uint64_t digest, bars_digest, exact;
    rpl_stats st;
    int64_t elapsed_ns;
    uint64_t malformed, control, unknown;
} replay_result;

static int replay(const rpl_opts *o, int with_bars, replay_result *res) {
    char err[512];
    memset(res, 0, sizeof *res);
    if (rt_init(0) != SHJ_OK) return -1;
    src_source *s = rpl_new("replay", o, err, sizeof err);
    if (!s) {
        fprintf(stderr, "rpl_new: %s\n", err);
        rt_shutdown();
        return -1;
    }
    CHECK(shj_rt_add_source(s, err, sizeof err) == SHJ_OK);
    digest_init(&res->d);
    res->d.expect = live_hashes;
    res->d.expect_n = live.n;
    CHECK(bus_subscribe(rt_bus(), "digest", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, digest_cb, &res->d) != NULL);
    if (with_bars) {
        bars *b = bars_new("1m,5m,D", 0, err, sizeof err);
        CHECK(b != NULL && bars_attach_rt(b, err, sizeof err) == SHJ_OK);
    }
    rt_set_status_interval(0);
    int64_t t0 = clk_mono_ns();
    int rc = rt_run(err, sizeof err);
    res->elapsed_ns = clk_mono_ns() - t0;
    CHECK(rc == SHJ_OK);
    rpl_get_stats(s, &res->st);
    res->malformed = s->counters.malformed;
    res->control = s->counters.control;
    res->unknown = s->counters.unknown;
    rt_shutdown();
    digest_done(&res->d, &res->digest, &res->bars_digest);
    res->exact = last_exact;
    return 0;
}

static void test_replay_equals_live(void) {
    const char *list[8];
    for (int i = 0; i < n_files; i++) list[i] = files[i];
    rpl_opts o = {.files = list, .n_files = (size_t)n_files, .progress = 0, .mark = 1};
    replay_result a, b;
    CHECK(replay(&o, 1, &a) == 0);
    CHECK_EQ_I64(a.d.n, live.n);
    CHECK_EQ_I64(a.d.mismatch, 0);
    CHECK(a.digest == live_digest);
    CHECK_EQ_I64(a.d.n_replay_flag, a.d.n); /* mark = 1: every event says "replay" */
    CHECK(a.exact != live_exact);           /* ... so the exact digest sees the flags */
    CHECK(!(live.flags_or & SHJ_FLAG_REPLAY));
    CHECK_EQ_I64(a.d.flags_or, live.flags_or | SHJ_FLAG_REPLAY);
    CHECK_EQ_I64(a.st.delivered, LIVE_EVENTS);
    CHECK_EQ_I64(a.st.bad_files, 0);
    CHECK(a.st.done);
    CHECK(a.d.status >= 1); /* end of data */
    /* 08:45-08:46: only TXF trades (stocks are in their trial match): its 1m, 5m and
     * session bars, finished by the end-of-data status */
    CHECK(a.d.bars >= 3);
    /* twice: identical, bars included */
    CHECK(replay(&o, 1, &b) == 0);
    CHECK(b.digest == a.digest);
    CHECK(b.bars_digest == a.bars_digest);
    CHECK_EQ_I64(b.d.bars, a.d.bars);

    /* parsed on the loop, or by 1 or 4 read-ahead workers: the same stream */
    static const int workers[] = {-1, 1, 4};
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++) {
        rpl_opts ow = o;
        ow.workers = workers[i];
        replay_result w;
        CHECK(replay(&ow, 0, &w) == 0);
        CHECK_EQ_I64(w.d.mismatch, 0);
        CHECK(w.digest == live_digest);
        CHECK_EQ_I64(w.st.delivered, LIVE_EVENTS);
    }

    /* by directory, unmarked: the same stream */
    char raw[400];
    snprintf(raw, sizeof raw, "%s/raw", tmpdir);
    rpl_opts od = {.dir = raw, .source = "sim", .progress = 0, .mark = 0};
    replay_result c;
    CHECK(replay(&od, 0, &c) == 0);
    CHECK(c.digest == live_digest);
    CHECK_EQ_I64(c.d.n_replay_flag, 0);
    /* the recording's flags, exactly: every field of every event but source_id */
    CHECK(c.exact == live_exact);
    CHECK_EQ_I64(c.d.flags_or, live.flags_or);
    CHECK(live.flags_or & SHJ_FLAG_SIMTRADE); /* there were flags to keep (trial matches) */
}

static void test_filter(void) {
    char raw[400];
    snprintf(raw, sizeof raw, "%s/raw", tmpdir);
    rpl_opts o = {.dir = raw, .source = "sim", .codes = "2330,TXFR1", .progress = 0};
    replay_result r;
    CHECK(replay(&o, 0, &r) == 0);
    CHECK_EQ_I64(r.d.n_2330, live.n_2330);
    CHECK_EQ_I64(r.d.n_txf, live.n_txf);           /* the alias matched the real contract */
    CHECK_EQ_I64(r.d.n, live.n_2330 + live.n_txf); /* and nothing else */
    CHECK_EQ_I64(r.st.filtered, LIVE_EVENTS - r.d.n);
    /* bad options */
    char err[256];
    rpl_opts bad = {.dir = raw, .source = "sim", .from = "2026-13"};
    CHECK(rpl_new("x", &bad, err, sizeof err) == NULL);
    rpl_opts none = {.dir = raw, .source = "nosuch"};
    CHECK(rpl_new("x", &none, err, sizeof err) == NULL);
    CHECK(strstr(err, "nosuch") != NULL);
    rpl_opts empty = {.dir = raw, .source = "sim", .from = "1999-01-01", .to = "1999-01-02"};
    CHECK(rpl_new("x", &empty, err, sizeof err) == NULL);
}

/* Paced: at 3600x the recorded receive times (an as-fast-as-possible
 * simulated recording is stamped with simulated time: hours of it), the
 * replay cannot finish sooner than span / 3600 (a lower bound only: never
 * flaky). */
static void test_paced(void) {
    const char *list[8];
    for (int i = 0; i < n_files; i++) list[i] = files[i];
    rpl_opts o = {.files = list, .n_files = (size_t)n_files, .codes = "2317", .speed = 3600.0,
                  .max_gap_ms = 86400000}; /* no pause squashed: the bound below holds */
    replay_result r;
    CHECK(replay(&o, 0, &r) == 0);
    CHECK(r.d.n > 0);
    int64_t span = r.st.last_recv_ns - r.st.first_recv_ns;
    CHECK(span > 0);
    CHECK(span > 60 * CLK_NS_PER_SEC); /* the pacing below is measurable */
    CHECK(r.elapsed_ns >= span / 3600);
}

static int copy_file(const char *from, const char *to, long keep, long corrupt_at) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out);
        return -1;
    }
    char buf[65536];
    long off = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (keep >= 0 && off + (long)n > keep) n = (size_t)(keep - off);
        if (corrupt_at >= off && corrupt_at < off + (long)n) buf[corrupt_at - off] ^= 0x5a;
        fwrite(buf, 1, n, out);
        off += (long)n;
        if (keep >= 0 && off >= keep) break;
    }
    fclose(in);
    fclose(out);
    return 0;
}

static void test_damaged(void) {
    struct stat sb;
    CHECK(stat(files[0], &sb) == 0);
    char torn[600], bad[600];
    snprintf(torn, sizeof torn, "%s/torn.shjraw", tmpdir);
    snprintf(bad, sizeof bad, "%s/corrupt.shjraw", tmpdir);
    CHECK(copy_file(files[0], torn, (long)(sb.st_size * 6 / 10), -1) == 0);
    CHECK(copy_file(files[0], bad, -1, (long)(sb.st_size / 2)) == 0);
    /* each alone: a correct prefix of the live stream, the file reported bad */
    const char *one[1] = {torn};
    rpl_opts o = {.files = one, .n_files = 1, .progress = 0};
    replay_result r;
    CHECK(replay(&o, 0, &r) == 0);
    uint64_t n_torn = r.d.n;
    CHECK(n_torn > 0 && n_torn < live.n);
    CHECK_EQ_I64(r.d.mismatch, 0);
    CHECK_EQ_I64(r.st.bad_files, 1);
    CHECK(r.st.done);
    one[0] = bad;
    CHECK(replay(&o, 0, &r) == 0);
    uint64_t n_bad = r.d.n;
    CHECK(n_bad > 0 && n_bad < live.n);
    CHECK_EQ_I64(r.d.mismatch, 0);
    CHECK_EQ_I64(r.st.bad_files, 1);
    /* the flip in the middle is a hole: one block's records lost, the rest
     * of the file after it played (issue 11 fault 2), the range counted */
    CHECK_EQ_I64(r.d.holes, 1);
    CHECK_EQ_I64(n_bad + r.d.hole, live.n);
    CHECK_EQ_I64(r.st.damaged_ranges, 1);
    CHECK(r.st.damaged_bytes > 0 && r.st.damaged_bytes < (uint64_t)sb.st_size / 4);
    one[0] = files[0];
    CHECK(replay(&o, 0, &r) == 0);
    uint64_t n_good = r.d.n;
    CHECK_EQ_I64(r.st.bad_files, 0);
    /* a missing file is an error up front */
    char missing[600], err[256];
    snprintf(missing, sizeof missing, "%s/missing.shjraw", tmpdir);
    const char *three[3] = {missing, torn, files[0]};
    rpl_opts o3 = {.files = three, .n_files = 3, .progress = 0};
    CHECK(rpl_new("x", &o3, err, sizeof err) == NULL);
    CHECK(strstr(err, "missing.shjraw") != NULL);
    /* the torn copy while a writer holds its lock (a file being recorded):
     * the same prefix, but "being recorded", not damaged; a corrupt file
     * stays damaged even so; parse workers or not */
    int lock_fd = open(torn, O_RDONLY);
    CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX) == 0);
    CHECK(arc_file_being_written(torn));
    static const int live_workers[] = {-1, 2};
    for (int i = 0; i < 2; i++) {
        one[0] = torn;
        o.workers = live_workers[i];
        CHECK(replay(&o, 0, &r) == 0);
        CHECK_EQ_I64(r.d.n, n_torn);
        CHECK_EQ_I64(r.d.mismatch, 0);
        CHECK_EQ_I64(r.st.bad_files, 0);
        CHECK_EQ_I64(r.st.live_files, 1);
    }
    int lock_bad = open(bad, O_RDONLY);
    CHECK(lock_bad >= 0 && flock(lock_bad, LOCK_EX) == 0);
    one[0] = bad;
    CHECK(replay(&o, 0, &r) == 0);
    CHECK_EQ_I64(r.st.bad_files, 1);
    /* its hole is damage, not a block in flight; the file's end is complete,
     * so it counts as being recorded as well */
    CHECK_EQ_I64(r.st.damaged_ranges, 1);
    close(lock_bad);
    close(lock_fd); /* the writer is gone: the same bytes are a torn file again */
    CHECK(!arc_file_being_written(torn));
    one[0] = torn;
    CHECK(replay(&o, 0, &r) == 0);
    CHECK_EQ_I64(r.st.bad_files, 1);
    CHECK_EQ_I64(r.st.live_files, 0);
    o.workers = 0;

    /* corrupt + torn + good: both damaged files reported, the corrupt one
     * played past its hole, the torn one up to its tail */
    three[0] = bad;
    CHECK(replay(&o3, 0, &r) == 0);
    CHECK_EQ_I64(r.st.bad_files, 2);
    CHECK_EQ_I64(r.st.files_done, 3);
    CHECK_EQ_I64(r.d.n, n_bad + n_torn + n_good);
}

/* Good payloads from the recording, with malformed JSON, heartbeats and
 * unknown tags between them, in 4 KiB blocks. */
static void test_bad_payloads_parallel(void) {
    char err[512], dir[400], path[1200] = "";
    snprintf(dir, sizeof dir, "%s/mixed", tmpdir);
    arc_opts ao = {.dir = dir, .source = "mix", .fsync_ms = -1, .compress = ARC_COMPRESS_LZ4,
                   .block_bytes = 4096, .queue_blocks = 64};
    arc_writer *w = arc_open(&ao, err, sizeof err);
    CHECK(w != NULL);
    arc_reader *rd = arc_reader_open(files[0], err, sizeof err);
    CHECK(rd != NULL);
    if (!w || !rd) return;
    arc_record rec;
    uint64_t seq = 0, good = 0, bad = 0, beats = 0, unknown = 0;
    static const char *broken[] = {
        "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":", /* truncated */
        "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.000000\",\"close\":\"12x\",\"volume\":1}",
        "[1,2,3]",
        "{\"code\":\"\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.000000\",\"close\":\"1\",\"volume\":1}"};
    while (good < 20000 && arc_reader_next(rd, &rec) == 1) {
        CHECK(arc_test_append(w, rec.tag, rec.data, rec.len, rec.recv_ns, ++seq) == SHJ_OK);
        good++;
        if (good % 97 == 0) {
            const char *b = broken[(good / 97) % 4];
            CHECK(arc_test_append(w, PSR_TAG_TICK_STK, b, (uint32_t)strlen(b), rec.recv_ns, ++seq) == SHJ_OK);
            bad++;
        }
        if (good % 101 == 0) {
            CHECK(arc_test_append(w, PSR_TAG_HEARTBEAT, "{}", 2, rec.recv_ns, ++seq) == SHJ_OK);
            beats++;
        }
        if (good % 503 == 0) {
            CHECK(arc_test_append(w, PSR_TAG_UNKNOWN, "{}", 2, rec.recv_ns, ++seq) == SHJ_OK);
            unknown++;
        }
    }
    arc_reader_close(rd);
    CHECK(arc_close(w, err, sizeof err) == SHJ_OK);
    CHECK_EQ_I64(good, 20000);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/mix", dir);
    DIR *d = opendir(sub);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".shjraw")) snprintf(path, sizeof path, "%s/%s", sub, de->d_name);
    if (d) closedir(d);
    CHECK(path[0] != '\0');
    const char *one[1] = {path};
    replay_result loop, par;
    rpl_opts o = {.files = one, .n_files = 1, .progress = 0, .workers = -1};
    CHECK(replay(&o, 0, &loop) == 0);
    o.workers = 3;
    CHECK(replay(&o, 0, &par) == 0);
    /* (renumbered: the digests are compared with each other, not with live) */
    CHECK_EQ_I64(loop.d.n, good);
    CHECK_EQ_I64(loop.malformed, bad);
    CHECK_EQ_I64(loop.control, beats);
    CHECK_EQ_I64(loop.unknown, unknown);
    CHECK(par.digest == loop.digest);
    CHECK_EQ_I64(par.d.n, good);
    CHECK_EQ_I64(par.malformed, bad);
    CHECK_EQ_I64(par.control, beats);
    CHECK_EQ_I64(par.unknown, unknown);
    CHECK_EQ_I64(par.st.delivered, seq);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/shj-replay-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    shj_log_set_level(SHJ_LOG_WARN);
    live_hashes = calloc(LIVE_EVENTS, sizeof *live_hashes);
    record();
    if (n_files >= 1) {
        test_replay_equals_live();
        test_filter();
        test_paced();
        test_damaged();
        test_bad_payloads_parallel();
    }
    free(live_hashes);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    T_DONE();
}
