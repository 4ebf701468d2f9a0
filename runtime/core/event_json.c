/* event_json.c — shj_event -> one JSON object (see event_json.h).
 *
 * Guarantees: output is valid JSON (strings escaped, control bytes as \u00XX,
 * bytes >= 0x80 passed through); prices are exact (dec_format, no double);
 * never writes past buf[cap-1]; the fields read from fixed char arrays (code,
 * detail) are bounded even when a producer forgot their NUL.
 * Hand-rolled appends instead of snprintf: this runs per event in the JSONL
 * sink, and snprintf's format parsing would dominate.
 */
#include "core/event_json.h"

#include <string.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "core/names.h"

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int over; /* sticky: something did not fit */
} wbuf;

static void put(wbuf *w, const char *s, size_t n) {
    if (w->over || n >= w->cap - w->len) { /* keep one byte for the NUL */
        w->over = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

#define PUTL(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_i64(wbuf *w, int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (v < 0) tmp[sizeof tmp - 1 - n++] = '-';
    put(w, tmp + sizeof tmp - n, n);
}

static void put_u64(wbuf *w, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, tmp + sizeof tmp - n, n);
}

static void put_dec(wbuf *w, int64_t v) {
    char tmp[24];
    put(w, tmp, dec_format(v, tmp));
}

/* A JSON string from s[0..n), escaped. */
static void put_str(wbuf *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    PUTL(w, "\"");
    size_t run = 0; /* bytes copied as they are, flushed in one put */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        put(w, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            k = 6;
        }
        put(w, esc, k);
    }
    put(w, s + n - run, run);
    PUTL(w, "\"");
}

/* ,"name": */
static void key(wbuf *w, const char *name) {
    PUTL(w, ",\"");
    put(w, name, strlen(name));
    PUTL(w, "\":");
}

static void kv_dec(wbuf *w, const char *name, int64_t v) {
    key(w, name);
    put_dec(w, v);
}

static void kv_i64(wbuf *w, const char *name, int64_t v) {
    key(w, name);
    put_i64(w, v);
}

static void kv_dec_arr(wbuf *w, const char *name, const int64_t *v) {
    key(w, name);
    PUTL(w, "[");
    for (int i = 0; i < SHJ_LEVELS; i++) {
        if (i) PUTL(w, ",");
        put_dec(w, v[i]);
    }
    PUTL(w, "]");
}

static void kv_i32_arr(wbuf *w, const char *name, const int32_t *v) {
    key(w, name);
    PUTL(w, "[");
    for (int i = 0; i < SHJ_LEVELS; i++) {
        if (i) PUTL(w, ",");
        put_i64(w, v[i]);
    }
    PUTL(w, "]");
}

static void kv_name(wbuf *w, const char *name, const char *val) {
    key(w, name);
    put_str(w, val, strlen(val));
}

size_t evj_format(const shj_event *ev, char *buf, size_t cap) {
    if (!buf || cap == 0) return 0;
    wbuf w = {buf, cap, 0, 0};
    char iso[31];
    PUTL(&w, "{\"kind\":");
    put_str(&w, nm_kind(ev->kind), strlen(nm_kind(ev->kind)));
    key(&w, "code");
    put_str(&w, ev->code, strnlen(ev->code, sizeof ev->code));
    kv_name(&w, "exchange", nm_exchange(ev->exchange));
    kv_name(&w, "sec_type", nm_sec_type(ev->sec_type));
    kv_i64(&w, "ts", ev->ts_exch_ns);
    kv_i64(&w, "recv_ts", ev->ts_recv_ns);
    clk_utc_iso(ev->ts_exch_ns, iso);
    kv_name(&w, "time", iso);
    key(&w, "seq");
    put_u64(&w, ev->seq);
    kv_i64(&w, "source_id", ev->source_id);
    kv_i64(&w, "flags", ev->flags);

    switch (ev->kind) {
    case SHJ_KIND_TICK:
    case SHJ_KIND_QUOTE:
    case SHJ_KIND_BAR:
        kv_dec(&w, "open", ev->open);
        kv_dec(&w, "high", ev->high);
        kv_dec(&w, "low", ev->low);
        kv_dec(&w, "close", ev->close);
        kv_dec(&w, "avg_price", ev->avg_price);
        kv_dec(&w, "diff_price", ev->diff_price);
        kv_dec(&w, "diff_rate", ev->diff_rate);
        kv_dec(&w, "amount", ev->amount);
        kv_dec(&w, "amount_sum", ev->amount_sum);
        kv_dec(&w, "underlying_price", ev->underlying_price);
        kv_i64(&w, "volume", ev->volume);
        kv_i64(&w, "vol_sum", ev->vol_sum);
        kv_i64(&w, "bid_side_vol_sum", ev->bid_side_vol_sum);
        kv_i64(&w, "ask_side_vol_sum", ev->ask_side_vol_sum);
        kv_i64(&w, "tick_type", ev->tick_type);
        kv_i64(&w, "chg_type", ev->chg_type);
        if (ev->kind == SHJ_KIND_BAR) {
            kv_i64(&w, "bar_start", ev->bar_start_ns);
            kv_i64(&w, "period_s", ev->period_s);
            kv_i64(&w, "trades", ev->trades);
        }
        break;
    case SHJ_KIND_BIDASK:
        kv_dec_arr(&w, "bid_price", ev->bid_price);
        kv_dec_arr(&w, "ask_price", ev->ask_price);
        kv_i32_arr(&w, "bid_volume", ev->bid_volume);
        kv_i32_arr(&w, "ask_volume", ev->ask_volume);
        kv_i32_arr(&w, "diff_bid_vol", ev->diff_bid_vol);
        kv_i32_arr(&w, "diff_ask_vol", ev->diff_ask_vol);
        break;
    case SHJ_KIND_STATUS:
        kv_name(&w, "status", nm_status(ev->status));
        kv_i64(&w, "status_code", ev->status);
        kv_i64(&w, "http_status", ev->http_status);
        kv_i64(&w, "gap_start", ev->gap_start_ns);
        kv_i64(&w, "gap_end", ev->gap_end_ns);
        key(&w, "detail");
        put_str(&w, ev->detail, strnlen(ev->detail, sizeof ev->detail));
        break;
    default: break;
    }
    PUTL(&w, "}");
    if (w.over) {
        buf[0] = '\0';
        return 0;
    }
    buf[w.len] = '\0';
    return w.len;
}
