/* shj_common.h — return codes, logging and small helpers shared by every module.
 *
 * Convention (Redis/libev style): functions return SHJ_OK (0) on success,
 * SHJ_ERR (-1) on failure with the detail written into a caller's buffer
 * (char *err, size_t errlen), and SHJ_AGAIN when the callee is full and the
 * caller must retry the same call later (back-pressure, never a drop).
 */
#ifndef SHJ_COMMON_H
#define SHJ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define SHJ_OK 0
#define SHJ_ERR (-1)
#define SHJ_AGAIN 1

#define SHJ_VERSION "0.1.0"

#define shj_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define SHJ_UNUSED(x) ((void)(x))

/* Write "fmt ..." into err (if non-NULL), always NUL-terminated. Returns SHJ_ERR
 * so that `return shj_fail(err, errlen, "...")` reads naturally. */
int shj_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logging. One line per call to stderr, each with an ISO-8601 timestamp in
 * Taipei time with its offset (2026-12-05T09:30:00.123+08:00: the market's own
 * clock, unambiguous for any reader) and a level:
 *   text: "2026-12-05T09:30:00.123+08:00 warn message"
 *   json: {"ts":"2026-12-05T09:30:00.123+08:00","level":"warn","msg":"message"}
 * Never prints secrets: callers pass redacted text (see shj_redact_url).
 *
 * Rate limit: a warning or error identical to one printed in the window
 * (default 10 s) but for its numbers (digit runs are ignored, so "appended
 * 173 rows" repeats "appended 12 rows") is counted, not printed; when the
 * window ends (next occurrence, shj_log_tick, or shj_log_flush) one line
 * says "<last text> (repeated N times in S s)".
 * Thread-safe (writer threads log too): one mutex, taken only when logging. */
typedef enum { SHJ_LOG_DEBUG = 0, SHJ_LOG_INFO = 1, SHJ_LOG_WARN = 2, SHJ_LOG_ERROR = 3 } shj_log_level;
typedef enum { SHJ_LOG_TEXT = 0, SHJ_LOG_JSON = 1 } shj_log_format;
void shj_log(shj_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void shj_log_set_level(shj_log_level level);
/* FFI-BEGIN */
/* "text" or "json"; SHJ_OK, SHJ_ERR on another name. */
int shj_log_set_format(const char *name);
/* Window of the repeat limit in ms (0 = print every line). */
void shj_log_set_repeat_window(int window_ms);
/* One already-formatted line from a script (level 0..3, src e.g. "lua"):
 * the same timestamp, level and format as C's lines, not rate-limited. */
void shj_log_text(int level, const char *src, const char *msg);
/* Print the summaries of repeat windows that have ended (rt calls it every
 * second) / of every window, ended or not (at exit). */
void shj_log_tick(void);
void shj_log_flush(void);
/* FFI-END */
/* Test hook: clocks for timestamps (UTC ns) and windows (monotonic ns);
 * NULL restores the real ones. */
void shj_log_set_clock(int64_t (*now_ns)(void), int64_t (*mono_ns)(void));
/* Test hook: write lines to this FILE * instead of stderr (NULL = stderr). */
void shj_log_set_stream(void *stream);
/* "2026-12-05T09:30:00.123+08:00" of a UTC ns time into out[30]. */
void shj_log_iso_time(int64_t utc_ns, char out[30]);

/* Copy src into dst[cap] always NUL-terminated; returns strlen(src). */
size_t shj_strlcpy(char *dst, const char *src, size_t cap);

#endif
