/* shj_common.c — error buffers, logging and string helpers (see shj_common.h).
 *
 * Logging owns: the line format (text or JSON), the timestamp and the repeat
 * limit. DESIGN of the limit: a small table keyed by a hash of the line with
 * every run of digits folded to one '#', so "identical" means identical but
 * for its numbers: 148 "fallback file .../ticks/<date>.jsonl appended N rows"
 * lines in 15 s become two lines, while lines naming different instruments or
 * files stay apart. A key opens a window when printed; occurrences inside the
 * window only update the count and the last text. Table full: the line is
 * printed unlimited.
 */
#include "core/shj_common.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

#define LOG_SITES 64
#define LOG_LINE 2048

typedef struct log_site {
    uint64_t key;             /* hash of the digit-folded text; 0 = free */
    int level;
    int64_t window_start;     /* mono ns of the printed line that opened the window */
    uint64_t repeated;        /* suppressed since then */
    char last[LOG_LINE];      /* text of the last suppressed one */
} log_site;

static shj_log_level log_threshold = SHJ_LOG_INFO;
static shj_log_format log_format = SHJ_LOG_TEXT;
static int64_t log_window_ns = 10 * CLK_NS_PER_SEC;
static int64_t (*log_now)(void) = clk_now_ns;
static int64_t (*log_mono)(void) = clk_mono_ns;
static FILE *log_stream; /* NULL = stderr */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static log_site log_sites[LOG_SITES];

static const char *level_names[] = {"debug", "info", "warn", "error"};

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

int shj_log_set_format(const char *name) {
    if (name && strcmp(name, "text") == 0) log_format = SHJ_LOG_TEXT;
    else if (name && strcmp(name, "json") == 0) log_format = SHJ_LOG_JSON;
    else return SHJ_ERR;
    return SHJ_OK;
}

void shj_log_set_repeat_window(int window_ms) {
    pthread_mutex_lock(&log_mu);
    log_window_ns = window_ms > 0 ? (int64_t)window_ms * 1000000 : 0;
    pthread_mutex_unlock(&log_mu);
}

void shj_log_set_clock(int64_t (*now_ns)(void), int64_t (*mono_ns)(void)) {
    log_now = now_ns ? now_ns : clk_now_ns;
    log_mono = mono_ns ? mono_ns : clk_mono_ns;
}

void shj_log_set_stream(void *stream) { log_stream = stream; }

void shj_log_iso_time(int64_t utc_ns, char out[30]) {
    char d[11], t[16];
    clk_taipei_date(utc_ns, d);
    clk_taipei_time(utc_ns, t); /* HH:MM:SS.ffffff */
    /* date, T, HH:MM:SS.mmm (milliseconds), offset: 10 + 1 + 12 + 6 = 29 bytes */
    memcpy(out, d, 10);
    out[10] = 'T';
    memcpy(out + 11, t, 12);
    snprintf(out + 23, 7, "+%02d:00", CLK_TAIPEI_OFFSET_S / 3600);
}

/* JSON string body of s into out (quotes not included). */
static size_t json_escape(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c == '\t') {
            out[n++] = '\\';
            out[n++] = 't';
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

/* One line out, with one fprintf so lines from other threads never interleave.
 * repeated > 0: the summary of a window of span_ns. */
static void emit(int level, const char *src, const char *msg, uint64_t repeated, int64_t span_ns) {
    char ts[30];
    FILE *out = log_stream ? log_stream : stderr;
    shj_log_iso_time(log_now(), ts);
    const char *lv = level_names[level & 3];
    double span_s = (double)span_ns / 1e9;
    if (log_format == SHJ_LOG_JSON) {
        char esc[LOG_LINE * 2];
        json_escape(msg, esc, sizeof esc);
        char extra[160] = "";
        if (src && *src) snprintf(extra, sizeof extra, ",\"src\":\"%s\"", src);
        if (repeated)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                     ",\"repeated\":%llu,\"window_s\":%.0f", (unsigned long long)repeated, span_s);
        fprintf(out, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"%s}\n", ts, lv, esc, extra);
    } else if (repeated) {
        fprintf(out, "%s %s %s%s%s (repeated %llu times in %.0f s)\n", ts, lv, src ? src : "",
                src && *src ? ": " : "", msg, (unsigned long long)repeated, span_s);
    } else {
        fprintf(out, "%s %s %s%s%s\n", ts, lv, src ? src : "", src && *src ? ": " : "", msg);
    }
}

/* Under log_mu: summaries of windows ended by now (all of them when force). */
static void flush_sites(int64_t now, int force) {
    for (int i = 0; i < LOG_SITES; i++) {
        log_site *s = &log_sites[i];
        if (!s->key || (!force && now - s->window_start < log_window_ns)) continue;
        if (s->repeated) emit(s->level, NULL, s->last, s->repeated, now - s->window_start);
        s->key = 0;
        s->repeated = 0;
    }
}

void shj_log_tick(void) {
    pthread_mutex_lock(&log_mu);
    flush_sites(log_mono(), 0);
    pthread_mutex_unlock(&log_mu);
}

void shj_log_flush(void) {
    pthread_mutex_lock(&log_mu);
    flush_sites(log_mono(), 1);
    pthread_mutex_unlock(&log_mu);
    fflush(log_stream ? log_stream : stderr);
}

/* FNV-1a of text with each run of digits folded to '#'; never 0. */
static uint64_t repeat_key(const char *text, int level) {
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)level;
    int in_digits = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        int digit = *p >= '0' && *p <= '9';
        if (digit && in_digits) continue;
        in_digits = digit;
        h ^= digit ? '#' : *p;
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

void shj_log(shj_log_level level, const char *fmt, ...) {
    if (level < log_threshold) return;
    char line[LOG_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_mu);
    if (level >= SHJ_LOG_WARN && log_window_ns > 0) {
        int64_t now = log_mono();
        uint64_t key = repeat_key(line, level);
        log_site *site = NULL, *free_site = NULL;
        for (int i = 0; i < LOG_SITES && !site; i++) {
            if (log_sites[i].key == key) site = &log_sites[i];
            else if (!log_sites[i].key && !free_site) free_site = &log_sites[i];
        }
        if (site && now - site->window_start < log_window_ns) {
            site->repeated++;
            shj_strlcpy(site->last, line, sizeof site->last);
            pthread_mutex_unlock(&log_mu);
            return;
        }
        if (site) { /* the window ended: its summary first, then a new window */
            if (site->repeated) emit(site->level, NULL, site->last, site->repeated, now - site->window_start);
        } else {
            site = free_site;
        }
        if (site) {
            site->key = key;
            site->level = level;
            site->window_start = now;
            site->repeated = 0;
        }
    }
    emit(level, NULL, line, 0, 0);
    pthread_mutex_unlock(&log_mu);
}

void shj_log_text(int level, const char *src, const char *msg) {
    if (level < 0) level = 0;
    if (level > 3) level = 3;
    if (level < (int)log_threshold) return;
    pthread_mutex_lock(&log_mu);
    emit(level, src, msg ? msg : "", 0, 0);
    pthread_mutex_unlock(&log_mu);
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
