/* ch_restore.h — the C half of `shijim restore.lua`: read fallback JSONL
 * files exactly, validate, batch, insert, archive.
 *
 * Owns: one fallback file at a time (chr_file): its lock, the line reader,
 * the current batch of parsed rows, the file's counters, the
 * <name>.rejected.jsonl beside it, and the atomic move into the archive.
 * And the blocking ClickHouse client restore inserts through (chr_client).
 *
 * Locking (see ch_fallback.h): a file opened for apply holds an exclusive
 * flock from open to close, so the live writer never appends to it while it
 * is replayed and archived (the writer then uses <date>.1.jsonl). A dry-run
 * takes a shared lock only, and writes nothing at all (no rejected file).
 *
 * Idempotence: rows are inserted into ReplacingMergeTree tables keyed by
 * (code, ts, source, seq), so replaying a file again — after a crash, a
 * kill -9, or by mistake — adds no rows under FINAL. A file is moved to the
 * archive only after its last batch was acknowledged and only if none of its
 * lines was rejected; rename(2) with RENAME_NOREPLACE makes the move atomic
 * and never overwrites an archived file.
 *
 * The Lua side (scripts/restore.lua) drives it through the FFI block below.
 */
#ifndef SHJ_CH_RESTORE_H
#define SHJ_CH_RESTORE_H

#include <stddef.h>
#include <stdint.h>

/* FFI-BEGIN */
typedef struct chr_file chr_file;
typedef struct chr_client chr_client;

enum {
    CHR_DRY_RUN = 0,
    CHR_APPLY = 1,
    CHR_SEED_SOURCE_ID = 65535 /* source of rows from the Python shijim's lines (ch_jsonl.h CHJ_SEED_SOURCE_ID) */
};

typedef struct chr_counts {
    uint64_t lines;          /* lines read so far */
    uint64_t rows_ticks;     /* valid rows so far, by table */
    uint64_t rows_bidasks;
    uint64_t rows_tick_kind; /* by kind: tick, quote, bidask */
    uint64_t rows_quote_kind;
    uint64_t rows_bidask_kind;
    uint64_t rejected;       /* malformed lines so far (a torn last line not included) */
    uint64_t torn_tail;      /* 1: the last line had no newline and did not parse: a writer cut
                                off mid-line (quarantined like a rejected line, not an error) */
    uint64_t inserted;       /* rows acknowledged by ClickHouse (C client) */
    uint64_t bytes_read;
    uint64_t file_bytes;     /* size when opened */
    int64_t ts_min;          /* exchange time range of valid rows (0/0 when none) */
    int64_t ts_max;
    uint64_t rows_seed;      /* valid rows in the Python shijim's format (ch_jsonl.h), times corrected */
    uint64_t rounded;        /* seed values rounded to SHJ_PRICE_DECIMALS places */
} chr_counts;

/* Sorted "ticks/2026-11-25.jsonl\n..." relative paths of the fallback files
 * under dir (rejected files excluded) into out[cap]: *.jsonl at the top and
 * in ticks/, bidasks/ (Shijim) and books/ (the Python shijim's order books).
 * Returns the number of files, or -1 with err (missing dir, not a
 * directory, out too small). */
int chr_list(const char *dir, char *out, size_t cap, char *err, size_t errlen);
/* What chr_list does not read, so that nothing is skipped silently: every
 * other sub-directory of dir, and every sub-directory of ticks/, bidasks/,
 * books/, as sorted "name/<TAB>files\n" lines (files: regular files under
 * it, recursively) into out[cap]. Returns the number of lines, or -1. */
int chr_list_unknown(const char *dir, char *out, size_t cap, char *err, size_t errlen);

chr_file *chr_open(const char *path, int mode, char *err, size_t errlen);
/* Hours the Python shijim's ts_ns are ahead of UTC (default 8: it stored
 * Taipei wall time labelled UTC; 0 for a seed fixed to store UTC). Set
 * before the first chr_next_batch. */
void chr_set_seed_offset_h(chr_file *f, int hours);
/* Read up to max_rows valid rows into the batch (replacing it). Returns the
 * rows in the batch: 0 at end of file, -1 on an I/O error (err). Malformed
 * lines are counted, listed (chr_reject_*), and in apply mode appended to the
 * rejected file with the reason. */
int chr_next_batch(chr_file *f, int max_rows, char *err, size_t errlen);
/* Row i of the batch as an event (const shj_event *), its line number and
 * original text (exactly as in the file, no newline). */
const void *chr_batch_event(const chr_file *f, int i);
uint64_t chr_batch_line_no(const chr_file *f, int i);
const char *chr_batch_text(const chr_file *f, int i, size_t *len);
/* Malformed lines met by the last chr_next_batch call (also when it
 * returned 0: read them before stopping). */
int chr_reject_count(const chr_file *f);
uint64_t chr_reject_line_no(const chr_file *f, int i);
const char *chr_reject_reason(const chr_file *f, int i);
void chr_get_counts(const chr_file *f, chr_counts *out);
/* Insert the current batch through c (blocking; retried 3 times on
 * transient errors). SHJ_OK once ClickHouse acknowledged every row. */
int chr_insert_batch(chr_file *f, chr_client *c, char *err, size_t errlen);
/* Move the file to archive_dir/rel_path (rel_path as from chr_list) while
 * still holding its lock; an existing name gets .1, .2 ... Writes the
 * destination into dest[cap]. */
int chr_archive(chr_file *f, const char *archive_dir, const char *rel_path, char *dest, size_t cap,
                char *err, size_t errlen);
/* Close (fsyncs the rejected file). SHJ_OK or SHJ_ERR (err). */
int chr_close(chr_file *f, char *err, size_t errlen);

/* A blocking client for dsn. create_schema: CREATE DATABASE/TABLE IF NOT
 * EXISTS (version-aware) on connect. Fails with a clear message on a bad DSN,
 * an unreachable server, or bad credentials (never printing the password). */
chr_client *chr_client_new(const char *dsn, int create_schema, char *err, size_t errlen);
/* Run one statement; the response body (truncated to cap) goes to out. */
int chr_client_exec(chr_client *c, const char *sql, char *out, size_t cap, char *err, size_t errlen);
/* The ALTER TABLE statements (";\n"-terminated) that bring the tables'
 * decimal columns to the scale Shijim writes (Decimal64(SHJ_PRICE_DECIMALS));
 * "" when they already have it. Returns the length, or -1 with err. The
 * first chr_insert_batch refuses tables that need it. */
int chr_client_migrate_sql(chr_client *c, char *out, size_t cap, char *err, size_t errlen);
const char *chr_client_version(const chr_client *c);
const char *chr_client_redacted(const chr_client *c);
void chr_client_free(chr_client *c);

/* Schema text for a version ("18.16.1", "23.8"; NULL = oldest) and database. */
size_t chr_schema_sql(const char *version, const char *db, char *out, size_t cap);

/* Size of a file in bytes, -1 if it cannot be stat()ed. */
int64_t chr_file_size(const char *path);
/* FFI-END */

struct shj_event;
/* Insert events (stored kinds; others are skipped) through c, blocking, one
 * INSERT per table, retried like chr_insert_batch. Used by the reconcile
 * (ch_reconcile.h). SHJ_OK once ClickHouse acknowledged every row. */
int chr_client_insert(chr_client *c, const struct shj_event *evs, size_t n, char *err, size_t errlen);

#endif
