/* sj_query.c — a blocking REST call on a private loop (see sj_query.h). */
#include "shioaji/sj_query.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"
#include "shioaji/sj_http.h"

typedef struct q_ctx {
    int done, status;
    char *body;
    size_t len;
    char why[256];
} q_ctx;

static void q_done(void *ctx, sj_http_req *r, int http_status, const char *body, size_t body_len,
                   const char *curl_err) {
    SHJ_UNUSED(r);
    q_ctx *q = ctx;
    q->done = 1;
    q->status = http_status;
    if (http_status == 0) {
        shj_strlcpy(q->why, curl_err && *curl_err ? curl_err : "no answer", sizeof q->why);
        return;
    }
    q->body = malloc(body_len + 1);
    if (!q->body) {
        shj_strlcpy(q->why, "out of memory", sizeof q->why);
        return;
    }
    if (body_len) memcpy(q->body, body, body_len);
    q->body[body_len] = '\0';
    q->len = body_len;
}

/* The one credential rule of the live source (sj_source.c sj_start). */
static char *auth_header(void) {
    const char *k = getenv("SHIOAJI_API_KEY"), *sec = getenv("SHIOAJI_SECRET_KEY");
    if (!(k && *k && sec && *sec)) {
        k = getenv("SJ_API_KEY");
        sec = getenv("SJ_SEC_KEY");
    }
    if (!(k && *k && sec && *sec)) return NULL;
    size_t n = strlen(k) + strlen(sec) + 32;
    char *h = malloc(n);
    if (h) snprintf(h, n, "Authorization: Bearer %s:%s", k, sec);
    return h;
}

int sj_query(const char *url, const char *unix_socket, const char *method, const char *path,
             const char *body, double timeout_s, int *status, char **out, size_t *out_len,
             char *err, size_t errlen) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!method || !path || !status || !out) return shj_fail(err, errlen, "sj_query: missing argument");
    if (timeout_s <= 0) timeout_s = 30;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) return shj_fail(err, errlen, "sj_query: cannot create an event loop");
    char *auth = auth_header();
    if (unix_socket && !*unix_socket) unix_socket = NULL;
    sj_http_config cfg = {.base_url = url && *url ? url : (unix_socket ? "http://localhost" : "http://127.0.0.1:8080"),
                          .unix_socket = unix_socket,
                          .auth_header = auth,
                          .connect_timeout_ms = 5000,
                          .request_timeout_ms = (long)(timeout_s * 1000)};
    char herr[256] = "";
    sj_http_client *c = sj_http_new(loop, &cfg, herr, sizeof herr);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (!c) {
        ev_loop_destroy(loop);
        return shj_fail(err, errlen, "%s", herr);
    }
    q_ctx q = {0};
    int rc = SHJ_OK;
    if (!sj_http_request(c, method, path, body, q_done, &q, herr, sizeof herr)) {
        rc = shj_fail(err, errlen, "%s %s: %s", method, path, herr);
    } else {
        while (!q.done) ev_run(loop, EVRUN_ONCE);
        if (!q.body) rc = shj_fail(err, errlen, "%s %s at %s: %s", method, path, sj_http_display(c), q.why);
    }
    sj_http_free(c);
    ev_loop_destroy(loop);
    if (rc != SHJ_OK) {
        free(q.body);
        return rc;
    }
    *status = q.status;
    *out = q.body;
    if (out_len) *out_len = q.len;
    return SHJ_OK;
}

void sj_query_free(char *p) { free(p); }
