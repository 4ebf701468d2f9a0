/* sj_http.h — HTTP requests on the libev loop through libcurl's multi socket API.
 *
 * Owns: one CURLM handle driven by libev (CURLMOPT_SOCKETFUNCTION gives each
 * curl socket an ev_io, CURLMOPT_TIMERFUNCTION drives one ev_timer, and
 * curl_multi_socket_action runs from those watchers), and the requests on it:
 * short REST calls whose whole body is handed to a completion callback, and
 * long-lived streams (SSE) whose body is handed over chunk by chunk as it
 * arrives. Never blocks the loop: there is no curl_easy_perform anywhere.
 *
 * Transport: a base URL over TCP, or a Unix domain socket
 * (CURLOPT_UNIX_SOCKET_PATH) with the base URL only naming the host header.
 * A credential header, when configured, is sent on every request and never
 * logged; logged URLs are redacted (core/redact.h).
 *
 * Guarantees:
 *  - Callbacks run on the loop thread, never before the call that started
 *    the request has returned.
 *  - done_fn runs exactly once per request unless the request was cancelled;
 *    the request is freed right after done_fn returns.
 *  - sj_http_cancel is safe from inside any callback (it is deferred).
 *
 * Request states: QUEUED(add) -> RUNNING -> [STREAMING <-> MUTED] -> DONE(done_fn) | CANCELLED.
 */
#ifndef SHJ_SJ_HTTP_H
#define SHJ_SJ_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
typedef struct sj_http_client sj_http_client;
typedef struct sj_http_req sj_http_req;

/* A streaming body chunk (only after a 2xx status). Return len (taken); any
 * other value aborts the transfer. Back-pressure is sj_http_mute, not a return code. */
typedef size_t (*sj_http_data_fn)(void *ctx, sj_http_req *r, const char *data, size_t len);
/* Response headers complete (streams): http_status of the answer. */
typedef void (*sj_http_head_fn)(void *ctx, sj_http_req *r, int http_status);
/* Finished. http_status 0 when no answer came (curl_err says why: refused,
 * timeout, connection closed mid-body...). body holds the whole answer for
 * REST calls, or the non-2xx answer of a stream. body is NUL-terminated. */
typedef void (*sj_http_done_fn)(void *ctx, sj_http_req *r, int http_status, const char *body,
                            size_t body_len, const char *curl_err);

typedef struct sj_http_config {
    const char *base_url;     /* "http://127.0.0.1:8080" (no trailing slash needed) */
    const char *unix_socket;  /* NULL = TCP */
    const char *auth_header;  /* full header line or NULL; secret: never logged */
    long connect_timeout_ms;  /* default 5000 */
    long request_timeout_ms;  /* REST calls only; default 15000 */
} sj_http_config;

typedef struct sj_http_stats {
    uint64_t requests;        /* started */
    uint64_t completed;       /* done_fn called */
    uint64_t failed;          /* no HTTP answer */
    uint64_t bytes_in;        /* body bytes received */
    uint64_t mutes;           /* sj_http_mute stopped reading a stream's socket */
    uint64_t mute_misses;     /* sj_http_mute found no socket to mute */
    int active;               /* requests in flight */
    int sockets;              /* sockets curl asked us to watch */
} sj_http_stats;

sj_http_client *sj_http_new(struct ev_loop *loop, const sj_http_config *cfg, char *err, size_t errlen);
/* Cancel everything (no callbacks) and free. */
void sj_http_free(sj_http_client *c);

/* REST call. method "GET"/"POST"; path "/api/v1/info"; body NULL or JSON. */
sj_http_req *sj_http_request(sj_http_client *c, const char *method, const char *path, const char *body,
                     sj_http_done_fn done, void *ctx, char *err, size_t errlen);
/* Stream (GET with Accept: text/event-stream, no total timeout). */
sj_http_req *sj_http_stream(sj_http_client *c, const char *path, sj_http_head_fn head, sj_http_data_fn data,
                    sj_http_done_fn done, void *ctx, char *err, size_t errlen);

/* Forget a request: no more callbacks; its connection is closed. */
void sj_http_cancel(sj_http_req *r);
/* Back-pressure for streams: stop reading the request's socket (the kernel
 * buffers fill and TCP slows the server down) until sj_http_unmute. Chunks curl
 * had already read, or reads within the same pass over the socket, may
 * still arrive after sj_http_mute; none are ever lost. sj_http_is_muted says
 * whether the mute took effect (a request with no socket yet cannot be
 * muted: stats.mute_misses). */
void sj_http_mute(sj_http_req *r);
void sj_http_unmute(sj_http_req *r);
int sj_http_is_muted(const sj_http_req *r);
/* Tag a request with a number of the caller's choosing (e.g. which stream). */
void sj_http_set_tag(sj_http_req *r, int tag);
int sj_http_tag(const sj_http_req *r);
const char *sj_http_path(const sj_http_req *r);

void sj_http_get_stats(const sj_http_client *c, sj_http_stats *out);
/* Base URL for logs: scheme://host[:port] without userinfo, plus the socket path if any. */
const char *sj_http_display(const sj_http_client *c);


#endif
