/* ch_writer.h — the live ClickHouse writer: events -> batched RowBinary
 * inserts over HTTP on the libev loop, with the JSONL fallback.
 *
 * Owns: the batches (one open batch per table, sealed by rows or age), the
 * queue of sealed batches, the HTTP requests in flight, the fallback
 * directory and the writer's state machine:
 *
 *   STARTING --(server answered)--> UP --(transient failure)--> DOWN
 *       \                           ^  \                         |
 *        \--(unreachable)-----> DOWN  --(probe OK + schema)-----/
 *   any --(fatal 4xx / schema / auth error)--> FAILED      close --> CLOSED
 *
 *  UP:     sealed batches are inserted, at most max_inflight at a time.
 *          Batches waiting for a slot are back-pressure held in memory;
 *          when the memory held exceeds max_mem_bytes the oldest waiting
 *          batches spill to the fallback. The bus is never blocked.
 *  DOWN:   every sealed batch goes to the fallback; `SELECT version()`
 *          probes with exponential backoff (probe_min_ms .. probe_max_ms);
 *          on success the schema is (re)ensured and the writer is UP again.
 *  FAILED: a failure no retry can fix (wrong password, unknown table or
 *          column, a row the server cannot parse). Everything held goes to
 *          the fallback, the error is logged loudly, on_fatal is called, and
 *          the writer takes no more events (chw_push returns 0).
 *
 * Zero loss: a batch leaves memory only when ClickHouse acknowledged it
 * (HTTP 200) or the fallback fsynced it. A failed insert of a batch that
 * ClickHouse may in fact have stored (a timeout) also goes to the fallback:
 * the ReplacingMergeTree key collapses the duplicate when it is restored.
 * The fallback is written by a thread of the writer's own (the loop never
 * waits for the disk); a batch counts as held until that thread fsynced it.
 * If the fallback fails (disk full), the batch stays in memory and is retried
 * every second. chw_push takes nothing more (the bus applies back-pressure)
 * when more than max_mem_bytes is held while the fallback fails, or when the
 * fallback disk is more than max_mem_bytes behind: the only cases in which
 * the writer holds up the bus, and never because of ClickHouse alone.
 * Memory held is therefore at most ~2 x max_mem_bytes plus the batches open
 * and in flight.
 *
 * Threading: the loop thread only. chw_open may block (once, before the loop
 * runs) for the initial server check: at most connect_timeout_ms + 3 s.
 */
#ifndef SHJ_CH_WRITER_H
#define SHJ_CH_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

struct ev_loop;
typedef struct src_source src_source;

/* FFI-BEGIN */
typedef struct chw_writer chw_writer;

enum {
    CHW_STARTING = 0,
    CHW_UP = 1,
    CHW_DOWN = 2,
    CHW_FAILED = 3,
    CHW_CLOSED = 4
};

typedef struct chw_opts {
    const char *dsn;            /* clickhouse://user:pass@host:port/db or http(s)://... */
    const char *fallback_dir;   /* required: <dir>/<table>/<date>.jsonl */
    int batch_rows;             /* seal a batch at this many rows (default 50000) */
    int batch_ms;               /* ... or when its first row is this old (default 200) */
    int max_inflight;           /* concurrent INSERTs (default 2) */
    int64_t max_mem_bytes;      /* batches held in memory before spilling (default 64 MiB) */
    int timeout_ms;             /* one INSERT, end to end (default 30000) */
    int connect_timeout_ms;     /* default 2000 */
    int probe_min_ms;           /* first probe delay while down (default 250) */
    int probe_max_ms;           /* backoff cap (default 10000) */
    int close_timeout_ms;       /* at close, wait this long for inserts, then spill (default 10000) */
    int gzip;                   /* gzip request bodies */
    int create_schema;          /* CREATE DATABASE/TABLE IF NOT EXISTS when the server is reached (default 1 via chw_opts_default) */
    int skip_open_check;        /* 1: do not contact the server in chw_open (start DOWN-probing at once) */
    int wait_when_slow;         /* 1: while UP, a server slower than the source holds the bus
                                   (chw_push takes nothing past max_mem_bytes) instead of spilling:
                                   for sources that can wait, i.e. replay. 0 (live): spill. */
    const char *archive_dir;    /* the raw archive root the routed source records into (chw_route
                                   only; NULL = none): enables the watermark (ch_mark.h) and the
                                   reconcile of the archive's unacknowledged tail at start */
    int source_number;          /* the `source` column of this writer's rows (1..65535; 0 = each
                                   event's source_id, a per-process number): a gateway's own
                                   number (chw_gateway_source) keeps the ReplacingMergeTree key
                                   (code, ts, source, seq) of gateways sharing tables apart */
} chw_opts;

/* The ClickHouse source number of gateway id `gateway` ([A-Za-z0-9_.-]+):
 * 256 + XXH32(id) mod 65280, so it never equals a per-process source id
 * (1..32) and the same id gives the same number in every process (main.lua
 * --gateway-id, replay.lua --gateway-id, reconcile at start). Two ids share a
 * number with probability 1/65280 per pair; main.lua prints the number at
 * start so a fleet can be checked. 0 for an empty id. */
int chw_gateway_source(const char *gateway);

typedef struct chw_stats {
    uint64_t rows_in;           /* events taken (stored kinds) */
    uint64_t rows_ignored;      /* events of kinds not stored (status, bar) */
    uint64_t rows_inserted;     /* acknowledged by ClickHouse */
    uint64_t rows_fallback;     /* fsynced to the fallback */
    uint64_t rows_held;         /* in memory: open + queued + in flight + waiting for the fallback */
    uint64_t batches_inserted;
    uint64_t batches_failed;    /* inserts that failed (their rows went to the fallback) */
    uint64_t batches_spilled;   /* spilled without trying: down, or memory limit while slow */
    uint64_t fallback_errors;   /* fallback appends that failed (rows kept in memory) */
    uint64_t refusals;          /* times chw_push took fewer events than offered (blocked) */
    uint64_t probes;
    uint64_t bytes_sent;        /* RowBinary bytes acknowledged */
    int64_t mem_bytes;          /* held now */
    int64_t mem_peak;
    int64_t spill_peak;         /* most bytes ever waiting for the fallback disk (blocked above max_mem) */
    int state;                  /* CHW_* */
    int blocked;                /* 1: refusing events (fallback failing and memory full, or
                                   wait_when_slow and max_mem_bytes held) */
    int inflight;
    int queued;
    uint64_t rows_unsaved;      /* rows lost to both ClickHouse and the fallback at close: their
                                   seq ranges are in the watermark, replayed from the archive */
    uint64_t unsaved_ranges;    /* seq ranges (watermark) not in ClickHouse, to replay from the
                                   archive at the next start: fallback and unsaved batches of this
                                   run, and what the start's reconcile could not replay */
    uint64_t acked_seq;         /* watermark: rows of records with seq <= this are acknowledged */
    uint64_t reconciled_rows;   /* rows replayed from the archive at start (chw_route) */
} chw_stats;

/* Defaults into *o (dsn and fallback_dir NULL). */
void chw_opts_default(chw_opts *o);
void chw_get_stats(const chw_writer *w, chw_stats *out);
/* The last error (redacted), "" if none. */
const char *chw_last_error(const chw_writer *w);
/* Batches handed to the fallback thread and not collected back by the loop
 * yet (their rows may be on disk before rows_fallback counts them). */
int chw_fallback_busy(const chw_writer *w);
/* The server version seen ("" until reached). */
const char *chw_server_version(const chw_writer *w);

/* Runtime glue (ch_attach.c): open a writer on rt's loop for the events of
 * src (NULL = every source), subscribe it to rt's bus (BUS_BLOCK) and
 * register it with rt (polled, in the status line, closed at shutdown).
 * stop_on_fatal: a FAILED writer also stops the runtime (rt_stop); otherwise
 * it detaches from the bus and recording continues without ClickHouse.
 * Returns a route id >= 0, or -1 with err. */
int chw_route(src_source *src, const chw_opts *opts, int stop_on_fatal, char *err, size_t errlen);
/* Stats of a route (the last ones, also after the writer was closed). */
int chw_route_stats(int route, chw_stats *out);
/* FFI-END */

/* The `source` column of a row from source source_id under opts (the one
 * rule: the writer's rows and the reconcile at start). */
static inline uint16_t chw_row_source(const chw_opts *o, uint16_t source_id) {
    return o->source_number > 0 ? (uint16_t)o->source_number : source_id;
}

typedef void (*chw_fatal_fn)(void *ctx, chw_writer *w, const char *why);
/* Metrics: called on the loop when ClickHouse acknowledged a batch, with the
 * receive times of its rows (replayed rows left out). Process-wide; NULL = none. */
typedef void (*chw_ack_fn)(const int64_t *recv_ns, size_t n);
void chw_set_ack_hook(chw_ack_fn fn);

/* Open on loop. Fails on a bad DSN, a missing/unwritable fallback dir, an
 * unresolvable host, or a server that answers with a fatal error (wrong
 * password). A server that does not answer is not an error: the writer
 * starts DOWN and probes. */
chw_writer *chw_open(struct ev_loop *loop, const chw_opts *opts, char *err, size_t errlen);
void chw_set_fatal_cb(chw_writer *w, chw_fatal_fn fn, void *ctx);
/* Take events (any kinds; only stored kinds are written). Returns how many
 * were taken: n, or fewer only while blocked (see above) or FAILED. */
size_t chw_push(chw_writer *w, const shj_event *evs, size_t n);
/* Seal batches older than batch_ms (also done by the writer's own timer). */
void chw_poll(chw_writer *w);
/* Seal the open batches now (they are sent or spilled as the state allows). */
void chw_flush(chw_writer *w);
/* One status-line fragment ("UP ins 1.2M fb 0 q 2 mem 3.1MB"); returns the
 * length written (truncated to cap - 1). */
size_t chw_status(const chw_writer *w, char *buf, size_t cap);
/* Seal, wait up to close_timeout_ms for inserts (running the loop), spill
 * the rest, free. SHJ_OK, or SHJ_ERR when the writer FAILED or rows could not
 * be saved anywhere (err says how many and why). */
int chw_close(chw_writer *w, char *err, size_t errlen);
/* The same, copying the final stats (after the last insert/spill) to *final. */
int chw_close_stats(chw_writer *w, chw_stats *final, char *err, size_t errlen);

/* The raw archive the writer's source records into (ch_attach.c sets it).
 * With it, the writer (1) never sends or spills a batch holding a record the
 * archive has not fsynced yet (ClickHouse never holds what the ground truth
 * may lose in a crash), and (2) keeps the watermark (ch_mark.h) beside the
 * archive's current day file: every record with seq <= acked is in
 * ClickHouse except the listed ranges (batches that went to the fallback or,
 * at close, nowhere), written at most every CHW_MARK_MS and at close. Events must come in seq order (one source). */
typedef struct chw_archive_ops {
    uint64_t (*durable_seq)(void *ctx);     /* highest seq the archive fsynced */
    const char *(*current_path)(void *ctx); /* the day file written now ("" or NULL: none yet) */
} chw_archive_ops;
#define CHW_MARK_MS 250
struct chm_mark;
/* start_seq: records up to it are settled (the reconcile's max_seq);
 * pending: ranges the reconcile could not replay yet (NULL: none). */
void chw_set_archive(chw_writer *w, const chw_archive_ops *ops, void *ctx, uint64_t start_seq,
                     const struct chm_mark *pending);

/* Test hook: the writer's fallback (e.g. to inject ENOSPC). */
struct chf_dir *chw_fallback(chw_writer *w);

#endif
