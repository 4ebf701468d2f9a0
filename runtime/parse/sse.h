/* sse.h — incremental Server-Sent Events framing parser.
 *
 * Owns: turning a byte stream (fed in arbitrary chunks, as the network hands
 * it over) into events, following the WHATWG EventSource parsing rules:
 * `event:` / `data:` / `id:` / `retry:` fields, `:` comments, one optional
 * space after the colon, multi-line data joined by LF, lines ended by CRLF,
 * LF or a lone CR (also when the CR and the LF arrive in different chunks), a
 * leading UTF-8 BOM skipped, blank line = dispatch, no dispatch when no data
 * line was seen, the event name "message" when none was given, the last
 * event id persisting from event to event.
 *
 * Guarantees:
 *  - Chunking never changes the result: feeding byte by byte, in random
 *    chunks or all at once yields the same events (tests/test_sse.c).
 *  - Zero-copy where possible: an event whose single data line lies inside
 *    the chunk being fed is handed over as a pointer into that chunk. Only
 *    lines split across chunks and multi-line data are copied.
 *  - Back-pressure without loss: the callback may refuse an event (return
 *    non-zero). The parser then keeps that event and every byte after it
 *    (the rest of the chunk, and anything fed while paused) and delivers
 *    them, in order, from sse_resume.
 *  - Bounded memory: an event or line larger than max_event_bytes is a
 *    protocol error (SHJ_ERR, sse_error says why); sse_reset recovers.
 *
 * States: RUNNING --(callback refuses)--> PAUSED --(sse_resume delivers all)--> RUNNING;
 *         any --(oversize)--> FAILED --(sse_reset)--> RUNNING.
 * Threading: none; one parser per stream, used by one thread.
 */
#ifndef SHJ_SSE_H
#define SHJ_SSE_H

#include <stddef.h>
#include <stdint.h>

#define SSE_DEFAULT_MAX_EVENT (4u << 20) /* bytes of one line or one event's data */

/* One event. Pointers are valid only during the callback. */
typedef struct sse_event {
    const char *name;  /* event type ("message" when no event: field), not NUL-terminated */
    size_t name_len;
    const char *data;  /* data lines joined by LF, last LF removed; not NUL-terminated */
    size_t data_len;
    const char *id;    /* last event id seen so far on this stream ("" if none) */
    size_t id_len;
} sse_event;

/* Return 0 when the event was taken; non-zero to refuse it for now: the
 * parser pauses and offers the same event again from sse_resume. */
typedef int (*sse_event_fn)(void *ctx, const sse_event *ev);

typedef struct sse_buf { /* private: a growable byte buffer */
    char *p;
    size_t len, cap;
} sse_buf;

typedef struct sse_parser {
    sse_event_fn on_event;   /* read-only after sse_init */
    void *ctx;               /* read-only after sse_init */
    size_t max_event_bytes;  /* read-write: limit of one line / one event's data */
    int64_t retry_ms;        /* read-only: last valid retry: field, -1 if none */
    uint64_t events;         /* read-only: events delivered (taken by the callback) */
    uint64_t comments;       /* read-only: comment lines seen */
    uint64_t bytes;          /* read-only: bytes fed */

    /* private */
    int state;               /* 0 running, 1 paused, 2 failed */
    int skip_lf;             /* the previous chunk ended with CR: drop a leading LF */
    int at_start;            /* no line completed yet: a BOM may lead the first line */
    size_t data_lines;       /* data: lines seen in the current event */
    const char *data_ref;    /* zero-copy data (inside the chunk being fed) */
    size_t data_ref_len;
    sse_buf line;            /* a line split across chunks */
    sse_buf data;            /* copied data of the current event */
    sse_buf name;            /* event type of the current event */
    sse_buf id;              /* last event id */
    sse_buf backlog;         /* bytes not yet parsed while paused */
    sse_buf work;            /* backlog being parsed by sse_resume */
    sse_buf p_name, p_data, p_id; /* the refused (pending) event */
    char error[128];
} sse_parser;

void sse_init(sse_parser *p, sse_event_fn on_event, void *ctx);
/* Release the buffers. */
void sse_free(sse_parser *p);
/* Start a new stream (reconnect): forget partial lines, the pending event,
 * the backlog, the last event id and any error. Keeps allocated memory. */
void sse_reset(sse_parser *p);

/* Parse buf[0..len). Consumes all of it in every case (kept in the backlog
 * when paused). SHJ_OK: all parsed; SHJ_AGAIN: paused (call sse_resume);
 * SHJ_ERR: protocol error (sse_error), nothing more is parsed until sse_reset. */
int sse_feed(sse_parser *p, const char *buf, size_t len);
/* Offer the pending event again and parse the backlog. Same results as sse_feed. */
int sse_resume(sse_parser *p);

int sse_paused(const sse_parser *p);
/* Bytes held back while paused (backlog + pending event). */
size_t sse_held_bytes(const sse_parser *p);
/* Bytes of a line or event in progress (an event started but not yet complete). */
size_t sse_partial_bytes(const sse_parser *p);
const char *sse_error(const sse_parser *p);

#endif
