/* fuzz_jsonl.c — libFuzzer target: the fallback JSONL reader (restore),
 * Shijim's lines and the Python shijim's (ch_jsonl.h).
 *
 * Oracle: no crash or sanitizer report on any line; an accepted line is a
 * stored kind with a NUL-terminated code; a rejected line always says why.
 * The same line read with other options (line number, no time shift) is
 * accepted or rejected alike; a Shijim line gives the same event, a seed
 * line the same event but for seq = the line number and ts/recv_ts moved by
 * exactly the shift, always under the seed's source id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse/ch_jsonl.h"
#include "core/shj_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The reader is given exactly the line's bytes (no NUL): copy to a
     * heap block of that size so ASan catches any read past it. */
    char *line = malloc(size ? size : 1);
    memcpy(line, data, size);
    shj_event ev, ev2;
    char why[256], why2[256];
    why[0] = why2[0] = '\0';
    chj_info info, info2;
    int rc = chj_parse_line_ex(line, size, NULL, &ev, &info, why, sizeof why);
    chj_opts o = {0, 12345};
    int rc2 = chj_parse_line_ex(line, size, &o, &ev2, &info2, why2, sizeof why2);
    if (rc != rc2) abort();
    if (rc == SHJ_OK) {
        if (ev.kind != SHJ_KIND_TICK && ev.kind != SHJ_KIND_QUOTE && ev.kind != SHJ_KIND_BIDASK) abort();
        if (!memchr(ev.code, '\0', sizeof ev.code)) abort();
        if (info.format != info2.format || info.rounded != info2.rounded) abort();
        if (info.format == CHJ_FORMAT_SEED) {
            if (ev.source_id != CHJ_SEED_SOURCE_ID || ev.seq != 0 || ev2.seq != 12345) abort();
            if (ev2.ts_exch_ns - ev.ts_exch_ns != CHJ_SEED_SHIFT_NS || ev.ts_recv_ns != ev.ts_exch_ns) abort();
            if (ev.ts_exch_ns % 1000 != 0) abort(); /* rounded to the microsecond */
            ev2.seq = ev.seq;
            ev2.ts_exch_ns = ev.ts_exch_ns;
            ev2.ts_recv_ns = ev.ts_recv_ns;
        }
        if (memcmp(&ev, &ev2, sizeof ev) != 0) abort();
    } else if (why[0] == '\0' || why2[0] == '\0') {
        abort();
    }
    free(line);
    return 0;
}
