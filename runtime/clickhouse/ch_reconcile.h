/* ch_reconcile.h — make ClickHouse hold what the raw archive holds, after a
 * crash, by replaying the unacknowledged records of a source's day files.
 *
 * Owns: one pass over <archive_dir>/<source>/<day>.shjraw (the archive's own
 * file names; no day rule here) and their watermarks (ch_mark.h).
 *
 * What it replays, per day file F, in name order:
 *   - records with seq > acked of F's mark; a file without a mark takes the
 *     acked of the nearest older file that has one (sequences increase
 *     across files); the newest file, when no file has a mark yet, entirely;
 *     files older than the oldest mark are history recorded without
 *     ClickHouse and are left alone;
 *   - records in any unsaved range of any mark (rows ClickHouse did not
 *     take: they went to the fallback, or nowhere when its disk was full).
 * A file whose mark says the last reconcile read it to its end, with every
 * record acknowledged and no unsaved range over it, is not read again.
 * Rows are parsed from the payloads exactly as live (psr_parse, the quote's
 * book half), with the recorded seq and receive time and the live source's
 * id, and inserted with blocking INSERTs: a record replayed twice collapses
 * under the ReplacingMergeTree key (code, ts, source, seq), so a replay of
 * too much is harmless and too little is what this exists to prevent.
 *
 * Durability: marks are rewritten (atomically, ch_mark.h) only after
 * ClickHouse acknowledged every replayed row. When ClickHouse cannot take
 * them (down, refusing), nothing counts as done: every range still to
 * replay is written into the marks as unsaved, so a writer that now moves
 * acked forward cannot hide it, and the next start (or verify.lua
 * --reconcile) tries again.
 *
 * Threading: blocking; call before the loop runs (chw_route does) or from a
 * tool. Uses the parser's instrument table (loop thread's).
 */
#ifndef SHJ_CH_RECONCILE_H
#define SHJ_CH_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_mark.h"

typedef struct chrc_result {
    uint64_t files;            /* day files of the source */
    uint64_t files_read;       /* files read (the others were complete) */
    uint64_t records_read;
    uint64_t records_replayed; /* records whose rows were inserted again */
    uint64_t rows_inserted;    /* acknowledged by ClickHouse */
    uint64_t max_seq;          /* highest sequence in the source's archive (0: none) */
    int ch_failed;             /* 1: ClickHouse did not take them; pending says what waits */
    chm_mark pending;          /* ranges still to replay (acked = max_seq) */
    char error[400];           /* why ch_failed (redacted) */
} chrc_result;

/* Reconcile one source. SHJ_OK when nothing is left to replay (also when
 * there is no archive yet); SHJ_AGAIN when ClickHouse could not take the rows
 * (res->pending, res->error; the marks say so durably); SHJ_ERR with err for
 * a local failure (unreadable directory or mark, a mark that cannot be
 * written). source_id: the live source's id (the table's `source`). */
int chrc_run(const char *archive_dir, const char *source, uint16_t source_id, const char *dsn,
             int create_schema, chrc_result *res, char *err, size_t errlen);

#endif
