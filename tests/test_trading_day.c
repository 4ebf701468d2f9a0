/* test_trading_day.c — acceptance of issue 13 part 1: one trading day
 * everywhere. Two simulated dates are recorded (Thursday 2026-12-03 and
 * Friday 2026-12-04) into the raw archive and a real ClickHouse
 * (tests/ch_harness.h); a TAIFEX night-session tick stamped Friday 23:30 is
 * archived the way source.c does it (parse, then the exchange time's
 * trading day). Then: the file names are the trading days (Friday's night
 * session in Monday 2026-12-07's file, no Saturday file), `replay.lua --date`
 * selects each file, `shijim days` lists them, and ClickHouse's trading_day
 * agrees with the file a row came from, the night tick's day being Friday
 * and its trading_day Monday. Last, `schema.lua --migrate`'s SQL adds the
 * column to an older table on the real server, with a DEFAULT for old rows.
 * (The simulator of this tree opens at 08:30 and covers minutes per 10^5
 * events, so its own night session is out of reach here; the hand-made
 * tick stands in for it.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "ch_harness.h"
#include "clickhouse/ch_restore.h"
#include "clickhouse/ch_schema.h"
#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "parse/parse.h"
#include "t.h"

static char build[1024], source[1024];

static int run(const char *fmt, const char *a, const char *b, const char *c) {
    char cmd[16384], line[8192];
    snprintf(line, sizeof line, fmt, a, b, c);
    snprintf(cmd, sizeof cmd, "cd %s && %s", source, line);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static long long count_lines(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[8192];
    long long n = 0;
    while (fgets(line, sizeof line, f))
        if (!needle || strstr(line, needle)) n++;
    fclose(f);
    return n;
}

static int exists(const char *dir, const char *day) {
    char p[2048];
    struct stat st;
    snprintf(p, sizeof p, "%s/sim/%s.shjraw", dir, day);
    return stat(p, &st) == 0;
}

int main(void) {
    const char *b = getenv("SHJ_BUILD_DIR"), *s = getenv("SHJ_SOURCE_DIR");
    CHECK(b && s);
    if (!b || !s) T_DONE();
    shj_strlcpy(build, b, sizeof build);
    shj_strlcpy(source, s, sizeof source);
    chx_server srv;
    char err[400];
    if (chx_start(&srv, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    char dir[] = "/tmp/test_trading_day_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char dsn[256];
    snprintf(dsn, sizeof dsn, "clickhouse://default@127.0.0.1:%d/td", srv.http_port);

    /* 1. record two simulated dates, into the archive and ClickHouse */
    const char *rec = "%s/shijim scripts/main.lua --dir %s --rate 0 --events 6000 --date %s "
                      "--fallback-dir %s/fb --clickhouse %s >>%s/rec.log 2>&1";
    char cmd[6144];
    snprintf(cmd, sizeof cmd, rec, build, dir, "2026-12-03", dir, dsn, dir);
    CHECK_EQ_I64(run("%s", cmd, "", ""), 0);
    snprintf(cmd, sizeof cmd, rec, build, dir, "2026-12-04", dir, dsn, dir);
    CHECK_EQ_I64(run("%s", cmd, "", ""), 0);

    /* 2. a TAIFEX night-session tick, Friday 23:30, archived like source.c does */
    const char night[] = "{\"code\":\"TXFL6\",\"date\":\"2026-12-04\",\"time\":\"23:30:00.000000\","
                         "\"open\":\"23000\",\"close\":\"23010\",\"high\":\"23020\",\"low\":\"22990\","
                         "\"avg_price\":\"23005\",\"amount\":\"23010\",\"amount_sum\":\"23010\","
                         "\"volume\":1,\"vol_sum\":1,\"tick_type\":1,\"diff_type\":2,"
                         "\"diff_price\":\"10\",\"diff_rate\":\"0.04\",\"simtrade\":false}";
    shj_event ev;
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_FOP, night, sizeof night - 1, &ev, err, sizeof err), PSR_EVENT);
    arc_opts o = {.dir = dir, .source = "sim", .fsync_ms = 0};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
        CHECK_EQ_I64(arc_append_day(w, PSR_TAG_TICK_FOP, night, sizeof night - 1, clk_now_ns(), 999999,
                                    ses_trading_day(ev.ts_exch_ns)),
                     SHJ_OK);
        CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    }

    /* 3. file names: the trading days; Friday night in Monday's file, no Saturday */
    CHECK(exists(dir, "2026-12-03"));
    CHECK(exists(dir, "2026-12-04"));
    CHECK(exists(dir, "2026-12-07"));
    CHECK(!exists(dir, "2026-12-05"));
    char out[512];
    snprintf(out, sizeof out, "%s/days.txt", dir);
    snprintf(cmd, sizeof cmd, "%s/shijim days %s > %s", build, dir, out);
    CHECK_EQ_I64(run("%s", cmd, "", ""), 0);
    CHECK_EQ_I64(count_lines(out, " ok "), 3);
    CHECK_EQ_I64(count_lines(out, "2026-12-07            1 2026-12-04 23:30:00.000000"), 1);

    /* 4. replay selection by --date, and ClickHouse's trading_day agrees */
    static const char *days[] = {"2026-12-03", "2026-12-04", "2026-12-07"};
    for (int i = 0; i < 3; i++) {
        snprintf(out, sizeof out, "%s/%s.jsonl", dir, days[i]);
        snprintf(cmd, sizeof cmd, "%s/shijim scripts/replay.lua --archive-dir %s --date %s --jsonl %s >/dev/null 2>&1",
                 build, dir, days[i], out);
        CHECK_EQ_I64(run("%s", cmd, "", ""), 0);
        long long ticks = count_lines(out, "{\"kind\":\"tick\"") + count_lines(out, "{\"kind\":\"quote\"");
        CHECK(ticks > 0);
        if (i < 2) {
            long long ch = chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE trading_day = '%s'", days[i]);
            CHECK_EQ_I64(ch, ticks);
            /* recorded rows: the simulated trading day opens with the TAIFEX night
             * session of the evening before, so a row's calendar day differs from its
             * trading day exactly when it is a TAIFEX night-session row (15:00-05:00
             * Taipei); every other row carries its file's date */
            CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE trading_day = '%s' AND day != '%s' "
                                          "AND NOT (exchange = 'TAIFEX' AND (toHour(dt) >= 15 OR toHour(dt) < 5))",
                                    days[i], days[i]), 0);
            CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE trading_day = '%s' AND day = '%s' "
                                          "AND exchange = 'TAIFEX' AND toHour(dt) >= 15",
                                    days[i], days[i]), 0);
            CHECK(chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE trading_day = '%s' AND day != '%s'",
                             days[i], days[i]) > 0); /* the night session is there */
        } else {
            CHECK_EQ_I64(ticks, 1);
        }
    }
    /* the Monday file replayed into ClickHouse: the night tick's day is Friday, trading_day Monday */
    snprintf(cmd, sizeof cmd, "%s/shijim scripts/replay.lua --archive-dir %s --date 2026-12-07 --clickhouse %s >/dev/null 2>&1",
             build, dir, dsn);
    CHECK_EQ_I64(run("%s", cmd, "", ""), 0);
    CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE code = 'TXFL6' AND trading_day = '2026-12-07' AND day = '2026-12-04'"), 1);
    CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM td.ticks WHERE trading_day = '2026-12-05'"), 0);
    /* 5. a date without data names the recorded days */
    snprintf(out, sizeof out, "%s/err.txt", dir);
    snprintf(cmd, sizeof cmd, "%s/shijim scripts/replay.lua --archive-dir %s --date 2026-12-05 2> %s",
             build, dir, out);
    CHECK(run("%s", cmd, "", "") != 0);
    CHECK_EQ_I64(count_lines(out, "days recorded: 2026-12-03, 2026-12-04, 2026-12-07"), 1);
    CHECK_EQ_I64(count_lines(out, "are in 2026-12-07"), 1);

    /* 6. a table made before trading_day: --migrate's ADD COLUMN gives old
     * rows the DEFAULT (15:00 roll, weekend -> Monday) on the real server */
    {
        char sql[8192];
        CHECK_EQ_I64(chx_post(&srv, "CREATE DATABASE old", NULL, 0, NULL), 200);
        chs_create_sql(CHS_TICKS, "old", NULL, sql, sizeof sql);
        CHECK_EQ_I64(chx_post(&srv, sql, NULL, 0, NULL), 200);
        chs_create_sql(CHS_BIDASKS, "old", NULL, sql, sizeof sql);
        CHECK_EQ_I64(chx_post(&srv, sql, NULL, 0, NULL), 200);
        CHECK_EQ_I64(chx_post(&srv, "ALTER TABLE old.ticks DROP COLUMN trading_day", NULL, 0, NULL), 200);
        /* Friday 2026-12-04 23:30 and Thursday 12-03 16:00 Taipei */
        snprintf(sql, sizeof sql,
                 "INSERT INTO old.ticks (code, ts, day, seq) VALUES ('A', %lld, '2026-12-04', 1), ('B', %lld, '2026-12-03', 2)",
                 (long long)clk_taipei_to_utc_ns(2026, 12, 4, 23, 30, 0, 0),
                 (long long)clk_taipei_to_utc_ns(2026, 12, 3, 16, 0, 0, 0));
        CHECK_EQ_I64(chx_post(&srv, sql, NULL, 0, NULL), 200);
        char odsn[256];
        snprintf(odsn, sizeof odsn, "clickhouse://default@127.0.0.1:%d/old", srv.http_port);
        chr_client *c = chr_client_new(odsn, 0, err, sizeof err);
        CHECK(c != NULL);
        if (c) {
            static char mig[8192];
            CHECK(chr_client_migrate_sql(c, mig, sizeof mig, err, sizeof err) > 0);
            CHECK(strstr(mig, "ALTER TABLE old.ticks ADD COLUMN trading_day Date DEFAULT") != NULL);
            CHECK(strstr(mig, "old.bidasks") == NULL);
            char *save = NULL;
            for (char *stmt = strtok_r(mig, ";\n", &save); stmt; stmt = strtok_r(NULL, ";\n", &save)) {
                int rc = chr_client_exec(c, stmt, NULL, 0, err, sizeof err);
                CHECK_EQ_I64(rc, SHJ_OK);
                if (rc != SHJ_OK) fprintf(stderr, "%s\n", err);
            }
            CHECK_EQ_I64(chr_client_migrate_sql(c, mig, sizeof mig, err, sizeof err), 0); /* nothing left */
            chr_client_free(c);
        }
        CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM old.ticks WHERE code = 'A' AND trading_day = '2026-12-07'"), 1);
        CHECK_EQ_I64(chx_scalar(&srv, "SELECT count() FROM old.ticks WHERE code = 'B' AND trading_day = '2026-12-04'"), 1);
    }

    chx_stop(&srv);
    if (t_failed == 0) chx_rm_rf(dir);
    else fprintf(stderr, "kept %s\n", dir);
    T_DONE();
}
