/* fuzz_parse.c — libFuzzer target: the Shioaji payload parser.
 *
 * Oracle: the loop path (psr_parse, whose date memo is warm from earlier
 * inputs) and the worker path (psr_parse_payload with a fresh memo, as a
 * replay worker starting a new block has, then psr_resolve) give the same
 * result and, for an event, the same bytes. Replay parses on workers while
 * live parses on the loop, so any difference is an event that would replay
 * differently from how it was recorded. Input: byte 0 picks the tag, the rest
 * is the payload (given with its exact length, no NUL, on the heap).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_event.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int tag = data[0] % PSR_TAG_MAX;
    size_t n = size - 1;
    char *json = malloc(n ? n : 1);
    memcpy(json, data + 1, n);

    shj_event a, b;
    char ea[256] = "", eb[256] = "";
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    int ra = psr_parse(tag, json, n, &a, ea, sizeof ea);
    psr_memo memo;
    memset(&memo, 0, sizeof memo);
    int rb = psr_parse_payload(&memo, tag, json, n, &b, eb, sizeof eb);
    if (rb == PSR_EVENT) rb = psr_resolve(&b, eb, sizeof eb);
    if (ra != rb) abort();
    if (ra == PSR_EVENT && memcmp(&a, &b, sizeof a) != 0) abort();
    if (ra == PSR_MALFORMED && (!ea[0] || !eb[0])) abort(); /* a rejection always says why */
    free(json);
    return 0;
}
