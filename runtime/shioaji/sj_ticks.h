/* sj_ticks.h — the rows of a Shioaji /api/v1/data/ticks answer.
 *
 * Owns: reading the answer's column arrays (one array per field, row i in
 * element i of each) into exact rows. 1.7.x sends "datetime" (ISO Taipei
 * local text); older servers "ts" (Taipei local time counted as if UTC, ns).
 * Prices are read from their JSON text with dec_parse (never a double).
 *
 * Guarantees: never reads outside the answer; a row that cannot be read is
 * reported as such and the walk goes on with the next; columns of unequal
 * length end the walk (reported once). No allocation. Used by
 * sj_backfill.c and fuzzed alone (tests/fuzz/fuzz_ticks.c).
 */
#ifndef SHJ_SJ_TICKS_H
#define SHJ_SJ_TICKS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sj_ticks_row {
    int64_t ts_ns;     /* exchange time, UTC ns */
    int64_t price;     /* close × SHJ_PRICE_SCALE */
    int64_t volume;
    int64_t tick_type; /* 0 when the answer has no tick_type column */
} sj_ticks_row;

typedef struct sj_ticks_reader { /* private */
    const char *pts, *ets, *pcl, *ecl, *pvo, *evo, *ptt, *ett;
    int iso, have_tt, done;
} sj_ticks_reader;

enum {
    SJ_TICKS_ROW = 1,   /* *row filled */
    SJ_TICKS_END = 0,   /* no more rows */
    SJ_TICKS_BAD = -1,  /* this row is unreadable: count it, call again for the next */
    SJ_TICKS_BROKEN = -2 /* malformed or unequal columns: count one bad row, the walk is over */
};

/* SHJ_OK, or SHJ_ERR when the answer lacks datetime/ts, close or volume. */
int sj_ticks_open(sj_ticks_reader *r, const char *body, size_t len);
/* 1 when the answer has no rows at all (only valid right after sj_ticks_open). */
int sj_ticks_empty(const sj_ticks_reader *r);
/* SJ_TICKS_ROW, SJ_TICKS_END, SJ_TICKS_BAD or SJ_TICKS_BROKEN. */
int sj_ticks_next(sj_ticks_reader *r, sj_ticks_row *row);

/* "2026-05-18T09:00:08.306075" (or with a space), Taipei local -> UTC ns;
 * INT64_MIN when it is not such a time. */
int64_t sj_ticks_iso_local_ns(const char *s);

#endif
