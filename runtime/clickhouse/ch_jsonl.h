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
 *
 * Also reads the lines of the Python shijim (the "seed", Charliesj0129/shijim)
 * that users migrate from: a line with "ts_ns"/"type" and no "kind" is one of
 * its MD_TICK/MD_BOOK events. Its float prices are read from the JSON number
 * text (never through a double) and rounded to SHJ_PRICE_DECIMALS places,
 * ties away from zero (chj_info.rounded counts values that needed it; Shioaji
 * sends at most 6 places, so a shortest-round-trip float prints them exactly
 * and nothing is rounded in practice). Its ts_ns is Taipei wall time labelled
 * UTC, through a float: rounded to the microsecond and shifted by
 * chj_opts.seed_shift_ns (8 h). Such rows get source CHJ_SEED_SOURCE_ID and
 * seq = the line's number in its file, so restoring a file twice collapses
 * under ReplacingMergeTree (code, ts, source, seq) like any other row.
 */
#ifndef SHJ_CH_JSONL_H
#define SHJ_CH_JSONL_H

#include <stddef.h>

#include "core/clock.h"
#include "core/shj_event.h"

#include <stdint.h>

#define CHJ_SEED_SOURCE_ID 65535                        /* source of rows read from the seed's lines */
/* the seed's ts_ns minus this is UTC: it labelled Taipei wall time (UTC+8) as UTC */
#define CHJ_SEED_SHIFT_NS ((int64_t)CLK_TAIPEI_OFFSET_S * CLK_NS_PER_SEC)

enum { CHJ_FORMAT_SHIJIM = 0, CHJ_FORMAT_SEED = 1 };

typedef struct chj_opts {
    int64_t seed_shift_ns; /* subtracted from a seed line's ts_ns (CHJ_SEED_SHIFT_NS) */
    uint64_t line_no;      /* a seed row's seq: its line number in the file */
} chj_opts;

typedef struct chj_info {
    int format;            /* CHJ_FORMAT_* of the line */
    int rounded;           /* seed values rounded to SHJ_PRICE_DECIMALS places */
} chj_info;

/* Parse s[0..n) (no newline). SHJ_OK and *ev filled (zeroed first), or SHJ_ERR
 * with the reason in why[cap]. Seed lines get the default chj_opts (line 0). */
int chj_parse_line(const char *s, size_t n, shj_event *ev, char *why, size_t cap);
/* The same with options (NULL: defaults) and what was read (info may be NULL). */
int chj_parse_line_ex(const char *s, size_t n, const chj_opts *o, shj_event *ev, chj_info *info, char *why,
                      size_t cap);

#endif
