/* sj_json.c — field lookup in small JSON documents (see sj_json.h).
 *
 * core/json_skip finds where each value ends; lookups walk the top level of
 * an object comparing keys. Depth is bounded so that a hostile answer cannot
 * exhaust the stack.
 */
#include "shioaji/sj_json.h"

#include <stdio.h>
#include <string.h>

#include "core/json_skip.h"

#define SJ_JSON_MAX_DEPTH 64

/* p at a value: the byte after it, NULL when it is not JSON. Values are
 * skipped by the one strict skipper (core/json_skip.h); Python's NaN/Infinity
 * are accepted because the server may be written in Python. */
static const char *skip_value(const char *p, const char *end) {
    jsk_error e;
    return jsk_value(p, end, SJ_JSON_MAX_DEPTH, JSK_PY_SPECIALS, &e);
}

int sj_json_find(const char *json, size_t len, const char *key, const char **val, size_t *vlen) {
    const char *p = json, *end = json + len;
    size_t klen = strlen(key);
    p = jsk_ws(p, end);
    if (p >= end || *p != '{') return -1;
    p = jsk_ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    for (;;) {
        if (p >= end || *p != '"') return -1;
        const char *ks = p + 1;
        const char *ke = skip_value(p, end); /* a string: p is at '"' */
        if (!ke) return -1;
        int match = (size_t)(ke - 1 - ks) == klen && memcmp(ks, key, klen) == 0;
        p = jsk_ws(ke, end);
        if (p >= end || *p != ':') return -1;
        p = jsk_ws(p + 1, end);
        const char *ve = skip_value(p, end);
        if (!ve) return -1;
        if (match) {
            *val = p;
            *vlen = (size_t)(ve - p);
            return 1;
        }
        p = jsk_ws(ve, end);
        if (p >= end) return -1;
        if (*p == '}') return 0;
        if (*p != ',') return -1;
        p = jsk_ws(p + 1, end);
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sj_json_unquote(const char *lit, size_t n, char *out, size_t cap) {
    if (n < 2 || lit[0] != '"' || lit[n - 1] != '"' || cap == 0) return -1;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = lit[i];
        char tmp[4];
        size_t tn = 1;
        tmp[0] = c;
        if (c == '\\') {
            if (++i + 1 >= n) return -1;
            switch (lit[i]) {
            case 'n': tmp[0] = '\n'; break;
            case 't': tmp[0] = '\t'; break;
            case 'r': tmp[0] = '\r'; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case '/': tmp[0] = '/'; break;
            case '\\': tmp[0] = '\\'; break;
            case '"': tmp[0] = '"'; break;
            case 'u': {
                if (i + 4 >= n) return -1;
                unsigned cp = 0;
                for (int k = 1; k <= 4; k++) {
                    int h = hexval(lit[i + (size_t)k]);
                    if (h < 0) return -1;
                    cp = cp * 16 + (unsigned)h;
                }
                i += 4;
                /* Surrogates are passed through as their own code points:
                 * server messages are ASCII/CJK, never astral. */
                if (cp < 0x80) {
                    tmp[0] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (char)(0xC0 | (cp >> 6));
                    tmp[1] = (char)(0x80 | (cp & 0x3F));
                    tn = 2;
                } else {
                    tmp[0] = (char)(0xE0 | (cp >> 12));
                    tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[2] = (char)(0x80 | (cp & 0x3F));
                    tn = 3;
                }
                break;
            }
            default: return -1;
            }
        }
        if (o + tn >= cap) return -1;
        memcpy(out + o, tmp, tn);
        o += tn;
    }
    out[o] = '\0';
    return 0;
}

int sj_json_get_str(const char *json, size_t len, const char *key, char *out, size_t cap) {
    const char *v;
    size_t vn;
    int rc = sj_json_find(json, len, key, &v, &vn);
    if (rc != 1) return rc;
    if (vn < 2 || v[0] != '"') return 0;
    return sj_json_unquote(v, vn, out, cap) == 0 ? 1 : -1;
}

int sj_json_scalar_text(const char *val, size_t vlen, const char **txt, size_t *tlen) {
    if (vlen >= 2 && val[0] == '"') {
        if (val[vlen - 1] != '"' || memchr(val + 1, '\\', vlen - 2)) return -1;
        *txt = val + 1;
        *tlen = vlen - 2;
        return 0;
    }
    if (vlen == 0 || val[0] == '{' || val[0] == '[') return -1;
    *txt = val;
    *tlen = vlen;
    return 0;
}

int sj_json_get_i64(const char *json, size_t len, const char *key, int64_t *out) {
    const char *v, *t;
    size_t vn, tn;
    int rc = sj_json_find(json, len, key, &v, &vn);
    if (rc != 1) return rc;
    if (sj_json_scalar_text(v, vn, &t, &tn) != 0 || tn == 0) return -1;
    size_t i = 0;
    int neg = 0;
    if (t[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == tn) return -1;
    int64_t x = 0;
    for (; i < tn; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        if (x > (INT64_MAX - (t[i] - '0')) / 10) return -1;
        x = x * 10 + (t[i] - '0');
    }
    *out = neg ? -x : x;
    return 1;
}

int sj_json_get_bool(const char *json, size_t len, const char *key, int *out) {
    const char *v;
    size_t vn;
    int rc = sj_json_find(json, len, key, &v, &vn);
    if (rc != 1) return rc;
    if (vn == 4 && memcmp(v, "true", 4) == 0) {
        *out = 1;
        return 1;
    }
    if (vn == 5 && memcmp(v, "false", 5) == 0) {
        *out = 0;
        return 1;
    }
    return -1;
}

int sj_json_array_next(const char **pos, const char *end, const char **val, size_t *vlen) {
    const char *p = jsk_ws(*pos, end);
    if (p >= end) return -1;
    if (*p == '[') {
        p = jsk_ws(p + 1, end);
        if (p < end && *p == ']') {
            *pos = p + 1;
            return 0;
        }
    } else if (*p == ',') {
        p = jsk_ws(p + 1, end);
    } else if (*p == ']') {
        *pos = p + 1;
        return 0;
    } else {
        return -1;
    }
    const char *ve = skip_value(p, end);
    if (!ve) return -1;
    *val = p;
    *vlen = (size_t)(ve - p);
    *pos = jsk_ws(ve, end);
    if (*pos >= end || (**pos != ',' && **pos != ']')) return -1;
    return 1;
}

size_t sj_json_quote(const char *s, char *out, size_t cap) {
    size_t o = 0;
#define PUT(ch)                        \
    do {                               \
        if (o + 1 < cap) out[o] = (ch); \
        o++;                           \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20) {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", *p);
            for (int k = 0; u[k]; k++) PUT(u[k]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    if (cap) out[o < cap ? o : cap - 1] = '\0';
    return o;
}
