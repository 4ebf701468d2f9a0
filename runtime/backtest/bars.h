/* bars.h — ticks -> OHLCV bars (1 min, N min, session) in exchange time.
 *
 * Owns: per-instrument open bars for a set of periods, the Taiwan session
 * table, and a queue of finished bars (SHJ_KIND_BAR events) waiting to be
 * taken or published on the bus.
 *
 * Guarantees (the full rules with examples are in docs/backtest.md):
 *  - Boundaries are in exchange (Asia/Taipei) time and aligned to the
 *    session open: TWSE/TPEx 09:00-13:30; TAIFEX day 08:45-13:45 and night
 *    15:00-05:00 next day. A night bar after midnight belongs to the session
 *    that started at 15:00 the day before. The last bar of a session is cut at
 *    the session close, and trades stamped in the BARS_CLOSE_GRACE_S after the
 *    close (closing-auction prints) fall into that last bar.
 *  - Period 86400 ("D") is the session bar: one bar per session (the TAIFEX
 *    night session and day session are separate bars).
 *  - An empty period produces NO bar (no flat filler bars): a bar exists only
 *    when at least one trade happened in it.
 *  - Counted, never barred: simtrade (trial match) ticks, odd-lot ticks
 *    (volumes in shares, not lots), ticks outside every session, and ticks
 *    older than a bar already emitted ("late").
 *  - Bar fields: open/high/low/close of trade prices, volume (sum), trades
 *    (tick count), amount (sum of tick amounts), avg_price (volume-weighted,
 *    rounded half away from zero), ask_side_vol_sum / bid_side_vol_sum
 *    (volume of buyer- / seller-initiated ticks in the bar), vol_sum,
 *    amount_sum and underlying_price of the last tick, period_s,
 *    bar_start_ns, ts_exch_ns = bar end (exclusive), ts_recv_ns and seq of the
 *    last tick aggregated, payload_tag 0, flags = provenance flags (REPLAY,
 *    SIMULATED, BACKFILL) of its ticks.
 *  - Sums never overflow: amount and the VWAP's sum of price x volume are
 *    int64 x SHJ_PRICE_SCALE, so they hold up to SHJ_PRICE_MAX_UNITS (~9.2e12
 *    TWD, or price-points x volume for futures), far above any one
 *    instrument's session in Taiwan (TWSE's whole daily turnover is ~5e11
 *    TWD). A bar whose sum would pass the limit (corrupt input) saturates:
 *    amount stays at INT64_MAX / INT64_MIN, avg_price is 0 (unknown), the
 *    bar is counted in stats.saturated and logged once.
 *  - A bar is finished when the instrument trades in a later bar, or when the
 *    stream's exchange time (max ts_exch_ns over every event fed, any
 *    instrument) passes the bar end by grace_ms (plus BARS_CLOSE_GRACE_S for
 *    the last bar of a session), or on bars_flush. Deterministic: the same
 *    events in the same order give the same bars in the same order.
 *
 * Threading: event-loop thread only. Memory: one small struct per
 * instrument x period; the output queue grows as needed.
 */
#ifndef SHJ_BARS_H
#define SHJ_BARS_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

#define BARS_MAX_PERIODS 8      /* periods per bars object */
#define BARS_CLOSE_GRACE_S 60   /* trades this long after a session close join its last bar */
#define BARS_SESSION_S 86400    /* period value meaning "one bar per session" */

typedef struct bus bus;

/* FFI-BEGIN */
typedef struct bars bars;

typedef struct bars_stats {
    uint64_t ticks;      /* ticks aggregated into bars */
    uint64_t bars;       /* bars finished */
    uint64_t simtrade;   /* trial-match ticks ignored */
    uint64_t oddlot;     /* odd-lot ticks ignored */
    uint64_t outside;    /* ticks outside every session */
    uint64_t late;       /* ticks older than a bar already finished */
    uint64_t invalid;    /* ticks without instrument id or with a price <= 0 */
    uint64_t published;  /* bars published on the bus (bars_attach) */
    uint64_t saturated;  /* bars whose amount or VWAP sum hit the int64 limit (see below) */
} bars_stats;

/* periods: comma-separated list, each "N" (seconds), "Ns", "Nm", "Nh" or "D"
 * (session bar), e.g. "1m,5m,D". grace_ms: how far the stream's exchange
 * time must pass a bar's end before the bar is finished (0 = at once).
 * NULL and err on a bad list. */
bars *bars_new(const char *periods, int grace_ms, char *err, size_t errlen);
void bars_free(bars *b);

/* Feed any event: ticks/quotes are aggregated; every event advances the
 * stream clock; a STATUS SESSION_CLOSE for the whole source ("" code)
 * finishes every open bar. BAR events are ignored. Returns bars_pending()
 * (one FFI call per event instead of two on the Lua hot path). */
size_t bars_feed(bars *b, const shj_event *ev);
/* Finish every open bar now (end of data). */
void bars_flush(bars *b);
/* Finished bars waiting in the queue. */
size_t bars_pending(const bars *b);
/* Move up to max finished bars into out[], oldest first; returns how many. */
size_t bars_take(bars *b, shj_event *out, size_t max);
void bars_get_stats(const bars *b, bars_stats *out);

/* Session of an exchange time: 0 and the session's [open, close) in UTC ns,
 * or -1 when t is outside every session of that exchange (the close grace
 * counts as inside). */
int bars_session(int exchange, int64_t ts_exch_ns, int64_t *open_ns, int64_t *close_ns);

/* Publish finished bars on the runtime bus (rt_bus()) as SHJ_KIND_BAR events:
 * subscribes to every other kind, registers as an rt writer "bars" (polled,
 * status line, flushed at shutdown). rt owns b afterwards: do not free it. */
int bars_attach_rt(bars *b, char *err, size_t errlen);
/* FFI-END */

/* The same on any bus, without rt (tests). The caller calls bars_publish
 * after bus_dispatch to push what the ring had no room for, and frees b
 * (which unsubscribes) before bus_free. */
int bars_attach(bars *b, bus *bus, char *err, size_t errlen);
/* Publish queued bars on the attached bus while it has room; returns how many. */
size_t bars_publish(bars *b);

#endif
