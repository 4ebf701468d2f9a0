/* test_ch_writer.c — the live writer against a real clickhouse-server:
 *  1. normal recording: every event arrives, per-day digest equal, no fallback;
 *  2. server down at open: events go to the fallback, the writer comes up by
 *     itself when the server does and creates the (missing) database;
 *  3. wrong password, bad DSN, unresolvable host: clear errors at open, no
 *     password in any message;
 *  4. a schema error mid-run (a dropped column): the writer FAILS loudly,
 *     stops taking events, and every row it took is in ClickHouse or the
 *     fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ch_feed.h"
#include "ch_harness.h"
#include "ch_restore_run.h"
#include "clickhouse/ch_writer.h"
#include "core/shj_common.h"
#include "t.h"

static struct ev_loop *loop;

static int fatal_calls;
static char fatal_why[400];
static void on_fatal(void *ctx, chw_writer *w, const char *why) {
    SHJ_UNUSED(ctx);
    SHJ_UNUSED(w);
    fatal_calls++;
    shj_strlcpy(fatal_why, why, sizeof fatal_why);
}

static void dsn_for(const chx_server *s, const char *user_pass, const char *db, char *out, size_t cap) {
    snprintf(out, cap, "clickhouse://%s127.0.0.1:%d/%s", user_pass, s->http_port, db);
}

int main(void) {
    loop = ev_default_loop(0);
    chx_server s;
    char err[600], dsn[200], tmp[] = "/tmp/shj-chw.XXXXXX";
    if (chx_start(&s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
        T_DONE();
    }
    static ch_feeder feed;

    /* ---- 1. normal recording ------------------------------------------- */
    {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb1", tmp);
        dsn_for(&s, "", "rec", dsn, sizeof dsn);
        chw_opts o;
        chw_opts_default(&o);
        o.dsn = dsn;
        o.fallback_dir = fb;
        o.batch_rows = 5000;
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (!w) fprintf(stderr, "open: %s\n", err);
        if (w) {
            CHECK_STR(chw_server_version(w), "18.16.1");
            memset(&feed, 0, sizeof feed);
            ch_feed_start(&feed, loop, w, 0, 120000, 4000, 3);
            CHECK(ch_run_until(loop, ch_feed_settled, &feed, 40));
            ch_feed_stop(&feed, loop);
            chw_stats st;
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.rows_in, 120000);
            CHECK_EQ_I64(st.rows_fallback, 0);
            char status[200];
            chw_status(w, status, sizeof status);
            CHECK(strncmp(status, "UP ", 3) == 0);
            CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
            chg_digest ch = {0};
            CHECK_EQ_I64(chg_from_server(&s, "rec", CHS_TICKS, 1, &ch), 0);
            CHECK_EQ_I64(chg_from_server(&s, "rec", CHS_BIDASKS, 1, &ch), 0);
            CHECK(chg_equal(&feed.taken, &ch, "recorded"));
            CHECK_EQ_I64(chg_total(&ch), 120000);
            CHECK_EQ_I64(feed.taken.ndays, 3);
            /* no duplicates even without FINAL: each batch was inserted once */
            CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM rec.ticks") + chx_scalar(&s, "SELECT count() FROM rec.bidasks"), 120000);
            CHECK_EQ_I64(chrr_count_files(fb), 0);
        }
    }

    /* ---- 2. down at open, up later -------------------------------------- */
    {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb2", tmp);
        chx_kill9(&s);
        dsn_for(&s, "", "late", dsn, sizeof dsn);
        chw_opts o;
        chw_opts_default(&o);
        o.dsn = dsn;
        o.fallback_dir = fb;
        o.batch_rows = 2000;
        o.batch_ms = 50;
        o.probe_min_ms = 50;
        o.probe_max_ms = 200;
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (w) {
            chw_stats st;
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.state, CHW_DOWN);
            memset(&feed, 0, sizeof feed);
            ch_feed_start(&feed, loop, w, 0, 20000, 200, 1);
            CHECK(ch_run_until(loop, ch_feed_settled, &feed, 20));
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.rows_fallback, 20000);
            CHECK(st.probes >= 2);
            CHECK(chrr_count_files(fb) >= 1);
            CHECK_EQ_I64(chx_restart(&s, err, sizeof err), 0);
            CHECK(ch_run_until(loop, ch_writer_is_up, w, 15));
            ch_feed_start(&feed, loop, w, 20000, 10000, 2000, 1);
            CHECK(ch_run_until(loop, ch_feed_settled, &feed, 20));
            ch_feed_stop(&feed, loop);
            CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);
            /* the database did not exist: the writer created it on recovery */
            CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM late.ticks FINAL") +
                             chx_scalar(&s, "SELECT count() FROM late.bidasks FINAL"), 10000);
            chrr_result rr;
            CHECK_EQ_I64(chrr_run(fb, dsn, CHR_APPLY, NULL, 3000, &rr), 0);
            CHECK_EQ_I64(rr.rows, 20000);
            CHECK_EQ_I64(rr.rejected, 0);
            chg_digest ch = {0};
            chg_from_server(&s, "late", CHS_TICKS, 1, &ch);
            chg_from_server(&s, "late", CHS_BIDASKS, 1, &ch);
            CHECK(chg_equal(&feed.taken, &ch, "late"));
            CHECK_EQ_I64(chg_total(&ch), 30000);
        }
    }

    /* ---- 3. errors at open ---------------------------------------------- */
    {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb3", tmp);
        chw_opts o;
        chw_opts_default(&o);
        o.fallback_dir = fb;
        dsn_for(&s, "shj:hunter2wrong@", "db", dsn, sizeof dsn);
        o.dsn = dsn;
        err[0] = '\0';
        CHECK(chw_open(loop, &o, err, sizeof err) == NULL);
        fprintf(stderr, "wrong password -> %s\n", err);
        CHECK(strstr(err, "Wrong password") != NULL);
        CHECK(strstr(err, "hunter2wrong") == NULL);
        CHECK(strstr(err, "shj:***@") != NULL);
        /* the right password works */
        dsn_for(&s, "shj:s3cret@", "pw", dsn, sizeof dsn);
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (w) CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_OK);

        o.dsn = "clickhouse://u:hunter2@127.0.0.1:12x/db";
        CHECK(chw_open(loop, &o, err, sizeof err) == NULL);
        CHECK(strstr(err, "not a number") != NULL && strstr(err, "hunter2") == NULL);
        o.dsn = "clickhouse://no-such-host.invalid:8123/db";
        CHECK(chw_open(loop, &o, err, sizeof err) == NULL);
        CHECK(strstr(err, "cannot resolve host") != NULL);
        o.dsn = "clickhouse://127.0.0.1:8123/db";
        o.fallback_dir = NULL;
        CHECK(chw_open(loop, &o, err, sizeof err) == NULL);
        CHECK(strstr(err, "fallback_dir is required") != NULL);
        o.fallback_dir = "/proc/shj-no-such-dir";
        CHECK(chw_open(loop, &o, err, sizeof err) == NULL);
        CHECK(strstr(err, "/proc/shj-no-such-dir") != NULL);
    }

    /* ---- 4. schema error mid-run ---------------------------------------- */
    {
        char fb[300];
        snprintf(fb, sizeof fb, "%s/fb4", tmp);
        dsn_for(&s, "", "fatal", dsn, sizeof dsn);
        chw_opts o;
        chw_opts_default(&o);
        o.dsn = dsn;
        o.fallback_dir = fb;
        o.batch_rows = 1000;
        o.batch_ms = 20;
        chw_writer *w = chw_open(loop, &o, err, sizeof err);
        CHECK(w != NULL);
        if (w) {
            chw_set_fatal_cb(w, on_fatal, NULL);
            memset(&feed, 0, sizeof feed);
            ch_feed_start(&feed, loop, w, 0, 5000, 1000, 1);
            CHECK(ch_run_until(loop, ch_feed_settled, &feed, 20));
            CHECK_EQ_I64(chx_scalar(&s, "SELECT count() FROM fatal.ticks"), 4000);
            chx_body b = {0};
            CHECK_EQ_I64(chx_post(&s, "ALTER TABLE fatal.ticks DROP COLUMN chg_type", NULL, 0, &b), 200);
            free(b.p);
            /* 100k events at 500/ms: the failed insert answers long before the end */
            ch_feed_start(&feed, loop, w, 5000, 100000, 500, 1);
            CHECK(!ch_run_until(loop, ch_feed_settled, &feed, 3)); /* it stops taking events */
            ch_feed_stop(&feed, loop);
            chw_stats st;
            chw_get_stats(w, &st);
            CHECK_EQ_I64(st.state, CHW_FAILED);
            CHECK_EQ_I64(fatal_calls, 1);
            CHECK(strstr(fatal_why, "chg_type") != NULL);
            fprintf(stderr, "schema error -> %s\n", fatal_why);
            shj_event one;
            che_make(&one, 99999, 1);
            CHECK_EQ_I64(chw_push(w, &one, 1), 0);
            /* every row taken is in ClickHouse or in the fallback */
            CHECK_EQ_I64(st.rows_held, 0);
            CHECK_EQ_I64(st.rows_in, st.rows_inserted + st.rows_fallback);
            CHECK_EQ_I64(chg_total(&feed.taken), st.rows_in);
            CHECK(st.rows_fallback > 0);
            char status[300];
            chw_status(w, status, sizeof status);
            CHECK(strncmp(status, "FAILED", 6) == 0);
            CHECK_EQ_I64(chw_close(w, err, sizeof err), SHJ_ERR);
            CHECK(strstr(err, "failed") != NULL);
            chrr_result rr;
            CHECK_EQ_I64(chrr_run(fb, dsn, CHR_DRY_RUN, NULL, 1000, &rr), 0);
            CHECK_EQ_I64(rr.rows, st.rows_fallback);
            CHECK_EQ_I64(rr.rejected, 0);
        }
    }

    chx_stop(&s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
