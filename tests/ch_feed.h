/* ch_feed.h — drive a chw_writer from the libev loop the way the bus does:
 * a timer pushes synthetic events (ch_events.h) in chunks, keeps what the
 * writer did not take for the next tick (BUS_BLOCK semantics), and digests
 * every event the writer took. */
#ifndef SHJ_CH_FEED_H
#define SHJ_CH_FEED_H

#include <ev.h>
#include <stdint.h>

#include "ch_digest.h"
#include "ch_events.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"

#define CHF_FEED_MAX 8192

/* The common start of a writer test: a real server started (s), a temp dir
 * made from tmp (a mkdtemp template), *o at its defaults with the DSN of
 * database db and a fallback dir under tmp (dsn and fb must outlive o).
 * 0, or -1 with the reason printed. */
static inline int ch_writer_test_setup(chx_server *s, char *tmp, const char *db, chw_opts *o, char *dsn,
                                       size_t dsncap, char *fb, size_t fbcap) {
    char err[600];
    if (chx_start(s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(fb, fbcap, "%s/fallback", tmp);
    snprintf(dsn, dsncap, "clickhouse://127.0.0.1:%d/%s", s->http_port, db);
    chw_opts_default(o);
    o->dsn = dsn;
    o->fallback_dir = fb;
    return 0;
}

typedef struct ch_feeder {
    ev_timer t;
    chw_writer *w;
    uint64_t next, end;     /* events still to generate: [next, end) */
    int per_tick;
    int day_span;
    chg_digest taken;       /* every event the writer took */
    uint64_t offered, refused_ticks;
    shj_event pend[CHF_FEED_MAX];
    size_t npend, off;
} ch_feeder;

static inline void chf_feed_tick(struct ev_loop *loop, ev_timer *t, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    ch_feeder *f = shj_container_of(t, ch_feeder, t);
    if (!f->w) return;
    if (f->off == f->npend) {
        f->off = f->npend = 0;
        while (f->npend < (size_t)f->per_tick && f->npend < CHF_FEED_MAX && f->next < f->end)
            che_make(&f->pend[f->npend++], f->next++, f->day_span);
    }
    if (f->off == f->npend) return;
    size_t want = f->npend - f->off;
    size_t took = chw_push(f->w, f->pend + f->off, want);
    f->offered += want;
    if (took < want) f->refused_ticks++;
    for (size_t i = 0; i < took; i++) chg_add(&f->taken, &f->pend[f->off + i]);
    f->off += took;
}

static inline void ch_feed_start(ch_feeder *f, struct ev_loop *loop, chw_writer *w, uint64_t first,
                                 uint64_t count, int per_tick, int day_span) {
    f->w = w;
    f->next = first;
    f->end = first + count;
    f->per_tick = per_tick > CHF_FEED_MAX ? CHF_FEED_MAX : per_tick;
    f->day_span = day_span;
    if (!ev_is_active(&f->t)) {
        ev_timer_init(&f->t, chf_feed_tick, 0.001, 0.001);
        ev_timer_start(loop, &f->t);
    }
}

static inline int ch_feed_done(const ch_feeder *f) { return f->next == f->end && f->off == f->npend; }

static inline void ch_feed_stop(ch_feeder *f, struct ev_loop *loop) { ev_timer_stop(loop, &f->t); }

/* Wait predicates for ch_run_until. ctx: the feeder / the writer. */
/* Everything fed and the writer holds nothing: inserted or in the fallback. */
static inline int ch_feed_settled(void *ctx) {
    ch_feeder *f = ctx;
    chw_stats st;
    chw_get_stats(f->w, &st);
    return ch_feed_done(f) && st.inflight == 0 && st.queued == 0 && st.rows_held == 0;
}

/* The writer reached ClickHouse (again). */
static inline int ch_writer_is_up(void *ctx) {
    chw_stats st;
    chw_get_stats(ctx, &st);
    return st.state == CHW_UP;
}

static inline void ch_noop_cb(struct ev_loop *loop, ev_timer *t, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(t);
    SHJ_UNUSED(revents);
}

/* Run the loop until pred(ctx) holds or timeout_s passes. 1 if pred held.
 * A 10 ms heartbeat keeps EVRUN_ONCE from returning at once (and spinning)
 * when only unreferenced watchers are active. */
static inline int ch_run_until(struct ev_loop *loop, int (*pred)(void *), void *ctx, double timeout_s) {
    ev_timer beat;
    ev_timer_init(&beat, ch_noop_cb, 0.01, 0.01);
    ev_timer_start(loop, &beat);
    double deadline = ev_time() + timeout_s;
    int ok = 1;
    while (!pred(ctx)) {
        if (ev_time() > deadline) {
            ok = 0;
            break;
        }
        ev_run(loop, EVRUN_ONCE);
    }
    ev_timer_stop(loop, &beat);
    return ok;
}

#endif
