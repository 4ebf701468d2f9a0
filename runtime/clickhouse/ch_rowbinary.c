/* ch_rowbinary.c — RowBinary encoding/decoding of stored events (see ch_rowbinary.h).
 *
 * Hot path of the writer: one chb_reserve per row, then plain stores.
 * Integers are written with memcpy of the host value, which is the wire's
 * little-endian on every platform we build for (asserted below).
 */
#include "clickhouse/ch_rowbinary.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ch_rowbinary.c assumes a little-endian host (RowBinary is little-endian)"
#endif

void chb_init(chb_buf *b) { bb_init(b); }
void chb_free(chb_buf *b) { bb_free(b); }
int chb_reserve(chb_buf *b, size_t extra) { return bb_reserve(b, extra) == 0 ? SHJ_OK : SHJ_ERR; }
int chb_append(chb_buf *b, const void *p, size_t n) { return bb_append(b, p, n) == 0 ? SHJ_OK : SHJ_ERR; }

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t chb_taipei_day(int64_t ts_ns) { return clk_taipei_day(ts_ns); }
int64_t chb_trading_day(int64_t ts_ns) { return ses_trading_day(ts_ns); }

static uint16_t date16(int64_t days) { return days < 0 ? 0 : days > 65535 ? 65535 : (uint16_t)days; }

/* ---- encoding ----------------------------------------------------------- */

#define PUT(p, v)                          \
    do {                                   \
        __typeof__(v) put_v_ = (v);        \
        memcpy((p), &put_v_, sizeof put_v_); \
        (p) += sizeof put_v_;              \
    } while (0)

static uint8_t *put_header(uint8_t *p, const shj_event *ev, uint16_t source, int with_kind) {
    size_t n = strnlen(ev->code, sizeof ev->code);
    *p++ = (uint8_t)n; /* LEB128 of n < 128 is one byte */
    memcpy(p, ev->code, n);
    p += n;
    *p++ = ev->exchange;
    *p++ = ev->sec_type;
    if (with_kind) *p++ = ev->kind;
    PUT(p, (int64_t)ev->ts_exch_ns);
    PUT(p, (int64_t)ev->ts_recv_ns);
    int64_t secs = floor_div(ev->ts_exch_ns, 1000000000LL);
    uint32_t dt = secs < 0 ? 0 : secs > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)secs;
    PUT(p, dt);
    PUT(p, date16(chb_taipei_day(ev->ts_exch_ns)));
    /* trading_day: core/session's rule on the exchange time (never the receive time) */
    PUT(p, date16(chb_trading_day(ev->ts_exch_ns)));
    PUT(p, source);
    PUT(p, (uint64_t)ev->seq);
    PUT(p, (uint32_t)ev->flags);
    return p;
}

int chb_encode(chb_buf *b, const shj_event *ev) { return chb_encode_as(b, ev, ev->source_id); }

int chb_encode_as(chb_buf *b, const shj_event *ev, uint16_t source) {
    int t = chs_table_for_kind(ev->kind);
    if (t < 0) return SHJ_ERR;
    if (chb_reserve(b, CHB_ROW_MAX) != SHJ_OK) return SHJ_ERR;
    uint8_t *p = put_header(b->data + b->len, ev, source, t == CHS_TICKS);
    if (t == CHS_TICKS) {
        PUT(p, ev->open);
        PUT(p, ev->high);
        PUT(p, ev->low);
        PUT(p, ev->close);
        PUT(p, ev->avg_price);
        PUT(p, ev->diff_price);
        PUT(p, ev->diff_rate);
        PUT(p, ev->amount);
        PUT(p, ev->amount_sum);
        PUT(p, ev->underlying_price);
        PUT(p, ev->volume);
        PUT(p, ev->vol_sum);
        PUT(p, ev->bid_side_vol_sum);
        PUT(p, ev->ask_side_vol_sum);
        PUT(p, ev->tick_type);
        PUT(p, ev->chg_type);
    } else {
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->bid_price, sizeof ev->bid_price);
        p += sizeof ev->bid_price;
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->ask_price, sizeof ev->ask_price);
        p += sizeof ev->ask_price;
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->bid_volume, sizeof ev->bid_volume);
        p += sizeof ev->bid_volume;
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->ask_volume, sizeof ev->ask_volume);
        p += sizeof ev->ask_volume;
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->diff_bid_vol, sizeof ev->diff_bid_vol);
        p += sizeof ev->diff_bid_vol;
        *p++ = SHJ_LEVELS;
        memcpy(p, ev->diff_ask_vol, sizeof ev->diff_ask_vol);
        p += sizeof ev->diff_ask_vol;
    }
    b->len = (size_t)(p - b->data);
    return SHJ_OK;
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static void take(rd *r, void *dst, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
}

static uint8_t take_u8(rd *r) {
    uint8_t v;
    take(r, &v, 1);
    return v;
}

static void take_array(rd *r, void *dst, size_t elem, size_t count) {
    if (take_u8(r) != count) r->bad = 1;
    take(r, dst, elem * count);
}

int chb_decode(chs_table t, const uint8_t *p, size_t n, size_t *used, shj_event *ev) {
    memset(ev, 0, sizeof *ev);
    rd r = {p, p + n, 0};
    uint8_t len = take_u8(&r);
    if (len >= sizeof ev->code) return SHJ_ERR;
    take(&r, ev->code, len);
    ev->exchange = take_u8(&r);
    ev->sec_type = take_u8(&r);
    ev->kind = t == CHS_TICKS ? take_u8(&r) : SHJ_KIND_BIDASK;
    take(&r, &ev->ts_exch_ns, 8);
    take(&r, &ev->ts_recv_ns, 8);
    uint8_t derived[8]; /* dt + day + trading_day: recomputed from ts, not stored in the event */
    take(&r, derived, sizeof derived);
    take(&r, &ev->source_id, 2);
    take(&r, &ev->seq, 8);
    take(&r, &ev->flags, 4);
    if (t == CHS_TICKS) {
        take(&r, &ev->open, 8);
        take(&r, &ev->high, 8);
        take(&r, &ev->low, 8);
        take(&r, &ev->close, 8);
        take(&r, &ev->avg_price, 8);
        take(&r, &ev->diff_price, 8);
        take(&r, &ev->diff_rate, 8);
        take(&r, &ev->amount, 8);
        take(&r, &ev->amount_sum, 8);
        take(&r, &ev->underlying_price, 8);
        take(&r, &ev->volume, 4);
        take(&r, &ev->vol_sum, 8);
        take(&r, &ev->bid_side_vol_sum, 8);
        take(&r, &ev->ask_side_vol_sum, 8);
        take(&r, &ev->tick_type, 1);
        take(&r, &ev->chg_type, 1);
        if (ev->kind != SHJ_KIND_TICK && ev->kind != SHJ_KIND_QUOTE) r.bad = 1;
    } else if (t == CHS_BIDASKS) {
        take_array(&r, ev->bid_price, 8, SHJ_LEVELS);
        take_array(&r, ev->ask_price, 8, SHJ_LEVELS);
        take_array(&r, ev->bid_volume, 4, SHJ_LEVELS);
        take_array(&r, ev->ask_volume, 4, SHJ_LEVELS);
        take_array(&r, ev->diff_bid_vol, 4, SHJ_LEVELS);
        take_array(&r, ev->diff_ask_vol, 4, SHJ_LEVELS);
    } else {
        r.bad = 1;
    }
    if (r.bad) return SHJ_ERR;
    *used = (size_t)(r.p - p);
    return SHJ_OK;
}
