/* shj_common.c — error buffers, logging and string helpers (see shj_common.h). */
#include "core/shj_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static shj_log_level log_threshold = SHJ_LOG_INFO;

int shj_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SHJ_ERR;
}

void shj_log_set_level(shj_log_level level) { log_threshold = level; }

void shj_log(shj_log_level level, const char *fmt, ...) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < log_threshold) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so that lines from the writer thread never interleave. */
    fprintf(stderr, "[shijim] %s: %s\n", names[level & 3], line);
}

size_t shj_strlcpy(char *dst, const char *src, size_t cap) {
    size_t n = strlen(src);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}
