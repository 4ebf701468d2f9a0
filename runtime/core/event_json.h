/* event_json.h — one normalized shj_event -> one JSON object (text).
 *
 * Used by `shijim` logs, the JSONL/stdout sink and the ClickHouse fallback
 * files. The object is what ClickHouse 18.16 `FORMAT JSONEachRow` takes:
 * prices are UNQUOTED exact decimals written by dec_format ("close":585.5,
 * never via a double), volumes and times are integers (ns UTC), plus an ISO
 * UTC "time" for humans. Field order is fixed:
 *   {"kind","code","exchange","sec_type","ts","recv_ts","time","seq",
 *    "source_id","flags", then the kind's fields}
 * tick/quote/bar: open high low close avg_price diff_price diff_rate amount
 *   amount_sum underlying_price (decimals), volume vol_sum bid_side_vol_sum
 *   ask_side_vol_sum tick_type chg_type (integers); bar adds bar_start
 *   period_s trades.
 * bidask: bid_price ask_price (arrays of 5 decimals), bid_volume ask_volume
 *   diff_bid_vol diff_ask_vol (arrays of 5 integers).
 * status: status (name), status_code, http_status, gap_start, gap_end,
 *   detail (JSON-escaped).
 * Thread-safe: no state.
 */
#ifndef SHJ_EVENT_JSON_H
#define SHJ_EVENT_JSON_H

#include <stddef.h>

#include "core/shj_event.h"

/* Write the object (no newline) and a NUL into buf[cap]. Returns its length
 * (NUL not counted), or 0 if cap is too small (buf then holds ""; nothing is
 * ever written past buf[cap-1]). EVJ_MAX bytes always suffice. */
size_t evj_format(const shj_event *ev, char *buf, size_t cap);

#define EVJ_MAX 2048 /* a buffer this size always holds evj_format's output */

/* The names of kinds, exchanges, security types and statuses: core/names.h. */

#endif
