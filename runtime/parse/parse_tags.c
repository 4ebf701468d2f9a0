/* parse_tags.c — Shioaji SSE event names <-> psr_tag (see parse.h).
 *
 * Kept apart from parse.c so that the archive reader and dump can name tags
 * without pulling in the parser.
 */
#include <string.h>

#include "parse/parse.h"

static const char *const tag_names[PSR_TAG_MAX] = {
    [PSR_TAG_UNKNOWN] = "unknown",       [PSR_TAG_TICK_STK] = "tick_stk",
    [PSR_TAG_BIDASK_STK] = "bidask_stk", [PSR_TAG_TICK_FOP] = "tick_fop",
    [PSR_TAG_BIDASK_FOP] = "bidask_fop", [PSR_TAG_QUOTE_STK] = "quote_stk",
    [PSR_TAG_QUOTE_FOP] = "quote_fop",   [PSR_TAG_HEARTBEAT] = "heartbeat",
    [PSR_TAG_QUOTE_IDX] = "quote_idx",   [PSR_TAG_ORDER_EVENT] = "order_event",
    [PSR_TAG_CONTRACT_EVENT] = "contract_event",
};

psr_tag psr_tag_from_name(const char *name, size_t len) {
    for (int t = 1; t < PSR_TAG_MAX; t++) {
        if (strlen(tag_names[t]) == len && memcmp(tag_names[t], name, len) == 0) return (psr_tag)t;
    }
    return PSR_TAG_UNKNOWN;
}

const char *psr_tag_name(int tag) {
    return (tag > 0 && tag < PSR_TAG_MAX) ? tag_names[tag] : tag_names[0];
}
