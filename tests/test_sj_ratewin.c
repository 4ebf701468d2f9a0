/* test_sj_ratewin.c — the Shioaji source's one sliding-window rate limit
 * (REST pacing and the backfill budget share it): room, the wait until the
 * oldest call leaves the window, a resize that keeps the recent calls, a
 * window changed in place. */
#include "core/shj_common.h"
#include "shioaji/sj_ratewin.h"
#include "t.h"

#define S 1000000000LL

int main(void) {
    sj_ratewin w;
    CHECK(sj_ratewin_init(&w, 3, 10 * S) == SHJ_OK);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 0), 3);
    CHECK_EQ_I64(sj_ratewin_wait_ns(&w, 0), 0);
    sj_ratewin_note(&w, 1 * S);
    sj_ratewin_note(&w, 2 * S);
    sj_ratewin_note(&w, 4 * S);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 5 * S), 0);
    /* Full: the oldest call (1 s) leaves the window at 11 s. */
    CHECK_EQ_I64(sj_ratewin_wait_ns(&w, 5 * S), 6 * S);
    CHECK_EQ_I64(sj_ratewin_wait_ns(&w, 11 * S - 1), 1);
    CHECK_EQ_I64(sj_ratewin_wait_ns(&w, 11 * S), 0);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 12 * S), 2); /* 1 s and 2 s have left */
    sj_ratewin_note(&w, 12 * S);
    /* 50 per 10 s -> 2: the two most recent calls (4 s, 12 s) still count. */
    CHECK(sj_ratewin_resize(&w, 2) == SHJ_OK);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 13 * S), 0);
    CHECK_EQ_I64(sj_ratewin_wait_ns(&w, 13 * S), 1 * S); /* 4 s leaves at 14 s */
    /* A shorter window in place frees the room at once. */
    w.window_ns = 2 * S;
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 13 * S), 1);
    /* Growing keeps what is there. */
    CHECK(sj_ratewin_resize(&w, 5) == SHJ_OK);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 13 * S), 4);
    /* Noting past the bound makes the oldest give way, never overflows. */
    for (int i = 0; i < 7; i++) sj_ratewin_note(&w, 13 * S);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 13 * S), 0);
    CHECK_EQ_I64((int64_t)sj_ratewin_room(&w, 15 * S), 5);
    sj_ratewin_free(&w);
    T_DONE();
}
