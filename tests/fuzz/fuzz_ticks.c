/* fuzz_ticks.c — libFuzzer target: the reader of Shioaji's historical ticks
 * answer (POST /api/v1/data/ticks), runtime/shioaji/sj_ticks.c, as the
 * backfill uses it.
 *
 * Oracle: no crash or sanitizer report on any body; the walk ends, having
 * yielded at most one result per element of the time column; every price
 * read is exact (formats back to text that parses to the same value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"
#include "shioaji/sj_ticks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(body, data, size);
    sj_ticks_reader r;
    if (sj_ticks_open(&r, body, size) == SHJ_OK) {
        const char *col, *v;
        size_t cn, vn;
        size_t elements = 0;
        if (sj_json_find(body, size, "datetime", &col, &cn) != 1 && sj_json_find(body, size, "ts", &col, &cn) != 1) abort();
        const char *p = col;
        while (sj_json_array_next(&p, col + cn, &v, &vn) == 1) elements++;
        int empty = sj_ticks_empty(&r);
        if (empty && elements) abort();
        size_t results = 0;
        int rc;
        sj_ticks_row row;
        while ((rc = sj_ticks_next(&r, &row)) == SJ_TICKS_ROW || rc == SJ_TICKS_BAD) {
            if (++results > elements) abort();
            if (rc == SJ_TICKS_ROW) {
                char txt[32];
                int64_t back;
                size_t n = dec_format(row.price, txt);
                if (dec_parse(txt, n, &back) != 0 || back != row.price) abort();
            }
        }
        if (rc != SJ_TICKS_END && rc != SJ_TICKS_BROKEN) abort();
        if (sj_ticks_next(&r, &row) != SJ_TICKS_END) abort(); /* stays ended */
    }
    free(body);
    return 0;
}
