/* sj_source.c — the live Shioaji source: configuration, subscriptions, REST, status.
 *
 * DESIGN. Every REST call (info, contract lookup, subscribe, unsubscribe,
 * historical ticks) is a job in one FIFO queue with a single call in
 * flight, paced by a sliding window (rate_limit calls per rate_window_s,
 * default 45 per 5 s: under Shioaji's documented ~50 per 5 s). Retries of
 * transient failures (429, 5xx, no answer) go back to the front of the queue
 * with an exponential delay, so order is kept and the pacing still holds.
 * The SSE streams (sj_stream.c) are not paced: they are not API calls.
 *
 * Status events are queued when the bus is full and flushed before the next
 * payload, so their order relative to market events is the order of what
 * happened. The queue is unbounded on purpose: a status event (a gap, an
 * error) must never be lost.
 *
 * The session: start -> GET /api/v1/info (retried with backoff until the
 * server answers) -> open the stream(s) -> resolve aliases and unknown
 * exchanges -> subscribe each contract × quote type.
 */
#include "shioaji/sj_source.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/resolved.h"
#include "core/instrument.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "shioaji/sj_internal.h"
#include "core/contract.h"
#include "core/names.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"

#define SJ_DEFAULT_RATE_LIMIT 45
#define SJ_DEFAULT_RATE_WINDOW_S 5.0
#define SJ_DEFAULT_BF_MAX_QUERIES 50  /* market-data queries per window ... */
#define SJ_DEFAULT_BF_WINDOW_S 10.0   /* ... of 10 s (tutor_limit.md:118) */
#define SJ_DEFAULT_BF_INTRADAY 10     /* intraday ticks queries (tutor_limit.md:119) */
#define SJ_DEFAULT_BF_RETRY_HHMM 1350 /* after the TWSE (13:30) and TAIFEX day (13:45) close */
#define SJ_RESOLVE_REFRESH 1          /* RESOLVE job flags (in job.kind) */
#define SJ_RESOLVE_RESUB 2

static const src_ops sj_ops;

static sj_src *from_base(src_source *b) { return (sj_src *)b; }

/* Helpers ------------------------------------------------------------------------- */

double sj_backoff_delay(sj_src *s, int attempt) {
    double d = s->backoff_initial_s;
    for (int i = 0; i < attempt && d < s->backoff_max_s; i++) d *= 2;
    if (d > s->backoff_max_s) d = s->backoff_max_s;
    /* Equal jitter: half fixed, half random, so that many clients (or many
     * streams) that lost the server together do not return together. */
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    double u = (double)(s->rng >> 11) / 9007199254740992.0;
    return d * (0.5 + 0.5 * u);
}

/* Names both ways are core/names' (one owner); unknown values default the
 * way Shioaji's contract lookup does for a bare stock code. */
static const char *sec_name(int sec) { return sec ? nm_sec_type(sec) : "STK"; }
static const char *ex_name(int ex) { return ex ? nm_exchange(ex) : "TSE"; }
static int ex_from_name(const char *s) {
    int v = nm_exchange_of(s, strlen(s));
    return v > 0 ? v : 0;
}
static int sec_from_name(const char *s) {
    int v = nm_sec_type_of(s, strlen(s));
    return v > 0 ? v : 0;
}

static const char *quote_name(int kind) {
    switch (kind) {
    case SHJ_KIND_BIDASK: return "BidAsk";
    case SHJ_KIND_QUOTE: return "Quote";
    default: return "Tick";
    }
}

int sj_sub_tag(const sj_sub *sub, int kind) {
    int stk = sub->sec_type == SHJ_SEC_STK || sub->sec_type == SHJ_SEC_IND;
    switch (kind) {
    case SHJ_KIND_TICK: return stk ? PSR_TAG_TICK_STK : PSR_TAG_TICK_FOP;
    case SHJ_KIND_BIDASK: return stk ? PSR_TAG_BIDASK_STK : PSR_TAG_BIDASK_FOP;
    case SHJ_KIND_QUOTE: return stk ? PSR_TAG_QUOTE_STK : PSR_TAG_QUOTE_FOP;
    default: return PSR_TAG_UNKNOWN;
    }
}

int sj_stream_wants(const sj_stream *st, const sj_sub *sub, int kind) {
    return st->tag == 0 || st->tag == sj_sub_tag(sub, kind);
}

/* The session's job types (the REST queue, sj_rest.c, runs them) ----------------------- */

static void handle_info(sj_src *s, int http, const char *body, size_t len, const char *cerr);
static void handle_resolve(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr);
static void handle_sub(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr);

static void info_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    SHJ_UNUSED(j);
    handle_info(s, http, body, len, cerr);
}

static int info_request(sj_src *s, sj_job *j, sj_request *rq) {
    SHJ_UNUSED(s);
    SHJ_UNUSED(j);
    rq->method = "GET";
    shj_strlcpy(rq->path, "/api/v1/info", sizeof rq->path);
    return 1;
}

static int resolve_obsolete(sj_src *s, sj_job *j) { return s->subs[j->sub].removed; }

static int resolve_request(sj_src *s, sj_job *j, sj_request *rq) {
    const sj_sub *sub = &s->subs[j->sub];
    rq->method = "GET";
    snprintf(rq->path, sizeof rq->path, "/api/v1/data/contracts/%s?security_type=%s", sub->code,
             sec_name(sub->sec_type));
    return 1;
}

/* A subscription no longer wanted, or whose lookup (queued before it) failed
 * for good (already reported): dropped, its stream's resubscription counted. */
static int sub_obsolete(sj_src *s, sj_job *j) {
    const sj_sub *sub = &s->subs[j->sub];
    int drop = sub->removed || sub->dead || !(sub->kind_mask & shj_kind_bit(j->kind)) ||
               (sub->failed_mask & shj_kind_bit(j->kind)) || !sub->resolved;
    if (drop && j->stream >= 0) sj_stream_resub_done(s, j->stream);
    return drop;
}

static int sub_request(sj_src *s, sj_job *j, sj_request *rq) {
    const sj_sub *sub = &s->subs[j->sub];
    snprintf(rq->path, sizeof rq->path, "/api/v1/stream/%s", j->type == SJ_JOB_SUB ? "subscribe" : "unsubscribe");
    char target[48] = "";
    if (sub->alias) snprintf(target, sizeof target, ",\"target_code\":\"%s\"", sub->real);
    snprintf(rq->body, sizeof rq->body,
             "{\"security_type\":\"%s\",\"exchange\":\"%s\",\"code\":\"%s\"%s,"
             "\"quote_type\":\"%s\",\"intraday_odd\":%s}",
             sec_name(sub->sec_type), ex_name(sub->exchange), sub->code, target, quote_name(j->kind),
             sub->odd_lot ? "true" : "false");
    return 1;
}

static const sj_job_ops info_job = {.what = "GET /api/v1/info", .request = info_request, .answer = info_answer};
static const sj_job_ops resolve_job = {.what = "contract lookup", .drop_if_obsolete = resolve_obsolete,
                                       .request = resolve_request, .answer = handle_resolve};
static const sj_job_ops sub_job = {.what = "subscribe", .drop_if_obsolete = sub_obsolete,
                                   .request = sub_request, .answer = handle_sub};
static const sj_job_ops unsub_job = {.what = "unsubscribe", .request = sub_request, .answer = handle_sub};

const sj_job_ops *const sj_job_types[SJ_JOB_TYPE_COUNT] = {
    [SJ_JOB_INFO] = &info_job,          [SJ_JOB_RESOLVE] = &resolve_job,
    [SJ_JOB_SUB] = &sub_job,            [SJ_JOB_UNSUB] = &unsub_job,
    [SJ_JOB_TICKS] = &sj_ticks_job_ops, [SJ_JOB_HEALTH] = &sj_health_job_ops,
    [SJ_JOB_USAGE] = &sj_usage_job_ops,
};

void sj_source_kicked(sj_src *s) {
    if (!sj_backfill_flush(s) && !s->stopped) s->base.state = SRC_PAUSED;
}

/* Session ------------------------------------------------------------------------------- */

static void queue_sub_jobs(sj_src *s, size_t i, uint32_t kinds, int stream) {
    sj_sub *sub = &s->subs[i];
    for (int k = 1; k < SHJ_KIND_MAX; k++) {
        if (!(kinds & shj_kind_bit(k))) continue;
        sj_job j = {.type = SJ_JOB_SUB, .sub = (int)i, .kind = k, .stream = stream};
        sj_push_job(s, &j, 0);
        SHJ_UNUSED(sub);
    }
}

static void queue_resolve(sj_src *s, size_t i) {
    sj_sub *sub = &s->subs[i];
    if (sub->resolved || sub->resolving) return;
    sub->resolving = 1;
    sj_job j = {.type = SJ_JOB_RESOLVE, .sub = (int)i, .stream = -1};
    sj_push_job(s, &j, 0);
}

/* Look an alias up again (a new trading day, a contract_event, a
 * resubscription): flags SJ_RESOLVE_REFRESH, and SJ_RESOLVE_RESUB to
 * subscribe it again once the answer is in. */
void sj_queue_refresh(sj_src *s, size_t i, int flags) {
    sj_job j = {.type = SJ_JOB_RESOLVE, .sub = (int)i, .kind = SJ_RESOLVE_REFRESH | flags, .stream = -1};
    sj_push_job(s, &j, 0);
}

void sj_queue_sub_jobs(sj_src *s, size_t i, uint32_t kinds) { queue_sub_jobs(s, i, kinds, -1); }

static void watch_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_watch_tick(shj_container_of(w, sj_src, watch));
}

static void begin_session(sj_src *s) {
    sj_streams_ensure(s);
    for (size_t i = 0; i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (sub->removed || sub->dead) continue;
        queue_resolve(s, i);
        queue_sub_jobs(s, i, sub->kind_mask & ~sub->failed_mask & ~sub->active_mask, -1);
    }
}

static void info_retry_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_src *s = shj_container_of(w, sj_src, info_retry);
    sj_job j = {.type = SJ_JOB_INFO, .stream = -1};
    sj_push_job(s, &j, 1);
}

static void handle_info(sj_src *s, int http, const char *body, size_t len, const char *cerr) {
    if (http == 200) {
        char name[64] = "", version[64] = "";
        int sim = -1;
        sj_json_get_str(body, len, "name", name, sizeof name);
        sj_json_get_str(body, len, "version", version, sizeof version);
        if (sj_json_get_bool(body, len, "simulation", &sim) != 1) sim = -1;
        shj_strlcpy(s->server_name, name, sizeof s->server_name);
        shj_strlcpy(s->server_version, version, sizeof s->server_version);
        s->simulation = sim;
        shj_log(SHJ_LOG_INFO, "source %s: Shioaji server %s %s at %s, %s", s->base.name,
                name[0] ? name : "(unnamed)", version[0] ? version : "(no version)",
                sj_http_display(s->http),
                sim == 1 ? "SIMULATION mode" : sim == 0 ? "PRODUCTION mode" : "mode not reported");
        s->info_ok = 1;
        s->info_attempt = 0;
        begin_session(s);
        if (!ev_is_active(&s->watch)) {
            double iv = s->silence_s > 0 && s->silence_s < 4 ? s->silence_s / 4 : 1.0;
            if (s->health_poll_s > 0 && s->health_poll_s < iv) iv = s->health_poll_s;
            ev_timer_set(&s->watch, iv, iv);
            ev_timer_start(s->base.loop, &s->watch);
        }
        sj_watch_tick(s); /* the first health answer: last_maintenance as it is now */
        return;
    }
    char msg[200];
    sj_server_message(body, len, cerr, msg, sizeof msg);
    double d = sj_backoff_delay(s, s->info_attempt++);
    char why[260];
    if (http)
        snprintf(why, sizeof why, "HTTP %d: %s", http, msg);
    else
        shj_strlcpy(why, msg, sizeof why);
    shj_log(SHJ_LOG_WARN, "source %s: Shioaji server at %s not ready (%s); retrying in %.2f s",
            s->base.name, sj_http_display(s->http), why, d);
    if (s->info_attempt == 1)
        sj_status(s, SHJ_STATUS_ERROR, "", 0, 0, http, "server %s not ready: %s", sj_http_display(s->http), msg);
    ev_timer_set(&s->info_retry, d, 0.0);
    ev_timer_start(s->base.loop, &s->info_retry);
}

static void handle_resolve(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    sj_sub *sub = &s->subs[j->sub];
    char msg[200];
    if (http == 200) {
        char code[32] = "", target[32] = "", ex[16] = "", sec[8] = "", old[16];
        shj_strlcpy(old, sub->real, sizeof old);
        sj_json_get_str(body, len, "code", code, sizeof code);
        sj_json_get_str(body, len, "target_code", target, sizeof target);
        sj_json_get_str(body, len, "exchange", ex, sizeof ex);
        sj_json_get_str(body, len, "security_type", sec, sizeof sec);
        const char *real = target[0] ? target : code[0] ? code : sub->code;
        if (strlen(real) >= sizeof sub->real) {
            sub->dead = 1;
            sub->resolving = 0;
            sj_status(s, SHJ_STATUS_ERROR, sub->code, 0, 0, http, "lookup of %s: code %s too long",
                       sub->code, real);
            return;
        }
        shj_strlcpy(sub->real, real, sizeof sub->real);
        if (ex_from_name(ex)) sub->exchange = ex_from_name(ex);
        if (sec_from_name(sec)) sub->sec_type = sec_from_name(sec);
        if (!sub->exchange) sub->exchange = sub->sec_type == SHJ_SEC_STK ? SHJ_EX_TSE : SHJ_EX_TAIFEX;
        sub->resolved = 1;
        sub->resolving = 0;
        inst_register(sub->real, sub->exchange, sub->sec_type, sub->odd_lot);
        if (sub->alias) rsv_note(sub->code, sub->real, sub->exchange, sub->sec_type, s->base.source_id); /* core/resolved.h: ClickHouse aliases rows */
        char day[11];
        clk_taipei_date(clk_now_ns(), day);
        shj_strlcpy(sub->resolved_day, day, sizeof sub->resolved_day);
        int changed = (j->kind & SJ_RESOLVE_REFRESH) && strcmp(old, sub->real) != 0;
        if (changed) {
            /* The alias rolled (expiry): the old target_code now gives
             * heartbeats only (HTTP_API.md:812). Subscribe the new month;
             * the old one's silence is a gap. */
            s->alias_changes++;
            shj_log(SHJ_LOG_WARN, "source %s: %s now resolves to %s (was %s); resubscribing", s->base.name,
                    sub->code, sub->real, old);
            if (!sub->gap_g0 && sub->active_mask) {
                sub->gap_g0 = sub->last_event_rx_ns ? sub->last_event_rx_ns
                                                    : clk_now_ns() - (clk_mono_ns() - sub->last_event_mono);
                shj_strlcpy(sub->gap_code, old, sizeof sub->gap_code);
            }
            sub->active_mask = 0;
        } else if (strcmp(sub->real, sub->code) != 0 && !(j->kind & SJ_RESOLVE_REFRESH)) {
            shj_log(SHJ_LOG_INFO, "source %s: %s resolves to %s (%s %s)", s->base.name, sub->code,
                    sub->real, ex_name(sub->exchange), sec_name(sub->sec_type));
        }
        if (changed || (j->kind & SJ_RESOLVE_RESUB)) queue_sub_jobs(s, (size_t)j->sub, sub->kind_mask & ~sub->failed_mask, -1);
        sj_streams_ensure(s); /* per-kind mode: the kind of stream may only be known now */
        return;
    }
    sj_server_message(body, len, cerr, msg, sizeof msg);
    if ((http == 429 || http >= 500 || http == 0) && j->tries < s->max_retries) {
        char why[300];
        snprintf(why, sizeof why, "lookup of %s failed (%s%d: %s)", sub->code, http ? "HTTP " : "", http, msg);
        sj_retry_job(s, j, why);
        return;
    }
    sub->dead = 1;
    sub->resolving = 0;
    s->subscribe_errors++;
    shj_log(SHJ_LOG_ERROR, "source %s: cannot look up contract %s (HTTP %d): %s", s->base.name,
            sub->code, http, msg);
    sj_status(s, SHJ_STATUS_ERROR, sub->code, 0, 0, http, "lookup %s: %s", sub->code, msg);
}

/* A subscription silent since sub->gap_g0 is answered again: one GAP from
 * then to now (the server sent nothing for it in between). */
static void gap_close(sj_src *s, sj_sub *sub) {
    if (!sub->gap_g0) return;
    int64_t g1 = clk_now_ns();
    s->gaps++;
    const char *code = sub->gap_code[0] ? sub->gap_code : sub->real;
    sj_status(s, SHJ_STATUS_GAP, code, sub->gap_g0, g1, 0, "%s silent for %.3f s (subscription dropped): may miss data",
               code, (double)(g1 - sub->gap_g0) / 1e9);
    if (s->backfill && (sub->kind_mask & shj_kind_bit(SHJ_KIND_TICK)))
        sj_backfill_gap(s, (int)(sub - s->subs), sub->gap_g0, g1);
    sub->gap_g0 = 0;
    sub->gap_code[0] = '\0';
}

static void handle_sub(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    sj_sub *sub = &s->subs[j->sub];
    uint32_t bit = shj_kind_bit(j->kind);
    const char *verb = j->type == SJ_JOB_SUB ? "subscribe" : "unsubscribe";
    char msg[200];
    int success = 1;
    if (http >= 200 && http < 300 && sj_json_get_bool(body, len, "success", &success) == 1 && !success) {
        /* 1.7.x answers SubscriptionResponse {success, message, subscription}:
         * a 200 with success=false is no subscription (STREAMING.md:167). */
        sj_server_message(body, len, cerr, msg, sizeof msg);
        if (j->type == SJ_JOB_SUB) {
            sub->failed_mask |= bit;
            sub->active_mask &= ~bit;
            s->subscribe_errors++;
        }
        shj_log(SHJ_LOG_ERROR, "source %s: %s %s %s refused by the server (success=false): %s", s->base.name,
                verb, sub->code, quote_name(j->kind), msg);
        sj_status(s, SHJ_STATUS_ERROR, sub->code, 0, 0, http, "%s %s %s refused: %s", verb, sub->code,
                   quote_name(j->kind), msg);
        if (j->stream >= 0) sj_stream_resub_done(s, j->stream);
        gap_close(s, sub);
        return;
    }
    if (http >= 200 && http < 300) {
        if (j->type == SJ_JOB_SUB) {
            sub->active_mask |= bit;
            sub->last_event_mono = clk_mono_ns();
            gap_close(s, sub);
            shj_log(SHJ_LOG_DEBUG, "source %s: subscribed %s %s", s->base.name, sub->code, quote_name(j->kind));
        } else {
            sub->active_mask &= ~bit;
        }
        if (j->stream >= 0) sj_stream_resub_done(s, j->stream);
        return;
    }
    sj_server_message(body, len, cerr, msg, sizeof msg);
    if ((http == 429 || http >= 500 || http == 0) && j->tries < s->max_retries) {
        char why[320];
        snprintf(why, sizeof why, "%s %s %s: %s%d %s", verb, sub->code, quote_name(j->kind),
                 http ? "HTTP " : "no answer ", http, msg);
        sj_retry_job(s, j, why);
        return;
    }
    gap_close(s, sub);
    if (j->type == SJ_JOB_SUB) {
        /* A refusal (4xx) is final until the script asks again; a server that
         * stayed unreachable through every retry is asked again after the next
         * reconnect, so it is not marked failed. */
        if (http >= 400 && http < 500 && http != 429) sub->failed_mask |= bit;
        sub->active_mask &= ~bit;
        s->subscribe_errors++;
    }
    shj_log(SHJ_LOG_ERROR, "source %s: %s %s %s rejected (HTTP %d): %s", s->base.name, verb,
            sub->code, quote_name(j->kind), http, msg);
    sj_status(s, SHJ_STATUS_ERROR, sub->code, 0, 0, http, "%s %s %s: HTTP %d %s", verb, sub->code,
               quote_name(j->kind), http, msg);
    if (j->stream >= 0) sj_stream_resub_done(s, j->stream);
}

/* ops ---------------------------------------------------------------------------------- */

static int sj_start(src_source *b, char *err, size_t errlen) {
    sj_src *s = from_base(b);
    if (!b->loop) return shj_fail(err, errlen, "source %s: no event loop", b->name);

    /* Credentials: read here, handed to the HTTP client as one header, never printed. */
    const char *k = getenv("SHIOAJI_API_KEY"), *sec = getenv("SHIOAJI_SECRET_KEY");
    shj_strlcpy(s->cred_vars, "SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY", sizeof s->cred_vars);
    if (!(k && *k && sec && *sec)) {
        k = getenv("SJ_API_KEY");
        sec = getenv("SJ_SEC_KEY");
        shj_strlcpy(s->cred_vars, "SJ_API_KEY/SJ_SEC_KEY", sizeof s->cred_vars);
    }
    s->have_creds = k && *k && sec && *sec;
    /* Sent whenever configured, whatever the URL: the server decides by its
     * own bind address, not by the one we dial (HTTP_API.md:72-77: bound
     * beyond loopback it demands the header even from 127.0.0.1). */
    int send = s->have_creds;
    char *auth = NULL;
    if (send) {
        size_t n = strlen(k) + strlen(sec) + 32;
        auth = malloc(n);
        if (!auth) return shj_fail(err, errlen, "out of memory");
        snprintf(auth, n, "Authorization: Bearer %s:%s", k, sec);
    }
    sj_http_config cfg = {.base_url = s->url[0] ? s->url : NULL,
                      .unix_socket = s->socket_path[0] ? s->socket_path : NULL,
                      .auth_header = auth,
                      .connect_timeout_ms = (long)(s->connect_timeout_s * 1000),
                      .request_timeout_ms = (long)(s->request_timeout_s * 1000)};
    if (!cfg.base_url) cfg.base_url = s->socket_path[0] ? "http://localhost" : "http://127.0.0.1:8080";
    char herr[256] = "";
    s->http = sj_http_new(b->loop, &cfg, herr, sizeof herr);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (!s->http) return shj_fail(err, errlen, "source %s: %s", b->name, herr);
    shj_log(SHJ_LOG_INFO, "source %s: connecting to Shioaji at %s (%s stream%s); credentials: %s",
            b->name, sj_http_display(s->http), s->per_kind ? "per-kind" : "combined",
            s->per_kind ? "s" : "",
            !s->have_creds ? "none in the environment (a server bound beyond loopback will refuse us)"
                           : "sent");
    if (s->have_creds) shj_log(SHJ_LOG_DEBUG, "source %s: credentials from %s", b->name, s->cred_vars);

    sj_rest_init(s);
    ev_timer_init(&s->info_retry, info_retry_cb, 0.0, 0.0);
    ev_timer_init(&s->watch, watch_cb, 1.0, 1.0);
    s->started = 1;
    s->stopped = 0;
    b->state = SRC_RUNNING;
    if (s->backfill && sj_backfill_init(s) != SHJ_OK)
        shj_log(SHJ_LOG_WARN, "source %s: backfill disabled (cannot watch the bus)", b->name);
    else if (s->backfill && sj_bflimit_init(s) != SHJ_OK)
        return shj_fail(err, errlen, "source %s: out of memory", b->name);
    sj_job j = {.type = SJ_JOB_INFO, .stream = -1};
    sj_push_job(s, &j, 0);
    return SHJ_OK;
}

static void sj_stop(src_source *b) {
    sj_src *s = from_base(b);
    if (s->stopped) return;
    /* Deliver what was received and is still held back, as far as room allows. */
    sj_status_flush(s);
    if (!s->fatal) {
        sj_backfill_flush(s);
        sj_streams_resume(s);
    }
    sj_bflimit_stop(s);
    s->stopped = 1;
    sj_streams_stop(s);
    if (b->loop) {
        ev_timer_stop(b->loop, &s->info_retry);
        ev_timer_stop(b->loop, &s->watch);
    }
    sj_rest_stop(s);
    if (ring_len(&s->stq))
        shj_log(SHJ_LOG_WARN, "source %s: %zu status events not published (bus full at stop)",
                b->name, ring_len(&s->stq));
    b->state = SRC_STOPPED;
}

static void sj_resume(src_source *b) {
    sj_src *s = from_base(b);
    if (s->stopped) return;
    if (!sj_status_flush(s) || !sj_backfill_flush(s) || !sj_streams_resume(s)) b->state = SRC_PAUSED;
}

/* The regular and the intraday odd-lot board of a stock are separate subscriptions. */
static int find_sub(sj_src *s, const char *code, int odd_lot) {
    for (size_t i = 0; i < s->n_subs; i++)
        if (!s->subs[i].removed && s->subs[i].odd_lot == !!odd_lot &&
            (!strcmp(s->subs[i].code, code) || !strcmp(s->subs[i].real, code)))
            return (int)i;
    return -1;
}

static uint32_t market_kinds(uint32_t mask) {
    return mask & (shj_kind_bit(SHJ_KIND_TICK) | shj_kind_bit(SHJ_KIND_BIDASK) | shj_kind_bit(SHJ_KIND_QUOTE));
}

static int sj_subscribe(src_source *b, const src_sub_req *req, char *err, size_t errlen) {
    sj_src *s = from_base(b);
    if (!req->code || !*req->code) return shj_fail(err, errlen, "subscribe: empty contract code");
    if (strlen(req->code) >= 16) return shj_fail(err, errlen, "subscribe: code %s too long", req->code);
    uint32_t kinds = market_kinds(req->kind_mask ? req->kind_mask : shj_kind_bit(SHJ_KIND_TICK));
    if (!kinds) return shj_fail(err, errlen, "subscribe %s: no market kind (tick, bidask, quote)", req->code);
    int i = find_sub(s, req->code, req->odd_lot);
    if (i < 0) {
        if (s->n_subs == s->cap_subs) {
            size_t cap = s->cap_subs ? s->cap_subs * 2 : 32;
            sj_sub *n = realloc(s->subs, cap * sizeof *n);
            if (!n) return shj_fail(err, errlen, "out of memory");
            s->subs = n;
            s->cap_subs = cap;
        }
        i = (int)s->n_subs++;
        sj_sub *sub = &s->subs[i];
        memset(sub, 0, sizeof *sub);
        shj_strlcpy(sub->code, req->code, sizeof sub->code);
        shj_strlcpy(sub->real, req->code, sizeof sub->real);
        sub->exchange = req->exchange;
        sub->sec_type = req->sec_type;
        sub->odd_lot = !!req->odd_lot;
        sub->alias = ctr_is_alias(req->code);
        ctr_infer(req->code, &sub->sec_type, &sub->exchange); /* the server has the last word */
        if (sub->alias) sub->sec_type = sub->sec_type ? sub->sec_type : SHJ_SEC_FUT;
        /* Known without asking: a real code with its exchange. */
        sub->resolved = !sub->alias && sub->exchange != 0;
        if (sub->resolved) inst_register(sub->real, sub->exchange, sub->sec_type, sub->odd_lot);
    }
    sj_sub *sub = &s->subs[i];
    sub->kind_mask |= kinds;
    sub->failed_mask &= ~kinds; /* asking again means trying again */
    sub->dead = 0;
    /* An alias is resolved by the server, later: until then the caller sees the alias. */
    if (sub->resolved) shj_strlcpy(b->last_resolved, sub->real, sizeof b->last_resolved);
    if (s->started && s->info_ok && !s->stopped) {
        queue_resolve(s, (size_t)i);
        sj_streams_ensure(s);
        queue_sub_jobs(s, (size_t)i, kinds & ~sub->active_mask, -1);
    }
    return SHJ_OK;
}

static int sj_unsubscribe(src_source *b, const src_sub_req *req, char *err, size_t errlen) {
    sj_src *s = from_base(b);
    int i = find_sub(s, req->code ? req->code : "", req->odd_lot);
    if (i < 0) return shj_fail(err, errlen, "unsubscribe: %s is not subscribed", req->code ? req->code : "");
    sj_sub *sub = &s->subs[i];
    uint32_t kinds = market_kinds(req->kind_mask ? req->kind_mask : sub->kind_mask);
    uint32_t on_server = kinds & sub->active_mask;
    sub->kind_mask &= ~kinds;
    for (int k = 1; k < SHJ_KIND_MAX; k++) {
        if (!(on_server & shj_kind_bit(k))) continue;
        sj_job j = {.type = SJ_JOB_UNSUB, .sub = i, .kind = k, .stream = -1};
        if (s->started && !s->stopped) sj_push_job(s, &j, 0);
    }
    if (!sub->kind_mask) sub->removed = 1;
    return SHJ_OK;
}

static void sj_free(src_source *b) {
    sj_src *s = from_base(b);
    sj_stop(b);
    sj_streams_free(s);
    sj_backfill_free(s);
    sj_http_free(s->http);
    free(s->subs);
    sj_rest_free(s);
    sj_status_free(s);
    for (size_t i = 0; i < s->bf_verify_n; i++) sj_job_release(&s->bf_verify[i]);
    free(s->bf_verify);
    free(s);
}

static const src_ops sj_ops = {
    .type = "shioaji",
    .start = sj_start,
    .stop = sj_stop,
    .resume = sj_resume,
    .subscribe = sj_subscribe,
    .unsubscribe = sj_unsubscribe,
    .free = sj_free,
    .status = sj_status_line, /* rt's status line: "<name>/conn: streams 1/1 subs 14 ..." */
};

/* FFI ---------------------------------------------------------------------------------- */

static sj_src *as_sjs(const src_source *b) {
    return (b && b->ops == &sj_ops) ? (sj_src *)(uintptr_t)b : NULL;
}

src_source *sj_new(const char *name, const char *url, const char *unix_socket,
                            const char *stream_mode, double heartbeat_timeout_s, char *err,
                            size_t errlen) {
    int per_kind = 0;
    if (stream_mode && *stream_mode && strcmp(stream_mode, "combined") != 0) {
        if (strcmp(stream_mode, "per_kind") != 0) {
            shj_fail(err, errlen, "stream must be \"combined\" or \"per_kind\", not \"%s\"", stream_mode);
            return NULL;
        }
        per_kind = 1;
    }
    if (url && *url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        shj_fail(err, errlen, "url must start with http:// or https:// (got %.60s)", url);
        return NULL;
    }
    if ((url && strlen(url) >= 256) || (unix_socket && strlen(unix_socket) >= 256)) {
        shj_fail(err, errlen, "url or socket path too long");
        return NULL;
    }
    sj_src *s = calloc(1, sizeof *s);
    if (!s) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    src_init(&s->base, &sj_ops, name && *name ? name : "shioaji");
    ring_init(&s->jobs, sizeof(sj_job), 64);
    ring_init(&s->stq, sizeof(sj_status_item), 64);
    ring_init(&s->seen, sizeof(sj_seen), SJ_SEEN_CAP);
    ring_init(&s->bfq, sizeof(sj_bf_item), 256);
    shj_strlcpy(s->url, url ? url : "", sizeof s->url);
    shj_strlcpy(s->socket_path, unix_socket ? unix_socket : "", sizeof s->socket_path);
    s->per_kind = per_kind;
    s->hb_timeout_s = heartbeat_timeout_s > 0 ? heartbeat_timeout_s : SJ_DEFAULT_HB_TIMEOUT_S;
    s->backoff_initial_s = 0.5;
    s->backoff_max_s = 30.0;
    s->rate_limit = SJ_DEFAULT_RATE_LIMIT;
    s->rate_window_s = SJ_DEFAULT_RATE_WINDOW_S;
    s->max_retries = 8;
    s->connect_timeout_s = 5.0;
    s->request_timeout_s = 15.0;
    s->simulation = -1;
    s->backfill_delay_s = 1.0;
    s->bf_max_queries = SJ_DEFAULT_BF_MAX_QUERIES;
    s->bf_window_s = SJ_DEFAULT_BF_WINDOW_S;
    s->bf_retry_hhmm = SJ_DEFAULT_BF_RETRY_HHMM;
    s->bf_defer = 1;
    s->bf_intraday_max = SJ_DEFAULT_BF_INTRADAY;
    s->ban_wait_s = 60.0;     /* TROUBLESHOOTING.md:387: at least one minute */
    s->health_poll_s = 60.0;  /* as Sinopac's app (stream.ts:530) */
    s->silence_s = 120.0;
    s->market_hours = 1;
    s->usage_poll_s = 300.0;
    s->usage_bytes = s->usage_limit = s->usage_remaining = -1;
    s->rng = (uint64_t)clk_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
    if (!s->rng) s->rng = 1;
    if (sj_ratewin_init(&s->rest_win, (size_t)s->rate_limit, (int64_t)(s->rate_window_s * 1e9)) != SHJ_OK) {
        free(s);
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    return &s->base;
}

int sj_set(src_source *b, const char *key, double v, char *err, size_t errlen) {
    sj_src *s = as_sjs(b);
    if (!s) return shj_fail(err, errlen, "not a Shioaji source");
    if (!key) return shj_fail(err, errlen, "no option name");
    int rc = sj_bflimit_set(s, key, v, err, errlen); /* the backfill budget's own options */
    if (rc != SHJ_AGAIN) return rc;
    if (!strcmp(key, "backoff_initial_s") && v > 0)
        s->backoff_initial_s = v;
    else if (!strcmp(key, "backoff_max_s") && v > 0)
        s->backoff_max_s = v;
    else if (!strcmp(key, "rate_limit") && v >= 1 && v <= 10000) {
        if (s->inflight || s->rest_win.n) return shj_fail(err, errlen, "rate_limit can only change before start");
        if (sj_ratewin_resize(&s->rest_win, (size_t)v) != SHJ_OK) return shj_fail(err, errlen, "out of memory");
        s->rate_limit = (int)v;
    } else if (!strcmp(key, "rate_window_s") && v > 0) {
        s->rate_window_s = v;
        s->rest_win.window_ns = (int64_t)(v * 1e9);
    }
    else if (!strcmp(key, "send_auth"))
        s->send_auth = v != 0;
    else if (!strcmp(key, "backfill"))
        s->backfill = v != 0;
    else if (!strcmp(key, "connect_timeout_s") && v > 0)
        s->connect_timeout_s = v;
    else if (!strcmp(key, "request_timeout_s") && v > 0)
        s->request_timeout_s = v;
    else if (!strcmp(key, "max_retries") && v >= 0)
        s->max_retries = (int)v;
    else if (!strcmp(key, "heartbeat_timeout_s") && v > 0)
        s->hb_timeout_s = v;
    else if (!strcmp(key, "backfill_delay_s") && v >= 0)
        s->backfill_delay_s = v;
    else if (!strcmp(key, "auth_retry_s") && v >= 0)
        s->auth_retry_s = v;
    else if (!strcmp(key, "ban_wait_s") && v >= 0)
        s->ban_wait_s = v;
    else if (!strcmp(key, "health_poll_s") && v >= 0)
        s->health_poll_s = v;
    else if (!strcmp(key, "silence_s") && v >= 0)
        s->silence_s = v;
    else if (!strcmp(key, "market_hours"))
        s->market_hours = v != 0;
    else if (!strcmp(key, "usage_poll_s") && v >= 0)
        s->usage_poll_s = v;
    else
        return shj_fail(err, errlen, "unknown option or bad value: %s = %g", key, v);
    return SHJ_OK;
}

int sj_resolved(const src_source *b, const char *code, char *out) {
    sj_src *s = as_sjs(b);
    if (!s || !code) return 0;
    for (size_t i = 0; i < s->n_subs; i++) {
        const sj_sub *sub = &s->subs[i];
        if (!strcmp(sub->code, code) && sub->resolved) {
            shj_strlcpy(out, sub->real, 16);
            return 1;
        }
    }
    return 0;
}

uint64_t sj_counter(const src_source *b, const char *name) {
    sj_src *s = as_sjs(b);
    if (!s || !name) return 0;
    if (!strcmp(name, "reconnects")) return s->reconnects;
    if (!strcmp(name, "gaps")) return s->gaps;
    if (!strcmp(name, "subscribe_errors")) return s->subscribe_errors;
    if (!strcmp(name, "requests")) return s->requests;
    if (!strcmp(name, "rate_waits")) return s->rate_waits;
    if (!strcmp(name, "unknown_names")) return s->unknown_count;
    if (!strcmp(name, "backfilled")) return s->backfilled;
    if (!strcmp(name, "pass_dispatches")) return s->pass_dispatches;
    if (!strcmp(name, "backfill_requests")) return s->backfill_requests;
    if (!strcmp(name, "backfill_queued")) return sj_bflimit_queued(s);
    if (!strcmp(name, "backfill_deferred")) return s->bf_deferred;
    if (!strcmp(name, "backfill_refusals")) return s->bf_refusals;
    if (!strcmp(name, "resubscribed")) return s->resubscribed;
    if (!strcmp(name, "bans")) return s->bans;
    if (!strcmp(name, "auth_refusals")) return s->auth_refusals;
    if (!strcmp(name, "maintenances")) return s->maintenances;
    if (!strcmp(name, "silences")) return s->silences;
    if (!strcmp(name, "alias_changes")) return s->alias_changes;
    if (!strcmp(name, "quota_exhausted")) return s->quota_exhausted;
    if (!strcmp(name, "empty_answers")) return s->empty_answers;
    if (!strcmp(name, "usage_bytes")) return s->usage_bytes < 0 ? 0 : (uint64_t)s->usage_bytes;
    if (!strcmp(name, "usage_remaining")) return s->usage_remaining < 0 ? UINT64_MAX : (uint64_t)s->usage_remaining;
    if (!strcmp(name, "streams_open")) return (uint64_t)sj_streams_open_count(s);
    if (!strcmp(name, "subscribed")) {
        uint64_t n = 0;
        for (size_t i = 0; i < s->n_subs; i++)
            if (!s->subs[i].removed) n += (uint64_t)__builtin_popcount(s->subs[i].active_mask);
        return n;
    }
    if (!strcmp(name, "bytes")) {
        sj_http_stats st = {0};
        if (s->http) sj_http_get_stats(s->http, &st);
        return st.bytes_in;
    }
    return 0;
}

size_t sj_status_line(const src_source *b, char *buf, size_t cap) {
    sj_src *s = as_sjs(b);
    if (!s || !cap) return 0;
    int want = 0;
    for (int i = 0; i < SJ_MAX_STREAMS; i++) want += s->streams[i].used;
    char bf[160] = "";
    size_t bl = 0;
    if (sj_bflimit_queued(s)) bl += (size_t)snprintf(bf, sizeof bf, " backfill queued %zu", sj_bflimit_queued(s));
    if (s->usage_limit > 0 && s->usage_bytes >= 0 && bl < sizeof bf) {
        double pct = 100.0 * (double)s->usage_bytes / (double)s->usage_limit;
        snprintf(bf + bl, sizeof bf - bl, " usage %.1f/%.0f MB (%.0f%%, %.1f MB left)%s", (double)s->usage_bytes / 1e6,
                 (double)s->usage_limit / 1e6, pct, (double)(s->usage_remaining > 0 ? s->usage_remaining : 0) / 1e6,
                 s->usage_remaining == 0 ? " QUOTA EXHAUSTED" : pct >= 80 ? " WARNING" : "");
    }
    int n = snprintf(buf, cap, "%sstreams %d/%d subs %llu err %llu reconn %llu gaps %llu%s%s",
                     !s->info_ok ? "waiting for server, " : "", sj_streams_open_count(s), want,
                     (unsigned long long)sj_counter(b, "subscribed"),
                     (unsigned long long)s->subscribe_errors, (unsigned long long)s->reconnects,
                     (unsigned long long)s->gaps, bf, ring_len(&s->jobs) ? " (requests queued)" : "");
    if (n < 0) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *sj_server_version(const src_source *b) {
    sj_src *s = as_sjs(b);
    return s ? s->server_version : "";
}

int sj_simulation(const src_source *b) {
    sj_src *s = as_sjs(b);
    return s ? s->simulation : -1;
}
