/* ch_http.h — HTTP requests to ClickHouse: async on libev, or blocking.
 *
 * Owns: libcurl handles, the multi-socket glue to libev, authentication
 * (basic auth from the DSN; the password never enters a URL or a log), and
 * the classification of outcomes into ok / transient / fatal.
 *
 * Async client (chh_client): requests run on the libev loop through
 * curl_multi_socket_action; each ends with exactly one call of its done
 * callback, always from a loop callback and never before chh_post returned.
 * The body passed to chh_post is not copied: it must stay valid and
 * unchanged until the done callback.
 *
 * Blocking client (chh_sync): curl_easy_perform with a kept-alive handle, for
 * batch tools (restore, schema) and for the writer's one-time check at open,
 * before the loop runs. Never used from a loop callback.
 */
#ifndef SHJ_CH_HTTP_H
#define SHJ_CH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_dsn.h"

struct ev_loop;

typedef enum { CHH_OK = 0, CHH_TRANSIENT = 1, CHH_FATAL = 2 } chh_class;

typedef struct chh_result {
    int curl_code;          /* CURLE_OK (0) or the transport error */
    long http_status;       /* 0 when no HTTP answer arrived */
    const char *body;       /* response body, NUL-terminated (capped at CHH_BODY_MAX) */
    size_t body_len;
    const char *error;      /* transport error text, "" when none */
    double seconds;         /* total request time */
} chh_result;

#define CHH_BODY_MAX (64u << 20) /* bytes of response kept; enough for test SELECTs */

typedef struct chh_opts {
    int connect_timeout_ms; /* default 2000 */
    int timeout_ms;         /* whole request, default 30000 */
} chh_opts;

typedef struct chh_client chh_client;
typedef void (*chh_done_fn)(void *ctx, const chh_result *r);

chh_client *chh_new(struct ev_loop *loop, const chd_dsn *dsn, const chh_opts *opts, char *err,
                    size_t errlen);
/* POST sql (sent in the URL) with body (may be NULL/0). gzip: the body is
 * gzip-compressed (Content-Encoding: gzip). SHJ_OK (fn will be called once)
 * or SHJ_ERR (fn will not be called). */
int chh_post(chh_client *c, const char *sql, const void *body, size_t len, int gzip,
             chh_done_fn fn, void *ctx, char *err, size_t errlen);
/* Abort every request in flight; each done callback runs (from inside this
 * call) with curl_code CURLE_ABORTED_BY_CALLBACK. Used at close. */
void chh_abort_all(chh_client *c);
void chh_free(chh_client *c);

typedef struct chh_sync chh_sync;
chh_sync *chh_sync_new(const chd_dsn *dsn, const chh_opts *opts, char *err, size_t errlen);
/* Run one request; *r stays valid until the next call or chh_sync_free.
 * Returns the classification of the outcome. */
chh_class chh_sync_exec(chh_sync *s, const char *sql, const void *body, size_t len, int gzip,
                        chh_result *r);
void chh_sync_free(chh_sync *s);

/* Outcome -> class, and a one-line explanation into why[cap] (HTTP status,
 * ClickHouse error code and message, or the transport error). */
chh_class chh_classify(const chh_result *r, char *why, size_t cap);
/* "Code: 60, ..." -> 60; -1 when the body carries no ClickHouse error code. */
int chh_error_code(const char *body);

/* gzip-compress in[0..n) into *out (replacing its contents). SHJ_OK/SHJ_ERR. */
struct bb_buf; /* chb_buf, core/bytebuf.h */
int chh_gzip(const void *in, size_t n, struct bb_buf *out);

#endif
