/* ch_jsonl.c — strict, exact reader of fallback JSONL lines (see ch_jsonl.h).
 *
 * Two passes over a flat object: a tokenizer records each key and the span
 * of its value (validating JSON syntax), then a table maps known keys onto
 * shj_event fields. Restore is not the hot path; clarity wins over speed.
 */
#include "clickhouse/ch_jsonl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "core/json_skip.h"
#include "core/names.h"
#include "core/shj_common.h"

enum { V_STR, V_NUM, V_ARR, V_LIT, V_OBJ };

#define MAX_DEPTH 32 /* nesting skipped over in a lenient value */

#define MAX_FIELDS 64

typedef struct jfield {
    const char *k;
    size_t kn;
    int type;
    const char *v; /* V_STR: inside the quotes; V_ARR: inside the brackets */
    size_t vn;
    size_t col;    /* byte column of the value (1-based) */
    int used;
} jfield;

typedef struct jctx {
    const char *s, *p, *e;
    jfield f[MAX_FIELDS];
    int nf;
    int lenient;   /* values of any shape (nested objects/arrays) are syntax-checked and skipped over */
    char *why;
    size_t cap;
} jctx;

static int fail(jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(jctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->cap, fmt, ap);
    va_end(ap);
    return SHJ_ERR;
}

static size_t col(const jctx *c, const char *at) { return (size_t)(at - c->s) + 1; }

static void ws(jctx *c) {
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) c->p++;
}

/* A string starting at the opening quote; sets [*b, *n) to its body. */
static int scan_string(jctx *c, const char **b, size_t *n) {
    const char *start = c->p++;
    *b = c->p;
    while (c->p < c->e) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            *n = (size_t)(c->p - *b);
            c->p++;
            return SHJ_OK;
        }
        if (ch < 0x20) return fail(c, "control byte 0x%02x inside a string (column %zu)", ch, col(c, c->p));
        if (ch == '\\') {
            if (c->p + 1 >= c->e) break;
            char x = c->p[1];
            if (x == 'u') {
                if (c->e - c->p < 6) break;
                for (int i = 2; i < 6; i++) {
                    char h = c->p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return fail(c, "bad \\u escape (column %zu)", col(c, c->p));
                }
                c->p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", x) || x == '\0') return fail(c, "bad escape \\%c (column %zu)", x, col(c, c->p));
            c->p += 2;
            continue;
        }
        c->p++;
    }
    return fail(c, "unterminated string starting at column %zu (truncated line?)", col(c, start));
}

static int scan_number(jctx *c) {
    const char *q = c->p;
    if (q < c->e && *q == '-') q++;
    const char *d = q;
    while (q < c->e && *q >= '0' && *q <= '9') q++;
    if (q == d) return fail(c, "bad number at column %zu", col(c, c->p));
    if (q < c->e && *q == '.') {
        q++;
        const char *f = q;
        while (q < c->e && *q >= '0' && *q <= '9') q++;
        if (q == f) return fail(c, "bad number at column %zu", col(c, c->p));
    }
    if (q < c->e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < c->e && (*q == '+' || *q == '-')) q++;
        const char *x = q;
        while (q < c->e && *q >= '0' && *q <= '9') q++;
        if (q == x) return fail(c, "bad number at column %zu", col(c, c->p));
    }
    /* "58x.5": say so, rather than "expected ','" at the x */
    const char *r = q;
    while (r < c->e && (isalnum((unsigned char)*r) || *r == '.' || *r == '_')) r++;
    if (r != q) return fail(c, "bad number '%.*s' at column %zu", (int)(r - c->p > 40 ? 40 : r - c->p), c->p, col(c, c->p));
    c->p = q;
    return SHJ_OK;
}

/* A whole object or array at c->p, any nesting up to MAX_DEPTH, checked for
 * syntax by the one strict skipper (core/json_skip.h) and skipped. */
static int skip_nested(jctx *c, int depth) {
    char open = *c->p;
    jsk_error e;
    const char *q = jsk_value(c->p, c->e, MAX_DEPTH - depth + 1, 0, &e);
    if (q) {
        c->p = q;
        return SHJ_OK;
    }
    if (e.status == JSK_DEPTH) return fail(c, "nested deeper than %d levels at column %zu", MAX_DEPTH, col(c, e.at));
    if (e.status == JSK_TRUNCATED) return fail(c, "%s not closed (truncated line?)", open == '{' ? "object" : "array");
    return fail(c, "expected %s at column %zu", e.expected, col(c, e.at));
}

static int scan_value(jctx *c, jfield *f, int depth) {
    ws(c);
    if (c->p >= c->e) return fail(c, "value missing at end of line (truncated line?)");
    f->col = col(c, c->p);
    char ch = *c->p;
    if (ch == '"') {
        f->type = V_STR;
        return scan_string(c, &f->v, &f->vn);
    }
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        f->type = V_NUM;
        f->v = c->p;
        if (scan_number(c) != SHJ_OK) return SHJ_ERR;
        f->vn = (size_t)(c->p - f->v);
        return SHJ_OK;
    }
    if (c->lenient && (ch == '{' || ch == '[')) {
        /* V_OBJ: the span with its braces (to be tokenized again);
         * V_ARR: inside the brackets, as below */
        const char *start = c->p;
        if (skip_nested(c, depth + 1) != SHJ_OK) return SHJ_ERR;
        f->type = ch == '{' ? V_OBJ : V_ARR;
        f->v = ch == '{' ? start : start + 1;
        f->vn = (size_t)(c->p - start) - (ch == '{' ? 0 : 2);
        return SHJ_OK;
    }
    if (ch == '[') {
        if (depth > 0) return fail(c, "nested array at column %zu", col(c, c->p));
        f->type = V_ARR;
        c->p++;
        f->v = c->p;
        ws(c);
        if (c->p < c->e && *c->p == ']') {
            f->vn = (size_t)(c->p - f->v);
            c->p++;
            return SHJ_OK;
        }
        for (;;) {
            jfield el;
            if (scan_value(c, &el, depth + 1) != SHJ_OK) return SHJ_ERR;
            ws(c);
            if (c->p >= c->e) return fail(c, "unterminated array (truncated line?)");
            if (*c->p == ']') {
                f->vn = (size_t)(c->p - f->v);
                c->p++;
                return SHJ_OK;
            }
            if (*c->p != ',') return fail(c, "expected ',' or ']' at column %zu", col(c, c->p));
            c->p++;
        }
    }
    static const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(c->e - c->p) >= n && memcmp(c->p, lits[i], n) == 0) {
            f->type = V_LIT;
            f->v = c->p;
            f->vn = n;
            c->p += n;
            return SHJ_OK;
        }
    }
    if (ch == '{') return fail(c, "nested object at column %zu", col(c, c->p));
    return fail(c, "unexpected '%c' at column %zu", ch, col(c, c->p));
}

static int tokenize(jctx *c) {
    ws(c);
    if (c->p >= c->e) return fail(c, "empty line");
    if (*c->p != '{') return fail(c, "line does not start with '{' (column %zu)", col(c, c->p));
    c->p++;
    ws(c);
    if (c->p < c->e && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            ws(c);
            if (c->p >= c->e) return fail(c, "object not closed (truncated line?)");
            if (*c->p != '"') return fail(c, "expected a key at column %zu", col(c, c->p));
            if (c->nf == MAX_FIELDS) return fail(c, "more than %d keys", MAX_FIELDS);
            jfield *f = &c->f[c->nf];
            memset(f, 0, sizeof *f);
            if (scan_string(c, &f->k, &f->kn) != SHJ_OK) return SHJ_ERR;
            for (int i = 0; i < c->nf; i++)
                if (c->f[i].kn == f->kn && memcmp(c->f[i].k, f->k, f->kn) == 0)
                    return fail(c, "duplicate key '%.*s'", (int)f->kn, f->k);
            ws(c);
            if (c->p >= c->e || *c->p != ':') return fail(c, "expected ':' after key '%.*s' (truncated line?)", (int)f->kn, f->k);
            c->p++;
            if (scan_value(c, f, 0) != SHJ_OK) return SHJ_ERR;
            c->nf++;
            ws(c);
            if (c->p >= c->e) return fail(c, "object not closed (truncated line?)");
            if (*c->p == '}') {
                c->p++;
                break;
            }
            if (*c->p != ',') return fail(c, "expected ',' or '}' at column %zu", col(c, c->p));
            c->p++;
        }
    }
    ws(c);
    if (c->p != c->e) return fail(c, "junk after the object at column %zu", col(c, c->p));
    return SHJ_OK;
}

/* ---- field mapping ------------------------------------------------------ */

static jfield *find(jctx *c, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < c->nf; i++)
        if (c->f[i].kn == n && memcmp(c->f[i].k, name, n) == 0) {
            c->f[i].used = 1;
            return &c->f[i];
        }
    return NULL;
}

static jfield *need(jctx *c, const char *name) {
    jfield *f = find(c, name);
    if (!f) fail(c, "missing field '%s'", name);
    return f;
}

/* Digits of an integer, from a number or a string. */
static int int_text(jctx *c, const char *name, const jfield *f, int64_t lo, uint64_t hi, int64_t *out_s, uint64_t *out_u) {
    if (f->type != V_NUM && f->type != V_STR) return fail(c, "field '%s': not a number (column %zu)", name, f->col);
    const char *p = f->v, *e = f->v + f->vn;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    if (p == e) return fail(c, "field '%s': empty number (column %zu)", name, f->col);
    uint64_t v = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return fail(c, "field '%s': '%.*s' is not an integer (column %zu)", name, (int)f->vn, f->v, f->col);
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return fail(c, "field '%s': %.*s overflows (column %zu)", name, (int)f->vn, f->v, f->col);
        v = v * 10 + d;
    }
    if (neg) {
        if (v == 0) {
            *out_s = 0;
        } else {
            if (lo >= 0 || v - 1 > (uint64_t)(-(lo + 1)))
                return fail(c, "field '%s': %.*s out of range (column %zu)", name, (int)f->vn, f->v, f->col);
            *out_s = -(int64_t)(v - 1) - 1;
        }
        if (out_u) *out_u = 0;
        return SHJ_OK;
    }
    if (v > hi) return fail(c, "field '%s': %.*s out of range (column %zu)", name, (int)f->vn, f->v, f->col);
    if (out_u) *out_u = v;
    *out_s = (int64_t)(v > (uint64_t)INT64_MAX ? INT64_MAX : v);
    return SHJ_OK;
}

static int get_int(jctx *c, const char *name, int64_t lo, int64_t hi, int64_t *out) {
    jfield *f = need(c, name);
    if (!f) return SHJ_ERR;
    return int_text(c, name, f, lo, (uint64_t)hi, out, NULL);
}

static int get_dec_el(jctx *c, const char *name, const char *v, size_t n, size_t colno, int64_t *out) {
    if (dec_parse(v, n, out) != 0)
        return fail(c, "field '%s': '%.*s' is not an exact decimal with <= %d places (column %zu)", name,
                    (int)(n > 40 ? 40 : n), v, SHJ_PRICE_DECIMALS, colno);
    return SHJ_OK;
}

static int get_dec(jctx *c, const char *name, int64_t *out) {
    jfield *f = need(c, name);
    if (!f) return SHJ_ERR;
    if (f->type != V_NUM && f->type != V_STR) return fail(c, "field '%s': not a number (column %zu)", name, f->col);
    return get_dec_el(c, name, f->v, f->vn, f->col, out);
}

/* Array of exactly SHJ_LEVELS elements: decimals (i64 out) or integers (i32 out). */
static int get_arr(jctx *c, const char *name, int decimal, int64_t *o64, int32_t *o32) {
    jfield *f = need(c, name);
    if (!f) return SHJ_ERR;
    if (f->type != V_ARR) return fail(c, "field '%s': not an array (column %zu)", name, f->col);
    jctx sub = *c;
    sub.p = f->v;
    sub.e = f->v + f->vn;
    sub.lenient = 0;
    int n = 0;
    for (;;) {
        ws(&sub);
        if (sub.p >= sub.e) break;
        jfield el;
        memset(&el, 0, sizeof el);
        if (scan_value(&sub, &el, 1) != SHJ_OK) return SHJ_ERR;
        if (n == SHJ_LEVELS) return fail(c, "field '%s': more than %d levels (column %zu)", name, SHJ_LEVELS, f->col);
        if (el.type != V_NUM && el.type != V_STR) return fail(c, "field '%s': level %d is not a number", name, n + 1);
        if (decimal) {
            if (get_dec_el(c, name, el.v, el.vn, el.col, &o64[n]) != SHJ_OK) return SHJ_ERR;
        } else {
            int64_t v;
            if (int_text(c, name, &el, INT32_MIN, INT32_MAX, &v, NULL) != SHJ_OK) return SHJ_ERR;
            o32[n] = (int32_t)v;
        }
        n++;
        ws(&sub);
        if (sub.p < sub.e && *sub.p == ',') sub.p++;
    }
    if (n != SHJ_LEVELS) return fail(c, "field '%s': %d levels, expected %d (column %zu)", name, n, SHJ_LEVELS, f->col);
    return SHJ_OK;
}

static int name_index(const jfield *f, const char *const *names, int count) {
    if (f->type != V_STR) return -1;
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == f->vn && memcmp(names[i], f->v, f->vn) == 0) return i;
    return -1;
}

static int get_enum(jctx *c, const char *name, const char *const *names, int count, uint8_t *out) {
    jfield *f = need(c, name);
    if (!f) return SHJ_ERR;
    int i = name_index(f, names, count);
    if (i < 0) {
        int64_t v;
        if (f->type == V_NUM && int_text(c, name, f, 0, (uint64_t)count - 1, &v, NULL) == SHJ_OK) {
            *out = (uint8_t)v;
            return SHJ_OK;
        }
        return fail(c, "field '%s': unknown value '%.*s' (column %zu)", name, (int)(f->vn > 20 ? 20 : f->vn), f->v, f->col);
    }
    *out = (uint8_t)i;
    return SHJ_OK;
}

/* ---- the Python shijim's lines (the "seed") --------------------------------
 *
 * Its ClickHouseWriter wrote a failed batch as orjson.dumps(event) of the
 * MDTickEvent / MDBookEvent dataclasses (Charliesj0129/shijim @06999f7,
 * shijim/events/schema.py, shijim/recorder/clickhouse_writer.py
 * _handle_failed_batch) into <dir>/ticks/<day>.jsonl and <dir>/books/<day>.jsonl:
 *   {"ts_ns":1763627620000999936,"symbol":"TXFL5","asset_type":"futures",
 *    "exchange":"TAIFEX","extras":{...},"type":"MD_TICK","price":27223.0,
 *    "size":87,"side":"buy","total_volume":87,"total_amount":2368401.0,
 *    "price_chg":617.0,"pct_chg":2.319026}
 * Prices are Python floats printed shortest-round-trip; ts_ns is Taipei wall
 * time labelled UTC (normalizers.py _datetime_to_ns: a naive datetime given
 * tzinfo=utc) computed through a float (int(dt.timestamp() * 1e9): off by up
 * to ~256 ns). How each field maps is in docs/clickhouse.md. */

/* A JSON number's text × 10^decimals, rounded to the nearest integer, ties
 * away from zero; exact whenever the text has at most `decimals` places.
 * *rounded is set when digits were dropped. 0 ok, -1 not a number / overflow. */
static int num_scaled(const char *v, size_t n, int decimals, int64_t *out, int *rounded) {
    const char *p = v, *e = v + n;
    int neg = 0;
    *rounded = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = *p == '-', p++;
    char dig[40];
    int nd = 0, point = -1, dropped_nonzero = 0, any = 0;
    long exp10 = 0;
    for (; p < e && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
        if (*p == '.') {
            if (point >= 0) return -1;
            point = nd;
            continue;
        }
        any = 1;
        if (nd == 0 && *p == '0') { /* leading zero: only moves the point */
            if (point >= 0) exp10--;
            continue;
        }
        if (nd < (int)sizeof dig) {
            dig[nd++] = *p;
            if (point >= 0) exp10--;
        } else {
            /* beyond 40 significant digits: far below any rounding that matters
             * unless it is the integer part, which then overflows anyway */
            if (point < 0) exp10++;
            if (*p != '0') dropped_nonzero = 1;
        }
    }
    if (!any) return -1;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '-' || *p == '+')) eneg = *p == '-', p++;
        if (p == e) return -1;
        long x = 0;
        for (; p < e && *p >= '0' && *p <= '9'; p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        exp10 += eneg ? -x : x;
    }
    if (p != e) return -1;
    long shift = exp10 + decimals; /* value × 10^decimals = dig × 10^shift */
    int keep = nd;
    int round_up = 0;
    if (shift < 0) {
        long k = (long)nd + shift;
        if (k < 0) {
            keep = 0;
            dropped_nonzero |= nd > 0;
        } else {
            keep = (int)k;
            if (keep < nd) round_up = dig[keep] >= '5';
            for (int i = keep; i < nd; i++) dropped_nonzero |= dig[i] != '0';
        }
        shift = 0;
    }
    uint64_t m = 0;
    for (int i = 0; i < keep; i++) {
        if (m > (UINT64_MAX - 9) / 10) return -1;
        m = m * 10 + (uint64_t)(dig[i] - '0');
    }
    if (m && shift > 19) return -1;
    for (long i = 0; m && i < shift; i++) {
        if (m > UINT64_MAX / 10) return -1;
        m *= 10;
    }
    if (round_up) m++;
    if (m > (uint64_t)INT64_MAX) return -1;
    *rounded = dropped_nonzero;
    *out = neg ? -(int64_t)m : (int64_t)m;
    return 0;
}

typedef struct seedctx {
    jctx *c;        /* the line */
    jctx *x;        /* its "extras" object, or NULL */
    chj_info *info;
} seedctx;

/* Field `name` of the line (extras = 0) or of extras (1); NULL when absent. */
static jfield *seed_field(seedctx *sc, int extras, const char *name) {
    if (extras) return sc->x ? find(sc->x, name) : NULL;
    return find(sc->c, name);
}

/* A number at scale 10^decimals: absent or null -> 0 (the seed's None). */
static int seed_num(seedctx *sc, int extras, const char *name, int decimals, int64_t lo, int64_t hi, int64_t *out) {
    jfield *f = seed_field(sc, extras, name);
    *out = 0;
    if (!f || (f->type == V_LIT && f->v[0] == 'n')) return SHJ_OK;
    const char *label = extras ? "extras." : "";
    if (f->type == V_LIT) { /* true / false (Shioaji's bool flags) */
        *out = f->v[0] == 't';
        return SHJ_OK;
    }
    int rounded = 0;
    if ((f->type != V_NUM && f->type != V_STR) || num_scaled(f->v, f->vn, decimals, out, &rounded) != 0)
        return fail(sc->c, "field '%s%s': '%.*s' is not a number in range (column %zu)", label, name,
                    (int)(f->vn > 40 ? 40 : f->vn), f->v, f->col);
    if (rounded && decimals == 0)
        return fail(sc->c, "field '%s%s': %.*s is not an integer (column %zu)", label, name,
                    (int)(f->vn > 40 ? 40 : f->vn), f->v, f->col);
    if (*out < lo || *out > hi)
        return fail(sc->c, "field '%s%s': %.*s out of range (column %zu)", label, name, (int)(f->vn > 40 ? 40 : f->vn),
                    f->v, f->col);
    sc->info->rounded += rounded;
    return SHJ_OK;
}

static int seed_dec(seedctx *sc, int extras, const char *name, int64_t *out) {
    return seed_num(sc, extras, name, SHJ_PRICE_DECIMALS, INT64_MIN, INT64_MAX, out);
}

/* A list of up to SHJ_LEVELS numbers (missing levels stay 0). */
static int seed_levels(seedctx *sc, int extras, const char *name, int decimal, int64_t *o64, int32_t *o32) {
    jfield *f = seed_field(sc, extras, name);
    if (!f || (f->type == V_LIT && f->v[0] == 'n')) return SHJ_OK;
    const char *label = extras ? "extras." : "";
    if (f->type != V_ARR) return fail(sc->c, "field '%s%s': not a list (column %zu)", label, name, f->col);
    jctx sub = *sc->c;
    sub.p = f->v;
    sub.e = f->v + f->vn;
    sub.lenient = 0;
    for (int n = 0;; n++) {
        ws(&sub);
        if (sub.p >= sub.e) return SHJ_OK;
        jfield el;
        memset(&el, 0, sizeof el);
        if (scan_value(&sub, &el, 1) != SHJ_OK) return SHJ_ERR;
        if (n == SHJ_LEVELS) return fail(sc->c, "field '%s%s': more than %d levels (column %zu)", label, name, SHJ_LEVELS, f->col);
        int64_t v = 0;
        int rounded = 0;
        if (!(el.type == V_LIT && el.v[0] == 'n')) {
            if (el.type != V_NUM || num_scaled(el.v, el.vn, decimal ? SHJ_PRICE_DECIMALS : 0, &v, &rounded) != 0 ||
                (!decimal && (rounded || v < INT32_MIN || v > INT32_MAX)))
                return fail(sc->c, "field '%s%s': level %d '%.*s' is not a%s in range (column %zu)", label, name, n + 1,
                            (int)(el.vn > 40 ? 40 : el.vn), el.v, decimal ? " number" : "n integer", el.col);
        }
        if (decimal) o64[n] = v;
        else o32[n] = (int32_t)v;
        sc->info->rounded += rounded;
        ws(&sub);
        if (sub.p < sub.e && *sub.p == ',') sub.p++;
    }
}

static int str_is(const jfield *f, const char *text) {
    return f && f->type == V_STR && f->vn == strlen(text) && memcmp(f->v, text, f->vn) == 0;
}

static int seed_line(jctx *c, const chj_opts *o, shj_event *ev, chj_info *info) {
    jctx x;
    seedctx sc = {c, NULL, info};
    jfield *type = find(c, "type"), *f;
    int book;
    if (str_is(type, "MD_TICK")) book = 0;
    else if (str_is(type, "MD_BOOK")) book = 1;
    else if (type)
        return fail(c, "field 'type': '%.*s' is neither MD_TICK nor MD_BOOK (column %zu)", (int)(type->vn > 20 ? 20 : type->vn),
                    type->v, type->col);
    else if (find(c, "bid_prices") || find(c, "ask_prices")) book = 1;
    else if (find(c, "price")) book = 0;
    else return fail(c, "a line of the Python shijim without 'type' (MD_TICK/MD_BOOK), 'price' or 'bid_prices'");

    /* Time: to the microsecond Shioaji gives (undoing the float's error),
     * then from Taipei-wall-time-as-UTC to UTC. */
    int64_t ts = 0;
    if (get_int(c, "ts_ns", 0, INT64_MAX - CLK_NS_PER_US, &ts) != SHJ_OK) return SHJ_ERR;
    if (ts <= 0)
        return fail(c, "field 'ts_ns': %lld: no time (the Python shijim wrote 0 when the broker gave none)", (long long)ts);
    ts = (ts + CLK_NS_PER_US / 2) / CLK_NS_PER_US * CLK_NS_PER_US;
    if (o->seed_shift_ns > 0 && ts < INT64_MIN + o->seed_shift_ns) return fail(c, "field 'ts_ns': out of range");
    ev->ts_exch_ns = ev->ts_recv_ns = ts - o->seed_shift_ns;

    jfield *code = need(c, "symbol");
    if (!code) return SHJ_ERR;
    if (code->type != V_STR || code->vn == 0 || code->vn >= sizeof ev->code)
        return fail(c, "field 'symbol': must be a string of 1..%zu bytes (column %zu)", sizeof ev->code - 1, code->col);
    for (size_t i = 0; i < code->vn; i++)
        if (code->v[i] == '\\' || (unsigned char)code->v[i] <= 0x20)
            return fail(c, "field 'symbol': unexpected byte at column %zu", code->col + i);
    memcpy(ev->code, code->v, code->vn);

    f = find(c, "asset_type");
    if (str_is(f, "stock")) ev->sec_type = SHJ_SEC_STK;
    else if (str_is(f, "futures") || str_is(f, "future")) ev->sec_type = SHJ_SEC_FUT;
    else if (str_is(f, "options") || str_is(f, "option")) ev->sec_type = SHJ_SEC_OPT;
    else if (str_is(f, "index")) ev->sec_type = SHJ_SEC_IND;
    f = find(c, "exchange");
    int ex = f && f->type == V_STR ? nm_exchange_of(f->v, f->vn) : -1;
    if (ex < 0) ex = ev->sec_type == SHJ_SEC_FUT || ev->sec_type == SHJ_SEC_OPT ? SHJ_EX_TAIFEX : SHJ_EX_UNKNOWN;
    ev->exchange = (uint8_t)ex;

    f = find(c, "extras");
    if (f && f->type == V_OBJ) {
        x = *c;
        x.p = f->v;
        x.e = f->v + f->vn;
        x.nf = 0;
        if (tokenize(&x) != SHJ_OK) return SHJ_ERR; /* x's message names the column */
        sc.x = &x;
    } else if (f && !(f->type == V_LIT && f->v[0] == 'n')) {
        return fail(c, "field 'extras': not an object (column %zu)", f->col);
    }

    ev->kind = book ? SHJ_KIND_BIDASK : SHJ_KIND_TICK;
    ev->source_id = CHJ_SEED_SOURCE_ID;
    ev->seq = o->line_no;
    int64_t v;
    if (seed_num(&sc, 1, "simtrade", 0, INT64_MIN, INT64_MAX, &v) != SHJ_OK) return SHJ_ERR;
    if (v) ev->flags |= SHJ_FLAG_SIMTRADE;
    if (seed_num(&sc, 1, "suspend", 0, INT64_MIN, INT64_MAX, &v) != SHJ_OK) return SHJ_ERR;
    if (v) ev->flags |= SHJ_FLAG_SUSPENDED;
    if (seed_num(&sc, 1, "intraday_odd", 0, INT64_MIN, INT64_MAX, &v) != SHJ_OK) return SHJ_ERR;
    if (v) ev->flags |= SHJ_FLAG_ODDLOT;

    if (book) {
        if (seed_levels(&sc, 0, "bid_prices", 1, ev->bid_price, NULL) != SHJ_OK ||
            seed_levels(&sc, 0, "ask_prices", 1, ev->ask_price, NULL) != SHJ_OK ||
            seed_levels(&sc, 0, "bid_volumes", 0, NULL, ev->bid_volume) != SHJ_OK ||
            seed_levels(&sc, 0, "ask_volumes", 0, NULL, ev->ask_volume) != SHJ_OK ||
            seed_levels(&sc, 1, "diff_bid_vol", 0, NULL, ev->diff_bid_vol) != SHJ_OK ||
            seed_levels(&sc, 1, "diff_ask_vol", 0, NULL, ev->diff_ask_vol) != SHJ_OK)
            return SHJ_ERR;
        return SHJ_OK;
    }
    /* top-level fields win; extras carries the rest (and copies of some) */
    static const struct {
        int extras;
        const char *name;
        size_t off;
    } decs[] = {
        {0, "price", offsetof(shj_event, close)},
        {1, "open", offsetof(shj_event, open)},
        {1, "high", offsetof(shj_event, high)},
        {1, "low", offsetof(shj_event, low)},
        {1, "avg_price", offsetof(shj_event, avg_price)},
        {1, "amount", offsetof(shj_event, amount)},
        {1, "underlying_price", offsetof(shj_event, underlying_price)},
    };
    for (size_t i = 0; i < sizeof decs / sizeof decs[0]; i++) {
        int64_t d;
        if (seed_dec(&sc, decs[i].extras, decs[i].name, &d) != SHJ_OK) return SHJ_ERR;
        memcpy((char *)ev + decs[i].off, &d, sizeof d);
    }
    static const char *const top_or_extras[][2] = {{"total_amount", "amount_sum"}, {"price_chg", "diff_price"},
                                                   {"pct_chg", "diff_rate"}};
    for (size_t i = 0; i < 3; i++) {
        int64_t d;
        int extras = !seed_field(&sc, 0, top_or_extras[i][0]) && seed_field(&sc, 1, top_or_extras[i][0]);
        if (seed_dec(&sc, extras, top_or_extras[i][0], &d) != SHJ_OK) return SHJ_ERR;
        if (i == 0) ev->amount_sum = d;
        else if (i == 1) ev->diff_price = d;
        else ev->diff_rate = d;
    }
    if (seed_num(&sc, 0, "size", 0, INT32_MIN, INT32_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->volume = (int32_t)v;
    if (seed_num(&sc, 0, "total_volume", 0, INT64_MIN, INT64_MAX, &ev->vol_sum) != SHJ_OK ||
        seed_num(&sc, 1, "bid_side_total_vol", 0, INT64_MIN, INT64_MAX, &ev->bid_side_vol_sum) != SHJ_OK ||
        seed_num(&sc, 1, "ask_side_total_vol", 0, INT64_MIN, INT64_MAX, &ev->ask_side_vol_sum) != SHJ_OK)
        return SHJ_ERR;
    if (seed_num(&sc, 1, "chg_type", 0, INT8_MIN, INT8_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->chg_type = (int8_t)v;
    /* Shioaji's tick_type when extras has it; else the seed's side */
    jfield *tt = seed_field(&sc, 1, "tick_type");
    if (tt && !(tt->type == V_LIT && tt->v[0] == 'n')) {
        if (seed_num(&sc, 1, "tick_type", 0, INT8_MIN, INT8_MAX, &v) != SHJ_OK) return SHJ_ERR;
        ev->tick_type = (int8_t)v;
    } else {
        f = find(c, "side");
        ev->tick_type = str_is(f, "buy") ? SHJ_SIDE_BUY : str_is(f, "sell") ? SHJ_SIDE_SELL : SHJ_SIDE_UNKNOWN;
    }
    return SHJ_OK;
}

int chj_parse_line(const char *s, size_t n, shj_event *ev, char *why, size_t cap) {
    return chj_parse_line_ex(s, n, NULL, ev, NULL, why, cap);
}

int chj_parse_line_ex(const char *s, size_t n, const chj_opts *o, shj_event *ev, chj_info *info, char *why,
                      size_t cap) {
    const char *const *kinds = nm_kinds, *const *exchanges = nm_exchanges, *const *sec_types = nm_sec_types;
    static const chj_opts defaults = {CHJ_SEED_SHIFT_NS, 0};
    chj_info scratch;
    jctx c;
    c.s = c.p = s;
    c.e = s + n;
    c.nf = 0;
    c.lenient = 1;
    c.why = why;
    c.cap = cap;
    memset(ev, 0, sizeof *ev);
    if (!info) info = &scratch;
    memset(info, 0, sizeof *info);
    if (tokenize(&c) != SHJ_OK) return SHJ_ERR;
    if (!find(&c, "kind") && (find(&c, "ts_ns") || find(&c, "type"))) {
        info->format = CHJ_FORMAT_SEED;
        return seed_line(&c, o ? o : &defaults, ev, info);
    }

    uint8_t kind = SHJ_KIND_NONE; /* set by get_enum on success; gcc -O3 cannot see it */
    if (get_enum(&c, "kind", kinds, SHJ_KIND_MAX, &kind) != SHJ_OK) return SHJ_ERR;
    if (kind != SHJ_KIND_TICK && kind != SHJ_KIND_QUOTE && kind != SHJ_KIND_BIDASK)
        return fail(&c, "field 'kind': '%s' is not stored in ClickHouse", kinds[kind]);
    ev->kind = kind;
    jfield *code = need(&c, "code");
    if (!code) return SHJ_ERR;
    if (code->type != V_STR || code->vn == 0 || code->vn >= sizeof ev->code)
        return fail(&c, "field 'code': must be a string of 1..%zu bytes (column %zu)", sizeof ev->code - 1, code->col);
    for (size_t i = 0; i < code->vn; i++)
        if (code->v[i] == '\\' || (unsigned char)code->v[i] <= 0x20)
            return fail(&c, "field 'code': unexpected byte at column %zu", code->col + i);
    memcpy(ev->code, code->v, code->vn);
    if (get_enum(&c, "exchange", exchanges, SHJ_EX_TAIFEX + 1, &ev->exchange) != SHJ_OK) return SHJ_ERR;
    if (get_enum(&c, "sec_type", sec_types, SHJ_SEC_IND + 1, &ev->sec_type) != SHJ_OK) return SHJ_ERR;
    int64_t v;
    if (get_int(&c, "ts", INT64_MIN, INT64_MAX, &ev->ts_exch_ns) != SHJ_OK) return SHJ_ERR;
    if (get_int(&c, "recv_ts", INT64_MIN, INT64_MAX, &ev->ts_recv_ns) != SHJ_OK) return SHJ_ERR;
    jfield *seq = need(&c, "seq");
    if (!seq || int_text(&c, "seq", seq, 0, UINT64_MAX, &v, &ev->seq) != SHJ_OK) return SHJ_ERR;
    if (get_int(&c, "source_id", 0, UINT16_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->source_id = (uint16_t)v;
    if (get_int(&c, "flags", 0, UINT32_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->flags = (uint32_t)v;

    if (kind == SHJ_KIND_BIDASK) {
        if (get_arr(&c, "bid_price", 1, ev->bid_price, NULL) != SHJ_OK) return SHJ_ERR;
        if (get_arr(&c, "ask_price", 1, ev->ask_price, NULL) != SHJ_OK) return SHJ_ERR;
        if (get_arr(&c, "bid_volume", 0, NULL, ev->bid_volume) != SHJ_OK) return SHJ_ERR;
        if (get_arr(&c, "ask_volume", 0, NULL, ev->ask_volume) != SHJ_OK) return SHJ_ERR;
        if (get_arr(&c, "diff_bid_vol", 0, NULL, ev->diff_bid_vol) != SHJ_OK) return SHJ_ERR;
        if (get_arr(&c, "diff_ask_vol", 0, NULL, ev->diff_ask_vol) != SHJ_OK) return SHJ_ERR;
        return SHJ_OK;
    }
    static const struct {
        const char *name;
        size_t off;
    } decs[] = {
        {"open", offsetof(shj_event, open)},
        {"high", offsetof(shj_event, high)},
        {"low", offsetof(shj_event, low)},
        {"close", offsetof(shj_event, close)},
        {"avg_price", offsetof(shj_event, avg_price)},
        {"diff_price", offsetof(shj_event, diff_price)},
        {"diff_rate", offsetof(shj_event, diff_rate)},
        {"amount", offsetof(shj_event, amount)},
        {"amount_sum", offsetof(shj_event, amount_sum)},
        {"underlying_price", offsetof(shj_event, underlying_price)},
    };
    for (size_t i = 0; i < sizeof decs / sizeof decs[0]; i++) {
        int64_t d;
        if (get_dec(&c, decs[i].name, &d) != SHJ_OK) return SHJ_ERR;
        memcpy((char *)ev + decs[i].off, &d, sizeof d);
    }
    if (get_int(&c, "volume", INT32_MIN, INT32_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->volume = (int32_t)v;
    if (get_int(&c, "vol_sum", INT64_MIN, INT64_MAX, &ev->vol_sum) != SHJ_OK) return SHJ_ERR;
    if (get_int(&c, "bid_side_vol_sum", INT64_MIN, INT64_MAX, &ev->bid_side_vol_sum) != SHJ_OK) return SHJ_ERR;
    if (get_int(&c, "ask_side_vol_sum", INT64_MIN, INT64_MAX, &ev->ask_side_vol_sum) != SHJ_OK) return SHJ_ERR;
    if (get_int(&c, "tick_type", INT8_MIN, INT8_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->tick_type = (int8_t)v;
    if (get_int(&c, "chg_type", INT8_MIN, INT8_MAX, &v) != SHJ_OK) return SHJ_ERR;
    ev->chg_type = (int8_t)v;
    return SHJ_OK;
}
