/* ops_hist.c — fixed-bucket latency histograms (see ops_hist.h). */
#include "ops/ops_hist.h"

const int64_t ops_hist_bounds_ns[OPS_HIST_BUCKETS] = {
    10000,     25000,     50000,      100000,     250000,     500000,     1000000,
    2500000,   5000000,   10000000,   25000000,   50000000,   100000000,  250000000,
    500000000, 1000000000, 2500000000, 5000000000, 10000000000};

int ops_hist_bucket(int64_t v) {
    /* Binary search for the first bound >= v. */
    int lo = 0, hi = OPS_HIST_BUCKETS;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ops_hist_bounds_ns[mid] >= v) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

void ops_hist_observe(ops_hist *h, int64_t v) {
    if (v < 0) v = 0;
    h->counts[ops_hist_bucket(v)]++;
    h->count++;
    h->sum_ns += v;
}

int64_t ops_hist_quantile_bound(const ops_hist *h, double q) {
    if (!h->count) return 0;
    double need = q * (double)h->count;
    uint64_t cum = 0;
    for (int i = 0; i < OPS_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        if ((double)cum >= need) return ops_hist_bounds_ns[i];
    }
    return INT64_MAX;
}
