/* parse.c — Shioaji SSE payload (tag + JSON) -> shj_event (see parse.h).
 *
 * Owns: the JSON reading of every live, simulated and replayed payload.
 * Guarantees:
 *  - never reads outside json[0..len) (the payload is not NUL-terminated);
 *  - accepts only well-formed JSON (RFC 8259 grammar: strings without raw
 *    control bytes, valid escapes, JSON numbers, nesting <= PSR_MAX_DEPTH) with
 *    one object at the top and nothing but whitespace after it;
 *  - prices are parsed from their decimal text straight into int64 × SHJ_PRICE_SCALE
 *    (js_dec_parse, the same code as dec_parse): no double anywhere;
 *  - on PSR_MALFORMED, err says which payload kind, which field and why, or
 *    the byte offset where the JSON went wrong.
 * Threads: psr_parse_payload is thread-safe (its only state is the caller's
 * psr_memo); psr_resolve, and so psr_parse, belong to the loop thread
 * because inst_intern and the code memo do. Replay runs the first half on
 * its read-ahead threads and the second on the loop (src_replay.c).
 *
 * DESIGN. A schema-specific scanner, not a DOM: it walks the object's keys
 * once and converts each known value in place into its shj_event slot;
 * unknown values of any JSON type are skipped by a validating skipper.
 * Nothing is allocated, no tree is built, no string is copied but the code.
 * Two layers:
 *  - the strict path (scan struct, read_field, skip_value): the full JSON
 *    grammar, escapes, whitespace, nulls, and the error messages;
 *  - fast paths in front of it for what Shioaji actually sends (compact
 *    JSON, keys in a fixed order, short decimal strings): the expected next
 *    key is checked with one or two 16-byte compares instead of being
 *    scanned and looked up; a number's extent comes from one SSE2 compare
 *    mask and its value from SWAR multiply-shifts (8 digits at a time); a
 *    5-level array's commas are all found at once. A fast path either
 *    accepts a value exactly as the strict path would (same result) or
 *    hands it over untouched; test_parse checks that on 150k random values
 *    against dec_parse and the JSON integer rules.
 * Two memos skip work that repeats from payload to payload: the date text ->
 * its midnight (date_memo) and the code -> instrument id (code_memo, checked
 * against the id's record on every hit, so inst_reset cannot fool it).
 * Measured by bench/bench_parse.c in one run (1M pre-generated payloads,
 * 387 bytes on average, the mix of docs/shioaji-payloads.md: 40% tick_stk,
 * 20% tick_fop, 30% bidask_stk, 10% bidask_fop; thread CPU time, best of 3,
 * -O2, one core of the shared 2-core box under load ~5):
 *     psr_parse                          3.7-3.9M events/s  (~255 ns/event)
 *     cJSON_ParseWithLength + extract    0.35-0.39M         (~2600 ns/event)
 *     a bare byte loop over the corpus   (~250 ns/event: the box's speed)
 * i.e. ~9.5x cJSON, and about the cost of touching each byte once with a
 * scalar loop on this machine. By instruction count (callgrind, machine
 * independent): ~3960 per payload of the bench mix (was ~4320 before the
 * memos, the one-conversion prices and the mask-checked time). cJSON's
 * cost is the DOM (a malloc per value, a strdup per string, a linear key
 * search per field), and it hands numbers over as double, which we must not
 * use for prices. simdjson was not tried: it needs C++ and a shim, and
 * builds a tape we would then walk again. Tried and dropped (no gain on
 * this box): finding each member's end by lookahead so that members overlap
 * in the pipeline.
 * Re-measured after the × 10^6 scale, the 1.7.x key orders and the lost-field
 * rule (same bench, -O2 -g, best of 5, runs interleaved with the code before
 * the change on the loaded box): the mix above 258 ns/event against 250
 * before at the same calibration (~146 ns byte loop), +3 %; Sinopac's
 * published samples (bench_parse's second row: 460 bytes/payload, 30-odd
 * keys, nulls, quotes parsed twice for their book) 414-470 ns/payload.
 */
#include "parse/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/instrument.h"
#include "core/json_scan.h"
#include "core/json_skip.h"
#include "core/shj_common.h"

#define PSR_MAX_DEPTH 64  /* nesting allowed inside skipped values */
#define PSR_ARRAY_MAX SHJ_LEVELS

/* ---------------------------------------------------------------------------
 * Fields we map. One id per event slot; the key spellings (SSE names and the
 * SDK v1 aliases) map onto them in field_of().
 * ------------------------------------------------------------------------- */
enum {
    F_UNKNOWN = 0,
    /* common */
    F_CODE, F_DATE, F_TIME, F_SIMTRADE, F_SUSPEND, F_ODD, F_BACKFILL, F_SIMULATED,
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
enum { T_CODE, T_DATE, T_TIME, T_FLAG, T_DEC, T_I64, T_I32, T_I8, T_ADEC, T_AI32, T_PCT };

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
    /* Set by our own backfill on payloads fetched after a gap, so that a
     * replay of the archive keeps knowing which ticks were back-filled. */
    [F_BACKFILL] = {"backfill", T_FLAG, SHJ_FLAG_BACKFILL},
    /* Set by the simulated market on every payload (sim_format.c), so that
     * simulated data stays flagged in the archive and every replay of it. */
    [F_SIMULATED] = {"simulated", T_FLAG, SHJ_FLAG_SIMULATED},
    [F_OPEN] = {"open", T_DEC, AT(open)},
    [F_HIGH] = {"high", T_DEC, AT(high)},
    [F_LOW] = {"low", T_DEC, AT(low)},
    [F_CLOSE] = {"close", T_DEC, AT(close)},
    [F_AVG] = {"avg_price", T_DEC, AT(avg_price)},
    [F_DIFF_PRICE] = {"price_chg", T_DEC, AT(diff_price)},
    [F_DIFF_RATE] = {"pct_chg", T_PCT, AT(diff_rate)},
    [F_AMOUNT] = {"amount", T_DEC, AT(amount)},
    [F_AMOUNT_SUM] = {"total_amount", T_DEC, AT(amount_sum)},
    [F_UNDERLYING] = {"underlying_price", T_DEC, AT(underlying_price)},
    [F_VOLUME] = {"volume", T_I32, AT(volume)},
    [F_VOL_SUM] = {"total_volume", T_I64, AT(vol_sum)},
    [F_BID_SIDE] = {"bid_side_total_vol", T_I64, AT(bid_side_vol_sum)},
    [F_ASK_SIDE] = {"ask_side_total_vol", T_I64, AT(ask_side_vol_sum)},
    [F_TICK_TYPE] = {"tick_type", T_I8, AT(tick_type)},
    [F_CHG_TYPE] = {"chg_type", T_I8, AT(chg_type)},
    [F_BID_PRICE] = {"bid_price", T_ADEC, AT(bid_price)},
    [F_ASK_PRICE] = {"ask_price", T_ADEC, AT(ask_price)},
    [F_BID_VOLUME] = {"bid_volume", T_AI32, AT(bid_volume)},
    [F_ASK_VOLUME] = {"ask_volume", T_AI32, AT(ask_volume)},
    [F_DIFF_BID] = {"diff_bid_vol", T_AI32, AT(diff_bid_vol)},
    [F_DIFF_ASK] = {"diff_ask_vol", T_AI32, AT(diff_ask_vol)},
};

/* Fields whose absence makes a payload malformed. Only code, date, time and
 * the trade price (and a book's arrays) carry the event: everything else
 * may be missing (left 0) or lost (SHJ_FLAG_FIELD_LOST, see parse.h). */
static const uint64_t REQ_TICK = FB(F_CODE) | FB(F_DATE) | FB(F_TIME) | FB(F_CLOSE);
static const uint64_t REQ_BOOK = FB(F_CODE) | FB(F_DATE) | FB(F_TIME) | FB(F_BID_PRICE) |
                                 FB(F_BID_VOLUME) | FB(F_ASK_PRICE) | FB(F_ASK_VOLUME);
/* Fields whose broken value makes a payload malformed; any other known
 * field with a value we cannot hold is left 0 and flagged instead. */
static const uint64_t ESSENTIAL = FB(F_CODE) | FB(F_DATE) | FB(F_TIME) | FB(F_CLOSE);

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
        if (KEY_IS("backfill")) return F_BACKFILL;
        return F_UNKNOWN;
    case 9:
        if (KEY_IS("bid_price")) return F_BID_PRICE;
        if (KEY_IS("simulated")) return F_SIMULATED;
        if (KEY_IS("ask_price")) return F_ASK_PRICE;
        if (KEY_IS("avg_price")) return F_AVG;
        if (KEY_IS("tick_type")) return F_TICK_TYPE;
        if (KEY_IS("diff_rate")) return F_DIFF_RATE;
        if (KEY_IS("price_chg")) return F_DIFF_PRICE; /* 1.7.x name */
        if (KEY_IS("diff_type")) return F_CHG_TYPE;   /* 1.5.0 name */
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

/* quote_idx keys. The server keeps the upstream QuoteIdxV1 names, PascalCase
 * (Sinotrade/Shioaji@046010c plugins/shioaji/skills/shioaji/references/
 * STREAMING.md:619-624), and adds lower-case "code"/"exchange"; the
 * lower-case spellings are read too, as shioaji-pro-app's normalizeIndexQuote
 * does (src/lib/stream.ts:192-200). Reference, counts and the rest have no
 * slot in shj_event: skipped (the raw archive keeps them). */
static inline int field_of_idx(const char *k, size_t n) {
    switch (n) {
    case 3: return (KEY_IS("Low") || KEY_IS("low")) ? F_LOW : F_UNKNOWN;
    case 4:
        if (KEY_IS("code")) return F_CODE;
        if (KEY_IS("Date") || KEY_IS("date")) return F_DATE;
        if (KEY_IS("Time") || KEY_IS("time")) return F_TIME;
        if (KEY_IS("Open") || KEY_IS("open")) return F_OPEN;
        if (KEY_IS("High") || KEY_IS("high")) return F_HIGH;
        return F_UNKNOWN;
    case 5: return (KEY_IS("Close") || KEY_IS("close")) ? F_CLOSE : F_UNKNOWN;
    case 6:
        if (KEY_IS("Amount") || KEY_IS("amount")) return F_AMOUNT;
        if (KEY_IS("Volume") || KEY_IS("volume")) return F_VOLUME;
        if (KEY_IS("VolSum")) return F_VOL_SUM;
        return F_UNKNOWN;
    case 7: return KEY_IS("vol_sum") ? F_VOL_SUM : F_UNKNOWN;
    case 9: return KEY_IS("AmountSum") ? F_AMOUNT_SUM : F_UNKNOWN;
    case 10: return KEY_IS("amount_sum") ? F_AMOUNT_SUM : F_UNKNOWN;
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
    int tag;           /* named in errors (psr_tag_name) only when one happens */
    char *err;
    size_t errlen;
    const char *key;   /* the current key as written (for field errors) */
    size_t keylen;
} scan;

static int fail(scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scan *s, const char *fmt, ...) {
    if (s->err && s->errlen) {
        int n = snprintf(s->err, s->errlen, "%s: ", psr_tag_name(s->tag));
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
    /* Defined on every path, errors too: callers (and the optimizer's
     * flow analysis) may then rely on them whatever the result. */
    *str = b;
    *n = 0;
    *esc = 0;
    for (;;) {
        p = js_find_special(p, e);
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
        s->p = p; /* ch < 0x20 */
        return unexpected(s, "a string character (control bytes must be escaped)");
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

/* Skip any JSON value, validating it (core/json_skip: the one strict
 * skipper); its error becomes ours, at the same byte. */
static int skip_value(scan *s, int depth) {
    jsk_error e;
    const char *q = jsk_value(s->p, s->end, PSR_MAX_DEPTH - depth, 0, &e);
    if (q) {
        s->p = q;
        return 0;
    }
    s->p = e.at;
    if (e.status == JSK_DEPTH) return fail(s, "JSON nested deeper than %d at byte %zu", PSR_MAX_DEPTH, off(s));
    if (e.status == JSK_TRUNCATED) return truncated(s);
    return unexpected(s, e.expected);
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

/* An array of at most 5 decimals (is_dec) or int32s into dst. An entry
 * that is valid JSON but cannot be held (too precise, out of range, null,
 * wrong type, a sixth level) is left 0 and sets *lost; only broken JSON
 * fails. */
static int read_array(scan *s, int is_dec, void *dst, int *lost) {
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
        const char *v0 = s->p;
        int64_t v = 0;
        int present = 0, rc = -1;
        if (i < PSR_ARRAY_MAX)
            rc = is_dec ? read_dec(s, &v, &present)
                        : read_int(s, INT32_MIN, INT32_MAX, &v, &present);
        if (rc != 0 || !present) {
            s->p = v0;
            if (skip_value(s, 1) != 0) return -1;
            v = 0;
            *lost = 1;
        }
        if (i < PSR_ARRAY_MAX) {
            if (is_dec)
                ((int64_t *)dst)[i] = v;
            else
                ((int32_t *)dst)[i] = (int32_t)v;
        }
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
        static const int32_t pad[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                        10000, 1000, 100, 10, 1};
        for (size_t i = 0; i < digits; i++) {
            if (!js_is_digit(v[9 + i])) return -1;
            frac = frac * 10 + (v[9 + i] - '0');
        }
        frac *= pad[digits]; /* right-pad to nanoseconds */
    }
    *ns_of_day = ((int64_t)h * 3600 + mi * 60 + se) * CLK_NS_PER_SEC + frac;
    return 0;
}

/* ---------------------------------------------------------------------------
 * The payload
 * ------------------------------------------------------------------------- */
typedef struct {
    int64_t day_ns;    /* the date's Taipei midnight as UTC ns */
    int64_t ns_of_day;
    psr_memo *memo;    /* the caller's: see date_day_ns */
    int pct_hundredths; /* a JSON-number pct_chg is in 0.01 % (stock payloads) */
    int lost;          /* a field was left 0: SHJ_FLAG_FIELD_LOST */
} parsed_extra;

/* Largest integer hundredths-of-a-percent that fits the scaled slot. */
#define PCT_INT_MAX (INT64_MAX / (SHJ_PRICE_SCALE / 100))
_Static_assert(SHJ_PRICE_SCALE % 100 == 0, "pct_chg in 0.01 % needs a scale of 100 or finer");

/* pct_chg / diff_rate. A decimal string is percent as written ("1.206261",
 * futures: Sinotrade.github.io@4c63dd4 tutor/market_data/streaming/futures/
 * index.md:220, price_chg "484" on close "40608" (:210, :219): 484 / 40124
 * = 1.2063 %). A JSON integer in a stock payload is hundredths of a percent
 * (stocks/index.md:311-312: price_chg "0.1" on close "29.9" -> 0.1 / 29.8 =
 * 0.336 %, sent as 33; :382-383: 0.15 / 29.8 = 0.503 %, sent as 50; the
 * attribute table types it int, :424, futures :249 types it Decimal). Both
 * are stored in percent. */
static int read_pct(scan *s, int hundredths, int64_t *dst, int *present) {
    const char *v = NULL;
    size_t n = 0;
    char kind = 0, tmp[64];
    if (scalar_text(s, &v, &n, &kind, tmp, sizeof tmp) != 0) return -1;
    if (kind == '0') {
        *present = 0;
        return 0;
    }
    int64_t d;
    if (js_dec_parse(v, n, &d) != 0) return bad_value(s, "decimal", v, n);
    if (kind == 'n' && hundredths) {
        if (d % 100 != 0) return bad_value(s, "percent (finer than the scale)", v, n);
        d /= 100;
    }
    *dst = d;
    *present = 1;
    return 0;
}

/* The last valid date text seen and its midnight (psr_memo, parse.h). Every
 * payload of a session carries the same "YYYY-MM-DD", so converting it
 * (parse_date's checks plus the civil-to-days arithmetic, ~160 instructions)
 * once per distinct date instead of once per payload is a measurable share
 * of a ~4000-instruction parse. Only validated dates enter it, and a hit
 * needs all 10 bytes equal, so the result is exactly what parsing would
 * give. The memo is the caller's, so that threads parsing at once never
 * share one. lo == 0 means empty: no valid date starts with NUL bytes. */
/* "YYYY-MM-DD" (n bytes at v) -> its Taipei midnight as UTC ns; -1 if bad. */
static inline int date_day_ns(psr_memo *memo, const char *v, size_t n, int64_t *day_ns) {
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (n == 10) {
        memcpy(&lo, v, 8);
        memcpy(&hi, v + 8, 2);
        if (lo != 0 && lo == memo->date_lo && hi == memo->date_hi) { /* lo 0: memo empty */
            *day_ns = memo->day_ns;
            return 0;
        }
    }
    int y, m, d;
    if (parse_date(v, n, &y, &m, &d) != 0) return -1;
    *day_ns = clk_taipei_to_utc_ns(y, m, d, 0, 0, 0, 0);
    memo->date_lo = lo; /* n == 10 here: parse_date accepts nothing else */
    memo->date_hi = hi;
    memo->day_ns = *day_ns;
    return 0;
}

/* The strict path: read the value of known field f into ev; sets *present.
 * Kept out of line: the fast paths handle almost every value. */
static __attribute__((noinline)) int read_field(scan *s, int f, shj_event *ev, parsed_extra *x,
                                                int *present) {
    const field_def *fd = &fields[f];
    char *slot = (char *)ev + fd->off;
    int64_t v;
    switch (fd->type) {
    case T_DEC: return read_dec(s, (int64_t *)(void *)slot, present);
    case T_PCT: return read_pct(s, x->pct_hundredths, (int64_t *)(void *)slot, present);
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
        return read_array(s, fd->type == T_ADEC, slot, &x->lost);
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
        return 0;
    }
    if (f == F_DATE) {
        if (date_day_ns(x->memo, str, n, &x->day_ns) != 0) return bad_value(s, "date", str, n);
        return 0;
    }
    if (parse_time(str, n, &x->ns_of_day) != 0) return bad_value(s, "time", str, n);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Fast paths. Each reads one value of the shape Shioaji actually sends and
 * returns the position after it, or NULL to hand the value to the strict
 * path (read_field), which re-reads it from its first byte, validates it and
 * names any error. So the fast paths may only ACCEPT inputs the strict path
 * would accept with the same result; anything unusual simply falls through.
 * ------------------------------------------------------------------------- */
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline const char *fast_ws(const char *p, const char *e) {
    /* One compare in the usual case (compact JSON): nothing at or below ' '. */
    while (p < e && (unsigned char)*p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Loop versions, for the last bytes of a payload and non-SSE2 targets. */
static inline const char *slow_dec(const char *p, const char *e, int64_t *dst) {
    if (e - p < 3 || *p != '"') return NULL;
    const char *q = p + 1;
    int neg = *q == '-';
    q += neg;
    const char *ds = q;
    uint64_t ip = 0;
    while (q < e && js_is_digit(*q) && q - ds <= JS_DEC_INT_DIGITS) ip = ip * 10 + (uint64_t)(*q++ - '0');
    if (q == ds || q - ds > JS_DEC_INT_DIGITS || q >= e) return NULL; /* × scale cannot wrap uint64 */
    uint64_t frac = 0;
    unsigned nf = 0;
    if (*q == '.') {
        q++;
        while (q < e && nf <= SHJ_PRICE_DECIMALS && js_is_digit(*q)) {
            frac = frac * 10 + (uint64_t)(*q++ - '0');
            nf++;
        }
        if (nf == 0 || nf > SHJ_PRICE_DECIMALS) return NULL;
    }
    if (q >= e || *q != '"') return NULL;
    uint64_t mag = ip * (uint64_t)SHJ_PRICE_SCALE + frac * js_pow10[SHJ_PRICE_DECIMALS - nf];
    if (mag > (uint64_t)INT64_MAX) return NULL;
    *dst = neg ? -(int64_t)mag : (int64_t)mag;
    return q + 1;
}

static inline const char *slow_int(const char *p, const char *e, int64_t lo, int64_t hi,
                                   int64_t *dst) {
    const char *q = p;
    int neg = q < e && *q == '-';
    q += neg;
    const char *ds = q;
    uint64_t v = 0;
    while (q < e && js_is_digit(*q) && q - ds < 17) v = v * 10 + (uint64_t)(*q++ - '0');
    size_t nd = (size_t)(q - ds);
    if (nd == 0 || nd > 16 || q >= e || *q == '.' || *q == 'e' || *q == 'E' ||
        (nd > 1 && *ds == '0'))
        return NULL;
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    if (x < lo || x > hi) return NULL;
    *dst = x;
    return q;
}

/* "[-]d{1,13}[.d{1,6}]" as a JSON string: the price shape
 * (JS_DEC_INT_DIGITS, SHJ_PRICE_DECIMALS). */
static inline __attribute__((always_inline)) const char *fast_dec(const char *p, const char *e, int64_t *dst) {
#ifdef JS_SSE2
    if (e - p >= 32 && *p == '"') {
        const char *q = p + 1;
        int neg = 0;
        if (__builtin_expect(*q == '-', 0)) {
            neg = 1;
            q++;
        }
        unsigned m = js_nondigit16(q) | 0x10000u;
        unsigned ni = (unsigned)__builtin_ctz(m), nf = 0;
        if (ni - 1 >= JS_DEC_INT_DIGITS) return NULL; /* no digit, or too many: strict path */
        const char *end = q + ni;
        if (*end == '.') {
            nf = (unsigned)__builtin_ctz(m >> (ni + 1));
            if (nf - 1 >= (unsigned)SHJ_PRICE_DECIMALS) return NULL; /* "1." or one digit too many: strict path */
            end += nf + 1;
        }
        if (*end != '"') return NULL; /* escapes, garbage: strict path */
        uint64_t mag;
        if (nf && ni + nf <= 7) /* the usual price: both parts in one conversion */
            mag = js_conv_dot8(q, ni, nf) * js_pow10[SHJ_PRICE_DECIMALS - nf];
        else
            mag = js_conv16(q, ni) * (uint64_t)SHJ_PRICE_SCALE + (nf ? js_conv8(q + ni + 1, nf) * js_pow10[SHJ_PRICE_DECIMALS - nf] : 0);
        if (mag > (uint64_t)INT64_MAX) return NULL;
        *dst = neg ? -(int64_t)mag : (int64_t)mag;
        return end + 1;
    }
#endif
    return slow_dec(p, e, dst);
}

/* A plain JSON integer of up to 16 digits followed by a delimiter. */
static inline __attribute__((always_inline)) const char *fast_int(const char *p, const char *e, int64_t lo, int64_t hi,
                                   int64_t *dst) {
#ifdef JS_SSE2
    if (e - p >= 32) {
        const char *q = p;
        int neg = 0;
        if (__builtin_expect(*q == '-', 0)) {
            neg = 1;
            q++;
        }
        unsigned n = (unsigned)__builtin_ctz(js_nondigit16(q) | 0x10000u);
        char c = q[n]; /* n <= 16 < 32: readable, and not a digit when n < 16 */
        /* A leading zero, a fraction, an exponent or 16+ digits: strict path. */
        if (n - 1 >= 15 || c == '.' || c == 'e' || c == 'E' || (n > 1 && *q == '0')) return NULL;
        uint64_t v = js_conv16(q, n);
        int64_t x = neg ? -(int64_t)v : (int64_t)v;
        if (x < lo || x > hi) return NULL;
        *dst = x;
        return q + n;
    }
#endif
    return slow_int(p, e, lo, hi, dst);
}

/* A 5-level array: compact `[a,b,c]` first. All its ',' and the ']' are
 * found at once (SSE2 compares over 64 bytes), so each entry's bounds are
 * known before it is parsed: no entry waits on the previous one's length,
 * and the entries overlap in the pipeline. Entries: "[-]d{1,8}" integers or
 * "\"[-]d{1,8}[.d{1,6}]\"" prices; anything else goes the general way. */
static inline const char *fast_array_compact(const char *p, const char *e, int is_dec, void *dst) {
#ifdef JS_SSE2
    if (e - p < 64 + 16) return NULL; /* +16: the last entry's 16-byte loads */
    uint64_t close = 0, comma = 0;
    for (int c = 0; c < 64; c += 16) {
        close |= js_eq16(p + c, ']') << c;
        comma |= js_eq16(p + c, ',') << c;
    }
    if (!close) return NULL;
    unsigned end = (unsigned)__builtin_ctzll(close), start = 1;
    if (end == 1) return p + 2; /* [] */
    uint64_t delims = (comma & ((1ull << end) - 1)) | (1ull << end);
    for (int i = 0; delims; i++) {
        unsigned d = (unsigned)__builtin_ctzll(delims);
        delims &= delims - 1;
        if (i == PSR_ARRAY_MAX) return NULL; /* a sixth entry: the strict path says so */
        const char *s = p + start;
        unsigned n = d - start;
        start = d + 1;
        if (is_dec) {
            if (n < 3 || s[0] != '"' || s[n - 1] != '"') return NULL;
            s++;
            n -= 2;
            int neg = s[0] == '-';
            s += neg;
            n -= (unsigned)neg;
            if (n - 1 >= 9u + SHJ_PRICE_DECIMALS) return NULL; /* longer than d{8}.d{DECIMALS}: general way */
            unsigned m = js_nondigit16(s);   /* bit n is set: the closing quote */
            unsigned ni = (unsigned)__builtin_ctz(m), nf = 0;
            if (ni - 1 >= 8) return NULL;
            if (ni < n) { /* must be ".d{1,DECIMALS}" up to the quote */
                nf = n - ni - 1;
                if (s[ni] != '.' || nf - 1 >= (unsigned)SHJ_PRICE_DECIMALS ||
                    ((m >> (ni + 1)) & ((2u << nf) - 1)) != (1u << nf))
                    return NULL;
            }
            int64_t mag = nf && ni + nf <= 7 /* the usual price: one conversion */
                              ? (int64_t)(js_conv_dot8(s, ni, nf) * js_pow10[SHJ_PRICE_DECIMALS - nf])
                              : (int64_t)(js_conv8(s, ni) * (uint64_t)SHJ_PRICE_SCALE +
                                          (nf ? js_conv8(s + ni + 1, nf) * js_pow10[SHJ_PRICE_DECIMALS - nf] : 0));
            ((int64_t *)dst)[i] = neg ? -mag : mag;
        } else {
            int neg = n > 0 && s[0] == '-';
            s += neg;
            n -= (unsigned)neg;
            unsigned m = js_nondigit16(s);
            /* exactly n digits, 1..8, no leading zero */
            if (n - 1 >= 8 || (m & ((1u << n) - 1)) || (n > 1 && s[0] == '0')) return NULL;
            int64_t v = (int64_t)js_conv8(s, n);
            ((int32_t *)dst)[i] = (int32_t)(neg ? -v : v); /* 8 digits fit int32 */
        }
    }
    return p + end + 1;
#else
    (void)p, (void)e, (void)is_dec, (void)dst;
    return NULL;
#endif
}

static inline const char *fast_array(const char *p, const char *e, int is_dec, void *dst) {
    if (p >= e || *p != '[') return NULL;
    const char *q = fast_array_compact(p, e, is_dec, dst);
    if (q) return q;
    p = fast_ws(p + 1, e);
    if (p < e && *p == ']') return p + 1;
    for (int i = 0; i < PSR_ARRAY_MAX; i++) {
        int64_t v;
        p = is_dec ? fast_dec(p, e, &v) : fast_int(p, e, INT32_MIN, INT32_MAX, &v);
        if (!p) return NULL;
        if (is_dec)
            ((int64_t *)dst)[i] = v;
        else
            ((int32_t *)dst)[i] = (int32_t)v;
        p = fast_ws(p, e);
        if (p >= e) return NULL;
        if (*p == ']') return p + 1;
        if (*p != ',') return NULL;
        p = fast_ws(p + 1, e);
    }
    return NULL; /* a sixth entry: let the strict path say so */
}

/* A string without escapes: sets [*v, *v + *n), returns past its closing quote. */
static inline const char *fast_str(const char *p, const char *e, const char **v, size_t *n) {
    if (p >= e || *p != '"') return NULL;
    const char *q = js_find_special(p + 1, e);
    if (q >= e || *q != '"') return NULL;
    *v = p + 1;
    *n = (size_t)(q - p - 1);
    return q + 1;
}

/* An unknown key's value when it is a plain string, null or a short integer (the
 * extra keys of bidask_fop: bid_total_vol, first_derived_*, ...): both
 * shapes are complete, valid JSON values, so skipping them here accepts
 * exactly what skip_value would. Anything else (NULL) goes to skip_value. */
static inline const char *fast_skip(const char *p, const char *e) {
    const char *str;
    size_t n;
    int64_t v;
    if (p < e && *p == '"') return fast_str(p, e, &str, &n);
    /* null: 1.7.x stock ticks carry four (closing_oddlot_*) */
    if (e - p >= 4 && memcmp(p, "null", 4) == 0) return p + 4;
    return fast_int(p, e, INT64_MIN, INT64_MAX, &v);
}

/* One known field's value, fast if it has the usual shape. NULL: not taken. */
static inline const char *fast_field(const char *p, const char *e, int f, shj_event *ev,
                                     parsed_extra *x) {
    const field_def *fd = &fields[f];
    char *slot = (char *)ev + fd->off;
    int64_t v;
    const char *str, *q;
    size_t n;
    switch (fd->type) {
    case T_DEC: return fast_dec(p, e, (int64_t *)(void *)slot);
    case T_PCT: /* see read_pct */
        if (p < e && *p == '"') return fast_dec(p, e, (int64_t *)(void *)slot);
        if (!x->pct_hundredths || !(q = fast_int(p, e, -PCT_INT_MAX, PCT_INT_MAX, &v))) return NULL;
        *(int64_t *)(void *)slot = v * (SHJ_PRICE_SCALE / 100);
        return q;
    case T_I64: return fast_int(p, e, INT64_MIN, INT64_MAX, (int64_t *)(void *)slot);
    case T_I32:
        if (!(q = fast_int(p, e, INT32_MIN, INT32_MAX, &v))) return NULL;
        *(int32_t *)(void *)slot = (int32_t)v;
        return q;
    case T_I8:
        if (!(q = fast_int(p, e, INT8_MIN, INT8_MAX, &v))) return NULL;
        *(int8_t *)slot = (int8_t)v;
        return q;
    case T_FLAG:
        if (e - p >= 5 && memcmp(p, "false", 5) == 0) {
            ev->flags &= ~(uint32_t)fd->off;
            return p + 5;
        }
        if (e - p >= 4 && memcmp(p, "true", 4) == 0) {
            ev->flags |= fd->off;
            return p + 4;
        }
        return NULL;
    case T_ADEC: return fast_array(p, e, 1, slot);
    case T_AI32: return fast_array(p, e, 0, slot);
    case T_CODE:
        if (!(q = fast_str(p, e, &str, &n)) || n == 0 || n >= SHJ_CODE_MAX) return NULL;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)str[i] <= 0x20 || (unsigned char)str[i] >= 0x7f) return NULL;
        memcpy(ev->code, str, n);
        memset(ev->code + n, 0, sizeof ev->code - n); /* no tail from a repeated key */
        return q;
    case T_DATE: /* "YYYY-MM-DD": parse_date checks every byte, so no string scan */
        if (e - p < 12 || p[0] != '"' || p[11] != '"' ||
            date_day_ns(x->memo, p + 1, 10, &x->day_ns) != 0)
            return NULL;
        return p + 12;
    case T_TIME: /* "HH:MM:SS.ffffff" likewise; other lengths take fast_str */
#ifdef JS_SSE2
        /* One mask proves every digit of `HH:MM:SS.ffffff"` is where it
         * should be (non-digits exactly at bytes 2, 5, 8 and 15 after the
         * quote); then parse_time's range checks, and the 6 fraction digits
         * converted at once. */
        if (e - p >= 32 && p[0] == '"' && js_nondigit16(p + 1) == 0x8124u && p[3] == ':' &&
            p[6] == ':' && p[9] == '.' && p[16] == '"') {
            int h = (p[1] - '0') * 10 + (p[2] - '0'), mi = (p[4] - '0') * 10 + (p[5] - '0'),
                se = (p[7] - '0') * 10 + (p[8] - '0');
            if (h > 23 || mi > 59 || se > 59) return NULL;
            x->ns_of_day = ((int64_t)h * 3600 + mi * 60 + se) * CLK_NS_PER_SEC +
                           (int64_t)js_conv8(p + 10, 6) * 1000;
            return p + 17;
        }
#endif
        if (e - p >= 17 && p[0] == '"' && p[16] == '"')
            return parse_time(p + 1, 15, &x->ns_of_day) == 0 ? p + 17 : NULL;
        if (!(q = fast_str(p, e, &str, &n)) || parse_time(str, n, &x->ns_of_day) != 0) return NULL;
        return q;
    default: return NULL;
    }
}

/* ---------------------------------------------------------------------------
 * Key prediction. Shioaji (and the simulator) send each kind's keys in one
 * fixed order, so the parser first tests whether the bytes at the cursor
 * are exactly the expected next `"name":` — one or two 16-byte compares —
 * and only on a miss scans the key and switches on it. A miss
 * costs one failed compare and resynchronises on the key found, so any
 * order still parses the same (test_parse shuffles), only a little slower.
 * ------------------------------------------------------------------------- */
#define SEQ_MAX 40

typedef struct {
    char text[32];     /* `"name":`, zero-padded */
    char tail[16];     /* its last 16 bytes, when it is longer than 16 */
    uint32_t mask0;    /* bytes of text[0..16) to compare, as movemask bits */
    uint8_t len;       /* bytes of `"name":` (<= 32) */
    uint8_t f;         /* field id; F_UNKNOWN: a key we expect and skip */
} key_pat;

typedef struct {
    key_pat k[SEQ_MAX];
    uint8_t n;
    int8_t pos[F_COUNT]; /* index of field f in k[], -1 if absent */
} key_seq;

/* [tag][half: 0 trade / 1 book][variant: 0 Shioaji 1.7.x, 1 1.5.0 names] */
static key_seq seqs[PSR_TAG_MAX][2][2];

/* The documented orders. 1.7.x: Sinotrade.github.io@4c63dd4
 * tutor/market_data/streaming/stocks/index.md:296-327 (tick_stk),
 * :838-875 (quote_stk), :616-630 (bidask_stk); futures/index.md:201-223
 * (tick_fop), :365-384 (bidask_fop), :538-573 (quote_fop); the simulator
 * sends the same (sim_format.c). 1.5.0: the names and order of the
 * simulator's payload_v150 layout (docs/shioaji-payloads.md). */
static const char *const order_tick_stk[] = {
    "code", "date", "time", "open", "avg_price", "close", "high", "low", "amount",
    "total_amount", "volume", "total_volume", "tick_type", "chg_type", "price_chg", "pct_chg",
    "bid_side_total_vol", "ask_side_total_vol", "bid_side_total_cnt", "ask_side_total_cnt",
    "closing_oddlot_shares", "closing_oddlot_close", "closing_oddlot_amount",
    "closing_oddlot_bid_price", "closing_oddlot_ask_price", "fixed_trade_vol",
    "fixed_trade_amount", "suspend", "simtrade", "intraday_odd", NULL};
static const char *const order_quote_stk[] = {
    "code", "date", "time", "open", "avg_price", "close", "high", "low", "amount",
    "total_amount", "volume", "total_volume", "tick_type", "chg_type", "price_chg", "pct_chg",
    "bid_side_total_vol", "ask_side_total_vol", "bid_side_total_cnt", "ask_side_total_cnt",
    "closing_oddlot_shares", "closing_oddlot_close", "closing_oddlot_amount",
    "closing_oddlot_bid_price", "closing_oddlot_ask_price", "fixed_trade_vol",
    "fixed_trade_amount", "bid_price", "bid_volume", "diff_bid_vol", "ask_price", "ask_volume",
    "diff_ask_vol", "avail_borrowing", "suspend", "simtrade", NULL};
static const char *const order_tick_fop[] = {
    "code", "date", "time", "open", "underlying_price", "bid_side_total_vol",
    "ask_side_total_vol", "avg_price", "close", "high", "low", "amount", "total_amount", "volume",
    "total_volume", "tick_type", "chg_type", "price_chg", "pct_chg", "simtrade", NULL};
static const char *const order_quote_fop[] = {
    "code", "date", "time", "underlying_price", "open", "avg_price", "close", "high", "low",
    "amount", "total_amount", "volume", "total_volume", "tick_type", "chg_type", "price_chg",
    "pct_chg", "bid_side_total_vol", "ask_side_total_vol", "bid_side_total_cnt",
    "ask_side_total_cnt", "bid_price", "bid_volume", "diff_bid_vol", "ask_price", "ask_volume",
    "diff_ask_vol", "first_derived_bid_price", "first_derived_ask_price",
    "first_derived_bid_vol", "first_derived_ask_vol", "simtrade", NULL};
static const char *const order_tick_stk_v150[] = {
    "code", "date", "time", "open", "close", "high", "low", "avg_price", "amount", "amount_sum",
    "volume", "vol_sum", "tick_type", "chg_type", "diff_price", "diff_rate", "trade_bid_vol_sum",
    "trade_ask_vol_sum", "simtrade", "suspend", "intraday_odd", NULL};
static const char *const order_tick_fop_v150[] = {
    "code", "date", "time", "open", "close", "high", "low", "avg_price", "amount", "amount_sum",
    "volume", "vol_sum", "tick_type", "diff_price", "diff_rate", "target_kind_price",
    "trade_bid_vol_sum", "trade_ask_vol_sum", "simtrade", NULL};
static const char *const order_bidask_stk[] = {
    "code", "date", "time", "bid_price", "bid_volume", "diff_bid_vol", "ask_price", "ask_volume",
    "diff_ask_vol", "suspend", "simtrade", "intraday_odd", NULL};
static const char *const order_bidask_fop[] = {
    "code", "date", "time", "bid_total_vol", "ask_total_vol", "bid_price", "bid_volume",
    "diff_bid_vol", "ask_price", "ask_volume", "diff_ask_vol", "first_derived_bid_price",
    "first_derived_ask_price", "first_derived_bid_vol", "first_derived_ask_vol",
    "underlying_price", "simtrade", NULL};
/* Sinotrade/Shioaji@046010c plugins/shioaji/skills/shioaji/references/STREAMING.md:619 */
static const char *const order_quote_idx[] = {
    "exchange", "code", "Date", "Time", "Reference", "Open", "High", "Low", "Close", NULL};

/* Which keys a payload is read with: 0 the trade fields (tick, quote's trade
 * half, index), 1 the book fields (bidask, quote's book half). */
enum { MAP_TRADE = 0, MAP_BOOK = 1, MAP_INDEX = 2 };

/* Map a key as the parser would for a payload read with map. */
static int field_for(const char *k, size_t n, int map) {
    if (map == MAP_INDEX) return field_of_idx(k, n);
    int f = field_of(k, n);
    /* Tick fields in a book payload (and the reverse) are not ours: the
     * union would mix them up. Skip them like unknown keys. */
    if (f >= F_FIRST_TICK && (f >= F_FIRST_BOOK) != (map == MAP_BOOK)) f = F_UNKNOWN;
    return f;
}

static void build_seq(key_seq *sq, const char *const *names, int map) {
    memset(sq->pos, -1, sizeof sq->pos);
    for (sq->n = 0; names[sq->n] && sq->n < SEQ_MAX; sq->n++) {
        key_pat *kp = &sq->k[sq->n];
        size_t nl = strlen(names[sq->n]);
        if (nl + 3 > sizeof kp->text) break; /* cannot happen with the names above */
        memset(kp->text, 0, sizeof kp->text);
        kp->text[0] = '"';
        memcpy(kp->text + 1, names[sq->n], nl);
        kp->text[nl + 1] = '"';
        kp->text[nl + 2] = ':';
        kp->len = (uint8_t)(nl + 3);
        kp->mask0 = kp->len >= 16 ? 0xFFFFu : (1u << kp->len) - 1;
        memset(kp->tail, 0, sizeof kp->tail);
        if (kp->len > 16) memcpy(kp->tail, kp->text + kp->len - 16, 16);
        kp->f = (uint8_t)field_for(names[sq->n], nl, map);
        if (kp->f != F_UNKNOWN) sq->pos[kp->f] = (int8_t)sq->n;
    }
}

static void build_pair(int tag, int half, const char *const *v17, const char *const *v150,
                       int map) {
    build_seq(&seqs[tag][half][0], v17, map);
    build_seq(&seqs[tag][half][1], v150, map);
}

/* Built once at load time (before any thread can call psr_parse); read-only after. */
__attribute__((constructor)) static void build_seqs(void) {
    build_pair(PSR_TAG_TICK_STK, 0, order_tick_stk, order_tick_stk_v150, MAP_TRADE);
    build_pair(PSR_TAG_TICK_FOP, 0, order_tick_fop, order_tick_fop_v150, MAP_TRADE);
    build_pair(PSR_TAG_QUOTE_STK, 0, order_quote_stk, order_tick_stk_v150, MAP_TRADE);
    build_pair(PSR_TAG_QUOTE_STK, 1, order_quote_stk, order_tick_stk_v150, MAP_BOOK);
    build_pair(PSR_TAG_QUOTE_FOP, 0, order_quote_fop, order_tick_fop_v150, MAP_TRADE);
    build_pair(PSR_TAG_QUOTE_FOP, 1, order_quote_fop, order_tick_fop_v150, MAP_BOOK);
    build_pair(PSR_TAG_BIDASK_STK, 1, order_bidask_stk, order_bidask_stk, MAP_BOOK);
    build_pair(PSR_TAG_BIDASK_FOP, 1, order_bidask_fop, order_bidask_fop, MAP_BOOK);
    build_pair(PSR_TAG_QUOTE_IDX, 0, order_quote_idx, order_quote_idx, MAP_INDEX);
}

/* Whether the key k[0..n) is the pattern kp's name. */
static inline int pat_is(const key_pat *kp, const char *k, size_t n) {
    return kp->len == n + 3 && memcmp(kp->text + 1, k, n) == 0;
}

/* Zero field f's slot (a value that was lost). */
static void field_zero(shj_event *ev, int f) {
    const field_def *fd = &fields[f];
    char *slot = (char *)ev + fd->off;
    switch (fd->type) {
    case T_FLAG: ev->flags &= ~(uint32_t)fd->off; break;
    case T_DEC: case T_PCT: case T_I64: memset(slot, 0, sizeof(int64_t)); break;
    case T_I32: memset(slot, 0, sizeof(int32_t)); break;
    case T_I8: memset(slot, 0, sizeof(int8_t)); break;
    case T_ADEC: memset(slot, 0, 5 * sizeof(int64_t)); break;
    case T_AI32: memset(slot, 0, 5 * sizeof(int32_t)); break;
    default: break; /* code, date, time: essential, never lost */
    }
}

static inline int key_match(const key_pat *kp, const char *p, const char *e) {
#ifdef JS_SSE2
    /* One 16-byte compare, two for long keys. Both loads stay inside
     * [p, e) when e - p >= 16 and >= len (the second one ends at p + len),
     * so the last key of a payload takes this path too, not memcmp. */
    if (LIKELY(e - p >= 16 && e - p >= kp->len)) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)kp->text);
        uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
        if ((m & kp->mask0) != kp->mask0) return 0;
        if (kp->len <= 16) return 1;
        a = _mm_loadu_si128((const __m128i *)(const void *)(p + kp->len - 16));
        b = _mm_loadu_si128((const __m128i *)(const void *)kp->tail);
        return _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) == 0xFFFF;
    }
#endif
    return (size_t)(e - p) >= kp->len && memcmp(p, kp->text, kp->len) == 0;
}

/* The top-level object: keys walked once, each value read in place. The
 * cursor lives in a local (register); s->p is only synced for slow calls. */
static int parse_object(scan *s, int tag, int map, shj_event *ev, parsed_extra *x,
                        uint64_t *seen) {
    const char *p = s->p, *e = s->end;
    uint64_t got = 0; /* *seen, kept in a register: ev may alias it for the compiler */
    /* The 1.7.x order first; a miss that the 1.5.0 order explains switches
     * to that one (and back). */
    const key_seq *sq = &seqs[tag][map == MAP_BOOK][0], *alt = &seqs[tag][map == MAP_BOOK][1];
    unsigned si = 0; /* index of the key expected next in sq */
    p = fast_ws(p, e);
    if (p >= e || *p != '{') {
        s->p = p;
        return unexpected(s, "'{'");
    }
    p = fast_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        if (p >= e || *p != '"') {
            s->p = p;
            return unexpected(s, "'\"' (a key)");
        }
        const char *k = p + 1, *kend;
        int f;
        if (LIKELY(si < sq->n && key_match(&sq->k[si], p, e))) { /* the predicted key */
            f = sq->k[si].f;
            kend = p + sq->k[si].len - 2;
            p += sq->k[si].len; /* whitespace before the value: see the slow branch */
            si++;
        } else {
            kend = js_find_special(k, e);
            if (LIKELY(kend < e && *kend == '"')) { /* a plain key */
                f = field_for(k, (size_t)(kend - k), map);
                p = kend + 1;
            } else { /* escapes or broken: the strict string reader */
                size_t kn;
                int esc;
                s->p = k;
                if (string_body(s, &k, &kn, &esc) != 0) return -1;
                kend = k + kn;
                p = s->p;
                char tmp[32]; /* an escaped spelling of a known key still is that key */
                long un = js_unescape(k, kn, tmp, sizeof tmp);
                f = un > 0 ? field_for(tmp, (size_t)un, map) : F_UNKNOWN;
            }
            if (f != F_UNKNOWN) { /* resync on the key found */
                size_t kl = (size_t)(kend - k);
                int cp = sq->pos[f], ap = alt->pos[f];
                /* Switch to the other order when only it names this key so,
                 * or when it has this key right after the previous one
                 * (1.5.0's "open","close" where 1.7.x has "open","avg_price"). */
                int pf = si > 0 ? sq->k[si - 1].f : F_UNKNOWN;
                int here = cp >= 0 && pat_is(&sq->k[cp], k, kl);
                if (ap >= 0 && pat_is(&alt->k[ap], k, kl) &&
                    (!here || (pf != F_UNKNOWN && ap > 0 && alt->pos[pf] == ap - 1))) {
                    const key_seq *t = sq;
                    sq = alt;
                    alt = t;
                    cp = ap;
                }
                if (cp >= 0) si = (unsigned)cp + 1;
            }
            p = fast_ws(p, e);
            if (p >= e || *p != ':') {
                s->p = p;
                return unexpected(s, "':'");
            }
            p = fast_ws(p + 1, e);
        }
        if (f == F_UNKNOWN) {
            const char *q = fast_skip(p, e);
            if (LIKELY(q != NULL)) {
                p = q;
            } else {
                s->p = fast_ws(p, e);
                if (skip_value(s, 1) != 0) return -1;
                p = s->p;
            }
        } else {
            const char *q = fast_field(p, e, f, ev, x);
            if (LIKELY(q != NULL)) {
                got |= FB(f);
                p = q;
            } else {
                int present = 0;
                const char *v0 = fast_ws(p, e);
                s->p = v0;
                s->key = k;
                s->keylen = (size_t)(kend - k);
                if (read_field(s, f, ev, x, &present) != 0) {
                    /* A value we cannot hold. If it is still valid JSON
                     * and the field does not carry the event, leave it 0
                     * and flag the event (parse.h); else the payload is
                     * malformed and err already says why. */
                    if (FB(f) & ESSENTIAL) return -1;
                    s->p = v0;
                    if (skip_value(s, 1) != 0) return -1;
                    field_zero(ev, f);
                    x->lost = 1;
                    present = 1;
                }
                p = s->p;
                if (present)
                    got |= FB(f);
                else
                    got &= ~FB(f);
            }
        }
        if (LIKELY(p < e && *p == ',')) {
            p++;
            if (UNLIKELY(p < e && *p != '"')) p = fast_ws(p, e); /* compact JSON has none */
            continue;
        }
        p = fast_ws(p, e);
        if (p < e && *p == ',') {
            p = fast_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            break;
        }
        s->p = p;
        return unexpected(s, "',' or '}'");
    }
tail:
    p = fast_ws(p, e);
    s->p = p;
    if (p != e) return fail(s, "trailing bytes after the JSON object at byte %zu", off(s));
    *seen = got;
    return 0;
}

/* A small direct-mapped memo code -> instrument id in front of inst_intern
 * (whose key building, hashing and probing cost ~120 instructions a
 * payload; a feed has few codes and repeats them). A hit is only trusted
 * after comparing the code with the id's own record, so it is exactly
 * inst_intern's answer even after inst_reset or a reused id: codes are
 * unique in the table, and both sides are zero-padded to 16 bytes.
 * Loop-thread only, like inst_intern itself. */
#define CODE_MEMO_BITS 6
_Static_assert(SHJ_CODE_MAX == 16 && sizeof(((inst_info *)0)->code) == 16,
               "code_lookup compares codes as two zero-padded 64-bit words");
static uint32_t code_memo[1u << CODE_MEMO_BITS];

static inline uint32_t code_slot(const char code[SHJ_CODE_MAX], uint64_t w[2]) {
    memcpy(w, code, 2 * sizeof(uint64_t));
    return (uint32_t)(((w[0] ^ w[1]) * 0x9E3779B97F4A7C15ull) >> (64 - CODE_MEMO_BITS));
}

/* Id of code from the memo (and its record in *info), or 0 on a miss. */
static inline uint32_t code_lookup(const char code[SHJ_CODE_MAX], const inst_info **info) {
    uint64_t w[2], r[2];
    uint32_t id = code_memo[code_slot(code, w)];
    const inst_info *rec = id ? inst_get(id) : NULL;
    if (!rec) return 0;
    memcpy(r, rec->code, sizeof r);
    if (r[0] != w[0] || r[1] != w[1]) return 0;
    *info = rec;
    return id;
}

static inline void code_remember(const char code[SHJ_CODE_MAX], uint32_t id) {
    uint64_t w[2];
    code_memo[code_slot(code, w)] = id;
}

/* What each tag means before the payload is read. */
typedef struct {
    uint8_t kind, map, exchange, sec_type; /* kind 0: not a market payload */
    uint8_t pct_hundredths;                /* see read_pct */
} tag_def;

static const tag_def tag_defs[PSR_TAG_MAX] = {
    [PSR_TAG_TICK_STK] = {SHJ_KIND_TICK, MAP_TRADE, SHJ_EX_TSE, SHJ_SEC_STK, 1},
    [PSR_TAG_QUOTE_STK] = {SHJ_KIND_QUOTE, MAP_TRADE, SHJ_EX_TSE, SHJ_SEC_STK, 1},
    [PSR_TAG_BIDASK_STK] = {SHJ_KIND_BIDASK, MAP_BOOK, SHJ_EX_TSE, SHJ_SEC_STK, 1},
    [PSR_TAG_TICK_FOP] = {SHJ_KIND_TICK, MAP_TRADE, SHJ_EX_TAIFEX, SHJ_SEC_FUT, 0},
    [PSR_TAG_QUOTE_FOP] = {SHJ_KIND_QUOTE, MAP_TRADE, SHJ_EX_TAIFEX, SHJ_SEC_FUT, 0},
    [PSR_TAG_BIDASK_FOP] = {SHJ_KIND_BIDASK, MAP_BOOK, SHJ_EX_TAIFEX, SHJ_SEC_FUT, 0},
    [PSR_TAG_QUOTE_IDX] = {SHJ_KIND_QUOTE, MAP_INDEX, SHJ_EX_TSE, SHJ_SEC_IND, 0},
};

/* A control payload (heartbeat): nothing to publish, but it must still be
 * one well-formed JSON object, or it is counted as malformed like any other. */
static int parse_control(scan *s) {
    ws(s);
    if (s->p < s->end && *s->p != '{') return unexpected(s, "'{'");
    if (skip_value(s, 0) != 0) return -1;
    ws(s);
    if (s->p != s->end) return fail(s, "trailing bytes after the JSON object at byte %zu", off(s));
    return 0;
}

/* One market payload read with map (a quote's book half: MAP_BOOK). */
static int parse_market(psr_memo *memo, int tag, int map, const char *json, size_t len,
                        shj_event *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    scan s = {json, json + len, json, tag, err, errlen, "", 0};
    if (!json) s.p = s.end = s.base = "";
    const tag_def *td = &tag_defs[tag];
    parsed_extra x = {0, 0, memo, td->pct_hundredths, 0};
    uint64_t seen = 0;
    if (parse_object(&s, tag, map, out, &x, &seen) != 0) return PSR_MALFORMED;

    uint64_t req = map == MAP_BOOK ? REQ_BOOK : REQ_TICK;
    uint64_t missing = req & ~seen;
    if (missing) {
        /* A quote without any book arrays simply has no book half. */
        if (map != td->map && (seen & req & ~ESSENTIAL) == 0 && !(missing & ESSENTIAL))
            return PSR_CONTROL;
        int f = __builtin_ctzll(missing);
        fail(&s, "missing required field \"%s\"", fields[f].name);
        return PSR_MALFORMED;
    }
    out->kind = map == MAP_BOOK ? SHJ_KIND_BIDASK : td->kind;
    out->exchange = td->exchange;
    out->sec_type = td->sec_type;
    out->payload_tag = (uint8_t)tag;
    out->ts_exch_ns = x.day_ns + x.ns_of_day;
    if (x.lost) out->flags |= SHJ_FLAG_FIELD_LOST;
    return PSR_EVENT;
}

int psr_parse_payload(psr_memo *memo, int tag, const char *json, size_t len, shj_event *out,
                      char *err, size_t errlen) {
    if (tag == PSR_TAG_HEARTBEAT) {
        memset(out, 0, sizeof *out);
        scan s = {json, json + len, json, tag, err, errlen, "", 0};
        if (!json) s.p = s.end = s.base = "";
        out->payload_tag = (uint8_t)tag;
        return parse_control(&s) == 0 ? PSR_CONTROL : PSR_MALFORMED;
    }
    if (tag <= 0 || tag >= PSR_TAG_MAX || tag_defs[tag].kind == 0) {
        /* order_event, contract_event, a name we do not know: not market
         * data. Not read at all (its shape is not ours to judge); the raw
         * archive keeps it. */
        memset(out, 0, sizeof *out);
        out->payload_tag = (uint8_t)(tag > 0 && tag < PSR_TAG_MAX ? tag : 0);
        return PSR_OTHER;
    }
    return parse_market(memo, tag, tag_defs[tag].map, json, len, out, err, errlen);
}

int psr_resolve(shj_event *ev, char *err, size_t errlen) {
    const inst_info *info;
    uint32_t id = code_lookup(ev->code, &info);
    if (id == 0) {
        /* the tag's defaults, as psr_parse_payload set them */
        id = inst_intern(ev->code, strnlen(ev->code, sizeof ev->code), ev->exchange, ev->sec_type);
        if (id == 0) {
            shj_fail(err, errlen, "%s: instrument table full, cannot add \"%.*s\"",
                     psr_tag_name(ev->payload_tag), (int)sizeof ev->code, ev->code);
            return PSR_MALFORMED;
        }
        code_remember(ev->code, id);
        info = inst_get(id);
    }
    if (info) { /* a subscription may know better than the tag's default */
        if (info->exchange) ev->exchange = info->exchange;
        if (info->sec_type) ev->sec_type = info->sec_type;
    }
    ev->inst_id = id;
    return PSR_EVENT;
}

/* The loop thread's memo for psr_parse. */
static psr_memo loop_memo;

int psr_parse(int tag, const char *json, size_t len, shj_event *out, char *err, size_t errlen) {
    int rc = psr_parse_payload(&loop_memo, tag, json, len, out, err, errlen);
    return rc == PSR_EVENT ? psr_resolve(out, err, errlen) : rc;
}

int psr_parse_book(int tag, const char *json, size_t len, shj_event *out, char *err,
                   size_t errlen) {
    if (!psr_tag_has_book(tag)) {
        memset(out, 0, sizeof *out);
        shj_fail(err, errlen, "%s: payloads of this kind carry no book", psr_tag_name(tag));
        return PSR_MALFORMED;
    }
    int rc = parse_market(&loop_memo, tag, MAP_BOOK, json, len, out, err, errlen);
    return rc == PSR_EVENT ? psr_resolve(out, err, errlen) : rc;
}
