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

#include "core/decimal.h"
#include "core/names.h"
#include "core/shj_common.h"

enum { V_STR, V_NUM, V_ARR, V_LIT };

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

int chj_parse_line(const char *s, size_t n, shj_event *ev, char *why, size_t cap) {
    const char *const *kinds = nm_kinds, *const *exchanges = nm_exchanges, *const *sec_types = nm_sec_types;
    jctx c;
    c.s = c.p = s;
    c.e = s + n;
    c.nf = 0;
    c.why = why;
    c.cap = cap;
    memset(ev, 0, sizeof *ev);
    if (tokenize(&c) != SHJ_OK) return SHJ_ERR;

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
