/* json_skip.c — the strict JSON value skipper (see json_skip.h). */
#include "core/json_skip.h"

#include <string.h>

#include "core/json_scan.h"

static const char *fail(jsk_error *e, jsk_status st, const char *at, const char *expected) {
    e->status = st;
    e->at = at;
    e->expected = expected;
    return NULL;
}

/* p just past the opening quote; returns the byte after the closing one. */
static const char *skip_string(const char *p, const char *end, jsk_error *e) {
    for (;;) {
        p = js_find_special(p, end);
        if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') return p + 1;
        if (ch != '\\') return fail(e, JSK_UNEXPECTED, p, "a string character (control bytes must be escaped)");
        if (p + 1 >= end) return fail(e, JSK_TRUNCATED, end, NULL);
        char x = p[1];
        if (x == 'u') {
            for (int k = 2; k < 6; k++) {
                if (p + k >= end) return fail(e, JSK_TRUNCATED, end, NULL);
                if (js_hex(p[k]) < 0) return fail(e, JSK_UNEXPECTED, p + k, "a hex digit of a \\u escape");
            }
            p += 6;
            continue;
        }
        if (!strchr("\"\\/bfnrt", x) || x == '\0') return fail(e, JSK_UNEXPECTED, p + 1, "a valid escape");
        p += 2;
    }
}

static const char *skip_number(const char *p, const char *end, jsk_error *e) {
    if (p < end && *p == '-') p++;
    if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && js_is_digit(*p)) p++;
    } else {
        return fail(e, JSK_UNEXPECTED, p, "a digit");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
        if (!js_is_digit(*p)) return fail(e, JSK_UNEXPECTED, p, "a digit after '.'");
        while (p < end && js_is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
        if (!js_is_digit(*p)) return fail(e, JSK_UNEXPECTED, p, "a digit of an exponent");
        while (p < end && js_is_digit(*p)) p++;
    }
    return p;
}

/* The whole word lit at p, or where it stops matching. */
static const char *skip_word(const char *p, const char *end, const char *lit, jsk_error *e) {
    size_t n = strlen(lit), avail = (size_t)(end - p), k = 0;
    while (k < n && k < avail && p[k] == lit[k]) k++;
    if (k == n) return p + n;
    if (k == avail) return fail(e, JSK_TRUNCATED, end, NULL);
    return fail(e, JSK_UNEXPECTED, p + k, "a JSON value");
}

const char *jsk_value(const char *p, const char *end, int depth_left, int flags, jsk_error *e) {
    if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
    switch (*p) {
    case '"': return skip_string(p + 1, end, e);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        int is_obj = close == '}';
        if (depth_left <= 0) return fail(e, JSK_DEPTH, p, NULL);
        p = jsk_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (is_obj) {
                if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
                if (*p != '"') return fail(e, JSK_UNEXPECTED, p, "'\"' (a key)");
                if (!(p = skip_string(p + 1, end, e))) return NULL;
                p = jsk_ws(p, end);
                if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
                if (*p != ':') return fail(e, JSK_UNEXPECTED, p, "':'");
                p = jsk_ws(p + 1, end);
            }
            if (!(p = jsk_value(p, end, depth_left - 1, flags, e))) return NULL;
            p = jsk_ws(p, end);
            if (p >= end) return fail(e, JSK_TRUNCATED, end, NULL);
            if (*p == ',') {
                p = jsk_ws(p + 1, end);
                continue;
            }
            if (*p == close) return p + 1;
            return fail(e, JSK_UNEXPECTED, p, is_obj ? "',' or '}'" : "',' or ']'");
        }
    }
    case 't': return skip_word(p, end, "true", e);
    case 'f': return skip_word(p, end, "false", e);
    case 'n': return skip_word(p, end, "null", e);
    case 'N':
        if (flags & JSK_PY_SPECIALS) return skip_word(p, end, "NaN", e);
        break;
    case 'I':
        if (flags & JSK_PY_SPECIALS) return skip_word(p, end, "Infinity", e);
        break;
    case '-':
        if ((flags & JSK_PY_SPECIALS) && p + 1 < end && p[1] == 'I') return skip_word(p + 1, end, "Infinity", e);
        break;
    default: break;
    }
    return skip_number(p, end, e);
}
