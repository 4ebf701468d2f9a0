/* ops_metrics.h — metrics, health and readiness of a running Shijim.
 *
 * Owns: what /metrics, /healthz and /readyz say (runtime/ops/ops_http.c
 * serves them), the latency histograms, and a registry of collectors through
 * which modules above this stage (ClickHouse writers, ...) add their own
 * counters and report sticky errors, so this module depends on nothing above
 * loop/ (and reads the raw archive's stats through archive.h, a lower stage).
 *
 * DESIGN (consistency without a lock on the hot path). Every counter is
 * owned by the loop thread and stays plain memory: sources count in
 * src_counters, the bus in its cursors, and this module's own bus subscriber
 * and ops_observe_batch update the histograms, per-source last-event times
 * and status counts, all on the loop thread, with no atomics. The HTTP
 * server runs on libmicrohttpd's own thread and never reads those. Instead
 * the loop renders the whole exposition text (and the readiness verdict)
 * every OPS_RENDER_MS and publishes it by swapping one pointer under a
 * mutex that only that swap and the HTTP thread's copy take: a scrape sees
 * one consistent snapshot, taken at one instant of the loop, at most
 * OPS_RENDER_MS old. The loop's heartbeat (a monotonic time stored every
 * ~5 ms) is a C11 atomic, so /healthz still answers when the loop is stuck.
 * At stop the module is the last writer rt closes: it renders once more
 * after every source stopped, the bus drained and the other writers closed,
 * so the last snapshot holds the run's final totals (ops_linger keeps it
 * served for a scraper).
 */
#ifndef SHJ_OPS_METRICS_H
#define SHJ_OPS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"
#include "ops/ops_expo.h"

#define OPS_RENDER_MS 250

typedef enum {
    OPS_STAGE_BUS = 0,     /* receive (ts_recv_ns) -> offered to the bus's subscribers */
    OPS_STAGE_HANDLER = 1, /* receive -> the Lua handler is called with the event */
    OPS_STAGE_DURABLE = 2, /* receive -> the raw archive reports it fsynced */
    OPS_STAGE_CLICKHOUSE = 3, /* receive -> ClickHouse acknowledged the INSERT holding it */
    OPS_STAGES = 4
} ops_stage;

typedef struct ops_health ops_health; /* readiness being decided during a render */

/* A collector writes its families into out and may veto readiness with
 * ops_health_fail. Called on the loop thread at every render. */
typedef void (*ops_collect_fn)(void *ctx, ops_expo *out, ops_health *h);

typedef struct ops_opts {
    const char *listen;        /* "ADDR:PORT" (IPv4; ":PORT" = 127.0.0.1). NULL: no HTTP server */
    int health_max_s;          /* /healthz fails when the loop has not turned for this long (default 5) */
    int ready_silence_s;       /* a source with no market event for this long is not ready (default 10) */
} ops_opts;

/* Start: subscribe to rt's bus, register with rt as a writer (polled, closed
 * last if started before the other writers), start the HTTP server.
 * Call before routing writers and adding handlers, so the bus stage is
 * measured before anyone else sees the event. SHJ_OK or SHJ_ERR with err. */
int ops_start(const ops_opts *o, char *err, size_t errlen);
/* Started and not yet freed. */
int ops_active(void);
/* The TCP port the server listens on (useful with port 0), 0 when none. */
int ops_port(void);
int ops_add_collector(const char *name, ops_collect_fn fn, void *ctx);
void ops_health_fail(ops_health *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Latency of each event of a batch: now - ts_recv_ns, into the stage's
 * histogram. Replayed events (SHJ_FLAG_REPLAY) are skipped: their receive
 * time is the recording's. Loop thread; a no-op unless started. */
void ops_observe_batch(ops_stage stage, const shj_event *evs, size_t n);
/* The same from bare receive times (ClickHouse's ack hook, ch_writer.h). */
void ops_observe_recv(ops_stage stage, const int64_t *recv_ns, size_t n);
/* Read a stage's histogram (loop thread; tests, summaries). */
void ops_get_hist(ops_stage stage, ops_hist *out);
/* The raw archive's fdatasync durations (any thread; filled by the archive
 * writers' threads through arc_set_fsync_hook while started). */
void ops_get_fsync_hist(ops_hist *out);

/* Render now and publish (loop thread). */
void ops_publish(void);
/* The published snapshot, as the HTTP thread sees it (any thread): the
 * metrics text (malloc'd, the caller frees), and the verdicts of /readyz and
 * /healthz (1 = OK) with their reason in why. */
char *ops_snapshot_metrics(size_t *len);
int ops_snapshot_ready(char *why, size_t cap);
int ops_snapshot_alive(char *why, size_t cap);

/* Keep serving the final snapshot for seconds (blocks the caller). */
void ops_linger(double seconds);
/* Stop the server, unsubscribe, free (idempotent). */
void ops_free(void);

/* HTTP server half (ops_http.c). */
int ops_http_start(const char *listen, char *err, size_t errlen);
int ops_http_port(void);
void ops_http_stop(void);

#endif
