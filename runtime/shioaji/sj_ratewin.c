/* sj_ratewin.c — the sliding-window rate limit (see sj_ratewin.h). */
#include "shioaji/sj_ratewin.h"

#include <stdlib.h>

#include "core/shj_common.h"

int sj_ratewin_init(sj_ratewin *w, size_t max, int64_t window_ns) {
    int64_t *t = calloc(max ? max : 1, sizeof *t);
    if (!t) return SHJ_ERR;
    *w = (sj_ratewin){.t = t, .cap = max ? max : 1, .window_ns = window_ns};
    return SHJ_OK;
}

void sj_ratewin_free(sj_ratewin *w) {
    free(w->t);
    *w = (sj_ratewin){0};
}

int sj_ratewin_resize(sj_ratewin *w, size_t max) {
    if (!max) max = 1;
    int64_t *t = calloc(max, sizeof *t);
    if (!t) return SHJ_ERR;
    size_t keep = w->n < max ? w->n : max;
    for (size_t i = 0; i < keep; i++) t[i] = w->t[(w->head + w->n - keep + i) % w->cap];
    free(w->t);
    w->t = t;
    w->cap = max;
    w->head = 0;
    w->n = keep;
    return SHJ_OK;
}

/* Forget the calls that left the window. */
static void expire(sj_ratewin *w, int64_t now) {
    while (w->n && now - w->t[w->head] >= w->window_ns) {
        w->head = (w->head + 1) % w->cap;
        w->n--;
    }
}

size_t sj_ratewin_room(sj_ratewin *w, int64_t now) {
    expire(w, now);
    return w->cap - w->n;
}

int64_t sj_ratewin_wait_ns(sj_ratewin *w, int64_t now) {
    if (sj_ratewin_room(w, now)) return 0;
    return w->t[w->head] + w->window_ns - now;
}

void sj_ratewin_note(sj_ratewin *w, int64_t now) {
    if (w->n == w->cap) { /* the caller ignored the room: the oldest gives way */
        w->head = (w->head + 1) % w->cap;
        w->n--;
    }
    w->t[(w->head + w->n) % w->cap] = now;
    w->n++;
}
