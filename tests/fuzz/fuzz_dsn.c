/* fuzz_dsn.c — libFuzzer target: ClickHouse DSN parsing never leaks the password.
 *
 * Input: byte 0 picks where a sentinel password is spliced in; the rest is
 * DSN-ish text. The oracle: the sentinel never appears in base_url, redacted,
 * warning, the error text, or shj_redact_url's output; on success base_url,
 * redacted and warning are exactly their templates over the public fields, and
 * no public field holds the decoded password.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse/ch_dsn.h"
#include "core/redact.h"
#include "core/shj_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENTINEL "Zq9SECRETpw7X"

static void must_not_contain(const char *hay, const char *needle) {
    if (needle[0] && strstr(hay, needle)) abort();
}

/* Occurrences of needle in hay, overlapping ones included. */
static int occurrences(const char *hay, const char *needle) {
    int count = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) count++;
    return count;
}

static void expect_public_outputs(const chd_dsn *d, const char *text) {
    char want[sizeof d->base_url];
    int v6 = strchr(d->host, ':') != NULL;
    snprintf(want, sizeof want, "%s://%s%s%s:%d/", d->secure ? "https" : "http", v6 ? "[" : "", d->host,
             v6 ? "]" : "", d->port);
    if (strcmp(want, d->base_url) != 0) abort();
    const char *scheme = strncmp(text, "clickhouse://", 13) == 0 ? "clickhouse"
                         : strncmp(text, "https://", 8) == 0    ? "https"
                                                                : "http";
    snprintf(want, sizeof want, "%s://%s%s@%s%s%s:%d/%s", scheme, d->user, d->password[0] ? ":***" : "",
             v6 ? "[" : "", d->host, v6 ? "]" : "", d->port, d->database);
    if (strcmp(want, d->redacted) != 0) abort();
    if (d->warning[0]) {
        snprintf(want, sizeof want, "DSN names the native-protocol port %d; Shijim speaks HTTP, using port %d instead",
                 d->native_port, d->port);
        if (strcmp(want, d->warning) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 600) return 0;
    char text[700];
    size_t body = size - 1;
    const char *src = (const char *)data + 1;
    /* Splice the sentinel where a password could go: after "user:" or "password=". */
    int form = data[0] % 4;
    size_t n = 0;
    if (form == 0) n = (size_t)snprintf(text, sizeof text, "clickhouse://u:%s@%.*s", SENTINEL, (int)body, src);
    else if (form == 1) n = (size_t)snprintf(text, sizeof text, "http://h:8123/db?password=%s&%.*s", SENTINEL, (int)body, src);
    else if (form == 2) n = (size_t)snprintf(text, sizeof text, "%.*s", (int)body, src);
    else n = (size_t)snprintf(text, sizeof text, "https://%.*s:%s@h/", (int)body, src, SENTINEL);
    if (n >= sizeof text) return 0;
    if (memchr(text, '\0', n)) return 0;
    /* The sentinel only marks a password where we spliced it in. */
    if (memmem(src, body, SENTINEL, sizeof SENTINEL - 1)) return 0;

    chd_dsn d;
    char err[512] = "";
    int rc = chd_parse(text, &d, err, sizeof err);
    char red[1024];
    shj_redact_url(text, red, sizeof red);
    if (form != 2) must_not_contain(red, SENTINEL);
    must_not_contain(err, SENTINEL);
    if (rc == SHJ_OK) {
        must_not_contain(d.base_url, SENTINEL);
        must_not_contain(d.redacted, SENTINEL);
        must_not_contain(d.warning, SENTINEL);
        /* The outputs must be made of public fields only: base_url and
         * redacted are exactly their templates over host/port/user/database
         * (a password fragment can look like "//host" in "http://host"), and
         * no public field holds the password unless the DSN itself repeats it
         * (say "password=vvvvvvvv" under a database "__vvvvvvvvvv"). */
        expect_public_outputs(&d, text);
        if (strlen(d.password) >= 8 && occurrences(text, d.password) <= 1) {
            must_not_contain(d.host, d.password);
            must_not_contain(d.user, d.password);
            must_not_contain(d.database, d.password);
        }
    }
    return 0;
}
