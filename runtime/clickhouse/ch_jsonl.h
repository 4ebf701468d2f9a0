/* ch_jsonl.h — one fallback JSONL line (event_json.h's format) -> shj_event.
 *
 * Owns: the strict reader of what evj_format writes, used by restore. Exact:
 * decimals are read as text with dec_parse (no double anywhere), 64-bit
 * integers as text. Validates everything a row needs — kind, code, exchange,
 * security type, times, sequence, source, flags, every price/volume field of
 * the kind (arrays of exactly 5) — and explains a rejection with the field
 * name and the byte column, e.g. "field 'close': '58x.5' is not an exact
 * decimal (column 212)". Unknown keys are checked for JSON syntax and
 * otherwise ignored (evj_format may grow); duplicate keys are rejected.
 * Decimals and integers may also be given as JSON strings ("585.5").
 */
#ifndef SHJ_CH_JSONL_H
#define SHJ_CH_JSONL_H

#include <stddef.h>

#include "core/shj_event.h"

/* Parse s[0..n) (no newline). SHJ_OK and *ev filled (zeroed first), or SHJ_ERR
 * with the reason in why[cap]. */
int chj_parse_line(const char *s, size_t n, shj_event *ev, char *why, size_t cap);

#endif
