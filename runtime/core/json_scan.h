/* json_scan.h — private: the exact-decimal, integer and JSON-string primitives
 * shared by decimal.c (dec_parse) and parse.c (the payload scanner).
 *
 * Owns: the ONE implementation of decimal text -> int64 × SHJ_PRICE_SCALE, so that the
 * parser's strict path and the public dec_parse can never disagree; and the
 * word-at-a-time / SSE2 primitives of the parser's fast paths.
 * Guarantees: every function reads only s[0..n); no allocation; no double.
 * Not a public header: nothing outside runtime/ includes it.
 */
#ifndef SHJ_JSON_SCAN_H
#define SHJ_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/shj_event.h"

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <emmintrin.h>
#endif

/* Largest integer part a scaled int64 can hold: floor(INT64_MAX / SHJ_PRICE_SCALE). */
#define JS_DEC_INT_MAX ((uint64_t)SHJ_PRICE_MAX_UNITS)
/* Integer digits the parser's fast paths take: any JS_DEC_INT_DIGITS-digit
 * integer part times the scale, plus a fraction, stays below 2^64 (so no
 * wrap before the INT64_MAX check); longer ones go the strict way. */
#define JS_DEC_INT_DIGITS 13
_Static_assert(UINT64_MAX / (uint64_t)SHJ_PRICE_SCALE > 9999999999999ULL + 1, /* 13 nines */
               "JS_DEC_INT_DIGITS digits times the scale must not wrap uint64");

static inline int js_is_digit(char ch) { return (unsigned)(ch - '0') <= 9u; }

/* "[+-]digits[.digits]" -> value × SHJ_PRICE_SCALE. More than
 * SHJ_PRICE_DECIMALS fractional digits only when the extra ones are zeros.
 * 0 ok, -1 malformed / overflow / too precise. */
static inline int js_dec_parse(const char *s, size_t n, int64_t *out) {
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (p == e || !js_is_digit(*p)) return -1;
    uint64_t ip = 0;
    do {
        ip = ip * 10 + (uint64_t)(*p - '0');
        if (ip > JS_DEC_INT_MAX) return -1; /* checked per digit: ip*10 never wraps */
        p++;
    } while (p < e && js_is_digit(*p));
    uint64_t frac = 0;
    int nf = 0;
    if (p < e && *p == '.') {
        p++;
        if (p == e || !js_is_digit(*p)) return -1;
        do {
            unsigned d = (unsigned)(*p - '0');
            if (nf < SHJ_PRICE_DECIMALS) {
                frac = frac * 10 + d;
                nf++;
            } else if (d != 0) {
                return -1; /* a digit we cannot hold exactly */
            }
            p++;
        } while (p < e && js_is_digit(*p));
    }
    if (p != e) return -1;
    for (int k = nf; k < SHJ_PRICE_DECIMALS; k++) frac *= 10; /* "5" -> 500000 */
    uint64_t mag = ip * (uint64_t)SHJ_PRICE_SCALE + frac;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1u) return -1;
        *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)mag;
    }
    return 0;
}

/* "[-]digits" -> int64 (a leading '+' too, for text fields). 0 ok, -1 bad/overflow. */
static inline int js_int_parse(const char *s, size_t n, int64_t *out) {
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (p == e) return -1;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; p < e; p++) {
        if (!js_is_digit(*p)) return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static inline int js_hex(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decode the escapes of a JSON string body s[0..n) (already validated by the
 * scanner) into dst[cap] as UTF-8. Returns the decoded length, or -1 when it
 * does not fit or an escape is bad. Slow path: payloads almost never escape. */
static inline long js_unescape(const char *s, size_t n, char *dst, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch != '\\') {
            if (o >= cap) return -1;
            dst[o++] = ch;
            i++;
            continue;
        }
        if (i + 1 >= n) return -1;
        char x = s[i + 1];
        const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
        int found = 0;
        for (int k = 0; simple[k]; k += 2) {
            if (simple[k] == x) {
                if (o >= cap) return -1;
                dst[o++] = simple[k + 1];
                found = 1;
                break;
            }
        }
        if (found) {
            i += 2;
            continue;
        }
        if (x != 'u' || i + 6 > n) return -1;
        uint32_t cp = 0;
        for (int k = 0; k < 4; k++) {
            int h = js_hex(s[i + 2 + k]);
            if (h < 0) return -1;
            cp = cp << 4 | (uint32_t)h;
        }
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* high surrogate: needs its low half */
            if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u') return -1;
            uint32_t lo = 0;
            for (int k = 0; k < 4; k++) {
                int h = js_hex(s[i + 2 + k]);
                if (h < 0) return -1;
                lo = lo << 4 | (uint32_t)h;
            }
            if (lo < 0xDC00 || lo > 0xDFFF) return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return -1;
        }
        unsigned char u[4];
        size_t k;
        if (cp < 0x80) {
            u[0] = (unsigned char)cp;
            k = 1;
        } else if (cp < 0x800) {
            u[0] = (unsigned char)(0xC0 | cp >> 6);
            u[1] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            u[0] = (unsigned char)(0xE0 | cp >> 12);
            u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            u[2] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            u[0] = (unsigned char)(0xF0 | cp >> 18);
            u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
            u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            u[3] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k > cap) return -1;
        for (size_t j = 0; j < k; j++) dst[o++] = (char)u[j];
    }
    return (long)o;
}

/* ---------------------------------------------------------------------------
 * Word-at-a-time and SSE2 primitives for the payload scanner's fast paths.
 * Each states how many bytes it reads; callers check the bounds.
 * ------------------------------------------------------------------------- */
/* First byte in [p, e) that ends a plain string run: '"', '\\' or a control
 * byte (< 0x20); e if none. Eight bytes at a time (SWAR): for each of the
 * three tests the classic "has zero byte" trick flags the lowest matching
 * byte exactly, and on a little-endian load the lowest byte is the first. */
static inline const char *js_find_special(const char *p, const char *e) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t m = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs;
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
    return p;
}

/* Number shapes. Where SSE2 is there (every x86-64), a number's extent is
 * found from one 16-byte compare mask: where the digits end, where a '.'
 * is, where its fraction ends — all from the same mask, so the position of
 * the next token waits only on a load, a compare and a tzcnt, never on a
 * digit loop or on the digits' value (which is computed off that critical
 * path, 8 digits per multiply-shift). Elsewhere a plain loop does the same. */
#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JS_SSE2 1

/* Bit i set where p[i] is not an ASCII digit (16 bytes readable at p). */
static inline unsigned js_nondigit16(const char *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8('0')),
                               _mm_cmpgt_epi8(v, _mm_set1_epi8('9')));
    return (unsigned)_mm_movemask_epi8(bad);
}

/* Bit i set where p[i] == c, for the 16 bytes at p. */
static inline uint64_t js_eq16(const char *p, char c) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}

/* Value of the n (1..8) digits at s, known to be digits; s[0..8) readable.
 * The multiply-shift form of simdjson's parse_eight_digits_unrolled. */
static inline uint64_t js_conv8w(uint64_t d, unsigned n) { /* d: s[0..8) as loaded */
    d = (d - 0x3030303030303030ull) << (8 * (8 - n)); /* bytes past n leave */
    d = d * 10 + (d >> 8);
    return (((d & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((d >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
}

static inline uint64_t js_conv8(const char *s, unsigned n) {
    uint64_t d;
    memcpy(&d, s, 8);
    return js_conv8w(d, n);
}

/* "I.F" at s, I of ni >= 1 digits and F of nf >= 1 digits, ni + nf <= 7
 * (so s[0..8) holds it all and is readable): the value I * 10^nf + F. The
 * '.' is squeezed out of the one 8-byte load (the bytes above it move down
 * one place), so a price costs one multiply-shift conversion, not two. */
static inline uint64_t js_conv_dot8(const char *s, unsigned ni, unsigned nf) {
    uint64_t d, low = (1ull << (8 * ni)) - 1; /* ni <= 6: the shift is < 64 */
    memcpy(&d, s, 8);
    return js_conv8w((d & low) | ((d >> 8) & ~low), ni + nf);
}
#endif

/* 10^i; js_pow10[SHJ_PRICE_DECIMALS - nf] scales nf fractional digits. */
static const uint64_t js_pow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* Up to 16 digits at s (1..16, known digits; s[0..16) readable). */
#ifdef JS_SSE2
static inline uint64_t js_conv16(const char *s, unsigned n) {
    if (n <= 8) return js_conv8(s, n);
    return js_conv8(s, 8) * js_pow10[n - 8] + js_conv8(s + 8, n - 8);
}
#endif


#endif
