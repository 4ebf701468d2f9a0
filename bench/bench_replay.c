/* bench_replay.c — replay throughput from the raw archive, without and with Lua.
 *
 * Setup (not timed): the simulated market (7 instruments, ticks + books)
 * records N events into a raw archive (lz4 blocks), as `shijim run main.lua`
 * does. Then, on the same file:
 *   read      arc_reader only (read, checksum, lz4): records/s
 *   read pf   the same with arc_reader_open_prefetch (a read-ahead thread)
 *   parse     arc_reader + psr_parse, no bus
 *   replay/loop  the replay source on rt, parsing on the loop thread
 *             (workers -1: the baseline, how replay ran before)
 *   replay    the replay source as shipped: read-ahead workers load and
 *             parse blocks in parallel, the loop resolves and publishes ->
 *             a C subscriber (the "replay events/s without Lua
 *             handlers"); the ratio to replay/loop is printed
 *   lua-null  replay + a Lua handler (shijim.on) that only counts
 *   backtest  replay + the Lua strategy engine + broker + bars + ma_cross
 *             (scripts/backtest.lua's path, in process)
 * Per-event cost of the Lua part = (t_lua - t_replay) / N. Three clocks per
 * row, each the best of `reps`: process CPU time (all threads: the work
 * done), the loop thread's CPU time (what bounds throughput when the
 * read-ahead thread has a core of its own) and wall time (the real rate, but
 * it also measures the neighbours on a shared machine). Output: a table on
 * stdout.
 *
 * Linked against an older libshijim without arc_reader_open_prefetch (weak
 * here), the "read pf" row is skipped: the same binary measures before/after.
 *
 * Usage: bench_replay [events=3000000] [reps=3] [dir=/tmp/shj-bench-replay]
 */
#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "lua/lua_bridge.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "core/shj_common.h"
#include "loop/source.h"
#include "replay/replay.h"

static const char *codes[][3] = {{"2330", "STK", "TSE"},    {"2317", "STK", "TSE"},
                                 {"0050", "STK", "TSE"},    {"2454", "STK", "TSE"},
                                 {"2603", "STK", "TSE"},    {"TXFR1", "FUT", "TAIFEX"},
                                 {"MXFR1", "FUT", "TAIFEX"}};
#define N_CODES (sizeof codes / sizeof codes[0])

#pragma weak arc_reader_open_prefetch

static char archive_file[1024];

static int64_t clock_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Seconds on three clocks: process CPU (every thread), this (the loop)
 * thread's CPU, wall. */
typedef struct tm3 {
    double cpu, thr, wall;
} tm3;
static tm3 tm_start(void) {
    tm3 t = {(double)clock_ns(CLOCK_PROCESS_CPUTIME_ID), (double)clock_ns(CLOCK_THREAD_CPUTIME_ID),
             (double)clock_ns(CLOCK_MONOTONIC)};
    return t;
}
static tm3 tm_since(tm3 t0) {
    tm3 t = tm_start();
    t.cpu = (t.cpu - t0.cpu) / 1e9;
    t.thr = (t.thr - t0.thr) / 1e9;
    t.wall = (t.wall - t0.wall) / 1e9;
    return t;
}

static int record(uint64_t n, const char *dir) {
    char err[512], cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return -1;
    rt_init(0);
    src_source *s = simsrc_new("sim", 42, "2026-11-25", 0, err, sizeof err);
    if (!s) return -1;
    for (size_t i = 0; i < N_CODES; i++)
        shj_src_subscribe(s, codes[i][0], codes[i][1], codes[i][2], "tick,bidask", 0, NULL, err,
                          sizeof err);
    if (shj_rt_add_source(s, err, sizeof err) != SHJ_OK ||
        shj_route_raw(s, dir, 1000, 0, 1, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    rt_set_status_interval(0);
    rt_set_limits(0, n);
    int rc = rt_run(err, sizeof err);
    rt_shutdown();
    if (rc != SHJ_OK) return -1;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sim", dir);
    DIR *d = opendir(sub);
    struct dirent *de;
    int files = 0;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".shjraw")) {
            snprintf(archive_file, sizeof archive_file, "%s/%s", sub, de->d_name);
            files++;
        }
    if (d) closedir(d);
    if (files != 1) {
        fprintf(stderr, "bench: expected one archive file, found %d (recorded across 15:00 Taipei?)\n",
                files);
        return -1;
    }
    return 0;
}

static const tm3 tm_failed = {0, 0, 0};

static arc_reader *open_reader(int prefetch, char *err, size_t errlen) {
    if (prefetch) return arc_reader_open_prefetch(archive_file, 4, err, errlen);
    return arc_reader_open(archive_file, err, errlen);
}

/* Includes the open and close: the read-ahead thread's start and join. */
static tm3 bench_read(int prefetch, uint64_t *records, uint64_t *bytes) {
    char err[256];
    arc_record rec;
    *records = *bytes = 0;
    tm3 t0 = tm_start();
    arc_reader *r = open_reader(prefetch, err, sizeof err);
    if (!r) return tm_failed;
    while (arc_reader_next(r, &rec) == 1) {
        (*records)++;
        *bytes += rec.len;
    }
    arc_reader_close(r);
    return tm_since(t0);
}

static tm3 bench_read_parse(int prefetch, uint64_t *events) {
    char err[256];
    arc_record rec;
    shj_event ev;
    *events = 0;
    tm3 t0 = tm_start();
    arc_reader *r = open_reader(prefetch, err, sizeof err);
    if (!r) return tm_failed;
    while (arc_reader_next(r, &rec) == 1)
        if (psr_parse(rec.tag, rec.data, rec.len, &ev, err, sizeof err) == PSR_EVENT) (*events)++;
    arc_reader_close(r);
    return tm_since(t0);
}

static size_t sink_cb(void *ctx, const shj_event *evs, size_t n) {
    uint64_t *count = ctx;
    for (size_t i = 0; i < n; i++) *count += evs[i].kind != SHJ_KIND_STATUS;
    return n;
}

static tm3 bench_replay_c(uint64_t *events, int workers) {
    char err[512];
    rt_init(0);
    const char *files[1] = {archive_file};
    rpl_opts o = {.files = files, .n_files = 1, .progress = 0, .mark = 1, .workers = workers};
    src_source *s = rpl_new("replay", &o, err, sizeof err);
    if (!s || shj_rt_add_source(s, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return tm_failed;
    }
    *events = 0;
    bus_subscribe(rt_bus(), "count", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sink_cb, events);
    rt_set_status_interval(0);
    tm3 t0 = tm_start();
    rt_run(err, sizeof err);
    tm3 t = tm_since(t0);
    rt_shutdown();
    return t;
}

/* The Lua runs: the shijim module in this process, as the `shijim` binary runs it. */
static const char *lua_null =
    "local shijim = require 'shijim'\n"
    "local file = ...\n"
    "local src = shijim.source.replay{ files = { file }, progress = false }\n"
    "local n = 0\n"
    "shijim.on({'tick', 'bidask', 'quote', 'status'}, function(ev) n = n + 1 end)\n"
    "shijim.run{ status_ms = 0 }\n"
    "return 0, n, 0\n";

static const char *lua_backtest =
    "local shijim = require 'shijim'\n"
    "local strategy = require 'shijim.strategy'\n"
    "local file, strat = ...\n"
    "local codes = { 'TXFR1', 'MXFR1', '2330', '2317', '0050', '2454', '2603' }\n"
    "local eng = strategy.engine{ strategy = strat, codes = codes, bars = '15s,1m',\n"
    "                             params = { period_s = 15, fast = 2, slow = 5 } }\n"
    "local src = shijim.source.replay{ files = { file }, progress = false }\n"
    "local feed = eng.feed\n"
    "shijim.on({'tick', 'bidask', 'quote', 'status'}, function(ev) feed(eng, ev) end)\n"
    "shijim.run{ status_ms = 0 }\n"
    "local r = eng:finish()\n"
    "return 0, r.events, #r.fills\n";

static tm3 bench_lua(const char *chunk, const char *home, uint64_t *events, uint64_t *fills) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_shijim_core);
    lua_setfield(L, -2, "shijim.core");
    lua_pop(L, 1);
    lua_pushfstring(L, "%s/scripts/?.lua;%s/scripts/?/init.lua;/usr/share/lua/5.1/?.lua", home, home);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    lua_pushcfunction(L, lbr_traceback);
    tm3 sec = tm_failed;
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=bench") != 0) {
        fprintf(stderr, "bench: %s\n", lua_tostring(L, -1));
        goto done;
    }
    lua_pushstring(L, archive_file);
    char strat[1200];
    snprintf(strat, sizeof strat, "%s/scripts/strategies/ma_cross.lua", home);
    lua_pushstring(L, strat);
    tm3 t0 = tm_start();
    if (lua_pcall(L, 2, 3, 1) != 0) {
        fprintf(stderr, "bench: %s\n", lua_tostring(L, -1));
        goto done;
    }
    /* includes loading the modules and the strategy: a few ms of seconds */
    sec = tm_since(t0);
    *events = (uint64_t)lua_tonumber(L, -2);
    *fills = (uint64_t)lua_tonumber(L, -1);
done:
    lua_close(L);
    rt_shutdown();
    return sec;
}

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 3000000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *dir = argc > 3 ? argv[3] : "/tmp/shj-bench-replay";
    const char *home = shj_home();
    shj_log_set_level(SHJ_LOG_WARN);
    if (reps < 1) reps = 1;
    printf("recording %llu simulated events into %s ...\n", (unsigned long long)n, dir);
    if (record(n, dir) != 0) return 1;

#define ROWS 8
    tm3 best[ROWS];
    for (int i = 0; i < ROWS; i++) best[i] = (tm3){1e30, 1e30, 1e30};
    uint64_t cnt[ROWS] = {0}, bytes = 0, fills = 0;
    int have_pf = arc_reader_open_prefetch != NULL;
    for (int r = 0; r < reps; r++) {
        tm3 t[ROWS];
        uint64_t c[ROWS] = {0}, f = 0;
        t[0] = bench_read(0, &c[0], &bytes);
        t[1] = have_pf ? bench_read(1, &c[1], &bytes) : tm_failed;
        t[2] = bench_read_parse(0, &c[2]);
        t[3] = have_pf ? bench_read_parse(1, &c[3]) : tm_failed;
        t[4] = bench_replay_c(&c[4], -1);
        t[5] = bench_replay_c(&c[5], 0);
        t[6] = bench_lua(lua_null, home, &c[6], &f);
        t[7] = bench_lua(lua_backtest, home, &c[7], &f);
        fills = f;
        for (int i = 0; i < ROWS; i++) {
            if (t[i].cpu <= 0) continue;
            cnt[i] = c[i];
            if (t[i].cpu < best[i].cpu) best[i].cpu = t[i].cpu;
            if (t[i].thr < best[i].thr) best[i].thr = t[i].thr;
            if (t[i].wall < best[i].wall) best[i].wall = t[i].wall;
        }
    }
    static const char *names[ROWS] = {"read (arc_reader, lz4)", "read, prefetch thread",
                                      "read + parse", "read (prefetch) + parse",
                                      "replay -> bus, parse on the loop",
                                      "replay -> bus (no Lua), parse workers",
                                      "replay + Lua handler (count)",
                                      "backtest: replay + Lua engine + ma_cross"};
    printf("\n%-42s %10s | %18s | %18s | %18s\n", "", "", "process CPU", "loop-thread CPU",
           "wall");
    printf("%-42s %10s | %8s %9s | %8s %9s | %8s %9s\n", "stage (best of reps)", "events",
           "M ev/s", "ns/ev", "M ev/s", "ns/ev", "M ev/s", "ns/ev");
    for (int i = 0; i < ROWS; i++) {
        if (best[i].cpu >= 1e30 || cnt[i] == 0) {
            printf("%-42s %10s\n", names[i], have_pf || (i != 1 && i != 3) ? "failed" : "n/a");
            continue;
        }
        double n_ev = (double)cnt[i];
        printf("%-42s %10llu | %8.2f %9.1f | %8.2f %9.1f | %8.2f %9.1f\n", names[i],
               (unsigned long long)cnt[i], n_ev / best[i].cpu / 1e6, best[i].cpu * 1e9 / n_ev,
               n_ev / best[i].thr / 1e6, best[i].thr * 1e9 / n_ev, n_ev / best[i].wall / 1e6,
               best[i].wall * 1e9 / n_ev);
    }
    if (cnt[4] && cnt[5]) {
        printf("\nparse workers (%ld cores): replay %.2fx the parse-on-the-loop rate (wall), "
               "loop thread %.1f -> %.1f ns/event\n",
               sysconf(_SC_NPROCESSORS_ONLN), best[4].wall / best[5].wall * (double)cnt[5] / (double)cnt[4],
               best[4].thr * 1e9 / (double)cnt[4], best[5].thr * 1e9 / (double)cnt[5]);
    }
    if (cnt[5] && cnt[6] && cnt[7]) {
        /* the handlers run on the loop thread: its CPU time is what they add */
        double base = best[5].thr * 1e9 / (double)cnt[5];
        printf("Lua handler call (bridge + closure), per event (loop-thread CPU): %6.1f ns\n",
               best[6].thr * 1e9 / (double)cnt[6] - base);
        printf("Lua strategy engine (bars + broker + hooks), per event (loop-thread CPU): %6.1f ns\n",
               best[7].thr * 1e9 / (double)cnt[7] - base);
        printf("archive: %llu payload bytes; backtest fills: %llu\n", (unsigned long long)bytes,
               (unsigned long long)fills);
        /* the targets, on wall time (the rate a user sees) */
        double replay_rate = (double)cnt[5] / best[5].wall, bt_rate = (double)cnt[7] / best[7].wall;
        printf("targets: replay without Lua %.2f M ev/s (>= 3 M: %s); backtest with a Lua strategy "
               "%.2f M ev/s (>= 1 M: %s)\n",
               replay_rate / 1e6, replay_rate >= 3e6 ? "met" : "NOT met", bt_rate / 1e6,
               bt_rate >= 1e6 ? "met" : "NOT met");
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return 0;
}
