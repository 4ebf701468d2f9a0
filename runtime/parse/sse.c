/* sse.c — incremental Server-Sent Events framing parser (see sse.h).
 *
 * DESIGN. The hot path is one chunk holding many complete events: lines are
 * found with memchr, fields are recognised by their first byte and length,
 * and a single-line data field is passed to the callback as a pointer into
 * the chunk. State that must outlive the chunk (a partial line, the data of
 * an event still open when the chunk ends) is copied into the parser's own
 * buffers at that moment and only then. Pausing copies the refused event and
 * the unparsed rest of the chunk; that path runs only under back-pressure.
 */
#include "parse/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"

enum { ST_RUNNING = 0, ST_PAUSED = 1, ST_FAILED = 2 };

/* Buffers ------------------------------------------------------------------ */

static int buf_reserve(sse_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_append(sse_buf *b, const char *s, size_t n) {
    if (n == 0) return 0;
    if (buf_reserve(b, n) != 0) return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static int buf_set(sse_buf *b, const char *s, size_t n) {
    b->len = 0;
    return buf_append(b, s, n);
}

static void buf_swap(sse_buf *a, sse_buf *b) {
    sse_buf t = *a;
    *a = *b;
    *b = t;
}

static void buf_free(sse_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Life cycle ----------------------------------------------------------------- */

void sse_init(sse_parser *p, sse_event_fn on_event, void *ctx) {
    memset(p, 0, sizeof *p);
    p->on_event = on_event;
    p->ctx = ctx;
    p->max_event_bytes = SSE_DEFAULT_MAX_EVENT;
    p->retry_ms = -1;
    p->at_start = 1;
}

void sse_free(sse_parser *p) {
    buf_free(&p->line);
    buf_free(&p->data);
    buf_free(&p->name);
    buf_free(&p->id);
    buf_free(&p->backlog);
    buf_free(&p->work);
    buf_free(&p->p_name);
    buf_free(&p->p_data);
    buf_free(&p->p_id);
}

void sse_reset(sse_parser *p) {
    p->state = ST_RUNNING;
    p->skip_lf = 0;
    p->at_start = 1;
    p->data_lines = 0;
    p->data_ref = NULL;
    p->data_ref_len = 0;
    p->line.len = p->data.len = p->name.len = p->id.len = 0;
    p->backlog.len = p->work.len = 0;
    p->p_name.len = p->p_data.len = p->p_id.len = 0;
    p->error[0] = '\0';
}

int sse_paused(const sse_parser *p) { return p->state == ST_PAUSED; }

size_t sse_held_bytes(const sse_parser *p) {
    if (p->state != ST_PAUSED) return 0;
    return p->backlog.len + p->work.len + p->p_data.len;
}

size_t sse_partial_bytes(const sse_parser *p) {
    return p->line.len + p->data.len + p->data_ref_len + p->name.len;
}

const char *sse_error(const sse_parser *p) { return p->error; }

static int fail(sse_parser *p, const char *fmt, size_t n) {
    snprintf(p->error, sizeof p->error, fmt, n, p->max_event_bytes);
    p->state = ST_FAILED;
    return SHJ_ERR;
}

/* Events ------------------------------------------------------------------- */

/* The data of the current event currently points into the caller's chunk:
 * copy it before that chunk goes away. */
static int own_data(sse_parser *p) {
    if (!p->data_ref) return 0;
    int rc = buf_set(&p->data, p->data_ref, p->data_ref_len);
    p->data_ref = NULL;
    p->data_ref_len = 0;
    return rc;
}

/* Blank line: hand the event over. Returns SHJ_OK or SHJ_AGAIN (refused and kept). */
static int dispatch(sse_parser *p) {
    if (p->data_lines == 0) { /* spec: no data, no event; the type is forgotten too */
        p->name.len = 0;
        return SHJ_OK;
    }
    sse_event ev;
    if (p->name.len) {
        ev.name = p->name.p;
        ev.name_len = p->name.len;
    } else {
        ev.name = "message";
        ev.name_len = 7;
    }
    if (p->data_ref) {
        ev.data = p->data_ref;
        ev.data_len = p->data_ref_len;
    } else {
        ev.data = p->data.len ? p->data.p : "";
        ev.data_len = p->data.len;
    }
    ev.id = p->id.len ? p->id.p : "";
    ev.id_len = p->id.len;

    int refused = p->on_event(p->ctx, &ev);
    if (!refused) {
        p->events++;
    } else {
        /* Keep a copy: the event may live in the chunk or in buffers the next
         * event reuses. Copy the name first: ev.name may point at p->name. */
        if (buf_set(&p->p_name, ev.name, ev.name_len) || buf_set(&p->p_id, ev.id, ev.id_len)) {
            snprintf(p->error, sizeof p->error, "out of memory keeping a paused event");
            p->state = ST_FAILED;
            return SHJ_ERR;
        }
        if (p->data_ref) {
            if (buf_set(&p->p_data, p->data_ref, p->data_ref_len)) {
                snprintf(p->error, sizeof p->error, "out of memory keeping a paused event");
                p->state = ST_FAILED;
                return SHJ_ERR;
            }
        } else {
            buf_swap(&p->p_data, &p->data);
        }
        p->state = ST_PAUSED;
    }
    p->data_lines = 0;
    p->data_ref = NULL;
    p->data_ref_len = 0;
    p->data.len = 0;
    p->name.len = 0;
    return refused ? SHJ_AGAIN : SHJ_OK;
}

static int field_is(const char *f, size_t n, const char *name, size_t name_len) {
    return n == name_len && memcmp(f, name, n) == 0;
}

/* One complete line (without its end). in_chunk: it lies in the caller's
 * chunk, so a data value may be referenced instead of copied. */
static int process_line(sse_parser *p, const char *line, size_t n, int in_chunk) {
    /* The same limit as a line still being collected across chunks, so that
     * chunking never decides whether a stream is refused (fuzz_sse). */
    if (n > p->max_event_bytes) return fail(p, "line of more than %zu bytes (limit %zu)", n);
    if (p->at_start) {
        p->at_start = 0;
        if (n >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
            (unsigned char)line[2] == 0xBF) {
            line += 3;
            n -= 3;
        }
    }
    if (n == 0) return dispatch(p);
    if (line[0] == ':') {
        p->comments++;
        return SHJ_OK;
    }
    const char *colon = memchr(line, ':', n);
    size_t flen = colon ? (size_t)(colon - line) : n;
    const char *val = colon ? colon + 1 : line + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && *val == ' ') {
        val++;
        vlen--;
    }

    if (field_is(line, flen, "data", 4)) {
        if (p->data_lines == 0 && in_chunk) {
            p->data_ref = val;
            p->data_ref_len = vlen;
        } else {
            if (own_data(p) != 0) goto oom;
            if (p->data_lines > 0 && buf_append(&p->data, "\n", 1) != 0) goto oom;
            if (p->data.len + vlen > p->max_event_bytes)
                return fail(p, "event data of more than %zu bytes (limit %zu)", p->data.len + vlen);
            if (buf_append(&p->data, val, vlen) != 0) goto oom;
        }
        p->data_lines++;
    } else if (field_is(line, flen, "event", 5)) {
        if (buf_set(&p->name, val, vlen) != 0) goto oom;
    } else if (field_is(line, flen, "id", 2)) {
        if (!memchr(val, '\0', vlen) && buf_set(&p->id, val, vlen) != 0) goto oom;
    } else if (field_is(line, flen, "retry", 5)) {
        int64_t ms = 0;
        size_t i;
        for (i = 0; i < vlen && val[i] >= '0' && val[i] <= '9' && ms < INT64_MAX / 10 - 10; i++)
            ms = ms * 10 + (val[i] - '0');
        if (vlen && i == vlen) p->retry_ms = ms;
    }
    /* Any other field is ignored, as the spec says. */
    return SHJ_OK;
oom:
    snprintf(p->error, sizeof p->error, "out of memory");
    p->state = ST_FAILED;
    return SHJ_ERR;
}

/* Find the next CR or LF in s[0..n): two memchr passes beat a byte loop. */
static const char *find_eol(const char *s, size_t n) {
    const char *lf = memchr(s, '\n', n);
    const char *cr = memchr(s, '\r', lf ? (size_t)(lf - s) : n);
    return cr ? cr : lf;
}

/* Parse a chunk while running. On a pause, stash the unparsed rest. */
static int feed_running(sse_parser *p, const char *buf, size_t len) {
    size_t i = 0;
    int rc = SHJ_OK;
    while (i < len) {
        if (p->skip_lf) {
            p->skip_lf = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        const char *eol = find_eol(buf + i, len - i);
        if (!eol) {
            size_t rest = len - i;
            if (p->line.len + rest > p->max_event_bytes)
                return fail(p, "line of more than %zu bytes (limit %zu)", p->line.len + rest);
            if (buf_append(&p->line, buf + i, rest) != 0) {
                snprintf(p->error, sizeof p->error, "out of memory");
                p->state = ST_FAILED;
                return SHJ_ERR;
            }
            i = len;
            break;
        }
        size_t j = (size_t)(eol - buf);
        if (*eol == '\r') {
            if (j + 1 < len) {
                if (buf[j + 1] == '\n') j++;
            } else {
                p->skip_lf = 1; /* the LF of a CRLF may open the next chunk */
            }
        }
        size_t line_len = (size_t)(eol - (buf + i));
        if (p->line.len) {
            if (p->line.len + line_len > p->max_event_bytes)
                return fail(p, "line of more than %zu bytes (limit %zu)", p->line.len + line_len);
            if (buf_append(&p->line, buf + i, line_len) != 0) {
                snprintf(p->error, sizeof p->error, "out of memory");
                p->state = ST_FAILED;
                return SHJ_ERR;
            }
            i = j + 1;
            rc = process_line(p, p->line.p, p->line.len, 0);
            p->line.len = 0;
        } else {
            const char *line = buf + i;
            i = j + 1;
            rc = process_line(p, line, line_len, 1);
        }
        if (rc == SHJ_ERR) return rc;
        if (rc == SHJ_AGAIN) {
            if (buf_append(&p->backlog, buf + i, len - i) != 0) {
                snprintf(p->error, sizeof p->error, "out of memory keeping the backlog");
                p->state = ST_FAILED;
                return SHJ_ERR;
            }
            break;
        }
    }
    /* The chunk goes away when we return: an open event must not point into it. */
    if (own_data(p) != 0) {
        snprintf(p->error, sizeof p->error, "out of memory");
        p->state = ST_FAILED;
        return SHJ_ERR;
    }
    return rc;
}

int sse_feed(sse_parser *p, const char *buf, size_t len) {
    p->bytes += len;
    if (p->state == ST_FAILED) return SHJ_ERR;
    if (p->state == ST_PAUSED) {
        if (buf_append(&p->backlog, buf, len) != 0) {
            snprintf(p->error, sizeof p->error, "out of memory keeping the backlog");
            p->state = ST_FAILED;
            return SHJ_ERR;
        }
        return SHJ_AGAIN;
    }
    return feed_running(p, buf, len);
}

int sse_resume(sse_parser *p) {
    if (p->state == ST_FAILED) return SHJ_ERR;
    if (p->state != ST_PAUSED) return SHJ_OK;
    sse_event ev = {p->p_name.p, p->p_name.len, p->p_data.len ? p->p_data.p : "", p->p_data.len,
                    p->p_id.len ? p->p_id.p : "", p->p_id.len};
    if (p->on_event(p->ctx, &ev)) return SHJ_AGAIN;
    p->events++;
    p->p_name.len = p->p_data.len = p->p_id.len = 0;
    p->state = ST_RUNNING;
    /* Parse the backlog from a buffer of its own: a new pause appends the
     * rest to the (now empty) backlog while we still read from work. */
    buf_swap(&p->work, &p->backlog);
    int rc = feed_running(p, p->work.p ? p->work.p : "", p->work.len);
    p->work.len = 0;
    return rc;
}
