/* sj_stream.c — the Shioaji SSE stream(s): receive, watch, lose, come back.
 *
 * One stream (combined: /api/v1/stream/data, every kind tagged by its SSE
 * event name) or one per kind (/api/v1/stream/data/tick_stk, ...). Each has
 * its own SSE parser, heartbeat watchdog and backoff, so in per-kind mode a
 * lost bid/ask stream does not disturb the tick stream.
 *
 * Receiving: curl hands over chunks; the SSE parser cuts them into events;
 * each event's bytes go to src_deliver with the receive time of the chunk
 * that completed it. When src_deliver says the bus or the archive is full,
 * the parser keeps the event (and the rest of the chunk, and what curl had
 * already read), the stream's socket is muted (sj_http_mute: nothing reads it,
 * TCP slows the server), and sj_streams_resume, called from ops->resume,
 * delivers the held events and unmutes. While muted on purpose the watchdog
 * sleeps. What the parser holds is bounded by what curl reads in the pass
 * that met the full bus (about what the socket buffers held, plus what the
 * server pushes while curl empties them), not by the length of the stall:
 * while muted no byte arrives (sj_http.c says why that pass cannot be cut
 * short).
 *
 * Losing: the transfer ends (server gone, connection cut, HTTP error), or no
 * byte arrives for hb_timeout_s (the watchdog), or the bytes are not SSE.
 * Then: DISCONNECTED status, backoff (exponential, jittered), reopen. A
 * partial event at the cut is dropped with the old parser state: the server
 * never finished sending it, and it is not in the archive.
 *
 * Coming back: when the new answer's headers arrive: CONNECTED, a GAP per
 * affected instrument from the receive time of the last complete event
 * before the loss to the receive time of these headers, then every
 * subscription the stream carries is made again (RESUBSCRIBED when done).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "shioaji/sj_internal.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"

static void stream_open(sj_stream *st);
static void stream_lost(sj_stream *st, int http, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static const char *stream_label(const sj_stream *st) {
    return st->tag ? psr_tag_name(st->tag) : "combined";
}

/* Events -------------------------------------------------------------------------- */

static void note_unknown_name(sj_src *s, const sse_event *ev) {
    char name[32];
    size_t n = ev->name_len < sizeof name - 1 ? ev->name_len : sizeof name - 1;
    memcpy(name, ev->name, n);
    name[n] = '\0';
    s->unknown_count++;
    /* source.c logs bad payloads once per tag, and every unknown name shares
     * tag 0: we log once per name instead, so mark tag 0 as logged. */
    s->base.logged_bad_tags |= 1u;
    for (int i = 0; i < s->n_unknown_names; i++)
        if (!strcmp(s->unknown_names[i], name)) return;
    if (s->n_unknown_names < (int)(sizeof s->unknown_names / sizeof s->unknown_names[0]))
        shj_strlcpy(s->unknown_names[s->n_unknown_names++], name, sizeof s->unknown_names[0]);
    int show = ev->data_len > 300 ? 300 : (int)ev->data_len;
    shj_log(SHJ_LOG_WARN,
            "source %s: unknown SSE event \"%s\" (archived, counted, logged once per name): %.*s%s",
            s->base.name, name, show, ev->data, ev->data_len > 300 ? "..." : "");
}

static int on_event(void *ctx, const sse_event *ev) {
    sj_stream *st = ctx;
    sj_src *s = st->src;
    if (s->stopped || s->fatal || !sj_status_flush(s)) return 1; /* status events first, in order */
    int tag = psr_tag_from_name(ev->name, ev->name_len);
    int contract_ev = tag == PSR_TAG_CONTRACT_EVENT;
    /* market data: what proves a subscription alive (not order/contract events) */
    int market = tag != PSR_TAG_UNKNOWN && tag != PSR_TAG_HEARTBEAT && tag != PSR_TAG_ORDER_EVENT &&
                 !contract_ev;
    if (tag == PSR_TAG_UNKNOWN) note_unknown_name(s, ev);
    int rc = src_deliver(&s->base, tag, ev->data, ev->data_len, st->chunk_rx_ns);
    if (rc == SHJ_AGAIN) return 1;
    if (rc == SHJ_ERR) {
        /* The archive failed: nothing more may be accepted. rt stops us. */
        shj_log(SHJ_LOG_ERROR, "source %s: raw archive failed; stopping", s->base.name);
        s->fatal = 1;
        rt_stop("shioaji source: raw archive failed");
        return 1;
    }
    st->payloads++;
    st->last_event_rx_ns = st->chunk_rx_ns;
    /* sj_watch.c: heartbeats prove the stream alive; market events prove
     * each subscription alive; a contract_event may move an alias. */
    if (tag == PSR_TAG_HEARTBEAT)
        s->hb_seen_mono = clk_mono_ns();
    else if (market)
        sj_note_event(s, ev->data, ev->data_len, st->chunk_rx_ns);
    else if (contract_ev)
        sj_contract_event(s);
    st->attempt = 0; /* data flows: the next loss starts the backoff afresh */
    return 0;
}

/* curl callbacks --------------------------------------------------------------------- */

static void announce_open(sj_stream *st, int http) {
    sj_src *s = st->src;
    if (!st->ever_open) {
        st->ever_open = 1;
        shj_log(SHJ_LOG_INFO, "source %s: %s stream open (%s)", s->base.name, stream_label(st), st->path);
        sj_status(s, SHJ_STATUS_CONNECTED, "", 0, 0, http, "%s stream open at %s", stream_label(st),
                   sj_http_display(s->http));
        return;
    }
    s->reconnects++;
    st->reconnects++;
    int64_t g0 = st->gap_start_ns ? st->gap_start_ns : st->open_ns, g1 = st->open_ns;
    shj_log(SHJ_LOG_INFO, "source %s: %s stream back after %.3f s; resubscribing", s->base.name,
            stream_label(st), (double)(g1 - g0) / 1e9);
    sj_status(s, SHJ_STATUS_CONNECTED, "", g0, g1, http, "%s stream reconnected after %.3f s",
               stream_label(st), (double)(g1 - g0) / 1e9);
    /* One gap per instrument this stream carries; then its subscriptions again. */
    st->resub_pending = st->resub_done = 0;
    for (size_t i = 0; i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (sub->removed || sub->dead) continue;
        uint32_t kinds = 0;
        for (int k = 1; k < SHJ_KIND_MAX; k++)
            if ((sub->kind_mask & shj_kind_bit(k)) && sj_stream_wants(st, sub, k)) kinds |= shj_kind_bit(k);
        if (!kinds) continue;
        s->gaps++;
        sj_status(s, SHJ_STATUS_GAP, sub->real, g0, g1, 0, "%s stream lost: %s may miss data",
                   stream_label(st), sub->real);
        if (!sub->resolved) continue; /* its first subscription is still queued */
        for (int k = 1; k < SHJ_KIND_MAX; k++) {
            if (!(kinds & shj_kind_bit(k)) || (sub->failed_mask & shj_kind_bit(k))) continue;
            sj_job j = {.type = SJ_JOB_SUB, .sub = (int)i, .kind = k, .stream = st->index};
            st->resub_pending++;
            sj_push_job(s, &j, 0);
        }
    }
    /* Backfill after the resubscriptions: they matter more and go first. */
    for (size_t i = 0; s->backfill && i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (!sub->removed && !sub->dead && (sub->kind_mask & shj_kind_bit(SHJ_KIND_TICK)) &&
            sj_stream_wants(st, sub, SHJ_KIND_TICK))
            sj_backfill_gap(s, (int)i, g0, g1);
    }
    st->gap_start_ns = 0;
    if (st->resub_pending == 0) {
        s->resubscribed++;
        sj_status(s, SHJ_STATUS_RESUBSCRIBED, "", g0, g1, 0, "%s stream: nothing to resubscribe",
                   stream_label(st));
    }
}

static void on_head(void *ctx, sj_http_req *r, int http) {
    SHJ_UNUSED(r);
    sj_stream *st = ctx;
    if (http < 200 || http >= 300) return; /* on_done reports it with the server's message */
    st->state = SJ_ST_OPEN;
    st->open_ns = clk_now_ns();
    st->last_rx_mono = clk_mono_ns();
    st->last_event_rx_ns = 0;
    announce_open(st, http);
}

static size_t on_data(void *ctx, sj_http_req *r, const char *data, size_t len) {
    SHJ_UNUSED(r);
    sj_stream *st = ctx;
    sj_src *s = st->src;
    /* While the parser holds events back, a chunk still arriving is bytes
     * curl read in the same pass as the refused one (it empties the socket
     * before it looks at the mute): it joins the backlog, in order, with
     * the receive time of the chunk that was refused first. */
    if (!sse_paused(&st->parser)) st->chunk_rx_ns = clk_now_ns();
    st->last_rx_mono = clk_mono_ns();
    st->bytes += len;
    int rc = sse_feed(&st->parser, data, len);
    if (rc == SHJ_AGAIN) {
        if (st->req && !sj_http_is_muted(st->req)) {
            sj_http_mute(st->req);
            s->base.counters.pauses++;
        }
        if (!s->stopped) s->base.state = SRC_PAUSED;
    } else if (rc == SHJ_ERR) {
        stream_lost(st, 0, "not an SSE stream: %s", sse_error(&st->parser));
    }
    return len;
}

static void on_done(void *ctx, sj_http_req *r, int http, const char *body, size_t len, const char *cerr) {
    SHJ_UNUSED(r);
    sj_stream *st = ctx;
    st->req = NULL; /* sj_http frees it after we return */
    if (st->src->stopped) return;
    if (st->state == SJ_ST_OPEN) {
        stream_lost(st, http, "%s", cerr && *cerr ? cerr : "the server ended the stream");
        return;
    }
    if (http == 401 || http == 403) {
        char msg[200] = "";
        if (!len || sj_json_get_str(body, len, "message", msg, sizeof msg) != 1)
            snprintf(msg, sizeof msg, "%.*s", (int)(len > 180 ? 180 : len), body ? body : "");
        sj_auth_refused(st->src, http, st->path, msg);
        if (st->src->stopped) return;
    }
    if (http == 503) sj_ban_check(st->src, http, body, len); /* the backoff below waits for it */
    if (http) {
        char msg[200] = "";
        if (len) snprintf(msg, sizeof msg, "%.*s", (int)(len > 180 ? 180 : len), body);
        for (char *p = msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        stream_lost(st, http, "HTTP %d %s", http, msg);
    } else {
        stream_lost(st, 0, "%s", cerr && *cerr ? cerr : "no answer");
    }
}

/* Loss and return ------------------------------------------------------------------------ */

static void stream_lost(sj_stream *st, int http, const char *fmt, ...) {
    sj_src *s = st->src;
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (st->req) {
        sj_http_cancel(st->req);
        st->req = NULL;
    }
    if (s->stopped) return;
    if (sse_paused(&st->parser)) {
        /* Complete events are still held back: deliver them first (resume). */
        st->dead_pending = 1;
        st->dead_http = http;
        shj_strlcpy(st->dead_reason, reason, sizeof st->dead_reason);
        return;
    }
    if (st->state == SJ_ST_OPEN) {
        st->gap_start_ns = st->last_event_rx_ns ? st->last_event_rx_ns : st->open_ns;
        shj_log(SHJ_LOG_WARN, "source %s: %s stream lost: %s", s->base.name, stream_label(st), reason);
        sj_status(s, SHJ_STATUS_DISCONNECTED, "", st->gap_start_ns, 0, http, "%s stream lost: %s",
                   stream_label(st), reason);
    }
    st->state = SJ_ST_BACKOFF;
    double d = sj_backoff_delay(s, st->attempt++);
    int64_t now = clk_mono_ns();
    if (s->ban_until_mono > now && d < (double)(s->ban_until_mono - now) / 1e9)
        d = (double)(s->ban_until_mono - now) / 1e9 + 0.001; /* banned: no reopening before it ends */
    if (s->auth_refused && s->auth_retry_s > d) d = s->auth_retry_s;
    if (st->attempt == 1 || st->attempt % 10 == 0 || st->ever_open)
        shj_log(st->ever_open ? SHJ_LOG_INFO : SHJ_LOG_WARN,
                "source %s: %s stream: %s; reconnecting in %.2f s (attempt %d)", s->base.name,
                stream_label(st), reason, d, st->attempt);
    ev_timer_stop(s->base.loop, &st->backoff);
    ev_timer_set(&st->backoff, d, 0.0);
    ev_timer_start(s->base.loop, &st->backoff);
}

static void backoff_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_stream *st = shj_container_of(w, sj_stream, backoff);
    if (!st->src->stopped) stream_open(st);
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_stream *st = shj_container_of(w, sj_stream, watchdog);
    sj_src *s = st->src;
    if (s->stopped || (st->state != SJ_ST_OPEN && st->state != SJ_ST_CONNECTING)) return;
    /* Paused by our own back-pressure: silence is ours, not the server's. */
    if (sse_paused(&st->parser) || (st->req && sj_http_is_muted(st->req))) {
        st->last_rx_mono = clk_mono_ns();
        return;
    }
    double idle = (double)(clk_mono_ns() - st->last_rx_mono) / 1e9;
    if (idle > s->hb_timeout_s)
        stream_lost(st, 0, "no data and no heartbeat for %.1f s (limit %.1f s)", idle, s->hb_timeout_s);
}

static void stream_open(sj_stream *st) {
    sj_src *s = st->src;
    char err[256];
    sse_reset(&st->parser);
    st->state = SJ_ST_CONNECTING;
    st->last_rx_mono = clk_mono_ns();
    st->req = sj_http_stream(s->http, st->path, on_head, on_data, on_done, st, err, sizeof err);
    if (!ev_is_active(&st->watchdog)) {
        double iv = s->hb_timeout_s / 4;
        if (iv > 1.0) iv = 1.0;
        ev_timer_set(&st->watchdog, iv, iv);
        ev_timer_start(s->base.loop, &st->watchdog);
    }
    if (!st->req) stream_lost(st, 0, "cannot start the request: %s", err);
}

/* The set of streams ------------------------------------------------------------------------ */

static sj_stream *stream_for_tag(sj_src *s, int tag) {
    sj_stream *free_slot = NULL;
    for (int i = 0; i < SJ_MAX_STREAMS; i++) {
        if (s->streams[i].used && s->streams[i].tag == tag) return &s->streams[i];
        if (!s->streams[i].used && !free_slot) free_slot = &s->streams[i];
    }
    if (!free_slot) return NULL;
    sj_stream *st = free_slot;
    memset(st, 0, sizeof *st);
    st->used = 1;
    st->src = s;
    st->index = (int)(st - s->streams);
    st->tag = tag;
    if (tag)
        snprintf(st->path, sizeof st->path, "/api/v1/stream/data/%s", psr_tag_name(tag));
    else
        shj_strlcpy(st->path, "/api/v1/stream/data", sizeof st->path);
    sse_init(&st->parser, on_event, st);
    ev_timer_init(&st->watchdog, watchdog_cb, 1.0, 1.0);
    ev_timer_init(&st->backoff, backoff_cb, 0.0, 0.0);
    return st;
}

void sj_streams_ensure(sj_src *s) {
    if (!s->info_ok || s->stopped || !s->http) return;
    if (!s->per_kind) {
        sj_stream *st = stream_for_tag(s, 0);
        if (st && st->state == SJ_ST_IDLE) stream_open(st);
        return;
    }
    for (size_t i = 0; i < s->n_subs; i++) {
        const sj_sub *sub = &s->subs[i];
        if (sub->removed || sub->dead || !sub->resolved) continue;
        for (int k = 1; k < SHJ_KIND_MAX; k++) {
            if (!(sub->kind_mask & shj_kind_bit(k))) continue;
            sj_stream *st = stream_for_tag(s, sj_sub_tag(sub, k));
            if (st && st->state == SJ_ST_IDLE) stream_open(st);
        }
    }
}

int sj_streams_resume(sj_src *s) {
    int all = 1;
    for (int i = 0; i < SJ_MAX_STREAMS; i++) {
        sj_stream *st = &s->streams[i];
        if (!st->used) continue;
        if (sse_paused(&st->parser)) {
            int rc = sse_resume(&st->parser);
            if (rc == SHJ_AGAIN) {
                all = 0;
                continue;
            }
            if (rc == SHJ_ERR) {
                stream_lost(st, 0, "not an SSE stream: %s", sse_error(&st->parser));
                continue;
            }
        }
        if (st->dead_pending) {
            st->dead_pending = 0;
            stream_lost(st, st->dead_http, "%s", st->dead_reason);
            continue;
        }
        if (st->req && sj_http_is_muted(st->req)) {
            st->last_rx_mono = clk_mono_ns();
            sj_http_unmute(st->req); /* curl reads again from the next loop iteration */
        }
    }
    return all;
}

void sj_stream_resub_done(sj_src *s, int stream) {
    if (stream < 0 || stream >= SJ_MAX_STREAMS) return;
    sj_stream *st = &s->streams[stream];
    if (st->resub_pending <= 0) return;
    st->resub_pending--;
    st->resub_done++;
    if (st->resub_pending == 0) {
        s->resubscribed++;
        shj_log(SHJ_LOG_INFO, "source %s: %s stream: %d subscriptions restored", s->base.name,
                stream_label(st), st->resub_done);
        sj_status(s, SHJ_STATUS_RESUBSCRIBED, "", 0, 0, 0, "%s stream: %d subscriptions restored",
                   stream_label(st), st->resub_done);
    }
}

int sj_streams_open_count(const sj_src *s) {
    int n = 0;
    for (int i = 0; i < SJ_MAX_STREAMS; i++) n += s->streams[i].used && s->streams[i].state == SJ_ST_OPEN;
    return n;
}

void sj_streams_stop(sj_src *s) {
    for (int i = 0; i < SJ_MAX_STREAMS; i++) {
        sj_stream *st = &s->streams[i];
        if (!st->used) continue;
        if (s->base.loop) {
            ev_timer_stop(s->base.loop, &st->watchdog);
            ev_timer_stop(s->base.loop, &st->backoff);
        }
        if (st->req) {
            sj_http_cancel(st->req);
            st->req = NULL;
        }
        if (sse_held_bytes(&st->parser))
            shj_log(SHJ_LOG_WARN, "source %s: stop: %zu bytes received on the %s stream were not "
                    "delivered (no room before the stop)", s->base.name, sse_held_bytes(&st->parser),
                    stream_label(st));
        st->state = SJ_ST_IDLE;
    }
}

void sj_streams_free(sj_src *s) {
    for (int i = 0; i < SJ_MAX_STREAMS; i++)
        if (s->streams[i].used) sse_free(&s->streams[i].parser);
}
