/* sj_query.h — one blocking REST call to a Shioaji server, for set-up work
 * done before the run starts (universes: contract lists, scanner rankings).
 *
 * Owns nothing beyond the call: a private libev loop and an sj_http client
 * live only while it runs, so the transport (TCP or Unix socket), the
 * credential header and URL redaction are sj_http's, the same as the live
 * source's. Credentials come only from the environment (SHIOAJI_API_KEY /
 * SHIOAJI_SECRET_KEY, else SJ_API_KEY / SJ_SEC_KEY), as sj_new's; they never
 * reach Lua, logs or error texts. Never call it from inside a running loop:
 * it blocks the calling thread until the answer (or timeout_s).
 */
#ifndef SHJ_SJ_QUERY_H
#define SHJ_SJ_QUERY_H

#include <stddef.h>

/* FFI-BEGIN */
/* method "GET"/"POST"; path "/api/v1/data/contracts?security_type=STK"; body
 * NULL or JSON; url NULL = http://127.0.0.1:8080 (http://localhost with a
 * socket); timeout_s <= 0 = 30. On an HTTP answer (any status): 0, *status,
 * and the body in *out (NUL-terminated, *out_len bytes; free with
 * sj_query_free). No answer (refused, timeout): -1 and err says why. */
int sj_query(const char *url, const char *unix_socket, const char *method, const char *path,
             const char *body, double timeout_s, int *status, char **out, size_t *out_len,
             char *err, size_t errlen);
void sj_query_free(char *p);
/* FFI-END */

#endif
