/* sj_ratewin.h — one sliding-window rate limit: at most `max` events in any
 * `window` of monotonic time.
 *
 * Owns the send times of the last `max` events (a fixed ring) and nothing
 * else. Sinopac states both of the Shioaji source's limits this way — REST
 * calls per window, and historical-ticks queries per 10 s (tutor_limit.md) —
 * so the REST pacer and the backfill budget share this one helper instead of
 * keeping two hand-written rings. Not thread-safe: one owner (the loop).
 */
#ifndef SHJ_SJ_RATEWIN_H
#define SHJ_SJ_RATEWIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct sj_ratewin {
    int64_t *t;        /* send times (mono ns), ring of cap */
    size_t head, n, cap;
    int64_t window_ns;
} sj_ratewin;

/* SHJ_OK, or SHJ_ERR when out of memory (w unchanged). max >= 1. */
int sj_ratewin_init(sj_ratewin *w, size_t max, int64_t window_ns);
void sj_ratewin_free(sj_ratewin *w);
/* A new bound, keeping the most recent send times (the window's memory
 * survives a change of the limit). SHJ_OK or SHJ_ERR (w unchanged). */
int sj_ratewin_resize(sj_ratewin *w, size_t max);
/* Calls that may go now. */
size_t sj_ratewin_room(sj_ratewin *w, int64_t now);
/* 0 when a call may go now, else ns until the oldest leaves the window. */
int64_t sj_ratewin_wait_ns(sj_ratewin *w, int64_t now);
/* One call sent at `now` (the caller checked the room). */
void sj_ratewin_note(sj_ratewin *w, int64_t now);

#endif
