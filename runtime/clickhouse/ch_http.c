/* ch_http.c — libcurl (multi on libev, and easy) for ClickHouse (see ch_http.h).
 *
 * DESIGN. The multi-socket API is driven by libev through curl_ev.c, which
 * reports each finished transfer to on_done after curl has returned, never
 * inside chh_post. Easy handles are pooled so connections are kept alive.
 */
#include "clickhouse/ch_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clickhouse/ch_rowbinary.h"
#include "loop/curl_ev.h"
#include "core/shj_common.h"

/* ---- shared pieces ------------------------------------------------------ */

static int curl_ready;

static void global_init(void) {
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
}

typedef struct req_io {
    chb_buf resp;
    chb_buf gz;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];
    char *url;
} req_io;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    chb_buf *b = userdata;
    size_t n = size * nmemb;
    size_t keep = b->len + n > CHH_BODY_MAX ? (b->len < CHH_BODY_MAX ? CHH_BODY_MAX - b->len : 0) : n;
    if (keep && chb_append(b, ptr, keep) != SHJ_OK) return 0;
    return n;
}

/* Configure an easy handle for one request. */
static int setup_easy(CURL *e, const chd_dsn *dsn, const chh_opts *o, req_io *io, const char *sql,
                      const void *body, size_t len, int gzip, char *err, size_t errlen) {
    char *q = curl_easy_escape(e, sql, 0);
    if (!q) return shj_fail(err, errlen, "clickhouse: out of memory escaping a query");
    size_t ulen = strlen(dsn->base_url) + strlen(q) + 16;
    free(io->url);
    io->url = malloc(ulen);
    if (!io->url) {
        curl_free(q);
        return shj_fail(err, errlen, "clickhouse: out of memory");
    }
    /* No database= parameter: every statement names its database, so that
     * CREATE DATABASE works before the database exists. */
    snprintf(io->url, ulen, "%s?query=%s", dsn->base_url, q);
    curl_free(q);

    io->resp.len = 0;
    io->errbuf[0] = '\0';
    curl_slist_free_all(io->hdrs);
    io->hdrs = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    io->hdrs = curl_slist_append(io->hdrs, "Content-Type: application/octet-stream");
    if (gzip && len) {
        if (chh_gzip(body, len, &io->gz) != SHJ_OK)
            return shj_fail(err, errlen, "clickhouse: gzip of a %zu-byte body failed", len);
        body = io->gz.data;
        len = io->gz.len;
        io->hdrs = curl_slist_append(io->hdrs, "Content-Encoding: gzip");
    }
    curl_easy_setopt(e, CURLOPT_URL, io->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, io->hdrs);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &io->resp);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, io->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 2000));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 30000));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERNAME, dsn->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, dsn->password);
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    return SHJ_OK;
}

static void fill_result(CURL *e, int code, req_io *io, chh_result *r) {
    memset(r, 0, sizeof *r);
    r->curl_code = code;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->http_status);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &r->seconds);
    if (chb_reserve(&io->resp, 1) == SHJ_OK) {
        io->resp.data[io->resp.len] = '\0';
        r->body = (const char *)io->resp.data;
        r->body_len = io->resp.len;
    } else {
        r->body = "";
    }
    r->error = code != CURLE_OK ? (io->errbuf[0] ? io->errbuf : curl_easy_strerror((CURLcode)code)) : "";
}

static void io_free(req_io *io) {
    chb_free(&io->resp);
    chb_free(&io->gz);
    curl_slist_free_all(io->hdrs);
    free(io->url);
    memset(io, 0, sizeof *io);
}

int chh_gzip(const void *in, size_t n, chb_buf *out) {
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: zlib window with a gzip header; level 1: the network, not the
     * CPU, is what gzip is meant to save here. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SHJ_ERR;
    size_t bound = deflateBound(&z, (uLong)n);
    out->len = 0;
    if (chb_reserve(out, bound) != SHJ_OK) {
        deflateEnd(&z);
        return SHJ_ERR;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out->data;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len = bound - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? SHJ_OK : SHJ_ERR;
}

/* ---- classification ----------------------------------------------------- */

int chh_error_code(const char *body) {
    if (!body) return -1;
    const char *p = strstr(body, "Code: ");
    if (!p) return -1;
    p += 6;
    int code = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) code = code * 10 + (*p++ - '0'), digits++;
    return digits ? code : -1;
}

/* ClickHouse error codes that no retry can fix: the table, columns, types,
 * data or credentials are wrong. Anything else on a 5xx (memory, too many
 * parts, timeouts, a server shutting down) is worth retrying later. */
static int fatal_code(int code) {
    static const int codes[] = {6,  16, 20, 26, 27, 33,  38,  41,  44,  47,  48,  53,  60,
                                62, 69, 70, 72, 81, 117, 164, 192, 193, 194, 195, 497, 516};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == code) return 1;
    return 0;
}

/* First line of the server's message, trimmed to fit. */
static void first_line(const char *body, char *out, size_t cap) {
    size_t n = 0;
    while (body && body[n] && body[n] != '\n' && n + 1 < cap) n++;
    memcpy(out, body ? body : "", n);
    out[n] = '\0';
}

chh_class chh_classify(const chh_result *r, char *why, size_t cap) {
    char msg[320];
    if (r->curl_code != CURLE_OK) {
        snprintf(why, cap, "transport error: %s", r->error && r->error[0] ? r->error : "unknown");
        /* A malformed URL or an unsupported protocol will not fix itself. */
        if (r->curl_code == CURLE_URL_MALFORMAT || r->curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            return CHH_FATAL;
        return CHH_TRANSIENT;
    }
    if (r->http_status >= 200 && r->http_status < 300) {
        if (cap) why[0] = '\0';
        return CHH_OK;
    }
    first_line(r->body, msg, sizeof msg);
    int code = chh_error_code(r->body);
    snprintf(why, cap, "HTTP %ld: %s", r->http_status, msg[0] ? msg : "(no message)");
    if (r->http_status == 401 || r->http_status == 403) return CHH_FATAL;
    if (r->http_status == 408 || r->http_status == 429) return CHH_TRANSIENT;
    if (r->http_status >= 400 && r->http_status < 500) return CHH_FATAL;
    if (code >= 0 && fatal_code(code)) return CHH_FATAL;
    return CHH_TRANSIENT;
}

/* ---- async client on libev (curl_ev.c drives the multi handle) --------- */

typedef struct chh_req {
    struct chh_req *next;   /* free list */
    struct chh_req *all;    /* every request of the client */
    chh_client *c;
    CURL *easy;
    req_io io;
    chh_done_fn fn;
    void *ctx;
    int busy;
} chh_req;

struct chh_client {
    cev_multi cev;          /* the multi handle on the loop */
    chd_dsn dsn;
    chh_opts opts;
    chh_req *free_reqs;
    chh_req *all_reqs;
    size_t active;
};

static void on_done(cev_multi *m, CURL *e, CURLcode code) {
    chh_client *c = shj_container_of(m, chh_client, cev);
    chh_req *q = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
    curl_multi_remove_handle(m->curl, e);
    chh_result r;
    fill_result(e, code, &q->io, &r);
    chh_done_fn fn = q->fn;
    void *ctx = q->ctx;
    c->active--;
    q->busy = 0;
    /* the request goes back to the pool after the callback: r points into it */
    fn(ctx, &r);
    q->next = c->free_reqs;
    c->free_reqs = q;
}

chh_client *chh_new(struct ev_loop *loop, const chd_dsn *dsn, const chh_opts *opts, char *err,
                    size_t errlen) {
    global_init();
    chh_client *c = calloc(1, sizeof *c);
    if (!c) {
        shj_fail(err, errlen, "clickhouse: out of memory");
        return NULL;
    }
    c->dsn = *dsn;
    if (opts) c->opts = *opts;
    char why[160];
    if (cev_init(&c->cev, loop, on_done, why, sizeof why) != SHJ_OK) {
        cev_free(&c->cev);
        free(c);
        shj_fail(err, errlen, "clickhouse: %s", why);
        return NULL;
    }
    return c;
}

int chh_post(chh_client *c, const char *sql, const void *body, size_t len, int gzip,
             chh_done_fn fn, void *ctx, char *err, size_t errlen) {
    chh_req *q = c->free_reqs;
    if (q) {
        c->free_reqs = q->next;
    } else {
        q = calloc(1, sizeof *q);
        if (!q) return shj_fail(err, errlen, "clickhouse: out of memory");
        q->c = c;
        q->easy = curl_easy_init();
        if (!q->easy) {
            free(q);
            return shj_fail(err, errlen, "clickhouse: curl_easy_init failed");
        }
        q->all = c->all_reqs;
        c->all_reqs = q;
    }
    if (setup_easy(q->easy, &c->dsn, &c->opts, &q->io, sql, body, len, gzip, err, errlen) != SHJ_OK)
        goto fail;
    curl_easy_setopt(q->easy, CURLOPT_PRIVATE, (char *)q);
    q->fn = fn;
    q->ctx = ctx;
    if (curl_multi_add_handle(c->cev.curl, q->easy) != CURLM_OK) {
        shj_fail(err, errlen, "clickhouse: curl_multi_add_handle failed");
        goto fail;
    }
    q->busy = 1;
    c->active++;
    return SHJ_OK;
fail:
    q->next = c->free_reqs;
    c->free_reqs = q;
    return SHJ_ERR;
}

void chh_abort_all(chh_client *c) {
    /* Restart the scan after each callback: it may post new requests. */
    for (;;) {
        chh_req *q = c->all_reqs;
        while (q && !q->busy) q = q->all;
        if (!q) break;
        curl_multi_remove_handle(c->cev.curl, q->easy);
        chh_result r;
        fill_result(q->easy, CURLE_ABORTED_BY_CALLBACK, &q->io, &r);
        r.error = "aborted at close";
        c->active--;
        q->busy = 0;
        q->fn(q->ctx, &r);
        q->next = c->free_reqs;
        c->free_reqs = q;
    }
}

void chh_free(chh_client *c) {
    if (!c) return;
    chh_abort_all(c);
    cev_free(&c->cev);
    for (chh_req *q = c->all_reqs, *next; q; q = next) {
        next = q->all;
        curl_easy_cleanup(q->easy);
        io_free(&q->io);
        free(q);
    }
    free(c);
}

/* ---- blocking client ---------------------------------------------------- */

struct chh_sync {
    CURL *easy;
    chd_dsn dsn;
    chh_opts opts;
    req_io io;
};

chh_sync *chh_sync_new(const chd_dsn *dsn, const chh_opts *opts, char *err, size_t errlen) {
    global_init();
    chh_sync *s = calloc(1, sizeof *s);
    if (!s || !(s->easy = curl_easy_init())) {
        free(s);
        shj_fail(err, errlen, "clickhouse: curl_easy_init failed");
        return NULL;
    }
    s->dsn = *dsn;
    if (opts) s->opts = *opts;
    return s;
}

chh_class chh_sync_exec(chh_sync *s, const char *sql, const void *body, size_t len, int gzip,
                        chh_result *r) {
    char err[200];
    if (setup_easy(s->easy, &s->dsn, &s->opts, &s->io, sql, body, len, gzip, err, sizeof err) != SHJ_OK) {
        memset(r, 0, sizeof *r);
        r->curl_code = CURLE_OUT_OF_MEMORY;
        r->body = "";
        r->error = "out of memory preparing the request";
        return CHH_TRANSIENT;
    }
    CURLcode rc = curl_easy_perform(s->easy);
    fill_result(s->easy, rc, &s->io, r);
    char why[8];
    return chh_classify(r, why, sizeof why);
}

void chh_sync_free(chh_sync *s) {
    if (!s) return;
    curl_easy_cleanup(s->easy);
    io_free(&s->io);
    free(s);
}
