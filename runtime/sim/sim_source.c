/* sim_source.c — the simulated market as a source on the event loop.
 *
 * Wraps the pure generator (sim.c) in a src_source: every payload goes
 * through src_deliver exactly like a live SSE event, so the archive, parser
 * and bus run the real code path.
 *
 * Every event is published with SHJ_FLAG_SIMULATED (the payloads also carry
 * "simulated":true, which the parser maps to the same bit, so the archive and
 * every replay of it keep it; the flag here covers a market configured
 * plain).
 *
 * Clock: the market always runs its realistic clock (sim.h): exchange times
 * follow calibrated rates, not the pacing. Pacing: with rate > 0 a 1 ms
 * timer generates the payloads the wall clock owes (rate × elapsed −
 * generated) and stamps them received now; with rate <= 0 an idle watcher
 * generates batches as fast as the downstream takes them and stamps each as
 * received SIM_LATENCY_NS after its exchange time — simulated time, so that a
 * week simulated in a minute is filed under its own trading days. When src_deliver says
 * SHJ_AGAIN the payload is kept and the source pauses until rt resumes it:
 * back-pressure, never a drop, and the sequence stays gap-free.
 */
#include "sim/sim_source.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bus.h"
#include "core/clock.h"
#include "core/instrument.h"
#include "loop/rt.h"
#include "core/shj_common.h"
#include "sim/sim.h"
#include "loop/source.h"

#define SIM_BATCH 1024        /* payloads per idle callback in as-fast-as-possible mode */
#define SIM_MAX_OWED 65536    /* cap on catch-up after a stall in paced mode */
#define SIM_PAYLOAD_CAP 4096
#define SIM_LATENCY_NS (2 * 1000000LL) /* exchange -> us, in as-fast-as-possible mode */

typedef struct sim_src {
    src_source base;        /* must stay first: src_source* <-> sim_src* */
    sim_market *market;
    double rate;            /* events/s; <= 0 = as fast as possible */
    ev_idle idle;
    ev_timer pace;
    int64_t started_mono;
    uint64_t generated;     /* payloads delivered (paced mode bookkeeping) */
    int64_t session_day;    /* trading day (days since epoch) of the last payload; -1 = none yet */
    int have_pending;       /* a generated payload waits for room */
    int pending_tag;
    size_t pending_len;
    int64_t pending_exch_ns;
    int64_t pending_day;    /* its trading day (sim_trading_day) */
    int64_t last_day;       /* finish before any later trading day; -1 = never */
    int allow_empty;        /* simsrc_allow_empty: start with nothing subscribed */
    char buf[SIM_PAYLOAD_CAP];
} sim_src;

static void sim_watchers_stop(sim_src *s) {
    ev_idle_stop(s->base.loop, &s->idle);
    ev_timer_stop(s->base.loop, &s->pace);
}

static void sim_watchers_start(sim_src *s) {
    if (s->rate > 0)
        ev_timer_again(s->base.loop, &s->pace);
    else
        ev_idle_start(s->base.loop, &s->idle);
}

/* Trading-day boundaries of the simulated clock become status events, so
 * that handlers and strategies see session open/close as live. A TAIFEX
 * night session belongs to the next trading day (sim_trading_day). */
static int publish_session_change(sim_src *s, int64_t day) {
    if (day == s->session_day) return SHJ_OK;
    if (bus_free_slots(s->base.bus) < 3) return SHJ_AGAIN;
    char date[11], detail[64];
    if (s->session_day >= 0) {
        clk_taipei_date(clk_taipei_day_start(s->session_day), date);
        snprintf(detail, sizeof detail, "simulated session %s closed", date);
        src_publish_status(&s->base, SHJ_STATUS_SESSION_CLOSE, "", 0, 0, 0, detail);
    }
    clk_taipei_date(clk_taipei_day_start(day), date);
    snprintf(detail, sizeof detail, "simulated session %s open", date);
    src_publish_status(&s->base, SHJ_STATUS_SESSION_OPEN, "", 0, 0, 0, detail);
    s->session_day = day;
    return SHJ_OK;
}

/* The last trading day is complete: close its session and finish. */
static int finish(sim_src *s) {
    if (bus_free_slots(s->base.bus) < 2) {
        s->base.state = SRC_PAUSED;
        sim_watchers_stop(s);
        return 0;
    }
    if (s->session_day >= 0) {
        char date[11], detail[64];
        clk_taipei_date(clk_taipei_day_start(s->session_day), date);
        snprintf(detail, sizeof detail, "simulated session %s closed", date);
        src_publish_status(&s->base, SHJ_STATUS_SESSION_CLOSE, "", 0, 0, 0, detail);
        s->session_day = -1;
    }
    sim_watchers_stop(s);
    rt_source_done(&s->base);
    return 0;
}

/* Deliver up to n payloads. Returns 0 when paused by back-pressure or stopped. */
static int sim_produce(sim_src *s, uint64_t n) {
    uint64_t budget = rt_event_budget();
    if (n > budget) n = budget;
    if (n == 0) return 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!s->have_pending) {
            int64_t exch_ns;
            s->pending_len = sim_next(s->market, &s->pending_tag, s->buf, sizeof s->buf, &exch_ns);
            if (s->pending_len == 0) return 0; /* nothing subscribed */
            s->pending_exch_ns = exch_ns;
            s->pending_day = sim_trading_day(s->market);
            s->have_pending = 1;
        }
        if (s->last_day >= 0 && s->pending_day > s->last_day) return finish(s);
        if (publish_session_change(s, s->pending_day) == SHJ_AGAIN) {
            s->base.state = SRC_PAUSED;
            sim_watchers_stop(s);
            return 0;
        }
        int64_t recv = s->rate > 0 ? clk_now_ns() : s->pending_exch_ns + SIM_LATENCY_NS;
        int rc = src_deliver_flags(&s->base, s->pending_tag, s->buf, s->pending_len, recv,
                                   SHJ_FLAG_SIMULATED);
        if (rc == SHJ_AGAIN) {
            s->base.state = SRC_PAUSED;
            sim_watchers_stop(s);
            return 0;
        }
        s->have_pending = 0;
        s->generated++;
        if (rc == SHJ_ERR) {
            rt_stop("simulated source: raw archive failed");
            return 0;
        }
    }
    return 1;
}

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sim_src *s = shj_container_of(w, sim_src, idle);
    sim_produce(s, SIM_BATCH);
}

static void pace_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sim_src *s = shj_container_of(w, sim_src, pace);
    double elapsed = (double)(clk_mono_ns() - s->started_mono) / 1e9;
    double owed = s->rate * elapsed - (double)s->generated;
    if (owed < 1) return;
    if (owed > SIM_MAX_OWED) {
        /* We fell behind (the machine was busy): catch up in bounded steps,
         * never in one burst that would starve the rest of the loop. */
        owed = SIM_MAX_OWED;
    }
    sim_produce(s, (uint64_t)owed);
}

static int sim_start(src_source *base, char *err, size_t errlen) {
    sim_src *s = (sim_src *)base;
    if (sim_count(s->market) == 0 && !s->allow_empty)
        return shj_fail(err, errlen, "nothing subscribed: call src:subscribe{...} before run");
    s->started_mono = clk_mono_ns();
    ev_idle_init(&s->idle, idle_cb);
    ev_timer_init(&s->pace, pace_cb, 0.001, 0.001);
    base->state = SRC_RUNNING;
    sim_watchers_start(s);
    shj_log(SHJ_LOG_INFO, "source %s: simulated market, %zu instruments, %s", base->name,
            sim_count(s->market), s->rate > 0 ? "paced" : "as fast as possible");
    return SHJ_OK;
}

static void sim_stop(src_source *base) {
    sim_src *s = (sim_src *)base;
    if (base->loop) sim_watchers_stop(s);
    base->state = SRC_STOPPED;
}

static void sim_resume(src_source *base) {
    sim_src *s = (sim_src *)base;
    base->state = SRC_RUNNING;
    sim_watchers_start(s);
}

static int sim_subscribe(src_source *base, const src_sub_req *req, char *err, size_t errlen) {
    sim_src *s = (sim_src *)base;
    char resolved[16];
    uint32_t kinds = req->kind_mask & (shj_kind_bit(SHJ_KIND_TICK) | shj_kind_bit(SHJ_KIND_BIDASK));
    if (!kinds) return shj_fail(err, errlen, "%s: the simulated market makes tick and bidask only", req->code);
    if (sim_add(s->market, req->code, req->exchange, req->sec_type, kinds, req->odd_lot, resolved,
                err, errlen) != SHJ_OK)
        return SHJ_ERR;
    for (size_t i = 0; i < sim_count(s->market); i++) {
        sim_contract c;
        if (sim_contract_at(s->market, i, &c) == SHJ_OK && strcmp(c.code, resolved) == 0) {
            inst_register(c.code, c.exchange, c.sec_type, req->odd_lot);
            break;
        }
    }
    shj_strlcpy(base->last_resolved, resolved, sizeof base->last_resolved);
    if (req->code && strcmp(req->code, resolved) != 0)
        shj_log(SHJ_LOG_INFO, "source %s: %s resolved to %s", base->name, req->code, resolved);
    return SHJ_OK;
}

static int sim_unsubscribe(src_source *base, const src_sub_req *req, char *err, size_t errlen) {
    sim_src *s = (sim_src *)base;
    if (sim_remove(s->market, req->code) != SHJ_OK)
        return shj_fail(err, errlen, "%s: not subscribed", req->code);
    return SHJ_OK;
}

static void sim_free_src(src_source *base) {
    sim_src *s = (sim_src *)base;
    sim_free(s->market);
    free(s);
}

static const src_ops sim_ops = {
    .type = "simulated",
    .start = sim_start,
    .stop = sim_stop,
    .resume = sim_resume,
    .subscribe = sim_subscribe,
    .unsubscribe = sim_unsubscribe,
    .free = sim_free_src,
};

src_source *simsrc_new(const char *name, uint64_t seed, const char *date, double rate, char *err,
                       size_t errlen) {
    sim_src *s = calloc(1, sizeof *s);
    if (!s) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    /* The realistic clock in both modes: rate only paces delivery. */
    s->market = sim_new(seed, date, 0);
    if (!s->market) {
        free(s);
        shj_fail(err, errlen, "simulated market: bad date \"%s\" (want YYYY-MM-DD)", date ? date : "");
        return NULL;
    }
    src_init(&s->base, &sim_ops, name && *name ? name : "sim");
    s->rate = rate;
    s->session_day = -1;
    s->last_day = -1;
    return &s->base;
}

int simsrc_allow_empty(src_source *base) {
    if (!base || base->ops != &sim_ops) return SHJ_ERR;
    ((sim_src *)base)->allow_empty = 1;
    return SHJ_OK;
}

int simsrc_set_days(src_source *base, int days) {
    if (!base || base->ops != &sim_ops) return SHJ_ERR;
    sim_src *s = (sim_src *)base;
    if (days <= 0) {
        s->last_day = -1;
        return SHJ_OK;
    }
    int64_t T = sim_trading_day(s->market); /* the first trading day, before any payload */
    for (int k = 1; k < days; k++) {
        do T++;
        while (clk_weekday(T) == 0 || clk_weekday(T) == 6);
    }
    s->last_day = T;
    return SHJ_OK;
}
