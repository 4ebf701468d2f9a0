/* ch_fallback.h — the zero-loss JSONL fallback for rows ClickHouse did not take.
 *
 * Owns: files <dir>/<table>/<YYYY-MM-DD>.jsonl ("ticks", "bidasks"; the date
 * is the trading day of each event's exchange time, core/session's rule), one
 * event_json object per line (exact unquoted decimals, ClickHouse
 * JSONEachRow-compatible), appended and fsynced.
 *
 * Durability: chf_append_* returns SHJ_OK only after every line of the call
 * is written and fsync()ed (and the directory fsynced when a file was
 * created); only then may the caller drop the rows from memory. On failure
 * (ENOSPC, EIO ...) the file is cut back to its previous length, so no torn
 * line is left behind, and the error names the path and strerror.
 *
 * Sharing with `restore.lua`: every append takes an exclusive flock on the
 * file, and checks after locking that the path still names the file it
 * opened. Restore holds the same lock while it replays a file and moves it
 * to the archive. If restore holds the lock, the append goes to the next free
 * name (<date>.1.jsonl, <date>.2.jsonl ...) instead of waiting, so the event
 * loop never blocks on restore.
 *
 * Threading: one thread at a time per chf_dir (the live writer uses a
 * fallback thread of its own); chf_set_fault may be called from another.
 */
#ifndef SHJ_CH_FALLBACK_H
#define SHJ_CH_FALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "clickhouse/ch_schema.h"
#include "core/shj_event.h"

typedef struct chf_dir chf_dir;

typedef struct chf_stats {
    uint64_t appends;   /* successful fsynced appends (one per file per call) */
    uint64_t rows;      /* rows made durable */
    uint64_t bytes;     /* JSONL bytes made durable */
    uint64_t failures;  /* appends that failed (rows kept by the caller) */
} chf_stats;

/* Create dir (and parents) if missing; fail when it cannot be created or
 * written. */
chf_dir *chf_open(const char *dir, char *err, size_t errlen);
void chf_close(chf_dir *f);
const char *chf_path(const chf_dir *f);

/* Append events (any stored kind; each line goes to its table's directory). */
int chf_append_events(chf_dir *f, const shj_event *evs, size_t n, char *err, size_t errlen);
/* Append n_rows RowBinary rows of table t (decoded back to events). */
int chf_append_rowbinary(chf_dir *f, chs_table t, const uint8_t *rows, size_t len, size_t n_rows,
                         char *err, size_t errlen);

void chf_get_stats(const chf_dir *f, chf_stats *out);

/* Tests: make writes fail with err_no (e.g. ENOSPC) once more than
 * byte_budget further bytes have been written (a disk that fills up mid-line).
 * err_no 0 turns it off. */
void chf_set_fault(chf_dir *f, int err_no, uint64_t byte_budget);

/* The Taipei date "YYYY-MM-DD" of a UTC ns time (file names). */
void chf_date(int64_t ts_ns, char out[11]);

#endif
