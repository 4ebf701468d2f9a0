/* sj_internal.h — private parts of the Shioaji source, shared by its files.
 *
 * One prefix, sj_, for the subsystem; one owner per part:
 * sj_source.c    configuration, credentials, subscriptions and the session
 *                (info, contract lookups, subscribe/unsubscribe as job
 *                types), the src_ops table and the FFI entry points;
 * sj_rest.c      the REST job queue and its pacer (knows job types only
 *                through sj_job_ops);
 * sj_ratewin.c   the sliding-window rate limit (REST pacing, backfill budget);
 * sj_status.c    status events waiting for bus room;
 * sj_stream.c    the SSE stream(s): open, receive, watchdog, loss,
 *                backoff, reconnect, gap events, back-pressure;
 * sj_watch.c     health and usage polls (job types), maintenance, silence,
 *                a new trading day;
 * sj_backfill.c  gap backfill from /api/v1/data/ticks (a job type) and the
 *                record of ticks that did arrive (for de-duplication);
 * sj_bflimit.c   the backfill query budget and the queue of backfill
 *                jobs that did not fit (retried when the window frees
 *                or after backfill_retry_at);
 * sj_http.c      HTTP over libcurl on the loop; sj_json.c the JSON reader.
 * Nothing here is part of any public contract.
 */
#ifndef SHJ_SHIOAJI_INT_H
#define SHJ_SHIOAJI_INT_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ring.h"
#include "core/shj_event.h"
#include "shioaji/sj_http.h"
#include "shioaji/sj_ratewin.h"
#include "loop/source.h"
#include "parse/sse.h"

#define SJ_MAX_STREAMS 6           /* per-kind streams: tick/bidask/quote × stk/fop */
#define SJ_DEFAULT_HB_TIMEOUT_S 75 /* Shioaji beats every 30 s; two missed beats = dead */
#define SJ_SEEN_CAP 65536          /* ticks remembered for backfill de-duplication */
#define SJ_DETAIL_MAX 120          /* shj_event.detail */

typedef enum {
    SJ_ST_IDLE = 0,
    SJ_ST_CONNECTING,
    SJ_ST_OPEN,
    SJ_ST_BACKOFF
} sj_stream_state;

typedef struct sj_src sj_src;

typedef struct sj_stream {
    sj_src *src;
    int index;
    int tag;                  /* psr tag it carries; 0 = combined (every kind) */
    char path[64];
    sj_stream_state state;
    sj_http_req *req;
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
    int64_t undispatched_ns;  /* receive time of the oldest event not yet dispatched by us, 0 = none */
    int64_t last_event_rx_ns; /* receive time of the last complete event since open */
    int64_t gap_start_ns;     /* set while a loss is not yet healed, else 0 */
    int resub_pending;        /* resubscriptions of the current reconnect still in flight */
    int resub_done;
    uint64_t reconnects, bytes, payloads;
} sj_stream;

typedef struct sj_sub {
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
} sj_sub;

typedef enum {
    SJ_JOB_INFO = 1, SJ_JOB_RESOLVE, SJ_JOB_SUB, SJ_JOB_UNSUB, SJ_JOB_TICKS, SJ_JOB_HEALTH, SJ_JOB_USAGE,
    SJ_JOB_TYPE_COUNT
} sj_job_type;

/* Ticks that did arrive inside a backfill window, snapshot taken when the
 * window is fixed: a job queued for hours still de-duplicates against them
 * after the record's ring has moved on. */
typedef struct sj_arrived {
    size_t n;
    struct sj_arrived_tick {
        int64_t ts, close;
        int32_t volume;
        int used;
    } v[];
} sj_arrived;

typedef struct sj_job {
    sj_job_type type;
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
    sj_arrived *arrived;     /* TICKS: owned by whoever holds the job; NULL until prepared */
} sj_job;

/* One REST call as a job type builds it. */
typedef struct sj_request {
    const char *method;       /* "POST" unless set */
    char path[128];
    char body[512];           /* "" = no body */
} sj_request;

/* What the REST queue (sj_rest.c) knows about a job type: this, and nothing
 * else. Each type's owner defines its entry; sj_job_types[] (sj_source.c)
 * lists them. */
enum {
    SJ_JOB_MAY_BE_PASSED = 1, /* while it waits for its delay, later jobs of other types go first */
    SJ_JOB_OWN_AUTH = 2,      /* a 401/403 answer goes to answer() like any other */
    SJ_JOB_DROP_ON_AUTH = 4   /* after a 401/403 it is not queued again (even when retrying slowly) */
};
typedef struct sj_job_ops {
    const char *what;         /* in messages: "contract lookup" */
    unsigned flags;           /* SJ_JOB_* above */
    /* 1 when the job is no longer wanted: it was dropped (its owner's
     * bookkeeping done). NULL = never obsolete. */
    int (*drop_if_obsolete)(sj_src *s, sj_job *j);
    /* Fill rq. 1 = send it; 0 = nothing to send now: the owner dropped the
     * job (releasing what it owns) or took it over. */
    int (*request)(sj_src *s, sj_job *j, sj_request *rq);
    /* The answer (HTTP status 0 = no answer, cerr says why); owns j after. */
    void (*answer)(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr);
    void (*refused)(sj_src *s, sj_job *j); /* before a 401/403 is reported; NULL = nothing */
    void (*release)(sj_job *j);           /* frees what the job owns; NULL = owns nothing */
} sj_job_ops;

extern const sj_job_ops *const sj_job_types[SJ_JOB_TYPE_COUNT];
extern const sj_job_ops sj_ticks_job_ops;  /* sj_backfill.c */
extern const sj_job_ops sj_health_job_ops; /* sj_watch.c */
extern const sj_job_ops sj_usage_job_ops;  /* sj_watch.c */

/* Why a backfill job waits in the hold queue. */
enum { SJ_HOLD_BUDGET = 1, SJ_HOLD_SERVER, SJ_HOLD_BUSY };

typedef struct sj_held {
    sj_job job;
    int why;                  /* SJ_HOLD_* */
    int64_t release_wall_ns;  /* SERVER: backfill_retry_at (source wall clock) */
    int64_t release_mono;     /* BUSY: end of the wait */
    char reason[160];
} sj_held;

typedef struct sj_status_item {
    int status, http;
    char code[16];
    int64_t g0, g1;
    char detail[SJ_DETAIL_MAX];
} sj_status_item;

/* A tick that arrived, kept for de-duplicating backfill. */
typedef struct sj_seen {
    uint32_t inst_id;
    int32_t volume;
    int64_t ts_exch_ns;
    int64_t ts_recv_ns;
    int64_t close;
} sj_seen;

/* Backfill output waiting for room: a payload to deliver, or (len 0) the
 * BACKFILLED status that closes a gap's batch. */
typedef struct sj_bf_item {
    int tag;
    size_t len;
    int64_t recv_ns;
    char code[16];
    int64_t t0, t1;
    uint32_t count;
    char payload[320];
} sj_bf_item;

struct sj_src {
    src_source base;          /* first: src_source* <-> sj_src* */
    sj_http_client *http;
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

    sj_sub *subs;
    size_t n_subs, cap_subs;
    ring jobs;                /* sj_job, FIFO; a retry goes to the front */
    int inflight;
    sj_job cur;
    sj_http_req *cur_req;
    sj_ratewin rest_win;      /* recent REST calls: rate_limit per rate_window_s */

    sj_stream streams[SJ_MAX_STREAMS];

    ring stq;                 /* sj_status_item: status events waiting for bus room */

    char unknown_names[16][32];
    int n_unknown_names;
    uint64_t rng;

    ring seen;                /* sj_seen: the last SJ_SEEN_CAP ticks (backfill de-duplication) */
    void *bus_sub;            /* bus_sub* recording arrived ticks */
    ring bfq;                 /* sj_bf_item: backfill output waiting for room */
    double backfill_delay_s;  /* wait after a reconnect so post-gap ticks arrive first */
    int bf_max_queries;       /* backfill budget: queries per bf_window_s */
    double bf_window_s;
    int bf_retry_hhmm;        /* backfill_retry_at, Taipei HHMM */
    int bf_defer;             /* 1: no backfill query while the instrument's market is open */
    int bf_intraday_max;      /* ticks queries per trading day in session (10, tutor_limit.md:119) */
    int bf_intraday_used;
    char bf_intraday_day[11];
    int64_t bf_clock_offset_ns; /* test hook: shifts the wall clock used for retry_at */
    sj_ratewin bf_budget;     /* recent ticks queries: bf_max_queries per bf_window_s; .t NULL before start */
    sj_held *held;           /* backfill jobs waiting for the budget or the server, FIFO */
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
    sj_job *bf_verify;       /* TICKS jobs whose empty answer waits for a usage answer */
    size_t bf_verify_n, bf_verify_cap;
    uint64_t quota_exhausted, empty_answers;

    uint64_t reconnects, gaps, subscribe_errors, requests, rate_waits, unknown_count;
    uint64_t backfilled, backfill_requests, resubscribed;
    uint64_t pass_dispatches;  /* bus dispatches from inside a read pass (sj_stream.c on_data) */
};

/* sj_source.c */
void sj_status(sj_src *s, int status, const char *code, int64_t g0, int64_t g1, int http,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int sj_status_flush(sj_src *s);     /* 1 when nothing is waiting */
void sj_status_free(sj_src *s);

/* sj_rest.c: the REST job queue and pacer */
void sj_rest_init(sj_src *s);       /* at start: its timers */
void sj_rest_stop(sj_src *s);       /* timers off, the call in flight cancelled */
void sj_rest_free(sj_src *s);       /* releases every queued job */
void sj_pump_soon(sj_src *s);
void sj_push_job(sj_src *s, const sj_job *j, int front);
/* Back to the front of the queue after an exponential delay (tries + 1). */
void sj_retry_job(sj_src *s, sj_job *j, const char *why);
/* Every job in flight or queued, in order (read-only). */
void sj_rest_foreach(sj_src *s, void (*fn)(sj_src *s, const sj_job *j, int in_flight, void *ud), void *ud);
void sj_job_release(sj_job *j);     /* frees what a job owns (its type's release) */
/* The server's message from a JSON error body, else the body, else cerr. */
void sj_server_message(const char *body, size_t len, const char *cerr, char *out, size_t cap);

/* sj_source.c */
void sj_source_kicked(sj_src *s);   /* the queue's kick: deliver held output first */
int sj_sub_tag(const sj_sub *sub, int kind);
double sj_backoff_delay(sj_src *s, int attempt);
int sj_stream_wants(const sj_stream *st, const sj_sub *sub, int kind);
/* A 401/403 from the server (REST or stream): stop the run, or retry slowly. */
void sj_auth_refused(sj_src *s, int http, const char *what, const char *msg);
/* A 503 ban: 1 (and the pause armed) when the answer is one. */
int sj_ban_check(sj_src *s, int http, const char *body, size_t len);
/* Every subscription again (maintenance, silence, alias change); gaps from g0. */
void sj_resubscribe_all(sj_src *s, int64_t g0, const char *why);
/* A market event for real code `code` arrived (silence detection). */
void sj_note_event(sj_src *s, const char *data, size_t len, int64_t rx_ns);
/* A contract_event arrived: aliases are looked up again. */
void sj_contract_event(sj_src *s);
void sj_watch_tick(sj_src *s);      /* about every second */
/* The sub's market is in session at wall time now_ns (Taipei hours). */
int sj_market_open(const sj_sub *sub, int64_t now_ns);
void sj_usage_poll(sj_src *s);      /* queue a usage query unless one is in flight */
/* sj_source.c: subscribe kinds of subs[i] again; look alias subs[i] up again
 * (flags 2: subscribe it once the answer is in). */
void sj_queue_sub_jobs(sj_src *s, size_t i, uint32_t kinds);
void sj_queue_refresh(sj_src *s, size_t i, int flags);

/* sj_stream.c */
void sj_streams_ensure(sj_src *s);  /* create and open the streams the subscriptions need */
int sj_streams_resume(sj_src *s);   /* 1 when every stream's held events are delivered */
void sj_streams_stop(sj_src *s);
void sj_streams_free(sj_src *s);
void sj_stream_resub_done(sj_src *s, int stream);
int sj_streams_open_count(const sj_src *s);

/* sj_backfill.c */
int sj_backfill_init(sj_src *s);
void sj_backfill_free(sj_src *s);
void sj_backfill_gap(sj_src *s, int sub, int64_t g0, int64_t g1);
/* A usage answer came: judge the empty answers that waited for it. */
void sj_backfill_usage_known(sj_src *s);
int sj_backfill_flush(sj_src *s);   /* 1 when nothing is waiting */
/* "YYYY-MM-DDTHH:MM:SS[.ffffff]" Taipei local -> UTC ns; INT64_MIN if not. */
int64_t sj_iso_local_ns(const char *s);

/* sj_bflimit.c */
int sj_bflimit_init(sj_src *s);     /* at start: the timer (and the budget ring) */
/* A due, prepared TICKS job: 1 = send it now (the query is counted), 0 = it
 * was queued (the hold queue owns it now). */
int sj_bflimit_admit(sj_src *s, sj_job *j);
/* A TICKS answer that is a limit or a transient failure: 1 = the job was
 * retried or queued (owned elsewhere now), 0 = the backfill reads the answer. */
int sj_bflimit_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr);
/* SHJ_OK / SHJ_ERR for its own options, SHJ_AGAIN when key is not one of them. */
int sj_bflimit_set(sj_src *s, const char *key, double v, char *err, size_t errlen);
size_t sj_bflimit_queued(const sj_src *s);
/* An empty ticks answer while remaining_bytes is 0: hold j (and every backfill) until the reset. */
void sj_bflimit_quota(sj_src *s, sj_job *j);
void sj_bflimit_stop(sj_src *s);    /* logs every backfill still pending */
void sj_bflimit_free(sj_src *s);

#endif
