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

/* Log one line to stderr: "[shijim] LEVEL message". Never prints secrets:
 * callers pass redacted text (see shj_redact_url). */
typedef enum { SHJ_LOG_DEBUG = 0, SHJ_LOG_INFO = 1, SHJ_LOG_WARN = 2, SHJ_LOG_ERROR = 3 } shj_log_level;
void shj_log(shj_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void shj_log_set_level(shj_log_level level);

/* Copy src into dst[cap] always NUL-terminated; returns strlen(src). */
size_t shj_strlcpy(char *dst, const char *src, size_t cap);

#endif
