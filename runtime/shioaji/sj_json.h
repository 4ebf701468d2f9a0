/* sj_json.h — just enough JSON for Shioaji's small REST answers and bodies.
 *
 * Owns: looking up a top-level field of a JSON object and reading it as a
 * string, an integer, a boolean or exact decimal text, walking an array, and
 * writing escaped string literals. Used by the Shioaji source for /info,
 * /data/contracts, /data/ticks and error bodies, and by the stand-in server
 * for request bodies. It is not on the per-event hot path (parse.c is), so
 * it favours simple, bounds-checked scanning over speed.
 *
 * Guarantees: never reads outside [json, json+len); numbers are returned as
 * their literal text or as int64 (never through a double); malformed input
 * gives -1, never a crash. No allocation.
 */
#ifndef SHJ_SJ_JSON_H
#define SHJ_SJ_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Value span of top-level key in object json[0..len): 1 found (val, vlen are
 * the raw value text; strings include their quotes), 0 absent, -1 malformed. */
int sj_json_find(const char *json, size_t len, const char *key, const char **val, size_t *vlen);

/* Decoded string value (escapes resolved, \uXXXX to UTF-8) into out[cap],
 * NUL-terminated. 1 found, 0 absent or not a string, -1 malformed/too long. */
int sj_json_get_str(const char *json, size_t len, const char *key, char *out, size_t cap);
/* Integer value (a JSON number without fraction/exponent, or a string holding one). */
int sj_json_get_i64(const char *json, size_t len, const char *key, int64_t *out);
/* true/false. */
int sj_json_get_bool(const char *json, size_t len, const char *key, int *out);

/* Decode a raw string literal span (with quotes) into out[cap]. 0 ok, -1 bad. */
int sj_json_unquote(const char *lit, size_t n, char *out, size_t cap);
/* Text of a number or of a string's content, without quotes, not decoded:
 * the exact decimal the server wrote, whether it sent 33601 or "33601". */
int sj_json_scalar_text(const char *val, size_t vlen, const char **txt, size_t *tlen);

/* Array walk: *pos starts at the '[' of an array span; each call yields the
 * next element span. 1 element, 0 end of array, -1 malformed. */
int sj_json_array_next(const char **pos, const char *end, const char **val, size_t *vlen);

/* Write s as a JSON string literal (with quotes) into out[cap]; returns the
 * length it needs (like snprintf); out is NUL-terminated when cap > 0. */
size_t sj_json_quote(const char *s, char *out, size_t cap);

#endif
