/* parse.c — Shioaji SSE payload (tag + JSON) -> shj_event (see parse.h).
 *
 * Owns: the JSON reading of every live, simulated and replayed payload.
 * Guarantees:
 *  - never reads outside json[0..len) (the payload is not NUL-terminated);
 *  - accepts only well-formed JSON (RFC 8259 grammar: strings without raw
 *    control bytes, valid escapes, JSON numbers, nesting <= PSR_MAX_DEPTH) with
 *    one object at the top and nothing but whitespace after it;
 *  - prices are parsed from their decimal text straight into int64 × 10^4
 *    (js_dec_parse, the same code as dec_parse): no double anywhere;
 *  - on PSR_MALFORMED, err says which payload kind, which field and why, or
 *    the byte offset where the JSON went wrong.
 * Not thread-safe only because inst_intern is not: call it from the loop thread.
 *
 * DESIGN. The parser is a schema-specific scanner, not a DOM: it walks the
 * object's keys once, maps each key to a field id by its length and bytes
 * (a switch the compiler turns into a few integer compares), and converts
 * each known value in place into its shj_event slot; unknown values of any
 * type are skipped with a validating skipper. Nothing is allocated, no tree is
 * built, no string is copied except the code. Measured with
 * bench/bench_parse.c (1M pre-generated payloads, the doc's mix of tick_stk,
 * tick_fop, bidask_stk, bidask_fop; one core of the shared 2-core box, -O2):
 *     psr_parse                         ~9.0M events/s  (~110 ns/event)
 *     cJSON_ParseWithLength + extract   ~0.83M events/s (~1200 ns/event)
 * i.e. about 11x cJSON, whose cost is the DOM: a malloc per value and a
 * strdup per string, then a linear key search per field. A generic library
 * (cJSON, jansson) would also hand numbers over as double, which we must not
 * use for prices. simdjson would need C++ and a shim and still build a tape
 * we then walk; payloads are ~300-450 bytes, too short for its SIMD stage to
 * pay off against a scanner that touches each byte once.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "instrument.h"
#include "json_scan.h"
#include "shj_common.h"

#define PSR_MAX_DEPTH 64  /* nesting allowed inside skipped values */
#define PSR_ARRAY_MAX SHJ_LEVELS

/* ---------------------------------------------------------------------------
 * Fields we map. One id per event slot; the key spellings (SSE names and the
 * SDK v1 aliases) map onto them in field_of().
 * ------------------------------------------------------------------------- */
enum {
    F_UNKNOWN = 0,
    /* common */
    F_CODE, F_DATE, F_TIME, F_SIMTRADE, F_SUSPEND, F_ODD,
    /* tick / quote */
    F_OPEN, F_HIGH, F_LOW, F_CLOSE, F_AVG, F_DIFF_PRICE, F_DIFF_RATE, F_AMOUNT, F_AMOUNT_SUM,
    F_UNDERLYING, F_VOLUME, F_VOL_SUM, F_BID_SIDE, F_ASK_SIDE, F_TICK_TYPE, F_CHG_TYPE,
    /* bid/ask */
    F_BID_PRICE, F_ASK_PRICE, F_BID_VOLUME, F_ASK_VOLUME, F_DIFF_BID, F_DIFF_ASK,
    F_COUNT
};

#define FB(f) (1ull << (f))
#define F_FIRST_TICK F_OPEN
#define F_FIRST_BOOK F_BID_PRICE

/* How a field's value is read and where it goes. */
enum { T_CODE, T_DATE, T_TIME, T_FLAG, T_DEC, T_I64, T_I32, T_I8, T_ADEC, T_AI32 };

typedef struct {
    const char *name; /* canonical name, for "missing required field" */
    uint8_t type;
    uint16_t off;     /* offset in shj_event, or the flag bit for T_FLAG */
} field_def;

#define AT(m) ((uint16_t)offsetof(shj_event, m))
static const field_def fields[F_COUNT] = {
    [F_CODE] = {"code", T_CODE, 0},
    [F_DATE] = {"date", T_DATE, 0},
    [F_TIME] = {"time", T_TIME, 0},
    [F_SIMTRADE] = {"simtrade", T_FLAG, SHJ_FLAG_SIMTRADE},
    [F_SUSPEND] = {"suspend", T_FLAG, SHJ_FLAG_SUSPENDED},
    [F_ODD] = {"intraday_odd", T_FLAG, SHJ_FLAG_ODDLOT},
    [F_OPEN] = {"open", T_DEC, AT(open)},
    [F_HIGH] = {"high", T_DEC, AT(high)},
    [F_LOW] = {"low", T_DEC, AT(low)},
    [F_CLOSE] = {"close", T_DEC, AT(close)},
    [F_AVG] = {"avg_price", T_DEC, AT(avg_price)},
    [F_DIFF_PRICE] = {"diff_price", T_DEC, AT(diff_price)},
    [F_DIFF_RATE] = {"diff_rate", T_DEC, AT(diff_rate)},
    [F_AMOUNT] = {"amount", T_DEC, AT(amount)},
    [F_AMOUNT_SUM] = {"amount_sum", T_DEC, AT(amount_sum)},
    [F_UNDERLYING] = {"target_kind_price", T_DEC, AT(underlying_price)},
    [F_VOLUME] = {"volume", T_I32, AT(volume)},
    [F_VOL_SUM] = {"vol_sum", T_I64, AT(vol_sum)},
    [F_BID_SIDE] = {"trade_bid_vol_sum", T_I64, AT(bid_side_vol_sum)},
    [F_ASK_SIDE] = {"trade_ask_vol_sum", T_I64, AT(ask_side_vol_sum)},
    [F_TICK_TYPE] = {"tick_type", T_I8, AT(tick_type)},
    [F_CHG_TYPE] = {"chg_type", T_I8, AT(chg_type)},
    [F_BID_PRICE] = {"bid_price", T_ADEC, AT(bid_price)},
    [F_ASK_PRICE] = {"ask_price", T_ADEC, AT(ask_price)},
    [F_BID_VOLUME] = {"bid_volume", T_AI32, AT(bid_volume)},
    [F_ASK_VOLUME] = {"ask_volume", T_AI32, AT(ask_volume)},
    [F_DIFF_BID] = {"diff_bid_vol", T_AI32, AT(diff_bid_vol)},
    [F_DIFF_ASK] = {"diff_ask_vol", T_AI32, AT(diff_ask_vol)},
};

static const uint64_t REQ_TICK = FB(F_CODE) | FB(F_DATE) | FB(F_TIME) | FB(F_CLOSE) | FB(F_VOLUME);
static const uint64_t REQ_BOOK = FB(F_CODE) | FB(F_DATE) | FB(F_TIME) | FB(F_BID_PRICE) |
                                 FB(F_BID_VOLUME) | FB(F_ASK_PRICE) | FB(F_ASK_VOLUME);

#define KEY_IS(lit) (memcmp(k, lit, sizeof(lit) - 1) == 0)

/* Key -> field id. A switch on the length first, then fixed-size compares
 * (memcmp with a constant length compiles to one or two loads). */
static inline int field_of(const char *k, size_t n) {
    switch (n) {
    case 3: return KEY_IS("low") ? F_LOW : F_UNKNOWN;
    case 4:
        if (KEY_IS("code")) return F_CODE;
        if (KEY_IS("date")) return F_DATE;
        if (KEY_IS("time")) return F_TIME;
        if (KEY_IS("open")) return F_OPEN;
        if (KEY_IS("high")) return F_HIGH;
        return F_UNKNOWN;
    case 5: return KEY_IS("close") ? F_CLOSE : F_UNKNOWN;
    case 6:
        if (KEY_IS("volume")) return F_VOLUME;
        if (KEY_IS("amount")) return F_AMOUNT;
        return F_UNKNOWN;
    case 7:
        if (KEY_IS("vol_sum")) return F_VOL_SUM;
        if (KEY_IS("suspend")) return F_SUSPEND;
        if (KEY_IS("pct_chg")) return F_DIFF_RATE; /* SDK v1 name */
        return F_UNKNOWN;
    case 8:
        if (KEY_IS("simtrade")) return F_SIMTRADE;
        if (KEY_IS("chg_type")) return F_CHG_TYPE;
        return F_UNKNOWN;
    case 9:
        if (KEY_IS("bid_price")) return F_BID_PRICE;
        if (KEY_IS("ask_price")) return F_ASK_PRICE;
        if (KEY_IS("avg_price")) return F_AVG;
        if (KEY_IS("tick_type")) return F_TICK_TYPE;
        if (KEY_IS("diff_rate")) return F_DIFF_RATE;
        if (KEY_IS("price_chg")) return F_DIFF_PRICE; /* SDK v1 name */
        return F_UNKNOWN;
    case 10:
        if (KEY_IS("bid_volume")) return F_BID_VOLUME;
        if (KEY_IS("ask_volume")) return F_ASK_VOLUME;
        if (KEY_IS("diff_price")) return F_DIFF_PRICE;
        if (KEY_IS("amount_sum")) return F_AMOUNT_SUM;
        return F_UNKNOWN;
    case 12:
        if (KEY_IS("diff_bid_vol")) return F_DIFF_BID;
        if (KEY_IS("diff_ask_vol")) return F_DIFF_ASK;
        if (KEY_IS("intraday_odd")) return F_ODD;
        if (KEY_IS("total_volume")) return F_VOL_SUM;   /* SDK v1 name */
        if (KEY_IS("total_amount")) return F_AMOUNT_SUM; /* SDK v1 name */
        return F_UNKNOWN;
    case 16: return KEY_IS("underlying_price") ? F_UNDERLYING : F_UNKNOWN;
    case 17:
        if (KEY_IS("trade_bid_vol_sum")) return F_BID_SIDE;
        if (KEY_IS("trade_ask_vol_sum")) return F_ASK_SIDE;
        if (KEY_IS("target_kind_price")) return F_UNDERLYING;
        return F_UNKNOWN;
    case 18:
        if (KEY_IS("bid_side_total_vol")) return F_BID_SIDE; /* SDK v1 name */
        if (KEY_IS("ask_side_total_vol")) return F_ASK_SIDE; /* SDK v1 name */
        return F_UNKNOWN;
    default: return F_UNKNOWN;
    }
}

/* ---------------------------------------------------------------------------
 * Scanner state and errors
 * ------------------------------------------------------------------------- */
typedef struct {
    const char *p;     /* next byte */
    const char *end;   /* one past the last byte: never dereferenced */
    const char *base;  /* json, for byte offsets in errors */
    const char *tagname;
    char *err;
    size_t errlen;
    const char *key;   /* the current key as written (for field errors) */
    size_t keylen;
} scan;

static int fail(scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scan *s, const char *fmt, ...) {
    if (s->err && s->errlen) {
        int n = snprintf(s->err, s->errlen, "%s: ", s->tagname);
        if (n >= 0 && (size_t)n < s->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static size_t off(const scan *s) { return (size_t)(s->p - s->base); }

static int truncated(scan *s) { return fail(s, "truncated JSON at byte %zu", off(s)); }

/* The byte at p is wrong: say what it is and where. */
static int unexpected(scan *s, const char *what) {
    if (s->p >= s->end) return truncated(s);
    unsigned char ch = (unsigned char)*s->p;
    if (ch >= 0x20 && ch < 0x7f)
        return fail(s, "expected %s at byte %zu, found '%c'", what, off(s), ch);
    return fail(s, "expected %s at byte %zu, found byte 0x%02x", what, off(s), ch);
}

/* A printable, bounded copy of a value for error messages. */
static const char *shown(const char *v, size_t n, char out[48]) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < 40; i++) {
        unsigned char ch = (unsigned char)v[i];
        out[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (n > 40) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static int bad_value(scan *s, const char *what, const char *v, size_t n) {
    char buf[48];
    return fail(s, "field \"%.*s\": bad %s \"%s\"", (int)s->keylen, s->key, what, shown(v, n, buf));
}

/* ---------------------------------------------------------------------------
 * Lexical primitives. Each checks p < end before every read.
 * ------------------------------------------------------------------------- */
static inline void ws(scan *s) {
    const char *p = s->p, *e = s->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    s->p = p;
}

/* p is just past an opening quote. Sets [*str, *str + *n) to the raw body and
 * p past the closing quote; *esc tells whether the body holds escapes. */
static inline int string_body(scan *s, const char **str, size_t *n, int *esc) {
    const char *p = s->p, *e = s->end, *b = p;
    int has_esc = 0;
    for (;;) {
        if (p >= e) {
            s->p = p;
            return truncated(s);
        }
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') break;
        if (ch == '\\') {
            has_esc = 1;
            if (p + 1 >= e) {
                s->p = p + 1;
                return truncated(s);
            }
            char x = p[1];
            if (x == 'u') {
                for (int k = 2; k < 6; k++) {
                    if (p + k >= e) {
                        s->p = p + k;
                        return truncated(s);
                    }
                    if (js_hex(p[k]) < 0) {
                        s->p = p + k;
                        return unexpected(s, "a hex digit of a \\u escape");
                    }
                }
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", x) || x == '\0') {
                s->p = p + 1;
                return unexpected(s, "a valid escape");
            }
            p += 2;
            continue;
        }
        if (ch < 0x20) {
            s->p = p;
            return unexpected(s, "a string character (control bytes must be escaped)");
        }
        p++;
    }
    *str = b;
    *n = (size_t)(p - b);
    *esc = has_esc;
    s->p = p + 1;
    return 0;
}

/* A JSON number token starting at p; p moves past it. */
static inline int number_token(scan *s, const char **tok, size_t *n) {
    const char *p = s->p, *e = s->end, *b = p;
    if (p < e && *p == '-') p++;
    if (p >= e) goto trunc;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && js_is_digit(*p)) p++;
    } else {
        s->p = p;
        return unexpected(s, "a digit");
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e) goto trunc;
        if (!js_is_digit(*p)) {
            s->p = p;
            return unexpected(s, "a digit after '.'");
        }
        while (p < e && js_is_digit(*p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e) goto trunc;
        if (!js_is_digit(*p)) {
            s->p = p;
            return unexpected(s, "a digit of an exponent");
        }
        while (p < e && js_is_digit(*p)) p++;
    }
    *tok = b;
    *n = (size_t)(p - b);
    s->p = p;
    return 0;
trunc:
    s->p = p;
    return truncated(s);
}

/* One of true/false/null at p (lit is the whole word). */
static int literal(scan *s, const char *lit, size_t n) {
    size_t avail = (size_t)(s->end - s->p);
    size_t k = 0;
    while (k < n && k < avail && s->p[k] == lit[k]) k++;
    if (k == n) {
        s->p += n;
        return 0;
    }
    s->p += k;
    return k == avail ? truncated(s) : unexpected(s, "a JSON value");
}

/* Skip any JSON value, validating it. */
static int skip_value(scan *s, int depth) {
    if (s->p >= s->end) return truncated(s);
    const char *str;
    size_t n;
    int esc;
    switch (*s->p) {
    case '"':
        s->p++;
        return string_body(s, &str, &n, &esc);
    case '{':
    case '[': {
        char close = *s->p == '{' ? '}' : ']';
        int is_obj = close == '}';
        if (depth >= PSR_MAX_DEPTH)
            return fail(s, "JSON nested deeper than %d at byte %zu", PSR_MAX_DEPTH, off(s));
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        for (;;) {
            if (is_obj) {
                if (s->p >= s->end || *s->p != '"') return unexpected(s, "'\"' (a key)");
                s->p++;
                if (string_body(s, &str, &n, &esc) != 0) return -1;
                ws(s);
                if (s->p >= s->end || *s->p != ':') return unexpected(s, "':'");
                s->p++;
                ws(s);
            }
            if (skip_value(s, depth + 1) != 0) return -1;
            ws(s);
            if (s->p >= s->end) return truncated(s);
            if (*s->p == ',') {
                s->p++;
                ws(s);
                continue;
            }
            if (*s->p == close) {
                s->p++;
                return 0;
            }
            return unexpected(s, is_obj ? "',' or '}'" : "',' or ']'");
        }
    }
    case 't': return literal(s, "true", 4);
    case 'f': return literal(s, "false", 5);
    case 'n': return literal(s, "null", 4);
    default: return number_token(s, &str, &n);
    }
}

/* A scalar value as text: a string's (unescaped) body or a number token.
 * *kind: 's' string, 'n' number, '0' null. tmp receives unescaped bodies. */
static inline int scalar_text(scan *s, const char **v, size_t *n, char *kind, char *tmp,
                              size_t tmpcap) {
    if (s->p >= s->end) return truncated(s);
    char c = *s->p;
    if (c == '"') {
        int esc;
        s->p++;
        if (string_body(s, v, n, &esc) != 0) return -1;
        if (esc) {
            long k = js_unescape(*v, *n, tmp, tmpcap);
            if (k < 0) return bad_value(s, "string", *v, *n);
            *v = tmp;
            *n = (size_t)k;
        }
        *kind = 's';
        return 0;
    }
    if (c == '-' || js_is_digit(c)) {
        *kind = 'n';
        return number_token(s, v, n);
    }
    if (c == 'n') {
        *kind = '0';
        return literal(s, "null", 4);
    }
    return unexpected(s, "a string or a number");
}

/* ---------------------------------------------------------------------------
 * Typed values
 * ------------------------------------------------------------------------- */
static int read_dec(scan *s, int64_t *dst, int *present) {
    const char *v = NULL;
    size_t n = 0;
    char kind = 0, tmp[64];
    if (scalar_text(s, &v, &n, &kind, tmp, sizeof tmp) != 0) return -1;
    if (kind == '0') {
        *present = 0; /* null: the field is absent */
        return 0;
    }
    if (js_dec_parse(v, n, dst) != 0) return bad_value(s, "decimal", v, n);
    *present = 1;
    return 0;
}

static int read_int(scan *s, int64_t lo, int64_t hi, int64_t *dst, int *present) {
    const char *v = NULL;
    size_t n = 0;
    char kind = 0, tmp[64];
    if (scalar_text(s, &v, &n, &kind, tmp, sizeof tmp) != 0) return -1;
    if (kind == '0') {
        *present = 0;
        return 0;
    }
    if (js_int_parse(v, n, dst) != 0) return bad_value(s, "integer", v, n);
    if (*dst < lo || *dst > hi) return bad_value(s, "integer (out of range)", v, n);
    *present = 1;
    return 0;
}

static int read_flag(scan *s, int *on, int *present) {
    if (s->p >= s->end) return truncated(s);
    *present = 1;
    switch (*s->p) {
    case 't': *on = 1; return literal(s, "true", 4);
    case 'f': *on = 0; return literal(s, "false", 5);
    case 'n': *present = 0; return literal(s, "null", 4);
    default:
        return fail(s, "field \"%.*s\": expected true or false at byte %zu", (int)s->keylen,
                    s->key, off(s));
    }
}

/* An array of at most 5 decimals (is_dec) or int32s into dst. */
static int read_array(scan *s, int is_dec, void *dst) {
    if (s->p >= s->end) return truncated(s);
    if (*s->p != '[')
        return fail(s, "field \"%.*s\": expected an array at byte %zu", (int)s->keylen, s->key,
                    off(s));
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (int i = 0;; i++) {
        if (i == PSR_ARRAY_MAX)
            return fail(s, "field \"%.*s\": more than %d entries", (int)s->keylen, s->key,
                        PSR_ARRAY_MAX);
        int64_t v = 0;
        int present = 0;
        int rc = is_dec ? read_dec(s, &v, &present)
                        : read_int(s, INT32_MIN, INT32_MAX, &v, &present);
        if (rc != 0) return -1;
        if (!present)
            return fail(s, "field \"%.*s\": null entry %d", (int)s->keylen, s->key, i);
        if (is_dec)
            ((int64_t *)dst)[i] = v;
        else
            ((int32_t *)dst)[i] = (int32_t)v;
        ws(s);
        if (s->p >= s->end) return truncated(s);
        if (*s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        return unexpected(s, "',' or ']'");
    }
}

static int days_in_month(int y, int m) {
    static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return d[m - 1];
}

static inline int two(const char *p) {
    if (!js_is_digit(p[0]) || !js_is_digit(p[1])) return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DD", a real calendar day in 1970..2261 (int64 ns range). */
static int parse_date(const char *v, size_t n, int *y, int *m, int *d) {
    if (n != 10 || v[4] != '-' || v[7] != '-') return -1;
    int hi = two(v), lo = two(v + 2);
    *m = two(v + 5);
    *d = two(v + 8);
    if (hi < 0 || lo < 0 || *m < 0 || *d < 0) return -1;
    *y = hi * 100 + lo;
    if (*y < 1970 || *y > 2261 || *m < 1 || *m > 12 || *d < 1) return -1;
    return *d <= days_in_month(*y, *m) ? 0 : -1;
}

/* "HH:MM:SS" with an optional ".f" of 1..9 digits -> ns since local midnight. */
static int parse_time(const char *v, size_t n, int64_t *ns_of_day) {
    if (n < 8 || v[2] != ':' || v[5] != ':') return -1;
    int h = two(v), mi = two(v + 3), se = two(v + 6);
    if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 59) return -1;
    int64_t frac = 0;
    if (n > 8) {
        size_t digits = n - 9;
        if (v[8] != '.' || digits < 1 || digits > 9) return -1;
        for (size_t i = 0; i < 9; i++) {
            int dg = 0;
            if (i < digits) {
                if (!js_is_digit(v[9 + i])) return -1;
                dg = v[9 + i] - '0';
            }
            frac = frac * 10 + dg;
        }
    }
    *ns_of_day = ((int64_t)h * 3600 + mi * 60 + se) * CLK_NS_PER_SEC + frac;
    return 0;
}

/* ---------------------------------------------------------------------------
 * The payload
 * ------------------------------------------------------------------------- */
typedef struct {
    int y, m, d;
    int64_t ns_of_day;
    size_t code_len;
} parsed_extra;

/* Read the value of known field f into ev; sets *present. */
static int read_field(scan *s, int f, shj_event *ev, parsed_extra *x, int *present) {
    const field_def *fd = &fields[f];
    char *slot = (char *)ev + fd->off;
    int64_t v;
    switch (fd->type) {
    case T_DEC: return read_dec(s, (int64_t *)(void *)slot, present);
    case T_I64: return read_int(s, INT64_MIN, INT64_MAX, (int64_t *)(void *)slot, present);
    case T_I32:
        if (read_int(s, INT32_MIN, INT32_MAX, &v, present) != 0) return -1;
        *(int32_t *)(void *)slot = (int32_t)v;
        return 0;
    case T_I8:
        if (read_int(s, INT8_MIN, INT8_MAX, &v, present) != 0) return -1;
        *(int8_t *)slot = (int8_t)v;
        return 0;
    case T_FLAG: {
        int on = 0;
        if (read_flag(s, &on, present) != 0) return -1;
        if (on)
            ev->flags |= fd->off;
        else
            ev->flags &= ~(uint32_t)fd->off;
        return 0;
    }
    case T_ADEC:
    case T_AI32:
        *present = 1;
        /* A repeated key replaces the whole array, like any other value. */
        memset(slot, 0, fd->type == T_ADEC ? 5 * sizeof(int64_t) : 5 * sizeof(int32_t));
        return read_array(s, fd->type == T_ADEC, slot);
    default: break;
    }
    /* code, date, time: strings. */
    const char *str = NULL;
    size_t n = 0;
    char kind = 0, tmp[64];
    if (scalar_text(s, &str, &n, &kind, tmp, sizeof tmp) != 0) return -1;
    if (kind == '0') {
        *present = 0;
        return 0;
    }
    if (kind != 's') return bad_value(s, "string", str, n);
    *present = 1;
    if (f == F_CODE) {
        if (n == 0) return bad_value(s, "code (empty)", str, n);
        if (n >= SHJ_CODE_MAX) return bad_value(s, "code (longer than 15 bytes)", str, n);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)str[i];
            if (ch <= 0x20 || ch >= 0x7f) return bad_value(s, "code (not printable ASCII)", str, n);
        }
        /* Zero the whole array: a repeated longer "code" must leave no tail,
         * so equal payloads always give byte-identical events (replay digests). */
        memset(ev->code, 0, sizeof ev->code);
        memcpy(ev->code, str, n);
        x->code_len = n;
        return 0;
    }
    if (f == F_DATE) {
        if (parse_date(str, n, &x->y, &x->m, &x->d) != 0) return bad_value(s, "date", str, n);
        return 0;
    }
    if (parse_time(str, n, &x->ns_of_day) != 0) return bad_value(s, "time", str, n);
    return 0;
}

static int parse_object(scan *s, int is_book, shj_event *ev, parsed_extra *x, uint64_t *seen) {
    ws(s);
    if (s->p >= s->end) return truncated(s);
    if (*s->p != '{') return unexpected(s, "'{'");
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        goto tail;
    }
    for (;;) {
        if (s->p >= s->end) return truncated(s);
        if (*s->p != '"') return unexpected(s, "'\"' (a key)");
        s->p++;
        const char *k;
        size_t kn;
        int esc;
        if (string_body(s, &k, &kn, &esc) != 0) return -1;
        s->key = k;
        s->keylen = kn;
        int f = F_UNKNOWN;
        if (!esc) {
            f = field_of(k, kn);
        } else {
            char tmp[32]; /* an escaped spelling of a known key still is that key */
            long un = js_unescape(k, kn, tmp, sizeof tmp);
            if (un > 0) f = field_of(tmp, (size_t)un);
        }
        /* Tick fields in a book payload (and the reverse) are not ours: the
         * union would mix them up. Skip them like unknown keys. */
        if (f >= F_FIRST_TICK && (f >= F_FIRST_BOOK) != is_book) f = F_UNKNOWN;
        ws(s);
        if (s->p >= s->end) return truncated(s);
        if (*s->p != ':') return unexpected(s, "':'");
        s->p++;
        ws(s);
        if (f == F_UNKNOWN) {
            if (skip_value(s, 1) != 0) return -1;
        } else {
            int present = 0;
            if (read_field(s, f, ev, x, &present) != 0) return -1;
            if (present)
                *seen |= FB(f);
            else
                *seen &= ~FB(f);
        }
        ws(s);
        if (s->p >= s->end) return truncated(s);
        if (*s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            break;
        }
        return unexpected(s, "',' or '}'");
    }
tail:
    ws(s);
    if (s->p != s->end) return fail(s, "trailing bytes after the JSON object at byte %zu", off(s));
    return 0;
}

int psr_parse(int tag, const char *json, size_t len, shj_event *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    scan s = {json, json + len, json, psr_tag_name(tag), err, errlen, "", 0};
    if (!json) len = 0, s.p = s.end = s.base = "";
    int kind, exchange, sec_type, is_book;
    switch (tag) {
    case PSR_TAG_TICK_STK: kind = SHJ_KIND_TICK, is_book = 0, exchange = SHJ_EX_TSE, sec_type = SHJ_SEC_STK; break;
    case PSR_TAG_QUOTE_STK: kind = SHJ_KIND_QUOTE, is_book = 0, exchange = SHJ_EX_TSE, sec_type = SHJ_SEC_STK; break;
    case PSR_TAG_BIDASK_STK: kind = SHJ_KIND_BIDASK, is_book = 1, exchange = SHJ_EX_TSE, sec_type = SHJ_SEC_STK; break;
    case PSR_TAG_TICK_FOP: kind = SHJ_KIND_TICK, is_book = 0, exchange = SHJ_EX_TAIFEX, sec_type = SHJ_SEC_FUT; break;
    case PSR_TAG_QUOTE_FOP: kind = SHJ_KIND_QUOTE, is_book = 0, exchange = SHJ_EX_TAIFEX, sec_type = SHJ_SEC_FUT; break;
    case PSR_TAG_BIDASK_FOP: kind = SHJ_KIND_BIDASK, is_book = 1, exchange = SHJ_EX_TAIFEX, sec_type = SHJ_SEC_FUT; break;
    case PSR_TAG_HEARTBEAT:
        /* A control payload: still one well-formed JSON object, or it is
         * counted as malformed like any other bad payload. */
        out->payload_tag = (uint8_t)tag;
        ws(&s);
        if (s.p < s.end && *s.p != '{') return unexpected(&s, "'{'"), PSR_MALFORMED;
        if (skip_value(&s, 0) != 0) return PSR_MALFORMED;
        ws(&s);
        if (s.p != s.end) {
            fail(&s, "trailing bytes after the JSON object at byte %zu", off(&s));
            return PSR_MALFORMED;
        }
        return PSR_CONTROL;
    default:
        shj_fail(err, errlen, "unknown payload tag %d", tag);
        return PSR_MALFORMED;
    }

    parsed_extra x = {0, 0, 0, 0, 0};
    uint64_t seen = 0;
    if (parse_object(&s, is_book, out, &x, &seen) != 0) return PSR_MALFORMED;

    uint64_t missing = (is_book ? REQ_BOOK : REQ_TICK) & ~seen;
    if (missing) {
        int f = __builtin_ctzll(missing);
        fail(&s, "missing required field \"%s\"", fields[f].name);
        return PSR_MALFORMED;
    }

    uint32_t id = inst_intern(out->code, x.code_len, exchange, sec_type);
    if (id == 0) {
        fail(&s, "instrument table full, cannot add \"%s\"", out->code);
        return PSR_MALFORMED;
    }
    const inst_info *info = inst_get(id);
    if (info) { /* a subscription may know better than the tag's default */
        if (info->exchange) exchange = info->exchange;
        if (info->sec_type) sec_type = info->sec_type;
    }
    out->kind = (uint8_t)kind;
    out->exchange = (uint8_t)exchange;
    out->sec_type = (uint8_t)sec_type;
    out->payload_tag = (uint8_t)tag;
    out->inst_id = id;
    out->ts_exch_ns = clk_taipei_to_utc_ns(x.y, x.m, x.d, 0, 0, 0, 0) + x.ns_of_day;
    return PSR_EVENT;
}
