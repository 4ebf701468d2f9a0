/* ch_mark.h — the ClickHouse watermark of a raw archive day file.
 *
 * Owns: the small text file <raw dir>/<source>/<day>.chmark beside the
 * archive's day file <day>.shjraw (the name is the archive's own: the mark
 * path is derived from the archive file's path, never from a day rule), and
 * the set of sequence numbers it describes.
 *
 * Meaning. A record of the source with sequence s is "acknowledged" when
 * ClickHouse answered HTTP 200 to the INSERT holding its rows. The mark
 * says: every record with seq <= acked is acknowledged, except those in the
 * unsaved ranges: rows ClickHouse did not take, which went to the JSONL
 * fallback (also listed, so that no manual restore is needed) or could be
 * saved nowhere (fallback disk full: issue 11, fault 3). Everything else in the
 * day file (seq > acked, or inside an unsaved range) must come from the raw
 * archive: the reconcile (ch_reconcile.h) replays exactly that at the next
 * start. Sequences are per source and increase across restarts (the
 * reconcile continues the source's sequence after the archive's highest),
 * so one number splits "done" from "to replay" in every day file. A mark
 * may claim less than is true (the replay then re-inserts rows, which the
 * ReplacingMergeTree key (code, ts, source, seq) collapses), never more.
 *
 * WHY a file beside the archive, not a table in ClickHouse: the mark must be
 * readable when ClickHouse is down (that is when it matters most), it
 * belongs to exactly one archive file (moving or deleting a day moves its
 * mark with it), and a rename is atomic: the file is written as temp ->
 * fsync -> rename -> fsync(dir), so after any crash it is the old or the new
 * mark, never a torn one.
 *
 * Format (text, one item a line, unknown lines refused):
 *   shijim-chmark 1
 *   acked <seq>
 *   file <first> <last>        (optional: the file's range when a reconcile read it)
 *   unsaved <from> <to>        (inclusive, zero or more, sorted, disjoint)
 *
 * Threading: plain functions on caller-owned structs; no shared state.
 */
#ifndef SHJ_CH_MARK_H
#define SHJ_CH_MARK_H

#include <stddef.h>
#include <stdint.h>

#define CHM_MAX_RANGES 64 /* more are merged into supersets (more replay, never less) */

typedef struct chm_range {
    uint64_t from, to; /* inclusive sequence range */
} chm_range;

typedef struct chm_mark {
    uint64_t file_first, file_last;    /* the day file's sequence range as the last reconcile read
                                          it (0 0: unknown, e.g. written by the live writer) */
    uint64_t acked;                     /* records with seq <= acked are acknowledged ... */
    size_t n;                           /* ... except these ranges */
    chm_range unsaved[CHM_MAX_RANGES];  /* sorted by from, disjoint, not adjacent */
} chm_mark;

/* The mark's path for an archive day file ("…/2026-11-25.shjraw" ->
 * "…/2026-11-25.chmark"). SHJ_ERR when archive_path does not end in
 * ".shjraw" or out is too small. */
int chm_path_for(const char *archive_path, char *out, size_t cap);
/* Read path into *m. *exists = 0 (and *m zeroed, SHJ_OK) when there is no
 * file; SHJ_ERR with err (file:line) when it is unreadable or malformed. */
int chm_load(const char *path, chm_mark *m, int *exists, char *err, size_t errlen);
/* Write atomically and durably (temp, fsync, rename, fsync the directory),
 * with mode 0640. SHJ_OK or SHJ_ERR with err naming the path and strerror. */
int chm_save(const char *path, const chm_mark *m, char *err, size_t errlen);
/* Add [from, to] to the unsaved ranges (merging; when full, the two closest
 * ranges become one superset). */
void chm_add(chm_mark *m, uint64_t from, uint64_t to);
/* Add every range of src. */
void chm_add_all(chm_mark *m, const chm_mark *src);
/* 1 when seq is in an unsaved range. */
int chm_unsaved(const chm_mark *m, uint64_t seq);
/* Rows of the unsaved ranges, counted as sequence numbers. */
uint64_t chm_unsaved_count(const chm_mark *m);
/* "12-40,77-90" (truncated with "..." to cap); returns out. */
const char *chm_ranges_text(const chm_mark *m, char *out, size_t cap);

#endif
