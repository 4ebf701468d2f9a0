/* test_ops_log.c — log lines: ISO-8601 Taipei timestamp and level, the JSON
 * format, and the repeat limit ("... (repeated N times in S s)"), on a fake
 * clock so every expected line is exact. Lines go to a temp file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

static int64_t fake_now, fake_mono;
static int64_t now_fn(void) { return fake_now; }
static int64_t mono_fn(void) { return fake_mono; }

static char captured[1 << 16];

/* Everything logged since the last call (the log writes to f). */
static const char *take(FILE *f) {
    fflush(f);
    long end = ftell(f);
    rewind(f);
    size_t n = fread(captured, 1, (size_t)end < sizeof captured - 1 ? (size_t)end : sizeof captured - 1, f);
    captured[n] = '\0';
    rewind(f);
    if (ftruncate(fileno(f), 0) != 0) perror("ftruncate");
    return captured;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void warn_rows(size_t n) { shj_log(SHJ_LOG_WARN, "fallback file %s appended %zu rows", "x.jsonl", n); }

int main(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    shj_log_set_stream(f);

    /* 2026-12-05 09:30:00.123456 Taipei = 01:30:00.123456 UTC */
    fake_now = clk_taipei_to_utc_ns(2026, 12, 5, 9, 30, 0, 123456);
    fake_mono = 1000 * CLK_NS_PER_SEC;
    shj_log_set_clock(now_fn, mono_fn);

    char iso[30];
    shj_log_iso_time(fake_now, iso);
    CHECK_STR(iso, "2026-12-05T09:30:00.123+08:00");

    shj_log(SHJ_LOG_INFO, "stopping (%s)", "SIGTERM");
    CHECK_STR(take(f), "2026-12-05T09:30:00.123+08:00 info stopping (SIGTERM)\n");
    shj_log(SHJ_LOG_DEBUG, "below the threshold");
    CHECK_STR(take(f), "");
    shj_log_text(1, "lua", "block trades: 3");
    CHECK_STR(take(f), "2026-12-05T09:30:00.123+08:00 info lua: block trades: 3\n");

    /* 149 warnings from one call site in 15 s: one line, then one summary
     * with the last text when the 10 s window has ended. */
    shj_log_set_repeat_window(10000);
    for (int i = 0; i < 149; i++) {
        warn_rows((size_t)i + 1);
        fake_mono += CLK_NS_PER_SEC / 16; /* 149 in ~9.3 s: all inside the window */
    }
    const char *out = take(f);
    CHECK_STR(out, "2026-12-05T09:30:00.123+08:00 warn fallback file x.jsonl appended 1 rows\n");
    shj_log_tick(); /* window not ended yet: nothing */
    CHECK_STR(take(f), "");
    fake_mono += 6 * CLK_NS_PER_SEC; /* 15.3 s after the first */
    shj_log_tick();
    CHECK_STR(take(f), "2026-12-05T09:30:00.123+08:00 warn fallback file x.jsonl appended 149 rows "
                       "(repeated 148 times in 15 s)\n");
    /* The next one after the window prints again and opens a new window. */
    warn_rows(7);
    warn_rows(8);
    out = take(f);
    CHECK_EQ_I64(count_lines(out), 1);
    CHECK(strstr(out, "appended 7 rows\n") != NULL);
    /* Another message is independent; so are lines of one call site that differ
     * in more than their numbers (one per instrument); the level counts too. */
    shj_log(SHJ_LOG_ERROR, "disk %s", "full");
    CHECK_STR(take(f), "2026-12-05T09:30:00.123+08:00 error disk full\n");
    for (int i = 0; i < 2; i++) {
        shj_log(SHJ_LOG_WARN, "backfill %s 09:0%d queued", "TXFA7", i);
        shj_log(SHJ_LOG_WARN, "backfill %s 09:0%d queued", "MXFA7", i);
        shj_log(SHJ_LOG_ERROR, "backfill %s 09:0%d queued", "MXFA7", i);
    }
    CHECK_STR(take(f), "2026-12-05T09:30:00.123+08:00 warn backfill TXFA7 09:00 queued\n"
                       "2026-12-05T09:30:00.123+08:00 warn backfill MXFA7 09:00 queued\n"
                       "2026-12-05T09:30:00.123+08:00 error backfill MXFA7 09:00 queued\n");
    /* Flush at exit reports the open window even before it ends. */
    fake_mono += CLK_NS_PER_SEC;
    shj_log_flush();
    out = take(f);
    CHECK(strstr(out, "2026-12-05T09:30:00.123+08:00 warn fallback file x.jsonl appended 8 rows "
                      "(repeated 1 times in 1 s)\n") != NULL);
    CHECK(strstr(out, "warn backfill TXFA7 09:01 queued (repeated 1 times in 1 s)\n") != NULL);
    CHECK(strstr(out, "warn backfill MXFA7 09:01 queued (repeated 1 times in 1 s)\n") != NULL);
    CHECK(strstr(out, "error backfill MXFA7 09:01 queued (repeated 1 times in 1 s)\n") != NULL);
    CHECK_EQ_I64(count_lines(out), 4);
    /* Window 0: every line printed. */
    shj_log_set_repeat_window(0);
    warn_rows(1);
    warn_rows(2);
    CHECK_EQ_I64(count_lines(take(f)), 2);

    /* JSON: one object per line, message escaped, fields for the repeat summary. */
    CHECK(shj_log_set_format("yaml") == SHJ_ERR);
    CHECK(shj_log_set_format("json") == SHJ_OK);
    shj_log(SHJ_LOG_WARN, "path \"%s\"\tline\n2", "a\\b");
    CHECK_STR(take(f), "{\"ts\":\"2026-12-05T09:30:00.123+08:00\",\"level\":\"warn\","
                       "\"msg\":\"path \\\"a\\\\b\\\"\\tline\\n2\"}\n");
    shj_log_text(2, "lua", "x");
    CHECK_STR(take(f), "{\"ts\":\"2026-12-05T09:30:00.123+08:00\",\"level\":\"warn\",\"msg\":\"x\",\"src\":\"lua\"}\n");
    shj_log_set_repeat_window(10000);
    warn_rows(1);
    warn_rows(2);
    warn_rows(3);
    fake_mono += 12 * CLK_NS_PER_SEC;
    shj_log_tick();
    CHECK_STR(take(f), "{\"ts\":\"2026-12-05T09:30:00.123+08:00\",\"level\":\"warn\",\"msg\":\"fallback file x.jsonl appended 1 rows\"}\n"
                       "{\"ts\":\"2026-12-05T09:30:00.123+08:00\",\"level\":\"warn\",\"msg\":\"fallback file x.jsonl appended 3 rows\","
                       "\"repeated\":2,\"window_s\":12}\n");
    shj_log_set_format("text");

    shj_log_set_stream(NULL);
    fclose(f);
    T_DONE();
}
