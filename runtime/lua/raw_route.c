/* raw_route.c — a source's raw archive as an rt writer (see raw_route.h).
 *
 * The archive writer (archive/) knows nothing of sources or the runtime; this
 * glue attaches one to a source (src_deliver archives every payload before
 * parsing it) and registers it with rt so the status line shows its rate and
 * the orderly stop closes (flushes, fsyncs) it in order.
 */
#include "lua/raw_route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"


typedef struct raw_route {
    arc_writer *w;
    src_source *src;
    int64_t last_mono;
    uint64_t last_bytes;
} raw_route;

static void raw_poll(void *p, int64_t now_mono_ns) {
    raw_route *r = p;
    arc_poll(r->w, now_mono_ns);
}

/* Watchdog thread, loop stuck in Lua (loop/watchdog.h): the archive keeps
 * sealing by age, and everything accepted is made durable before an exit. */
static void raw_parked(void *p, int64_t now_mono_ns, int final) {
    raw_route *r = p;
    if (final) {
        char err[512];
        if (arc_flush(r->w, err, sizeof err) != SHJ_OK) shj_log(SHJ_LOG_ERROR, "%s", err);
    } else {
        arc_poll(r->w, now_mono_ns);
    }
}

static size_t raw_status(void *p, char *buf, size_t cap) {
    raw_route *r = p;
    arc_stats st;
    arc_get_stats(r->w, &st);
    int64_t now = clk_mono_ns();
    double dt = (double)(now - r->last_mono) / 1e9;
    double mbs = dt > 0 ? (double)(st.bytes_written - r->last_bytes) / dt / 1e6 : 0;
    r->last_mono = now;
    r->last_bytes = st.bytes_written;
    double ratio = st.bytes_written ? (double)st.bytes_raw / (double)st.bytes_written : 0;
    int n = snprintf(buf, cap, "%.1f MB/s, %.1fx, durable %llu%s", mbs, ratio,
                     (unsigned long long)st.durable_records, st.failed ? " FAILED" : "");
    return n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);
}

static int raw_close(void *p, char *err, size_t errlen) {
    raw_route *r = p;
    arc_stats st;
    arc_get_stats(r->w, &st);
    int rc = arc_close(r->w, err, errlen);
    r->src->raw = NULL;
    if (rc == SHJ_OK)
        shj_log(SHJ_LOG_INFO, "raw archive %s: %llu records fsynced", r->src->name,
                (unsigned long long)st.records);
    free(r);
    return rc;
}

static const rt_writer_ops raw_ops = {
    .type = "raw", .poll = raw_poll, .status = raw_status, .close = raw_close};

int shj_route_raw(src_source *s, const char *dir, int fsync_ms, int fsync_records, int compress,
                  char *err, size_t errlen) {
    if (s->raw) return shj_fail(err, errlen, "source %s already has a raw archive", s->name);
    arc_opts o = {.dir = dir,
                  .source = s->name,
                  .fsync_ms = fsync_ms,
                  .fsync_records = fsync_records,
                  .compress = compress};
    arc_writer *w = arc_open(&o, err, errlen);
    if (!w) return SHJ_ERR;
    raw_route *r = calloc(1, sizeof *r);
    if (!r) {
        arc_close(w, NULL, 0);
        return shj_fail(err, errlen, "out of memory");
    }
    r->w = w;
    r->src = s;
    r->last_mono = clk_mono_ns();
    s->raw = w;
    char name[40];
    snprintf(name, sizeof name, "raw %s", s->name);
    if (rt_add_writer(name, &raw_ops, r) != SHJ_OK) return shj_fail(err, errlen, "too many writers");
    return rt_set_writer_parked(r, raw_parked);
}

