/* test_ops_health.c — the metrics server in-process, against a real run:
 * /healthz fails while the loop is stuck (and /metrics still answers from the
 * last snapshot, because the server never waits for the loop), recovers when
 * the loop turns again; /readyz is 200 while the simulated source sends and
 * 503 after the stop; the final snapshot's counters equal the source's. */
#include <curl/curl.h>
#include <ev.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "lua/shj_api.h"
#include "sim/sim_source.h"
#include "ops/ops_metrics.h"
#include "t.h"

typedef struct {
    char *buf;
    size_t len;
} body_t;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
    body_t *b = ud;
    char *nb = realloc(b->buf, b->len + sz * n + 1);
    if (!nb) return 0;
    b->buf = nb;
    memcpy(b->buf + b->len, p, sz * n);
    b->len += sz * n;
    b->buf[b->len] = '\0';
    return sz * n;
}

/* GET path; returns the HTTP code (0 on a transport error), body into *out (free it). */
static long get(int port, const char *path, char **out) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    body_t b = {NULL, 0};
    long code = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (out) *out = b.buf ? b.buf : strdup("");
    else free(b.buf);
    return code;
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* Observations made by the probe thread while the loop runs. */
static struct {
    int port;
    long ready_running, health_running;
    long health_stuck, metrics_stuck, health_after;
    char stuck_why[256], ready_body[256];
} probe;

static void *probe_main(void *arg) {
    SHJ_UNUSED(arg);
    char *body;
    sleep_ms(700); /* the loop runs and the source sends */
    probe.ready_running = get(probe.port, "/readyz", &body);
    snprintf(probe.ready_body, sizeof probe.ready_body, "%s", body);
    free(body);
    probe.health_running = get(probe.port, "/healthz", NULL);
    sleep_ms(1800); /* t = 2.5 s: the loop has been stuck since 1.0 s (limit 1 s) */
    probe.health_stuck = get(probe.port, "/healthz", &body);
    snprintf(probe.stuck_why, sizeof probe.stuck_why, "%s", body);
    free(body);
    probe.metrics_stuck = get(probe.port, "/metrics", NULL);
    /* The loop turns again from 3.2 s, first catching up the source's backlog;
     * under TSan that backlog alone can take a second, so poll for the recovery
     * (until 5.5 s, the run stops at 6 s) instead of sampling one instant. */
    sleep_ms(700);
    for (int i = 0; i < 25; i++) {
        probe.health_after = get(probe.port, "/healthz", NULL);
        if (probe.health_after == 200) break;
        sleep_ms(100);
    }
    return NULL;
}

static void stall_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    sleep_ms(2200); /* a stuck callback: nothing else runs on the loop */
}

/* Value of one sample line "name{labels} v" in text, or -1. */
static long long sample(const char *text, const char *series) {
    char key[256];
    snprintf(key, sizeof key, "\n%s ", series);
    const char *p = strstr(text, key);
    return p ? atoll(p + strlen(key)) : -1;
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[512] = "";
    CHECK(rt_init(0) == SHJ_OK);
    ops_opts o = {.listen = "127.0.0.1:0", .health_max_s = 1, .ready_silence_s = 2};
    CHECK(ops_start(&o, err, sizeof err) == SHJ_OK);
    probe.port = ops_port();
    CHECK(probe.port > 0);
    /* Before the run: alive (starting), not ready. */
    char *body;
    CHECK_EQ_I64(get(probe.port, "/healthz", NULL), 200);
    CHECK_EQ_I64(get(probe.port, "/readyz", &body), 503);
    free(body);
    CHECK_EQ_I64(get(probe.port, "/nothing", NULL), 404);

    src_source *s = simsrc_new("sim", 42, NULL, 5000, err, sizeof err);
    CHECK(s != NULL);
    char resolved[16];
    CHECK(shj_src_subscribe(s, "2330", "STK", "", "tick,bidask", 0, resolved, err, sizeof err) == SHJ_OK);
    CHECK(rt_add_source(s, err, sizeof err) == SHJ_OK);

    ev_timer stall;
    ev_timer_init(&stall, stall_cb, 1.0, 0.0);
    ev_timer_start(rt_loop(), &stall);
    rt_set_status_interval(0);
    rt_set_limits(6.0, 0);
    pthread_t th;
    pthread_create(&th, NULL, probe_main, NULL);
    CHECK(rt_run(err, sizeof err) == SHJ_OK);
    pthread_join(th, NULL);

    CHECK_EQ_I64(probe.ready_running, 200);
    CHECK_STR(probe.ready_body, "ready\n");
    CHECK_EQ_I64(probe.health_running, 200);
    CHECK_EQ_I64(probe.health_stuck, 503);
    CHECK(strncmp(probe.stuck_why, "loop stuck: last turn ", 22) == 0);
    CHECK_EQ_I64(probe.metrics_stuck, 200);
    CHECK_EQ_I64(probe.health_after, 200);

    /* After the stop: the final snapshot, exactly the source's counters. */
    CHECK_EQ_I64(get(probe.port, "/readyz", &body), 503);
    CHECK(strstr(body, "stopped") != NULL);
    free(body);
    CHECK_EQ_I64(get(probe.port, "/metrics", &body), 200);
    long long ticks = sample(body, "shijim_events_total{source=\"sim\",kind=\"tick\"}");
    long long books = sample(body, "shijim_events_total{source=\"sim\",kind=\"bidask\"}");
    CHECK(ticks > 0 && books > 0);
    CHECK_EQ_I64(ticks, s->counters.per_kind[SHJ_KIND_TICK]);
    CHECK_EQ_I64(books, s->counters.per_kind[SHJ_KIND_BIDASK]);
    CHECK_EQ_I64(sample(body, "shijim_bus_published_total"), rt_events_published());
    /* No archive routed: no raw series; no handler: the handler histogram is empty;
     * the bus stage saw every event once. */
    CHECK(strstr(body, "shijim_raw_records_total{") == NULL);
    CHECK_EQ_I64(sample(body, "shijim_event_latency_seconds_count{stage=\"handler\"}"), 0);
    CHECK_EQ_I64(sample(body, "shijim_event_latency_seconds_count{stage=\"bus\"}"), rt_events_published());
    CHECK_EQ_I64(sample(body, "shijim_ready"), 0);
    free(body);

    ops_free();
    CHECK_EQ_I64(ops_port(), 0);
    rt_shutdown();
    curl_global_cleanup();
    T_DONE();
}
