/* fuzz_jsonl.c — libFuzzer target: the fallback JSONL reader (restore).
 *
 * Oracle: no crash or sanitizer report on any line; an accepted line is a
 * stored kind with a NUL-terminated code; a rejected line always says why.
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
    shj_event ev;
    char why[256];
    why[0] = '\0';
    int rc = chj_parse_line(line, size, &ev, why, sizeof why);
    if (rc == SHJ_OK) {
        if (ev.kind != SHJ_KIND_TICK && ev.kind != SHJ_KIND_QUOTE && ev.kind != SHJ_KIND_BIDASK) abort();
        if (!memchr(ev.code, '\0', sizeof ev.code)) abort();
    } else if (why[0] == '\0') {
        abort();
    }
    free(line);
    return 0;
}
