/* parse.h — Shioaji SSE payload (event name + JSON data) -> shj_event.
 *
 * The hottest code in Shijim: every live, simulated and replayed payload goes
 * through psr_parse. The JSON library choice lives only in parse.c (see the
 * DESIGN note there and bench/bench_parse.c for the measurement).
 *
 * Field mapping (Shioaji SSE name -> shj_event field). Both the names of
 * Shioaji 1.7.x (first) and of 1.5.0 (second) are read; docs/shioaji-payloads.md
 * cites the samples, tests/fixtures/sinopac/sse/ holds them:
 *   code, date+time (Taipei) -> code, ts_exch_ns (UTC)
 *   open high low close avg_price amount -> same names, exact decimals
 *   total_amount | amount_sum -> amount_sum
 *   price_chg | diff_price -> diff_price
 *   pct_chg | diff_rate -> diff_rate, in percent. Stock payloads send an
 *     integer in hundredths of a percent (33 = 0.33 %), futures/options a
 *     decimal string in percent ("1.206261"): see psr_pct below.
 *   underlying_price | target_kind_price -> underlying_price
 *   volume; total_volume | vol_sum -> vol_sum
 *   bid_side_total_vol | trade_bid_vol_sum, ask_side_total_vol |
 *   trade_ask_vol_sum -> bid_side_vol_sum, ask_side_vol_sum
 *   tick_type; chg_type | diff_type -> chg_type
 *   simtrade -> SHJ_FLAG_SIMTRADE, suspend -> SHJ_FLAG_SUSPENDED,
 *   intraday_odd -> SHJ_FLAG_ODDLOT
 *   bid_price[5] ask_price[5] bid_volume[5] ask_volume[5] diff_bid_vol[5]
 *   diff_ask_vol[5] -> same names
 *   quote_idx (index quotes): the upstream PascalCase names Date Time Open
 *     High Low Close Amount AmountSum Volume VolSum (or their lower-case
 *     spellings) -> as above; sec_type SHJ_SEC_IND, kind SHJ_KIND_QUOTE.
 *
 * What costs an event, and what does not:
 *  - Only a missing or broken code, date, time or trade price (close) — and
 *    for a book, a missing price/volume array — makes a payload malformed;
 *    so does JSON that is not well-formed.
 *  - Any other known field whose value cannot be represented (more decimals
 *    than SHJ_PRICE_DECIMALS, out of range, wrong JSON type) is left 0 and
 *    the event is published with SHJ_FLAG_FIELD_LOST (the raw archive keeps
 *    the payload text).
 *    err then names the (last) field lost and why, for a log line.
 *  - Unknown fields are skipped and cost nothing.
 *
 * Quotes: quote_stk / quote_fop carry a trade AND a 5-level book, and one
 * shj_event holds one or the other (the union). So a quote payload gives two
 * events with the same seq, published in this order: the QUOTE (trade half,
 * psr_parse) and a BIDASK whose payload_tag is the quote's (psr_parse_book).
 * Replay publishes the same pair (src_deliver_* in loop/source.c).
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
    PSR_TAG_QUOTE_IDX  = 8,  /* "quote_idx": index quotes, PascalCase fields */
    PSR_TAG_ORDER_EVENT = 9, /* "order_event": order/deal reports (archived, not market data) */
    PSR_TAG_CONTRACT_EVENT = 10, /* "contract_event": contract changes (archived, not market data) */
    PSR_TAG_MAX        = 11
} psr_tag;

/* Result of psr_parse. */
#define PSR_EVENT 0       /* *out holds a market event */
#define PSR_MALFORMED -1  /* err names the field and the problem */
#define PSR_CONTROL 1     /* a heartbeat: nothing to publish */
#define PSR_OTHER 2       /* not market data (order_event, contract_event, an unknown
                           * event name): archived and counted as "other", never as bad */

/* SSE event name (not NUL-terminated) -> tag; PSR_TAG_UNKNOWN if not ours. */
psr_tag psr_tag_from_name(const char *name, size_t len);
/* tag -> SSE event name ("tick_stk"); "unknown" for PSR_TAG_UNKNOWN. */
const char *psr_tag_name(int tag);

/* Non-zero for the tags whose payload also gives a BIDASK (quote_stk, quote_fop). */
static inline int psr_tag_has_book(int tag) {
    return tag == PSR_TAG_QUOTE_STK || tag == PSR_TAG_QUOTE_FOP;
}

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

/* The book half of a quote payload (psr_tag_has_book(tag)): a BIDASK event
 * with payload_tag = tag, the quote's code/time/flags and its arrays,
 * resolved like psr_parse. PSR_EVENT; PSR_CONTROL when the payload carries no
 * book (no price/volume arrays: nothing to publish); PSR_MALFORMED as
 * psr_parse. Loop thread only. */
int psr_parse_book(int tag, const char *json, size_t len, shj_event *out, char *err, size_t errlen);

#endif
