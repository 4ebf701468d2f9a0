/* test_parse_memo.c — the parser's date memo never changes a result.
 *
 * psr_parse (the loop, memo warm) and psr_parse_payload (a replay worker,
 * memo fresh per thread) must agree on every payload, or a day replays
 * differently from how it was recorded. Regression for issue 11 fault 7: an
 * empty memo (all zero bytes) matched a date of ten NUL bytes, so such a
 * payload was accepted as the first of a run and rejected afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shj_event.h"
#include "parse/parse.h"
#include "t.h"

static const char good[] = "{\"code\":\"2330\",\"date\":\"2026-12-04\",\"time\":\"09:00:00.000000\","
                           "\"close\":\"585.5\",\"volume\":1}";

static int worker_parse(const char *json, size_t n, shj_event *ev, psr_memo *memo) {
    char err[200];
    int rc = psr_parse_payload(memo, PSR_TAG_TICK_STK, json, n, ev, err, sizeof err);
    if (rc == PSR_EVENT) rc = psr_resolve(ev, err, sizeof err);
    return rc;
}

int main(void) {
    char nul_date[sizeof good];
    memcpy(nul_date, good, sizeof good);
    char *d = strstr(nul_date, "2026-12-04");
    memset(d, 0, 10);
    size_t n = sizeof good - 1;

    shj_event ev;
    char err[200];
    psr_memo fresh;
    memset(&fresh, 0, sizeof fresh);
    /* First payload of a worker (empty memo): refused, naming the date. */
    CHECK_EQ_I64(worker_parse(nul_date, n, &ev, &fresh), PSR_MALFORMED);
    /* First payload of the loop (its memo empty too): refused. */
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, nul_date, n, &ev, err, sizeof err), PSR_MALFORMED);
    CHECK(strstr(err, "control bytes") != NULL); /* names the problem and its byte */
    /* After a good payload warmed both memos: still refused, the good one still taken. */
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, good, n, &ev, err, sizeof err), PSR_EVENT);
    CHECK_EQ_I64(worker_parse(good, n, &ev, &fresh), PSR_EVENT);
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, nul_date, n, &ev, err, sizeof err), PSR_MALFORMED);
    CHECK_EQ_I64(worker_parse(nul_date, n, &ev, &fresh), PSR_MALFORMED);
    /* Warm and fresh memo give byte-identical events. */
    shj_event a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    psr_memo other;
    memset(&other, 0, sizeof other);
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, good, n, &a, err, sizeof err), PSR_EVENT);
    CHECK_EQ_I64(worker_parse(good, n, &b, &other), PSR_EVENT);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    T_DONE();
}
