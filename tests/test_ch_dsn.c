/* test_ch_dsn.c — DSN parsing, port mapping, redaction (no server needed). */
#include <string.h>

#include "clickhouse/ch_dsn.h"
#include "core/redact.h"
#include "core/shj_common.h"
#include "t.h"

static void ok_case(const char *text, const char *host, int port, const char *db, const char *user,
                    const char *pass, int secure, const char *base) {
    chd_dsn d;
    char err[300] = "";
    int rc = chd_parse(text, &d, err, sizeof err);
    CHECK_EQ_I64(rc, SHJ_OK);
    if (rc != SHJ_OK) {
        fprintf(stderr, "  %s: %s\n", text, err);
        return;
    }
    CHECK_STR(d.host, host);
    CHECK_EQ_I64(d.port, port);
    CHECK_STR(d.database, db);
    CHECK_STR(d.user, user);
    CHECK_STR(d.password, pass);
    CHECK_EQ_I64(d.secure, secure);
    CHECK_STR(d.base_url, base);
    /* no form of the parsed DSN meant for humans carries the password */
    if (pass[0]) {
        CHECK(strstr(d.redacted, pass) == NULL);
        CHECK(strstr(d.base_url, pass) == NULL);
    }
}

static void bad_case(const char *text, const char *needle, const char *secret) {
    chd_dsn d;
    char err[300] = "";
    CHECK_EQ_I64(chd_parse(text, &d, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, needle) != NULL);
    if (!strstr(err, needle)) fprintf(stderr, "  [%s] -> [%s], wanted [%s]\n", text, err, needle);
    if (secret) CHECK(strstr(err, secret) == NULL);
}

int main(void) {
    ok_case("clickhouse://u:p%40ss@db1:8123/market", "db1", 8123, "market", "u", "p@ss", 0,
            "http://db1:8123/");
    ok_case("clickhouse://localhost", "localhost", 8123, "default", "default", "", 0,
            "http://localhost:8123/");
    ok_case("http://127.0.0.1:18123/", "127.0.0.1", 18123, "default", "default", "", 0,
            "http://127.0.0.1:18123/");
    ok_case("https://me@ch.example.com/x_1", "ch.example.com", 8443, "x_1", "me", "", 1,
            "https://ch.example.com:8443/");
    ok_case("http://h:1234/?database=db2&user=bob&password=hunter2", "h", 1234, "db2", "bob",
            "hunter2", 0, "http://h:1234/");
    ok_case("clickhouse://[::1]:8123/d", "::1", 8123, "d", "default", "", 0, "http://[::1]:8123/");
    ok_case("clickhouse://a:b@h/d?secure=1", "h", 8443, "d", "a", "b", 1, "https://h:8443/");

    /* the native port is mapped to HTTP with a warning */
    chd_dsn d;
    char err[300];
    CHECK_EQ_I64(chd_parse("clickhouse://u:pw@h:9000/db", &d, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(d.port, 8123);
    CHECK_EQ_I64(d.native_port, 9000);
    CHECK(strstr(d.warning, "9000") != NULL && strstr(d.warning, "8123") != NULL);
    CHECK_STR(d.redacted, "clickhouse://u:***@h:8123/db");
    CHECK_EQ_I64(chd_parse("clickhouse://h:9440/db", &d, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(d.port, 8443);
    CHECK_EQ_I64(d.secure, 1);
    CHECK_EQ_I64(chd_parse("clickhouse://h:8123/db", &d, err, sizeof err), SHJ_OK);
    CHECK_STR(d.warning, "");

    bad_case("", "empty", NULL);
    bad_case("mysql://h/db", "scheme", NULL);
    bad_case("clickhouse://u:topsecret@h:80a/db", "not a number", "topsecret");
    bad_case("clickhouse://u:topsecret@h:99999/db", "out of range", "topsecret");
    bad_case("clickhouse://u:topsecret@/db", "no host", "topsecret");
    bad_case("clickhouse://u:topsecret@h/my-db", "must match", "topsecret");
    bad_case("clickhouse://u:topsecret@h/db?colour=red", "unknown parameter 'colour'", "topsecret");
    bad_case("clickhouse://u:topsecret@h/db?password=x%zz", "password", "topsecret");
    bad_case("http://u:topsecret@h/db?secure=1", "contradicts", "topsecret");
    bad_case("clickhouse://u:p%4@h/db", "password", NULL);
    bad_case("clickhouse://[::1/db", "IPv6", NULL);
    bad_case("clickhouse://h/a/b", "path", NULL);

    /* chd_redact works on anything, even text chd_parse rejects */
    char out[200];
    shj_redact_url("clickhouse://bob:hunter2@h:1/db", out, sizeof out);
    CHECK_STR(out, "clickhouse://bob:***@h:1/db");
    shj_redact_url("http://h/?user=a&password=hunter2&database=x", out, sizeof out);
    CHECK_STR(out, "http://h/?user=a&password=***&database=x");
    shj_redact_url("http://h/db", out, sizeof out);
    CHECK_STR(out, "http://h/db");
    shj_redact_url("clickhouse://bob:hun@ter2@h/db", out, sizeof out);
    CHECK(strstr(out, "ter2") == NULL);
    /* Found by tests/fuzz/fuzz_dsn.c: a misspelt parameter's value was echoed
     * (issue 11, fault 6), and a password with an unescaped '/' before its '@'
     * was not seen as userinfo. */
    shj_redact_url("clickhouse://h/db?database=y&pasword=zzz", out, sizeof out);
    CHECK_STR(out, "clickhouse://h/db?database=y&pasword=***");
    shj_redact_url("http://bob:pa/ss@h/db", out, sizeof out);
    CHECK(strstr(out, "ss@") == NULL && strstr(out, "pa/") == NULL);
    {
        chd_dsn d;
        char err[300];
        CHECK(chd_parse("clickhouse://h/db?pasword=Zq9SECRET", &d, err, sizeof err) == SHJ_ERR);
        CHECK(strstr(err, "pasword") != NULL);       /* the error names the parameter */
        CHECK(strstr(err, "Zq9SECRET") == NULL);     /* but never its value */
    }
    T_DONE();
}
