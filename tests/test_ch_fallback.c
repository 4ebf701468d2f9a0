/* test_ch_fallback.c — the JSONL fallback on its own: file per table and
 * Taipei date, every line exact, a torn tail from a crash never swallows the
 * next line, a file moved away (archived) is never appended to again, a
 * failed write (ENOSPC mid-line) leaves the file exactly as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ch_events.h"
#include "clickhouse/ch_fallback.h"
#include "clickhouse/ch_jsonl.h"
#include "clickhouse/ch_rowbinary.h"
#include "core/shj_common.h"
#include "t.h"

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* lines, and lines that parse, in a file */
static void count_lines(const char *path, int *lines, int *good) {
    *lines = *good = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *l = NULL;
    size_t cap = 0;
    ssize_t n;
    shj_event ev;
    char why[200];
    while ((n = getline(&l, &cap, f)) > 0) {
        (*lines)++;
        if (l[n - 1] == '\n') n--;
        *good += chj_parse_line(l, (size_t)n, &ev, why, sizeof why) == SHJ_OK;
    }
    free(l);
    fclose(f);
}

int main(void) {
    char d[11];
    chf_date(CHE_T0_NS, d);
    CHECK_STR(d, "2026-11-25");
    chf_date(1795622399999999999LL, d); /* 2026-11-25 23:59:59.999 Taipei */
    CHECK_STR(d, "2026-11-25");
    chf_date(1795622400000000000LL, d); /* midnight Taipei = 16:00 UTC */
    CHECK_STR(d, "2026-11-26");
    chf_date(0, d);
    CHECK_STR(d, "1970-01-01");

    char tmp[] = "/tmp/shj-chf.XXXXXX", err[600], dir[300], path[400], moved[400];
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(dir, sizeof dir, "%s/a/b/fallback", tmp);
    chf_dir *f = chf_open(dir, err, sizeof err); /* parents created */
    CHECK(f != NULL);
    if (!f) T_DONE();

    enum { N = 1000 };
    static shj_event evs[N];
    int ticks[2] = {0, 0}, bidasks[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        che_make(&evs[i], (uint64_t)i, 2);
        int day = (int)(chb_taipei_day(evs[i].ts_exch_ns) - chb_taipei_day(CHE_T0_NS));
        if (evs[i].kind == SHJ_KIND_BIDASK) bidasks[day]++;
        else ticks[day]++;
    }
    CHECK_EQ_I64(chf_append_events(f, evs, N, err, sizeof err), SHJ_OK);
    chf_stats st;
    chf_get_stats(f, &st);
    CHECK_EQ_I64(st.rows, N);
    CHECK_EQ_I64(st.appends, 4);
    int lines, good;
    snprintf(path, sizeof path, "%s/ticks/2026-11-26.jsonl", dir);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(lines, ticks[1]);
    CHECK_EQ_I64(good, ticks[1]);
    snprintf(path, sizeof path, "%s/bidasks/2026-11-25.jsonl", dir);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(good, bidasks[0]);

    /* RowBinary batches go the same way */
    chb_buf b;
    chb_init(&b);
    size_t rows = 0;
    for (int i = 0; i < N; i++)
        if (evs[i].kind == SHJ_KIND_BIDASK) chb_encode(&b, &evs[i]), rows++;
    CHECK_EQ_I64(chf_append_rowbinary(f, CHS_BIDASKS, b.data, b.len, rows, err, sizeof err), SHJ_OK);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(good, 2 * bidasks[0]);
    CHECK_EQ_I64(chf_append_rowbinary(f, CHS_BIDASKS, b.data, b.len - 1, rows, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, "does not decode") != NULL);

    /* a torn tail (crash mid-append) becomes its own bad line */
    snprintf(path, sizeof path, "%s/ticks/2026-11-25.jsonl", dir);
    FILE *fp = fopen(path, "a");
    fputs("{\"kind\":\"tick\",\"co", fp);
    fclose(fp);
    CHECK_EQ_I64(chf_append_events(f, evs, 1, err, sizeof err), SHJ_OK);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(lines, ticks[0] + 2);
    CHECK_EQ_I64(good, ticks[0] + 1);

    /* a moved file (archived by restore) is left alone; a new one starts */
    snprintf(moved, sizeof moved, "%s/moved.jsonl", tmp);
    CHECK_EQ_I64(rename(path, moved), 0);
    long moved_size = file_size(moved);
    CHECK_EQ_I64(chf_append_events(f, evs, 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(file_size(moved), moved_size);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(lines, 1);

    /* ENOSPC in the middle of a line: the file is cut back, nothing torn */
    long before = file_size(path);
    chf_set_fault(f, ENOSPC, 700);
    CHECK_EQ_I64(chf_append_events(f, evs, 10, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, "No space left on device") && strstr(err, path));
    CHECK_EQ_I64(file_size(path), before);
    chf_get_stats(f, &st);
    CHECK_EQ_I64(st.failures, 1);
    chf_set_fault(f, 0, 0);
    CHECK_EQ_I64(chf_append_events(f, evs, 10, err, sizeof err), SHJ_OK);
    count_lines(path, &lines, &good);
    CHECK_EQ_I64(lines, good);
    chf_close(f);
    chb_free(&b);

    /* a fallback "dir" that is a file */
    CHECK(chf_open(moved, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a directory") != NULL);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
