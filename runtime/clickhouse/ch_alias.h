/* ch_alias.h — continuous aliases (TXFR1) the sources resolved, for the
 * ClickHouse table <db>.aliases.
 *
 * Owns, per writer, the (trading_day, alias) rows already written (cha_rows),
 * from the process-wide map of resolved aliases (core/resolved.h). A row is made when the writer stores an
 * event of a real code some alias currently resolves to: its trading_day is
 * the event's (the same as the row's in ticks), so a recording that runs over
 * several days, or rolls the alias at expiry, gets one row per day with the
 * month the alias meant on that day.
 *
 * The rows are metadata: they are inserted by the writer when it is UP
 * (FORMAT TabSeparated), kept and retried while it is not, and not written
 * to the fallback (the next run notes them again; ReplacingMergeTree
 * (alias, trading_day) keeps one). Loop thread only.
 */
#ifndef SHJ_CH_ALIAS_H
#define SHJ_CH_ALIAS_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"
#include "core/bytebuf.h"

#define CHA_ROWS_MAX 4096 /* (trading_day, alias) rows remembered per writer */

typedef struct cha_rows {
    struct { int64_t day; char alias[16]; } done[CHA_ROWS_MAX];
    int ndone;
    bb_buf pending;   /* TabSeparated rows not yet acknowledged */
    bb_buf sending;   /* the body of the insert in flight */
    int busy;         /* an insert is in flight */
    int failed_logged;
    int64_t memo_min, memo_day; /* trading day of the last minute looked up (+1: valid) */
} cha_rows;

/* For an event about to be stored: append the aliases rows it proves (a
 * noted alias resolving to ev->code, on ev's trading day) that were not
 * written yet. Returns how many rows were added. */
int cha_collect(cha_rows *r, const shj_event *ev);
/* The INSERT statement for db's aliases table. */
size_t cha_insert_sql(const char *db, char *buf, size_t cap);
void cha_rows_free(cha_rows *r);

#endif
