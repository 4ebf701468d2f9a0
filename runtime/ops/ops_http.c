/* ops_http.c — the HTTP face of ops_metrics: /metrics, /healthz, /readyz.
 *
 * libmicrohttpd (a GNU library, packaged by Debian, used by systemd's
 * journal-remote) runs the server on its own thread
 * (MHD_USE_INTERNAL_POLLING_THREAD), so a scrape never runs on the event
 * loop and a stuck loop can still be reported. The handlers read only the
 * published snapshot (ops_snapshot_*): nothing the loop thread owns.
 * Bound to 127.0.0.1 unless an address is given: metrics name instruments
 * and volumes, not for every host on the network.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/shj_common.h"
#include "ops/ops_metrics.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT_T;
#else
typedef enum MHD_Result MHD_RESULT_T;
#endif

static struct MHD_Daemon *daemon_;
static int bound_port;

static MHD_RESULT_T reply(struct MHD_Connection *c, unsigned code, const char *type, char *body,
                          size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_RESULT_T rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static MHD_RESULT_T text_reply(struct MHD_Connection *c, unsigned code, const char *text) {
    size_t n = strlen(text);
    char *body = malloc(n + 2);
    if (!body) return MHD_NO;
    memcpy(body, text, n);
    body[n] = '\n';
    body[n + 1] = '\0';
    return reply(c, code, "text/plain; charset=utf-8", body, n + 1);
}

static MHD_RESULT_T handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload, size_t *upload_size, void **state) {
    SHJ_UNUSED(cls);
    SHJ_UNUSED(version);
    SHJ_UNUSED(upload);
    SHJ_UNUSED(upload_size);
    SHJ_UNUSED(state);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET");
    char why[600];
    if (strcmp(url, "/metrics") == 0) {
        size_t len;
        char *text = ops_snapshot_metrics(&len);
        if (!text) return MHD_NO;
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
    }
    if (strcmp(url, "/healthz") == 0) {
        int ok = ops_snapshot_alive(why, sizeof why);
        return text_reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    if (strcmp(url, "/readyz") == 0) {
        char line[640];
        int ok = ops_snapshot_ready(why, sizeof why);
        snprintf(line, sizeof line, "%s%s", ok ? "" : "not ready: ", why);
        return text_reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, line);
    }
    return text_reply(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /healthz, /readyz");
}

int ops_http_start(const char *listen, char *err, size_t errlen) {
    if (daemon_) return shj_fail(err, errlen, "metrics server already running");
    char host[64] = "127.0.0.1";
    const char *colon = strrchr(listen, ':');
    const char *port_text = colon ? colon + 1 : listen;
    if (colon && colon != listen) {
        size_t hl = (size_t)(colon - listen);
        if (hl >= sizeof host) return shj_fail(err, errlen, "metrics address too long: %s", listen);
        memcpy(host, listen, hl);
        host[hl] = '\0';
    }
    char *end;
    long port = strtol(port_text, &end, 10);
    if (!*port_text || *end || port < 0 || port > 65535)
        return shj_fail(err, errlen, "metrics address %s: expected ADDR:PORT (e.g. 127.0.0.1:9464)", listen);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return shj_fail(err, errlen, "metrics address %s: %s is not an IPv4 address", listen, host);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                               NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!daemon_) return shj_fail(err, errlen, "metrics server: cannot listen on %s:%ld (in use?)", host, port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    bound_port = info ? info->port : (int)port;
    shj_log(SHJ_LOG_INFO, "metrics: http://%s:%d/metrics, /healthz, /readyz", host, bound_port);
    return SHJ_OK;
}

int ops_http_port(void) { return daemon_ ? bound_port : 0; }

void ops_http_stop(void) {
    if (!daemon_) return;
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    bound_port = 0;
}
