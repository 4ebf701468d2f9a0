/* bench_ch.c — ClickHouse numbers of issue 4, all in one run on one server:
 *
 *  1. clickhouse-client inserting the same rows from a file (RowBinary and
 *     TabSeparated): the baseline the writer is held to (target >= 80%);
 *  2. our HTTP insert, synchronous, RowBinary vs TabSeparated (encode +
 *     insert): why the writer speaks RowBinary;
 *  3. the live writer (libev + curl multi) fed as fast as possible, with the
 *     default batching, bigger batches, and gzip;
 *  4. restore: fallback JSONL -> ClickHouse, through the C API and through
 *     `shijim restore.lua`;
 *  5. the writer's memory while the server is stalled (SIGSTOP).
 *
 * Usage: bench_ch [rows=1000000]   (needs clickhouse-server/-client on PATH)
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/ch_events.h"
#include "clickhouse/ch_fallback.h"
#include "../tests/ch_feed.h"
#include "../tests/ch_harness.h"
#include "clickhouse/ch_http.h"
#include "../tests/ch_restore_run.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "clickhouse/ch_writer.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/shj_common.h"

static chx_server srv;
static shj_event *evs;
static uint64_t N;
static struct ev_loop *loop;

static double now_s(void) { return (double)clk_mono_ns() / 1e9; }

static long rss_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0) v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

/* ---- TabSeparated encoding (for the comparison only) ---------------------- */

static void tsv_dec(chb_buf *b, int64_t v) {
    char tmp[24];
    chb_append(b, tmp, dec_format(v, tmp));
}

static void tsv_int(chb_buf *b, long long v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    chb_append(b, tmp, (size_t)n);
}

static void tsv_sep(chb_buf *b, char c) { chb_append(b, &c, 1); }

static void tsv_encode(chb_buf *b, const shj_event *ev) {
    static const char *ex[] = {"UNKNOWN", "TSE", "OTC", "OES", "TAIFEX"};
    static const char *st[] = {"UNKNOWN", "STK", "FUT", "OPT", "IND"};
    chb_append(b, ev->code, strnlen(ev->code, sizeof ev->code));
    tsv_sep(b, '\t');
    chb_append(b, ex[ev->exchange], strlen(ex[ev->exchange]));
    tsv_sep(b, '\t');
    chb_append(b, st[ev->sec_type], strlen(st[ev->sec_type]));
    tsv_sep(b, '\t');
    int tick = ev->kind != SHJ_KIND_BIDASK;
    if (tick) {
        chb_append(b, ev->kind == SHJ_KIND_QUOTE ? "quote\t" : "tick\t", ev->kind == SHJ_KIND_QUOTE ? 6 : 5);
    }
    tsv_int(b, ev->ts_exch_ns);
    tsv_sep(b, '\t');
    tsv_int(b, ev->ts_recv_ns);
    tsv_sep(b, '\t');
    tsv_int(b, ev->ts_exch_ns / 1000000000LL); /* DateTime accepts unix seconds */
    tsv_sep(b, '\t');
    char date[11];
    chf_date(ev->ts_exch_ns, date);
    chb_append(b, date, 10);
    tsv_sep(b, '\t');
    tsv_int(b, ev->source_id);
    tsv_sep(b, '\t');
    tsv_int(b, (long long)ev->seq);
    tsv_sep(b, '\t');
    tsv_int(b, ev->flags);
    if (tick) {
        const int64_t d[] = {ev->open, ev->high, ev->low, ev->close, ev->avg_price, ev->diff_price,
                             ev->diff_rate, ev->amount, ev->amount_sum, ev->underlying_price};
        for (size_t i = 0; i < 10; i++) tsv_sep(b, '\t'), tsv_dec(b, d[i]);
        const long long n[] = {ev->volume, ev->vol_sum, ev->bid_side_vol_sum, ev->ask_side_vol_sum, ev->tick_type, ev->chg_type};
        for (size_t i = 0; i < 6; i++) tsv_sep(b, '\t'), tsv_int(b, n[i]);
    } else {
        const int64_t *pa[] = {ev->bid_price, ev->ask_price};
        for (int a = 0; a < 2; a++) {
            tsv_sep(b, '\t');
            tsv_sep(b, '[');
            for (int l = 0; l < 5; l++) {
                if (l) tsv_sep(b, ',');
                tsv_dec(b, pa[a][l]);
            }
            tsv_sep(b, ']');
        }
        const int32_t *va[] = {ev->bid_volume, ev->ask_volume, ev->diff_bid_vol, ev->diff_ask_vol};
        for (int a = 0; a < 4; a++) {
            tsv_sep(b, '\t');
            tsv_sep(b, '[');
            for (int l = 0; l < 5; l++) {
                if (l) tsv_sep(b, ',');
                tsv_int(b, va[a][l]);
            }
            tsv_sep(b, ']');
        }
    }
    tsv_sep(b, '\n');
}

/* ---- helpers ------------------------------------------------------------ */

static void create_db(const char *db) {
    char sql[8192];
    snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", db);
    chx_post(&srv, sql, NULL, 0, NULL);
    for (int t = 0; t < CHS_NTABLES; t++) {
        chs_create_sql((chs_table)t, db, NULL, sql, sizeof sql);
        chx_post(&srv, sql, NULL, 0, NULL);
    }
}

static long long rows_in(const char *db) {
    return chx_scalar(&srv, "SELECT count() FROM %s.ticks", db) + chx_scalar(&srv, "SELECT count() FROM %s.bidasks", db);
}

static int write_file(const char *path, const chb_buf *b) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fwrite(b->data, 1, b->len, f);
    return fclose(f);
}

/* clickhouse-client, native protocol, one process per table, from files */
static double bench_client(const char *dir, const char *fmt, const char *ext, const char *db) {
    create_db(db);
    double t0 = now_s();
    for (int t = 0; t < CHS_NTABLES; t++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "clickhouse-client --host 127.0.0.1 --port %d --query 'INSERT INTO %s.%s (%s) FORMAT %s' < %s/%s.%s",
                 srv.tcp_port, db, chs_table_name((chs_table)t), chs_columns((chs_table)t), fmt, dir,
                 chs_table_name((chs_table)t), ext);
        if (system(cmd) != 0) fprintf(stderr, "clickhouse-client failed: %s\n", cmd);
    }
    double dt = now_s() - t0;
    if (rows_in(db) != (long long)N) fprintf(stderr, "%s: %lld rows, expected %llu\n", db, rows_in(db), (unsigned long long)N);
    return (double)N / dt;
}

/* our blocking HTTP client, batches of 10000, encoding included */
static double bench_http(int tsv, const char *db) {
    create_db(db);
    chd_dsn dsn;
    char dsn_text[200], err[300], sql[2048];
    snprintf(dsn_text, sizeof dsn_text, "http://127.0.0.1:%d/%s", srv.http_port, db);
    chd_parse(dsn_text, &dsn, err, sizeof err);
    chh_opts ho = {2000, 60000};
    chh_sync *s = chh_sync_new(&dsn, &ho, err, sizeof err);
    chb_buf b[CHS_NTABLES];
    size_t rows[CHS_NTABLES] = {0, 0};
    for (int t = 0; t < CHS_NTABLES; t++) chb_init(&b[t]);
    double t0 = now_s();
    for (uint64_t i = 0; i <= N; i++) {
        for (int t = 0; t < CHS_NTABLES; t++) {
            if (rows[t] && (rows[t] == 10000 || i == N)) {
                chs_insert_sql((chs_table)t, db, tsv ? "TabSeparated" : "RowBinary", sql, sizeof sql);
                chh_result r;
                if (chh_sync_exec(s, sql, b[t].data, b[t].len, 0, &r) != CHH_OK) fprintf(stderr, "insert: %s\n", r.body);
                b[t].len = 0;
                rows[t] = 0;
            }
        }
        if (i == N) break;
        int t = chs_table_for_kind(evs[i].kind);
        if (tsv) tsv_encode(&b[t], &evs[i]);
        else chb_encode(&b[t], &evs[i]);
        rows[t]++;
    }
    double dt = now_s() - t0;
    for (int t = 0; t < CHS_NTABLES; t++) chb_free(&b[t]);
    chh_sync_free(s);
    if (rows_in(db) != (long long)N) fprintf(stderr, "%s: %lld rows\n", db, rows_in(db));
    return (double)N / dt;
}

/* ---- the writer --------------------------------------------------------- */

typedef struct wctx {
    chw_writer *w;
    uint64_t next;
} wctx;

static int all_inserted(void *ctx) {
    wctx *c = ctx;
    chw_stats st;
    chw_get_stats(c->w, &st);
    if (c->next < N) {
        size_t n = N - c->next < 50000 ? (size_t)(N - c->next) : 50000;
        c->next += chw_push(c->w, evs + c->next, n);
    }
    return st.rows_inserted + st.rows_fallback == N;
}

static double bench_writer(const char *db, int batch_rows, int gzip, int inflight, uint64_t *fallback) {
    char dsn[200], fb[400], err[400];
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/%s", srv.http_port, db);
    snprintf(fb, sizeof fb, "%s/fb-%s", srv.dir, db);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    o.batch_rows = batch_rows;
    o.gzip = gzip;
    o.max_inflight = inflight;
    o.max_mem_bytes = 1LL << 30; /* measure throughput, not the spill policy */
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    wctx c = {w, 0};
    double t0 = now_s();
    ch_run_until(loop, all_inserted, &c, 600);
    chw_flush(w);
    double dt = now_s() - t0;
    chw_stats st;
    chw_get_stats(w, &st);
    *fallback = st.rows_fallback;
    chw_close(w, err, sizeof err);
    if (rows_in(db) != (long long)N) fprintf(stderr, "%s: %lld rows\n", db, rows_in(db));
    return (double)N / dt;
}

/* the tail of a batch_rows run waits for batch_ms: push N rounded to batches */
static int pushed_all(void *ctx) {
    wctx *c = ctx;
    if (c->next < N) {
        size_t n = N - c->next < 50000 ? (size_t)(N - c->next) : 50000;
        c->next += chw_push(c->w, evs + c->next, n);
    }
    return c->next == N;
}

int main(int argc, char **argv) {
    N = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    shj_log_set_level(SHJ_LOG_ERROR);
    loop = ev_default_loop(0);
    char err[400];
    if (chx_start(&srv, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    evs = malloc(N * sizeof *evs);
    for (uint64_t i = 0; i < N; i++) che_make(&evs[i], i, 1);

    /* files for clickhouse-client */
    chb_buf rb[CHS_NTABLES], tb[CHS_NTABLES];
    for (int t = 0; t < CHS_NTABLES; t++) chb_init(&rb[t]), chb_init(&tb[t]);
    double e0 = now_s();
    for (uint64_t i = 0; i < N; i++) chb_encode(&rb[chs_table_for_kind(evs[i].kind)], &evs[i]);
    double enc_rb = (double)N / (now_s() - e0);
    e0 = now_s();
    for (uint64_t i = 0; i < N; i++) tsv_encode(&tb[chs_table_for_kind(evs[i].kind)], &evs[i]);
    double enc_tsv = (double)N / (now_s() - e0);
    size_t rb_bytes = 0, tsv_bytes = 0;
    for (int t = 0; t < CHS_NTABLES; t++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s.rowbinary", srv.dir, chs_table_name((chs_table)t));
        write_file(p, &rb[t]);
        snprintf(p, sizeof p, "%s/%s.tsv", srv.dir, chs_table_name((chs_table)t));
        write_file(p, &tb[t]);
        rb_bytes += rb[t].len;
        tsv_bytes += tb[t].len;
        chb_free(&rb[t]);
        chb_free(&tb[t]);
    }

    printf("bench_ch: %llu rows (80%% ticks/quotes, 20%% 5-level books), clickhouse-server 18.16 on 127.0.0.1\n\n",
           (unsigned long long)N);
    printf("encoding only        RowBinary %6.2f M rows/s (%.0f B/row)   TSV %6.2f M rows/s (%.0f B/row)\n\n",
           enc_rb / 1e6, (double)rb_bytes / (double)N, enc_tsv / 1e6, (double)tsv_bytes / (double)N);

    double cc_rb = bench_client(srv.dir, "RowBinary", "rowbinary", "cc_rb");
    double cc_tsv = bench_client(srv.dir, "TabSeparated", "tsv", "cc_tsv");
    double http_rb = bench_http(0, "http_rb");
    double http_tsv = bench_http(1, "http_tsv");
    uint64_t fb1, fb2, fb3, fb4, fb5, fb6;
    double w_10k = bench_writer("w_10k", 10000, 0, 2, &fb5);
    double w_10k4 = bench_writer("w_10k4", 10000, 0, 4, &fb6);
    double w_def = bench_writer("w_default", 0, 0, 0, &fb1);
    double w_big = bench_writer("w_big", 50000, 0, 2, &fb2);
    double w_gz = bench_writer("w_gzip", 50000, 1, 2, &fb3);
    double w_4 = bench_writer("w_inflight4", 50000, 0, 4, &fb4);

    printf("%-58s %12s %8s\n", "insert path (same rows, same server, same run)", "rows/s", "vs cc");
    printf("%-58s %12.0f %7.0f%%\n", "clickhouse-client < file, FORMAT RowBinary (native)", cc_rb, 100.0);
    printf("%-58s %12.0f %7.0f%%\n", "clickhouse-client < file, FORMAT TabSeparated (native)", cc_tsv, 100.0 * cc_tsv / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "HTTP sync, encode+insert RowBinary, 10k-row batches", http_rb, 100.0 * http_rb / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "HTTP sync, encode+insert TabSeparated, 10k-row batches", http_tsv, 100.0 * http_tsv / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: 10k-row batches, 2 in flight", w_10k, 100.0 * w_10k / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: 10k-row batches, 4 in flight", w_10k4, 100.0 * w_10k4 / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: defaults (chw_opts_default)", w_def, 100.0 * w_def / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: 50k-row batches, 2 in flight", w_big, 100.0 * w_big / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: 50k-row batches, gzip", w_gz, 100.0 * w_gz / cc_rb);
    printf("%-58s %12.0f %7.0f%%\n", "writer: 50k-row batches, 4 in flight", w_4, 100.0 * w_4 / cc_rb);
    if (fb1 + fb2 + fb3 + fb4 + fb5 + fb6) printf("  (rows that went to the fallback during these runs: %llu)\n", (unsigned long long)(fb1 + fb2 + fb3 + fb4 + fb5 + fb6));

    /* restore */
    char fbdir[300], dsn[200], cmd[1200];
    snprintf(fbdir, sizeof fbdir, "%s/restore-fb", srv.dir);
    chf_dir *fd = chf_open(fbdir, err, sizeof err);
    double j0 = now_s();
    for (uint64_t i = 0; i < N; i += 10000) chf_append_events(fd, evs + i, N - i < 10000 ? (size_t)(N - i) : 10000, err, sizeof err);
    double jsonl_rate = (double)N / (now_s() - j0);
    chf_close(fd);
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/restore_c", srv.http_port);
    chrr_result rr;
    double r0 = now_s();
    chrr_run(fbdir, dsn, CHR_APPLY, NULL, 10000, &rr);
    double restore_c = (double)rr.inserted / (now_s() - r0);
    const char *bdir = getenv("SHJ_BUILD_DIR");
    snprintf(cmd, sizeof cmd, "%s/shijim restore.lua --fallback-dir %s --apply --dsn clickhouse://127.0.0.1:%d/restore_cli --progress never >/dev/null 2>&1",
             bdir ? bdir : "build", fbdir, srv.http_port);
    r0 = now_s();
    int rc = system(cmd);
    double restore_cli = (double)N / (now_s() - r0);
    printf("\nfallback JSONL append+fsync (spill)                        %12.0f rows/s\n", jsonl_rate);
    printf("restore, C API (parse + validate + RowBinary insert)       %12.0f rows/s\n", restore_c);
    printf("restore, `shijim restore.lua --apply` (whole command)      %12.0f rows/s%s\n", restore_cli, rc ? "  (FAILED)" : "");

    /* memory under a stalled server */
    char fb[300];
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/stall", srv.http_port);
    snprintf(fb, sizeof fb, "%s/fb-stall", srv.dir);
    chw_opts o;
    chw_opts_default(&o);
    o.dsn = dsn;
    o.fallback_dir = fb;
    chw_writer *w = chw_open(loop, &o, err, sizeof err);
    long rss0 = rss_kb("VmRSS:");
    chx_pause(&srv);
    wctx c = {w, 0};
    double s0 = now_s();
    ch_run_until(loop, pushed_all, &c, 600);
    double push_rate = (double)N / (now_s() - s0);
    long rss1 = rss_kb("VmRSS:");
    chw_stats st;
    chw_get_stats(w, &st);
    printf("\nstalled server (SIGSTOP), defaults (max_mem 64 MiB, 2 in flight), %llu rows pushed at %.0f rows/s:\n",
           (unsigned long long)N, push_rate);
    printf("  batches held at peak %.1f MiB; RSS %.1f MiB before, %.1f MiB after (+%.1f MiB); %llu rows spilled to the fallback;\n"
           "  the writer refused events %llu times (only when the fallback disk is max_mem behind)\n",
           (double)st.mem_peak / 1048576.0, rss0 / 1024.0, rss1 / 1024.0, (rss1 - rss0) / 1024.0,
           (unsigned long long)st.rows_fallback, (unsigned long long)st.refusals);
    chx_resume(&srv);
    o.close_timeout_ms = 30000;
    chw_close(w, err, sizeof err);
    chx_stop(&srv);
    free(evs);
    return 0;
}
