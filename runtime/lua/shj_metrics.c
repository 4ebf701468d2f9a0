/* shj_metrics.c — FFI entry points of the metrics server (see shj_metrics.h). */
#include "lua/shj_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "ops/ops_metrics.h"
#include "shioaji/sj_source.h"

static const char *chw_state_name(int st) {
    static const char *names[] = {"starting", "up", "down", "failed", "closed"};
    return st >= 0 && st <= CHW_CLOSED ? names[st] : "unknown";
}

/* Every ClickHouse route's counters (routes made after the start included). */
static void collect_clickhouse(void *ctx, ops_expo *e, ops_health *h) {
    SHJ_UNUSED(ctx);
    chw_stats st[16];
    int n = 0;
    while (n < 16 && chw_route_stats(n, &st[n]) == SHJ_OK) n++;
    if (!n) return;
    char lb[128], id[16];
#define CH(metric, type, help, expr, ...)                                        \
    ops_expo_family(e, metric, type, help);                                      \
    for (int i = 0; i < n; i++) {                                                \
        snprintf(id, sizeof id, "%d", i);                                        \
        ops_expo_u64(e, metric, ops_expo_labels(lb, sizeof lb, "route", id, ##__VA_ARGS__, NULL), \
                     (uint64_t)(expr));                                          \
    }
    CH("shijim_clickhouse_rows_in_total", "counter", "Rows taken by the ClickHouse writer.", st[i].rows_in)
    CH("shijim_clickhouse_rows_inserted_total", "counter", "Rows ClickHouse acknowledged.", st[i].rows_inserted)
    CH("shijim_clickhouse_fallback_rows", "gauge",
       "Rows fsynced to the fallback files by this run: they wait there for restore.lua --apply.", st[i].rows_fallback)
    CH("shijim_clickhouse_rows_held", "gauge", "Rows in memory (open, queued, in flight, waiting for the fallback).",
       st[i].rows_held)
    ops_expo_family(e, "shijim_clickhouse_batches_total", "counter",
                    "INSERT batches by result: ok (acknowledged), failed (rows to the fallback), spilled (not tried).");
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%d", i);
        ops_expo_u64(e, "shijim_clickhouse_batches_total", ops_expo_labels(lb, sizeof lb, "route", id, "result", "ok", NULL),
                     st[i].batches_inserted);
        ops_expo_u64(e, "shijim_clickhouse_batches_total", ops_expo_labels(lb, sizeof lb, "route", id, "result", "failed", NULL),
                     st[i].batches_failed);
        ops_expo_u64(e, "shijim_clickhouse_batches_total", ops_expo_labels(lb, sizeof lb, "route", id, "result", "spilled", NULL),
                     st[i].batches_spilled);
    }
    CH("shijim_clickhouse_fallback_errors_total", "counter", "Fallback appends that failed (rows kept in memory).",
       st[i].fallback_errors)
    CH("shijim_clickhouse_sent_bytes_total", "counter", "RowBinary bytes ClickHouse acknowledged.", st[i].bytes_sent)
    CH("shijim_clickhouse_memory_bytes", "gauge", "Bytes of batches held in memory.", st[i].mem_bytes)
    CH("shijim_clickhouse_inflight", "gauge", "INSERTs in flight.", st[i].inflight)
    CH("shijim_clickhouse_up", "gauge", "1 while the writer is UP (inserting), 0 starting, down, failed or closed.",
       st[i].state == CHW_UP)
#undef CH
    for (int i = 0; i < n; i++)
        if (st[i].state == CHW_FAILED)
            ops_health_fail(h, "clickhouse route %d %s (sticky error; see the log)", i, chw_state_name(st[i].state));
}

/* Shioaji's own counters, per shioaji source: reconnects, gaps,
 * subscriptions, and the traffic quota left (absent while unknown). */
static void collect_shioaji(void *ctx, ops_expo *e, ops_health *h) {
    SHJ_UNUSED(ctx);
    SHJ_UNUSED(h);
    static const struct {
        const char *counter, *metric, *type, *help;
    } m[] = {
        {"reconnects", "shijim_shioaji_reconnects_total", "counter", "Stream reconnects."},
        {"gaps", "shijim_shioaji_gaps_total", "counter", "Gaps published (silence, reconnect, maintenance)."},
        {"subscribed", "shijim_shioaji_subscriptions", "gauge", "Subscriptions the server accepted and holds now."},
        {"subscribe_errors", "shijim_shioaji_subscribe_errors_total", "counter", "Subscriptions the server refused."},
        {"usage_remaining", "shijim_shioaji_usage_remaining_bytes", "gauge",
         "Traffic quota left today (/api/v1/auth/usage remaining_bytes); absent until known."},
        {"usage_bytes", "shijim_shioaji_usage_bytes", "gauge", "Traffic used today (/api/v1/auth/usage bytes; 0 until known)."},
    };
    char lb[96];
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        int announced = 0;
        for (size_t i = 0; i < rt_source_count(); i++) {
            src_source *s = rt_source_at(i);
            if (strcmp(s->ops->type, "shioaji") != 0) continue;
            uint64_t v = sj_counter(s, m[k].counter);
            if (v == UINT64_MAX) continue; /* unknown */
            if (!announced) ops_expo_family(e, m[k].metric, m[k].type, m[k].help);
            announced = 1;
            ops_expo_u64(e, m[k].metric, ops_expo_labels(lb, sizeof lb, "source", s->name, NULL), v);
        }
    }
}

/* ClickHouse acknowledged a batch: receive -> acknowledged, per row. */
static void on_clickhouse_ack(const int64_t *recv_ns, size_t n) { ops_observe_recv(OPS_STAGE_CLICKHOUSE, recv_ns, n); }

int shj_metrics_start(const char *listen, int ready_silence_s, int health_max_s, char *err, size_t errlen) {
    ops_opts o = {.listen = listen, .ready_silence_s = ready_silence_s, .health_max_s = health_max_s};
    if (ops_start(&o, err, errlen) != SHJ_OK) return SHJ_ERR;
    ops_add_collector("clickhouse", collect_clickhouse, NULL);
    ops_add_collector("shioaji", collect_shioaji, NULL);
    chw_set_ack_hook(on_clickhouse_ack);
    return SHJ_OK;
}

int shj_metrics_port(void) { return ops_port(); }
void shj_metrics_linger(double seconds) { ops_linger(seconds); }
void shj_metrics_stop(void) {
    chw_set_ack_hook(NULL);
    ops_free();
}

size_t shj_metrics_text(char *buf, size_t cap) {
    ops_publish();
    size_t len;
    char *text = ops_snapshot_metrics(&len);
    if (!text) return 0;
    if (cap) shj_strlcpy(buf, text, cap);
    free(text);
    return len;
}

int shj_metrics_ready(char *why, size_t cap) { return ops_snapshot_ready(why, cap); }
