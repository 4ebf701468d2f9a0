/* fuzz_dsn.c — libFuzzer target: ClickHouse DSN parsing never leaks the password.
 *
 * Input: byte 0 picks where a sentinel password is spliced in; the rest is
 * DSN-ish text. The oracle: the sentinel (and whatever password chd_parse
 * decoded, when it is long enough to be recognisable) never appears in
 * base_url, redacted, warning, the error text, or chd_redact's output.
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
        if (strlen(d.password) >= 8) {
            must_not_contain(d.base_url, d.password);
            must_not_contain(d.redacted, d.password);
            must_not_contain(d.warning, d.password);
        }
    }
    return 0;
}
