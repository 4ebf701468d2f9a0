/* bench_nats.c — events/s through JetStream on this host, and the loop's cost per event.
 *
 * Starts one `nats-server -js` (tests/nats_cluster.sh is for the 3-node
 * test; here one node, file storage, in a temp dir on a free port), then:
 *   loop cost   ns per event of nts_pub_push on the calling thread (what the
 *               gateway's loop pays for the hand-off), measured in thread CPU
 *               time while the publisher thread really publishes (the ring is
 *               the default 65536 events, reused: no first-touch page faults
 *               after the first lap);
 *   publish     events/s from push until JetStream acknowledged the last one
 *               (stream R1, binary form, dedup ids);
 *   consume     events/s through the nts source (durable pull consumer) to a
 *               bus subscriber, acks included, on a second runtime;
 *   bus         for comparison: the in-process bus alone (bus_publish +
 *               bus_dispatch to one subscriber), as bench_bus measures it.
 * Usage: bench_nats [events=200000]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/shj_common.h"
#include "loop/bus.h"
#include "loop/rt.h"
#include "nats/nts_pub.h"
#include "nats/nts_source.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make(shj_event *e, uint64_t i) {
    memset(e, 0, sizeof *e);
    e->kind = (i % 5) < 2 ? SHJ_KIND_TICK : SHJ_KIND_BIDASK;
    e->exchange = SHJ_EX_TSE;
    e->sec_type = SHJ_SEC_STK;
    snprintf(e->code, sizeof e->code, "%u", 1101 + (unsigned)(i % 64));
    e->seq = i + 1;
    e->ts_recv_ns = 1764898200000000000LL + (int64_t)i * 1000;
    e->ts_exch_ns = e->ts_recv_ns - 500000;
    if (e->kind == SHJ_KIND_TICK) {
        e->close = 585500000 + (int64_t)(i % 100) * 500000;
        e->volume = 1 + (int32_t)(i % 7);
    } else {
        for (int l = 0; l < 5; l++) {
            e->bid_price[l] = 585000000 - l * 500000;
            e->ask_price[l] = 585500000 + l * 500000;
            e->bid_volume[l] = 10 + l;
            e->ask_volume[l] = 12 + l;
        }
    }
}

static uint64_t taken;
static size_t count(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(ctx);
    SHJ_UNUSED(evs);
    taken += n;
    if (taken >= *(uint64_t *)ctx) rt_stop("all consumed");
    return n;
}

static size_t count_bus(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(evs);
    *(uint64_t *)ctx += n;
    return n;
}

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    char dir[] = "/tmp/shj-bench-nats-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    const char *bd = getenv("SHJ_BUILD_DIR");
    char cmd[512], port[32] = "";
    snprintf(cmd, sizeof cmd, "%s/tool_free_ports 1", bd ? bd : "build");
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(port, sizeof port, p)) return 1;
    pclose(p);
    port[strcspn(port, "\n")] = 0;
    pid_t srv = fork();
    if (srv == 0) {
        char sd[300];
        snprintf(sd, sizeof sd, "%s/js", dir);
        freopen("/dev/null", "w", stderr);
        execlp("nats-server", "nats-server", "-js", "-sd", sd, "-a", "127.0.0.1", "-p", port, (char *)NULL);
        _exit(127);
    }
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%s", port);
    usleep(500000);

    shj_event *evs = malloc(n * sizeof *evs);
    for (uint64_t i = 0; i < n; i++) make(&evs[i], i);

    /* publish: push all (in slices the ring holds), wait for every ack */
    char err[256];
    nts_pub_opts o;
    nts_pub_opts_default(&o);
    o.servers = url;
    o.gateway = "bench";
    o.source = "sim";
    o.stream = "BENCH";
    o.create_stream = 1;
    o.max_events = 65536;
    o.batch = 4096;
    nts_pub *pub = nts_pub_open(&o, err, sizeof err);
    if (!pub) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    nts_pub_stats st;
    double push_cpu = 0, t0 = wall();
    for (uint64_t i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? (size_t)(n - i) : 256;
        for (;;) { /* keep within the ring: the bench measures throughput, not gaps */
            nts_pub_get_stats(pub, &st);
            if (st.queued + k <= 65536) break;
            usleep(100);
        }
        double c0 = cpu();
        nts_pub_push(pub, evs + i, k);
        push_cpu += cpu() - c0;
    }
    do {
        nts_pub_get_stats(pub, &st);
        usleep(200);
    } while (st.acked < n && wall() - t0 < 120);
    double pub_s = wall() - t0;
    nts_pub_close(pub, &st, err, sizeof err);

    /* consume: a runtime with the nats source and one counting subscriber */
    rt_init(0);
    rt_set_status_interval(0);
    nts_src_opts so;
    nts_src_opts_default(&so);
    so.servers = url;
    so.stream = "BENCH";
    so.durable = "bench";
    so.batch = 1024;
    so.ring = 8192;
    src_source *s = nts_src_new("nats", &so, err, sizeof err);
    rt_add_source(s, err, sizeof err);
    bus_subscribe(rt_bus(), "count", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count, &n);
    double t1 = wall();
    rt_run(err, sizeof err);
    double con_s = wall() - t1;
    uint64_t consumed = taken;

    /* the in-process bus on the same events */
    bus *b = bus_new(65536);
    uint64_t got = 0;
    bus_subscribe(b, "count", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, count_bus, &got);
    double t2 = cpu();
    for (uint64_t i = 0; i < n; i++) {
        if (bus_publish(b, &evs[i]) != SHJ_OK) {
            bus_dispatch(b);
            bus_publish(b, &evs[i]);
        }
        if ((i & 255) == 255) bus_dispatch(b);
    }
    bus_dispatch(b);
    double bus_s = cpu() - t2;

    printf("bench_nats: %" PRIu64 " events (40%% ticks, 60%% 5-level books, binary form), one nats-server -js on 127.0.0.1, R1 file storage\n", n);
    printf("  loop hand-off (nts_pub_push)   %8.1f ns/event (loop thread CPU)\n", push_cpu * 1e9 / (double)n);
    printf("  publish -> JetStream ack       %10.0f events/s (%" PRIu64 " acked, %" PRIu64 " duplicates)\n",
           (double)st.acked / pub_s, st.acked, st.duplicates);
    printf("  JetStream -> nats source -> bus%10.0f events/s (%" PRIu64 " taken, acks included)\n",
           (double)consumed / con_s, consumed);
    printf("  in-process bus (publish+dispatch) %7.0f events/s\n", (double)n / bus_s);
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return 0;
}
