/* test_ops_expo.c — the Prometheus text format and the latency histograms:
 * exact bucket placement at and around bounds, cumulative buckets ending in
 * +Inf, _sum in seconds, _count, label escaping, family headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops_expo.h"
#include "ops/ops_hist.h"
#include "t.h"

int main(void) {
    /* Bounds ascend and span 10 us .. 10 s. */
    CHECK_EQ_I64(ops_hist_bounds_ns[0], 10000);
    CHECK_EQ_I64(ops_hist_bounds_ns[OPS_HIST_BUCKETS - 1], 10000000000LL);
    for (int i = 1; i < OPS_HIST_BUCKETS; i++) CHECK(ops_hist_bounds_ns[i] > ops_hist_bounds_ns[i - 1]);

    ops_hist h;
    memset(&h, 0, sizeof h);
    ops_hist_observe(&h, -5);       /* clock step: counts as 0 -> first bucket */
    ops_hist_observe(&h, 10000);    /* exactly on the bound: le="1e-05" */
    ops_hist_observe(&h, 10001);    /* just above: next bucket (2.5e-05) */
    ops_hist_observe(&h, 99999);    /* 1e-04 bucket */
    ops_hist_observe(&h, 3000000);  /* 3 ms: 5e-03 bucket */
    ops_hist_observe(&h, 20000000000LL); /* 20 s: +Inf only */
    CHECK_EQ_I64(h.count, 6);
    CHECK_EQ_I64(h.counts[0], 2);
    CHECK_EQ_I64(h.counts[1], 1);
    CHECK_EQ_I64(h.counts[3], 1);
    CHECK_EQ_I64(h.counts[8], 1);
    CHECK_EQ_I64(h.counts[OPS_HIST_BUCKETS], 1);
    CHECK_EQ_I64(h.sum_ns, 0 + 10000 + 10001 + 99999 + 3000000 + 20000000000LL);
    /* Bucket-resolution quantiles. */
    CHECK_EQ_I64(ops_hist_quantile_bound(&h, 0.5), 25000);    /* 3rd of 6 */
    CHECK_EQ_I64(ops_hist_quantile_bound(&h, 0.8), 5000000);  /* 4.8th -> 5th */
    CHECK_EQ_I64(ops_hist_quantile_bound(&h, 1.0), INT64_MAX);

    ops_expo e;
    ops_expo_init(&e);
    char lb[128];
    ops_expo_family(&e, "shijim_events_total", "counter", "Events published.");
    ops_expo_u64(&e, "shijim_events_total", ops_expo_labels(lb, sizeof lb, "source", "sim", "kind", "tick", NULL), 18446744073709551615ULL);
    ops_expo_u64(&e, "shijim_bus_pending", NULL, 3);
    ops_expo_f64(&e, "shijim_age_seconds", "", 0.25);
    ops_expo_f64(&e, "shijim_nan", NULL, 0.0 / 0.0);
    CHECK_STR(e.buf, "# HELP shijim_events_total Events published.\n"
                     "# TYPE shijim_events_total counter\n"
                     "shijim_events_total{source=\"sim\",kind=\"tick\"} 18446744073709551615\n"
                     "shijim_bus_pending 3\n"
                     "shijim_age_seconds 0.25\n"
                     "shijim_nan NaN\n");
    /* Escaping: backslash, quote, newline. */
    CHECK_STR(ops_expo_labels(lb, sizeof lb, "subscriber", "a\"b\\c\nd", "id", "0", NULL),
              "subscriber=\"a\\\"b\\\\c\\nd\",id=\"0\"");

    ops_expo_reset(&e);
    CHECK_EQ_I64(e.len, 0);
    ops_expo_hist(&e, "shijim_event_latency_seconds", "stage=\"bus\"", &h);
    const char *want =
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"1e-05\"} 2\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"2.5e-05\"} 3\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"5e-05\"} 3\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.0001\"} 4\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.00025\"} 4\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.0005\"} 4\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.001\"} 4\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.0025\"} 4\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.005\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.01\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.025\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.05\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.1\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.25\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"0.5\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"1\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"2.5\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"5\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"10\"} 5\n"
        "shijim_event_latency_seconds_bucket{stage=\"bus\",le=\"+Inf\"} 6\n"
        "shijim_event_latency_seconds_sum{stage=\"bus\"} 20.003120000\n"
        "shijim_event_latency_seconds_count{stage=\"bus\"} 6\n";
    CHECK_STR(e.buf, want);
    /* Without labels. */
    ops_hist one;
    memset(&one, 0, sizeof one);
    ops_hist_observe(&one, 1500000);
    ops_expo_reset(&e);
    ops_expo_hist(&e, "x", NULL, &one);
    CHECK(strstr(e.buf, "x_bucket{le=\"0.001\"} 0\nx_bucket{le=\"0.0025\"} 1\n") != NULL);
    CHECK(strstr(e.buf, "x_bucket{le=\"+Inf\"} 1\nx_sum 0.001500000\nx_count 1\n") != NULL);

    /* The buffer grows past its first 4 KiB without losing a byte. */
    ops_expo_reset(&e);
    for (int i = 0; i < 2000; i++) ops_expo_u64(&e, "m", NULL, (uint64_t)i);
    CHECK(!e.oom);
    size_t expect = 0;
    for (int i = 0; i < 2000; i++) expect += strlen("m \n") + (size_t)snprintf(NULL, 0, "%d", i);
    CHECK_EQ_I64(e.len, expect);
    CHECK_EQ_I64(strlen(e.buf), expect);
    CHECK(strstr(e.buf, "\nm 1999\n") != NULL);
    ops_expo_free(&e);
    T_DONE();
}
