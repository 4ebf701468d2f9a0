/* tool_standin.c — our stand-in for Shioaji's HTTP + SSE server.
 *
 * Owns: a small HTTP/1.1 server on libev, listening only on 127.0.0.1 or a
 * Unix socket, speaking the endpoints the Shioaji source uses (see
 * shared/reference/shioaji.md and docs/shioaji.md): health, info, subscribe,
 * unsubscribe, the combined and per-kind SSE streams with heartbeats, stream
 * status, contracts lookup (continuous aliases), historical ticks, and JSON
 * errors {"code":..,"message":..,"details":null}. Market data comes from the
 * simulated market (sim.h) for the subscribed contracts at a chosen rate.
 *
 * Guarantees for tests:
 *  - The log (--log FILE) has one line per SSE event whose bytes were all
 *    written to a client socket: "S <seq> <conn> <tag> <code> <len> <xxh64>"
 *    (+ " <payload>" with --log-payloads). An event cut by a fault, or never
 *    written, is not in it. So "0 missing, 0 duplicated" is checkable.
 *  - An event goes to the newest stream connection that carries its kind;
 *    a stalled connection gets nothing (the events are lost, as in a real
 *    outage) and everything generated stays in the history (/data/ticks).
 *  - Faults on demand, by flag or by POST /_standin/fault {"fault":..}:
 *    drop (cut the connection mid-event), stall (no events, no heartbeats),
 *    subscribe_error (status 500 or 429 for the next N subscribes), unknown
 *    contracts (404), malformed / unknown_event, slow_drip (bytes trickle a
 *    few at a time), inject (a given payload), pause/resume (quiesce),
 *    close_all (clean end of every stream), ticks_limit (at most "limit"
 *    more /api/v1/data/ticks answers, then 429 "usage exceeded ..."; -1 lifts it).
 *  - Contract V2 lists and the scanner (standin_catalog.h): GET
 *    /api/v1/data/contracts?security_type=T (paged on request), /contracts/
 *    futures|options?root=R (flat Info arrays, with the documented filters),
 *    /contracts/futures/roots, /contracts/options/roots, POST
 *    /api/v1/data/scanner; 1,000 TSE + 800 OTC stocks, TXF/MXF, a TXO chain.
 *    GET /_standin/subs: the subscribed real codes, one a line.
 *  - GET /_standin/stats: counters as JSON (flushes the log first), with
 *    stream_bytes_queued / stream_bytes_written: bytes the open stream
 *    connections were given / wrote to their sockets (the difference waits
 *    in our buffer because the client does not read: TCP back-pressure).
 *
 * Usage: tool_standin [--port N | --unix PATH] [--rate EV_PER_S] [--nominal-rate EV_PER_EXCH_S] [--heartbeat-ms MS]
 *   [--seed N] [--date YYYY-MM-DD] [--log FILE] [--log-payloads] [--log-generated] [--unknown CODE]...
 *   [--sched-log FILE]  (benchmarks: each published event's scheduled send time, int64 mono ns, in order)
 *   [--require-auth KEY:SECRET] [--rate-limit N] [--rate-window-ms MS] [--max-subs N]
 *   [--subscribe-error STATUS:COUNT] [--history N] [--ticks-limit N] [--api 1.7|1.5.0] [--bind ADDR]
 *
 * Server version: 1.7.x by default, as Sinopac documents it (every behaviour
 * below cites /work/sinopac/<file>:<line>, extracted from Sinotrade/Shioaji
 * @046010c plugins/shioaji/skills/shioaji/references/, Sinotrade.github.io
 * @4c63dd4 tutor/, shioaji-pro-app @dc12745 src/lib/stream.ts); --api 1.5.0
 * keeps the older answers. More faults: refuse (success:false for a code),
 * maintenance (every subscription dropped silently, last_maintenance moves),
 * alias_expire (the lookup answers the next month, the old one goes silent),
 * ban (503 "操作異常，請1分鐘後再重新登入" for "ms").
 * Prints "listening 127.0.0.1:PORT" or "listening unix:PATH" on stdout when ready.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "parse/parse.h"
#include "core/contract.h"
#include "core/names.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "sim/sim.h"
#include "shioaji/sj_json.h"
#include "standin_catalog.h"

#define SI_MAX_CONNS 512
#define SI_MAX_SUBS 2048
#define SI_MAX_UNKNOWN 32
#define SI_MAX_HEAD 16384
#define SI_MAX_BODY (1u << 20)
#define SI_BACKLOG_HIGH (8u << 20) /* a stream this far behind pauses the market */

/* Buffers -------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap, off; /* bytes [off, len) are pending */
} sbuf;

static void sb_reserve(sbuf *b, size_t extra) {
    if (b->off && b->off == b->len) b->off = b->len = 0;
    if (b->len + extra <= b->cap) return;
    if (b->off > b->cap / 2) { /* compact before growing */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap) return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) {
        fprintf(stderr, "standin: out of memory\n");
        exit(3);
    }
    b->cap = cap;
}

static void sb_add(sbuf *b, const void *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sb_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static size_t sb_pending(const sbuf *b) { return b->len - b->off; }
static void sb_free(sbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* State ------------------------------------------------------------------------ */

typedef struct mark { /* an event inside a stream's output, awaiting its last byte */
    uint64_t end;        /* absolute output offset just after the event's bytes */
    size_t log_end;      /* end of its line in the connection's pending log text */
} mark;

typedef struct conn {
    ev_io rio, wio;
    ev_timer drip;
    int fd;
    int id;
    int used;
    int stream;          /* 1 once it serves an SSE stream */
    int kind_filter;     /* psr tag, 0 = combined */
    int stalled;
    int drop_next;       /* cut the connection in the middle of the next event */
    int closing;         /* close once the output is written */
    uint64_t drip_until; /* write slowly until out_written reaches this */
    sbuf in;
    sbuf out;
    uint64_t out_total;  /* bytes ever appended to out */
    uint64_t out_written;/* bytes ever written to the socket */
    mark *marks;
    size_t n_marks, cap_marks, mark_head;
    sbuf logtext;        /* log lines of events not yet fully written */
} conn;

typedef struct sub {
    char code[16];       /* as subscribed (may be an alias) */
    char real[16];       /* what the market calls it */
    uint32_t quote_mask; /* 1 tick, 2 bidask, 4 quote */
    int odd;
} sub;

typedef struct hist { /* a generated trade, for /api/v1/data/ticks */
    char code[16];
    int64_t exch_ns;
    char close[24];
    int32_t volume;
    int8_t tick_type;
} hist;

static struct {
    struct ev_loop *loop;
    int lfd;
    char unix_path[108];
    ev_io accept_w;
    ev_timer gen_timer, hb_timer;
    ev_signal sigint_w, sigterm_w;
    conn conns[SI_MAX_CONNS];
    int next_conn_id;

    sim_market *market;
    char date[11];
    double rate;
    double nominal_rate;     /* exchange seconds advance 1/nominal_rate per event */
    int64_t gen_started_mono;
    uint64_t generated;      /* payloads generated in total */
    uint64_t gen_count;      /* generated since gen_started_mono (pacing) */
    int paused;
    int hb_ms;

    sub subs[SI_MAX_SUBS];
    size_t n_subs;
    size_t max_subs;
    char unknown[SI_MAX_UNKNOWN][16];
    size_t n_unknown;
    char auth[256];          /* expected "Bearer KEY:SECRET", "" = none required */

    int sub_err_status, sub_err_count;
    int rate_limit, rate_window_ms;
    int ticks_limit;         /* /data/ticks answers allowed before "usage exceeded"; -1 = none */
    int64_t *req_times;      /* ring of recent limited requests (mono ns) */
    size_t req_head, req_n;

    hist *history;
    size_t hist_cap, hist_n, hist_head;

    FILE *log;
    FILE *sched_log;         /* --sched-log: int64 scheduled send time (mono ns) per event published */
    int log_payloads;
    int log_generated;       /* also log every generated trade: "G code exch_ns close volume" */
    uint64_t sent, seq, heartbeats;
    uint64_t requests, limited_requests, rate_limited, max_in_window, auth_failures;
    uint64_t subscribe_requests, unsubscribe_requests, ticks_requests, contract_requests;
    uint64_t streams_opened, malformed_sent;
    uint64_t ticks_answered, ticks_refused;

    /* Server version spoken. 1.7.x by default (Sinotrade/Shioaji@046010c
     * plugins/shioaji/skills/shioaji/references/);
     * --api 1.5.0 keeps the older answers (subscribe {"code":200,...}, no
     * target_code rule, no last_maintenance). */
    int api150;
    sim_config simcfg;       /* payload names for the generator (payload_v150) */
    char bind_addr[64];      /* --bind: a non-loopback address demands auth (HTTP_API.md:76-77) */
    char last_maintenance[40]; /* /api/v1/health, moved by the maintenance fault */
    char refuse[SI_MAX_UNKNOWN][16]; /* subscribe answers 200 success:false for these */
    size_t n_refuse;
    char expired[SI_MAX_UNKNOWN][16]; /* real month codes gone silent (alias expiry) */
    size_t n_expired;
    char rolled[SI_MAX_UNKNOWN][16];  /* aliases whose target moved to the next month */
    size_t n_rolled;
    int64_t ban_until_mono;  /* 503 "操作異常，請1分鐘後再重新登入" until then */
    int64_t ban_last_mono;   /* time of the last 503 ban answer */
    int64_t ban_retry_gap_ms;/* first request after the ban lifted: ms since the last 503 */
    int ban_gap_open;
    uint64_t banned_requests, maintenances, refused_subs, alias_silent_subs;
    int quota_exhausted;     /* over the daily traffic cap: ticks answer empty arrays */
    int intraday_ticks_max;  /* --intraday-ticks-max: the market is open; more ticks queries = ban */
    int md_limit, md_window_ms; /* market-data queries (ticks) per window; over = ban */
    int64_t md_times[256];
    size_t md_head, md_n;
    uint64_t md_max_in_window, limit_violations;
    int64_t usage_bytes, usage_limit;
    uint64_t usage_requests;
    sc_catalog catalog;      /* Contract V2 lists and the scanner (standin_catalog.h) */
    uint64_t list_requests, scanner_requests;
} S;

/* Helpers ------------------------------------------------------------------------ */

static const char *status_text(int code) {
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static void conn_close(conn *c);
static void conn_flush(conn *c);

static void respond(conn *c, int code, const char *json) {
    size_t n = strlen(json);
    size_t start = sb_pending(&c->out);
    sb_printf(&c->out,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
              code, status_text(code), n);
    sb_add(&c->out, json, n);
    c->out_total += sb_pending(&c->out) - start; /* every byte counts: marks share this offset */
}

static void respond_error(conn *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void respond_error(conn *c, int code, const char *fmt, ...) {
    char msg[512], q[1100], body[1300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sj_json_quote(msg, q, sizeof q);
    snprintf(body, sizeof body, "{\"code\":%d,\"message\":%s,\"details\":null}", code, q);
    respond(c, code, body);
}

static int is_unknown(const char *code) {
    for (size_t i = 0; i < S.n_unknown; i++)
        if (strcmp(S.unknown[i], code) == 0) return 1;
    return 0;
}

static int in_list(char (*list)[16], size_t n, const char *code) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], code) == 0) return 1;
    return 0;
}

static void list_add(char (*list)[16], size_t *n, const char *code) {
    if (*n < SI_MAX_UNKNOWN && !in_list(list, *n, code)) shj_strlcpy(list[(*n)++], code, 16);
}

/* What a continuous alias resolves to now. After the alias_expire fault the
 * lookup answers the next month (the R2 month), as the server does when the
 * near month expires (CONTRACTS.md:114: target_code is "the currently
 * resolved real contract"). */
static void alias_target(const char *code, char out[16]) {
    if (in_list(S.rolled, S.n_rolled, code)) {
        char r2[16];
        shj_strlcpy(r2, code, sizeof r2);
        size_t n = strlen(r2);
        if (n >= 2 && r2[n - 1] == '1') r2[n - 1] = '2';
        ctr_resolve_alias(S.date, r2, out);
        return;
    }
    ctr_resolve_alias(S.date, code, out);
}

/* Sliding-window rate limit over the limited endpoints. 1 = allowed. */
static int rate_allow(void) {
    S.limited_requests++;
    if (S.rate_limit <= 0) return 1;
    int64_t now = clk_mono_ns(), window = (int64_t)S.rate_window_ms * 1000000;
    while (S.req_n && now - S.req_times[S.req_head] >= window) {
        S.req_head = (S.req_head + 1) % (size_t)S.rate_limit;
        S.req_n--;
    }
    if (S.req_n >= (size_t)S.rate_limit) {
        S.rate_limited++;
        return 0;
    }
    S.req_times[(S.req_head + S.req_n) % (size_t)S.rate_limit] = now;
    S.req_n++;
    if (S.req_n > S.max_in_window) S.max_in_window = S.req_n;
    return 1;
}

/* Streams ------------------------------------------------------------------------- */

static void log_marks_written(conn *c) {
    size_t log_done = 0;
    while (c->mark_head < c->n_marks && c->marks[c->mark_head].end <= c->out_written) {
        log_done = c->marks[c->mark_head].log_end;
        c->mark_head++;
        S.sent++;
    }
    if (log_done) {
        if (S.log) fwrite(c->logtext.p + c->logtext.off, 1, log_done - c->logtext.off, S.log);
        c->logtext.off = log_done;
    }
    if (c->mark_head == c->n_marks) {
        c->mark_head = c->n_marks = 0;
        c->logtext.off = c->logtext.len = 0;
    }
}

/* Append one SSE event as one chunk of the chunked response. */
static void stream_send(conn *c, const char *name, const char *data, size_t len, const char *code) {
    char ev[64];
    int hl = snprintf(ev, sizeof ev, "event: %s\ndata: ", name);
    size_t raw = (size_t)hl + len + 2;
    /* Count what was added as a change of the pending bytes: appending may
     * reset or compact the buffer (out.len can go down), but never the
     * pending count, so out_total stays the byte offset the marks need. */
    size_t before = sb_pending(&c->out);
    if (c->drop_next) {
        /* Half an event, then the connection dies: the client never sees
         * the blank line, so this event must not count as sent. */
        size_t half = raw / 2;
        sb_printf(&c->out, "%zx\r\n", half);
        size_t h = (size_t)hl < half ? (size_t)hl : half;
        sb_add(&c->out, ev, h);
        if (half > h) sb_add(&c->out, data, half - h);
        c->out_total += sb_pending(&c->out) - before;
        conn_flush(c);
        fprintf(stderr, "standin: conn %d dropped mid-event (%s %s)\n", c->id, name, code);
        conn_close(c);
        return;
    }
    sb_printf(&c->out, "%zx\r\n", raw);
    sb_add(&c->out, ev, (size_t)hl);
    sb_add(&c->out, data, len);
    sb_add(&c->out, "\n\n", 2);
    c->out_total += sb_pending(&c->out) - before;
    uint64_t end = c->out_total;
    sb_add(&c->out, "\r\n", 2);
    c->out_total += 2;

    S.seq++;
    uint64_t h = XXH64(data, len, 0);
    sb_printf(&c->logtext, "S %llu %d %s %s %zu %016llx", (unsigned long long)S.seq, c->id, name,
              code && *code ? code : "-", len, (unsigned long long)h);
    if (S.log_payloads) {
        sb_add(&c->logtext, " ", 1);
        sb_add(&c->logtext, data, len);
    }
    sb_add(&c->logtext, "\n", 1);
    if (c->n_marks == c->cap_marks) {
        c->cap_marks = c->cap_marks ? c->cap_marks * 2 : 256;
        c->marks = realloc(c->marks, c->cap_marks * sizeof *c->marks);
        if (!c->marks) exit(3);
    }
    c->marks[c->n_marks].end = end;
    c->marks[c->n_marks].log_end = c->logtext.len;
    c->n_marks++;
}

static conn *stream_for(int tag) {
    conn *best = NULL;
    for (int i = 0; i < SI_MAX_CONNS; i++) {
        conn *c = &S.conns[i];
        if (!c->used || !c->stream || c->closing) continue;
        if (c->kind_filter && c->kind_filter != tag) continue;
        if (!best || c->id > best->id) best = c;
    }
    return best;
}

/* Deliver a payload to the stream that carries its kind (if any, and not stalled). */
static int publish(int tag, const char *name, const char *data, size_t len, const char *code) {
    conn *c = stream_for(tag);
    if (!c || c->stalled) return 0;
    stream_send(c, name, data, len, code);
    return 1;
}

/* One write per connection per batch rather than per event. */
static void flush_streams(void) {
    for (int i = 0; i < SI_MAX_CONNS; i++)
        if (S.conns[i].used && S.conns[i].stream && !ev_is_active(&S.conns[i].wio)) conn_flush(&S.conns[i]);
}

static void publish_all(const char *name, const char *data, size_t len, const char *code) {
    for (int i = 0; i < SI_MAX_CONNS; i++) {
        conn *c = &S.conns[i];
        if (!c->used || !c->stream || c->closing || c->stalled) continue;
        stream_send(c, name, data, len, code);
        if (c->used) conn_flush(c);
    }
}

static size_t max_stream_backlog(void) {
    size_t m = 0;
    for (int i = 0; i < SI_MAX_CONNS; i++)
        if (S.conns[i].used && S.conns[i].stream && sb_pending(&S.conns[i].out) > m)
            m = sb_pending(&S.conns[i].out);
    return m;
}

/* The market ----------------------------------------------------------------------- */

/* The odd-lot board of a stock is a subscription of its own. */
static sub *sub_find(const char *real, int odd) {
    for (size_t i = 0; i < S.n_subs; i++)
        if (strcmp(S.subs[i].real, real) == 0 && S.subs[i].odd == odd) return &S.subs[i];
    return NULL;
}

static uint32_t quote_bit_of_tag(int tag) {
    switch (tag) {
    case PSR_TAG_TICK_STK:
    case PSR_TAG_TICK_FOP: return 1;
    case PSR_TAG_BIDASK_STK:
    case PSR_TAG_BIDASK_FOP: return 2;
    default: return 4;
    }
}

static void history_add(const char *code, int64_t exch_ns, const char *payload, size_t len) {
    if (!S.hist_cap) return;
    hist *h;
    if (S.hist_n < S.hist_cap) {
        h = &S.history[(S.hist_head + S.hist_n++) % S.hist_cap];
    } else {
        h = &S.history[S.hist_head];
        S.hist_head = (S.hist_head + 1) % S.hist_cap;
    }
    memset(h, 0, sizeof *h);
    shj_strlcpy(h->code, code, sizeof h->code);
    h->exch_ns = exch_ns;
    char tmp[24];
    if (sj_json_get_str(payload, len, "close", tmp, sizeof tmp) == 1) shj_strlcpy(h->close, tmp, sizeof h->close);
    int64_t v = 0;
    if (sj_json_get_i64(payload, len, "volume", &v) == 1) h->volume = (int32_t)v;
    if (sj_json_get_i64(payload, len, "tick_type", &v) == 1) h->tick_type = (int8_t)v;
    if (S.log && S.log_generated)
        fprintf(S.log, "G %s %lld %s %d\n", h->code, (long long)exch_ns, h->close, h->volume);
}

static void generate(uint64_t n) {
    char buf[4096];
    for (uint64_t i = 0; i < n; i++) {
        int tag = 0;
        int64_t exch_ns = 0;
        size_t len = sim_next(S.market, &tag, buf, sizeof buf, &exch_ns);
        if (len == 0) return;
        S.generated++;
        S.gen_count++;
        char code[16] = "";
        sj_json_get_str(buf, len, "code", code, sizeof code);
        if (tag == PSR_TAG_TICK_STK || tag == PSR_TAG_TICK_FOP) history_add(code, exch_ns, buf, len);
        int odd = 0;
        if (tag == PSR_TAG_TICK_STK || tag == PSR_TAG_BIDASK_STK) sj_json_get_bool(buf, len, "intraday_odd", &odd);
        sub *s = sub_find(code, odd);
        if (!s || !(s->quote_mask & quote_bit_of_tag(tag))) continue;
        if (S.n_expired && in_list(S.expired, S.n_expired, code)) continue; /* expired month: silent */
        if (S.sched_log) {
            /* When this event was due by the pace (bench/bench_latency.c): a
             * latency measured from here counts the time it waited to be sent. */
            int64_t due = S.gen_started_mono + (int64_t)((double)(S.gen_count - 1) / S.rate * 1e9);
            fwrite(&due, sizeof due, 1, S.sched_log);
        }
        publish(tag, psr_tag_name(tag), buf, len, code);
    }
}

static void gen_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    if (S.paused || S.n_subs == 0) { /* no catch-up burst after a pause */
        S.gen_started_mono = clk_mono_ns();
        S.gen_count = 0;
        return;
    }
    if (max_stream_backlog() > SI_BACKLOG_HIGH) return; /* lossless: wait for the reader */
    double elapsed = (double)(clk_mono_ns() - S.gen_started_mono) / 1e9;
    double owed = S.rate * elapsed - (double)S.gen_count;
    if (owed > 20000) owed = 20000;
    if (owed >= 1) generate((uint64_t)owed);
    flush_streams();
}

static void heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    if (S.paused) return;
    char iso[31];
    clk_utc_iso(clk_now_ns(), iso);
    for (int i = 0; i < SI_MAX_CONNS; i++) {
        conn *c = &S.conns[i];
        if (!c->used || !c->stream || c->closing || c->stalled) continue;
        char hb[160];
        S.heartbeats++;
        int n = snprintf(hb, sizeof hb,
                         "{\"type\":\"heartbeat\",\"timestamp\":\"%s\",\"connection_id\":\"%d\",\"n\":%llu}",
                         iso, c->id, (unsigned long long)S.heartbeats);
        stream_send(c, "heartbeat", hb, (size_t)n, "");
        if (c->used) conn_flush(c);
    }
}

/* Endpoints ------------------------------------------------------------------------ */

/* Names are core/names' (one owner): -1 when unknown. */
static int parse_exchange(const char *s) {
    int v = nm_exchange_of(s, strlen(s));
    return v > 0 ? v : -1;
}

static int parse_sectype(const char *s) {
    int v = nm_sec_type_of(s, strlen(s));
    return v > 0 ? v : -1;
}

static uint32_t parse_quote(const char *s) {
    if (!strcasecmp(s, "Tick")) return 1;
    if (!strcasecmp(s, "BidAsk") || !strcasecmp(s, "bid_ask")) return 2;
    if (!strcasecmp(s, "Quote")) return 4;
    return 0;
}

/* The answer to a subscribe/unsubscribe that went through. 1.7.x:
 * SubscriptionResponse {success, message, subscription} (STREAMING.md:167-168);
 * 1.5.0: the generic {"code":200,...}. */
static void respond_sub(conn *c, int ok, const char *msg, const char *body, size_t blen) {
    if (S.api150) {
        char b[300];
        snprintf(b, sizeof b, "{\"code\":200,\"message\":\"%s\",\"details\":null}", msg);
        respond(c, 200, b);
        return;
    }
    char q[400];
    sj_json_quote(msg, q, sizeof q);
    sbuf out = {0};
    sb_printf(&out, "{\"success\":%s,\"message\":%s,\"subscription\":", ok ? "true" : "false", q);
    if (ok)
        sb_add(&out, body, blen);
    else
        sb_add(&out, "null", 4);
    sb_add(&out, "}", 2); /* with the NUL */
    respond(c, 200, out.p);
    sb_free(&out);
}

static int is_alias_code(const char *code) {
    char real[16];
    ctr_resolve_alias(S.date, code, real);
    return strcmp(real, code) != 0;
}

static void ep_subscribe(conn *c, const char *body, size_t blen, int unsubscribe) {
    char sec[8] = "", ex[8] = "", code[32] = "", target[32] = "", qt[16] = "";
    int odd = 0;
    if (unsubscribe)
        S.unsubscribe_requests++;
    else
        S.subscribe_requests++;
    if (sj_json_get_str(body, blen, "security_type", sec, sizeof sec) != 1 ||
        sj_json_get_str(body, blen, "exchange", ex, sizeof ex) != 1 ||
        sj_json_get_str(body, blen, "code", code, sizeof code) != 1 ||
        sj_json_get_str(body, blen, "quote_type", qt, sizeof qt) != 1) {
        respond_error(c, 400, "body needs security_type, exchange, code and quote_type");
        return;
    }
    sj_json_get_str(body, blen, "target_code", target, sizeof target);
    sj_json_get_bool(body, blen, "intraday_odd", &odd);
    int exv = parse_exchange(ex), secv = parse_sectype(sec);
    uint32_t q = parse_quote(qt);
    if (exv < 0 || secv < 0 || !q) {
        respond_error(c, 400, "invalid security_type/exchange/quote_type: %s/%s/%s", sec, ex, qt);
        return;
    }
    if (!unsubscribe && S.sub_err_count > 0) {
        S.sub_err_count--;
        respond_error(c, S.sub_err_status, S.sub_err_status == 429 ? "rate limit exceeded"
                                                                   : "internal error (injected)");
        return;
    }
    if (is_unknown(code)) {
        respond_error(c, 404, "contract not found: %s", code);
        return;
    }
    if (!unsubscribe && !S.api150 && in_list(S.refuse, S.n_refuse, code)) {
        S.refused_subs++;
        char m[120];
        snprintf(m, sizeof m, "subscribe %s %s failed: upstream refused the topic", code, qt);
        respond_sub(c, 0, m, body, blen);
        return;
    }
    char real[16];
    if (S.api150) {
        ctr_resolve_alias(S.date, target[0] ? target : code, real);
    } else if (is_alias_code(code)) {
        /* 1.7.x: a continuous alias is only as good as its target_code; none
         * (or a stale one) gives 200 and then heartbeats only (HTTP_API.md:812,
         * STREAMING.md:171). An empty real code matches no event. */
        if (target[0] && !in_list(S.expired, S.n_expired, target))
            shj_strlcpy(real, target, sizeof real);
        else {
            real[0] = '\0';
            if (!unsubscribe) S.alias_silent_subs++;
        }
    } else {
        shj_strlcpy(real, code, sizeof real);
    }
    odd = !!odd;
    sub *s = sub_find(real, odd);
    if (unsubscribe) {
        if (s) {
            s->quote_mask &= ~q;
            /* The market keeps generating (other boards, history); only sending stops. */
            if (!s->quote_mask) *s = S.subs[--S.n_subs];
        }
        respond_sub(c, 1, "unsubscribed", body, blen);
        return;
    }
    if (!s) {
        if (S.n_subs >= S.max_subs || S.n_subs >= SI_MAX_SUBS) {
            respond_error(c, 400, "subscription limit reached (%zu contracts): %s", S.max_subs, code);
            return;
        }
        char err[256] = "", resolved[16] = "";
        if (real[0] && sim_add(S.market, real, exv, secv, shj_kind_bit(SHJ_KIND_TICK) | shj_kind_bit(SHJ_KIND_BIDASK),
                               odd, resolved, err, sizeof err) != SHJ_OK) {
            respond_error(c, 404, "contract not found: %s (%s)", code, err);
            return;
        }
        s = &S.subs[S.n_subs++];
        memset(s, 0, sizeof *s);
        shj_strlcpy(s->code, code, sizeof s->code);
        shj_strlcpy(s->real, resolved[0] ? resolved : real, sizeof s->real);
        s->odd = odd;
    }
    s->quote_mask |= q;
    respond_sub(c, 1, "subscribed", body, blen);
}

/* A few TPEx (OTC) listings, so that lookups can tell TSE from OTC. */
static int is_otc(const char *code) {
    static const char *const otc[] = {"6488", "5483", "3105", "8069", "6547", "3293", "5347"};
    for (size_t i = 0; i < sizeof otc / sizeof otc[0]; i++)
        if (!strcmp(code, otc[i])) return 1;
    return 0;
}

static void ep_contract(conn *c, const char *code) {
    S.contract_requests++;
    if (is_unknown(code) || !code[0]) {
        respond_error(c, 404, "contract not found: %s", code);
        return;
    }
    char real[16], body[512];
    alias_target(code, real); /* CONTRACTS.md:114: target_code of a continuous alias */
    int alias = strcmp(real, code) != 0;
    int fut = alias || (strlen(code) >= 4 && code[0] >= 'A' && code[0] <= 'Z');
    const char *ex = fut ? "TAIFEX" : is_otc(code) ? "OTC" : "TSE", *sec = fut ? "FUT" : "STK";
    const sc_contract *k = sc_find(&S.catalog, code); /* the list's answer where it has one */
    if (k) {
        ex = nm_exchange(k->exchange);
        sec = nm_sec_type(k->sec_type);
    }
    snprintf(body, sizeof body,
             "{\"code\":\"%.31s\",\"symbol\":\"%.31s\",\"name\":\"%.31s\",\"exchange\":\"%s\","
             "\"security_type\":\"%s\",\"target_code\":\"%s\",\"delivery_date\":\"%s\"}",
             code, code, code, /* codes are short; the bound keeps the answer in body */ ex, sec,
             alias ? real : "", k ? k->delivery_date : "");
    respond(c, 200, body);
}

/* Contract V2 lists and the scanner (standin_catalog.h) ------------------------------ */

/* Value of ?name= in the request target ("" when absent); 1 when present. */
static int query_param(const char *target, const char *name, char *out, size_t cap) {
    out[0] = '\0';
    const char *q = strchr(target, '?');
    size_t nl = strlen(name);
    while (q && *q) {
        q++;
        if (!strncmp(q, name, nl) && q[nl] == '=') {
            size_t i = 0;
            for (const char *v = q + nl + 1; *v && *v != '&' && i + 1 < cap; v++) out[i++] = *v;
            out[i] = '\0';
            return 1;
        }
        q = strchr(q, '&');
    }
    return 0;
}

static void json_dec(sbuf *b, int64_t scaled) {
    char d[32];
    dec_format(scaled, d);
    sb_printf(b, "%s", d);
}

/* A Base record: identity fields only (CONTRACTS.md:17-21 of CONTRACT_FIELDS.md; HTTP_API.md:472). */
static void json_base(sbuf *b, const sc_contract *k) {
    sb_printf(b, "{\"security_type\":\"%s\",\"region\":\"TW\",\"exchange\":\"%s\",\"code\":\"%s\",\"target_code\":",
              nm_sec_type(k->sec_type), nm_exchange(k->exchange), k->code);
    if (k->target[0])
        sb_printf(b, "\"%s\"}", k->target);
    else
        sb_add(b, "null}", 5);
}

/* A flat FuturesInfo / OptionInfo record (CONTRACT_FIELDS.md:57-136; HTTP_API.md:506:
 * "flat typed Info arrays", Base fields beside the typed ones, HTTP_API.md:484). */
static void json_info(sbuf *b, const sc_contract *k) {
    json_base(b, k);
    b->len--; /* reopen the object */
    sb_printf(b, ",\"name\":\"%s\",\"root\":\"%s\",\"delivery_month\":\"%s\",\"delivery_date\":\"%.4s-%.2s-%.2s\","
                 "\"underlying_kind\":\"I\",\"underlying_code\":\"\",\"multiplier\":%d,\"reference\":",
              k->code, k->root, k->delivery_month, k->delivery_date, k->delivery_date + 5, k->delivery_date + 8,
              !strcmp(k->root, "MXF") ? 50 : 200);
    json_dec(b, k->reference);
    if (k->sec_type == SHJ_SEC_OPT) {
        sb_printf(b, ",\"strike_price\":%lld,\"option_right\":\"%s\",\"spec_kind\":\"index_opt\"", (long long)k->strike,
                  k->right == 'C' ? "Call" : "Put");
    } else {
        sb_printf(b, ",\"spec_kind\":\"index_fut\"");
    }
    sb_add(b, "}", 1);
}

/* GET /api/v1/data/contracts?security_type=T[&page=&page_size=] (HTTP_API.md:460-472):
 * {contracts, security_type, region, total} (+ page, page_size, max_page when paged). */
static void ep_contract_list(conn *c, const char *target) {
    S.list_requests++;
    char st[16], pg[16], ps[16];
    if (!query_param(target, "security_type", st, sizeof st) || !st[0])
        return respond_error(c, 400, "security_type is required (STK, IND, FUT, OPT or WRT)");
    int sec = nm_sec_type_of(st, strlen(st));
    if (sec < 0 && strcmp(st, "WRT") != 0) return respond_error(c, 400, "invalid security_type: %s", st);
    int has_pg = query_param(target, "page", pg, sizeof pg), has_ps = query_param(target, "page_size", ps, sizeof ps);
    size_t total = 0;
    for (size_t i = 0; i < S.catalog.n; i++) total += S.catalog.c[i].sec_type == sec;
    size_t page = has_pg ? (size_t)atol(pg) : 1, size = has_ps ? (size_t)atol(ps) : 500;
    int paged = has_pg || has_ps; /* "page_size alone implies page 1" (HTTP_API.md:472) */
    if (paged && (page < 1 || size < 1)) return respond_error(c, 400, "page and page_size start at 1");
    size_t from = paged ? (page - 1) * size : 0, to = paged ? from + size : total;
    sbuf b = {0};
    sb_add(&b, "{\"contracts\":[", 14);
    size_t idx = 0, out = 0;
    for (size_t i = 0; i < S.catalog.n; i++) {
        const sc_contract *k = &S.catalog.c[i];
        if (k->sec_type != sec) continue;
        if (idx >= from && idx < to) {
            if (out++) sb_add(&b, ",", 1);
            json_base(&b, k);
        }
        idx++;
    }
    sb_printf(&b, "],\"security_type\":\"%s\",\"region\":\"TW\",\"total\":%zu", st, total);
    if (paged) sb_printf(&b, ",\"page\":%zu,\"page_size\":%zu,\"max_page\":%zu", page, size, (total + size - 1) / size);
    sb_add(&b, "}", 2); /* with the NUL */
    respond(c, 200, b.p);
    sb_free(&b);
}

/* GET /api/v1/data/contracts/futures?root=R and /options?root=R (HTTP_API.md:494-506),
 * with the documented filters delivery_month, option_right, strike_min, strike_max. */
static void ep_contract_chain(conn *c, const char *target, int sec) {
    S.list_requests++;
    char root[16], month[16], right[8], smin[24], smax[24];
    int has_root = query_param(target, "root", root, sizeof root);
    if (sec == SHJ_SEC_OPT && (!has_root || !root[0])) return respond_error(c, 400, "root is required");
    query_param(target, "delivery_month", month, sizeof month);
    query_param(target, "option_right", right, sizeof right);
    int has_min = query_param(target, "strike_min", smin, sizeof smin);
    int has_max = query_param(target, "strike_max", smax, sizeof smax);
    sbuf b = {0};
    sb_add(&b, "[", 1);
    size_t out = 0;
    for (size_t i = 0; i < S.catalog.n; i++) {
        const sc_contract *k = &S.catalog.c[i];
        if (k->sec_type != sec || (root[0] && strcmp(k->root, root) != 0)) continue;
        if (month[0] && strcmp(k->delivery_month, month) != 0) continue;
        if (right[0] && k->right != right[0]) continue;
        if (has_min && k->strike < atoll(smin)) continue;
        if (has_max && k->strike > atoll(smax)) continue;
        if (out++) sb_add(&b, ",", 1);
        json_info(&b, k);
    }
    sb_add(&b, "]", 2);
    respond(c, 200, b.p);
    sb_free(&b);
}

/* GET .../futures/roots, .../options/roots: root/name pairs (HTTP_API.md:512-513;
 * shioaji-pro-app src/lib/shioaji.ts:157-160 ContractRoot {root, name}). */
static void ep_contract_roots(conn *c, int sec) {
    S.list_requests++;
    respond(c, 200, sec == SHJ_SEC_FUT ? "[{\"root\":\"TXF\",\"name\":\"臺股期貨\"},{\"root\":\"MXF\",\"name\":\"小型臺指\"}]"
                                       : "[{\"root\":\"TXO\",\"name\":\"臺指選擇權\"}]");
}

/* POST /api/v1/data/scanner {scanner_type, date, ascending, count} (HTTP_API.md:421-434):
 * an array of ScannerItem (tutor_market_data_scanners.md). ascending:true is largest
 * first (tutor_market_data_scanners.md, "True=largest first"; shioaji-pro-app
 * src/components/scanner-panel.tsx:17 "the server's ascending flag is inverted").
 * count above 200 (the documented range, 0 <= count <= 200) is answered with 200:
 * what the real server does there is not documented. Stocks only. */
static const sc_contract **scan_rows;
static int scan_desc;
static uint64_t scan_key(const sc_contract *k, int type) {
    switch (type) {
    case 1: return k->total_volume * (uint64_t)(k->reference / 10000); /* AmountRank, in NT$ hundreds */
    case 2: return k->total_volume / 3 + 1;                           /* TickCountRank */
    default: return k->total_volume;                                  /* VolumeRank */
    }
}
static int scan_type;
static int scan_cmp(const void *a, const void *b) {
    const sc_contract *x = *(const sc_contract *const *)a, *y = *(const sc_contract *const *)b;
    uint64_t kx = scan_key(x, scan_type), ky = scan_key(y, scan_type);
    if (kx != ky) return (kx < ky) == scan_desc ? 1 : -1;
    return strcmp(x->code, y->code);
}

static void ep_scanner(conn *c, const char *body, size_t blen) {
    S.scanner_requests++;
    char type[32] = "", date[16] = "";
    int asc = 1;
    int64_t count = 100;
    if (sj_json_get_str(body, blen, "scanner_type", type, sizeof type) != 1)
        return respond_error(c, 400, "scanner_type is required");
    sj_json_get_str(body, blen, "date", date, sizeof date);
    sj_json_get_bool(body, blen, "ascending", &asc);
    sj_json_get_i64(body, blen, "count", &count);
    if (!strcmp(type, "VolumeRank")) scan_type = 0;
    else if (!strcmp(type, "AmountRank")) scan_type = 1;
    else if (!strcmp(type, "TickCountRank")) scan_type = 2;
    else if (!strcmp(type, "ChangePercentRank") || !strcmp(type, "ChangePriceRank") || !strcmp(type, "DayRangeRank"))
        scan_type = 2; /* not modelled: ranked by tick count */
    else return respond_error(c, 400, "invalid scanner_type: %s", type);
    if (count < 0) return respond_error(c, 400, "count must be >= 0");
    if (count > 200) count = 200;
    scan_rows = calloc(S.catalog.n ? S.catalog.n : 1, sizeof *scan_rows);
    size_t n = 0;
    for (size_t i = 0; i < S.catalog.n; i++)
        if (S.catalog.c[i].sec_type == SHJ_SEC_STK) scan_rows[n++] = &S.catalog.c[i];
    scan_desc = asc; /* inverted, as documented */
    qsort(scan_rows, n, sizeof *scan_rows, scan_cmp);
    sbuf b = {0};
    sb_add(&b, "[", 1);
    for (size_t i = 0; i < n && i < (size_t)count; i++) {
        const sc_contract *k = scan_rows[i];
        char px[32];
        dec_format(k->reference, px);
        uint64_t amount = k->total_volume * (uint64_t)(k->reference / 1000) ; /* NT$ (lots of 1000 shares) */
        if (i) sb_add(&b, ",", 1);
        sb_printf(&b,
                  "{\"date\":\"%s\",\"code\":\"%s\",\"name\":\"%s\",\"datetime\":\"%sT13:30:00\",\"open\":%s,\"high\":%s,"
                  "\"low\":%s,\"close\":%s,\"price_range\":0.0,\"tick_type\":1,\"change_price\":0.0,\"change_type\":3,"
                  "\"average_price\":%s,\"volume\":1,\"total_volume\":%llu,\"amount\":0,\"total_amount\":%llu,"
                  "\"yesterday_volume\":%llu,\"volume_ratio\":1.0,\"buy_price\":%s,\"buy_volume\":1,\"sell_price\":%s,"
                  "\"sell_volume\":1,\"bid_orders\":0,\"bid_volumes\":0,\"ask_orders\":0,\"ask_volumes\":0,\"rank_value\":%llu}",
                  date[0] ? date : S.date, k->code, k->code, date[0] ? date : S.date, px, px, px, px, px,
                  (unsigned long long)k->total_volume, (unsigned long long)amount,
                  (unsigned long long)k->total_volume, px, px, (unsigned long long)scan_key(k, scan_type));
    }
    sb_add(&b, "]", 2);
    free(scan_rows);
    scan_rows = NULL;
    respond(c, 200, b.p);
    sb_free(&b);
}

/* "HH:MM:SS[.ffffff]" -> microseconds of the day, -1 if bad. */
static int64_t parse_tod(const char *s) {
    int h, m, sec, n = 0;
    if (sscanf(s, "%2d:%2d:%2d%n", &h, &m, &sec, &n) != 3) return -1;
    int64_t us = ((int64_t)h * 3600 + m * 60 + sec) * 1000000;
    if (s[n] == '.') {
        int64_t frac = 0, scale = 100000;
        for (const char *p = s + n + 1; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
            frac += (*p - '0') * scale;
        us += frac;
    }
    return us;
}

static void ep_ticks(conn *c, const char *body, size_t blen) {
    S.ticks_requests++;
    char code[32] = "", date[16] = "", ts[32] = "", te[32] = "";
    /* HTTP_API.md:376-386: {"contract":{"security_type","exchange","code"},"date",
     * "query_type",...}; the top-level code of older clients is accepted too. */
    const char *cv;
    size_t cvn;
    if (sj_json_find(body, blen, "contract", &cv, &cvn) == 1)
        sj_json_get_str(cv, cvn, "code", code, sizeof code);
    else
        sj_json_get_str(body, blen, "code", code, sizeof code);
    if (!code[0] || sj_json_get_str(body, blen, "date", date, sizeof date) != 1) {
        respond_error(c, 400, "body needs contract.code and date");
        return;
    }
    if (is_unknown(code)) {
        respond_error(c, 404, "contract not found: %s", code);
        return;
    }
    int y, mo, d;
    if (sscanf(date, "%4d-%2d-%2d", &y, &mo, &d) != 3) {
        respond_error(c, 400, "bad date: %s", date);
        return;
    }
    int64_t us0 = 0, us1 = 86400LL * 1000000 - 1;
    if (sj_json_get_str(body, blen, "time_start", ts, sizeof ts) == 1) us0 = parse_tod(ts);
    if (sj_json_get_str(body, blen, "time_end", te, sizeof te) == 1) us1 = parse_tod(te);
    if (us0 < 0 || us1 < 0) {
        respond_error(c, 400, "bad time_start/time_end: %s/%s", ts, te);
        return;
    }
    /* Whole seconds: the end second is inclusive. */
    if (te[0] && !strchr(te, '.')) us1 += 999999;
    char real[16];
    ctr_resolve_alias(S.date, code, real);
    /* A trading day's ticks: the window is on the Taipei calendar date given;
     * night-session ticks after midnight carry the next date themselves. */
    int64_t day0 = clk_taipei_to_utc_ns(y, mo, d, 0, 0, 0, 0);
    int64_t t0 = day0 + us0 * 1000, t1 = day0 + us1 * 1000;
    sbuf ts_b = {0}, close_b = {0}, vol_b = {0}, tt_b = {0}, zero_b = {0};
    size_t n = 0;
    for (size_t i = 0; i < S.hist_n && !S.quota_exhausted; i++) {
        const hist *h = &S.history[(S.hist_head + i) % S.hist_cap];
        if (strcmp(h->code, real) != 0 || h->exch_ns < t0 || h->exch_ns > t1) continue;
        const char *sep = n ? "," : "";
        if (S.api150) {
            /* ts: Taipei local time as nanoseconds since the epoch; prices as strings. */
            sb_printf(&ts_b, "%s%lld", sep, (long long)(h->exch_ns + (int64_t)CLK_TAIPEI_OFFSET_S * CLK_NS_PER_SEC));
            sb_printf(&close_b, "%s\"%s\"", sep, h->close);
        } else {
            /* 1.7.x: a "datetime" vector of ISO local strings, no ts
             * (MARKET_DATA.md:17, tutor_market_data_historical.md:114) and
             * prices as JSON numbers (tutor_market_data_historical.md:145,171). */
            char d[11], tod[16];
            clk_taipei_date(h->exch_ns, d);
            clk_taipei_time(h->exch_ns, tod);
            sb_printf(&ts_b, "%s\"%sT%s\"", sep, d, tod);
            sb_printf(&close_b, "%s%s", sep, h->close);
        }
        sb_printf(&vol_b, "%s%d", sep, h->volume);
        sb_printf(&tt_b, "%s%d", sep, h->tick_type);
        sb_printf(&zero_b, "%s0", sep);
        n++;
    }
    sbuf out = {0};
#define ARR(b) (int)(b).len, (b).p ? (b).p : ""
    sb_printf(&out,
              S.api150 ? "{\"code\":\"%s\",\"ts\":[%.*s],\"close\":[%.*s],"
                         "\"volume\":[%.*s],\"bid_price\":[%.*s],"
                         "\"bid_volume\":[%.*s],\"ask_price\":[%.*s],\"ask_volume\":[%.*s],\"tick_type\":[%.*s]}"
                       : "{%.0s\"datetime\":[%.*s],\"close\":[%.*s],\"volume\":[%.*s],\"bid_price\":[%.*s],"
              "\"bid_volume\":[%.*s],\"ask_price\":[%.*s],\"ask_volume\":[%.*s],\"tick_type\":[%.*s]}",
              real, ARR(ts_b), ARR(close_b), ARR(vol_b), ARR(zero_b), ARR(zero_b), ARR(zero_b),
              ARR(zero_b), ARR(tt_b));
#undef ARR
    sb_add(&out, "", 1);
    S.ticks_answered++;
    S.usage_bytes += (int64_t)out.len;
    respond(c, 200, out.p);
    sb_free(&out);
    sb_free(&ts_b);
    sb_free(&close_b);
    sb_free(&vol_b);
    sb_free(&tt_b);
    sb_free(&zero_b);
}

/* GET /api/v1/health: the documented shape (HTTP_API.md:263-277) plus
 * last_maintenance, which server 1.7.2 carries and Sinopac's own app polls
 * (shioaji-pro-app@dc12745 src/lib/stream.ts:496-521, /work/sinopac/stream.ts). */
static void ep_health(conn *c) {
    char iso[31], b[600];
    clk_utc_iso(clk_now_ns(), iso);
    char lm[80] = "";
    if (!S.api150) snprintf(lm, sizeof lm, ",\"last_maintenance\":\"%s\"", S.last_maintenance);
    snprintf(b, sizeof b,
             "{\"status\":\"healthy\",\"version\":\"%s\",\"timestamp\":\"%s\","
             "\"token_expires_in_seconds\":86000,\"token_stale\":false,\"contract_count\":%zu,"
             "\"ca_expires_in_days\":109,\"ca_expired\":false%s}",
             S.api150 ? "1.5.0-standin" : "1.7.2-standin", iso, S.n_subs, lm);
    respond(c, 200, b);
}

static void ep_stats(conn *c) {
    if (S.log) fflush(S.log);
    if (S.sched_log) fflush(S.sched_log);
    int streams = 0;
    unsigned long long queued = 0, written = 0; /* of the open streams */
    for (int i = 0; i < SI_MAX_CONNS; i++) {
        if (!S.conns[i].used || !S.conns[i].stream) continue;
        streams++;
        queued += S.conns[i].out_total;
        written += S.conns[i].out_written;
    }
    char body[1600];
    snprintf(body, sizeof body,
             "{\"sent\":%llu,\"generated\":%llu,\"streams\":%d,\"streams_opened\":%llu,"
             "\"subscriptions\":%zu,\"requests\":%llu,\"limited_requests\":%llu,"
             "\"rate_limited\":%llu,\"max_in_window\":%llu,\"auth_failures\":%llu,"
             "\"subscribe_requests\":%llu,\"unsubscribe_requests\":%llu,\"ticks_requests\":%llu,"
             "\"contract_requests\":%llu,\"heartbeats\":%llu,\"paused\":%s,"
             "\"ticks_answered\":%llu,\"ticks_refused\":%llu,\"ticks_limit\":%d,"
             "\"stream_bytes_queued\":%llu,\"stream_bytes_written\":%llu,"
             "\"banned_requests\":%llu,\"ban_retry_gap_ms\":%lld,\"maintenances\":%llu,"
             "\"refused_subs\":%llu,\"alias_silent_subs\":%llu,\"usage_requests\":%llu,"
             "\"md_max_in_window\":%llu,\"limit_violations\":%llu}",
             (unsigned long long)S.sent, (unsigned long long)S.generated, streams,
             (unsigned long long)S.streams_opened, S.n_subs, (unsigned long long)S.requests,
             (unsigned long long)S.limited_requests, (unsigned long long)S.rate_limited,
             (unsigned long long)S.max_in_window, (unsigned long long)S.auth_failures,
             (unsigned long long)S.subscribe_requests, (unsigned long long)S.unsubscribe_requests,
             (unsigned long long)S.ticks_requests, (unsigned long long)S.contract_requests,
             (unsigned long long)S.heartbeats, S.paused ? "true" : "false",
             (unsigned long long)S.ticks_answered, (unsigned long long)S.ticks_refused, S.ticks_limit,
             queued, written, (unsigned long long)S.banned_requests, (long long)S.ban_retry_gap_ms,
             (unsigned long long)S.maintenances, (unsigned long long)S.refused_subs,
             (unsigned long long)S.alias_silent_subs, (unsigned long long)S.usage_requests,
             (unsigned long long)S.md_max_in_window, (unsigned long long)S.limit_violations);
    respond(c, 200, body);
}

static void ep_fault(conn *c, const char *body, size_t blen) {
    char f[32] = "";
    if (sj_json_get_str(body, blen, "fault", f, sizeof f) != 1) {
        respond_error(c, 400, "body needs a fault name");
        return;
    }
    int64_t n = 0;
    int hits = 0;
    if (!strcmp(f, "drop") || !strcmp(f, "stall") || !strcmp(f, "slow_drip") || !strcmp(f, "close_all")) {
        int64_t bytes = 4000;
        sj_json_get_i64(body, blen, "bytes", &bytes);
        for (int i = 0; i < SI_MAX_CONNS; i++) {
            conn *s = &S.conns[i];
            if (!s->used || !s->stream || s->closing || s->stalled) continue;
            hits++;
            if (!strcmp(f, "drop")) s->drop_next = 1;
            if (!strcmp(f, "stall")) s->stalled = 1;
            if (!strcmp(f, "slow_drip")) s->drip_until = s->out_total + (uint64_t)bytes;
            if (!strcmp(f, "close_all")) {
                sb_add(&s->out, "0\r\n\r\n", 5);
                s->out_total += 5;
                s->closing = 1;
                conn_flush(s);
            }
        }
        fprintf(stderr, "standin: fault %s on %d stream(s)\n", f, hits);
    } else if (!strcmp(f, "subscribe_error")) {
        int64_t st = 500;
        sj_json_get_i64(body, blen, "status", &st);
        n = 1;
        sj_json_get_i64(body, blen, "count", &n);
        S.sub_err_status = (int)st;
        S.sub_err_count = (int)n;
        hits = 1;
    } else if (!strcmp(f, "malformed")) {
        static const char bad[] = "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:0";
        publish_all("tick_stk", bad, sizeof bad - 1, "2330");
        S.malformed_sent++;
        hits = 1;
    } else if (!strcmp(f, "unknown_event")) {
        static const char odd[] = "{\"code\":\"2330\",\"headline\":\"not a market event\"}";
        publish_all("market_news", odd, sizeof odd - 1, "2330");
        hits = 1;
    } else if (!strcmp(f, "inject")) {
        char name[32] = "", data[2048] = "", code[16] = "";
        if (sj_json_get_str(body, blen, "event", name, sizeof name) != 1 ||
            sj_json_get_str(body, blen, "data", data, sizeof data) != 1) {
            respond_error(c, 400, "inject needs event and data");
            return;
        }
        sj_json_get_str(data, strlen(data), "code", code, sizeof code);
        int tag = psr_tag_from_name(name, strlen(name));
        if (!publish(tag, name, data, strlen(data), code)) {
            respond_error(c, 409, "no stream carries %s", name);
            return;
        }
        flush_streams();
        hits = 1;
    } else if (!strcmp(f, "ticks_limit")) {
        /* "limit": N more answers from now on, -1 = no limit (lift it). */
        int64_t lim = -1;
        sj_json_get_i64(body, blen, "limit", &lim);
        S.ticks_limit = lim < 0 ? -1 : (int)(S.ticks_answered + (uint64_t)lim);
        fprintf(stderr, "standin: ticks query limit %s\n", lim < 0 ? "lifted" : "set");
        hits = 1;
    } else if (!strcmp(f, "refuse")) {
        /* The next subscribes of "code" answer 200 {"success":false,...}
         * (STREAMING.md:167: SubscriptionResponse; success=false is no subscription). */
        char code[16] = "";
        if (sj_json_get_str(body, blen, "code", code, sizeof code) == 1) list_add(S.refuse, &S.n_refuse, code);
        hits = 1;
    } else if (!strcmp(f, "maintenance")) {
        /* Daily maintenance: the server rebuilds its upstream client and
         * silently drops every market-data subscription while the SSE stream
         * stays open (heartbeats go on), and last_maintenance moves
         * (stream.ts:496-499). Nothing is said on the stream. */
        S.n_subs = 0;
        char iso[31];
        clk_utc_iso(clk_now_ns(), iso);
        shj_strlcpy(S.last_maintenance, iso, sizeof S.last_maintenance);
        S.maintenances++;
        if (S.log) fprintf(S.log, "M %llu %s\n", (unsigned long long)S.seq, iso);
        fprintf(stderr, "standin: maintenance: every subscription dropped\n");
        hits = 1;
    } else if (!strcmp(f, "alias_expire")) {
        /* The near month of "code" (TXFR1) expires: the lookup answers the
         * next month from now on, and the old month goes silent, so a client
         * that keeps the stale target_code gets heartbeats only
         * (HTTP_API.md:812, STREAMING.md:171). */
        char code[16] = "", old[16];
        if (sj_json_get_str(body, blen, "code", code, sizeof code) != 1) {
            respond_error(c, 400, "alias_expire needs code");
            return;
        }
        alias_target(code, old);
        list_add(S.rolled, &S.n_rolled, code);
        list_add(S.expired, &S.n_expired, old);
        char now[16];
        alias_target(code, now);
        fprintf(stderr, "standin: alias %s expired: %s -> %s\n", code, old, now);
        if (!S.api150) {
            /* 1.7.2's combined stream carries contract_event, a change signal
             * to query again (HTTP_API.md:522-527; fields as CONTRACTS.md:226-236). */
            char iso[31], ce[400];
            clk_utc_iso(clk_now_ns(), iso);
            int n = snprintf(ce, sizeof ce,
                             "{\"event_id\":\"fut-roll-%s\",\"action\":\"CHECK\",\"region\":\"TW\","
                             "\"security_type\":\"FUT\",\"published_at\":\"%s\",\"base_changed\":true,"
                             "\"info_changed\":true,\"info_scope\":\"SHARDS\",\"info_shards\":[\"%.3s\"]}",
                             code, iso, code);
            for (int i = 0; i < SI_MAX_CONNS; i++) {
                conn *sc = &S.conns[i];
                if (!sc->used || !sc->stream || sc->closing || sc->stalled || sc->kind_filter) continue;
                stream_send(sc, "contract_event", ce, (size_t)n, "");
                if (sc->used) conn_flush(sc);
            }
        }
        hits = 1;
    } else if (!strcmp(f, "quota")) {
        /* Over the daily traffic cap: ticks answer empty values, other
         * features go on (tutor_limit.md:154, TROUBLESHOOTING.md:33).
         * "remaining": 0 uses it up; -1 restores it. */
        int64_t rem = 0;
        sj_json_get_i64(body, blen, "remaining", &rem);
        S.quota_exhausted = rem == 0;
        hits = 1;
    } else if (!strcmp(f, "ban")) {
        /* 503 "操作異常，請1分鐘後再重新登入" on every /api/v1 call for "ms"
         * (TROUBLESHOOTING.md:376-392; tutor_limit.md:156: one minute). */
        int64_t ms = 60000;
        sj_json_get_i64(body, blen, "ms", &ms);
        S.ban_until_mono = clk_mono_ns() + ms * 1000000;
        hits = 1;
    } else if (!strcmp(f, "pause")) {
        S.paused = 1;
        hits = 1;
    } else if (!strcmp(f, "resume")) {
        S.paused = 0;
        hits = 1;
    } else if (!strcmp(f, "unknown_contract")) {
        char code[16] = "";
        if (sj_json_get_str(body, blen, "code", code, sizeof code) == 1 && S.n_unknown < SI_MAX_UNKNOWN)
            shj_strlcpy(S.unknown[S.n_unknown++], code, 16);
        hits = 1;
    } else {
        respond_error(c, 400, "unknown fault: %s", f);
        return;
    }
    char out[128];
    snprintf(out, sizeof out, "{\"fault\":\"%s\",\"streams\":%d}", f, hits);
    respond(c, 200, out);
}

static void ep_stream(conn *c, const char *kind) {
    int tag = 0;
    if (kind) {
        tag = psr_tag_from_name(kind, strlen(kind));
        if (tag == PSR_TAG_UNKNOWN || tag == PSR_TAG_HEARTBEAT) {
            respond_error(c, 404, "no such stream: %s", kind);
            return;
        }
    }
    static const char head[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    sb_add(&c->out, head, sizeof head - 1);
    c->out_total += sizeof head - 1;
    c->stream = 1;
    c->kind_filter = tag;
    S.streams_opened++;
    fprintf(stderr, "standin: stream %d opened (%s)\n", c->id, kind ? kind : "combined");
}

/* Requests --------------------------------------------------------------------------- */

static int header_value(const char *head, size_t hlen, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    const char *p = head, *end = head + hlen;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            size_t n = (size_t)(ve - v);
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

static void handle_request(conn *c, const char *method, const char *target, const char *head,
                           size_t hlen, const char *body, size_t blen) {
    S.requests++;
    char path[512];
    shj_strlcpy(path, target, sizeof path);
    char *q = strchr(path, '?');
    if (q) *q = '\0';
    int is_get = !strcmp(method, "GET"), is_post = !strcmp(method, "POST");

    if (!strncmp(path, "/_standin/", 10)) {
        if (is_post && !strcmp(path, "/_standin/fault")) return ep_fault(c, body, blen);
        if (is_get && !strcmp(path, "/_standin/stats")) return ep_stats(c);
        if (is_get && !strcmp(path, "/_standin/subs")) { /* subscribed real codes, one a line */
            sbuf b = {0};
            for (size_t i = 0; i < S.n_subs; i++) sb_printf(&b, "%s\n", S.subs[i].real);
            sb_add(&b, "", 1);
            respond(c, 200, b.p);
            sb_free(&b);
            return;
        }
        return respond_error(c, 404, "no route for %s %s", method, path);
    }
    /* Public endpoints (HTTP_API.md:147-148, 263-282). */
    if (is_get && !strcmp(path, "/api/v1/health")) return ep_health(c);
    if (is_get && !strcmp(path, "/api/v1/info")) {
        char b[200];
        snprintf(b, sizeof b,
                 "{\"name\":\"shioaji-standin\",\"version\":\"%s\",\"description\":\"stand-in\","
                 "\"protocols\":[\"HTTP\"],\"simulation\":true}",
                 S.api150 ? "1.5.0-standin" : "1.7.2-standin");
        return respond(c, 200, b);
    }
    /* The temporary rate-limit ban: the backend blocks the whole session
     * path with 503 "操作異常，請1分鐘後再重新登入" (TROUBLESHOOTING.md:387). */
    if (!strncmp(path, "/api/v1/", 8)) {
        int64_t now = clk_mono_ns();
        if (now < S.ban_until_mono) {
            S.banned_requests++;
            S.ban_last_mono = now;
            S.ban_gap_open = 1;
            return respond_error(c, 503, "操作異常，請1分鐘後再重新登入");
        }
        if (S.ban_gap_open) {
            S.ban_gap_open = 0;
            S.ban_retry_gap_ms = (now - S.ban_last_mono) / 1000000;
        }
    }
    /* Auth (HTTP_API.md:72-77): required on every protected endpoint when
     * the server is bound to a non-loopback address, whatever address the
     * client dialled; --require-auth forces it for tests on 127.0.0.1.
     * 401 with the documented error body (HTTP_API.md:1085-1104). */
    if (S.auth[0]) {
        char got[300] = "";
        header_value(head, hlen, "Authorization", got, sizeof got);
        if (strcmp(got, S.auth) != 0) {
            S.auth_failures++;
            return respond_error(c, 401, "unauthorized: missing or wrong API key");
        }
    }
    if (is_get && !strcmp(path, "/api/v1/auth/usage")) {
        /* {connections, bytes, limit_bytes, remaining_bytes}
         * (TROUBLESHOOTING.md:20-30; daily cap 500 MB for a new account,
         * tutor_limit.md:19). Only historical queries count: streaming does
         * not use the quota (TROUBLESHOOTING.md:36). */
        S.usage_requests++;
        int streams = 0;
        for (int i = 0; i < SI_MAX_CONNS; i++) streams += S.conns[i].used && S.conns[i].stream;
        int64_t used = S.quota_exhausted ? S.usage_limit : S.usage_bytes;
        char b[200];
        snprintf(b, sizeof b, "{\"connections\":%d,\"bytes\":%lld,\"limit_bytes\":%lld,\"remaining_bytes\":%lld}",
                 streams ? streams : 1, (long long)used, (long long)S.usage_limit,
                 (long long)(S.usage_limit > used ? S.usage_limit - used : 0));
        return respond(c, 200, b);
    }
    if (is_get && !strcmp(path, "/api/v1/stream/data")) return ep_stream(c, NULL);
    if (is_get && !strncmp(path, "/api/v1/stream/data/", 20)) return ep_stream(c, path + 20);
    if (is_get && !strcmp(path, "/api/v1/stream/status")) {
        char iso[31], b[200];
        int streams = 0;
        for (int i = 0; i < SI_MAX_CONNS; i++) streams += S.conns[i].used && S.conns[i].stream;
        clk_utc_iso(clk_now_ns(), iso);
        snprintf(b, sizeof b, "{\"active_connections\":%d,\"timestamp\":\"%s\",\"status\":\"healthy\"}",
                 streams, iso);
        return respond(c, 200, b);
    }
    int sub = is_post && !strcmp(path, "/api/v1/stream/subscribe");
    int unsub = is_post && !strcmp(path, "/api/v1/stream/unsubscribe");
    int contract = is_get && !strncmp(path, "/api/v1/data/contracts/", 23);
    int list = is_get && !strcmp(path, "/api/v1/data/contracts");
    int scanner = is_post && !strcmp(path, "/api/v1/data/scanner");
    int ticks = is_post && !strcmp(path, "/api/v1/data/ticks");
    if (sub || unsub || contract || list || scanner || ticks) {
        if (!rate_allow())
            return respond_error(c, 429, "rate limit exceeded: %d requests per %d ms", S.rate_limit,
                                 S.rate_window_ms);
        if (sub || unsub) return ep_subscribe(c, body, blen, unsub);
        /* Contract V2 (HTTP_API.md:166-173): the named collections before {code}. */
        if (list) return ep_contract_list(c, target);
        if (contract && !strcmp(path + 23, "futures")) return ep_contract_chain(c, target, SHJ_SEC_FUT);
        if (contract && !strcmp(path + 23, "options")) return ep_contract_chain(c, target, SHJ_SEC_OPT);
        if (contract && !strcmp(path + 23, "futures/roots")) return ep_contract_roots(c, SHJ_SEC_FUT);
        if (contract && !strcmp(path + 23, "options/roots")) return ep_contract_roots(c, SHJ_SEC_OPT);
        if (scanner) return ep_scanner(c, body, blen);
        if (contract) return ep_contract(c, path + 23);
        /* Sinopac's query limits (tutor_limit.md:116-119): market-data
         * queries 50 per 10 s; intraday ticks queries at most 10. Over a
         * limit the service stops for one minute (tutor_limit.md:155): the
         * 503 ban (TROUBLESHOOTING.md:387). */
        if (S.md_limit > 0) {
            int64_t now = clk_mono_ns(), win = (int64_t)S.md_window_ms * 1000000;
            while (S.md_n && now - S.md_times[S.md_head] >= win) {
                S.md_head = (S.md_head + 1) % 256;
                S.md_n--;
            }
            int over = S.md_n >= (size_t)S.md_limit;
            if (!over && S.md_n < 256) {
                S.md_times[(S.md_head + S.md_n) % 256] = now;
                S.md_n++;
                if (S.md_n > S.md_max_in_window) S.md_max_in_window = S.md_n;
            }
            if (S.intraday_ticks_max > 0 && S.ticks_requests >= (uint64_t)S.intraday_ticks_max) over = 1;
            if (over) {
                S.ticks_requests++;
                S.limit_violations++;
                S.ban_until_mono = now + 60 * CLK_NS_PER_SEC;
                S.banned_requests++;
                S.ban_last_mono = now;
                S.ban_gap_open = 1;
                return respond_error(c, 503, "操作異常，請1分鐘後再重新登入");
            }
        }
        if (S.ticks_limit >= 0 && S.ticks_answered >= (uint64_t)S.ticks_limit) {
            /* Sinopac's historical-query quota: refused until it is lifted. */
            S.ticks_requests++;
            S.ticks_refused++;
            return respond_error(c, 429, "usage exceeded: historical ticks query limit of %d reached",
                                 S.ticks_limit);
        }
        return ep_ticks(c, body, blen);
    }
    respond_error(c, 404, "no route for %s %s", method, path);
}

/* Parse every complete request in c->in. */
static void process_input(conn *c) {
    while (!c->stream && c->used && !c->closing) {
        const char *p = c->in.p + c->in.off;
        size_t avail = sb_pending(&c->in);
        const char *hend = avail >= 4 ? memmem(p, avail, "\r\n\r\n", 4) : NULL;
        if (!hend) {
            if (avail > SI_MAX_HEAD) {
                respond_error(c, 413, "request head too large");
                c->closing = 1;
            }
            return;
        }
        size_t hlen = (size_t)(hend - p) + 4;
        char method[16] = "", target[1024] = "";
        if (sscanf(p, "%15s %1023s", method, target) != 2) {
            respond_error(c, 400, "bad request line");
            c->closing = 1;
            return;
        }
        char cl[32] = "";
        size_t blen = 0;
        if (header_value(p, hlen, "Content-Length", cl, sizeof cl)) blen = (size_t)strtoul(cl, NULL, 10);
        if (blen > SI_MAX_BODY) {
            respond_error(c, 413, "body too large");
            c->closing = 1;
            return;
        }
        if (avail < hlen + blen) return;
        char *body = malloc(blen + 1);
        memcpy(body, p + hlen, blen);
        body[blen] = '\0';
        char *head = malloc(hlen + 1);
        memcpy(head, p, hlen);
        head[hlen] = '\0';
        c->in.off += hlen + blen;
        handle_request(c, method, target, head, hlen, body, blen);
        free(body);
        free(head);
    }
}

/* Connections ------------------------------------------------------------------------ */

static void conn_close(conn *c) {
    if (!c->used) return;
    ev_io_stop(S.loop, &c->rio);
    ev_io_stop(S.loop, &c->wio);
    ev_timer_stop(S.loop, &c->drip);
    close(c->fd);
    if (c->stream) fprintf(stderr, "standin: stream %d closed\n", c->id);
    sb_free(&c->in);
    sb_free(&c->out);
    sb_free(&c->logtext);
    free(c->marks);
    memset(c, 0, sizeof *c);
}

static void drip_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    conn *c = shj_container_of(w, conn, drip);
    conn_flush(c);
}

/* Write what the socket takes. While dripping, a few bytes per timer tick. */
static void conn_flush(conn *c) {
    while (c->used && sb_pending(&c->out)) {
        size_t n = sb_pending(&c->out);
        int drip = c->out_written < c->drip_until;
        if (drip) {
            n = 1 + (size_t)(c->out_written % 5);
            if (n > sb_pending(&c->out)) n = sb_pending(&c->out);
        }
        ssize_t w = send(c->fd, c->out.p + c->out.off, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev_io_start(S.loop, &c->wio);
                return;
            }
            conn_close(c);
            return;
        }
        c->out.off += (size_t)w;
        c->out_written += (uint64_t)w;
        if (c->stream) log_marks_written(c);
        if (drip && c->out_written < c->drip_until) {
            if (!ev_is_active(&c->drip)) {
                ev_timer_set(&c->drip, 0.0005, 0.0);
                ev_timer_start(S.loop, &c->drip);
            }
            return;
        }
    }
    if (!c->used) return;
    ev_io_stop(S.loop, &c->wio);
    if (c->closing) conn_close(c);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    conn_flush(shj_container_of(w, conn, wio));
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    conn *c = shj_container_of(w, conn, rio);
    char buf[16384];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        conn_close(c);
        return;
    }
    if (n < 0) return;
    if (c->stream) return; /* a stream's client has nothing more to say */
    sb_add(&c->in, buf, (size_t)n);
    process_input(c);
    if (c->used) conn_flush(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    for (;;) {
        int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int slot = -1;
        for (int i = 0; i < SI_MAX_CONNS; i++)
            if (!S.conns[i].used) {
                slot = i;
                break;
            }
        if (slot < 0) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on AF_UNIX */
        conn *c = &S.conns[slot];
        memset(c, 0, sizeof *c);
        c->used = 1;
        c->fd = fd;
        c->id = ++S.next_conn_id;
        ev_io_init(&c->rio, read_cb, fd, EV_READ);
        ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
        ev_timer_init(&c->drip, drip_cb, 0.0, 0.0);
        ev_io_start(loop, &c->rio);
    }
}

/* Main ---------------------------------------------------------------------------------- */

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(revents);
    ev_break(loop, EVBREAK_ALL);
}

static int listen_on(int port, const char *unix_path) {
    int fd;
    if (unix_path) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (strlen(unix_path) >= sizeof sa.sun_path) return -1;
        strcpy(sa.sun_path, unix_path);
        unlink(unix_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
        chmod(unix_path, 0600); /* as Shioaji's own socket: owner only */
    } else {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        /* 127.0.0.1 unless --bind says otherwise (then auth is required). */
        if (inet_pton(AF_INET, S.bind_addr, &sa.sin_addr) != 1) return -1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    }
    if (listen(fd, 64) != 0) return -1;
    return fd;
}

static void usage(void) {
    fprintf(stderr,
            "usage: tool_standin [--port N | --unix PATH] [--rate EV_PER_S] [--nominal-rate N] [--heartbeat-ms MS]\n"
            "  [--seed N] [--date YYYY-MM-DD] [--log FILE] [--log-payloads] [--log-generated]\n"
            "  [--unknown CODE]...\n"
            "  [--require-auth KEY:SECRET] [--rate-limit N] [--rate-window-ms MS] [--max-subs N]\n"
            "  [--subscribe-error STATUS:COUNT] [--history N] [--ticks-limit N]\n"
            "  [--api 1.7|1.5.0] [--bind ADDR] [--intraday-ticks-max N] [--md-limit N --md-window-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int port = 0;
    const char *unix_path = NULL, *log_path = NULL, *date = NULL;
    uint64_t seed = 1;
    S.rate = 200;
    S.hb_ms = 30000;
    S.max_subs = 200;
    S.rate_limit = 50;
    S.rate_window_ms = 5000;
    S.hist_cap = 200000;
    S.ticks_limit = -1;
    S.md_limit = 50;         /* tutor_limit.md:118 */
    S.md_window_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() (v ? (i++, v) : (usage(), ""))
        if (!strcmp(a, "--port")) port = atoi(NEXT());
        else if (!strcmp(a, "--unix")) unix_path = NEXT();
        else if (!strcmp(a, "--rate")) S.rate = atof(NEXT());
        else if (!strcmp(a, "--nominal-rate")) S.nominal_rate = atof(NEXT());
        else if (!strcmp(a, "--heartbeat-ms")) S.hb_ms = atoi(NEXT());
        else if (!strcmp(a, "--seed")) seed = strtoull(NEXT(), NULL, 10);
        else if (!strcmp(a, "--date")) date = NEXT();
        else if (!strcmp(a, "--log")) log_path = NEXT();
        else if (!strcmp(a, "--log-payloads")) S.log_payloads = 1;
        else if (!strcmp(a, "--log-generated")) S.log_generated = 1;
        else if (!strcmp(a, "--sched-log")) {
            S.sched_log = fopen(NEXT(), "wb");
            if (!S.sched_log) {
                perror("--sched-log");
                return 2;
            }
        }
        else if (!strcmp(a, "--unknown")) {
            const char *code = NEXT();
            if (S.n_unknown < SI_MAX_UNKNOWN) shj_strlcpy(S.unknown[S.n_unknown++], code, 16);
        } else if (!strcmp(a, "--require-auth")) snprintf(S.auth, sizeof S.auth, "Bearer %s", NEXT());
        else if (!strcmp(a, "--rate-limit")) S.rate_limit = atoi(NEXT());
        else if (!strcmp(a, "--rate-window-ms")) S.rate_window_ms = atoi(NEXT());
        else if (!strcmp(a, "--max-subs")) S.max_subs = (size_t)atoi(NEXT());
        else if (!strcmp(a, "--history")) S.hist_cap = (size_t)atol(NEXT());
        else if (!strcmp(a, "--ticks-limit")) S.ticks_limit = atoi(NEXT());
        else if (!strcmp(a, "--intraday-ticks-max")) S.intraday_ticks_max = atoi(NEXT());
        else if (!strcmp(a, "--md-limit")) S.md_limit = atoi(NEXT());
        else if (!strcmp(a, "--md-window-ms")) S.md_window_ms = atoi(NEXT());
        else if (!strcmp(a, "--api")) {
            const char *ver = NEXT();
            if (!strcmp(ver, "1.5.0")) S.api150 = 1;
            else if (!strncmp(ver, "1.7", 3)) S.api150 = 0;
            else usage();
        } else if (!strcmp(a, "--bind")) shj_strlcpy(S.bind_addr, NEXT(), sizeof S.bind_addr);
        else if (!strcmp(a, "--subscribe-error")) {
            if (sscanf(NEXT(), "%d:%d", &S.sub_err_status, &S.sub_err_count) != 2) usage();
        } else usage();
#undef NEXT
    }
    signal(SIGPIPE, SIG_IGN);
    if (!S.bind_addr[0]) shj_strlcpy(S.bind_addr, "127.0.0.1", sizeof S.bind_addr);
    if (!S.auth[0] && !unix_path && strncmp(S.bind_addr, "127.", 4) != 0) {
        /* As the real server: bound beyond loopback, the credentials it was
         * started with (SJ_API_KEY / SJ_SEC_KEY, HTTP_API.md:93-96) are required. */
        const char *k = getenv("SJ_API_KEY"), *sk = getenv("SJ_SEC_KEY");
        if (!k || !*k || !sk || !*sk) {
            fprintf(stderr, "standin: bound to %s: SJ_API_KEY and SJ_SEC_KEY are required\n", S.bind_addr);
            return 2;
        }
        snprintf(S.auth, sizeof S.auth, "Bearer %s:%s", k, sk);
    }
    S.simcfg.payload_v150 = S.api150;
    S.usage_limit = 500LL * 1000 * 1000;
    shj_strlcpy(S.last_maintenance, "2026-01-01T00:22:00Z", sizeof S.last_maintenance);
    /* By default exchange time runs at wall-clock speed; a lower nominal rate
     * makes it run faster (tests reach 09:00 without waiting 15 minutes). */
    S.market = sim_new(seed, date, S.nominal_rate > 0 ? S.nominal_rate : S.rate > 0 ? S.rate : 2000);
    if (!S.market) {
        fprintf(stderr, "standin: cannot create the simulated market\n");
        return 1;
    }
    /* Sinopac's server sends Sinopac's keys only: never the simulator's own
     * "simulated":true marker (the client must not see what a real server
     * cannot send). */
    S.simcfg.plain = 1;
    sim_configure(S.market, &S.simcfg); /* --api 1.5.0: the old field names too */
    if (date)
        shj_strlcpy(S.date, date, sizeof S.date);
    else
        clk_taipei_date(clk_now_ns(), S.date);
    if (S.rate_limit > 0) S.req_times = calloc((size_t)S.rate_limit, sizeof *S.req_times);
    if (S.hist_cap) S.history = calloc(S.hist_cap, sizeof *S.history);
    sc_build(&S.catalog, seed, S.date); /* after S.date: the listed months depend on it */
    if (log_path) {
        S.log = fopen(log_path, "w");
        if (!S.log) {
            fprintf(stderr, "standin: cannot open log %s: %s\n", log_path, strerror(errno));
            return 1;
        }
    }
    S.lfd = listen_on(port, unix_path);
    if (S.lfd < 0) {
        fprintf(stderr, "standin: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    S.loop = ev_default_loop(0);
    ev_io_init(&S.accept_w, accept_cb, S.lfd, EV_READ);
    ev_io_start(S.loop, &S.accept_w);
    ev_timer_init(&S.gen_timer, gen_cb, 0.002, 0.002);
    ev_timer_start(S.loop, &S.gen_timer);
    ev_timer_init(&S.hb_timer, heartbeat_cb, S.hb_ms / 1000.0, S.hb_ms / 1000.0);
    ev_timer_start(S.loop, &S.hb_timer);
    ev_signal_init(&S.sigint_w, on_signal, SIGINT);
    ev_signal_start(S.loop, &S.sigint_w);
    ev_signal_init(&S.sigterm_w, on_signal, SIGTERM);
    ev_signal_start(S.loop, &S.sigterm_w);
    S.gen_started_mono = clk_mono_ns();

    if (unix_path) {
        printf("listening unix:%s\n", unix_path);
    } else {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        getsockname(S.lfd, (struct sockaddr *)&sa, &sl);
        printf("listening %s:%d\n", S.bind_addr, ntohs(sa.sin_port));
    }
    fflush(stdout);

    ev_run(S.loop, 0);

    for (int i = 0; i < SI_MAX_CONNS; i++) conn_close(&S.conns[i]);
    close(S.lfd);
    if (unix_path) unlink(unix_path);
    if (S.log) fclose(S.log);
    sim_free(S.market);
    free(S.catalog.c);
    free(S.history);
    free(S.req_times);
    fprintf(stderr, "standin: exit: sent %llu events, %llu requests\n", (unsigned long long)S.sent,
            (unsigned long long)S.requests);
    return 0;
}
