/* test_json_skip.c — the one strict JSON skipper (core/json_skip.h): what it
 * accepts and where it says each rejection is, the depth limit, Python's
 * specials only when asked, and that its three users agree with it (the
 * payload parser on an unknown field, the Shioaji REST lookup, the JSONL
 * reader on a nested value). */
#include <string.h>

#include "clickhouse/ch_jsonl.h"
#include "core/json_skip.h"
#include "core/shj_common.h"
#include "parse/parse.h"
#include "shioaji/sj_json.h"
#include "t.h"

/* Skip text whole: the value must end exactly at the end (after trailing ws). */
static int skips(const char *text, int flags) {
    jsk_error e;
    const char *end = text + strlen(text);
    const char *q = jsk_value(text, end, 8, flags, &e);
    return q && jsk_ws(q, end) == end;
}

/* The rejection of text: status, offset of e.at, expected text. */
static void rejects(const char *text, jsk_status st, long at, const char *expected) {
    jsk_error e;
    const char *end = text + strlen(text);
    const char *q = jsk_value(text, end, 8, 0, &e);
    CHECK(q == NULL);
    if (q) return;
    CHECK_EQ_I64(e.status, st);
    CHECK_EQ_I64(e.at - text, at);
    if (expected) CHECK_STR(e.expected, expected);
}

int main(void) {
    static const char *good[] = {
        "0", "-0", "12", "-3.25", "1e9", "2.5E-3", "\"\"", "\"a\\\"b\\\\c\\/\\n\\u00e9\"", "true", "false",
        "null", "[]", "{}", "[ 1 , 2 ]", "{\"a\":{\"b\":[1,{\"c\":null}]}}", "{ \"k\" : \"v\" , \"n\" : -1 }",
        "\"\xe5\x8f\xb0\xe7\xa9\x8d\xe9\x9b\xbb\"", /* UTF-8 as is */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!skips(good[i], 0)) fprintf(stderr, "should skip: %s\n", good[i]);
        CHECK(skips(good[i], 0));
    }
    CHECK(!skips("01", 0)); /* a leading zero ends the number: "01" is two values */
    rejects("1.", JSK_TRUNCATED, 2, NULL);
    rejects("1.x", JSK_UNEXPECTED, 2, "a digit after '.'");
    rejects("1e+", JSK_TRUNCATED, 3, NULL);
    rejects("-", JSK_TRUNCATED, 1, NULL);
    rejects("+1", JSK_UNEXPECTED, 0, "a digit");
    rejects("tru", JSK_TRUNCATED, 3, NULL);
    rejects("trux", JSK_UNEXPECTED, 3, "a JSON value");
    rejects("\"abc", JSK_TRUNCATED, 4, NULL);
    rejects("\"a\\x\"", JSK_UNEXPECTED, 3, "a valid escape");
    rejects("\"\\u12g4\"", JSK_UNEXPECTED, 5, "a hex digit of a \\u escape");
    rejects("\"a\tb\"", JSK_UNEXPECTED, 2, "a string character (control bytes must be escaped)");
    rejects("{\"a\" 1}", JSK_UNEXPECTED, 5, "':'");
    rejects("{a:1}", JSK_UNEXPECTED, 1, "'\"' (a key)");
    rejects("{\"a\":1 \"b\":2}", JSK_UNEXPECTED, 7, "',' or '}'");
    rejects("[1 2]", JSK_UNEXPECTED, 3, "',' or ']'");
    rejects("[1,", JSK_TRUNCATED, 3, NULL);
    rejects("{\"a\":[1,{\"b\":", JSK_TRUNCATED, 13, NULL);
    rejects("", JSK_TRUNCATED, 0, NULL);
    /* depth: 8 containers pass with depth_left 8, the 9th is refused where it opens */
    CHECK(skips("[[[[[[[[1]]]]]]]]", 0));
    rejects("[[[[[[[[[1]]]]]]]]]", JSK_DEPTH, 8, NULL);
    /* Python's specials only with JSK_PY_SPECIALS */
    CHECK(!skips("NaN", 0));
    CHECK(!skips("[Infinity]", 0));
    CHECK(skips("NaN", JSK_PY_SPECIALS));
    CHECK(skips("[1,-Infinity,Infinity,NaN]", JSK_PY_SPECIALS));
    CHECK(!skips("Nan", JSK_PY_SPECIALS));

    /* The three users agree. An unknown field holding a bad value costs the
     * payload in the parser (with the skipper's byte), is not found by the
     * REST lookup, and costs the line in the JSONL reader (with its column). */
    char err[256];
    shj_event ev;
    const char *ok_tick = "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:00.000001\",\"close\":\"1000\","
                          "\"extra\":{\"a\":[1,2,{\"b\":\"x\"}]}}";
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, ok_tick, strlen(ok_tick), &ev, err, sizeof err), PSR_EVENT);
    const char *bad_tick = "{\"code\":\"2330\",\"date\":\"2026-11-25\",\"time\":\"09:00:00.000001\",\"close\":\"1000\","
                           "\"extra\":{\"a\":[1 2]}}";
    CHECK(psr_parse(PSR_TAG_TICK_STK, bad_tick, strlen(bad_tick), &ev, err, sizeof err) < 0);
    CHECK(strstr(err, "expected ',' or ']' at byte 91") != NULL);
    if (!strstr(err, "at byte 91")) fprintf(stderr, "parser said: %s\n", err);

    const char *val;
    size_t vn;
    const char *rest = "{\"extra\":{\"a\":[1,NaN]},\"code\":\"2330\"}";
    CHECK_EQ_I64(sj_json_find(rest, strlen(rest), "code", &val, &vn), 1); /* past a Python NaN */
    const char *rest_bad = "{\"extra\":{\"a\":[1 2]},\"code\":\"2330\"}";
    CHECK_EQ_I64(sj_json_find(rest_bad, strlen(rest_bad), "code", &val, &vn), -1);

    const char *line = "{\"kind\":\"tick\",\"code\":\"2330\",\"extras\":{\"a\":[1 2]}}";
    char why[256] = "";
    CHECK(chj_parse_line(line, strlen(line), &ev, why, sizeof why) != SHJ_OK);
    CHECK(strstr(why, "expected ',' or ']' at column 47") != NULL);
    if (!strstr(why, "column 47")) fprintf(stderr, "jsonl said: %s\n", why);
    T_DONE();
}
