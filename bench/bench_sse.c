/* bench_sse.c — SSE bytes -> events on the bus: over a real socket vs. from memory.
 *
 * Socket: the stand-in (tool_standin, a separate process) streams the
 * simulated market as fast as it can over 127.0.0.1; the live Shioaji
 * source receives it through curl on the libev loop, frames SSE, parses and
 * publishes on the bus (no archive), a subscriber drains the bus. Measured
 * over a window of D seconds: events, wall time and this process's CPU
 * time, so "events per CPU-second" is the rate one core sustains however
 * fast the stand-in manages to write on a shared machine.
 *
 * Memory: the same simulated market (seed, date, instruments) rendered to
 * one SSE byte stream, fed in 64 KiB chunks to
 *   1. the SSE parser alone,
 *   2. SSE parser + psr_parse,
 *   3. SSE parser + src_deliver into a bus with a draining subscriber
 *      (the socket path minus the transport).
 * Best of 3 each. The difference between 3 and the socket figure is what
 * the transport (kernel, curl, chunked decoding, loop) costs.
 *
 * Usage: bench_sse [seconds=3] [memory_events=1000000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../tests/sj_harness.h"
#include "parse/parse.h"
#include "lua/shj_api.h"
#include "sim/sim.h"
#include "parse/sse.h"

#define N_CODES 8
static const char *codes[N_CODES][2] = {{"2330", "STK"}, {"2317", "STK"}, {"0050", "STK"}, {"2454", "STK"},
                                       {"2603", "STK"}, {"6488", "STK"}, {"TXFR1", "FUT"}, {"MXFR1", "FUT"}};

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Socket path ------------------------------------------------------------------ */

typedef struct sock_ctx {
    sh_standin si;
    src_source *src;
    double window_s;
    int phase;
    uint64_t events;        /* taken by the subscriber */
    uint64_t ev0, ev1;
    int64_t t0, t1;
    double cpu0, cpu1;
    uint64_t bytes0, bytes1;
} sock_ctx;

static size_t count_cb(void *p, const shj_event *evs, size_t n) {
    sock_ctx *c = p;
    for (size_t i = 0; i < n; i++) c->events += evs[i].kind == SHJ_KIND_TICK || evs[i].kind == SHJ_KIND_BIDASK;
    return n;
}

static int sock_step(void *p, double el) {
    sock_ctx *c = p;
    SHJ_UNUSED(el);
    if (c->phase == 0) {
        if (sj_counter(c->src, "subscribed") == 2 * N_CODES && c->events > 20000) {
            c->ev0 = c->events;
            c->t0 = clk_mono_ns();
            c->cpu0 = cpu_s();
            c->bytes0 = sj_counter(c->src, "bytes");
            c->phase = 1;
        }
        return 0;
    }
    if ((double)(clk_mono_ns() - c->t0) / 1e9 >= c->window_s) {
        c->ev1 = c->events;
        c->t1 = clk_mono_ns();
        c->cpu1 = cpu_s();
        c->bytes1 = sj_counter(c->src, "bytes");
        return 1;
    }
    return 0;
}

static int bench_socket(double window_s, sock_ctx *c) {
    char dir[256], url[128], err[256];
    sh_mkdtemp(dir, sizeof dir, "bench-sse");
    const char *args[] = {"--rate", "3000000", "--heartbeat-ms", "1000", "--date", "2026-11-25", "--history", "0",
                          NULL};
    memset(c, 0, sizeof *c);
    c->window_s = window_s;
    if (sh_standin_start(&c->si, dir, 0, args) != 0) return -1;
    sh_url(&c->si, url, sizeof url);
    rt_init(1 << 16);
    rt_set_status_interval(0);
    c->src = sj_new("bench", url, NULL, "combined", 30, err, sizeof err);
    rt_add_source(c->src, err, sizeof err);
    bus_subscribe(rt_bus(), "count", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count_cb, c);
    for (int i = 0; i < N_CODES; i++)
        shj_src_subscribe(c->src, codes[i][0], codes[i][1], "", "tick,bidask", 0, NULL, err, sizeof err);
    int rc = sh_run(sock_step, c, window_s + 60);
    sh_standin_stop(&c->si);
    rt_shutdown();
    sh_rmrf(dir);
    return rc;
}

/* Memory paths --------------------------------------------------------------------- */

typedef struct mem_ctx {
    int mode;               /* 1 framing only, 2 + parse, 3 + src_deliver */
    uint64_t events;
    uint64_t sum;
    src_source *src;
    bus *bus;
} mem_ctx;

static int mem_event(void *p, const sse_event *ev) {
    mem_ctx *m = p;
    m->events++;
    if (m->mode == 1) {
        m->sum += ev->data_len;
        return 0;
    }
    int tag = psr_tag_from_name(ev->name, ev->name_len);
    if (m->mode == 2) {
        shj_event out;
        char err[128];
        if (psr_parse(tag, ev->data, ev->data_len, &out, err, sizeof err) == PSR_EVENT) m->sum += (uint64_t)out.volume;
        return 0;
    }
    while (src_deliver(m->src, tag, ev->data, ev->data_len, 1) == SHJ_AGAIN) bus_dispatch(m->bus);
    return 0;
}

static size_t drain_cb(void *p, const shj_event *evs, size_t n) {
    uint64_t *sum = p;
    for (size_t i = 0; i < n; i++) *sum += (uint64_t)evs[i].volume;
    return n;
}

static const src_ops mem_ops = {.type = "memory"};

static double run_memory(int mode, const char *buf, size_t len, uint64_t *events) {
    double best = 1e18;
    for (int rep = 0; rep < 3; rep++) {
        mem_ctx m;
        memset(&m, 0, sizeof m);
        m.mode = mode;
        src_source s;
        uint64_t sum = 0;
        if (mode == 3) {
            src_init(&s, &mem_ops, "memory");
            m.bus = bus_new(1 << 16);
            s.bus = m.bus;
            m.src = &s;
            bus_subscribe(m.bus, "drain", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, drain_cb, &sum);
        }
        sse_parser p;
        sse_init(&p, mem_event, &m);
        int64_t t0 = clk_mono_ns();
        for (size_t off = 0; off < len; off += 65536) sse_feed(&p, buf + off, len - off < 65536 ? len - off : 65536);
        if (mode == 3) bus_dispatch(m.bus);
        double s_el = (double)(clk_mono_ns() - t0) / 1e9;
        if (s_el < best) best = s_el;
        *events = m.events;
        sse_free(&p);
        if (mode == 3) bus_free(m.bus);
    }
    return best;
}

int main(int argc, char **argv) {
    double window = argc > 1 ? atof(argv[1]) : 3.0;
    size_t n_mem = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000;
    shj_log_set_level(SHJ_LOG_WARN);

    /* The memory stream: the stand-in's market (same seed 1, date, instruments). */
    sim_market *mkt = sim_new(1, "2026-11-25", 3000000);
    for (int i = 0; i < N_CODES; i++) {
        char err[128], res[16];
        sim_add(mkt, codes[i][0], 0, 0, (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK), 0, res, err, sizeof err);
    }
    size_t cap = n_mem * 480 + 4096, len = 0;
    char *buf = malloc(cap);
    char payload[4096];
    for (size_t i = 0; i < n_mem; i++) {
        int tag;
        int64_t exch;
        size_t pl = sim_next(mkt, &tag, payload, sizeof payload, &exch);
        if (len + pl + 64 > cap) break;
        len += (size_t)sprintf(buf + len, "event: %s\ndata: ", psr_tag_name(tag));
        memcpy(buf + len, payload, pl);
        len += pl;
        buf[len++] = '\n';
        buf[len++] = '\n';
    }
    sim_free(mkt);

    uint64_t e1, e2, e3;
    double s1 = run_memory(1, buf, len, &e1);
    double s2 = run_memory(2, buf, len, &e2);
    double s3 = run_memory(3, buf, len, &e3);
    free(buf);

    sock_ctx c;
    int ok = bench_socket(window, &c) == 0;
    double wall = (double)(c.t1 - c.t0) / 1e9, cpu = c.cpu1 - c.cpu0;
    uint64_t ev = c.ev1 - c.ev0;

    printf("bench_sse: SSE bytes -> events; memory: %llu events, %.1f MB, avg %.0f B/event, best of 3\n",
           (unsigned long long)e1, (double)len / 1e6, (double)len / (double)(e1 ? e1 : 1));
    printf("%-58s %12s %9s %10s\n", "path", "events/s", "ns/event", "vs memory");
    printf("%-58s %12.0f %9.1f %9.2fx\n", "memory: SSE framing alone", (double)e1 / s1, s1 * 1e9 / (double)e1, 1.0);
    printf("%-58s %12.0f %9.1f %9.2fx\n", "memory: SSE framing + psr_parse", (double)e2 / s2, s2 * 1e9 / (double)e2,
           (s1 / (double)e1) / (s2 / (double)e2));
    printf("%-58s %12.0f %9.1f %9.2fx\n", "memory: SSE + src_deliver -> bus -> subscriber", (double)e3 / s3,
           s3 * 1e9 / (double)e3, (s1 / (double)e1) / (s3 / (double)e3));
    if (ok && ev && cpu > 0) {
        printf("%-58s %12.0f %9.1f %9.2fx\n", "socket (stand-in, TCP, curl+libev) -> bus, per CPU-second",
               (double)ev / cpu, cpu * 1e9 / (double)ev, (s1 / (double)e1) / (cpu / (double)ev));
        printf("%-58s %12.0f %9s %10s\n", "socket, wall clock (bounded by the stand-in's writer)", (double)ev / wall,
               "", "");
        printf("socket window: %.2f s wall, %.2f s CPU in this process (%.0f%% of one core), %llu events, %.1f MB/s\n",
               wall, cpu, 100.0 * cpu / wall, (unsigned long long)ev, (double)(c.bytes1 - c.bytes0) / wall / 1e6);
        printf("transport overhead per event: %.0f ns (socket CPU/event - memory SSE+deliver/event)\n",
               cpu * 1e9 / (double)ev - s3 * 1e9 / (double)e3);
    } else {
        printf("socket run failed (stand-in not started or no events)\n");
    }
    return ok ? 0 : 1;
}
