/* sj_http.c — Shioaji REST calls and streams on libev (see sj_http.h).
 *
 * DESIGN. curl_ev.c drives the multi handle (curl's "hiperfifo" pattern):
 * curl_multi_socket_action runs from libev watchers and calls our
 * write/header callbacks from inside; finished transfers reach on_done
 * after socket_action has returned, so completion callbacks never run
 * inside curl and may start new requests.
 *
 * Removing a handle from inside one of its own callbacks is not allowed by
 * curl, so sj_http_cancel only marks the request there and a zero-delay reaper
 * timer removes it once we are back on the loop.
 *
 * Back-pressure mutes the socket instead of pausing the transfer. With
 * libcurl 7.88 (Debian 12), CURL_WRITEFUNC_PAUSE + curl_easy_pause(CONT) on
 * a chunked response driven by the socket API sometimes never reads again
 * (curl holds or forgets readiness across the pause; tests/
 * test_shioaji_backpressure.c caught it about one run in twenty). Muting is
 * plain libev: the socket's ev_io is stopped, curl is not told, nothing
 * reads the socket, the kernel buffers fill and TCP slows the server; the
 * write callback always takes what curl already read (cev_mute/cev_unmute).
 *
 * The socket to mute is the one curl_ev saw curl name for this transfer
 * (cev_mute_transfer). CURLINFO_ACTIVESOCKET cannot be used: on 7.88 it
 * answers only once a transfer is done (lastconnect), so mid-stream it said
 * -1 and nothing was ever muted. sj_http_mute is called from inside the write
 * callback, so curl is reading that socket right then and has named it.
 *
 * What muting bounds: curl keeps recv()ing within one pass over a socket
 * while poll() says it is readable (7.88: up to 100 buffers, then it runs
 * the transfer again from its timer; 8.x the same with 10), and only
 * CURL_WRITEFUNC_PAUSE ends a pass early. So the pass in which the consumer
 * filled up still empties the socket into the write callback: right after
 * an unmute that is what the kernel buffered during the stall. Once that
 * pass is over nothing is read until sj_http_unmute: memory does not grow with
 * the length of a stall (tests/test_shioaji_backpressure.c checks both).
 *
 * Sockets get a fixed receive buffer (on_sockopt): without it a loopback
 * stream could sit silent for seconds after an unmute (see there).
 */
#include "shioaji/sj_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "loop/curl_ev.h"
#include "core/redact.h"
#include "core/shj_common.h"

#define SJ_HTTP_MAX_BODY (64u << 20) /* a REST answer larger than this is an error */
#define SJ_HTTP_RCVBUF (1 << 20)      /* SO_RCVBUF asked for every socket (see on_sockopt) */

struct sj_http_req {
    sj_http_client *c;
    CURL *easy;
    struct curl_slist *headers;
    sj_http_req *prev, *next;     /* the client's list of live requests */
    int is_stream;
    int muted;                /* sj_http_mute took effect, until sj_http_unmute */
    curl_socket_t mute_fd;    /* the socket muted, CURL_SOCKET_BAD when none */
    int cancelled;
    int status;               /* HTTP status once headers are complete */
    int tag;
    sj_http_data_fn data;
    sj_http_head_fn head;
    sj_http_done_fn done;
    void *ctx;
    char *path;
    char *resp;               /* REST body (or a stream's error body) */
    size_t resp_len, resp_cap;
    int resp_overflow;
    char errbuf[CURL_ERROR_SIZE];
};

struct sj_http_client {
    cev_multi cev;            /* the multi handle on the loop */
    ev_timer reaper;          /* removes cancelled requests outside curl */
    char *base_url;
    char *unix_socket;
    char *auth_header;
    char display[512];
    long connect_timeout_ms;
    long request_timeout_ms;
    sj_http_req *reqs;
    sj_http_stats stats;
};

/* Redaction --------------------------------------------------------------- */

/* Request bookkeeping --------------------------------------------------------- */

static void req_unlink(sj_http_req *r) {
    sj_http_client *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else if (c->reqs == r)
        c->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void req_free(sj_http_req *r) {
    if (r->easy) {
        curl_multi_remove_handle(r->c->cev.curl, r->easy);
        curl_easy_cleanup(r->easy);
    }
    req_unlink(r);
    r->c->stats.active--;
    curl_slist_free_all(r->headers);
    free(r->path);
    free(r->resp);
    free(r);
}

static void finish(sj_http_req *r, CURLcode result) {
    sj_http_client *c = r->c;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    const char *cerr = "";
    if (result != CURLE_OK) {
        cerr = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
        code = code && r->status ? code : 0; /* an answer cut off mid-body is still an answer */
    }
    if (r->resp_overflow) {
        code = 0;
        cerr = "answer too large";
    }
    if (!r->cancelled && r->done) {
        c->stats.completed++;
        if (code == 0) c->stats.failed++;
        /* A stream that ended while it was streaming reports its status and
         * the reason it ended; its body went to the data callback. */
        r->done(r->ctx, r, (int)code, r->resp ? r->resp : "", r->resp_len, cerr);
    }
    req_free(r);
}

static void on_done(cev_multi *m, CURL *e, CURLcode result) {
    SHJ_UNUSED(m);
    sj_http_req *r = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    if (r) finish(r, result);
}

static void reap_cancelled(sj_http_client *c) {
    sj_http_req *r = c->reqs;
    while (r) {
        sj_http_req *next = r->next;
        if (r->cancelled) req_free(r);
        r = next;
    }
}

/* libev ----------------------------------------------------------------------------- */

static void reaper_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    reap_cancelled(shj_container_of(w, sj_http_client, reaper));
}

/* curl callbacks of one transfer ---------------------------------------------------- */

static int resp_append(sj_http_req *r, const char *p, size_t n) {
    if (r->resp_len + n + 1 > SJ_HTTP_MAX_BODY) {
        r->resp_overflow = 1;
        return -1;
    }
    if (r->resp_len + n + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 1024;
        while (cap < r->resp_len + n + 1) cap *= 2;
        char *q = realloc(r->resp, cap);
        if (!q) return -1;
        r->resp = q;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, p, n);
    r->resp_len += n;
    r->resp[r->resp_len] = '\0';
    return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud) {
    sj_http_req *r = ud;
    size_t len = size * nmemb;
    if (r->cancelled) return 0; /* abort: nobody wants these bytes */
    if (r->is_stream && r->status >= 200 && r->status < 300) {
        size_t rc = r->data(r->ctx, r, ptr, len);
        if (r->cancelled) return 0;
        r->c->stats.bytes_in += len;
        return rc == len ? len : 0;
    }
    r->c->stats.bytes_in += len;
    return resp_append(r, ptr, len) == 0 ? len : 0;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud) {
    sj_http_req *r = ud;
    size_t len = size * nitems;
    if (r->cancelled) return 0;
    if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) { /* 1xx blocks are followed by the real one */
            r->status = (int)code;
            if (r->is_stream && r->head) r->head(r->ctx, r, r->status);
            if (r->cancelled) return 0;
        }
    }
    return len;
}

/* Every socket gets a fixed, generous receive buffer before it connects.
 * Why: after a mute the stream's TCP window closes; once we read again,
 * Linux only announces the reopened window if it had shrunk below half of
 * window_clamp (tcp_cleanup_rbuf), while the server's TCP will not send into
 * a window smaller than one MSS (tcp_snd_wnd_test) and waits for its
 * zero-window probe instead, whose interval doubles up to 120 s. On loopback
 * (the Shioaji server is local) the MSS is ~64 KiB and the default 128 KiB
 * buffer gives a clamp of ~64 KiB, so a window left between 32 and 64 KiB
 * stalled the stream for seconds after an unmute (the stand-in's socket in
 * "persist" with a full send queue and ours empty; the heartbeat watchdog
 * then cut the stream and what sat in the kernel was lost). A clamp well
 * above two MSS makes that window range empty. Even capped by
 * net.core.rmem_max (212992 on stock Debian, doubled by the kernel) the
 * clamp stays above 128 KiB. A set SO_RCVBUF turns off autotuning; a
 * market-data stream on loopback does not need more. Failure is harmless. */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose) {
    SHJ_UNUSED(ud);
    if (purpose == CURLSOCKTYPE_IPCXN) {
        int size = SJ_HTTP_RCVBUF;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    return CURL_SOCKOPT_OK;
}

/* Public -------------------------------------------------------------------------- */

sj_http_client *sj_http_new(struct ev_loop *loop, const sj_http_config *cfg, char *err, size_t errlen) {
    sj_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    const char *base = cfg->base_url && *cfg->base_url ? cfg->base_url : "http://127.0.0.1:8080";
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') bl--; /* paths start with '/' */
    c->base_url = strndup(base, bl);
    c->unix_socket = cfg->unix_socket && *cfg->unix_socket ? strdup(cfg->unix_socket) : NULL;
    c->auth_header = cfg->auth_header && *cfg->auth_header ? strdup(cfg->auth_header) : NULL;
    c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
    c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 15000;
    if (cev_init(&c->cev, loop, on_done, err, errlen) != SHJ_OK) {
        sj_http_free(c);
        return NULL;
    }
    ev_timer_init(&c->reaper, reaper_cb, 0.0, 0.0);
    if (!c->base_url || (cfg->unix_socket && *cfg->unix_socket && !c->unix_socket) ||
        (cfg->auth_header && *cfg->auth_header && !c->auth_header)) {
        shj_fail(err, errlen, "out of memory creating the HTTP client");
        sj_http_free(c);
        return NULL;
    }
    char shown[400];
    shj_redact_url(c->base_url, shown, sizeof shown);
    if (c->unix_socket)
        snprintf(c->display, sizeof c->display, "unix:%s", c->unix_socket);
    else
        shj_strlcpy(c->display, shown, sizeof c->display);
    return c;
}

void sj_http_free(sj_http_client *c) {
    if (!c) return;
    while (c->reqs) {
        c->reqs->cancelled = 1;
        req_free(c->reqs);
    }
    if (c->cev.loop) ev_timer_stop(c->cev.loop, &c->reaper);
    cev_free(&c->cev);
    if (c->auth_header) {
        /* The secret leaves memory with the client. */
        memset(c->auth_header, 0, strlen(c->auth_header));
        free(c->auth_header);
    }
    free(c->base_url);
    free(c->unix_socket);
    free(c);
}

static sj_http_req *start(sj_http_client *c, const char *method, const char *path, const char *body,
                      int stream, char *err, size_t errlen) {
    sj_http_req *r = calloc(1, sizeof *r);
    if (!r) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    r->c = c;
    r->is_stream = stream;
    r->mute_fd = CURL_SOCKET_BAD;
    r->path = strdup(path);
    r->easy = curl_easy_init();
    size_t ul = strlen(c->base_url) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!r->path || !r->easy || !url) {
        free(url);
        if (r->easy) curl_easy_cleanup(r->easy);
        free(r->path);
        free(r);
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(url, ul, "%s%s", c->base_url, path);
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    free(url); /* curl copies strings it is given */
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 0L); /* verbose output would print the auth header */
    if (c->unix_socket) curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
    if (stream) {
        /* No total timeout: a stream lives for the session; the source's
         * heartbeat watchdog decides when it is dead. */
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
        r->headers = curl_slist_append(r->headers, "Accept: text/event-stream");
        r->headers = curl_slist_append(r->headers, "Cache-Control: no-cache");
    } else {
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
        r->headers = curl_slist_append(r->headers, "Accept: application/json");
    }
    if (strcmp(method, "POST") == 0) {
        r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
        r->headers = curl_slist_append(r->headers, "Expect:");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (c->auth_header) r->headers = curl_slist_append(r->headers, c->auth_header);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);

    r->next = c->reqs;
    if (c->reqs) c->reqs->prev = r;
    c->reqs = r;
    c->stats.active++;
    c->stats.requests++;
    CURLMcode mc = curl_multi_add_handle(c->cev.curl, e);
    if (mc != CURLM_OK) {
        shj_fail(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        req_free(r);
        return NULL;
    }
    return r;
}

sj_http_req *sj_http_request(sj_http_client *c, const char *method, const char *path, const char *body,
                     sj_http_done_fn done, void *ctx, char *err, size_t errlen) {
    sj_http_req *r = start(c, method, path, body, 0, err, errlen);
    if (r) {
        r->done = done;
        r->ctx = ctx;
    }
    return r;
}

sj_http_req *sj_http_stream(sj_http_client *c, const char *path, sj_http_head_fn head, sj_http_data_fn data,
                    sj_http_done_fn done, void *ctx, char *err, size_t errlen) {
    sj_http_req *r = start(c, "GET", path, NULL, 1, err, errlen);
    if (r) {
        r->head = head;
        r->data = data;
        r->done = done;
        r->ctx = ctx;
    }
    return r;
}

void sj_http_cancel(sj_http_req *r) {
    if (!r || r->cancelled) return;
    r->cancelled = 1;
    sj_http_client *c = r->c;
    if (c->cev.in_curl) {
        ev_timer_stop(c->cev.loop, &c->reaper);
        ev_timer_set(&c->reaper, 0.0, 0.0);
        ev_timer_start(c->cev.loop, &c->reaper);
    } else {
        req_free(r);
    }
}

void sj_http_mute(sj_http_req *r) {
    if (!r || r->muted || r->cancelled || !r->is_stream) return;
    curl_socket_t fd = cev_mute_transfer(&r->c->cev, r->easy);
    if (fd == CURL_SOCKET_BAD) {
        /* No socket: the transfer is not reading (connecting, or already
         * ended); the source keeps holding events either way. */
        r->c->stats.mute_misses++;
        return;
    }
    r->muted = 1;
    r->mute_fd = fd;
    r->c->stats.mutes++;
}

void sj_http_unmute(sj_http_req *r) {
    if (!r || !r->muted) return;
    r->muted = 0;
    /* A no-op if curl removed the socket meanwhile (the mute ended with it). */
    cev_unmute(&r->c->cev, r->mute_fd);
    r->mute_fd = CURL_SOCKET_BAD;
}

int sj_http_is_muted(const sj_http_req *r) { return r && r->muted; }
void sj_http_set_tag(sj_http_req *r, int tag) { r->tag = tag; }
int sj_http_tag(const sj_http_req *r) { return r->tag; }
const char *sj_http_path(const sj_http_req *r) { return r->path; }
void sj_http_get_stats(const sj_http_client *c, sj_http_stats *out) {
    *out = c->stats;
    out->sockets = c->cev.sockets;
}
const char *sj_http_display(const sj_http_client *c) { return c->display; }
