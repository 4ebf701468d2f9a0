/* ops_expo.c — the Prometheus text exposition format (see ops_expo.h). */
#include "ops/ops_expo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ops_expo_init(ops_expo *e) { memset(e, 0, sizeof *e); }
void ops_expo_reset(ops_expo *e) {
    e->len = 0;
    e->oom = 0;
    if (e->buf) e->buf[0] = '\0';
}
void ops_expo_free(ops_expo *e) {
    free(e->buf);
    memset(e, 0, sizeof *e);
}

static void put(ops_expo *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(ops_expo *e, const char *fmt, ...) {
    if (e->oom) return;
    for (;;) {
        size_t room = e->cap - e->len;
        va_list ap;
        va_start(ap, fmt);
        int n = e->buf ? vsnprintf(e->buf + e->len, room, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            e->len += (size_t)n;
            return;
        }
        size_t want = e->cap ? e->cap * 2 : 4096;
        while (n >= 0 && want < e->len + (size_t)n + 1) want *= 2;
        char *b = realloc(e->buf, want);
        if (!b) {
            e->oom = 1;
            if (e->buf) e->buf[e->len] = '\0';
            return;
        }
        e->buf = b;
        e->cap = want;
    }
}

void ops_expo_family(ops_expo *e, const char *name, const char *type, const char *help) {
    put(e, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

const char *ops_expo_labels(char *out, size_t cap, ...) {
    size_t n = 0;
    va_list ap;
    va_start(ap, cap);
    const char *k;
    out[0] = '\0';
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (!v) v = "";
        if (n + strlen(k) + 4 >= cap) break;
        n += (size_t)snprintf(out + n, cap - n, "%s%s=\"", n ? "," : "", k);
        for (; *v && n + 4 < cap; v++) {
            if (*v == '\\' || *v == '"') {
                out[n++] = '\\';
                out[n++] = *v;
            } else if (*v == '\n') {
                out[n++] = '\\';
                out[n++] = 'n';
            } else {
                out[n++] = *v;
            }
        }
        if (n + 2 > cap) break;
        out[n++] = '"';
        out[n] = '\0';
    }
    va_end(ap);
    return out;
}

void ops_expo_u64(ops_expo *e, const char *name, const char *labels, uint64_t v) {
    if (labels && *labels) put(e, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
    else put(e, "%s %llu\n", name, (unsigned long long)v);
}

void ops_expo_f64(ops_expo *e, const char *name, const char *labels, double v) {
    char num[40];
    if (isnan(v)) snprintf(num, sizeof num, "NaN");
    else if (isinf(v)) snprintf(num, sizeof num, v > 0 ? "+Inf" : "-Inf");
    else snprintf(num, sizeof num, "%.9g", v);
    if (labels && *labels) put(e, "%s{%s} %s\n", name, labels, num);
    else put(e, "%s %s\n", name, num);
}

void ops_expo_hist(ops_expo *e, const char *name, const char *labels, const ops_hist *h) {
    const char *sep = labels && *labels ? "," : "";
    if (!labels) labels = "";
    uint64_t cum = 0;
    for (int i = 0; i < OPS_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        put(e, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, (double)ops_hist_bounds_ns[i] / 1e9,
            (unsigned long long)cum);
    }
    cum += h->counts[OPS_HIST_BUCKETS];
    put(e, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    if (*labels) {
        put(e, "%s_sum{%s} %.9f\n", name, labels, (double)h->sum_ns / 1e9);
        put(e, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
    } else {
        put(e, "%s_sum %.9f\n", name, (double)h->sum_ns / 1e9);
        put(e, "%s_count %llu\n", name, (unsigned long long)h->count);
    }
}
