/* ch_rowbinary.h — shj_event <-> ClickHouse RowBinary rows.
 *
 * Owns: the byte layout of one row of each table in ch_schema.h's column
 * order. Prices go over the wire exactly as held: Decimal64(SHJ_PRICE_DECIMALS)
 * is the event's scaled int64 (× SHJ_PRICE_SCALE) written little-endian, with
 * no conversion at all (so the table's scale must match: chs_check_columns).
 * dt (DateTime, UInt32 seconds) and day (Date, UInt16 days; the Asia/Taipei
 * calendar date) are derived from ts here so that the server needs no
 * function evaluation per row.
 *
 * The decoder is the exact inverse for every stored field; the writer uses
 * it to turn a failed batch back into events for the JSONL fallback, so a
 * batch is held in memory once, in its compact wire form.
 */
#ifndef SHJ_CH_ROWBINARY_H
#define SHJ_CH_ROWBINARY_H

#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_schema.h"
#include "core/bytebuf.h"
#include "core/shj_event.h"

#define CHB_ROW_MAX 512 /* bytes: an upper bound of one encoded row of any table */

/* The growable byte buffer is core/bytebuf.h's; chb_buf and chb_init/free/
 * reserve/append are its ClickHouse-side names (same struct, same calls). */
typedef bb_buf chb_buf;

void chb_init(chb_buf *b);
void chb_free(chb_buf *b);
/* Make room for extra more bytes. SHJ_OK or SHJ_ERR (out of memory). */
int chb_reserve(chb_buf *b, size_t extra);
int chb_append(chb_buf *b, const void *p, size_t n);

/* Days since 1970-01-01 of the Asia/Taipei calendar date of a UTC ns time. */
int64_t chb_taipei_day(int64_t ts_ns);
/* The trading_day column: ses_trading_day (core/session.h) of the exchange time. */
int64_t chb_trading_day(int64_t ts_ns);

/* Append the row for ev (table chosen by ev->kind). SHJ_OK, SHJ_ERR when the
 * kind is not stored (see chs_table_for_kind) or memory ran out. */
int chb_encode(chb_buf *b, const shj_event *ev);
/* The same, with `source` = source instead of ev->source_id (a gateway's
 * ClickHouse source number, chw_opts.source_number). */
int chb_encode_as(chb_buf *b, const shj_event *ev, uint16_t source);

/* Decode one row of table t from p[0..n). Fills *out (zeroing it first) and
 * *used. SHJ_OK, or SHJ_ERR when the bytes are short or malformed. */
int chb_decode(chs_table t, const uint8_t *p, size_t n, size_t *used, shj_event *out);

#endif
