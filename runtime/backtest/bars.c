/* bars.c — ticks -> OHLCV bars in exchange time (see bars.h for the rules).
 *
 * DESIGN. Instruments are indexed by inst_id (small, dense, > 0), each with
 * one slot per period. A slot holds the open bar (if any) and the start of the
 * last bar it finished, so that a tick older than that is counted as late
 * instead of reopening a finished bar. Finishing by stream time is cheap:
 * `next_due` is the earliest due time over all open bars, and the open bars
 * are scanned only when the stream clock passes it (about once per period),
 * never per event. Finished bars go to a growable FIFO of events; the bus
 * hookup drains it into the ring whenever there is room, so taking a tick
 * never waits for ring space (no deadlock when bars is the slowest
 * subscriber). Money never touches a double: prices are the events' int64
 * fixed-point values.
 */
#include "backtest/bars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bus.h"
#include "core/clock.h"
#include "core/ring.h"
#include "loop/rt.h"
#include "core/session.h"
#include "core/shj_common.h"

#define NS_PER_S CLK_NS_PER_SEC
#define PROVENANCE_FLAGS (SHJ_FLAG_REPLAY | SHJ_FLAG_SIMULATED | SHJ_FLAG_BACKFILL)

typedef struct bar_slot {
    int open;              /* a bar is being built */
    int64_t start_ns, end_ns, due_ns;
    int64_t last_done_start_ns; /* start of the last finished bar (INT64_MIN: none) */
    int64_t o, h, l, c;
    int64_t volume, trades, amount, pv; /* pv: sum of price * volume, for the VWAP */
    int64_t bid_vol, ask_vol;
    int64_t vol_sum, amount_sum, underlying;
    int64_t recv_ns;
    uint64_t seq;
    uint32_t flags;
    int amount_sat, pv_sat; /* the sum hit the int64 limit (see bars.h) */
} bar_slot;

/* *acc += x, saturating at the int64 limits. Returns 1 when it saturated. */
static int sat_add(int64_t *acc, int64_t x) {
    int64_t r;
    if (!__builtin_add_overflow(*acc, x, &r)) {
        *acc = r;
        return 0;
    }
    *acc = x > 0 ? INT64_MAX : INT64_MIN;
    return 1;
}

/* *acc += a * b, saturating. Returns 1 when it saturated. */
static int sat_add_mul(int64_t *acc, int64_t a, int64_t b) {
    int64_t m;
    if (__builtin_mul_overflow(a, b, &m)) {
        *acc = (a > 0) == (b > 0) ? INT64_MAX : INT64_MIN;
        return 1;
    }
    return sat_add(acc, m);
}

typedef struct bar_inst {
    char code[SHJ_CODE_MAX];
    uint8_t exchange, sec_type;
    uint16_t source_id;
    uint32_t inst_id;
    bar_slot slot[BARS_MAX_PERIODS];
} bar_inst;

struct bars {
    int32_t period_s[BARS_MAX_PERIODS];
    int n_periods;
    int64_t grace_ns;
    int64_t now_ns;        /* stream clock: max ts_exch_ns fed */
    int64_t next_due_ns;   /* earliest due over open bars (INT64_MAX: none) */
    bar_inst **inst;       /* indexed by inst_id */
    uint32_t inst_cap;
    uint32_t *active;      /* inst_ids that have slots, in first-seen order */
    uint32_t n_active, active_cap;
    ring q;                /* FIFO of finished bars (shj_event) */
    bars_stats stats;
    bus *bus;              /* attached bus (publishing), or NULL */
    bus_sub *sub;
};

/* ---- sessions ------------------------------------------------------------ */


static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int bars_session(int exchange, int64_t ts_exch_ns, int64_t *open_ns, int64_t *close_ns) {
    const ses_window *defs; /* the hours are core/session's */
    size_t n = ses_windows(exchange, &defs);
    /* Work in Taipei local seconds; ns remainder does not matter for which session. */
    int64_t local_s = floor_div(ts_exch_ns, NS_PER_S) + CLK_TAIPEI_OFFSET_S;
    int64_t day = floor_div(local_s, 86400);
    int64_t tod = local_s - day * 86400;
    for (size_t i = 0; i < n; i++) {
        int64_t open = defs[i].open_min * 60, close = defs[i].close_min * 60;
        int64_t open_local, len;
        if (close > open) {
            if (tod < open || tod >= close + BARS_CLOSE_GRACE_S) continue;
            open_local = day * 86400 + open;
            len = close - open;
        } else { /* crosses midnight: [open, 24:00) today or [00:00, close) of the next day */
            len = 86400 - open + close;
            if (tod >= open) open_local = day * 86400 + open;
            else if (tod < close + BARS_CLOSE_GRACE_S) open_local = (day - 1) * 86400 + open;
            else continue;
        }
        int64_t o = (open_local - CLK_TAIPEI_OFFSET_S) * NS_PER_S;
        *open_ns = o;
        *close_ns = o + len * NS_PER_S;
        return 0;
    }
    return -1;
}

/* ---- construction -------------------------------------------------------- */

static int parse_periods(bars *b, const char *text, char *err, size_t errlen) {
    const char *p = text;
    b->n_periods = 0;
    if (!p || !*p) return shj_fail(err, errlen, "bars: empty period list");
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *start = p;
        int64_t v = 0;
        if (*p == 'D' || *p == 'd') {
            v = BARS_SESSION_S;
            p++;
        } else {
            if (*p < '0' || *p > '9') goto bad;
            while (*p >= '0' && *p <= '9') {
                v = v * 10 + (*p - '0');
                if (v > BARS_SESSION_S) goto bad;
                p++;
            }
            if (*p == 's') p++;
            else if (*p == 'm') { v *= 60; p++; }
            else if (*p == 'h') { v *= 3600; p++; }
        }
        if (*p && *p != ',' && *p != ' ') goto bad;
        if (v <= 0 || v > BARS_SESSION_S) goto bad;
        for (int i = 0; i < b->n_periods; i++)
            if (b->period_s[i] == v)
                return shj_fail(err, errlen, "bars: period %lld given twice in \"%s\"",
                                (long long)v, text);
        if (b->n_periods == BARS_MAX_PERIODS)
            return shj_fail(err, errlen, "bars: more than %d periods in \"%s\"", BARS_MAX_PERIODS,
                            text);
        b->period_s[b->n_periods++] = (int32_t)v;
        continue;
    bad:
        return shj_fail(err, errlen,
                        "bars: bad period at offset %d of \"%s\" (want N, Ns, Nm, Nh or D, "
                        "at most one day)",
                        (int)(start - text), text);
    }
    if (b->n_periods == 0) return shj_fail(err, errlen, "bars: empty period list");
    return SHJ_OK;
}

bars *bars_new(const char *periods, int grace_ms, char *err, size_t errlen) {
    if (grace_ms < 0) {
        shj_fail(err, errlen, "bars: grace_ms must be >= 0 (got %d)", grace_ms);
        return NULL;
    }
    bars *b = calloc(1, sizeof *b);
    if (!b) {
        shj_fail(err, errlen, "bars: out of memory");
        return NULL;
    }
    ring_init(&b->q, sizeof(shj_event), 64);
    if (parse_periods(b, periods, err, errlen) != SHJ_OK) {
        free(b);
        return NULL;
    }
    b->grace_ns = (int64_t)grace_ms * 1000000;
    b->now_ns = INT64_MIN;
    b->next_due_ns = INT64_MAX;
    return b;
}

void bars_free(bars *b) {
    if (!b) return;
    if (b->bus && b->sub) bus_unsubscribe(b->bus, b->sub);
    for (uint32_t i = 0; i < b->n_active; i++) free(b->inst[b->active[i]]);
    free(b->inst);
    free(b->active);
    ring_free(&b->q);
    free(b);
}

/* ---- the output queue ---------------------------------------------------- */

static shj_event *queue_push(bars *b) { return ring_push(&b->q); }

size_t bars_pending(const bars *b) { return ring_len(&b->q); }

size_t bars_take(bars *b, shj_event *out, size_t max) {
    size_t n = 0;
    while (n < max && ring_len(&b->q)) {
        out[n++] = *(const shj_event *)ring_front(&b->q);
        ring_pop(&b->q);
    }
    return n;
}

void bars_get_stats(const bars *b, bars_stats *out) { *out = b->stats; }

/* ---- building ------------------------------------------------------------ */

static bar_inst *inst_slot(bars *b, const shj_event *ev) {
    uint32_t id = ev->inst_id;
    if (id >= b->inst_cap) {
        uint32_t cap = b->inst_cap ? b->inst_cap : 64;
        while (cap <= id) cap *= 2;
        bar_inst **t = realloc(b->inst, cap * sizeof *t);
        if (!t) return NULL;
        memset(t + b->inst_cap, 0, (cap - b->inst_cap) * sizeof *t);
        b->inst = t;
        b->inst_cap = cap;
    }
    if (!b->inst[id]) {
        if (b->n_active == b->active_cap) {
            uint32_t cap = b->active_cap ? b->active_cap * 2 : 64;
            uint32_t *a = realloc(b->active, cap * sizeof *a);
            if (!a) return NULL;
            b->active = a;
            b->active_cap = cap;
        }
        bar_inst *in = calloc(1, sizeof *in);
        if (!in) return NULL;
        memcpy(in->code, ev->code, SHJ_CODE_MAX);
        in->code[SHJ_CODE_MAX - 1] = '\0';
        in->exchange = ev->exchange;
        in->sec_type = ev->sec_type;
        in->source_id = ev->source_id;
        in->inst_id = id;
        for (int p = 0; p < BARS_MAX_PERIODS; p++) in->slot[p].last_done_start_ns = INT64_MIN;
        b->inst[id] = in;
        b->active[b->n_active++] = id;
    }
    return b->inst[id];
}

/* Round num/den half away from zero (den > 0). */
static int64_t div_round(int64_t num, int64_t den) {
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

static void finish(bars *b, bar_inst *in, int p) {
    bar_slot *s = &in->slot[p];
    shj_event *e = queue_push(b);
    if (e) {
        memset(e, 0, sizeof *e);
        e->kind = SHJ_KIND_BAR;
        e->exchange = in->exchange;
        e->sec_type = in->sec_type;
        e->flags = s->flags;
        e->inst_id = in->inst_id;
        e->source_id = in->source_id;
        memcpy(e->code, in->code, SHJ_CODE_MAX);
        e->ts_exch_ns = s->end_ns;
        e->ts_recv_ns = s->recv_ns;
        e->seq = s->seq;
        e->open = s->o;
        e->high = s->h;
        e->low = s->l;
        e->close = s->c;
        e->avg_price = s->pv_sat ? 0 : s->volume > 0 ? div_round(s->pv, s->volume) : s->c;
        e->amount = s->amount;
        if (s->amount_sat || s->pv_sat) {
            b->stats.saturated++;
            shj_log(SHJ_LOG_WARN,
                    "bars: %s bar at %lld: %s passed the int64 limit (%lld TWD at scale %lld); "
                    "saturated%s",
                    in->code, (long long)s->start_ns, s->amount_sat ? "amount" : "price x volume",
                    (long long)SHJ_PRICE_MAX_UNITS, (long long)SHJ_PRICE_SCALE,
                    s->pv_sat ? ", avg_price 0 (unknown)" : "");
        }
        e->amount_sum = s->amount_sum;
        e->underlying_price = s->underlying;
        e->vol_sum = s->vol_sum;
        e->bid_side_vol_sum = s->bid_vol;
        e->ask_side_vol_sum = s->ask_vol;
        e->bar_start_ns = s->start_ns;
        e->volume = s->volume > INT32_MAX ? INT32_MAX : (int32_t)s->volume;
        e->period_s = b->period_s[p];
        e->trades = s->trades > INT32_MAX ? INT32_MAX : (int32_t)s->trades;
        b->stats.bars++;
    } else {
        shj_log(SHJ_LOG_ERROR, "bars: out of memory, bar of %s lost", in->code);
    }
    s->last_done_start_ns = s->start_ns;
    s->open = 0;
}

/* Finish every open bar due at stream time t (or all when all != 0), in
 * instrument first-seen order then period order; recompute next_due. */
static void sweep(bars *b, int64_t t, int all) {
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < b->n_active; i++) {
        bar_inst *in = b->inst[b->active[i]];
        for (int p = 0; p < b->n_periods; p++) {
            bar_slot *s = &in->slot[p];
            if (!s->open) continue;
            if (all || s->due_ns <= t) finish(b, in, p);
            else if (s->due_ns < next) next = s->due_ns;
        }
    }
    b->next_due_ns = next;
}

void bars_flush(bars *b) { sweep(b, 0, 1); }

static void add_tick(bars *b, const shj_event *ev) {
    if (ev->flags & SHJ_FLAG_SIMTRADE) {
        b->stats.simtrade++;
        return;
    }
    if (ev->flags & SHJ_FLAG_ODDLOT) {
        b->stats.oddlot++;
        return;
    }
    if (ev->inst_id == 0 || ev->close <= 0 || ev->volume < 0) {
        b->stats.invalid++;
        return;
    }
    int64_t sess_open, sess_close;
    if (bars_session(ev->exchange, ev->ts_exch_ns, &sess_open, &sess_close) != 0) {
        b->stats.outside++;
        return;
    }
    bar_inst *in = inst_slot(b, ev);
    if (!in) {
        shj_log(SHJ_LOG_ERROR, "bars: out of memory, tick of %.16s not barred", ev->code);
        b->stats.invalid++;
        return;
    }
    int64_t t = ev->ts_exch_ns;
    int64_t sess_len = sess_close - sess_open;
    int counted = 0;
    for (int p = 0; p < b->n_periods; p++) {
        int64_t per = (int64_t)b->period_s[p] * NS_PER_S;
        int64_t start, end;
        if (b->period_s[p] == BARS_SESSION_S || per >= sess_len) {
            start = sess_open;
            end = sess_close;
        } else {
            /* A print in the close grace belongs to the last bar of the session. */
            int64_t at = t < sess_close ? t : sess_close - 1;
            start = sess_open + (at - sess_open) / per * per;
            end = start + per < sess_close ? start + per : sess_close;
        }
        bar_slot *s = &in->slot[p];
        if (s->open && start > s->start_ns) finish(b, in, p); /* this instrument moved on */
        if (s->open ? start < s->start_ns : start <= s->last_done_start_ns) {
            b->stats.late++;
            continue;
        }
        int64_t px = ev->close, vol = ev->volume;
        if (!s->open) {
            int64_t last_done = s->last_done_start_ns;
            memset(s, 0, sizeof *s);
            s->last_done_start_ns = last_done;
            s->open = 1;
            s->start_ns = start;
            s->end_ns = end;
            s->due_ns = end + b->grace_ns + (end == sess_close ? BARS_CLOSE_GRACE_S * NS_PER_S : 0);
            s->o = s->h = s->l = px;
            if (s->due_ns < b->next_due_ns) b->next_due_ns = s->due_ns;
        }
        if (px > s->h) s->h = px;
        if (px < s->l) s->l = px;
        s->c = px;
        s->volume += vol;
        s->trades++;
        if (!s->amount_sat) s->amount_sat = sat_add(&s->amount, ev->amount);
        if (!s->pv_sat) s->pv_sat = sat_add_mul(&s->pv, px, vol);
        if (ev->tick_type == SHJ_SIDE_BUY) s->ask_vol += vol;
        else if (ev->tick_type == SHJ_SIDE_SELL) s->bid_vol += vol;
        s->vol_sum = ev->vol_sum;
        s->amount_sum = ev->amount_sum;
        s->underlying = ev->underlying_price;
        s->recv_ns = ev->ts_recv_ns;
        s->seq = ev->seq;
        s->flags |= ev->flags & PROVENANCE_FLAGS;
        counted = 1;
    }
    if (counted) b->stats.ticks++;
}

size_t bars_feed(bars *b, const shj_event *ev) {
    if (ev->kind == SHJ_KIND_BAR) return ring_len(&b->q);
    if (ev->kind == SHJ_KIND_STATUS) {
        if (ev->status == SHJ_STATUS_SESSION_CLOSE && ev->code[0] == '\0') bars_flush(b);
        return ring_len(&b->q);
    }
    if (ev->ts_exch_ns > b->now_ns) {
        b->now_ns = ev->ts_exch_ns;
        if (b->now_ns >= b->next_due_ns) sweep(b, b->now_ns, 0);
    }
    if (ev->kind == SHJ_KIND_TICK || ev->kind == SHJ_KIND_QUOTE) add_tick(b, ev);
    return ring_len(&b->q);
}

/* ---- bus hookup ---------------------------------------------------------- */

size_t bars_publish(bars *b) {
    size_t n = 0;
    if (!b->bus) return 0;
    while (ring_len(&b->q)) {
        shj_event *slot = bus_claim(b->bus);
        if (!slot) break;
        bars_take(b, slot, 1);
        bus_commit(b->bus);
        n++;
    }
    b->stats.published += n;
    return n;
}

/* Takes every event offered (building never needs ring space), then pushes
 * finished bars into the ring while it has room; the rest waits for the
 * next delivery or poll. */
static size_t on_events(void *ctx, const shj_event *evs, size_t n) {
    bars *b = ctx;
    for (size_t i = 0; i < n; i++) bars_feed(b, &evs[i]);
    if (ring_len(&b->q)) bars_publish(b);
    return n;
}

int bars_attach(bars *b, bus *bus, char *err, size_t errlen) {
    if (b->bus) return shj_fail(err, errlen, "bars: already attached to a bus");
    uint32_t mask = SHJ_MASK_ALL & ~(uint32_t)SHJ_MASK_BAR;
    b->sub = bus_subscribe(bus, "bars", mask, NULL, 0, BUS_BLOCK, on_events, b);
    if (!b->sub) return shj_fail(err, errlen, "bars: bus_subscribe failed");
    b->bus = bus;
    return SHJ_OK;
}

static void w_poll(void *w, int64_t now_mono_ns) {
    SHJ_UNUSED(now_mono_ns);
    bars *b = w;
    if (ring_len(&b->q) && bars_publish(b)) rt_kick();
}

static size_t w_status(void *w, char *buf, size_t cap) {
    bars *b = w;
    int n = snprintf(buf, cap, "bars %llu (late %llu)", (unsigned long long)b->stats.bars,
                     (unsigned long long)b->stats.late);
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0);
}

/* Shutdown: the bus is drained already, so queued bars cannot reach a
 * reader any more; say so and free (bars_free unsubscribes). */
static int w_close(void *w, char *err, size_t errlen) {
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    bars *b = w;
    if (ring_len(&b->q))
        shj_log(SHJ_LOG_WARN, "bars: %zu finished bars never reached the bus (shutdown)",
                ring_len(&b->q));
    bars_free(b);
    return SHJ_OK;
}

static const rt_writer_ops bars_writer_ops = {
    .type = "bars", .poll = w_poll, .status = w_status, .close = w_close};

int bars_attach_rt(bars *b, char *err, size_t errlen) {
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "bars: runtime init failed");
    if (bars_attach(b, rt_bus(), err, errlen) != SHJ_OK) return SHJ_ERR;
    return rt_add_writer("bars", &bars_writer_ops, b);
}
