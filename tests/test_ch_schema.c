/* test_ch_schema.c — version detection and CREATE TABLE text for old and new
 * servers; the 18.16 text is executed on a real server, the newer text is
 * checked for the features it must (and must not) use. */
#include <stdlib.h>
#include <string.h>

#include "ch_harness.h"
#include "clickhouse/ch_schema.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "t.h"

static int contains(const char *s, const char *needle) { return strstr(s, needle) != NULL; }

int main(void) {
    chs_version v;
    CHECK_EQ_I64(chs_version_parse("18.16.1", &v), SHJ_OK);
    CHECK(v.major == 18 && v.minor == 16 && v.patch == 1);
    CHECK_EQ_I64(chs_version_parse("23.8.2.7\n", &v), SHJ_OK);
    CHECK(v.major == 23 && v.minor == 8 && v.patch == 2);
    CHECK_EQ_I64(chs_version_parse("garbage", &v), SHJ_ERR);
    CHECK_EQ_I64(chs_version_parse("", &v), SHJ_ERR);

    chs_features f_old, f_20_3, f_new;
    chs_version_parse("18.16.1", &v);
    chs_features_for(&v, &f_old);
    CHECK(!f_old.low_cardinality && !f_old.codecs && !f_old.datetime64_alias);
    chs_version_parse("20.3.19", &v);
    chs_features_for(&v, &f_20_3);
    CHECK(f_20_3.low_cardinality && f_20_3.codecs && !f_20_3.datetime64_alias);
    chs_version_parse("24.8.4.13", &v);
    chs_features_for(&v, &f_new);
    CHECK(f_new.low_cardinality && f_new.codecs && f_new.datetime64_alias);

    CHECK_EQ_I64(chs_table_for_kind(SHJ_KIND_TICK), CHS_TICKS);
    CHECK_EQ_I64(chs_table_for_kind(SHJ_KIND_QUOTE), CHS_TICKS);
    CHECK_EQ_I64(chs_table_for_kind(SHJ_KIND_BIDASK), CHS_BIDASKS);
    CHECK_EQ_I64(chs_table_for_kind(SHJ_KIND_STATUS), -1);
    CHECK_EQ_I64(chs_table_from_name("bidasks"), CHS_BIDASKS);
    CHECK_EQ_I64(chs_table_from_name("nope"), -1);

    char sql[8192];
    for (int t = 0; t < CHS_NTABLES; t++) {
        size_t n = chs_create_sql((chs_table)t, "db", &f_old, sql, sizeof sql);
        CHECK(n > 0 && n < sizeof sql);
        CHECK(contains(sql, "ReplacingMergeTree()"));
        CHECK(contains(sql, "ORDER BY (code, ts, source, seq)"));
        CHECK(contains(sql, "PARTITION BY toYYYYMM(day)"));
        CHECK(contains(sql, "ts Int64"));
        char dec[32];
        snprintf(dec, sizeof dec, "Decimal64(%d)", SHJ_PRICE_DECIMALS); /* the scale's one owner */
        CHECK(contains(sql, dec));
        CHECK(contains(sql, t == CHS_TICKS ? "    close Decimal64(6),\n" : "    bid_price Array(Decimal64(6)),\n"));
        CHECK(!contains(sql, "Decimal64(4)"));
        CHECK(!contains(sql, "CODEC") && !contains(sql, "LowCardinality") && !contains(sql, "DateTime64"));

        chs_create_sql((chs_table)t, "db", &f_new, sql, sizeof sql);
        CHECK(contains(sql, "code LowCardinality(String)"));
        CHECK(contains(sql, "ts Int64 CODEC(DoubleDelta, ZSTD(1))"));
        CHECK(contains(sql, "time DateTime64(9, 'Asia/Taipei') ALIAS fromUnixTimestamp64Nano(ts, 'Asia/Taipei')"));
        CHECK(contains(sql, "ORDER BY (code, ts, source, seq)"));

        chs_create_sql((chs_table)t, "db", &f_20_3, sql, sizeof sql);
        CHECK(contains(sql, "CODEC(") && !contains(sql, "DateTime64"));
        /* every column listed for INSERT is defined by the CREATE text */
        char cols[1024];
        shj_strlcpy(cols, chs_columns((chs_table)t), sizeof cols);
        for (char *tok = strtok(cols, ", "); tok; tok = strtok(NULL, ", ")) {
            char want[64];
            snprintf(want, sizeof want, "    %s ", tok);
            CHECK(contains(sql, want));
        }
    }
    /* a too-small buffer reports the size it would need */
    char tiny[16];
    size_t need = chs_create_sql(CHS_TICKS, "db", &f_old, tiny, sizeof tiny);
    CHECK(need > sizeof tiny && strlen(tiny) == sizeof tiny - 1);
    chs_insert_sql(CHS_BIDASKS, "db", "RowBinary", sql, sizeof sql);
    CHECK(strncmp(sql, "INSERT INTO db.bidasks (code, exchange, sec_type, ts,", 52) == 0);
    CHECK(contains(sql, ") FORMAT RowBinary"));

    /* the scale of existing tables: system.columns answers (TabSeparated) */
    {
        char why[600], mig[2048];
        const char *good = "ticks\tcode\tString\nticks\tclose\tDecimal(18, 6)\nticks\tvolume\tInt32\n"
                           "ticks\ttrading_day\tDate\nbidasks\ttrading_day\tDate\n"
                           "bidasks\tbid_price\tArray(Decimal(18, 6))\nbidasks\task_price\tArray(Decimal(18, 6))\n";
        CHECK_EQ_I64(chs_check_columns("db", good, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(chs_migrate_sql("db", good, mig, sizeof mig), 0);
        CHECK_STR(mig, "");
        CHECK_EQ_I64(chs_check_columns("db", "", why, sizeof why), SHJ_OK); /* no tables yet */
        /* an older Shijim's tables: 4 places */
        const char *old = "bidasks\tbid_price\tArray(Decimal(18, 4))\nbidasks\task_price\tArray(Decimal(18, 6))\n"
                          "ticks\ttrading_day\tDate\nbidasks\ttrading_day\tDate\n"
                          "ticks\tcode\tString\nticks\tclose\tDecimal(18, 4)\nticks\tamount\tDecimal(18, 4)";
        CHECK_EQ_I64(chs_check_columns("db", old, why, sizeof why), SHJ_ERR);
        CHECK(contains(why, "table db.ticks column close is Decimal(18, 4) but Shijim writes Decimal64(6)"));
        CHECK(contains(why, "100x too large"));
        CHECK(contains(why, "ALTER TABLE db.ticks MODIFY COLUMN close Decimal64(6)"));
        CHECK(contains(why, "all 3 such columns"));
        CHECK(contains(why, "schema.lua --dsn DSN --migrate"));
        size_t n = chs_migrate_sql("db", old, mig, sizeof mig);
        CHECK_EQ_I64(n, strlen(mig));
        CHECK_STR(mig, "ALTER TABLE db.ticks MODIFY COLUMN close Decimal64(6), MODIFY COLUMN amount Decimal64(6);\n"
                       "ALTER TABLE db.bidasks MODIFY COLUMN bid_price Array(Decimal64(6));\n");
        /* a scalar where an array belongs (or any other type) is refused too */
        CHECK_EQ_I64(chs_check_columns("db", "bidasks\ttrading_day\tDate\nbidasks\tbid_price\tDecimal(18, 6)\n", why, sizeof why), SHJ_ERR);
        CHECK_EQ_I64(chs_check_columns("db", "ticks\ttrading_day\tDate\nticks\tclose\tFloat64\n", why, sizeof why), SHJ_ERR);
        CHECK(contains(why, "column close is Float64"));
        /* a table made before the trading_day column: refused, migrated with ADD COLUMN */
        const char *no_td = "ticks\tcode\tString\nticks\tclose\tDecimal(18, 6)\n"
                            "bidasks\ttrading_day\tDate\n";
        CHECK_EQ_I64(chs_check_columns("db", no_td, why, sizeof why), SHJ_ERR);
        CHECK(contains(why, "table db.ticks has no column trading_day"));
        CHECK(contains(why, "schema.lua --dsn DSN --migrate"));
        chs_migrate_sql("db", no_td, mig, sizeof mig);
        CHECK(strncmp(mig, "ALTER TABLE db.ticks ADD COLUMN trading_day Date DEFAULT ", 56) == 0);
        CHECK(contains(mig, "AFTER day;\n"));
        CHECK(!contains(mig, "bidasks"));
        /* a too-small buffer reports the size it would need */
        char tiny[8];
        CHECK(chs_migrate_sql("db", old, tiny, sizeof tiny) > sizeof tiny);
    }

    /* the old-server text runs on the real 18.16 server, twice (IF NOT EXISTS) */
    chx_server s;
    char err[400];
    int up = chx_start(&s, err, sizeof err);
    CHECK_EQ_I64(up, 0);
    if (up != 0) {
        fprintf(stderr, "%s\n", err);
        T_DONE();
    }
    chx_body b = {0};
    chx_post(&s, "SELECT version()", NULL, 0, &b);
    CHECK_EQ_I64(chs_version_parse(b.p, &v), SHJ_OK);
    chs_features f_srv;
    chs_features_for(&v, &f_srv);
    CHECK(!f_srv.codecs); /* the Debian server is the old one */
    CHECK_EQ_I64(chx_post(&s, "CREATE DATABASE shj", NULL, 0, &b), 200);
    for (int round = 0; round < 2; round++) {
        for (int t = 0; t < CHS_NTABLES; t++) {
            chs_create_sql((chs_table)t, "shj", &f_srv, sql, sizeof sql);
            long code = chx_post(&s, sql, NULL, 0, &b);
            CHECK_EQ_I64(code, 200);
            if (code != 200) fprintf(stderr, "%s\n-> %s\n", sql, b.p);
        }
    }
    /* and the newer text is rejected by 18.16 exactly where expected */
    chs_create_sql(CHS_TICKS, "shj", &f_new, sql, sizeof sql);
    char *p = strstr(sql, "IF NOT EXISTS shj.ticks");
    if (p) memcpy(p + 14, "shj.tick2", 9);
    CHECK(chx_post(&s, sql, NULL, 0, &b) != 200);
    CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM system.tables WHERE database = 'shj'"), 2);
    /* the tables we create pass our own check, as the server reports them */
    char q[512], why[600];
    chs_columns_query("shj", q, sizeof q);
    CHECK_EQ_I64(chx_post(&s, q, NULL, 0, &b), 200);
    CHECK(contains(b.p, "ticks\tclose\tDecimal(18, 6)\n"));
    CHECK(contains(b.p, "bidasks\task_price\tArray(Decimal(18, 6))\n"));
    CHECK_EQ_I64(chs_check_columns("shj", b.p, why, sizeof why), SHJ_OK);
    free(b.p);
    chx_stop(&s);
    T_DONE();
}
