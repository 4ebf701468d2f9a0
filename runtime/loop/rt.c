/* rt.c — the process runtime: loop, bus, sources, writers, status, shutdown.
 *
 * DESIGN. One libev loop runs everything. Sources produce from their own
 * watchers and deliver into the bus; an ev_prepare watcher dispatches the bus
 * once per loop iteration (so every batch a source produced is handed to
 * subscribers before the loop blocks) and resumes sources that back-pressure
 * paused. A 5 ms timer polls writers (time-based batching and fsync) and
 * retries paused sources even when no I/O wakes the loop.
 *
 * Shutdown is ordered so that nothing accepted is lost:
 *   rt_stop -> every source stops producing -> the loop keeps dispatching
 *   until the bus is empty -> ev_break -> writers are closed in reverse
 *   registration order (each flushes and fsyncs; a writer may spin the loop
 *   itself while it finishes, which is legal because we are outside ev_run).
 */
#include "loop/rt.h"
#include "loop/watchdog.h"

#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop/bus.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "loop/source.h"

#define RT_MAX_SOURCES 32
#define RT_MAX_WRITERS 32
#define RT_POLL_MS 5
#define RT_DRAIN_TIMEOUT_S 30.0

typedef struct rt_writer {
    char name[32];
    const rt_writer_ops *ops;
    void *w;
    void (*parked)(void *w, int64_t now_mono_ns, int final); /* rt_set_writer_parked */
} rt_writer;

static struct {
    int initialized;
    struct ev_loop *loop;
    bus *bus;
    src_source *sources[RT_MAX_SOURCES];
    size_t n_sources;
    rt_writer writers[RT_MAX_WRITERS];
    size_t n_writers;

    ev_prepare dispatch_watcher;
    ev_timer poll_timer;
    ev_timer status_timer;
    ev_timer limit_timer;
    ev_timer drain_timer;
    ev_signal sigint_watcher, sigterm_watcher, sighup_watcher;
    void (*hup_fn)(void *ctx); /* SIGHUP: reload hook (lua_bridge), runs between bus batches */
    void *hup_ctx;

    int status_interval_ms;
    int lua_budget_ms;
    double duration_s;
    uint64_t max_events;
    int stopping;
    int signals_seen;
    char stop_reason[128];
    char fail_reason[256];     /* rt_fail: rt_run returns SHJ_ERR with it */
    int64_t drain_started_mono;

    /* status line bookkeeping */
    int64_t last_status_mono;
    uint64_t last_published;
    int64_t started_mono;
    int64_t last_log_tick_mono;
    struct {
        void (*fn)(void *ctx);
        void *ctx;
    } drained[4];
    int n_drained;
} rt;

static void begin_drain(void);

struct ev_loop *rt_loop(void) { return rt.loop; }
bus *rt_bus(void) { return rt.bus; }
int rt_stopping(void) { return rt.stopping; }
size_t rt_source_count(void) { return rt.n_sources; }
src_source *rt_source_at(size_t i) { return i < rt.n_sources ? rt.sources[i] : NULL; }
uint64_t rt_events_published(void) { return rt.bus ? bus_published(rt.bus) : 0; }
void rt_set_status_interval(int interval_ms) { rt.status_interval_ms = interval_ms; }
void rt_set_lua_budget_ms(int ms) { rt.lua_budget_ms = ms; }

/* Watchdog thread, loop parked in Lua (loop/watchdog.h): the writers that
 * can act without the loop keep their promises. */
static void parked_writers(void *ctx, int64_t now_mono_ns, int final) {
    SHJ_UNUSED(ctx);
    for (size_t i = 0; i < rt.n_writers; i++)
        if (rt.writers[i].parked) rt.writers[i].parked(rt.writers[i].w, now_mono_ns, final);
}

void rt_set_limits(double duration_s, uint64_t max_events) {
    rt.duration_s = duration_s;
    rt.max_events = max_events;
}

/* Market events published by all sources (status events do not count
 * towards --events: a user asking for N events means N ticks/bid-asks). */
static uint64_t market_events(void) {
    uint64_t n = 0;
    for (size_t i = 0; i < rt.n_sources; i++) {
        const src_counters *k = &rt.sources[i]->counters;
        n += k->events - k->per_kind[SHJ_KIND_STATUS];
    }
    return n;
}

uint64_t rt_event_budget(void) {
    if (!rt.max_events) return UINT64_MAX;
    uint64_t done = market_events();
    return done >= rt.max_events ? 0 : rt.max_events - done;
}

static void resume_paused_sources(void) {
    for (size_t i = 0; i < rt.n_sources; i++) {
        src_source *s = rt.sources[i];
        if (s->state == SRC_PAUSED && !rt.stopping && src_ready(s, 4096) && s->ops->resume) {
            s->state = SRC_RUNNING;
            s->ops->resume(s);
        }
    }
}

static void dispatch_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    bus_dispatch(rt.bus);
    resume_paused_sources();
    if (rt.max_events && !rt.stopping && market_events() >= rt.max_events)
        rt_stop("event limit reached");
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    int64_t now = clk_mono_ns();
    for (size_t i = 0; i < rt.n_writers; i++)
        if (rt.writers[i].ops->poll) rt.writers[i].ops->poll(rt.writers[i].w, now);
    if (now - rt.last_log_tick_mono >= 1000000000LL) { /* repeat-limit summaries, once a second */
        rt.last_log_tick_mono = now;
        shj_log_tick();
    }
    bus_dispatch(rt.bus);
    resume_paused_sources();
}

/* "12345678" -> "12.3M": status lines must stay one short line. */
static const char *human(double v, char *buf, size_t cap) {
    if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
    return buf;
}

static void print_status(int final) {
    int64_t now = clk_mono_ns();
    double dt = (double)(now - rt.last_status_mono) / 1e9;
    uint64_t published = rt_events_published();
    double rate = dt > 0 ? (double)(published - rt.last_published) / dt : 0;
    if (final) {
        double total_s = (double)(now - rt.started_mono) / 1e9;
        rate = total_s > 0 ? (double)published / total_s : 0;
    }
    rt.last_status_mono = now;
    rt.last_published = published;

    char line[1024], a[32], b[32], c[32], d[32];
    /* The log line's own timestamp says when; "total" marks the stop summary. */
    size_t n = (size_t)snprintf(line, sizeof line, "%s%s ev/s", final ? "total avg " : "",
                                human(rate, a, sizeof a));
    for (size_t i = 0; i < rt.n_sources && n < sizeof line; i++) {
        const src_counters *k = &rt.sources[i]->counters;
        n += (size_t)snprintf(line + n, sizeof line - n, " | %s: tick %s bidask %s status %s bad %s",
                              rt.sources[i]->name,
                              human((double)(k->per_kind[SHJ_KIND_TICK] + k->per_kind[SHJ_KIND_QUOTE]), a, sizeof a),
                              human((double)k->per_kind[SHJ_KIND_BIDASK], b, sizeof b),
                              human((double)k->per_kind[SHJ_KIND_STATUS], c, sizeof c),
                              human((double)k->malformed, d, sizeof d)); /* other payloads are not bad */
        if ((k->other || k->field_lost) && n < sizeof line) /* shown once they happen */
            n += (size_t)snprintf(line + n, sizeof line - n, " other %s lost %s",
                                  human((double)k->other, a, sizeof a),
                                  human((double)k->field_lost, b, sizeof b));
    }
    uint64_t lag = 0, dropped = 0;
    for (size_t i = 0; i < bus_sub_count(rt.bus); i++) {
        const char *name;
        bus_sub_stats st;
        bus_sub_stats_at(rt.bus, i, &name, &st);
        lag += st.lag;
        dropped += st.dropped;
    }
    if (n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " | bus lag %llu drop %llu",
                              (unsigned long long)lag, (unsigned long long)dropped);
    for (size_t i = 0; i < rt.n_writers && n + 8 < sizeof line; i++) {
        if (!rt.writers[i].ops->status) continue;
        n += (size_t)snprintf(line + n, sizeof line - n, " | %s: ", rt.writers[i].name);
        if (n < sizeof line) n += rt.writers[i].ops->status(rt.writers[i].w, line + n, sizeof line - n);
    }
    for (size_t i = 0; i < rt.n_sources && n + 8 < sizeof line; i++) {
        const src_source *s = rt.sources[i];
        if (!s->ops->status) continue;
        n += (size_t)snprintf(line + n, sizeof line - n, " | %s/conn: ", s->name);
        if (n < sizeof line) n += s->ops->status(s, line + n, sizeof line - n);
    }
    shj_log(SHJ_LOG_INFO, "%s", line);
}

/* The exact counts at stop (the status line rounds): what monitoring and
 * tests compare their own totals with. */
static void print_totals(void) {
    char line[1024];
    double total_s = (double)(clk_mono_ns() - rt.started_mono) / 1e9;
    size_t n = (size_t)snprintf(line, sizeof line, "published %llu events in %.1f s",
                                (unsigned long long)rt_events_published(), total_s);
    for (size_t i = 0; i < rt.n_sources && n < sizeof line; i++) {
        const src_counters *k = &rt.sources[i]->counters;
        n += (size_t)snprintf(line + n, sizeof line - n,
                              "; %s: events %llu tick %llu bidask %llu quote %llu status %llu malformed %llu unknown %llu"
                              " other %llu lost %llu",
                              rt.sources[i]->name, (unsigned long long)k->events,
                              (unsigned long long)k->per_kind[SHJ_KIND_TICK],
                              (unsigned long long)k->per_kind[SHJ_KIND_BIDASK],
                              (unsigned long long)k->per_kind[SHJ_KIND_QUOTE],
                              (unsigned long long)k->per_kind[SHJ_KIND_STATUS],
                              (unsigned long long)k->malformed, (unsigned long long)k->unknown,
                              (unsigned long long)k->other, (unsigned long long)k->field_lost);
    }
    shj_log(SHJ_LOG_INFO, "%s", line);
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    print_status(0);
}

static void limit_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    rt_stop("duration reached");
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    if (++rt.signals_seen >= 3) {
        /* The user insists: leave now, but say that buffered data may be lost. */
        shj_log(SHJ_LOG_ERROR, "third signal: exiting without draining");
        shj_log_flush();
        _exit(130);
    }
    rt_stop(w->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* SIGHUP never stops the runtime: it asks the reload hook (if any) to run.
 * Signal watchers run from the loop, never inside a bus dispatch, so a hook
 * that swaps handlers does it between two batches. */
static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    if (rt.stopping) return;
    if (!rt.hup_fn) {
        shj_log(SHJ_LOG_WARN, "SIGHUP: no reload hook registered, ignored");
        return;
    }
    shj_log(SHJ_LOG_INFO, "SIGHUP: reloading scripts");
    rt.hup_fn(rt.hup_ctx);
}

void rt_on_hup(void (*fn)(void *ctx), void *ctx) {
    rt.hup_fn = fn;
    rt.hup_ctx = ctx;
}

void rt_request_reload(void) {
    if (rt.loop) ev_feed_signal_event(rt.loop, SIGHUP);
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    bus_dispatch(rt.bus);
    int64_t waited = clk_mono_ns() - rt.drain_started_mono;
    if (bus_pending(rt.bus) == 0) {
        ev_break(loop, EVBREAK_ALL);
    } else if ((double)waited / 1e9 > RT_DRAIN_TIMEOUT_S) {
        shj_log(SHJ_LOG_ERROR, "shutdown: %zu events still pending after %.0f s; a subscriber is stuck",
                bus_pending(rt.bus), RT_DRAIN_TIMEOUT_S);
        ev_break(loop, EVBREAK_ALL);
    }
}

static void begin_drain(void) {
    rt.drain_started_mono = clk_mono_ns();
    ev_timer_init(&rt.drain_timer, drain_cb, 0.0, 0.001);
    ev_timer_start(rt.loop, &rt.drain_timer);
}

void rt_stop(const char *reason) {
    if (!rt.initialized || rt.stopping) return;
    rt.stopping = 1;
    shj_strlcpy(rt.stop_reason, reason ? reason : "stop requested", sizeof rt.stop_reason);
    shj_log(SHJ_LOG_INFO, "stopping (%s): sources stop, bus drains, writers flush", rt.stop_reason);
    for (size_t i = 0; i < rt.n_sources; i++) {
        src_source *s = rt.sources[i];
        if (s->state != SRC_STOPPED && s->ops->stop) s->ops->stop(s);
        s->state = SRC_STOPPED;
    }
    ev_timer_stop(rt.loop, &rt.limit_timer);
    begin_drain();
}

void rt_fail(const char *reason) {
    if (!rt.initialized) return;
    if (!rt.fail_reason[0])
        shj_strlcpy(rt.fail_reason, reason && *reason ? reason : "failure", sizeof rt.fail_reason);
    rt_stop(reason);
}

void rt_source_done(src_source *s) {
    s->state = SRC_DONE;
    for (size_t i = 0; i < rt.n_sources; i++)
        if (rt.sources[i]->state != SRC_DONE) return;
    rt_stop("all sources finished");
}

void rt_kick(void) { resume_paused_sources(); }

int rt_init(size_t bus_capacity) {
    if (rt.initialized) return SHJ_OK;
    memset(&rt, 0, sizeof rt);
    rt.loop = ev_default_loop(EVFLAG_AUTO);
    if (!rt.loop) return SHJ_ERR;
    rt.bus = bus_new(bus_capacity);
    if (!rt.bus) return SHJ_ERR;
    rt.status_interval_ms = 1000;
    rt.initialized = 1;
    return SHJ_OK;
}

int rt_add_source(src_source *s, char *err, size_t errlen) {
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "runtime init failed");
    if (rt.n_sources == RT_MAX_SOURCES)
        return shj_fail(err, errlen, "too many sources (max %d)", RT_MAX_SOURCES);
    for (size_t i = 0; i < rt.n_sources; i++)
        if (rt.sources[i] == s) return SHJ_OK;
    s->source_id = (uint16_t)(rt.n_sources + 1);
    s->loop = rt.loop;
    s->bus = rt.bus;
    rt.sources[rt.n_sources++] = s;
    return SHJ_OK;
}

int rt_add_writer(const char *name, const rt_writer_ops *ops, void *w) {
    if (rt_init(0) != SHJ_OK || rt.n_writers == RT_MAX_WRITERS) return SHJ_ERR;
    rt_writer *x = &rt.writers[rt.n_writers++];
    shj_strlcpy(x->name, name, sizeof x->name);
    x->ops = ops;
    x->w = w;
    x->parked = NULL;
    return SHJ_OK;
}

int rt_on_drained(void (*fn)(void *ctx), void *ctx) {
    if (rt_init(0) != SHJ_OK || rt.n_drained == 4) return SHJ_ERR;
    rt.drained[rt.n_drained].fn = fn;
    rt.drained[rt.n_drained].ctx = ctx;
    rt.n_drained++;
    return SHJ_OK;
}

int rt_set_writer_parked(void *w, void (*fn)(void *w, int64_t now_mono_ns, int final)) {
    for (size_t i = 0; i < rt.n_writers; i++) {
        if (rt.writers[i].w == w) {
            rt.writers[i].parked = fn;
            return SHJ_OK;
        }
    }
    return SHJ_ERR;
}

static int close_writers(char *err, size_t errlen) {
    int rc = SHJ_OK;
    while (rt.n_writers > 0) {
        rt_writer *x = &rt.writers[--rt.n_writers];
        char werr[512] = "";
        if (x->ops->close && x->ops->close(x->w, werr, sizeof werr) != SHJ_OK) {
            shj_log(SHJ_LOG_ERROR, "writer %s: %s", x->name, werr);
            if (rc == SHJ_OK) shj_fail(err, errlen, "writer %s: %s", x->name, werr);
            rc = SHJ_ERR;
        }
    }
    return rc;
}

int rt_run(char *err, size_t errlen) {
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "runtime init failed");
    rt.started_mono = rt.last_status_mono = clk_mono_ns();
    rt.last_published = rt_events_published();

    ev_prepare_init(&rt.dispatch_watcher, dispatch_cb);
    ev_prepare_start(rt.loop, &rt.dispatch_watcher);
    ev_timer_init(&rt.poll_timer, poll_cb, RT_POLL_MS / 1000.0, RT_POLL_MS / 1000.0);
    ev_timer_start(rt.loop, &rt.poll_timer);
    if (rt.status_interval_ms > 0) {
        double iv = rt.status_interval_ms / 1000.0;
        ev_timer_init(&rt.status_timer, status_cb, iv, iv);
        ev_timer_start(rt.loop, &rt.status_timer);
    }
    if (rt.duration_s > 0) {
        ev_timer_init(&rt.limit_timer, limit_cb, rt.duration_s, 0.0);
        ev_timer_start(rt.loop, &rt.limit_timer);
    }
    ev_signal_init(&rt.sigint_watcher, signal_cb, SIGINT);
    ev_signal_start(rt.loop, &rt.sigint_watcher);
    ev_signal_init(&rt.sigterm_watcher, signal_cb, SIGTERM);
    ev_signal_start(rt.loop, &rt.sigterm_watcher);
    ev_signal_init(&rt.sighup_watcher, hup_cb, SIGHUP);
    ev_signal_start(rt.loop, &rt.sighup_watcher);
    /* Signals and durability must not depend on Lua handlers returning. */
    const char *budget_env = getenv("SHIJIM_LUA_BUDGET_MS");
    int budget = budget_env && *budget_env ? atoi(budget_env) : rt.lua_budget_ms;
    if (wd_start(budget, parked_writers, NULL) != SHJ_OK)
        shj_log(SHJ_LOG_WARN, "no watchdog thread: a Lua handler that never returns would block signals");
    wd_chain_signal(SIGINT);
    wd_chain_signal(SIGTERM);

    int rc = SHJ_OK;
    for (size_t i = 0; i < rt.n_sources; i++) {
        src_source *s = rt.sources[i];
        char serr[512] = "";
        if (s->ops->start(s, serr, sizeof serr) != SHJ_OK) {
            rc = shj_fail(err, errlen, "source %s: %s", s->name, serr);
            rt_stop("a source failed to start");
            break;
        }
        if (s->state == SRC_NEW) s->state = SRC_RUNNING;
    }
    if (rt.n_sources == 0 && !rt.stopping)
        shj_log(SHJ_LOG_WARN, "no source configured: only timers will run");

    ev_run(rt.loop, 0);
    wd_stop();

    ev_prepare_stop(rt.loop, &rt.dispatch_watcher);
    ev_timer_stop(rt.loop, &rt.poll_timer);
    ev_timer_stop(rt.loop, &rt.status_timer);
    ev_timer_stop(rt.loop, &rt.limit_timer);
    ev_timer_stop(rt.loop, &rt.drain_timer);
    ev_signal_stop(rt.loop, &rt.sigint_watcher);
    ev_signal_stop(rt.loop, &rt.sigterm_watcher);
    ev_signal_stop(rt.loop, &rt.sighup_watcher);

    if (rt.fail_reason[0] && rc == SHJ_OK) rc = shj_fail(err, errlen, "%s", rt.fail_reason);
    for (int i = 0; i < rt.n_drained; i++) rt.drained[i].fn(rt.drained[i].ctx);
    char werr[512] = "";
    if (close_writers(werr, sizeof werr) != SHJ_OK && rc == SHJ_OK)
        rc = shj_fail(err, errlen, "%s", werr);
    if (rt.status_interval_ms > 0) print_status(1);
    print_totals();
    shj_log_flush();
    return rc;
}

static void release(int free_sources) {
    if (!rt.initialized) return;
    char err[256];
    close_writers(err, sizeof err);
    for (size_t i = 0; i < rt.n_sources; i++) {
        src_source *s = rt.sources[i];
        if (s->ops->stop && s->state != SRC_STOPPED && s->state != SRC_NEW) s->ops->stop(s);
        s->state = SRC_STOPPED;
        if (free_sources && s->ops->free) {
            s->ops->free(s);
        } else {
            /* Detached: counters stay readable, nothing can reach the freed bus. */
            s->bus = NULL;
            s->raw = NULL;
            s->loop = NULL;
        }
    }
    bus_free(rt.bus);
    memset(&rt, 0, sizeof rt);
}

void rt_shutdown(void) { release(1); }
void rt_detach_all(void) { release(0); }
