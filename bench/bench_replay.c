/* bench_replay.c — replay throughput from the raw archive, without and with Lua.
 *
 * Setup (not timed): the simulated market (7 instruments, ticks + books)
 * records N events into a raw archive (lz4 blocks), as `shijim run main.lua`
 * does. Then, on the same file:
 *   read      arc_reader only (read, checksum, lz4): records/s
 *   parse     arc_reader + psr_parse, no bus
 *   replay    the replay source on rt: read + parse + bus -> a C subscriber
 *             (the "replay events/s without Lua handlers")
 *   lua-null  replay + a Lua handler (shijim.on) that only counts
 *   backtest  replay + the Lua strategy engine + broker + bars + ma_cross
 *             (scripts/backtest.lua's path, in process)
 * Per-event cost of the Lua part = (t_lua - t_replay) / N. Times are process
 * CPU time (the machine is shared: wall time measures the neighbours), each
 * the best of `reps`. Output: a table on stdout.
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

#include "archive.h"
#include "bus.h"
#include "clock.h"
#include "lua_bridge.h"
#include "parse.h"
#include "rt.h"
#include "shj_api.h"
#include "shj_common.h"
#include "source.h"
#include "src_replay.h"

static const char *codes[][3] = {{"2330", "STK", "TSE"},    {"2317", "STK", "TSE"},
                                 {"0050", "STK", "TSE"},    {"2454", "STK", "TSE"},
                                 {"2603", "STK", "TSE"},    {"TXFR1", "FUT", "TAIFEX"},
                                 {"MXFR1", "FUT", "TAIFEX"}};
#define N_CODES (sizeof codes / sizeof codes[0])

static char archive_file[1024];

/* Process CPU time, ns: replay runs on the loop thread only (no archive
 * writer thread), so this is the work done, whatever else runs on the box. */
static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int record(uint64_t n, const char *dir) {
    char err[512], cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return -1;
    rt_init(0);
    src_source *s = shj_sim_new("sim", 42, "2026-11-25", 0, err, sizeof err);
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

static double bench_read(uint64_t *records, uint64_t *bytes) {
    char err[256];
    arc_reader *r = arc_reader_open(archive_file, err, sizeof err);
    if (!r) return 0;
    arc_record rec;
    *records = *bytes = 0;
    int64_t t0 = cpu_ns();
    while (arc_reader_next(r, &rec) == 1) {
        (*records)++;
        *bytes += rec.len;
    }
    double s = (double)(cpu_ns() - t0) / 1e9;
    arc_reader_close(r);
    return s;
}

static double bench_read_parse(uint64_t *events) {
    char err[256];
    arc_reader *r = arc_reader_open(archive_file, err, sizeof err);
    if (!r) return 0;
    arc_record rec;
    shj_event ev;
    *events = 0;
    int64_t t0 = cpu_ns();
    while (arc_reader_next(r, &rec) == 1)
        if (psr_parse(rec.tag, rec.data, rec.len, &ev, err, sizeof err) == PSR_EVENT) (*events)++;
    double s = (double)(cpu_ns() - t0) / 1e9;
    arc_reader_close(r);
    return s;
}

static size_t sink_cb(void *ctx, const shj_event *evs, size_t n) {
    uint64_t *count = ctx;
    for (size_t i = 0; i < n; i++) *count += evs[i].kind != SHJ_KIND_STATUS;
    return n;
}

static double bench_replay_c(uint64_t *events) {
    char err[512];
    rt_init(0);
    const char *files[1] = {archive_file};
    rpl_opts o = {.files = files, .n_files = 1, .progress = 0, .mark = 1};
    src_source *s = rpl_new("replay", &o, err, sizeof err);
    if (!s || shj_rt_add_source(s, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 0;
    }
    *events = 0;
    bus_subscribe(rt_bus(), "count", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sink_cb, events);
    rt_set_status_interval(0);
    int64_t t0 = cpu_ns();
    rt_run(err, sizeof err);
    double sec = (double)(cpu_ns() - t0) / 1e9;
    rt_shutdown();
    return sec;
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

static double bench_lua(const char *chunk, const char *home, uint64_t *events, uint64_t *fills) {
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
    double sec = 0;
    if (luaL_loadbuffer(L, chunk, strlen(chunk), "=bench") != 0) {
        fprintf(stderr, "bench: %s\n", lua_tostring(L, -1));
        goto done;
    }
    lua_pushstring(L, archive_file);
    char strat[1200];
    snprintf(strat, sizeof strat, "%s/scripts/strategies/ma_cross.lua", home);
    lua_pushstring(L, strat);
    int64_t t0 = cpu_ns();
    if (lua_pcall(L, 2, 3, 1) != 0) {
        fprintf(stderr, "bench: %s\n", lua_tostring(L, -1));
        goto done;
    }
    /* includes loading the modules and the strategy: a few ms of seconds */
    sec = (double)(cpu_ns() - t0) / 1e9;
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

    double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
    uint64_t cnt[5] = {0}, bytes = 0, fills = 0;
    for (int r = 0; r < reps; r++) {
        double s;
        uint64_t c, f = 0;
        if ((s = bench_read(&c, &bytes)) > 0 && s < best[0]) best[0] = s, cnt[0] = c;
        if ((s = bench_read_parse(&c)) > 0 && s < best[1]) best[1] = s, cnt[1] = c;
        if ((s = bench_replay_c(&c)) > 0 && s < best[2]) best[2] = s, cnt[2] = c;
        if ((s = bench_lua(lua_null, home, &c, &f)) > 0 && s < best[3]) best[3] = s, cnt[3] = c;
        if ((s = bench_lua(lua_backtest, home, &c, &f)) > 0 && s < best[4]) best[4] = s, cnt[4] = c, fills = f;
    }
    static const char *names[5] = {"read (arc_reader, lz4)", "read + parse", "replay -> bus (no Lua)",
                                   "replay + Lua handler (count)", "backtest: replay + Lua engine + ma_cross"};
    printf("\n%-42s %12s %10s %10s\n", "stage (best of reps)", "events", "M ev/s", "ns/event");
    for (int i = 0; i < 5; i++) {
        if (best[i] >= 1e30 || cnt[i] == 0) {
            printf("%-42s %12s\n", names[i], "failed");
            continue;
        }
        printf("%-42s %12llu %10.2f %10.1f\n", names[i], (unsigned long long)cnt[i],
               (double)cnt[i] / best[i] / 1e6, best[i] * 1e9 / (double)cnt[i]);
    }
    if (cnt[2] && cnt[3] && cnt[4]) {
        double base = best[2] * 1e9 / (double)cnt[2];
        printf("\nLua handler call (bridge + closure), per event: %6.1f ns\n",
               best[3] * 1e9 / (double)cnt[3] - base);
        printf("Lua strategy engine (bars + broker + hooks), per event: %6.1f ns\n",
               best[4] * 1e9 / (double)cnt[4] - base);
        printf("archive: %llu payload bytes; backtest fills: %llu\n", (unsigned long long)bytes,
               (unsigned long long)fills);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return 0;
}
