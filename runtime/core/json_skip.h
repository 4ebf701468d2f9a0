/* json_skip.h — the one strict JSON value skipper.
 *
 * Owns: RFC 8259 syntax for a value nobody maps (an unknown field of a
 * Shioaji payload, a nested object in a fallback line, the parts of a REST
 * answer a lookup passes over): strings with their escapes and no raw
 * control bytes, numbers without leading zeros, true/false/null, objects and
 * arrays to a depth limit. The payload parser (parse/parse.c), the Shioaji
 * REST reader (shioaji/sj_json.c) and the JSONL reader (clickhouse/ch_jsonl.c)
 * all skip through it, so they agree on what is JSON; each turns a jsk_error
 * into its own message (byte offset, column). The parser's mapped fields
 * keep their own fast paths; this is its cold path.
 *
 * Guarantees: reads only p[0..end); no allocation; on failure *e names the
 * first byte that is wrong (or end, when the text stops early).
 */
#ifndef SHJ_JSON_SKIP_H
#define SHJ_JSON_SKIP_H

typedef enum jsk_status {
    JSK_OK = 0,
    JSK_TRUNCATED,  /* the text ends inside the value (e->at == end) */
    JSK_UNEXPECTED, /* e->at is not what the grammar allows: e->expected says what is */
    JSK_DEPTH       /* an object/array at e->at opens past the depth limit */
} jsk_status;

typedef struct jsk_error {
    jsk_status status;
    const char *at;       /* where it went wrong */
    const char *expected; /* JSK_UNEXPECTED: "':'", "a digit", ... (static text) */
} jsk_error;

/* Accept Python's NaN, Infinity and -Infinity as number tokens (json.dumps
 * writes them for float specials; a server written in Python may send them). */
#define JSK_PY_SPECIALS 1

/* Skip the value starting exactly at p (no leading whitespace). depth_left:
 * containers that may still open (0: a '{' or '[' here is JSK_DEPTH).
 * Returns the byte after the value, or NULL with *e filled. */
const char *jsk_value(const char *p, const char *end, int depth_left, int flags, jsk_error *e);

/* Whitespace as JSON defines it: space, tab, CR, LF. */
static inline const char *jsk_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

#endif
