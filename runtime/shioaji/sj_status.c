/* sj_status.c — status events of the Shioaji source waiting for bus room.
 *
 * Owns the status queue (a FIFO ring). Status events are queued when the bus
 * is full and flushed before the next payload, so their order relative to
 * market events is the order of what happened. The queue is unbounded on
 * purpose: a status event (a gap, an error) must never be lost.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"
#include "shioaji/sj_internal.h"

int sj_status_flush(sj_src *s) {
    sj_status_item *it;
    while ((it = ring_front(&s->stq))) {
        if (!s->base.bus ||
            src_publish_status(&s->base, it->status, it->code, it->g0, it->g1, it->http, it->detail) != SHJ_OK)
            return 0;
        ring_pop(&s->stq);
    }
    return 1;
}

void sj_status(sj_src *s, int status, const char *code, int64_t g0, int64_t g1, int http,
                const char *fmt, ...) {
    sj_status_item *it = ring_push(&s->stq);
    if (!it) {
        shj_log(SHJ_LOG_ERROR, "source %s: out of memory queueing a status event", s->base.name);
        return;
    }
    memset(it, 0, sizeof *it);
    it->status = status;
    it->http = http;
    shj_strlcpy(it->code, code ? code : "", sizeof it->code);
    it->g0 = g0;
    it->g1 = g1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof it->detail, fmt, ap);
    va_end(ap);
    sj_status_flush(s);
}

void sj_status_free(sj_src *s) { ring_free(&s->stq); }
