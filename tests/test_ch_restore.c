/* test_ch_restore.c — the restore reader, without a server:
 *  - chj_parse_line: evj_format output round-trips exactly for every stored
 *    kind (also fed with the line cut at every length: never accepted, never
 *    a crash); each kind of damage is rejected with the field named;
 *  - chr_*: listing, dry-run counts and time range, malformed and truncated
 *    lines reported with their line numbers and written (apply mode) to the
 *    .rejected.jsonl beside the file, nothing written in dry-run, archiving
 *    never overwrites, a missing directory is a clear error;
 *  - the Python shijim's lines (issue 11 fault 9): mapped field by field,
 *    prices from the number text rounded to 6 places ties away from zero,
 *    ts_ns to the microsecond minus 8 h, seq = line number; its books/ dir
 *    listed, any other sub-directory named by chr_list_unknown. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ch_events.h"
#include "clickhouse/ch_fallback.h"
#include "clickhouse/ch_jsonl.h"
#include "clickhouse/ch_restore.h"
#include "clickhouse/ch_rowbinary.h"
#include "core/event_json.h"
#include "core/shj_common.h"
#include "t.h"

static int same_stored(const shj_event *a, const shj_event *b) {
    shj_event x = *a, y = *b;
    x.inst_id = y.inst_id = 0;
    x.payload_tag = y.payload_tag = 0;
    return memcmp(&x, &y, sizeof x) == 0;
}

static int rejects(const char *line, const char *needle) {
    shj_event ev;
    char why[300] = "";
    int rc = chj_parse_line(line, strlen(line), &ev, why, sizeof why);
    if (rc == SHJ_OK || !strstr(why, needle)) {
        fprintf(stderr, "  line %.60s... -> rc %d why [%s], wanted [%s]\n", line, rc, why, needle);
        return 0;
    }
    return 1;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void) {
    char line[EVJ_MAX], why[300];
    shj_event ev, back;

    /* ---- exact round trip, every kind ---------------------------------- */
    int bad = 0;
    for (uint64_t i = 0; i < 2000; i++) {
        che_make(&ev, i, 3);
        size_t n = evj_format(&ev, line, sizeof line);
        if (chj_parse_line(line, n, &back, why, sizeof why) != SHJ_OK || !same_stored(&ev, &back)) {
            if (!bad) fprintf(stderr, "round trip %llu: %s\n%s\n", (unsigned long long)i, why, line);
            bad++;
        }
    }
    CHECK_EQ_I64(bad, 0);
    /* extremes */
    che_make(&ev, 3, 1);
    ev.close = INT64_MIN;
    ev.open = INT64_MAX;
    ev.seq = UINT64_MAX;
    ev.ts_exch_ns = INT64_MIN;
    ev.flags = UINT32_MAX;
    ev.source_id = UINT16_MAX;
    ev.volume = INT32_MIN;
    size_t n = evj_format(&ev, line, sizeof line);
    CHECK_EQ_I64(chj_parse_line(line, n, &back, why, sizeof why), SHJ_OK);
    CHECK(same_stored(&ev, &back));
    /* every prefix of a line is refused (a torn write), byte by byte */
    int accepted = 0;
    for (size_t cut = 0; cut < n; cut++) accepted += chj_parse_line(line, cut, &back, why, sizeof why) == SHJ_OK;
    CHECK_EQ_I64(accepted, 0);
    che_make(&ev, 4, 1); /* a bid/ask */
    n = evj_format(&ev, line, sizeof line);
    accepted = 0;
    for (size_t cut = 0; cut < n; cut++) accepted += chj_parse_line(line, cut, &back, why, sizeof why) == SHJ_OK;
    CHECK_EQ_I64(accepted, 0);
    /* quoted numbers (ClickHouse JSONEachRow style) are read exactly too */
    che_make(&ev, 1, 1);
    n = evj_format(&ev, line, sizeof line);
    char quoted[EVJ_MAX];
    {
        char *p = strstr(line, "\"close\":");
        size_t head = (size_t)(p - line) + 8;
        char *end = strchr(p + 8, ',');
        snprintf(quoted, sizeof quoted, "%.*s\"%.*s\"%s", (int)head, line, (int)(end - p - 8), p + 8, end);
        CHECK_EQ_I64(chj_parse_line(quoted, strlen(quoted), &back, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(back.close, ev.close);
    }

    /* ---- damage, named -------------------------------------------------- */
    const char *T = "{\"kind\":\"tick\",\"code\":\"2330\",\"exchange\":\"TSE\",\"sec_type\":\"STK\",\"ts\":1795568400000000000,"
                    "\"recv_ts\":1795568400001000000,\"time\":\"x\",\"seq\":7,\"source_id\":1,\"flags\":32,\"open\":580,"
                    "\"high\":590,\"low\":575,\"close\":%s,\"avg_price\":585.1234,\"diff_price\":5.5,\"diff_rate\":0.95,"
                    "\"amount\":585500,\"amount_sum\":1,\"underlying_price\":0,\"volume\":%s,\"vol_sum\":10,"
                    "\"bid_side_vol_sum\":1,\"ask_side_vol_sum\":2,\"tick_type\":1,\"chg_type\":2}";
    char l[2048];
    snprintf(l, sizeof l, T, "585.5", "1");
    CHECK_EQ_I64(chj_parse_line(l, strlen(l), &back, why, sizeof why), SHJ_OK);
    /* This line is what a Shijim at x 10^4 wrote (4-decimal text): decimals
     * in the fallback are text, so it restores exactly at x 10^6. */
    CHECK_EQ_I64(back.close, 5855 * SHJ_PRICE_SCALE / 10);
    CHECK_EQ_I64(back.avg_price, 5851234 * SHJ_PRICE_SCALE / 10000);
    CHECK_EQ_I64(back.diff_rate, 95 * SHJ_PRICE_SCALE / 100);
    /* 6 places (Shioaji 1.7.x) are exact too; a 7th nonzero digit is refused */
    snprintf(l, sizeof l, T, "40461.608055", "1");
    CHECK_EQ_I64(chj_parse_line(l, strlen(l), &back, why, sizeof why), SHJ_OK);
    CHECK_EQ_I64(back.close, 40461 * SHJ_PRICE_SCALE + 608055);
    snprintf(l, sizeof l, T, "585.1234567", "1");
    CHECK(rejects(l, "field 'close'"));
    snprintf(l, sizeof l, T, "58x.5", "1");
    CHECK(rejects(l, "column"));
    snprintf(l, sizeof l, T, "5.855e2", "1");
    CHECK(rejects(l, "field 'close'"));
    snprintf(l, sizeof l, T, "585.5", "1.5");
    CHECK(rejects(l, "field 'volume'"));
    snprintf(l, sizeof l, T, "585.5", "4294967296");
    CHECK(rejects(l, "field 'volume'"));
    snprintf(l, sizeof l, T, "585.5", "1");
    char *p = strstr(l, ",\"close\"");
    memmove(p, p + 14, strlen(p + 14) + 1); /* drop "close":585.5 */
    CHECK(rejects(l, "missing field 'close'"));
    CHECK(rejects("{\"kind\":\"tick\",\"kind\":\"tick\"}", "duplicate key 'kind'"));
    CHECK(rejects("{\"kind\":\"status\",\"code\":\"x\"}", "not stored"));
    CHECK(rejects("{\"kind\":\"tick\"} trailing", "junk after"));
    CHECK(rejects("[1,2]", "does not start with '{'"));
    CHECK(rejects("", "empty line"));
    CHECK(rejects("{\"kind\":\"tick\",\"code\":\"23", "truncated"));
    CHECK(rejects("{\"kind\":\"bidask\",\"code\":\"2330\",\"exchange\":\"NYSE\"}", "field 'exchange'"));
    CHECK(rejects("{\"kind\":\"tick\",\"code\":\"\"}", "field 'code'"));
    CHECK(rejects("{\"kind\":\"tick\",\"code\":\"0123456789ABCDEF\"}", "field 'code'"));
    const char *BA = "{\"kind\":\"bidask\",\"code\":\"2330\",\"exchange\":\"TSE\",\"sec_type\":\"STK\",\"ts\":1,\"recv_ts\":2,"
                     "\"seq\":3,\"source_id\":1,\"flags\":0,\"bid_price\":[%s],\"ask_price\":[1,2,3,4,5],"
                     "\"bid_volume\":[1,2,3,4,5],\"ask_volume\":[1,2,3,4,5],\"diff_bid_vol\":[0,0,0,0,0],"
                     "\"diff_ask_vol\":[0,0,0,0,-1]}";
    snprintf(l, sizeof l, BA, "585.5,585,584.5,584,583.5");
    CHECK_EQ_I64(chj_parse_line(l, strlen(l), &back, why, sizeof why), SHJ_OK);
    CHECK_EQ_I64(back.bid_price[4], 5835 * SHJ_PRICE_SCALE / 10);
    CHECK_EQ_I64(back.diff_ask_vol[4], -1);
    snprintf(l, sizeof l, BA, "585.5,585,584.5,584");
    CHECK(rejects(l, "4 levels, expected 5"));
    snprintf(l, sizeof l, BA, "585.5,585,584.5,584,583.5,583");
    CHECK(rejects(l, "more than 5 levels"));
    snprintf(l, sizeof l, BA, "585.5,585,[1],584,583.5");
    CHECK(rejects(l, "nested array"));

    /* ---- the Python shijim's lines ------------------------------------- */
    {
        static const char TICK[] =
            "{\"ts_ns\":1763627620000999936,\"symbol\":\"TXFL5\",\"asset_type\":\"futures\",\"exchange\":\"TAIFEX\","
            "\"extras\":{\"open\":27201.0,\"avg_price\":27223.0,\"amount\":2368401.0,\"tick_type\":1,\"bid_side_total_vol\":1907,"
            "\"underlying_price\":26580.12,\"chg_type\":2,\"suspend\":null,\"simtrade\":true,\"deep\":{\"a\":[1,[2,{}]]}},"
            "\"type\":\"MD_TICK\",\"price\":%s,\"size\":%s,\"side\":\"sell\",\"total_volume\":87,\"total_amount\":2368401.0,"
            "\"price_chg\":617.0,\"pct_chg\":2.319026}";
        char sl[2048];
        chj_opts jo = {CHJ_SEED_SHIFT_NS, 7};
        chj_info info;
        snprintf(sl, sizeof sl, TICK, "27223.0", "87");
        CHECK_EQ_I64(chj_parse_line_ex(sl, strlen(sl), &jo, &back, &info, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(info.format, CHJ_FORMAT_SEED);
        CHECK_EQ_I64(info.rounded, 0);
        CHECK_EQ_I64(back.kind, SHJ_KIND_TICK);
        CHECK_STR(back.code, "TXFL5");
        CHECK_EQ_I64(back.exchange, SHJ_EX_TAIFEX);
        CHECK_EQ_I64(back.sec_type, SHJ_SEC_FUT);
        CHECK_EQ_I64(back.ts_exch_ns, 1763598820001000000LL); /* rounded to the µs, minus 8 h */
        CHECK_EQ_I64(back.ts_recv_ns, back.ts_exch_ns);
        CHECK_EQ_I64(back.seq, 7);
        CHECK_EQ_I64(back.source_id, CHJ_SEED_SOURCE_ID);
        CHECK_EQ_I64(back.flags, SHJ_FLAG_SIMTRADE);
        CHECK_EQ_I64(back.close, 27223 * SHJ_PRICE_SCALE);
        CHECK_EQ_I64(back.open, 27201 * SHJ_PRICE_SCALE);
        CHECK_EQ_I64(back.underlying_price, 26580120000LL);
        CHECK_EQ_I64(back.diff_rate, 2319026);
        CHECK_EQ_I64(back.amount_sum, 2368401 * SHJ_PRICE_SCALE);
        CHECK_EQ_I64(back.volume, 87);
        CHECK_EQ_I64(back.vol_sum, 87);
        CHECK_EQ_I64(back.bid_side_vol_sum, 1907);
        CHECK_EQ_I64(back.tick_type, 1); /* Shioaji's tick_type from extras wins over "side" */
        CHECK_EQ_I64(back.chg_type, 2);
        /* chj_parse_line: the same shift by default */
        CHECK_EQ_I64(chj_parse_line(sl, strlen(sl), &ev, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(ev.ts_exch_ns, 1763598820001000000LL);
        jo.seed_shift_ns = 0;
        CHECK_EQ_I64(chj_parse_line_ex(sl, strlen(sl), &jo, &back, &info, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(back.ts_exch_ns, 1763627620001000000LL);
        jo.seed_shift_ns = CHJ_SEED_SHIFT_NS;
        /* prices from the number text: rounded to 6 places, ties away from zero */
        static const struct {
            const char *text;
            int64_t want;
            int rounded;
        } px[] = {
            {"0.30000000000000004", 300000, 1}, {"0.0000005", 1, 1},        {"0.00000049999", 0, 1},
            {"-0.0000005", -1, 1},              {"1e-7", 0, 1},             {"1.5e-05", 15, 0},
            {"1E3", 1000000000, 0},             {"21.6", 21600000, 0},      {"-0.0", 0, 0},
            {"0.000001", 1, 0},                 {"9223372.036854775807", 9223372036855, 1},
            {"12.3456785", 12345679, 1},        {"1450.00000000000000000000000000000000000000001", 1450000000, 1},
        };
        for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
            snprintf(sl, sizeof sl, TICK, px[i].text, "1");
            int rc = chj_parse_line_ex(sl, strlen(sl), &jo, &back, &info, why, sizeof why);
            if (rc != SHJ_OK || back.close != px[i].want || info.rounded != px[i].rounded)
                fprintf(stderr, "  price %s -> rc %d close %lld rounded %d (%s)\n", px[i].text, rc, (long long)back.close,
                        info.rounded, why);
            CHECK(rc == SHJ_OK && back.close == px[i].want && info.rounded == px[i].rounded);
        }
        /* what cannot be a row is rejected, naming the field */
        snprintf(sl, sizeof sl, TICK, "9.3e12", "1");
        CHECK(rejects(sl, "field 'price': '9.3e12' is not a number in range"));
        snprintf(sl, sizeof sl, TICK, "1", "1.5");
        CHECK(rejects(sl, "field 'size': 1.5 is not an integer"));
        snprintf(sl, sizeof sl, TICK, "\"x\"", "1");
        CHECK(rejects(sl, "field 'price'"));
        CHECK(rejects("{\"ts_ns\":0,\"symbol\":\"2330\",\"type\":\"MD_TICK\",\"price\":1.0}", "field 'ts_ns': 0: no time"));
        CHECK(rejects("{\"ts_ns\":1,\"symbol\":\"2330\",\"type\":\"MD_QUOTE\"}", "field 'type': 'MD_QUOTE' is neither"));
        CHECK(rejects("{\"ts_ns\":1763627620000999936,\"type\":\"MD_TICK\",\"price\":1.0}", "missing field 'symbol'"));
        CHECK(rejects("{\"ts_ns\":1763627620000999936,\"symbol\":\"2330\",\"type\":\"MD_BOOK\",\"bid_prices\":[1,2,3,4,5,6]}",
                      "field 'bid_prices': more than 5 levels"));
        CHECK(rejects("{\"ts_ns\":1763627620000999936,\"symbol\":\"2330\",\"type\":\"MD_BOOK\",\"bid_volumes\":[1,2.5]}",
                      "field 'bid_volumes': level 2 '2.5' is not an integer"));
        /* a book: levels padded with 0, diffs from extras, unknown exchange from asset_type */
        const char *bk = "{\"ts_ns\":1763629201123457024,\"symbol\":\"TXO27000L5\",\"asset_type\":\"options\",\"exchange\":\"?\","
                         "\"extras\":{\"diff_bid_vol\":[0,5],\"simtrade\":0},\"type\":\"MD_BOOK\",\"bid_prices\":[21.57,21.56],"
                         "\"bid_volumes\":[210,95],\"ask_prices\":[],\"ask_volumes\":null,\"bid_total_vol\":null}";
        jo.line_no = 3;
        CHECK_EQ_I64(chj_parse_line_ex(bk, strlen(bk), &jo, &back, &info, why, sizeof why), SHJ_OK);
        CHECK_EQ_I64(back.kind, SHJ_KIND_BIDASK);
        CHECK_EQ_I64(back.sec_type, SHJ_SEC_OPT);
        CHECK_EQ_I64(back.exchange, SHJ_EX_TAIFEX);
        CHECK_EQ_I64(back.ts_exch_ns, 1763600401123457000LL);
        CHECK_EQ_I64(back.bid_price[0], 21570000);
        CHECK_EQ_I64(back.bid_price[1], 21560000);
        CHECK_EQ_I64(back.bid_price[2], 0);
        CHECK_EQ_I64(back.bid_volume[1], 95);
        CHECK_EQ_I64(back.ask_price[0], 0);
        CHECK_EQ_I64(back.diff_bid_vol[1], 5);
        CHECK_EQ_I64(back.seq, 3);
        CHECK_EQ_I64(back.flags, 0);
    }

    /* ---- files ---------------------------------------------------------- */
    char tmp[] = "/tmp/shj-chr.XXXXXX", err[600], list[4096];
    CHECK(mkdtemp(tmp) != NULL);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope", tmp);
    CHECK_EQ_I64(chr_list(missing, list, sizeof list, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, "No such file or directory") != NULL && strstr(err, missing) != NULL);

    char fbdir[300], path[400], rej[400];
    snprintf(fbdir, sizeof fbdir, "%s/fb", tmp);
    chf_dir *fb = chf_open(fbdir, err, sizeof err);
    CHECK(fb != NULL);
    shj_event evs[300];
    for (int i = 0; i < 300; i++) che_make(&evs[i], (uint64_t)i, 2);
    CHECK_EQ_I64(chf_append_events(fb, evs, 300, err, sizeof err), SHJ_OK);
    chf_close(fb);
    /* 2 days x 2 tables */
    CHECK_EQ_I64(chr_list(fbdir, list, sizeof list, err, sizeof err), 4);
    CHECK_STR(list, "bidasks/2026-11-25.jsonl\nbidasks/2026-11-26.jsonl\nticks/2026-11-25.jsonl\nticks/2026-11-26.jsonl\n");

    /* damage the ticks file of the first day: one bad line in the middle, a torn tail */
    snprintf(path, sizeof path, "%s/ticks/2026-11-25.jsonl", fbdir);
    snprintf(rej, sizeof rej, "%s/ticks/2026-11-25.rejected.jsonl", fbdir);
    FILE *f = fopen(path, "a");
    fputs("{\"kind\":\"tick\",\"code\":\"2330\",\"close\":oops}\n", f);
    evj_format(&evs[0], line, sizeof line);
    fputs(line, f);
    fputc('\n', f);
    fwrite(line, 1, 40, f); /* torn: no newline */
    fclose(f);
    long size_before = file_size(path);

    chr_counts k;
    chr_file *rf = chr_open(path, CHR_DRY_RUN, err, sizeof err);
    CHECK(rf != NULL);
    int total = 0, got;
    int rej_lines[8], nrl = 0;
    while ((got = chr_next_batch(rf, 50, err, sizeof err)) > 0) {
        total += got;
        for (int i = 0; i < chr_reject_count(rf) && nrl < 8; i++) rej_lines[nrl++] = (int)chr_reject_line_no(rf, i);
    }
    for (int i = 0; i < chr_reject_count(rf) && nrl < 8; i++) rej_lines[nrl++] = (int)chr_reject_line_no(rf, i);
    CHECK_EQ_I64(got, 0);
    chr_get_counts(rf, &k);
    int ticks_day1 = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (int i = 0; i < 300; i++)
        if (evs[i].kind != SHJ_KIND_BIDASK && chb_taipei_day(evs[i].ts_exch_ns) == chb_taipei_day(evs[0].ts_exch_ns)) {
            ticks_day1++;
            if (evs[i].ts_exch_ns < tmin) tmin = evs[i].ts_exch_ns;
            if (evs[i].ts_exch_ns > tmax) tmax = evs[i].ts_exch_ns;
        }
    CHECK_EQ_I64(total, ticks_day1 + 1); /* + the re-appended good line */
    CHECK_EQ_I64(k.rows_ticks, (uint64_t)total);
    CHECK_EQ_I64(k.rejected, 1);  /* the bad line ... */
    CHECK_EQ_I64(k.torn_tail, 1); /* ... and the torn last one, counted apart */
    CHECK_EQ_I64(k.lines, (uint64_t)ticks_day1 + 3);
    CHECK_EQ_I64(k.ts_min, tmin);
    CHECK_EQ_I64(k.ts_max, tmax);
    CHECK_EQ_I64(k.bytes_read, (uint64_t)size_before);
    CHECK_EQ_I64(nrl, 2);
    CHECK_EQ_I64(rej_lines[0], ticks_day1 + 1);
    CHECK_EQ_I64(rej_lines[1], ticks_day1 + 3);
    CHECK_EQ_I64(chr_insert_batch(rf, NULL, err, sizeof err), SHJ_ERR); /* dry run never inserts */
    CHECK_EQ_I64(chr_close(rf, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(file_size(rej), -1); /* dry run wrote nothing */
    CHECK_EQ_I64(file_size(path), size_before);

    /* apply mode: the rejected file beside it names file, line and reason */
    rf = chr_open(path, CHR_APPLY, err, sizeof err);
    CHECK(rf != NULL);
    got = chr_next_batch(rf, 1000, err, sizeof err);
    CHECK_EQ_I64(got, ticks_day1 + 1);
    CHECK_EQ_I64(chr_reject_count(rf), 2);
    CHECK(strstr(chr_reject_reason(rf, 0), "unexpected 'o'") != NULL);
    CHECK(strstr(chr_reject_reason(rf, 1), "truncated last line") != NULL);
    CHECK_EQ_I64(chr_next_batch(rf, 1000, err, sizeof err), 0);
    {
        chr_counts cn;
        chr_get_counts(rf, &cn);
        CHECK_EQ_I64(cn.rejected, 1);  /* the bad line */
        CHECK_EQ_I64(cn.torn_tail, 1); /* the torn last line, counted apart (issue 11 fault 5) */
    }
    /* the live writer cannot append to a file restore holds: it moves on to the next name */
    fb = chf_open(fbdir, err, sizeof err);
    CHECK_EQ_I64(chf_append_events(fb, evs, 1, err, sizeof err), SHJ_OK);
    chf_close(fb);
    char side[400];
    snprintf(side, sizeof side, "%s/ticks/2026-11-25.1.jsonl", fbdir);
    CHECK(file_size(side) > 0);
    CHECK_EQ_I64(file_size(path), size_before);
    CHECK_EQ_I64(chr_close(rf, err, sizeof err), SHJ_OK);
    f = fopen(rej, "r");
    CHECK(f != NULL);
    char rl[4096];
    int nrej = 0;
    while (f && fgets(rl, sizeof rl, f)) {
        nrej++;
        CHECK(strstr(rl, "\"file\":\"") != NULL && strstr(rl, "\"reason\":\"") != NULL && strstr(rl, "\"text\":\"") != NULL);
        if (nrej == 1) CHECK(strstr(rl, "\"text\":\"{\\\"kind\\\":\\\"tick\\\",\\\"code\\\":\\\"2330\\\",\\\"close\\\":oops}\"") != NULL);
    }
    if (f) fclose(f);
    CHECK_EQ_I64(nrej, 2);
    /* the rejected file is not itself a fallback file */
    CHECK_EQ_I64(chr_list(fbdir, list, sizeof list, err, sizeof err), 5);
    CHECK(strstr(list, "rejected") == NULL);
    /* the Python shijim's books/ is read; any other directory is named with its files */
    {
        char cmd2[4096];
        snprintf(cmd2, sizeof cmd2, "mkdir -p %s/books %s/quotes/deep %s/ticks/old %s/empty && echo '{}' > %s/books/2025-11-20.jsonl && "
                 "echo a > %s/quotes/a && echo b > %s/quotes/deep/b && echo c > %s/ticks/old/c.jsonl",
                 fbdir, fbdir, fbdir, fbdir, fbdir, fbdir, fbdir, fbdir);
        CHECK_EQ_I64(system(cmd2), 0);
        CHECK_EQ_I64(chr_list(fbdir, list, sizeof list, err, sizeof err), 6);
        CHECK(strstr(list, "books/2025-11-20.jsonl\n") != NULL);
        CHECK_EQ_I64(chr_list_unknown(fbdir, list, sizeof list, err, sizeof err), 3);
        CHECK_STR(list, "empty/\t0\nquotes/\t2\nticks/old/\t1\n");
        CHECK_EQ_I64(chr_list_unknown(fbdir, list, 10, err, sizeof err), SHJ_ERR);
        snprintf(cmd2, sizeof cmd2, "rm -rf %s/books %s/quotes %s/ticks/old %s/empty", fbdir, fbdir, fbdir, fbdir);
        CHECK_EQ_I64(system(cmd2), 0);
        CHECK_EQ_I64(chr_list_unknown(fbdir, list, sizeof list, err, sizeof err), 0);
    }

    /* archiving: atomic, never overwrites */
    char arc[300], dest[600];
    snprintf(arc, sizeof arc, "%s/archive", tmp);
    snprintf(path, sizeof path, "%s/bidasks/2026-11-26.jsonl", fbdir);
    rf = chr_open(path, CHR_APPLY, err, sizeof err);
    CHECK_EQ_I64(chr_archive(rf, arc, "bidasks/2026-11-26.jsonl", dest, sizeof dest, err, sizeof err), SHJ_OK);
    chr_close(rf, err, sizeof err);
    CHECK(strstr(dest, "archive/bidasks/2026-11-26.jsonl") != NULL);
    CHECK_EQ_I64(file_size(path), -1);
    write_text(path, "{}\n"); /* a new file under the same name, archived later */
    rf = chr_open(path, CHR_APPLY, err, sizeof err);
    CHECK_EQ_I64(chr_archive(rf, arc, "bidasks/2026-11-26.jsonl", dest, sizeof dest, err, sizeof err), SHJ_OK);
    chr_close(rf, err, sizeof err);
    CHECK(strstr(dest, "archive/bidasks/2026-11-26.1.jsonl") != NULL);
    CHECK(file_size(dest) == 3);
    snprintf(path, sizeof path, "%s/bidasks/2026-11-26.jsonl", arc);
    CHECK(file_size(path) > 3);

    /* schema text for a DBA */
    char sql[16384];
    CHECK(chr_schema_sql("23.8", "market", sql, sizeof sql) < sizeof sql);
    CHECK(strstr(sql, "CREATE DATABASE IF NOT EXISTS market;") != NULL);
    CHECK(strstr(sql, "market.ticks") && strstr(sql, "market.bidasks") && strstr(sql, "LowCardinality"));
    chr_schema_sql(NULL, "m", sql, sizeof sql);
    CHECK(!strstr(sql, "LowCardinality"));

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
