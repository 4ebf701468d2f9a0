/* shioaji_int.h — private parts of the Shioaji source, shared by its files.
 *
 * src_shioaji.c       configuration, credentials, subscriptions, the paced
 *                     REST queue (info, contracts, subscribe, unsubscribe),
 *                     status events, the src_ops table and the FFI entry points;
 * shioaji_stream.c    the SSE stream(s): open, receive, watchdog, loss,
 *                     backoff, reconnect, gap events, back-pressure;
 * shioaji_backfill.c  gap backfill from /api/v1/data/ticks and the record of
 *                     ticks that did arrive (for de-duplication);
 * shioaji_bflimit.c   the backfill query budget and the queue of backfill
 *                     jobs that did not fit (retried when the window frees
 *                     or after backfill_retry_at).
 * Nothing here is part of any public contract.
 */
#ifndef SHJ_SHIOAJI_INT_H
#define SHJ_SHIOAJI_INT_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"
#include "shioaji/sj_http.h"
#include "loop/source.h"
#include "parse/sse.h"

#define SJS_MAX_STREAMS 6           /* per-kind streams: tick/bidask/quote × stk/fop */
#define SJS_DEFAULT_HB_TIMEOUT_S 75 /* Shioaji beats every 30 s; two missed beats = dead */
#define SJS_DETAIL_MAX 120          /* shj_event.detail */

typedef enum {
    SJS_ST_IDLE = 0,
    SJS_ST_CONNECTING,
    SJS_ST_OPEN,
    SJS_ST_BACKOFF
} sjs_stream_state;

typedef struct sjs_src sjs_src;

typedef struct sjs_stream {
    sjs_src *src;
    int index;
    int tag;                  /* psr tag it carries; 0 = combined (every kind) */
    char path[64];
    sjs_stream_state state;
    sjh_req *req;
    sse_parser parser;
    ev_timer watchdog;
    ev_timer backoff;
    int used;
    int attempt;              /* consecutive failed attempts (backoff exponent) */
    int ever_open;            /* opened once: the next open is a reconnect */
    int dead_pending;         /* lost while holding undelivered events: fail after they drain */
    char dead_reason[200];
    int dead_http;
    int64_t open_ns;          /* wall time the current answer's headers arrived */
    int64_t last_rx_ns;       /* wall time of the last byte received */
    int64_t last_rx_mono;     /* mono time of the last byte, or of the (re)connect start */
    int64_t chunk_rx_ns;      /* receive time of the chunk being parsed */
    int64_t last_event_rx_ns; /* receive time of the last complete event since open */
    int64_t gap_start_ns;     /* set while a loss is not yet healed, else 0 */
    int resub_pending;        /* resubscriptions of the current reconnect still in flight */
    int resub_done;
    uint64_t reconnects, bytes, payloads;
} sjs_stream;

typedef struct sjs_sub {
    char code[16];            /* as given ("TXFR1", "2330") */
    char real[16];            /* what events carry ("TXFL6"); == code unless an alias */
    int exchange, sec_type;   /* shj_exchange / shj_sec_type */
    int odd_lot;
    int alias;                /* a continuous alias: resolved through the server */
    int resolved;             /* real/exchange known */
    int resolving;            /* a lookup is queued or in flight */
    int dead;                 /* the lookup failed for good */
    int removed;              /* unsubscribed from every kind */
    uint32_t kind_mask;       /* wanted kinds (1u << SHJ_KIND_*) */
    uint32_t active_mask;     /* accepted by the server */
    uint32_t failed_mask;     /* rejected (4xx or success:false): not retried */
    int64_t gap_g0;           /* silent since (maintenance, stale alias): GAP when resubscribed; 0 = none */
    char gap_code[16];        /* the code that went silent (an alias's month before it rolled) */
    int64_t last_event_mono;  /* mono time of its last market event (or of its subscription) */
    int64_t last_event_rx_ns; /* receive time (wall) of its last market event, 0 = none */
    char resolved_day[11];    /* Taipei date the alias was last looked up */
} sjs_sub;

typedef enum {
    SJS_JOB_INFO = 1, SJS_JOB_RESOLVE, SJS_JOB_SUB, SJS_JOB_UNSUB, SJS_JOB_TICKS, SJS_JOB_HEALTH, SJS_JOB_USAGE
} sjs_job_type;

/* Ticks that did arrive inside a backfill window, snapshot taken when the
 * window is fixed: a job queued for hours still de-duplicates against them
 * after the record's ring has moved on. */
typedef struct sjs_arrived {
    size_t n;
    struct sjs_arrived_tick {
        int64_t ts, close;
        int32_t volume;
        int used;
    } v[];
} sjs_arrived;

typedef struct sjs_job {
    sjs_job_type type;
    int sub;                  /* index into subs */
    int kind;                 /* SHJ_KIND_* (SUB/UNSUB) */
    int stream;               /* stream whose resubscription this is, -1 if none */
    int tries;
    int64_t not_before_mono;  /* retry delay */
    int64_t g0_ns, g1_ns;     /* TICKS: the gap (receive times), UTC ns */
    int64_t t0_ns, t1_ns;     /* TICKS: the exchange-time window asked for, UTC ns */
    int prepared;             /* TICKS: window fixed and `arrived` taken */
    int held_logged;          /* TICKS: its "queued" line was logged (for hold reason held_why) */
    int held_why;
    sjs_arrived *arrived;     /* TICKS: owned by whoever holds the job; NULL until prepared */
} sjs_job;

/* Why a backfill job waits in the hold queue. */
enum { SJS_HOLD_BUDGET = 1, SJS_HOLD_SERVER, SJS_HOLD_BUSY };

typedef struct sjs_held {
    sjs_job job;
    int why;                  /* SJS_HOLD_* */
    int64_t release_wall_ns;  /* SERVER: backfill_retry_at (source wall clock) */
    int64_t release_mono;     /* BUSY: end of the wait */
    char reason[160];
} sjs_held;

typedef struct sjs_status_item {
    int status, http;
    char code[16];
    int64_t g0, g1;
    char detail[SJS_DETAIL_MAX];
} sjs_status_item;

/* A tick that arrived, kept for de-duplicating backfill. */
typedef struct sjs_seen {
    uint32_t inst_id;
    int32_t volume;
    int64_t ts_exch_ns;
    int64_t ts_recv_ns;
    int64_t close;
} sjs_seen;

/* Backfill output waiting for room: a payload to deliver, or (len 0) the
 * BACKFILLED status that closes a gap's batch. */
typedef struct sjs_bf_item {
    int tag;
    size_t len;
    int64_t recv_ns;
    char code[16];
    int64_t t0, t1;
    uint32_t count;
    char payload[320];
} sjs_bf_item;

struct sjs_src {
    src_source base;          /* first: src_source* <-> sjs_src* */
    sjh_client *http;
    char url[256];
    char socket_path[256];
    int per_kind;
    double hb_timeout_s;
    double backoff_initial_s, backoff_max_s;
    int rate_limit;
    double rate_window_s;
    int send_auth;
    int backfill;
    int max_retries;
    double connect_timeout_s, request_timeout_s;
    int have_creds;
    char cred_vars[64];       /* names of the variables used (never the values) */

    int started;
    int stopped;
    int info_ok;
    int info_attempt;
    char server_name[64];
    char server_version[64];
    int simulation;           /* -1 unknown */
    ev_timer info_retry;
    ev_timer kick;            /* runs the queue outside curl callbacks */
    ev_timer pacer;           /* waits for the rate window or a retry delay */

    sjs_sub *subs;
    size_t n_subs, cap_subs;
    sjs_job *jobs;            /* ring */
    size_t job_head, job_n, job_cap;
    int inflight;
    sjs_job cur;
    sjh_req *cur_req;
    int64_t *win;             /* start times of recent REST calls (mono ns), ring of rate_limit */
    size_t win_head, win_n;

    sjs_stream streams[SJS_MAX_STREAMS];

    sjs_status_item *stq;     /* status events waiting for bus room, ring */
    size_t stq_head, stq_n, stq_cap;

    char unknown_names[16][32];
    int n_unknown_names;
    uint64_t rng;

    sjs_seen *seen;           /* ring of recent ticks (backfill de-duplication) */
    size_t seen_head, seen_n, seen_cap;
    void *bus_sub;            /* bus_sub* recording arrived ticks */
    sjs_bf_item *bfq;         /* backfill output waiting for room, ring */
    size_t bfq_head, bfq_n, bfq_cap;
    double backfill_delay_s;  /* wait after a reconnect so post-gap ticks arrive first */
    int bf_max_queries;       /* backfill budget: queries per bf_window_s */
    double bf_window_s;
    int bf_retry_hhmm;        /* backfill_retry_at, Taipei HHMM */
    int bf_defer;             /* 1: no backfill query while the instrument's market is open */
    int bf_intraday_max;      /* ticks queries per trading day in session (10, tutor_limit.md:119) */
    int bf_intraday_used;
    char bf_intraday_day[11];
    int64_t bf_clock_offset_ns; /* test hook: shifts the wall clock used for retry_at */
    int64_t *bf_win;          /* send times of recent ticks queries (mono ns), ring of bf_max_queries */
    size_t bf_win_head, bf_win_n;
    sjs_held *held;           /* backfill jobs waiting for the budget or the server, FIFO */
    size_t held_n, held_cap;
    int64_t bf_blocked_until_wall; /* server said "usage exceeded": no ticks query before this */
    ev_timer bf_hold;         /* releases held jobs */
    uint64_t bf_deferred, bf_refusals;
    int fatal;                /* the archive failed: accept nothing more */

    /* Refused credentials (401/403) and the 503 ban. */
    double auth_retry_s;      /* 0: a refusal stops the run (rt_fail); > 0: retry this slowly */
    int auth_refused;         /* last answer was 401/403 */
    double ban_wait_s;        /* after a 503 ban: no request for this long (60 s) */
    int64_t ban_until_mono;   /* no REST call and no stream (re)open before this */
    uint64_t bans, auth_refusals;

    /* Maintenance and silence (stream.ts:496-521). */
    double health_poll_s;     /* GET /api/v1/health this often (60 s); 0 = never */
    ev_timer health_timer;
    char last_maint[48];      /* last_maintenance as last seen ("" = not known yet) */
    int have_maint;
    int64_t health_prev_ns;   /* wall time of the previous health answer */
    int64_t health_req_ns;    /* wall time the health query in flight was queued */
    int64_t health_prev_req;  /* ... and that of the previous answered one */
    double silence_s;         /* heartbeats only for this long on an open market = dropped (120 s) */
    int market_hours;         /* 1: silence counts only in session hours; 0: always (tests) */
    int64_t hb_seen_mono;     /* last heartbeat */
    int health_inflight;
    ev_timer watch;           /* sj_watch.c: health poll, silence, new day */
    size_t last_match;        /* sub index that matched the previous event's code */
    uint64_t maintenances, silences, alias_changes;

    /* Traffic quota (/api/v1/auth/usage: connections, bytes, limit_bytes,
     * remaining_bytes; TROUBLESHOOTING.md:20-34). */
    double usage_poll_s;      /* poll this often (300 s); 0 = only to judge an empty answer */
    int64_t usage_bytes, usage_limit, usage_remaining; /* -1 = unknown */
    int64_t usage_at_mono;    /* when the last usage answer came */
    int usage_inflight, usage_warned;
    sjs_job *bf_verify;       /* TICKS jobs whose empty answer waits for a usage answer */
    size_t bf_verify_n, bf_verify_cap;
    uint64_t quota_exhausted, empty_answers;

    uint64_t reconnects, gaps, subscribe_errors, requests, rate_waits, unknown_count;
    uint64_t backfilled, backfill_requests, resubscribed;
};

/* src_shioaji.c */
void sjs_status(sjs_src *s, int status, const char *code, int64_t g0, int64_t g1, int http,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int sjs_status_flush(sjs_src *s);     /* 1 when nothing is waiting */
void sjs_pump_soon(sjs_src *s);
void sjs_push_job(sjs_src *s, const sjs_job *j, int front);
/* Back to the front of the queue after an exponential delay (tries + 1). */
void sjs_retry_job(sjs_src *s, sjs_job *j, const char *why);
int sjs_sub_tag(const sjs_sub *sub, int kind);
double sjs_backoff_delay(sjs_src *s, int attempt);
int sjs_stream_wants(const sjs_stream *st, const sjs_sub *sub, int kind);
/* A 401/403 from the server (REST or stream): stop the run, or retry slowly. */
void sjs_auth_refused(sjs_src *s, int http, const char *what, const char *msg);
/* A 503 ban: 1 (and the pause armed) when the answer is one. */
int sjs_ban_check(sjs_src *s, int http, const char *body, size_t len);
/* Every subscription again (maintenance, silence, alias change); gaps from g0. */
void sjs_resubscribe_all(sjs_src *s, int64_t g0, const char *why);
/* A market event for real code `code` arrived (silence detection). */
void sjs_note_event(sjs_src *s, const char *data, size_t len, int64_t rx_ns);
/* A contract_event arrived: aliases are looked up again. */
void sjs_contract_event(sjs_src *s);
void sjs_watch_tick(sjs_src *s);      /* about every second */
/* The sub's market is in session at wall time now_ns (Taipei hours). */
int sjs_market_open(const sjs_sub *sub, int64_t now_ns);
void sjs_handle_health(sjs_src *s, int http, const char *body, size_t len);
void sjs_handle_usage(sjs_src *s, int http, const char *body, size_t len);
void sjs_usage_poll(sjs_src *s);      /* queue a usage query unless one is in flight */
/* src_shioaji.c: subscribe kinds of subs[i] again; look alias subs[i] up again
 * (flags 2: subscribe it once the answer is in). */
void sjs_queue_sub_jobs(sjs_src *s, size_t i, uint32_t kinds);
void sjs_queue_refresh(sjs_src *s, size_t i, int flags);

/* shioaji_stream.c */
void sjs_streams_ensure(sjs_src *s);  /* create and open the streams the subscriptions need */
int sjs_streams_resume(sjs_src *s);   /* 1 when every stream's held events are delivered */
void sjs_streams_stop(sjs_src *s);
void sjs_streams_free(sjs_src *s);
void sjs_stream_resub_done(sjs_src *s, int stream);
int sjs_streams_open_count(const sjs_src *s);

/* shioaji_backfill.c */
int sjs_backfill_init(sjs_src *s);
void sjs_backfill_free(sjs_src *s);
void sjs_backfill_gap(sjs_src *s, int sub, int64_t g0, int64_t g1);
/* 1 when it kept the job (an empty answer waiting to be judged, or held for the quota). */
int sjs_backfill_answer(sjs_src *s, sjs_job *j, int http, const char *body, size_t len);
/* A usage answer came: judge the empty answers that waited for it. */
void sjs_backfill_usage_known(sjs_src *s);
/* Fill the request body; 0 when there is nothing to ask (the job is dropped). */
size_t sjs_backfill_body(sjs_src *s, sjs_job *j, char *out, size_t cap);
int sjs_backfill_flush(sjs_src *s);   /* 1 when nothing is waiting */
/* Fix the job's exchange-time window and snapshot the ticks that arrived in
 * it. 0 when nothing anchors the window (logged; the job is dropped). */
int sjs_backfill_prepare(sjs_src *s, sjs_job *j);
void sjs_job_release(sjs_job *j);     /* frees what a TICKS job owns */
/* "YYYY-MM-DDTHH:MM:SS[.ffffff]" Taipei local -> UTC ns; INT64_MIN if not. */
int64_t sjs_iso_local_ns(const char *s);

/* shioaji_bflimit.c */
int sjs_bflimit_init(sjs_src *s);     /* at start: the timer (and the budget ring) */
/* A due, prepared TICKS job: 1 = send it now (the query is counted), 0 = it
 * was queued (the hold queue owns it now). */
int sjs_bflimit_admit(sjs_src *s, sjs_job *j);
/* A TICKS answer that is a limit or a transient failure: 1 = the job was
 * retried or queued (owned elsewhere now), 0 = hand it to sjs_backfill_answer. */
int sjs_bflimit_answer(sjs_src *s, sjs_job *j, int http, const char *body, size_t len, const char *cerr);
/* SHJ_OK / SHJ_ERR for its own options, SHJ_AGAIN when key is not one of them. */
int sjs_bflimit_set(sjs_src *s, const char *key, double v, char *err, size_t errlen);
size_t sjs_bflimit_queued(const sjs_src *s);
/* An empty ticks answer while remaining_bytes is 0: hold j (and every backfill) until the reset. */
void sjs_bflimit_quota(sjs_src *s, sjs_job *j);
void sjs_bflimit_stop(sjs_src *s);    /* logs every backfill still pending */
void sjs_bflimit_free(sjs_src *s);

#endif
