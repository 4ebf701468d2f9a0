/* test_ch_mark.c — the ClickHouse watermark file (runtime/clickhouse/ch_mark.h):
 * ranges merge (overlapping, adjacent, a full table becomes a superset that
 * still covers every range added), the file round-trips, a malformed or
 * foreign file is refused with file:line, no temp file is left behind, and
 * the mark's path is derived from the archive's file name only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickhouse/ch_mark.h"
#include "core/shj_common.h"
#include "t.h"

int main(void) {
    char path[256];
    CHECK_EQ_I64(chm_path_for("/d/sim/2026-11-25.shjraw", path, sizeof path), SHJ_OK);
    CHECK_STR(path, "/d/sim/2026-11-25.chmark");
    CHECK_EQ_I64(chm_path_for("/d/sim/2026-11-25.jsonl", path, sizeof path), SHJ_ERR);
    CHECK_EQ_I64(chm_path_for("/d/sim/2026-11-25.shjraw", path, 10), SHJ_ERR);

    chm_mark m;
    memset(&m, 0, sizeof m);
    chm_add(&m, 10, 20);
    chm_add(&m, 30, 40);
    chm_add(&m, 21, 29); /* adjacent on both sides: one range */
    CHECK_EQ_I64(m.n, 1);
    CHECK_EQ_I64(m.unsaved[0].from, 10);
    CHECK_EQ_I64(m.unsaved[0].to, 40);
    chm_add(&m, 5, 12);
    chm_add(&m, 100, 100);
    CHECK_EQ_I64(m.n, 2);
    CHECK_EQ_I64(m.unsaved[0].from, 5);
    CHECK(chm_unsaved(&m, 5) && chm_unsaved(&m, 40) && chm_unsaved(&m, 100));
    CHECK(!chm_unsaved(&m, 4) && !chm_unsaved(&m, 41) && !chm_unsaved(&m, 99) && !chm_unsaved(&m, 101));
    CHECK_EQ_I64(chm_unsaved_count(&m), 37);
    char text[64];
    CHECK_STR(chm_ranges_text(&m, text, sizeof text), "5-40,100-100");

    /* more ranges than fit: every one added stays covered */
    chm_mark big;
    memset(&big, 0, sizeof big);
    for (uint64_t i = 0; i < 3 * CHM_MAX_RANGES; i++) chm_add(&big, 1000 + i * 10, 1000 + i * 10 + (i % 3));
    CHECK(big.n <= CHM_MAX_RANGES);
    int covered = 1;
    for (uint64_t i = 0; i < 3 * CHM_MAX_RANGES; i++)
        for (uint64_t s = 1000 + i * 10; s <= 1000 + i * 10 + (i % 3); s++) covered &= chm_unsaved(&big, s);
    CHECK(covered);
    for (size_t i = 0; i + 1 < big.n; i++) CHECK(big.unsaved[i].to + 1 < big.unsaved[i + 1].from);

    /* round trip */
    char dir[] = "/tmp/shj_chm_XXXXXX", file[300], err[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/2026-11-25.chmark", dir);
    m.acked = 123456789012ULL;
    m.file_first = 1;
    m.file_last = 99;
    CHECK_EQ_I64(chm_save(file, &m, err, sizeof err), SHJ_OK);
    chm_mark back;
    int exists = 0;
    CHECK_EQ_I64(chm_load(file, &back, &exists, err, sizeof err), SHJ_OK);
    CHECK(exists);
    CHECK_EQ_I64(back.acked, 123456789012LL);
    CHECK_EQ_I64(back.n, 2);
    CHECK_EQ_I64(back.unsaved[1].from, 100);
    CHECK_EQ_I64(back.file_last, 99);
    struct stat st;
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0640);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    CHECK(access(tmp, F_OK) != 0);

    /* missing: not an error; malformed: refused with file:line */
    snprintf(tmp, sizeof tmp, "%s/none.chmark", dir);
    CHECK_EQ_I64(chm_load(tmp, &back, &exists, err, sizeof err), SHJ_OK);
    CHECK(!exists);
    FILE *f = fopen(file, "w");
    fputs("shijim-chmark 1\nacked 5\nunsaved 9 3\n", f);
    fclose(f);
    CHECK_EQ_I64(chm_load(file, &back, &exists, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, ".chmark:3:") != NULL);
    f = fopen(file, "w");
    fputs("something else\n", f);
    fclose(f);
    CHECK_EQ_I64(chm_load(file, &back, &exists, err, sizeof err), SHJ_ERR);
    CHECK(strstr(err, ":1:") != NULL);
    unlink(file);
    rmdir(dir);
    T_DONE();
}
