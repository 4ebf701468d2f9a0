/* sj_source.h — the live Shioaji source: Shioaji's HTTP + SSE server, owned by the C runtime.
 *
 * Owns: the connection to a Shioaji server (`shioaji server start`) over TCP
 * or its Unix socket; the subscriptions (paced under the server's rate
 * limit, continuous aliases such as TXFR1 resolved through
 * /api/v1/data/contracts); the SSE stream(s) (/api/v1/stream/data, or one
 * per kind); and the resilience around them: heartbeat watchdog, reconnect
 * with exponential backoff and jitter, resubscription, gap events, and
 * (optionally) gap backfill from /api/v1/data/ticks.
 *
 * Guarantees:
 *  - Every SSE event's bytes go through src_deliver with their receive time
 *    (the time the chunk holding its last byte arrived): archive first, then
 *    parse, then bus. Malformed and unknown events are archived and counted.
 *  - Never blocks the loop (sj_http.c: curl multi socket API on libev).
 *  - Back-pressure is lossless: when the bus or archive is full the transfer
 *    is paused (curl keeps the bytes) and resumed from ops->resume.
 *  - After a stream is lost and comes back: DISCONNECTED, then CONNECTED,
 *    one GAP per affected instrument with gap_start_ns = receive time of the
 *    last byte before the loss and gap_end_ns = receive time of the new
 *    stream's answer, then RESUBSCRIBED once every subscription is restored.
 *  - A rejected subscription (4xx, or 200 with success:false) publishes
 *    SHJ_STATUS_ERROR naming the contract and the server's message, and is
 *    not counted as subscribed; the others go on.
 *  - Credentials come only from the environment (SHIOAJI_API_KEY /
 *    SHIOAJI_SECRET_KEY, else SJ_API_KEY / SJ_SEC_KEY), are sent as a bearer
 *    header whenever set (the server decides by its bind address), and are
 *    never logged. A 401/403 stops the run with rt_fail (non-zero exit)
 *    unless auth_retry_s > 0; a 503 ban silences every request for ban_wait_s.
 *  - Subscriptions the server dropped silently (maintenance, a rolled alias)
 *    are made again (sj_watch.c), with one GAP per instrument for the silence.
 *
 * Stream states (per stream): IDLE -> CONNECTING -> OPEN -> (lost) BACKOFF -> CONNECTING ...
 */
#ifndef SHJ_SRC_SHIOAJI_H
#define SHJ_SRC_SHIOAJI_H

#include <stddef.h>
#include <stdint.h>

typedef struct src_source src_source; /* source.h; repeated here for the FFI block below */

/* FFI-BEGIN */
/* url: "http://127.0.0.1:8080" (NULL/"" = that default, or "http://localhost"
 * with a socket); unix_socket: path or NULL; stream_mode: "combined" (default)
 * or "per_kind"; heartbeat_timeout_s <= 0 = 75 s. */
src_source *sj_new(const char *name, const char *url, const char *unix_socket,
                            const char *stream_mode, double heartbeat_timeout_s, char *err,
                            size_t errlen);
/* Tuning, before or after start: "backoff_initial_s", "backoff_max_s",
 * "rate_limit" (requests per window), "rate_window_s", "send_auth" (ignored: always sent),
 * "backfill" (0/1), "backfill_delay_s", "backfill_max_queries" and "backfill_window_s" (the
 * backfill query budget, 50 per 10 s), "backfill_defer" (1: none while the market is open),
 * "backfill_intraday_max" (10), "auth_retry_s" (0 = a 401/403 stops the run), "ban_wait_s" (60),
 * "health_poll_s" (60), "silence_s" (120), "market_hours" (1), "usage_poll_s" (300), "backfill_retry_at" (HHMM Taipei, 1350: when jobs the
 * server refused for a usage limit are retried), "backfill_clock_offset_s" (test hook: shifts the
 * wall clock used for backfill_retry_at), "connect_timeout_s", "request_timeout_s",
 * "max_retries", "heartbeat_timeout_s". */
int sj_set(src_source *s, const char *key, double value, char *err, size_t errlen);
/* Real code an alias resolved to (out holds 16 bytes). 1 when known, 0 not (yet). */
int sj_resolved(const src_source *s, const char *code, char *out);
/* Counters: "reconnects", "gaps", "subscribe_errors", "subscribed", "requests",
 * "rate_waits", "bytes", "unknown_names", "backfilled", "backfill_requests",
 * "streams_open", "resubscribed", "backfill_queued" (backfill jobs waiting for the budget or the
 * server's limit now), "backfill_deferred" (times a job was queued), "backfill_refusals", "bans",
 * "auth_refusals", "maintenances", "silences", "alias_changes", "quota_exhausted", "empty_answers",
 * "usage_bytes", "usage_remaining" (UINT64_MAX unknown). */
uint64_t sj_counter(const src_source *s, const char *name);
/* One line: connection state for status displays; returns the length. */
size_t sj_status_line(const src_source *s, char *buf, size_t cap);
/* Server's /api/v1/info answer ("" until known); simulation: 1, production: 0, unknown: -1. */
const char *sj_server_version(const src_source *s);
int sj_simulation(const src_source *s);
/* FFI-END */

#endif
