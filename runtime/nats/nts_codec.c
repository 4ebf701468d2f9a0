/* nts_codec.c — the binary event form, subjects and dedup ids (nts_codec.h).
 *
 * Varints (LEB128, 7 bits a byte) with zigzag for signed fields: a tick of a
 * stock is ~60 bytes instead of the event's 256, and a zero field costs one
 * byte. The order of fields is the layout; docs/nats.md lists it.
 */
#include <stdio.h>
#include <string.h>

#include "core/names.h"
#include "core/shj_common.h"
#include "nats/nts_codec.h"

/* Writing ----------------------------------------------------------------- */

static unsigned char *put_u(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *put_s(unsigned char *p, int64_t v) {
    return put_u(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static unsigned char *put_text(unsigned char *p, const char *s, size_t max) {
    size_t n = strnlen(s, max);
    *p++ = (unsigned char)n;
    memcpy(p, s, n);
    return p + n;
}

size_t nts_encode(const shj_event *ev, unsigned char *buf) {
    unsigned char *p = buf;
    *p++ = NTS_BIN_VERSION;
    *p++ = ev->kind;
    *p++ = ev->exchange;
    *p++ = ev->sec_type;
    *p++ = ev->payload_tag;
    p = put_u(p, ev->flags);
    p = put_u(p, ev->source_id);
    p = put_text(p, ev->code, sizeof ev->code - 1);
    p = put_s(p, ev->ts_exch_ns);
    p = put_s(p, ev->ts_recv_ns);
    p = put_u(p, ev->seq);
    switch (ev->kind) {
    case SHJ_KIND_TICK:
    case SHJ_KIND_QUOTE:
    case SHJ_KIND_BAR: {
        const int64_t f[] = {ev->open, ev->high, ev->low, ev->close, ev->avg_price,
                             ev->diff_price, ev->diff_rate, ev->amount, ev->amount_sum,
                             ev->underlying_price, ev->vol_sum, ev->bid_side_vol_sum,
                             ev->ask_side_vol_sum, ev->bar_start_ns, ev->volume, ev->period_s,
                             ev->trades, ev->tick_type, ev->chg_type};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) p = put_s(p, f[i]);
        break;
    }
    case SHJ_KIND_BIDASK:
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->bid_price[i]);
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->ask_price[i]);
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->bid_volume[i]);
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->ask_volume[i]);
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->diff_bid_vol[i]);
        for (int i = 0; i < SHJ_LEVELS; i++) p = put_s(p, ev->diff_ask_vol[i]);
        break;
    case SHJ_KIND_STATUS:
        p = put_s(p, ev->status);
        p = put_s(p, ev->http_status);
        p = put_s(p, ev->gap_start_ns);
        p = put_s(p, ev->gap_end_ns);
        p = put_text(p, ev->detail, sizeof ev->detail - 1);
        break;
    default:
        break; /* header only */
    }
    return (size_t)(p - buf);
}

/* Reading ----------------------------------------------------------------- */

typedef struct rd {
    const unsigned char *p, *end;
    const char *field; /* the field being read, named in errors */
    int bad;
} rd;

static uint64_t get_u(rd *r, const char *field) {
    uint64_t v = 0;
    for (int shift = 0; !r->bad && shift < 64; shift += 7) {
        if (r->p >= r->end) break;
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    if (!r->bad) r->field = field;
    r->bad = 1;
    return 0;
}

static int64_t get_s(rd *r, const char *field) {
    uint64_t u = get_u(r, field);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static uint8_t get_b(rd *r, const char *field) {
    if (r->bad || r->p >= r->end) {
        if (!r->bad) r->field = field;
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static void get_text(rd *r, char *out, size_t cap, const char *field) {
    size_t n = get_b(r, field);
    if (r->bad) return;
    if (n >= cap || (size_t)(r->end - r->p) < n) {
        r->field = field;
        r->bad = 1;
        return;
    }
    memcpy(out, r->p, n);
    out[n] = 0;
    r->p += n;
}

int nts_decode(const void *data, size_t len, shj_event *ev, char *err, size_t errlen) {
    rd r = {.p = data, .end = (const unsigned char *)data + len};
    shj_event e;
    memset(&e, 0, sizeof e);
    uint8_t version = get_b(&r, "version");
    if (!r.bad && version != NTS_BIN_VERSION)
        return shj_fail(err, errlen, "nats message: binary version %u (this reader knows %d)",
                        version, NTS_BIN_VERSION);
    e.kind = get_b(&r, "kind");
    e.exchange = get_b(&r, "exchange");
    e.sec_type = get_b(&r, "sec_type");
    e.payload_tag = get_b(&r, "payload_tag");
    e.flags = (uint32_t)get_u(&r, "flags");
    e.source_id = (uint16_t)get_u(&r, "source_id");
    get_text(&r, e.code, sizeof e.code, "code");
    e.ts_exch_ns = get_s(&r, "ts_exch_ns");
    e.ts_recv_ns = get_s(&r, "ts_recv_ns");
    e.seq = get_u(&r, "seq");
    switch (e.kind) {
    case SHJ_KIND_TICK:
    case SHJ_KIND_QUOTE:
    case SHJ_KIND_BAR: {
        int64_t *f[] = {&e.open, &e.high, &e.low, &e.close, &e.avg_price, &e.diff_price,
                        &e.diff_rate, &e.amount, &e.amount_sum, &e.underlying_price, &e.vol_sum,
                        &e.bid_side_vol_sum, &e.ask_side_vol_sum, &e.bar_start_ns};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) *f[i] = get_s(&r, "tick price fields");
        e.volume = (int32_t)get_s(&r, "volume");
        e.period_s = (int32_t)get_s(&r, "period_s");
        e.trades = (int32_t)get_s(&r, "trades");
        e.tick_type = (int8_t)get_s(&r, "tick_type");
        e.chg_type = (int8_t)get_s(&r, "chg_type");
        break;
    }
    case SHJ_KIND_BIDASK:
        for (int i = 0; i < SHJ_LEVELS; i++) e.bid_price[i] = get_s(&r, "bid_price");
        for (int i = 0; i < SHJ_LEVELS; i++) e.ask_price[i] = get_s(&r, "ask_price");
        for (int i = 0; i < SHJ_LEVELS; i++) e.bid_volume[i] = (int32_t)get_s(&r, "bid_volume");
        for (int i = 0; i < SHJ_LEVELS; i++) e.ask_volume[i] = (int32_t)get_s(&r, "ask_volume");
        for (int i = 0; i < SHJ_LEVELS; i++) e.diff_bid_vol[i] = (int32_t)get_s(&r, "diff_bid_vol");
        for (int i = 0; i < SHJ_LEVELS; i++) e.diff_ask_vol[i] = (int32_t)get_s(&r, "diff_ask_vol");
        break;
    case SHJ_KIND_STATUS:
        e.status = (int32_t)get_s(&r, "status");
        e.http_status = (int32_t)get_s(&r, "http_status");
        e.gap_start_ns = get_s(&r, "gap_start_ns");
        e.gap_end_ns = get_s(&r, "gap_end_ns");
        get_text(&r, e.detail, sizeof e.detail, "detail");
        break;
    default:
        break;
    }
    if (r.bad)
        return shj_fail(err, errlen, "nats message (%zu bytes, kind %u): field %s cut short or too long",
                        len, e.kind, r.field ? r.field : "?");
    *ev = e;
    return SHJ_OK;
}

/* Names ------------------------------------------------------------------- */

size_t nts_subject(const shj_event *ev, const char *prefix, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s.%s.%s.", prefix && *prefix ? prefix : "shijim",
                     nm_kind(ev->kind), nm_exchange(ev->exchange));
    if (n < 0 || (size_t)n >= cap) return 0;
    size_t len = (size_t)n;
    size_t clen = strnlen(ev->code, sizeof ev->code - 1);
    if (clen == 0) {
        if (len + 2 > cap) return 0;
        buf[len++] = '_'; /* a status for the whole source: no code */
    }
    for (size_t i = 0; i < clen && len + 1 < cap; i++) {
        char c = ev->code[i];
        buf[len++] = (c == '.' || c == '*' || c == '>' || c <= ' ' || c == 127) ? '_' : c;
    }
    buf[len] = 0;
    return len;
}

size_t nts_msg_id(const shj_event *ev, const char *gateway, const char *source, char *buf,
                  size_t cap) {
    int n = snprintf(buf, cap, "%.64s:%.32s:%llu:%s:%lld", gateway, source,
                     (unsigned long long)ev->seq, nm_kind(ev->kind), (long long)ev->ts_recv_ns);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}
