/* ops_metrics.c — metrics, health and readiness (see ops_metrics.h for the
 * design: loop-owned counters, a rendered snapshot swapped under a mutex,
 * an atomic heartbeat). */
#include "ops/ops_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "loop/bus.h"
#include "loop/rt.h"
#include "loop/source.h"

#define OPS_MAX_SOURCES 33     /* source ids 1..32 (rt's limit) */
#define OPS_MAX_COLLECTORS 16
#define OPS_DURABLE_RING 65536 /* events awaiting fsync per source, sampled beyond */
#define OPS_STATUS_CODES 9     /* shj_status_code 1..8 */

struct ops_health {
    int ok;
    char why[512];
};

typedef struct ops_src {
    int64_t last_event_mono;   /* market event seen by our subscriber (0 = none) */
    int last_link;             /* last CONNECTED/DISCONNECTED status, 0 = none */
    uint64_t status[OPS_STATUS_CODES];
    /* Durable latency: (seq, recv) of events not yet reported fsynced. */
    uint64_t *ring_seq;
    int64_t *ring_recv;
    size_t ring_head, ring_len;
    uint64_t durable_unsampled; /* events not measured because the ring was full */
    arc_stats arc;             /* the archive's last stats (kept after it closed) */
    int has_arc;
} ops_src;

typedef struct ops_collector {
    char name[32];
    ops_collect_fn fn;
    void *ctx;
} ops_collector;

static struct {
    int active;
    int registered;            /* rt writer registered for this run */
    ops_opts opts;
    bus_sub *sub;
    ops_src src[OPS_MAX_SOURCES];
    ops_hist hist[OPS_STAGES];
    ops_collector coll[OPS_MAX_COLLECTORS];
    int n_coll;
    int64_t started_mono;
    int64_t last_render_mono;
    ops_expo expo;             /* render buffer (loop thread) */

    /* Published snapshot: the mutex guards these four only. */
    pthread_mutex_t mu;
    char *snap_text;
    size_t snap_len;
    int snap_ready;
    char snap_why[512];
} ops = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic int64_t ops_heartbeat_mono; /* 0 = the loop has not turned yet */
/* fdatasync durations: written by the archive writers' threads, so atomics
 * (relaxed: each counter is exact on its own; a render may see a count one
 * fsync ahead of the sum, which a scraper cannot tell from timing). */
static _Atomic uint64_t fsync_counts[OPS_HIST_BUCKETS + 1];
static _Atomic int64_t fsync_sum_ns;
static _Atomic int ops_stopped;

static const char *kind_names[SHJ_KIND_MAX] = {"none", "tick", "bidask", "status", "bar", "quote"};
static const char *status_names[OPS_STATUS_CODES] = {
    "none", "connected", "disconnected", "resubscribed", "gap", "session_open", "session_close",
    "error", "backfilled"};

int ops_active(void) { return ops.active; }
int ops_port(void) { return ops_http_port(); }

void ops_health_fail(ops_health *h, const char *fmt, ...) {
    if (!h->ok) return; /* the first reason is the one reported */
    h->ok = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->why, sizeof h->why, fmt, ap);
    va_end(ap);
}

int ops_add_collector(const char *name, ops_collect_fn fn, void *ctx) {
    for (int i = 0; i < ops.n_coll; i++)
        if (ops.coll[i].fn == fn && ops.coll[i].ctx == ctx) return SHJ_OK;
    if (ops.n_coll == OPS_MAX_COLLECTORS) return SHJ_ERR;
    ops_collector *c = &ops.coll[ops.n_coll++];
    shj_strlcpy(c->name, name, sizeof c->name);
    c->fn = fn;
    c->ctx = ctx;
    return SHJ_OK;
}

/* Hot path ---------------------------------------------------------------- */

void ops_observe_batch(ops_stage stage, const shj_event *evs, size_t n) {
    if (!ops.active || (unsigned)stage >= OPS_STAGES) return;
    int64_t now = clk_now_ns();
    ops_hist *h = &ops.hist[stage];
    for (size_t i = 0; i < n; i++)
        if (!(evs[i].flags & SHJ_FLAG_REPLAY)) ops_hist_observe(h, now - evs[i].ts_recv_ns);
}

void ops_observe_recv(ops_stage stage, const int64_t *recv_ns, size_t n) {
    if (!ops.active || (unsigned)stage >= OPS_STAGES) return;
    int64_t now = clk_now_ns();
    for (size_t i = 0; i < n; i++) ops_hist_observe(&ops.hist[stage], now - recv_ns[i]);
}

void ops_get_hist(ops_stage stage, ops_hist *out) {
    if ((unsigned)stage < OPS_STAGES) *out = ops.hist[stage];
}

static void ops_observe_fsync(int64_t ns) {
    if (ns < 0) ns = 0;
    atomic_fetch_add_explicit(&fsync_counts[ops_hist_bucket(ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&fsync_sum_ns, ns, memory_order_relaxed);
}

void ops_get_fsync_hist(ops_hist *out) {
    for (int i = 0; i <= OPS_HIST_BUCKETS; i++)
        out->counts[i] = atomic_load_explicit(&fsync_counts[i], memory_order_relaxed);
    out->sum_ns = atomic_load_explicit(&fsync_sum_ns, memory_order_relaxed);
    uint64_t c = 0; /* the count from the buckets, so the exposition stays self-consistent */
    for (int i = 0; i <= OPS_HIST_BUCKETS; i++) c += out->counts[i];
    out->count = c;
}

static int is_market(int kind) {
    return kind == SHJ_KIND_TICK || kind == SHJ_KIND_BIDASK || kind == SHJ_KIND_QUOTE;
}

static void ring_push(ops_src *s, uint64_t seq, int64_t recv_ns) {
    if (!s->ring_seq) {
        s->ring_seq = malloc(OPS_DURABLE_RING * sizeof *s->ring_seq);
        s->ring_recv = malloc(OPS_DURABLE_RING * sizeof *s->ring_recv);
        if (!s->ring_seq || !s->ring_recv) {
            free(s->ring_seq);
            free(s->ring_recv);
            s->ring_seq = NULL;
            s->ring_recv = NULL;
        }
    }
    if (!s->ring_seq || s->ring_len == OPS_DURABLE_RING) {
        s->durable_unsampled++;
        return;
    }
    size_t at = (s->ring_head + s->ring_len) % OPS_DURABLE_RING;
    s->ring_seq[at] = seq;
    s->ring_recv[at] = recv_ns;
    s->ring_len++;
}

/* Our bus subscriber: first in line when started before the others, so the
 * bus stage is "offered to subscribers", not "after the Lua handlers ran". */
static size_t ops_deliver(void *ctx, const shj_event *evs, size_t n) {
    SHJ_UNUSED(ctx);
    ops_observe_batch(OPS_STAGE_BUS, evs, n);
    int64_t mono = clk_mono_ns();
    for (size_t i = 0; i < n; i++) {
        const shj_event *ev = &evs[i];
        if (ev->source_id >= OPS_MAX_SOURCES) continue;
        ops_src *s = &ops.src[ev->source_id];
        if (ev->kind == SHJ_KIND_STATUS) {
            int st = ev->status;
            if (st > 0 && st < OPS_STATUS_CODES) s->status[st]++;
            if (st == SHJ_STATUS_CONNECTED || st == SHJ_STATUS_DISCONNECTED) s->last_link = st;
            continue;
        }
        if (!is_market(ev->kind)) continue;
        s->last_event_mono = mono;
        src_source *src = rt_source_at((size_t)ev->source_id - 1);
        if (src && src->raw && !(ev->flags & SHJ_FLAG_REPLAY)) ring_push(s, ev->seq, ev->ts_recv_ns);
    }
    return n;
}

/* Every ~5 ms on the loop: heartbeat, durable latencies, archive stats. */
static void ops_poll(void *w, int64_t now_mono_ns) {
    SHJ_UNUSED(w);
    atomic_store(&ops_heartbeat_mono, now_mono_ns);
    int64_t now = clk_now_ns();
    for (size_t i = 0; i < rt_source_count() && i + 1 < OPS_MAX_SOURCES; i++) {
        src_source *src = rt_source_at(i);
        ops_src *s = &ops.src[i + 1];
        if (!src->raw) continue;
        arc_get_stats(src->raw, &s->arc);
        s->has_arc = 1;
        while (s->ring_len && s->ring_seq[s->ring_head] <= s->arc.durable_seq) {
            ops_hist_observe(&ops.hist[OPS_STAGE_DURABLE], now - s->ring_recv[s->ring_head]);
            s->ring_head = (s->ring_head + 1) % OPS_DURABLE_RING;
            s->ring_len--;
        }
    }
    if (now_mono_ns - ops.last_render_mono >= (int64_t)OPS_RENDER_MS * 1000000) ops_publish();
}

/* Readiness --------------------------------------------------------------- */

/* A live Shioaji feed is silent outside trading sessions, so silence only
 * counts while one is open (any Taiwan session or TWSE pre-open, core/session.h). Holidays are not known here (the schedule
 * of issue 12 part 6 will own them). Other sources (simulated, replay)
 * produce at any hour, so for them silence always counts. */
static int market_open(const src_source *src, int64_t now_ns) {
    if (strcmp(src->ops->type, "shioaji") != 0) return 1;
    return ses_is_open(SHJ_EX_TSE, now_ns, 1) || ses_is_open(SHJ_EX_TAIFEX, now_ns, 0); /* core/session.h */
}

static void judge_sources(ops_health *h, int64_t mono) {
    int64_t silence = (int64_t)ops.opts.ready_silence_s * CLK_NS_PER_SEC;
    if (rt_stopping()) ops_health_fail(h, "stopping");
    if (rt_source_count() == 0) ops_health_fail(h, "no source configured");
    for (size_t i = 0; i < rt_source_count() && i + 1 < OPS_MAX_SOURCES; i++) {
        src_source *src = rt_source_at(i);
        ops_src *s = &ops.src[i + 1];
        if (src->state != SRC_RUNNING && src->state != SRC_PAUSED)
            ops_health_fail(h, "source %s is not running", src->name);
        if (s->last_link == SHJ_STATUS_DISCONNECTED)
            ops_health_fail(h, "source %s is disconnected", src->name);
        if (!market_open(src, clk_now_ns())) continue;
        int64_t since = s->last_event_mono ? s->last_event_mono : ops.started_mono;
        if (mono - since > silence)
            ops_health_fail(h, "source %s: no market event for %.1f s", src->name,
                            (double)(mono - since) / 1e9);
        if (s->has_arc && s->arc.failed)
            ops_health_fail(h, "raw archive of %s failed: %s", src->name,
                            src->raw ? arc_error(src->raw) : "closed");
    }
}

/* Rendering --------------------------------------------------------------- */

static void render_sources(ops_expo *e, int64_t mono) {
    char lb[256];
    size_t n = rt_source_count();
    if (n >= OPS_MAX_SOURCES) n = OPS_MAX_SOURCES - 1;
    ops_expo_family(e, "shijim_events_total", "counter", "Events published on the bus, by source and kind.");
    for (size_t i = 0; i < n; i++)
        for (int k = 1; k < SHJ_KIND_MAX; k++)
            ops_expo_u64(e, "shijim_events_total",
                         ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, "kind", kind_names[k], NULL),
                         rt_source_at(i)->counters.per_kind[k]);
#define SRC_COUNTER(metric, field, help)                                                           \
    ops_expo_family(e, metric, "counter", help);                                                   \
    for (size_t i = 0; i < n; i++)                                                                 \
        ops_expo_u64(e, metric, ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, NULL), \
                     rt_source_at(i)->counters.field);
    SRC_COUNTER("shijim_payloads_total", payloads, "Payloads delivered by the source (archived first).")
    SRC_COUNTER("shijim_malformed_total", malformed, "Payloads that failed to parse (kept in the archive).")
    SRC_COUNTER("shijim_unknown_total", unknown, "Payloads with an unknown event name (kept in the archive).")
    SRC_COUNTER("shijim_other_total", other,
                "Payloads that are not market data (order_event, contract_event, unknown names): archived, not bad.")
    SRC_COUNTER("shijim_field_lost_total", field_lost, "Events published with a field that could not be read (SHJ_FLAG_FIELD_LOST).")
    SRC_COUNTER("shijim_control_total", control, "Control payloads (heartbeats and the like).")
    SRC_COUNTER("shijim_source_pauses_total", pauses, "Times back-pressure paused the source.")
#undef SRC_COUNTER
    ops_expo_family(e, "shijim_source_status_events_total", "counter",
                    "Status events by code: reconnects are status=\"connected\" beyond the first, gaps status=\"gap\".");
    for (size_t i = 0; i < n; i++)
        for (int st = 1; st < OPS_STATUS_CODES; st++)
            ops_expo_u64(e, "shijim_source_status_events_total",
                         ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, "status", status_names[st], NULL),
                         ops.src[i + 1].status[st]);
    ops_expo_family(e, "shijim_source_running", "gauge", "1 while the source is running (or paused by back-pressure).");
    for (size_t i = 0; i < n; i++) {
        src_state st = rt_source_at(i)->state;
        ops_expo_u64(e, "shijim_source_running", ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, NULL),
                     st == SRC_RUNNING || st == SRC_PAUSED);
    }
    ops_expo_family(e, "shijim_source_last_event_age_seconds", "gauge",
                    "Seconds since the source's last market event (absent before the first).");
    for (size_t i = 0; i < n; i++)
        if (ops.src[i + 1].last_event_mono)
            ops_expo_f64(e, "shijim_source_last_event_age_seconds",
                         ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, NULL),
                         (double)(mono - ops.src[i + 1].last_event_mono) / 1e9);
}

static void render_bus(ops_expo *e) {
    bus *b = rt_bus();
    if (!b) return;
    char lb[256], id[24];
    ops_expo_family(e, "shijim_bus_published_total", "counter", "Events published on the bus.");
    ops_expo_u64(e, "shijim_bus_published_total", NULL, bus_published(b));
    ops_expo_family(e, "shijim_bus_pending", "gauge", "Events committed and not yet taken by every subscriber (bus depth).");
    ops_expo_u64(e, "shijim_bus_pending", NULL, bus_pending(b));
    ops_expo_family(e, "shijim_bus_free_slots", "gauge", "Ring slots free for publishing.");
    ops_expo_u64(e, "shijim_bus_free_slots", NULL, bus_free_slots(b));
    size_t ns = bus_sub_count(b);
    static const char *fam[3][3] = {
        {"shijim_bus_delivered_total", "counter", "Events taken by the subscriber."},
        {"shijim_bus_dropped_total", "counter", "Events a drop-policy subscriber lost."},
        {"shijim_bus_lag", "gauge", "Events committed that the subscriber has not taken yet."}};
    for (int f = 0; f < 3; f++) {
        ops_expo_family(e, fam[f][0], fam[f][1], fam[f][2]);
        for (size_t i = 0; i < ns; i++) {
            const char *name;
            bus_sub_stats st;
            bus_sub_stats_at(b, i, &name, &st);
            snprintf(id, sizeof id, "%zu", i);
            uint64_t v = f == 0 ? st.delivered : f == 1 ? st.dropped : st.lag;
            ops_expo_u64(e, fam[f][0], ops_expo_labels(lb, sizeof lb, "subscriber", name, "id", id, NULL), v);
        }
    }
}

static void render_raw(ops_expo *e) {
    char lb[256];
    size_t n = rt_source_count();
    if (n >= OPS_MAX_SOURCES) n = OPS_MAX_SOURCES - 1;
#define RAW(metric, type, expr, help)                                                              \
    ops_expo_family(e, metric, type, help);                                                        \
    for (size_t i = 0; i < n; i++) {                                                               \
        const ops_src *s = &ops.src[i + 1];                                                        \
        if (s->has_arc)                                                                            \
            ops_expo_u64(e, metric, ops_expo_labels(lb, sizeof lb, "source", rt_source_at(i)->name, NULL), \
                         (uint64_t)(expr));                                                        \
    }
    RAW("shijim_raw_records_total", "counter", s->arc.records, "Records appended to the raw archive.")
    RAW("shijim_raw_durable_records_total", "counter", s->arc.durable_records, "Raw archive records written and fsynced.")
    RAW("shijim_raw_durable_seq", "gauge", s->arc.durable_seq, "Highest source sequence fsynced in the raw archive.")
    RAW("shijim_raw_bytes_total", "counter", s->arc.bytes_raw, "Raw archive bytes before compression.")
    RAW("shijim_raw_written_bytes_total", "counter", s->arc.bytes_written, "Raw archive bytes on disk.")
    RAW("shijim_raw_blocks_total", "counter", s->arc.blocks, "Raw archive blocks written.")
    RAW("shijim_raw_stalls_total", "counter", s->arc.stalls, "Times the raw archive queue was full (source paused).")
    RAW("shijim_raw_failed", "gauge", s->arc.failed != 0, "1 after a raw archive write or fsync failed (sticky).")
    RAW("shijim_raw_durable_unsampled_total", "counter", s->durable_unsampled,
        "Events left out of the durable latency histogram (more than 65536 awaiting fsync).")
#undef RAW
}

static void render(ops_expo *e, ops_health *h) {
    int64_t mono = clk_mono_ns();
    char lb[128];
    ops_expo_family(e, "shijim_build_info", "gauge", "Version of the running shijim.");
    ops_expo_u64(e, "shijim_build_info", ops_expo_labels(lb, sizeof lb, "version", SHJ_VERSION, NULL), 1);
    render_sources(e, mono);
    render_bus(e);
    render_raw(e);
    ops_expo_family(e, "shijim_event_latency_seconds", "histogram",
                    "From an event's receive time (ts_recv_ns) to: stage=bus offered to subscribers, "
                    "handler a Lua handler called, durable fsynced in the raw archive, "
                    "clickhouse its INSERT acknowledged by ClickHouse.");
    static const char *stage_names[OPS_STAGES] = {"bus", "handler", "durable", "clickhouse"};
    for (int st = 0; st < OPS_STAGES; st++)
        ops_expo_hist(e, "shijim_event_latency_seconds", ops_expo_labels(lb, sizeof lb, "stage", stage_names[st], NULL),
                      &ops.hist[st]);
    ops_hist fh;
    ops_get_fsync_hist(&fh);
    ops_expo_family(e, "shijim_raw_fsync_seconds", "histogram",
                    "Duration of the raw archive's data fdatasync calls (every source).");
    ops_expo_hist(e, "shijim_raw_fsync_seconds", NULL, &fh);
    judge_sources(h, mono);
    for (int i = 0; i < ops.n_coll; i++) ops.coll[i].fn(ops.coll[i].ctx, e, h);
    ops_expo_family(e, "shijim_ready", "gauge", "1 when /readyz answers 200 (at this snapshot).");
    ops_expo_u64(e, "shijim_ready", NULL, (uint64_t)h->ok);
}

void ops_publish(void) {
    if (!ops.active) return;
    ops.last_render_mono = clk_mono_ns();
    ops_health h = {.ok = 1};
    ops_expo_reset(&ops.expo);
    render(&ops.expo, &h);
    if (atomic_load(&ops_stopped)) {
        h.ok = 0;
        snprintf(h.why, sizeof h.why, "stopped (serving the final metrics)");
    }
    char *text = malloc(ops.expo.len + 1);
    if (!text) return; /* keep the previous snapshot */
    memcpy(text, ops.expo.buf ? ops.expo.buf : "", ops.expo.len + 1);
    pthread_mutex_lock(&ops.mu);
    char *old = ops.snap_text;
    ops.snap_text = text;
    ops.snap_len = ops.expo.len;
    ops.snap_ready = h.ok;
    shj_strlcpy(ops.snap_why, h.ok ? "ready" : h.why, sizeof ops.snap_why);
    pthread_mutex_unlock(&ops.mu);
    free(old);
}

/* Snapshot readers (any thread) -------------------------------------------- */

char *ops_snapshot_metrics(size_t *len) {
    pthread_mutex_lock(&ops.mu);
    size_t n = ops.snap_text ? ops.snap_len : 0;
    char *copy = malloc(n + 1);
    if (copy) {
        if (n) memcpy(copy, ops.snap_text, n);
        copy[n] = '\0';
    }
    pthread_mutex_unlock(&ops.mu);
    *len = copy ? n : 0;
    return copy;
}

int ops_snapshot_alive(char *why, size_t cap) {
    int64_t hb = atomic_load(&ops_heartbeat_mono);
    if (atomic_load(&ops_stopped)) {
        snprintf(why, cap, "ok: stopped, serving the final metrics");
        return 1;
    }
    if (!hb) {
        snprintf(why, cap, "ok: starting (the loop has not run yet)");
        return 1;
    }
    double age = (double)(clk_mono_ns() - hb) / 1e9;
    if (age > ops.opts.health_max_s) {
        snprintf(why, cap, "loop stuck: last turn %.1f s ago (limit %d s)", age, ops.opts.health_max_s);
        return 0;
    }
    snprintf(why, cap, "ok: loop turned %.3f s ago", age);
    return 1;
}

int ops_snapshot_ready(char *why, size_t cap) {
    int64_t hb = atomic_load(&ops_heartbeat_mono);
    if (!atomic_load(&ops_stopped) && hb &&
        (double)(clk_mono_ns() - hb) / 1e9 > ops.opts.health_max_s) {
        snprintf(why, cap, "loop stuck");
        return 0;
    }
    pthread_mutex_lock(&ops.mu);
    int ready = ops.snap_ready;
    snprintf(why, cap, "%s", ops.snap_text ? ops.snap_why : "starting");
    pthread_mutex_unlock(&ops.mu);
    return ready;
}

/* Life -------------------------------------------------------------------- */

/* rt closes us last (we registered first): sources stopped, bus drained,
 * other writers closed. The final snapshot holds the run's totals. */
static int ops_close(void *w, char *err, size_t errlen) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    ops_poll(NULL, clk_mono_ns());
    if (ops.sub && rt_bus()) bus_unsubscribe(rt_bus(), ops.sub);
    ops.sub = NULL;
    ops.registered = 0;
    atomic_store(&ops_stopped, 1);
    ops_publish();
    return SHJ_OK;
}

/* The bus drained, no writer closed yet: the raw archives' final record
 * counts (they are gone once rt closes them). */
static void ops_drained(void *ctx) { ops_poll(ctx, clk_mono_ns()); }

static const rt_writer_ops ops_writer_ops = {.type = "ops", .poll = ops_poll, .status = NULL, .close = ops_close};

int ops_start(const ops_opts *o, char *err, size_t errlen) {
    if (ops.active) return shj_fail(err, errlen, "metrics already started");
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "runtime init failed");
    ops.opts = *o;
    ops.opts.listen = NULL;
    if (ops.opts.health_max_s <= 0) ops.opts.health_max_s = 5;
    if (ops.opts.ready_silence_s <= 0) ops.opts.ready_silence_s = 10;
    ops.sub = bus_subscribe(rt_bus(), "ops", 62u, NULL, 0, BUS_BLOCK, ops_deliver, NULL);
    if (!ops.sub) return shj_fail(err, errlen, "metrics: cannot subscribe to the bus");
    if (rt_add_writer("ops", &ops_writer_ops, NULL) != SHJ_OK || rt_on_drained(ops_drained, NULL) != SHJ_OK) {
        bus_unsubscribe(rt_bus(), ops.sub);
        ops.sub = NULL;
        return shj_fail(err, errlen, "metrics: cannot register with the runtime");
    }
    ops.registered = 1;
    ops.active = 1;
    ops.started_mono = clk_mono_ns();
    for (int i = 0; i <= OPS_HIST_BUCKETS; i++) atomic_store(&fsync_counts[i], 0);
    atomic_store(&fsync_sum_ns, 0);
    arc_set_fsync_hook(ops_observe_fsync);
    atomic_store(&ops_heartbeat_mono, 0);
    atomic_store(&ops_stopped, 0);
    ops_expo_init(&ops.expo);
    ops_publish();
    if (o->listen && ops_http_start(o->listen, err, errlen) != SHJ_OK) {
        ops.active = 0; /* rt still holds our writer entry; its close is harmless */
        return SHJ_ERR;
    }
    return SHJ_OK;
}

void ops_linger(double seconds) {
    if (!ops.active || seconds <= 0) return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

void ops_free(void) {
    ops_http_stop();
    arc_set_fsync_hook(NULL);
    pthread_mutex_lock(&ops.mu);
    free(ops.snap_text);
    ops.snap_text = NULL;
    ops.snap_len = 0;
    pthread_mutex_unlock(&ops.mu);
    for (int i = 0; i < OPS_MAX_SOURCES; i++) {
        free(ops.src[i].ring_seq);
        free(ops.src[i].ring_recv);
    }
    ops_expo_free(&ops.expo);
    if (ops.sub && rt_bus()) bus_unsubscribe(rt_bus(), ops.sub);
    /* Keep the mutex; reset the rest so a later run can start again. */
    memset(ops.src, 0, sizeof ops.src);
    memset(ops.hist, 0, sizeof ops.hist);
    ops.n_coll = 0;
    ops.sub = NULL;
    ops.active = 0;
    ops.registered = 0;
    atomic_store(&ops_heartbeat_mono, 0);
    atomic_store(&ops_stopped, 0);
}
