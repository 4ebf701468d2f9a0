/* source.h — what every market-data source is, and the one ingest path.
 *
 * A source (simulated market, Shioaji SSE connection, archive replay) is a
 * struct src_source with a small table of operations (Redis's rio pattern).
 * Every payload a source receives goes through src_deliver, in this order:
 *   1. assign the next per-source sequence number;
 *   2. append the raw bytes + receive time + sequence to the raw archive
 *      (if one is routed) — before anything else can go wrong;
 *   3. parse + normalize (psr_parse) into a bus slot;
 *   4. commit to the bus.
 * A malformed payload is counted, logged once per tag with the payload, kept
 * in the archive, and never published. A quote payload publishes two events
 * with the same seq, the QUOTE and its book as a BIDASK (parse.h); a
 * non-market payload (order_event, ...) is archived and counted as other. Replay calls src_deliver_recorded so
 * that the recorded sequence and receive time are kept and nothing is
 * re-archived (or src_deliver_parsed for a payload its read-ahead workers
 * already parsed: the same event, see parse.h's psr_parse_payload).
 *
 * Back-pressure: a source must call src_ready() before delivering; when it
 * returns 0 (bus or archive full) the source stops producing/reading and is
 * resumed by rt when room frees (ops->resume).
 *
 * States: NEW -> (start) RUNNING <-> PAUSED -> (stop) STOPPED.
 */
#ifndef SHJ_SOURCE_H
#define SHJ_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

struct ev_loop;
typedef struct bus bus;
typedef struct arc_writer arc_writer;
typedef struct src_source src_source;

typedef struct src_sub_req {
    const char *code;        /* "2330", "TXFR1", "TXO23000L6" */
    int exchange;            /* shj_exchange; 0 = infer */
    int sec_type;            /* shj_sec_type; 0 = infer */
    uint32_t kind_mask;      /* 1u << SHJ_KIND_TICK | 1u << SHJ_KIND_BIDASK | ... */
    int odd_lot;             /* intraday odd-lot board */
} src_sub_req;

typedef struct src_ops {
    const char *type;                                        /* "simulated", "shioaji", "replay" */
    int (*start)(src_source *s, char *err, size_t errlen);   /* begin producing on s->loop */
    void (*stop)(src_source *s);                             /* stop producing; idempotent */
    void (*resume)(src_source *s);                           /* room is free again after a pause */
    int (*subscribe)(src_source *s, const src_sub_req *req, char *err, size_t errlen);
    int (*unsubscribe)(src_source *s, const src_sub_req *req, char *err, size_t errlen);
    void (*free)(src_source *s);                             /* release the derived struct */
    /* Optional (NULL = none): one short line on the connection for rt's
     * status line ("<name>/conn: ..."); returns its length. */
    size_t (*status)(const src_source *s, char *buf, size_t cap);
} src_ops;

typedef enum { SRC_NEW = 0, SRC_RUNNING, SRC_PAUSED, SRC_STOPPED, SRC_DONE } src_state;

typedef struct src_counters {
    uint64_t payloads;                 /* delivered to src_deliver */
    uint64_t events;                   /* published on the bus */
    uint64_t per_kind[SHJ_KIND_MAX];   /* events by shj_kind */
    uint64_t malformed;                /* payloads that failed to parse */
    uint64_t unknown;                  /* payloads with an unknown event name (also counted in other) */
    uint64_t other;                    /* not market data (order_event, contract_event, unknown names): archived, not bad */
    uint64_t field_lost;               /* events published with SHJ_FLAG_FIELD_LOST */
    uint64_t control;                  /* heartbeats etc. */
    uint64_t pauses;                   /* times back-pressure paused the source */
} src_counters;

struct src_source {
    const src_ops *ops;       /* read-only after init */
    char name[32];            /* read-only: archive sub-directory, logs */
    uint16_t source_id;       /* read-only: stamped on every event */
    src_state state;          /* read-write by the source */
    struct ev_loop *loop;     /* set by rt before start */
    bus *bus;                 /* set by rt before start */
    arc_writer *raw;          /* raw archive, NULL if none is routed */
    uint64_t next_seq;        /* private: last sequence assigned */
    uint32_t logged_bad_tags; /* private: tags already logged as malformed (bit per tag) */
    char last_resolved[16];   /* ops->subscribe may write the real code an alias (TXFR1) resolved to */
    src_counters counters;    /* read-only for others */
};

/* Initialise the common part (the derived struct embeds src_source first). */
void src_init(src_source *s, const src_ops *ops, const char *name);
/* Non-zero when one more payload of len bytes can be delivered now. */
int src_ready(const src_source *s, size_t len);
/* The ingest path above. SHJ_OK (published, or malformed/control and counted),
 * SHJ_AGAIN (not ready: nothing happened, retry later), SHJ_ERR (archive failed:
 * the source must stop; err says why). */
int src_deliver(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns);
/* The same path, with flags added to the published event (SHJ_FLAG_BACKFILL
 * for ticks fetched from history after a gap). */
int src_deliver_flags(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns,
                      uint32_t extra_flags);
/* Replay: keep the recorded seq and recv time, do not archive again. */
int src_deliver_recorded(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns,
                         uint64_t seq, uint32_t extra_flags);
/* The same, for a payload already parsed off the loop: parsed is what
 * psr_parse_payload made of (tag, data, len) and returned PSR_EVENT for;
 * psr_resolve finishes it here, so the published event is exactly the one
 * src_deliver_recorded would publish. data/len are only shown in errors. */
int src_deliver_parsed(src_source *s, const shj_event *parsed, int tag, const char *data,
                       size_t len, int64_t recv_ns, uint64_t seq, uint32_t extra_flags);
/* Publish a status event (connected, gap, ...) for code ("" = whole source). */
int src_publish_status(src_source *s, int status, const char *code, int64_t gap_start_ns,
                       int64_t gap_end_ns, int http_status, const char *detail);

/* Kind-name list ("tick,bidask") -> mask; 0 and err on an unknown name. */
uint32_t src_kinds_from_text(const char *text, char *err, size_t errlen);

#endif
