/* test_pipeline.c — the runtime end to end in C: simulated source -> raw
 * archive -> parser -> bus -> subscribers, with back-pressure, malformed
 * payloads and status events. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "core/shj_common.h"
#include "loop/source.h"
#include "t.h"

typedef struct counter {
    uint64_t events, next_seq_expected, out_of_order, ticks, bidasks, status;
    size_t take_max; /* 0 = take all */
} counter;

static size_t count_cb(void *ctx, const shj_event *evs, size_t n) {
    counter *c = ctx;
    if (c->take_max && n > c->take_max) n = c->take_max;
    for (size_t i = 0; i < n; i++) {
        const shj_event *e = &evs[i];
        if (e->kind == SHJ_KIND_STATUS) {
            c->status++;
            continue;
        }
        if (e->seq != c->next_seq_expected) c->out_of_order++;
        c->next_seq_expected = e->seq + 1;
        c->events++;
        if (e->kind == SHJ_KIND_TICK) c->ticks++;
        if (e->kind == SHJ_KIND_BIDASK) c->bidasks++;
    }
    return n;
}

static char tmpdir[256];

static uint64_t archive_records(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/sim", dir);
    DIR *d = opendir(path);
    if (!d) return 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".shjraw")) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", path, de->d_name);
        arc_scan sc;
        char err[256];
        if (arc_scan_file(file, &sc, err, sizeof err) == SHJ_OK && !sc.torn) total += sc.records;
    }
    closedir(d);
    return total;
}

static void test_end_to_end_with_backpressure(void) {
    char err[512];
    CHECK(rt_init(1024) == SHJ_OK); /* a small ring so back-pressure really happens */
    src_source *s = simsrc_new("sim", 42, "2026-11-25", 0, err, sizeof err);
    CHECK(s != NULL);
    CHECK(shj_src_subscribe(s, "2330", "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err) == SHJ_OK);
    CHECK(shj_src_subscribe(s, "TXFR1", "FUT", "TAIFEX", "tick,bidask", 0, NULL, err, sizeof err) == SHJ_OK);
    CHECK(shj_rt_add_source(s, err, sizeof err) == SHJ_OK);
    char raw[512];
    snprintf(raw, sizeof raw, "%s/raw", tmpdir);
    CHECK(shj_route_raw(s, raw, 10, 0, 1, err, sizeof err) == SHJ_OK);

    counter fast = {.next_seq_expected = 1}, slow = {.next_seq_expected = 1, .take_max = 7};
    CHECK(bus_subscribe(rt_bus(), "fast", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count_cb, &fast) != NULL);
    CHECK(bus_subscribe(rt_bus(), "slow", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count_cb, &slow) != NULL);
    rt_set_status_interval(0);
    rt_set_limits(0, 200000);
    CHECK(rt_run(err, sizeof err) == SHJ_OK);

    CHECK_EQ_I64(fast.events, 200000);
    CHECK_EQ_I64(slow.events, 200000);  /* the slow subscriber lost nothing ... */
    CHECK(s->counters.pauses > 0);      /* ... because the source was paused */
    CHECK_EQ_I64(fast.out_of_order, 0);
    CHECK_EQ_I64(slow.out_of_order, 0);
    CHECK(fast.ticks > 0 && fast.bidasks > 0);
    CHECK_EQ_I64(fast.ticks + fast.bidasks, 200000);
    CHECK_EQ_I64(s->counters.malformed, 0);
    CHECK_EQ_I64(fast.status, 1); /* one SESSION_OPEN: 200k events stay inside one simulated session */
    rt_shutdown();
    /* Every published event's payload is in the archive, fsynced at close. */
    CHECK_EQ_I64(archive_records(raw), 200000);
}

/* A source that delivers what the test hands it: for the malformed path. */
static int manual_start(src_source *s, char *err, size_t errlen) {
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    s->state = SRC_RUNNING;
    return SHJ_OK;
}
static void manual_stop(src_source *s) { s->state = SRC_STOPPED; }
static const src_ops manual_ops = {.type = "manual", .start = manual_start, .stop = manual_stop};

static void test_malformed_and_status(void) {
    char err[512];
    CHECK(rt_init(0) == SHJ_OK);
    src_source s;
    src_init(&s, &manual_ops, "manual");
    CHECK(rt_add_source(&s, err, sizeof err) == SHJ_OK);
    char raw[512];
    snprintf(raw, sizeof raw, "%s/raw2", tmpdir);
    CHECK(shj_route_raw(&s, raw, 10, 0, 0, err, sizeof err) == SHJ_OK);
    counter c = {.next_seq_expected = 1};
    CHECK(bus_subscribe(rt_bus(), "c", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count_cb, &c) != NULL);

    const char *good = "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.000001\","
                       "\"close\":\"585.5\",\"volume\":3}";
    const char *bad = "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:01.000001\","
                      "\"close\":\"58x.5\",\"volume\":3}";
    CHECK(src_deliver(&s, PSR_TAG_TICK_STK, good, strlen(good), 1) == SHJ_OK);
    CHECK(src_deliver(&s, PSR_TAG_TICK_STK, bad, strlen(bad), 2) == SHJ_OK);
    CHECK(src_deliver(&s, PSR_TAG_UNKNOWN, "{}", 2, 3) == SHJ_OK);
    CHECK(src_deliver(&s, PSR_TAG_HEARTBEAT, "{\"type\":\"heartbeat\"}", 20, 4) == SHJ_OK);
    CHECK(src_deliver(&s, PSR_TAG_TICK_STK, good, strlen(good), 5) == SHJ_OK);
    CHECK(src_publish_status(&s, SHJ_STATUS_GAP, "2330", 100, 200, 0, "test gap") == SHJ_OK);
    bus_dispatch(rt_bus());

    CHECK_EQ_I64(s.counters.payloads, 5);
    CHECK_EQ_I64(s.counters.malformed, 1);
    CHECK_EQ_I64(s.counters.unknown, 1);
    CHECK_EQ_I64(s.counters.control, 1);
    CHECK_EQ_I64(c.events, 2);          /* the two good ticks */
    CHECK_EQ_I64(c.status, 1);
    CHECK_EQ_I64(s.next_seq, 5);        /* every payload got a sequence, good or bad */
    rt_shutdown();
    CHECK_EQ_I64(archive_records(raw) , 0); /* source dir is "manual", not "sim" */
    /* All five payloads, bad ones included, are in the archive. */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/manual", raw);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    uint64_t total = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strstr(de->d_name, ".shjraw")) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        arc_reader *r = arc_reader_open(file, err, sizeof err);
        CHECK(r != NULL);
        arc_record rec;
        while (r && arc_reader_next(r, &rec) == 1) {
            total++;
            if (rec.seq == 2) CHECK(rec.len == strlen(bad) && memcmp(rec.data, bad, rec.len) == 0);
        }
        if (r) arc_reader_close(r);
    }
    if (d) closedir(d);
    CHECK_EQ_I64(total, 5);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/shj-pipeline-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_end_to_end_with_backpressure();
    test_malformed_and_status();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    T_DONE();
}
