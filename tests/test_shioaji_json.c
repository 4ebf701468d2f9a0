/* test_shioaji_json.c — the small JSON helper (sj_json.c) and URL redaction (sj_http.c).
 *
 * Lookups at the top level only (nested keys of the same name must not
 * match), string escapes, numbers as exact text, arrays, malformed and
 * truncated input (every prefix of a document is fed: never a crash, never
 * a read past the end: ASan checks that), and URLs with credentials.
 */
#include <stdlib.h>
#include <string.h>

#include "shioaji/sj_http.h"
#include "shioaji/sj_json.h"
#include "core/redact.h"
#include "t.h"

static void lookups(void) {
    const char *j = "{\"nested\":{\"code\":\"WRONG\",\"a\":[1,{\"code\":\"NO\"}]},\"code\":\"TXFR1\","
                    "\"target_code\":\"TXFL6\",\"n\":-42,\"s\":\"17\",\"ok\":true,\"bad\":false,"
                    "\"msg\":\"contract \\\"9999\\\" not found\\n\\u53f0\\u80a1\",\"price\":33601.50,"
                    "\"empty\":\"\",\"null\":null}";
    size_t n = strlen(j);
    char out[64];
    CHECK_EQ_I64(sj_json_get_str(j, n, "code", out, sizeof out), 1);
    CHECK_STR(out, "TXFR1");
    CHECK_EQ_I64(sj_json_get_str(j, n, "target_code", out, sizeof out), 1);
    CHECK_STR(out, "TXFL6");
    CHECK_EQ_I64(sj_json_get_str(j, n, "msg", out, sizeof out), 1);
    CHECK_STR(out, "contract \"9999\" not found\n\xe5\x8f\xb0\xe8\x82\xa1");
    CHECK_EQ_I64(sj_json_get_str(j, n, "empty", out, sizeof out), 1);
    CHECK_STR(out, "");
    CHECK_EQ_I64(sj_json_get_str(j, n, "n", out, sizeof out), 0);      /* a number is not a string */
    CHECK_EQ_I64(sj_json_get_str(j, n, "missing", out, sizeof out), 0);
    CHECK_EQ_I64(sj_json_get_str(j, n, "msg", out, 8), -1);            /* too long for the buffer */
    int64_t v = 0;
    CHECK_EQ_I64(sj_json_get_i64(j, n, "n", &v), 1);
    CHECK_EQ_I64(v, -42);
    CHECK_EQ_I64(sj_json_get_i64(j, n, "s", &v), 1); /* a string holding an integer */
    CHECK_EQ_I64(v, 17);
    CHECK_EQ_I64(sj_json_get_i64(j, n, "price", &v), -1); /* has a fraction */
    int b = -1;
    CHECK_EQ_I64(sj_json_get_bool(j, n, "ok", &b), 1);
    CHECK_EQ_I64(b, 1);
    CHECK_EQ_I64(sj_json_get_bool(j, n, "bad", &b), 1);
    CHECK_EQ_I64(b, 0);
    CHECK_EQ_I64(sj_json_get_bool(j, n, "null", &b), -1);
    const char *val, *txt;
    size_t vn, tn;
    CHECK_EQ_I64(sj_json_find(j, n, "price", &val, &vn), 1);
    CHECK_EQ_I64(sj_json_scalar_text(val, vn, &txt, &tn), 0);
    CHECK(tn == 8 && memcmp(txt, "33601.50", 8) == 0); /* exact text, never a double */
    CHECK_EQ_I64(sj_json_find(j, n, "nested", &val, &vn), 1);
    CHECK(val[0] == '{' && val[vn - 1] == '}');
    CHECK_EQ_I64(sj_json_find("{}", 2, "a", &val, &vn), 0);
    CHECK_EQ_I64(sj_json_find("[1]", 3, "a", &val, &vn), -1);
}

static void arrays(void) {
    const char *j = "{\"ts\":[1, 2 ,3],\"close\":[\"1.5\",\"2\"],\"e\":[],\"x\":[[1,2],{\"a\":[3]}]}";
    size_t n = strlen(j);
    const char *arr, *e;
    size_t an, en;
    CHECK_EQ_I64(sj_json_find(j, n, "ts", &arr, &an), 1);
    const char *p = arr;
    int64_t sum = 0;
    int count = 0, r;
    while ((r = sj_json_array_next(&p, arr + an, &e, &en)) == 1) {
        sum += strtoll(e, NULL, 10);
        count++;
    }
    CHECK_EQ_I64(r, 0);
    CHECK_EQ_I64(count, 3);
    CHECK_EQ_I64(sum, 6);
    CHECK_EQ_I64(sj_json_find(j, n, "e", &arr, &an), 1);
    p = arr;
    CHECK_EQ_I64(sj_json_array_next(&p, arr + an, &e, &en), 0);
    CHECK_EQ_I64(sj_json_find(j, n, "x", &arr, &an), 1);
    p = arr;
    CHECK_EQ_I64(sj_json_array_next(&p, arr + an, &e, &en), 1);
    CHECK(en == 5 && memcmp(e, "[1,2]", 5) == 0);
    CHECK_EQ_I64(sj_json_array_next(&p, arr + an, &e, &en), 1);
    CHECK(e[0] == '{');
    CHECK_EQ_I64(sj_json_array_next(&p, arr + an, &e, &en), 0);
}

static void truncated_and_bad(void) {
    /* Every prefix of a real answer, each in its own exact-size heap buffer
     * so that ASan would see a read past the end. */
    const char *doc = "{\"code\":\"TXFL6\",\"ts\":[1700000000000000000,1700000000000001000],"
                      "\"close\":[\"23012\",\"23013.5\"],\"msg\":\"a\\\"b\\u0041\",\"ok\":true}";
    size_t n = strlen(doc);
    int complete = 0;
    for (size_t k = 0; k <= n; k++) {
        char *b = malloc(k ? k : 1);
        memcpy(b, doc, k);
        char out[64];
        int rc = sj_json_get_str(b, k, "code", out, sizeof out);
        int rc2 = sj_json_get_bool(b, k, "ok", &(int){0});
        if (k == n) complete = rc == 1 && rc2 == 1;
        /* "ok" is the last key: found only once its value is complete (lookups
         * stop at the key they want; the closing brace is not awaited). */
        else if (k < n - 1) CHECK(rc2 != 1);
        free(b);
    }
    CHECK(complete);
    const char *bad[] = {"", "{", "{\"a\"", "{\"a\":", "{\"a\":1,", "{\"a\" 1}", "{a:1}", "{\"a\":\"x}",
                         "{\"a\":[1,2}", "{\"a\":1}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        int rc = sj_json_get_i64(bad[i], strlen(bad[i]), "zz", &v);
        CHECK(rc <= 0); /* never "found" in junk */
    }
    char out[16];
    CHECK_EQ_I64(sj_json_unquote("\"\\q\"", 4, out, sizeof out), -1);
    CHECK_EQ_I64(sj_json_unquote("\"\\u12\"", 6, out, sizeof out), -1);
    /* Deep nesting is refused, not recursed into without bound. */
    size_t depth = 10000;
    char *deep = malloc(depth * 2 + 16);
    size_t m = 0;
    m += (size_t)sprintf(deep, "{\"a\":");
    for (size_t i = 0; i < depth; i++) deep[m++] = '[';
    for (size_t i = 0; i < depth; i++) deep[m++] = ']';
    deep[m++] = '}';
    const char *val;
    size_t vn;
    CHECK_EQ_I64(sj_json_find(deep, m, "a", &val, &vn), -1);
    free(deep);
}

static void quoting(void) {
    char out[64];
    size_t n = sj_json_quote("a\"b\\c\nd", out, sizeof out);
    CHECK_STR(out, "\"a\\\"b\\\\c\\u000ad\"");
    CHECK_EQ_I64(n, strlen(out));
    char back[64];
    CHECK_EQ_I64(sj_json_unquote(out, n, back, sizeof back), 0);
    CHECK_STR(back, "a\"b\\c\nd");
    char small[5];
    CHECK_EQ_I64(sj_json_quote("abcdef", small, sizeof small), 8); /* needed length, like snprintf */
    CHECK_EQ_I64(strlen(small), 4);
}

static void redaction(void) {
    char out[128];
    shj_redact_url("http://user:pa55@example.com:8080/api?x=1", out, sizeof out);
    CHECK_STR(out, "http://user:***@example.com:8080/api?x=***");
    CHECK(strstr(out, "pa55") == NULL);
    shj_redact_url("https://k:s@h/p@q", out, sizeof out);
    CHECK(strstr(out, "k:***@") != NULL); /* the last '@' ends what may be a password (core/redact.h) */
    shj_redact_url("http://127.0.0.1:8080", out, sizeof out);
    CHECK_STR(out, "http://127.0.0.1:8080");
}

int main(void) {
    lookups();
    arrays();
    truncated_and_bad();
    quoting();
    redaction();
    T_DONE();
}
