/* nts_source.h — a source that consumes a JetStream stream and feeds the local bus.
 *
 * Owns: one NATS connection, a durable pull consumer (created on first use,
 * kept by the server across restarts: a restarted consumer resumes after the
 * last message it acknowledged), the fetch thread, and a bounded ring of
 * fetched messages between that thread and the loop.
 *
 * THREADS. The fetch thread (owned here) fetches batches, decodes them
 * (nts_codec.h) into ring slots and wakes the loop (ev_async); it is also
 * the only caller of natsMsg_Ack. The loop thread publishes decoded events
 * on the bus and, once EVERY bus subscriber has taken an event (the slot is
 * free in the bus, i.e. a BUS_BLOCK writer holds it), marks it ackable; the
 * fetch thread then acks it. So an event is acknowledged to JetStream only
 * after the bus accepted it; a kill before that redelivers it.
 *
 * Guarantees:
 *  - Every message is published once per process: a redelivery (an ack lost
 *    when a server node died, an ack_wait expiry) of a stream sequence this
 *    process published (the last 131072 are remembered) is acked and counted
 *    (redelivered), not published again.
 *  - Across a kill -9 of the consumer, messages published to the bus but
 *    not yet acknowledged come again (at-least-once); ids
 *    (seq, kind, ts_recv_ns of the event + the publisher's gateway/source)
 *    let an idempotent downstream drop them: docs/nats.md.
 *  - Events keep every field of the publisher's event (seq, receive time,
 *    flags) except source_id (this source's) and inst_id (interned here).
 *  - A message that does not decode is acked, counted malformed and logged
 *    once: it can never decode later, redelivering it would stall the stream.
 *  - Back-pressure: when the bus is full the source pauses; the ring stops
 *    filling and the server holds the rest (max_ack_pending).
 *
 * States: NEW -> start -> RUNNING <-> PAUSED -> STOPPED.
 */
#ifndef SHJ_NTS_SOURCE_H
#define SHJ_NTS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "loop/source.h"

/* FFI-BEGIN */
typedef struct nts_src_opts {
    const char *servers;        /* "nats://127.0.0.1:4222,..." (required) */
    const char *stream;         /* default "SHIJIM" */
    const char *durable;        /* durable consumer name (required; [A-Za-z0-9_-]) */
    const char *filter;         /* subject filter (default "shijim.>") */
    int batch;                  /* messages per fetch (default 256) */
    uint32_t ring;              /* messages held between fetch and ack; power of two (default 4096) */
    int ack_wait_ms;            /* server redelivers what is not acked by then (default 30000) */
} nts_src_opts;

typedef struct nts_src_stats {
    uint64_t fetched;           /* messages received */
    uint64_t published;         /* events published on the bus */
    uint64_t acked;             /* messages acknowledged */
    uint64_t redelivered;       /* skipped: already published by this process */
    uint64_t malformed;         /* did not decode (acked, not published) */
    uint64_t fetch_errors;      /* fetches that failed for another reason than "no message" */
    uint64_t last_stream_seq;   /* highest stream sequence published */
    int connected;
} nts_src_stats;

void nts_src_opts_default(nts_src_opts *o);
int nts_src_get_stats(const src_source *s, nts_src_stats *out);
/* A new source (not started: hand it to rt_add_source). NULL + err on bad options. */
src_source *nts_src_new(const char *name, const nts_src_opts *opts, char *err, size_t errlen);
/* FFI-END */

#endif
