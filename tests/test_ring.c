/* test_ring.c — the growable FIFO: order across growth and wrap, pop/at
 * bounds, reuse after free, element sizes other than a word, push_front
 * (a retry ahead of the queue) across wrap and growth, and a fixed window
 * (pop the oldest at a cap, as the Shioaji backfill's seen-ticks ring). */
#include <stdint.h>
#include <string.h>

#include "core/ring.h"
#include "t.h"

typedef struct big {
    uint64_t v;
    char pad[200];
} big;

int main(void) {
    ring r;
    ring_init(&r, sizeof(uint32_t), 4);
    CHECK_EQ_I64(ring_len(&r), 0);
    CHECK(ring_front(&r) == NULL);
    CHECK(ring_at(&r, 0) == NULL);
    ring_pop(&r); /* no-op when empty */
    CHECK_EQ_I64(ring_len(&r), 0);

    /* Interleave pushes and pops so the head wraps before every growth. */
    uint32_t next_in = 0, next_out = 0;
    int bad = 0;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 3 + round % 5; i++) {
            uint32_t *slot = ring_push(&r);
            CHECK(slot != NULL);
            *slot = next_in++;
        }
        for (int i = 0; i < 2 && ring_len(&r); i++) {
            if (*(uint32_t *)ring_front(&r) != next_out++) bad++;
            ring_pop(&r);
        }
        for (size_t i = 0; i < ring_len(&r); i++)
            if (*(uint32_t *)ring_at(&r, i) != next_out + i) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(ring_len(&r), next_in - next_out);
    CHECK(ring_at(&r, ring_len(&r)) == NULL);
    while (ring_len(&r)) {
        if (*(uint32_t *)ring_front(&r) != next_out++) bad++;
        ring_pop(&r);
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(next_out, next_in);
    ring_free(&r);
    CHECK_EQ_I64(ring_len(&r), 0);

    /* reusable after free; large elements keep their bytes across growth */
    ring_init(&r, sizeof(big), 0);
    for (uint64_t i = 0; i < 1000; i++) {
        big *b = ring_push(&r);
        b->v = i;
        memset(b->pad, (int)(i & 0x7f), sizeof b->pad);
    }
    for (uint64_t i = 0; i < 1000; i++) {
        const big *b = ring_front(&r);
        if (b->v != i || b->pad[0] != (char)(i & 0x7f) || b->pad[199] != (char)(i & 0x7f)) bad++;
        ring_pop(&r);
    }
    CHECK_EQ_I64(bad, 0);
    ring_free(&r);

    /* push_front: on an empty ring, on a wrapped one, and when it must grow.
     * Model: a deque in an array, fronts prepended, backs appended. */
    ring_init(&r, sizeof(int32_t), 2);
    int32_t model[4096];
    int mlo = 2048, mhi = 2048; /* model[mlo..mhi) */
    for (int step = 0; step < 1500; step++) {
        int op = (step * 7919) % 5; /* deterministic mix: 2 backs, 2 fronts, 1 pop */
        if (op < 2) {
            int32_t *slot = ring_push(&r);
            CHECK(slot != NULL);
            *slot = step;
            model[mhi++] = step;
        } else if (op < 4) {
            int32_t *slot = ring_push_front(&r);
            CHECK(slot != NULL);
            *slot = -step;
            model[--mlo] = -step;
        } else if (mhi > mlo) {
            if (*(int32_t *)ring_front(&r) != model[mlo]) bad++;
            ring_pop(&r);
            mlo++;
        }
        if (ring_len(&r) != (size_t)(mhi - mlo)) bad++;
        for (int i = mlo; i < mhi; i += 97)
            if (*(int32_t *)ring_at(&r, (size_t)(i - mlo)) != model[i]) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    for (int i = mlo; i < mhi; i++)
        if (*(int32_t *)ring_at(&r, (size_t)(i - mlo)) != model[i]) bad++;
    CHECK_EQ_I64(bad, 0);
    ring_free(&r);

    /* a window of the last 8: pop at the cap before each push, never grows */
    ring_init(&r, sizeof(uint32_t), 8);
    for (uint32_t i = 0; i < 100; i++) {
        if (ring_len(&r) == 8) ring_pop(&r);
        *(uint32_t *)ring_push(&r) = i;
    }
    CHECK_EQ_I64(ring_len(&r), 8);
    for (uint32_t i = 0; i < 8; i++) CHECK_EQ_I64(*(uint32_t *)ring_at(&r, i), 92 + i);
    ring_free(&r);
    T_DONE();
}
