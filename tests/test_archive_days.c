/* test_archive_days.c — archive/: records go to the file of their trading
 * day (the caller's, from the exchange time), late records of the previous
 * day go back to its file while the next one is open, and a recv-time
 * append of a weekend lands on Monday.
 * Dates: 2026-12-04 is a Friday, 12-07 the Monday after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "archive/archive_days.h"
#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "t.h"

static int64_t at(int d, int h, int m) { return clk_taipei_to_utc_ns(2026, 12, d, h, m, 0, 0); }

/* The sequences in path, in file order, as "1,3,5" into out. */
static void seqs_of(const char *path, char *out, size_t cap) {
    char err[256];
    out[0] = '\0';
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    if (!r) {
        shj_strlcpy(out, err, cap);
        return;
    }
    arc_record rec;
    size_t o = 0;
    while (arc_reader_next(r, &rec) == 1)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", o ? "," : "", (unsigned long long)rec.seq);
    CHECK_STR(arc_reader_error(r), "");
    arc_reader_close(r);
}

static void append(arc_writer *w, int64_t recv, uint64_t seq, int64_t exch) {
    char p[32];
    int n = snprintf(p, sizeof p, "{\"seq\":%llu}", (unsigned long long)seq);
    CHECK_EQ_I64(arc_append_day(w, 1, p, (uint32_t)n, recv, seq, ses_trading_day(exch)), SHJ_OK);
}

int main(void) {
    char dir[] = "/tmp/test_archive_days_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[512], fri[4200], mon[4200], got[256];
    snprintf(fri, sizeof fri, "%s/sim/2026-12-04.shjraw", dir);
    snprintf(mon, sizeof mon, "%s/sim/2026-12-07.shjraw", dir);
    arc_opts o = {.dir = dir, .source = "sim", .fsync_ms = 0};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return 1;
    /* Friday's day session, then its night session (-> Monday), then a late
     * day-session quote received after the night session began, alternating */
    append(w, at(4, 13, 44), 1, at(4, 13, 44));
    CHECK(strstr(arc_current_path(w), "2026-12-04.shjraw") != NULL);
    append(w, at(4, 15, 0), 2, at(4, 15, 0));
    CHECK(strstr(arc_current_path(w), "2026-12-07.shjraw") != NULL);
    append(w, at(4, 15, 0) + 1000, 3, at(4, 13, 44) + 999); /* late: exchange time rules */
    append(w, at(5, 2, 0), 4, at(5, 2, 0));                  /* Saturday tail: Monday */
    append(w, at(5, 2, 0) + 1, 5, at(4, 13, 44) + 1000);     /* late again */
    CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_OK);
    /* a record without exchange time (arc_append: receive time) on Sunday -> Monday */
    CHECK_EQ_I64(arc_append(w, 2, "st", 2, at(6, 12, 0), 6), SHJ_OK);
    CHECK(strstr(arc_current_path(w), "2026-12-07.shjraw") != NULL);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    seqs_of(fri, got, sizeof got);
    CHECK_STR(got, "1,3,5");
    seqs_of(mon, got, sizeof got);
    CHECK_STR(got, "2,4,6");
    /* both files are whole (no torn tail from switching back and forth) */
    arc_scan sc;
    CHECK_EQ_I64(arc_scan_file(fri, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.torn, 0);
    CHECK_EQ_I64(sc.records, 3);
    CHECK_EQ_I64(arc_scan_file(mon, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.torn, 0);
    CHECK_EQ_I64(sc.records, 3);
    /* a restarted writer appends a late Friday record to Friday's file */
    w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (!w) return 1;
    append(w, at(7, 9, 0), 7, at(7, 9, 0));
    append(w, at(7, 9, 0) + 1, 8, at(4, 13, 44) + 2000);
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
    seqs_of(fri, got, sizeof got);
    CHECK_STR(got, "1,3,5,8");
    seqs_of(mon, got, sizeof got);
    CHECK_STR(got, "2,4,6,7");
    /* `shijim days`: one line per day with its records and status */
    {
        char *text = NULL;
        size_t tlen = 0;
        FILE *mf = open_memstream(&text, &tlen);
        CHECK_EQ_I64(arcdays_list(dir, ARCDAYS_DU, mf), 0);
        fclose(mf);
        CHECK(strstr(text, "sim        2026-12-04            4 ") != NULL);
        CHECK(strstr(text, "sim        2026-12-07            4 ") != NULL);
        CHECK(strstr(text, " ok ") != NULL);
        CHECK(strstr(text, "2 days") != NULL);
        free(text);
        /* a damaged byte inside Monday's file: status damaged, exit 1 */
        FILE *f = fopen(mon, "r+b");
        CHECK(f != NULL);
        if (f) {
            fseek(f, 200, SEEK_SET);
            fputc(0x5a ^ 0xff, f);
            fclose(f);
        }
        mf = open_memstream(&text, &tlen);
        CHECK_EQ_I64(arcdays_list(dir, ARCDAYS_CHECK, mf), 1);
        fclose(mf);
        CHECK(strstr(text, "damaged") != NULL || strstr(text, "torn") != NULL);
        free(text);
        /* no day files: exit 1 */
        mf = open_memstream(&text, &tlen);
        CHECK_EQ_I64(arcdays_list("/nonexistent-shijim-dir", 0, mf), 1);
        fclose(mf);
        free(text);
    }
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
