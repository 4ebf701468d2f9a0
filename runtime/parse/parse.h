/* parse.h — Shioaji SSE payload (event name + JSON data) -> shj_event.
 *
 * The hottest code in Shijim: every live, simulated and replayed payload goes
 * through psr_parse. The JSON library choice lives only in parse.c (see the
 * DESIGN note there and bench/bench_parse.c for the measurement).
 *
 * Field mapping (Shioaji SSE name -> shj_event field):
 *   code, date+time (Taipei) -> code, ts_exch_ns (UTC)
 *   open high low close avg_price diff_price diff_rate amount amount_sum
 *   target_kind_price -> same names (underlying_price), exact decimals
 *   volume vol_sum trade_bid_vol_sum trade_ask_vol_sum tick_type chg_type
 *   simtrade -> SHJ_FLAG_SIMTRADE, suspend -> SHJ_FLAG_SUSPENDED,
 *   intraday_odd -> SHJ_FLAG_ODDLOT
 *   bid_price[5] ask_price[5] bid_volume[5] ask_volume[5] diff_bid_vol[5]
 *   diff_ask_vol[5] -> same names
 * Unknown fields are skipped (the raw archive keeps the payload as delivered).
 * A missing required field (code, date, time, close for ticks; the price and
 * volume arrays for bid/ask) makes the payload malformed.
 */
#ifndef SHJ_PARSE_H
#define SHJ_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

/* The SSE event names Shioaji sends. Stored as one byte in the raw archive:
 * values are stable. */
typedef enum {
    PSR_TAG_UNKNOWN    = 0,
    PSR_TAG_TICK_STK   = 1,  /* "tick_stk" */
    PSR_TAG_BIDASK_STK = 2,  /* "bidask_stk" */
    PSR_TAG_TICK_FOP   = 3,  /* "tick_fop" */
    PSR_TAG_BIDASK_FOP = 4,  /* "bidask_fop" */
    PSR_TAG_QUOTE_STK  = 5,  /* "quote_stk" */
    PSR_TAG_QUOTE_FOP  = 6,  /* "quote_fop" */
    PSR_TAG_HEARTBEAT  = 7,  /* "heartbeat" */
    PSR_TAG_MAX        = 8
} psr_tag;

/* Result of psr_parse. */
#define PSR_EVENT 0       /* *out holds a market event */
#define PSR_MALFORMED -1  /* err names the field and the problem */
#define PSR_CONTROL 1     /* a heartbeat or other non-market payload: nothing to publish */

/* SSE event name (not NUL-terminated) -> tag; PSR_TAG_UNKNOWN if not ours. */
psr_tag psr_tag_from_name(const char *name, size_t len);
/* tag -> SSE event name ("tick_stk"); "unknown" for PSR_TAG_UNKNOWN. */
const char *psr_tag_name(int tag);

/* Parse one payload. Fills every field of *out the payload defines, zeroes the
 * rest, sets kind/sec_type/exchange defaults from the tag, code, ts_exch_ns,
 * flags and inst_id (via inst_intern). Does NOT set seq, ts_recv_ns,
 * source_id: the source does. json need not be NUL-terminated. */
int psr_parse(int tag, const char *json, size_t len, shj_event *out, char *err, size_t errlen);

/* psr_parse in two halves, for parsing off the loop thread (replay's
 * read-ahead threads). psr_parse(...) == psr_parse_payload(...) followed,
 * on PSR_EVENT, by psr_resolve(out): same event, same errors.
 *
 * psr_parse_payload is thread-safe: it reads only its arguments and keeps
 * its memo (the last date seen) in *memo, which one thread at a time may
 * use (zero it before the first call). It leaves inst_id 0 and exchange /
 * sec_type at the tag's defaults. */
typedef struct psr_memo {
    uint64_t date_lo, date_hi; /* the last valid "YYYY-MM-DD" seen (bytes 0..8, 8..10) */
    int64_t day_ns;            /* its Taipei midnight, UTC ns */
} psr_memo;
int psr_parse_payload(psr_memo *memo, int tag, const char *json, size_t len, shj_event *out,
                      char *err, size_t errlen);
/* Loop thread only (the instrument table): sets ev->inst_id, and exchange /
 * sec_type from the instrument's record when it knows better. PSR_EVENT, or
 * PSR_MALFORMED when the instrument table is full. */
int psr_resolve(shj_event *ev, char *err, size_t errlen);

#endif
