/* test_ops_series.c — the metrics issue 12 part 2 lists beyond the basics,
 * each checked against the component that owns the number:
 *  A. The simulated market recorded into the raw archive and a real
 *     clickhouse-server (tests/ch_harness.h): the fsync histogram
 *     (shijim_raw_fsync_seconds) counts real fdatasync calls (at least one,
 *     at most one per archived payload, its sum > 0); the "clickhouse" stage of
 *     shijim_event_latency_seconds holds exactly one observation per row
 *     ClickHouse acknowledged (chw_stats.rows_inserted), every one later than
 *     the "bus" stage's fastest bucket could hold; rows waiting in the
 *     fallback (shijim_clickhouse_fallback_rows) is 0 with ClickHouse up.
 *  B. A Shioaji source against the stand-in (tests/tool_standin.c), dropped
 *     once: shijim_shioaji_reconnects_total, _gaps_total, _subscriptions and
 *     _usage_remaining_bytes equal the source's own counters (usage only
 *     once the usage answer is in), and shijim_source_last_event_age_seconds
 *     is present for it.
 * The series are read from shj_metrics_text, the same text /metrics serves. */
#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "ch_harness.h"
#include "clickhouse/ch_writer.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "lua/shj_metrics.h"
#include "ops/ops_metrics.h"
#include "sim/sim_source.h"
#include "sj_harness.h"
#include "t.h"

static char text[1 << 20];

/* Value of the sample "series" (name{labels}) in text, or -1 when absent. */
static double sample(const char *series) {
    char key[256];
    snprintf(key, sizeof key, "\n%s ", series);
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static void snapshot(void) {
    size_t n = shj_metrics_text(text, sizeof text);
    CHECK(n > 0 && n < sizeof text);
}

static void part_a(void) {
    static chx_server server;
    char err[600], tmp[] = "/tmp/shj-opsser.XXXXXX", raw[300], fb[300], dsn[200];
    if (chx_start(&server, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        return;
    }
    snprintf(raw, sizeof raw, "%s/raw", tmp);
    snprintf(fb, sizeof fb, "%s/fallback", tmp);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/market", server.http_port);

    CHECK_EQ_I64(rt_init(0), SHJ_OK);
    CHECK_EQ_I64(shj_metrics_start(NULL, 10, 5, err, sizeof err), SHJ_OK);
    src_source *s = simsrc_new("sim", 7, NULL, 20000, err, sizeof err);
    CHECK(s != NULL);
    CHECK_EQ_I64(shj_src_subscribe(s, "2330", "STK", "TSE", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_src_subscribe(s, "TXFR1", "FUT", "TAIFEX", "tick,bidask", 0, NULL, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_rt_add_source(s, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_route_raw(s, raw, 20, 0, 1, err, sizeof err), SHJ_OK);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = 5000;
    o.batch_ms = 100;
    int route = chw_route(s, &o, 0, err, sizeof err);
    CHECK(route >= 0);
    rt_set_status_interval(0);
    rt_set_limits(3.0, 0);
    CHECK_EQ_I64(rt_run(err, sizeof err), SHJ_OK);

    chw_stats st;
    CHECK_EQ_I64(chw_route_stats(route, &st), SHJ_OK);
    snapshot(); /* the final snapshot: every writer closed */
    fprintf(stderr, "A: %llu rows inserted, fsync count %.0f sum %.6f s\n", (unsigned long long)st.rows_inserted,
            sample("shijim_raw_fsync_seconds_count"), sample("shijim_raw_fsync_seconds_sum"));
    CHECK(st.rows_inserted > 10000);
    CHECK_EQ_I64(st.rows_fallback, 0);
    CHECK_EQ_I64((int64_t)sample("shijim_event_latency_seconds_count{stage=\"clickhouse\"}"), (int64_t)st.rows_inserted);
    CHECK(sample("shijim_event_latency_seconds_sum{stage=\"clickhouse\"}") > 0);
    /* An insert round trip is never faster than 10 us: the first bucket is empty. */
    CHECK_EQ_I64((int64_t)sample("shijim_event_latency_seconds_bucket{stage=\"clickhouse\",le=\"1e-05\"}"), 0);
    CHECK_EQ_I64((int64_t)sample("shijim_clickhouse_fallback_rows{route=\"0\"}"), 0);
    double fsyncs = sample("shijim_raw_fsync_seconds_count");
    CHECK(fsyncs >= 1);
    /* Each data fdatasync makes at least one new record durable (the archive
     * skips it otherwise). The raw_* series are the stats read when the bus
     * drained; the archive's close fsyncs after that, so compare with the
     * source's payloads (every one archived), not with those. */
    CHECK(fsyncs <= (double)s->counters.payloads);
    CHECK(sample("shijim_raw_fsync_seconds_sum") > 0);
    CHECK_EQ_I64((int64_t)sample("shijim_raw_fsync_seconds_bucket{le=\"+Inf\"}"), (int64_t)fsyncs);
    /* No Shioaji source: no Shioaji series. */
    CHECK(strstr(text, "shijim_shioaji_") == NULL);
    shj_metrics_stop();
    rt_shutdown();
    chx_stop(&server);
    chx_rm_rf(tmp);
}

typedef struct {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int dropped;
    uint64_t mark;
} ctx_b;

static int step_b(void *p, double el) {
    ctx_b *c = p;
    SHJ_UNUSED(el);
    if (!c->dropped) {
        if (sj_counter(c->src, "subscribed") == 2 && c->src->counters.payloads > 50) {
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            c->dropped = 1;
            c->mark = c->src->counters.payloads;
        }
        return 0;
    }
    return sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= 1 && c->src->counters.payloads > c->mark + 50 &&
           sj_counter(c->src, "usage_remaining") != UINT64_MAX;
}

static void part_b(void) {
    static ctx_b c;
    char dir[256], err[256], lb[96];
    sh_mkdtemp(dir, sizeof dir, "ops-series");
    const char *args[] = {"--rate", "400", "--heartbeat-ms", "150", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    c.src = sh_source_new(&c.si, 0, "sj", NULL, 1.0, err, sizeof err);
    CHECK(c.src != NULL);
    CHECK_EQ_I64(sj_set(c.src, "usage_poll_s", 0.5, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(shj_metrics_start(NULL, 10, 5, err, sizeof err), SHJ_OK);
    sh_wire(c.src, NULL, &c.rec, err, sizeof err);
    src_sub_req a = {"TXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0}, b = {"2330", 0, 0, 1u << SHJ_KIND_TICK, 0};
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &a, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &b, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sh_run(step_b, &c, 30.0), 0);
    snapshot();
    static const char *pairs[][2] = {{"reconnects", "shijim_shioaji_reconnects_total"},
                                     {"gaps", "shijim_shioaji_gaps_total"},
                                     {"subscribed", "shijim_shioaji_subscriptions"},
                                     {"usage_remaining", "shijim_shioaji_usage_remaining_bytes"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char series[160];
        snprintf(series, sizeof series, "%s{%s}", pairs[i][1], ops_expo_labels(lb, sizeof lb, "source", "sj", NULL));
        uint64_t want = sj_counter(c.src, pairs[i][0]);
        fprintf(stderr, "B: %s = %.0f (source says %llu)\n", series, sample(series), (unsigned long long)want);
        CHECK(sample(series) >= 0);
        CHECK_EQ_I64((int64_t)sample(series), (int64_t)want);
    }
    CHECK(sj_counter(c.src, "reconnects") >= 1);
    CHECK(sj_counter(c.src, "gaps") >= 1);
    CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 2);
    CHECK(sample("shijim_source_last_event_age_seconds{source=\"sj\"}") >= 0);
    /* The reconnect shows in the generic status counts too. */
    CHECK(sample("shijim_source_status_events_total{source=\"sj\",status=\"connected\"}") >= 2);
    sh_standin_stop(&c.si);
    shj_metrics_stop();
    sh_teardown(&c.rec, dir);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    part_a();
    part_b();
    curl_global_cleanup();
    T_DONE();
}
