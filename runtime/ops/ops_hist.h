/* ops_hist.h — fixed-bucket latency histograms (Prometheus-style).
 *
 * Owns: the bucket bounds (one set for every latency Shijim measures, from
 * 10 us to 10 s, so dashboards can compare stages) and the counting.
 * Guarantees: an observation lands in the first bucket whose bound is >= the
 * value (Prometheus `le` semantics); negative values (clock steps) count as 0.
 * Threading: a histogram belongs to one thread (the loop); readers take a
 * copy on that thread (see ops_metrics.c).
 */
#ifndef SHJ_OPS_HIST_H
#define SHJ_OPS_HIST_H

#include <stdint.h>

#define OPS_HIST_BUCKETS 19 /* finite bounds; one more slot counts +Inf */

typedef struct ops_hist {
    uint64_t counts[OPS_HIST_BUCKETS + 1]; /* per bucket, NOT cumulative; last = above every bound */
    uint64_t count;                        /* observations */
    int64_t sum_ns;                        /* their sum */
} ops_hist;

/* Upper bounds in ns, ascending (10 us ... 10 s). */
extern const int64_t ops_hist_bounds_ns[OPS_HIST_BUCKETS];

void ops_hist_observe(ops_hist *h, int64_t value_ns);
/* Index of the bucket value_ns lands in (0..OPS_HIST_BUCKETS; the last = +Inf),
 * for counters kept elsewhere (atomics filled by another thread). */
int ops_hist_bucket(int64_t value_ns);
/* Smallest bound that holds at least q (0..1) of the observations: the
 * bucket-resolution quantile (INT64_MAX when it is the +Inf bucket, 0 when empty). */
int64_t ops_hist_quantile_bound(const ops_hist *h, double q);

#endif
