/* nts_pub.h — the NATS JetStream publisher: normalized events -> a stream.
 *
 * Owns: one NATS connection and JetStream context, the publisher thread, a
 * bounded ring of events between the loop and that thread, the record of
 * what JetStream has acknowledged and of the gaps it never got (the state
 * file), and the stream's creation when asked.
 *
 * Subjects `<prefix>.<kind>.<exchange>.<code>` ("shijim.tick.TSE.2330");
 * payload the binary form of nts_codec.h or JSON (core/event_json.h); every
 * message carries the dedup id `<gateway>:<source>:<seq>:<kind>:<recv_ns>`
 * (Nats-Msg-Id): a republish of the same event within the stream's
 * duplicate window is acknowledged as a duplicate and not stored again.
 *
 * THREADS. nts_pub_push runs on the loop thread and only copies events into
 * the ring (256 bytes each, one release store): it never blocks, never
 * locks, never calls the NATS client. The publisher thread (owned here) is
 * the ring's only reader: it encodes, publishes asynchronously in windows of
 * `batch`, waits for the window's acks (js_PublishAsyncComplete) and only
 * then frees the window's slots. The NATS client's own threads deliver the
 * acks (atomic counters). Slots [acked, head) are events JetStream has not
 * acknowledged yet: nothing leaves memory before its ack.
 *
 * States: CONNECTING -> UP <-> DOWN (publishes failing or unacknowledged:
 * the window is resent with backoff 50 ms .. 2 s; JetStream drops what it
 * already stored by the dedup id) -> CLOSED.
 *
 * BOUND AND OUTAGES. The ring holds max_events events (queued + unacked).
 * When it is full (an outage longer than the ring lasts) the newest events
 * are NOT held and the loop is NOT blocked (a live feed cannot wait, and
 * holding the bus would stop the raw archive too): their seq/receive-time
 * range is recorded as a gap (logged, counted, written to the state file).
 * The raw archive is the ground truth for it: scripts/nats_republish.lua
 * replays the archive through a publisher restricted to the gap, with the
 * same ids, so whatever did reach JetStream is dropped as a duplicate.
 * The same tool, started from the state file's acked point, is the catch-up
 * after a crash (kill -9): events since the last recorded ack are republished
 * and duplicates collapse.
 *
 * State file (opts.state_path, written by the publisher thread as
 * temp -> rename, at most every 200 ms and at close): docs/nats.md.
 */
#ifndef SHJ_NTS_PUB_H
#define SHJ_NTS_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

typedef struct src_source src_source;

/* FFI-BEGIN */
typedef struct nts_pub nts_pub;

enum { NTS_CONNECTING = 0, NTS_UP = 1, NTS_DOWN = 2, NTS_CLOSED = 3 };

typedef struct nts_pub_opts {
    const char *servers;        /* "nats://127.0.0.1:4222,nats://..." (required) */
    const char *gateway;        /* gateway id in every dedup id (required; [A-Za-z0-9_-]) */
    const char *source;         /* source name in the ids (required: the recording source's
                                   name, also when republishing from its archive) */
    const char *stream;         /* JetStream stream (default "SHIJIM") */
    const char *prefix;         /* subject prefix (default "shijim") */
    int format;                 /* NTS_FMT_BIN (0) or NTS_FMT_JSON (1) */
    int create_stream;          /* 1: add the stream (prefix.>) when it does not exist */
    int replicas;               /* of a created stream (default 1) */
    int64_t dup_window_ms;      /* duplicate window of a created stream (default 2 h) */
    uint32_t kind_mask;         /* kinds published (default tick, quote, bidask) */
    uint32_t max_events;        /* ring: events held (queued + unacked); power of two (default 65536) */
    int batch;                  /* events per publish window (default 1024) */
    int ack_timeout_ms;         /* a window not acknowledged by then is resent (default 2000) */
    int close_timeout_ms;       /* at close, wait this long for acks (default 5000) */
    const char *state_path;     /* state file (acked point, gaps); NULL = none */
    /* Republish filter: only events with min_seq <= seq <= max_seq and
     * min_recv_ns <= ts_recv_ns <= max_recv_ns (0 = no bound). */
    uint64_t min_seq, max_seq;
    int64_t min_recv_ns, max_recv_ns;
} nts_pub_opts;

typedef struct nts_pub_stats {
    uint64_t pushed;            /* events offered by the loop */
    uint64_t filtered;          /* skipped: kind or republish filter */
    uint64_t queued;            /* held now: queued + unacknowledged */
    uint64_t published;         /* publish calls made (resends included) */
    uint64_t acked;             /* events acknowledged (stored or duplicate) */
    uint64_t duplicates;        /* of those, acknowledged as duplicates (already in the stream) */
    uint64_t resent_windows;    /* windows sent again after an error or timeout */
    uint64_t gap_events;        /* events not held (ring full): in the raw archive, see gaps */
    uint64_t gaps;              /* gap ranges recorded */
    uint64_t acked_seq;         /* seq of the last event of the acknowledged prefix */
    int64_t acked_recv_ns;      /* its receive time */
    int state;                  /* NTS_* */
} nts_pub_stats;

void nts_pub_opts_default(nts_pub_opts *o);

/* Runtime glue (nts_attach.c): a publisher for the events of src, subscribed
 * to rt's bus, polled and closed by rt. Returns a route id >= 0 or -1 + err. */
int nts_route(src_source *src, const nts_pub_opts *opts, char *err, size_t errlen);
int nts_route_stats(int route, nts_pub_stats *out);
/* FFI-END */

/* Start the publisher thread (it connects; the call itself does not wait for
 * the server). NULL + err on bad options or no thread. */
nts_pub *nts_pub_open(const nts_pub_opts *opts, char *err, size_t errlen);
/* Loop thread: take n events (always all n: the filtered are counted, the
 * ones the ring cannot hold become a gap). Never blocks. */
size_t nts_pub_push(nts_pub *p, const shj_event *evs, size_t n);
/* Loop thread: 1 while a gap is open (ring full), else 0. */
int nts_pub_in_gap(const nts_pub *p);
void nts_pub_get_stats(const nts_pub *p, nts_pub_stats *out);
/* "UP q 12 ack 1.2M dup 0 gap 0" */
size_t nts_pub_status(const nts_pub *p, char *buf, size_t cap);
/* Wait up to close_timeout_ms for every held event's ack; what is still not
 * acknowledged then becomes a gap in the state file (SHJ_ERR, err says how
 * many). Stops the thread, closes the connection, frees. final: stats. */
int nts_pub_close(nts_pub *p, nts_pub_stats *final, char *err, size_t errlen);

#endif
