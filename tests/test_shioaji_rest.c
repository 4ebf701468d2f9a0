/* test_shioaji_rest.c — Sinopac's own REST samples through our readers.
 *
 * tests/fixtures/sinopac/rest/ holds the JSON samples the live path relies
 * on, each with its provenance (repository, commit, path, lines) in MANIFEST.
 * Every file listed there must exist and be well-formed for sj_json; then the
 * values the client reads are read the way the client reads them (sj_json,
 * decimals from the number's text, ISO local times) and checked against the
 * sample. No stand-in: this pins our readers to what Sinopac publishes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "core/shj_common.h"
#include "shioaji/sj_internal.h"
#include "shioaji/sj_json.h"
#include "t.h"
#include "t_file.h"

static char *slurp(const char *name, size_t *len) {
    const char *src = getenv("SHJ_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/sinopac/rest/%s", src && *src ? src : "..", name);
    return t_slurp(path, len);
}

static int64_t num(const char *j, size_t n, const char *key) {
    int64_t v = INT64_MIN;
    sj_json_get_i64(j, n, key, &v);
    return v;
}

/* A JSON number's text read as an exact decimal (never through a double). */
static int64_t dec_of(const char *j, size_t n, const char *key) {
    const char *v, *t;
    size_t vn, tn;
    int64_t out = INT64_MIN;
    if (sj_json_find(j, n, key, &v, &vn) == 1 && sj_json_scalar_text(v, vn, &t, &tn) == 0) dec_parse(t, tn, &out);
    return out;
}

int main(void) {
    size_t n;
    char *j;

    /* MANIFEST: every listed file is there, with a provenance of 6 fields. */
    char *man = slurp("MANIFEST", &n);
    CHECK(man != NULL);
    int listed = 0;
    for (char *line = man ? strtok(man, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char file[128], repo[128], commit[64], path[256], lines[32];
        int f = sscanf(line, "%127s | %127s | %63s | %255s | %31s |", file, repo, commit, path, lines);
        CHECK_EQ_I64(f, 5);
        CHECK_EQ_I64(strlen(commit), 40);
        size_t fl;
        char *fx = slurp(file, &fl);
        CHECK(fx != NULL);
        const char *v;
        size_t vn;
        /* well-formed: its first key is found (objects) or it is an array */
        if (fx) CHECK(fx[0] == '[' || sj_json_find(fx, fl, "\x01", &v, &vn) == 0);
        free(fx);
        listed++;
    }
    free(man);
    CHECK_EQ_I64(listed, 10);

    /* health (HTTP_API.md:269-279): 1.7.0 documents next_maintenance; the
     * last_maintenance that Sinopac's app polls (stream.ts:503-504) is not in
     * it, so the client must cope without it (then silence is its signal). */
    j = slurp("health.json", &n);
    char s[64] = "";
    CHECK_EQ_I64(sj_json_get_str(j, n, "status", s, sizeof s), 1);
    CHECK_STR(s, "healthy");
    CHECK_EQ_I64(sj_json_get_str(j, n, "version", s, sizeof s), 1);
    CHECK_STR(s, "1.7.0");
    CHECK_EQ_I64(sj_json_get_str(j, n, "last_maintenance", s, sizeof s), 0);
    CHECK_EQ_I64(sj_json_get_str(j, n, "next_maintenance", s, sizeof s), 1);
    CHECK_STR(s, "2026-05-28T00:24:17+00:00");
    CHECK_EQ_I64(num(j, n, "contract_count"), 55352);
    free(j);

    j = slurp("info.json", &n);
    int b = -1;
    CHECK_EQ_I64(sj_json_get_bool(j, n, "simulation", &b), 1);
    CHECK_EQ_I64(b, 1);
    CHECK_EQ_I64(sj_json_get_str(j, n, "version", s, sizeof s), 1);
    CHECK_STR(s, "1.7.0");
    free(j);

    /* errors: {"code","message","details"} — the client shows message. */
    j = slurp("error.json", &n);
    CHECK_EQ_I64(num(j, n, "code"), 400);
    CHECK_EQ_I64(sj_json_get_str(j, n, "message", s, sizeof s), 1);
    CHECK_STR(s, "Description of the error");
    free(j);

    /* subscribe body: the client's has the same keys (sj_source.c). */
    j = slurp("subscribe_request.json", &n);
    CHECK_EQ_I64(sj_json_get_str(j, n, "quote_type", s, sizeof s), 1);
    CHECK_STR(s, "Tick");
    CHECK_EQ_I64(sj_json_get_str(j, n, "target_code", s, sizeof s), 0); /* null: not an alias */
    CHECK_EQ_I64(sj_json_get_bool(j, n, "intraday_odd", &b), 1);
    CHECK_EQ_I64(b, 0);
    free(j);

    /* contract lookup: target_code null for a stock; exchange; reference exact. */
    j = slurp("contract_info_2330.json", &n);
    CHECK_EQ_I64(sj_json_get_str(j, n, "target_code", s, sizeof s), 0);
    CHECK_EQ_I64(sj_json_get_str(j, n, "exchange", s, sizeof s), 1);
    CHECK_STR(s, "TSE");
    CHECK_EQ_I64(sj_json_get_str(j, n, "name", s, sizeof s), 1);
    CHECK_STR(s, "台積電");
    CHECK_EQ_I64(dec_of(j, n, "reference"), 1000 * SHJ_PRICE_SCALE);
    free(j);

    j = slurp("contract_event.json", &n);
    CHECK_EQ_I64(sj_json_get_str(j, n, "security_type", s, sizeof s), 1);
    CHECK_STR(s, "OPT");
    CHECK_EQ_I64(sj_json_get_str(j, n, "action", s, sizeof s), 1);
    CHECK_STR(s, "CHECK");
    free(j);

    /* usage: the numbers the status line shows; beyond 2^31. */
    j = slurp("usage.json", &n);
    CHECK_EQ_I64(num(j, n, "bytes"), 43885469);
    CHECK_EQ_I64(num(j, n, "limit_bytes"), 2147483648LL);
    CHECK_EQ_I64(num(j, n, "remaining_bytes"), 2103598179LL);
    free(j);

    /* ticks request: the contract nested, as sj_backfill_body writes it. */
    j = slurp("ticks_request.json", &n);
    const char *cv;
    size_t cvn;
    CHECK_EQ_I64(sj_json_find(j, n, "contract", &cv, &cvn), 1);
    CHECK_EQ_I64(sj_json_get_str(cv, cvn, "code", s, sizeof s), 1);
    CHECK_STR(s, "2330");
    CHECK_EQ_I64(sj_json_get_str(j, n, "time_end", s, sizeof s), 1);
    CHECK_STR(s, "09:20:01");
    free(j);

    /* ticks answer: datetime ISO local -> exact UTC ns; close as numbers. */
    j = slurp("ticks_answer.json", &n);
    const char *arr, *v, *t;
    size_t an, vn, tn;
    CHECK_EQ_I64(sj_json_find(j, n, "datetime", &arr, &an), 1);
    const char *p = arr;
    char iso[40];
    int rows = 0;
    int64_t want[3] = {clk_taipei_to_utc_ns(2026, 5, 18, 9, 0, 8, 306075),
                       clk_taipei_to_utc_ns(2026, 5, 18, 9, 0, 8, 342157),
                       clk_taipei_to_utc_ns(2026, 5, 18, 9, 0, 8, 368510)};
    while (sj_json_array_next(&p, arr + an, &v, &vn) == 1 && rows < 3) {
        CHECK_EQ_I64(sj_json_unquote(v, vn, iso, sizeof iso), 0);
        CHECK_EQ_I64(sj_iso_local_ns(iso), want[rows]);
        rows++;
    }
    CHECK_EQ_I64(rows, 3);
    CHECK_EQ_I64(sj_json_find(j, n, "ask_price", &arr, &an), 1);
    p = arr;
    int64_t prices[3] = {0, 0, 0};
    for (int k = 0; k < 3 && sj_json_array_next(&p, arr + an, &v, &vn) == 1; k++)
        if (sj_json_scalar_text(v, vn, &t, &tn) == 0) dec_parse(t, tn, &prices[k]);
    CHECK_EQ_I64(prices[0], 2225 * SHJ_PRICE_SCALE);
    CHECK_EQ_I64(prices[2], 2230 * SHJ_PRICE_SCALE);
    free(j);

    /* snapshots: datetime, not ts (MARKET_DATA.md:122). */
    j = slurp("snapshots.json", &n);
    CHECK(j && j[0] == '[');
    CHECK(strstr(j, "\"ts\"") == NULL);
    CHECK(strstr(j, "\"datetime\": \"2026-05-27T14:30:00\"") != NULL);
    free(j);

    T_DONE();
}
