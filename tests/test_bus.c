/* test_bus.c — the bus contract: fan-out in publish order, kind and
 * instrument filters, back-pressure from BUS_BLOCK subscribers, exact drop
 * counting for BUS_DROP ones, partial takes, ring wrap, unsubscribe and
 * subscribe from inside a callback, publishing from a callback, no
 * subscribers, late subscribers and stats.
 *
 * Every event's seq is its publish number (1, 2, ...); its kind and
 * instrument are pure functions of seq, so each test recomputes exactly which
 * events a subscriber must see.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bus.h"
#include "core/shj_common.h"
#include "t.h"

/* ------------------------------------------------------------ events */

static int kind_of(uint64_t seq) {
    static const int cycle[] = {SHJ_KIND_TICK, SHJ_KIND_BIDASK, SHJ_KIND_TICK, SHJ_KIND_STATUS,
                                SHJ_KIND_BIDASK, SHJ_KIND_QUOTE, SHJ_KIND_TICK, SHJ_KIND_BAR};
    return cycle[(seq * 2654435761u >> 7) % 8];
}

static uint32_t inst_of(uint64_t seq) { return 1 + (uint32_t)((seq * 40503u >> 3) % 16); }

static void ev_make(shj_event *ev, uint64_t seq) {
    memset(ev, 0, sizeof *ev);
    ev->kind = (uint8_t)kind_of(seq);
    ev->inst_id = inst_of(seq);
    ev->seq = seq;
    ev->close = (int64_t)seq * 5;
}

/* Publish events next_seq.. until the ring is full or count are published;
 * returns how many went in. */
static uint64_t g_seq; /* last seq published by pub() */

static size_t pub(bus *b, size_t count) {
    size_t i = 0;
    for (; i < count; i++) {
        shj_event *slot = bus_claim(b);
        if (!slot) break;
        ev_make(slot, g_seq + 1);
        bus_commit(b);
        g_seq++;
    }
    return i;
}

/* --------------------------------------------------------- recorder */

enum { TAKE_ALL, TAKE_NONE, TAKE_K, TAKE_RANDOM, TAKE_MOSTLY };

typedef struct rec {
    /* what the subscriber saw */
    uint64_t *seqs;
    size_t n, cap;
    size_t calls;
    uint64_t offered, refused;
    bool order_ok;       /* seqs strictly increasing across and within calls */
    bool aligned_ok;     /* every run starts on a 64-byte boundary */
    bool contiguous_ok;  /* unfiltered runs are consecutive seqs */
    bool expect_contig;
    size_t max_run;
    size_t last_run;     /* n of the latest call */
    /* how it behaves */
    int mode;
    size_t k;
    uint64_t rng;
    /* hooks for the callback-reentrancy tests */
    bus *b;
    bus_sub *self;
    bus_sub *victim;           /* unsubscribe this on the first call */
    bool unsub_self_after;     /* unsubscribe itself after the first call */
    bool subscribe_new;        /* subscribe `spawn` on the first call */
    struct rec *spawn;
    bus_sub *spawned;
    bool publish_inside;       /* publish until full on the first call */
    size_t published_inside;
    bool evs_intact;
} rec;

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void rec_init(rec *r, int mode) {
    memset(r, 0, sizeof *r);
    r->order_ok = r->aligned_ok = r->contiguous_ok = r->evs_intact = true;
    r->mode = mode;
    r->rng = 0x9e3779b97f4a7c15ull;
}

static void rec_free(rec *r) { free(r->seqs); }

static size_t rec_deliver(void *ctx, const shj_event *evs, size_t n) {
    rec *r = ctx;
    r->calls++;
    r->offered += n;
    r->last_run = n;
    if (n > r->max_run) r->max_run = n;
    if (((uintptr_t)evs & 63) != 0) r->aligned_ok = false;

    size_t take = n;
    switch (r->mode) {
    case TAKE_NONE: take = 0; break;
    case TAKE_K: take = n < r->k ? n : r->k; break;
    case TAKE_RANDOM: take = (size_t)(rnd(&r->rng) % (n + 1)); break;
    case TAKE_MOSTLY: /* all of it 3 times in 4, else a random part */
        if (rnd(&r->rng) % 4 == 0) take = (size_t)(rnd(&r->rng) % (n + 1));
        break;
    default: break;
    }
    for (size_t i = 0; i < take; i++) {
        uint64_t q = evs[i].seq;
        if (r->n && q <= r->seqs[r->n - 1]) r->order_ok = false;
        if (r->expect_contig && i && q != evs[i - 1].seq + 1) r->contiguous_ok = false;
        if (evs[i].close != (int64_t)q * 5) r->order_ok = false; /* slot content intact */
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 1024;
            r->seqs = realloc(r->seqs, r->cap * sizeof *r->seqs);
        }
        r->seqs[r->n++] = q;
    }
    r->refused += n - take;

    if (r->calls == 1) {
        if (r->publish_inside) {
            uint64_t first = evs[0].seq, last = evs[n - 1].seq;
            r->published_inside = pub(r->b, 1000); /* bounded: a bug must fail, not hang */
            /* The run handed to us must not have been overwritten. */
            r->evs_intact = evs[0].seq == first && evs[n - 1].seq == last;
        }
        if (r->victim) bus_unsubscribe(r->b, r->victim);
        if (r->subscribe_new)
            r->spawned = bus_subscribe(r->b, "spawned", 0xffffffffu, NULL, 0, BUS_BLOCK,
                                       rec_deliver, r->spawn);
        if (r->unsub_self_after) bus_unsubscribe(r->b, r->self);
    }
    return take;
}

/* Does seq pass (mask, ids)? The reference filter the bus must agree with. */
static bool ref_match(uint64_t seq, uint32_t mask, const uint32_t *ids, size_t n_ids) {
    int k = kind_of(seq);
    if (!((mask >> k) & 1u)) return false;
    if (!ids || !n_ids) return true;
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] == inst_of(seq)) return true;
    return false;
}

/* Does r hold exactly the events in (from, to] matching the filter, in order? */
static bool rec_is_exactly(const rec *r, uint64_t from, uint64_t to, uint32_t mask,
                           const uint32_t *ids, size_t n_ids) {
    size_t j = 0;
    for (uint64_t q = from + 1; q <= to; q++) {
        if (!ref_match(q, mask, ids, n_ids)) continue;
        if (j >= r->n || r->seqs[j] != q) return false;
        j++;
    }
    return j == r->n;
}

static uint64_t count_matching(uint64_t from, uint64_t to, uint32_t mask, const uint32_t *ids,
                               size_t n_ids) {
    uint64_t c = 0;
    for (uint64_t q = from + 1; q <= to; q++) c += ref_match(q, mask, ids, n_ids);
    return c;
}

/* ------------------------------------------------------------- tests */

/* 100k events, 4 subscribers (2 BLOCK, 2 DROP), filters, partial takes,
 * publisher reacting to back-pressure by dispatching. */
static void test_fanout(void) {
    const uint64_t N = 100000;
    bus *b = bus_new(4096);
    CHECK(b != NULL);
    g_seq = 0;
    rec r[4];
    rec_init(&r[0], TAKE_ALL);
    rec_init(&r[1], TAKE_RANDOM);
    rec_init(&r[2], TAKE_ALL);
    rec_init(&r[3], TAKE_ALL);
    r[0].expect_contig = true;
    const uint32_t m1 = SHJ_MASK_TICK | SHJ_MASK_QUOTE;
    const uint32_t ids2[] = {3, 5, 7};
    const uint32_t m3 = SHJ_MASK_TICK | SHJ_MASK_BIDASK;
    const uint32_t ids3[] = {1, 2, 3, 4, 5, 6, 7, 8};
    bus_sub *s0 = bus_subscribe(b, "raw", 0xffffffffu, NULL, 0, BUS_BLOCK, rec_deliver, &r[0]);
    bus_sub *s1 = bus_subscribe(b, "ticks", m1, NULL, 0, BUS_BLOCK, rec_deliver, &r[1]);
    bus_sub *s2 = bus_subscribe(b, "lua", SHJ_MASK_ALL, ids2, 3, BUS_DROP, rec_deliver, &r[2]);
    bus_sub *s3 = bus_subscribe(b, "ch", m3, ids3, 8, BUS_DROP, rec_deliver, &r[3]);
    CHECK(s0 && s1 && s2 && s3);
    CHECK_EQ_I64(bus_sub_count(b), 4);

    size_t stalls = 0;
    while (g_seq < N) {
        size_t want = N - g_seq < 777 ? (size_t)(N - g_seq) : 777;
        size_t got = pub(b, want);
        if (got < want) stalls++;
        bus_dispatch(b);
    }
    /* Drain: BLOCK subscriber 1 takes random amounts; keep dispatching. */
    for (int i = 0; i < 100000 && bus_pending(b); i++) bus_dispatch(b);
    CHECK_EQ_I64(bus_pending(b), 0);
    CHECK(stalls > 0); /* the random taker did hold the publisher back */

    CHECK_EQ_I64(bus_published(b), N);
    CHECK(rec_is_exactly(&r[0], 0, N, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&r[1], 0, N, m1, NULL, 0));
    CHECK(rec_is_exactly(&r[2], 0, N, SHJ_MASK_ALL, ids2, 3));
    CHECK(rec_is_exactly(&r[3], 0, N, m3, ids3, 8));
    for (int i = 0; i < 4; i++) {
        CHECK(r[i].order_ok);
        CHECK(r[i].aligned_ok);
    }
    CHECK(r[0].contiguous_ok);
    CHECK(r[1].refused > 0); /* partial takes did happen */
    CHECK_EQ_I64(r[0].n, N);

    bus_sub_stats st;
    const char *name = NULL;
    bus_sub_stats_at(b, 1, &name, &st);
    CHECK_STR(name, "ticks");
    CHECK_EQ_I64(st.delivered, count_matching(0, N, m1, NULL, 0));
    CHECK_EQ_I64(st.dropped, 0);
    CHECK_EQ_I64(st.lag, 0);
    bus_sub_get_stats(s3, &st);
    CHECK_EQ_I64(st.delivered, count_matching(0, N, m3, ids3, 8));
    CHECK_EQ_I64(st.dropped, 0);
    bus_free(b);
    for (int i = 0; i < 4; i++) rec_free(&r[i]);
}

/* Kind filter (incl. kinds outside the enum) and instrument filter in both
 * representations (bitmap; sorted array when an id is huge), with duplicate
 * and unsorted ids and bitmap word boundaries. */
static void test_filters(void) {
    bus *b = bus_new(64);
    struct { uint8_t kind; uint32_t inst; } evs[] = {
        {SHJ_KIND_TICK, 5},   {SHJ_KIND_BIDASK, 5}, {0, 5},           {9, 5},
        {200, 63},            {SHJ_KIND_TICK, 63},  {SHJ_KIND_TICK, 64}, {SHJ_KIND_QUOTE, 0},
        {SHJ_KIND_TICK, 1u << 30}, {SHJ_KIND_BAR, 2}, {SHJ_KIND_STATUS, 4000000000u},
        {SHJ_KIND_TICK, 65},  {SHJ_KIND_TICK, 128}, /* 128: first id past the bitmap */
    };
    const size_t n = sizeof evs / sizeof evs[0];
    rec r_tick, r_all, r_every, r_sorted, r_bits;
    rec_init(&r_tick, TAKE_ALL);
    rec_init(&r_all, TAKE_ALL);
    rec_init(&r_every, TAKE_ALL);
    rec_init(&r_sorted, TAKE_ALL);
    rec_init(&r_bits, TAKE_ALL);
    const uint32_t sorted_ids[] = {5, 1u << 30, 5, 2, 4000000000u};
    const uint32_t bit_ids[] = {64, 63, 0};
    bus_subscribe(b, "tick", SHJ_MASK_TICK, NULL, 0, BUS_BLOCK, rec_deliver, &r_tick);
    bus_subscribe(b, "all", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &r_all);
    bus_subscribe(b, "every", 0xffffffffu, NULL, 0, BUS_DROP, rec_deliver, &r_every);
    bus_subscribe(b, "sorted", SHJ_MASK_ALL, sorted_ids, 5, BUS_BLOCK, rec_deliver, &r_sorted);
    bus_subscribe(b, "bits", 0xffffffffu, bit_ids, 3, BUS_DROP, rec_deliver, &r_bits);
    for (size_t i = 0; i < n; i++) {
        shj_event *e = bus_claim(b);
        memset(e, 0, sizeof *e);
        e->kind = evs[i].kind;
        e->inst_id = evs[i].inst;
        e->seq = i + 1;
        e->close = (int64_t)(i + 1) * 5;
        bus_commit(b);
    }
    CHECK_EQ_I64(bus_dispatch(b), n);
    const uint64_t want_tick[] = {1, 6, 7, 9, 12, 13};
    const uint64_t want_all[] = {1, 2, 6, 7, 8, 9, 10, 11, 12, 13};
    const uint64_t want_sorted[] = {1, 2, 9, 10, 11};
    const uint64_t want_bits[] = {5, 6, 7, 8};
    CHECK_EQ_I64(r_tick.n, 6);
    CHECK(r_tick.n == 6 && memcmp(r_tick.seqs, want_tick, sizeof want_tick) == 0);
    CHECK_EQ_I64(r_all.n, 10);
    CHECK(r_all.n == 10 && memcmp(r_all.seqs, want_all, sizeof want_all) == 0);
    CHECK_EQ_I64(r_every.n, n);
    CHECK_EQ_I64(r_sorted.n, 5);
    CHECK(r_sorted.n == 5 && memcmp(r_sorted.seqs, want_sorted, sizeof want_sorted) == 0);
    CHECK_EQ_I64(r_bits.n, 4);
    CHECK(r_bits.n == 4 && memcmp(r_bits.seqs, want_bits, sizeof want_bits) == 0);
    /* Runs are maximal: "all" gets {1,2} {6..13} = 2 calls. */
    CHECK_EQ_I64(r_all.calls, 2);
    CHECK_EQ_I64(r_tick.calls, 4); /* {1} {6,7} {9} {12,13} */
    /* Skipped events count as neither delivered nor dropped. */
    bus_sub_stats st;
    bus_sub_stats_at(b, 0, NULL, &st);
    CHECK_EQ_I64(st.delivered, 6);
    CHECK_EQ_I64(st.dropped, 0);
    CHECK_EQ_I64(st.lag, 0);

    /* A zero kind mask matches nothing, and its cursor still moves on. */
    rec r_none;
    rec_init(&r_none, TAKE_ALL);
    bus_sub *none = bus_subscribe(b, "none", 0, NULL, 0, BUS_BLOCK, rec_deliver, &r_none);
    g_seq = 100;
    pub(b, 50);
    bus_dispatch(b);
    CHECK_EQ_I64(r_none.calls, 0);
    bus_sub_get_stats(none, &st);
    CHECK_EQ_I64(st.lag, 0);
    CHECK_EQ_I64(bus_pending(b), 0);
    bus_free(b);
    rec_free(&r_tick);
    rec_free(&r_all);
    rec_free(&r_every);
    rec_free(&r_sorted);
    rec_free(&r_bits);
    rec_free(&r_none);
}

/* Both lookups agree with a plain scan over every id around the set's
 * members, for set sizes 1..9 (odd and even lengths of the search). */
static void test_inst_lookup(void) {
    bool ok_bits = true, ok_sorted = true;
    for (size_t k = 1; k <= 9; k++) {
        uint32_t ids[10];
        for (size_t i = 0; i < k; i++) ids[i] = (uint32_t)(10 * (k - i)); /* descending */
        uint32_t huge[11];
        memcpy(huge, ids, k * sizeof *ids);
        huge[k] = 0x80000000u; /* forces the sorted array */
        bus *b = bus_new(256);
        rec rb, rs;
        rec_init(&rb, TAKE_ALL);
        rec_init(&rs, TAKE_ALL);
        bus_subscribe(b, "bits", 0xffffffffu, ids, k, BUS_BLOCK, rec_deliver, &rb);
        bus_subscribe(b, "sorted", 0xffffffffu, huge, k + 1, BUS_BLOCK, rec_deliver, &rs);
        for (uint32_t id = 0; id <= 100; id++) {
            shj_event *e = bus_claim(b);
            memset(e, 0, sizeof *e);
            e->kind = SHJ_KIND_TICK;
            e->inst_id = id;
            e->seq = id + 1;
            e->close = (int64_t)(id + 1) * 5;
            bus_commit(b);
        }
        shj_event *e = bus_claim(b);
        memset(e, 0, sizeof *e);
        e->inst_id = 0x80000000u;
        e->seq = 102;
        e->close = 102 * 5;
        bus_commit(b);
        bus_dispatch(b);
        /* Expected: ids 10, 20, ..., 10k (seq = id + 1), plus the huge one. */
        ok_bits &= rb.n == k;
        ok_sorted &= rs.n == k + 1;
        for (size_t i = 0; i < k && i < rb.n; i++) ok_bits &= rb.seqs[i] == 10 * (i + 1) + 1;
        for (size_t i = 0; i < k && i < rs.n; i++) ok_sorted &= rs.seqs[i] == 10 * (i + 1) + 1;
        ok_sorted &= rs.n == k + 1 && rs.seqs[k] == 102;
        bus_free(b);
        rec_free(&rb);
        rec_free(&rs);
    }
    CHECK(ok_bits);
    CHECK(ok_sorted);
}

/* A BLOCK subscriber taking nothing stops the publisher after exactly
 * capacity events; taking releases exactly what was taken. */
static void test_backpressure(void) {
    bus *b = bus_new(1000); /* rounded up to 1024 */
    g_seq = 0;
    rec rb, rd;
    rec_init(&rb, TAKE_NONE);
    rec_init(&rd, TAKE_ALL);
    bus_sub *sb = bus_subscribe(b, "writer", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &rb);
    bus_subscribe(b, "lua", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &rd);
    CHECK_EQ_I64(bus_free_slots(b), 1024);

    size_t n = pub(b, 5000);
    CHECK_EQ_I64(n, 1024);
    CHECK(bus_claim(b) == NULL);
    shj_event tmp;
    ev_make(&tmp, 9999);
    CHECK_EQ_I64(bus_publish(b, &tmp), SHJ_AGAIN);
    CHECK_EQ_I64(bus_free_slots(b), 0);
    CHECK_EQ_I64(bus_pending(b), 1024);
    CHECK_EQ_I64(bus_dispatch(b), 0);
    CHECK(bus_claim(b) == NULL);
    CHECK_EQ_I64(rd.n, 1024); /* the DROP subscriber was served meanwhile, nothing lost */
    bus_sub_stats st;
    bus_sub_get_stats(sb, &st);
    CHECK_EQ_I64(st.delivered, 0);
    CHECK_EQ_I64(st.lag, 1024);
    CHECK_EQ_I64(st.dropped, 0);

    rb.mode = TAKE_K;
    rb.k = 100;
    CHECK_EQ_I64(bus_dispatch(b), 100);
    CHECK_EQ_I64(bus_free_slots(b), 100);
    CHECK_EQ_I64(pub(b, 5000), 100);
    CHECK(bus_claim(b) == NULL);

    rb.mode = TAKE_ALL;
    CHECK_EQ_I64(bus_dispatch(b), 1024);
    CHECK_EQ_I64(bus_free_slots(b), 1024);
    CHECK_EQ_I64(bus_pending(b), 0);
    CHECK(rec_is_exactly(&rb, 0, 1124, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&rd, 0, 1124, SHJ_MASK_ALL, NULL, 0));
    bus_sub_get_stats(sb, &st);
    CHECK_EQ_I64(st.delivered, 1124);
    CHECK_EQ_I64(st.dropped, 0);

    /* Unsubscribing a blocking subscriber releases its pending slots. */
    rb.mode = TAKE_NONE;
    CHECK_EQ_I64(pub(b, 5000), 1024);
    CHECK_EQ_I64(bus_free_slots(b), 0);
    bus_unsubscribe(b, sb);
    CHECK_EQ_I64(bus_free_slots(b), 1024);
    CHECK(bus_claim(b) != NULL);
    bus_free(b);
    rec_free(&rb);
    rec_free(&rd);

    /* A filtered BLOCK subscriber pins only from its first matching event:
     * the 10 bidasks before it are released at dispatch. */
    b = bus_new(64);
    rec rt;
    rec_init(&rt, TAKE_NONE);
    bus_subscribe(b, "ticks", SHJ_MASK_TICK, NULL, 0, BUS_BLOCK, rec_deliver, &rt);
    for (int i = 0; i < 64; i++) {
        shj_event *e = bus_claim(b);
        CHECK(e != NULL);
        if (!e) break;
        memset(e, 0, sizeof *e);
        e->kind = i < 10 ? SHJ_KIND_BIDASK : SHJ_KIND_TICK;
        e->seq = (uint64_t)i + 1;
        bus_commit(b);
    }
    CHECK(bus_claim(b) == NULL);
    CHECK_EQ_I64(bus_dispatch(b), 10);
    CHECK_EQ_I64(bus_free_slots(b), 10);
    CHECK_EQ_I64(rt.offered, 54);
    CHECK_EQ_I64(rt.n, 0);
    bus_free(b);
    rec_free(&rt);
}

/* BUS_DROP: drops counted exactly, publisher never held back. */
static void test_drop_exact(void) {
    /* Never dispatched: every event the publisher overwrites is one lost,
     * counted only when it matches the filter. */
    bus *b = bus_new(256);
    g_seq = 0;
    rec ra, rt;
    rec_init(&ra, TAKE_ALL);
    rec_init(&rt, TAKE_ALL);
    bus_sub *sa = bus_subscribe(b, "all", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &ra);
    bus_sub *st_ = bus_subscribe(b, "tick", SHJ_MASK_TICK, NULL, 0, BUS_DROP, rec_deliver, &rt);
    CHECK_EQ_I64(pub(b, 256 + 100), 356);
    bus_sub_stats st;
    bus_sub_get_stats(sa, &st);
    CHECK_EQ_I64(st.dropped, 100);
    CHECK_EQ_I64(st.lag, 256);
    bus_sub_get_stats(st_, &st);
    CHECK_EQ_I64(st.dropped, count_matching(0, 100, SHJ_MASK_TICK, NULL, 0));
    bus_dispatch(b);
    CHECK(rec_is_exactly(&ra, 100, 356, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&rt, 100, 356, SHJ_MASK_TICK, NULL, 0));
    bus_free(b);
    rec_free(&ra);
    rec_free(&rt);

    /* Slow (takes at most 10 per call) and dispatched too rarely: forced
     * drops and refused-run drops together; nothing unaccounted. */
    b = bus_new(256);
    g_seq = 0;
    rec rs, rr;
    rec_init(&rs, TAKE_K);
    rs.k = 10;
    rec_init(&rr, TAKE_RANDOM);
    const uint32_t ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    bus_sub *ss = bus_subscribe(b, "slow", SHJ_MASK_TICK | SHJ_MASK_BIDASK, NULL, 0, BUS_DROP,
                                rec_deliver, &rs);
    bus_sub *sr = bus_subscribe(b, "random", SHJ_MASK_ALL, ids, 10, BUS_DROP, rec_deliver, &rr);
    const uint64_t N = 20000;
    size_t published = 0;
    while (g_seq < N) {
        published += pub(b, 500);
        bus_dispatch(b);
    }
    CHECK_EQ_I64(published, N); /* DROP subscribers never stop the publisher */
    rs.mode = TAKE_ALL;
    rr.mode = TAKE_ALL;
    bus_dispatch(b);
    CHECK_EQ_I64(bus_pending(b), 0);
    uint64_t want_s = count_matching(0, N, SHJ_MASK_TICK | SHJ_MASK_BIDASK, NULL, 0);
    uint64_t want_r = count_matching(0, N, SHJ_MASK_ALL, ids, 10);
    bus_sub_get_stats(ss, &st);
    CHECK(st.dropped > rs.refused); /* some were lost to the publisher, not only refused */
    CHECK_EQ_I64(st.delivered, rs.n);
    CHECK_EQ_I64(st.delivered + st.dropped, want_s);
    CHECK(rs.order_ok);
    bus_sub_get_stats(sr, &st);
    CHECK(st.dropped > 0);
    CHECK_EQ_I64(st.delivered, rr.n);
    CHECK_EQ_I64(st.delivered + st.dropped, want_r);
    CHECK(rr.order_ok);
    /* Each delivered seq really matches the filter. */
    bool all_match = true;
    for (size_t i = 0; i < rr.n; i++)
        all_match &= ref_match(rr.seqs[i], SHJ_MASK_ALL, ids, 10);
    CHECK(all_match);
    bus_free(b);
    rec_free(&rs);
    rec_free(&rr);

    /* Refusals only (dispatched often enough): dropped == sum of refused. */
    b = bus_new(1024);
    g_seq = 0;
    rec rp;
    rec_init(&rp, TAKE_RANDOM);
    bus_sub *sp = bus_subscribe(b, "partial", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &rp);
    while (g_seq < N) {
        pub(b, N - g_seq < 300 ? (size_t)(N - g_seq) : 300);
        bus_dispatch(b);
    }
    rp.mode = TAKE_ALL; /* a run cut at the ring end may still be pending */
    bus_dispatch(b);
    CHECK_EQ_I64(bus_pending(b), 0);
    bus_sub_get_stats(sp, &st);
    CHECK_EQ_I64(st.dropped, rp.refused);
    CHECK_EQ_I64(st.delivered + st.dropped, N);
    CHECK(rp.refused > 0 && rp.n > 0);
    bus_free(b);
    rec_free(&rp);
}

/* Ring wrap: runs split at the ring end, order kept across many wraps. */
static void test_wrap(void) {
    bus *b = bus_new(64);
    g_seq = 0;
    rec r;
    rec_init(&r, TAKE_ALL);
    r.expect_contig = true;
    bus_subscribe(b, "w", 0xffffffffu, NULL, 0, BUS_BLOCK, rec_deliver, &r);
    pub(b, 10);
    bus_dispatch(b);
    CHECK_EQ_I64(r.calls, 1);
    CHECK_EQ_I64(pub(b, 64), 64);
    bus_dispatch(b);
    CHECK_EQ_I64(r.calls, 3); /* 54 up to the ring end, then 10 from slot 0 */
    CHECK_EQ_I64(r.last_run, 10);
    CHECK_EQ_I64(r.offered, 74);

    rec rf;
    rec_init(&rf, TAKE_MOSTLY);
    bus_subscribe(b, "wf", SHJ_MASK_TICK | SHJ_MASK_STATUS, NULL, 0, BUS_BLOCK, rec_deliver, &rf);
    uint64_t from = g_seq;
    uint64_t rng = 12345;
    for (int round = 0; round < 1000000 && g_seq - from < 100000; round++) {
        pub(b, 1 + (size_t)(rnd(&rng) % 64));
        bus_dispatch(b);
    }
    for (int i = 0; i < 10000 && bus_pending(b); i++) bus_dispatch(b);
    CHECK(g_seq - from > 64 * 1000); /* wrapped over a thousand times */
    CHECK(rec_is_exactly(&r, 0, g_seq, 0xffffffffu, NULL, 0));
    CHECK(rec_is_exactly(&rf, from, g_seq, SHJ_MASK_TICK | SHJ_MASK_STATUS, NULL, 0));
    CHECK(r.contiguous_ok && r.aligned_ok && rf.aligned_ok && rf.order_ok);
    CHECK(r.max_run <= 64 && rf.max_run <= 64);
    bus_free(b);
    rec_free(&r);
    rec_free(&rf);
}

/* Unsubscribe self and others, subscribe, from inside deliver callbacks. */
static void test_unsubscribe_in_deliver(void) {
    bus *b = bus_new(256);
    g_seq = 0;
    rec ra, rb, rc, rd, re;
    rec_init(&ra, TAKE_ALL);
    rec_init(&rb, TAKE_ALL);
    rec_init(&rc, TAKE_ALL);
    rec_init(&rd, TAKE_ALL);
    rec_init(&re, TAKE_ALL);
    bus_sub *sa = bus_subscribe(b, "a", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &ra);
    bus_sub *sb = bus_subscribe(b, "b", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &rb);
    bus_sub *sc = bus_subscribe(b, "c", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &rc);
    bus_sub *sd = bus_subscribe(b, "d", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &rd);
    ra.b = rb.b = rd.b = b;
    ra.self = sa;
    ra.unsub_self_after = true;
    ra.victim = sa; /* also unsubscribing twice must be harmless */
    rb.victim = sc;
    rd.subscribe_new = true;
    rd.spawn = &re;
    rec fill[4];
    for (int i = 0; i < 4; i++) {
        rec_init(&fill[i], TAKE_ALL);
        CHECK(bus_subscribe(b, "filler", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &fill[i]));
    }
    (void)sb;
    (void)sd;
    pub(b, 100);
    bus_dispatch(b);
    CHECK_EQ_I64(ra.n, 100);
    CHECK_EQ_I64(rb.n, 100);
    CHECK_EQ_I64(rc.n, 0); /* removed by b before its turn */
    CHECK_EQ_I64(rd.n, 100);
    CHECK(rd.spawned != NULL);
    CHECK_EQ_I64(re.n, 0); /* subscribed at head: no history */
    CHECK_EQ_I64(bus_sub_count(b), 7); /* 8 - a - c + spawned (grew the list mid-dispatch) */
    const char *name = NULL;
    bus_sub_stats_at(b, 0, &name, NULL);
    CHECK_STR(name, "b");
    bus_sub_stats_at(b, 1, &name, NULL);
    CHECK_STR(name, "d");
    bus_sub_stats_at(b, 6, &name, NULL);
    CHECK_STR(name, "spawned");

    pub(b, 50);
    bus_dispatch(b);
    CHECK_EQ_I64(ra.n, 100);
    CHECK_EQ_I64(rc.n, 0);
    CHECK(rec_is_exactly(&rb, 0, 150, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&rd, 0, 150, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&re, 100, 150, 0xffffffffu, NULL, 0));
    /* The removed subscribers no longer pin the ring. */
    CHECK_EQ_I64(bus_pending(b), 0);
    CHECK_EQ_I64(bus_free_slots(b), 256);
    CHECK(rec_is_exactly(&fill[3], 0, 150, SHJ_MASK_ALL, NULL, 0));
    bus_free(b); /* frees the remaining seven; ASan checks for leaks and UAF */
    for (int i = 0; i < 4; i++) rec_free(&fill[i]);
    rec_free(&ra);
    rec_free(&rb);
    rec_free(&rc);
    rec_free(&rd);
    rec_free(&re);
}

/* Publishing from inside a callback: the run being delivered is protected
 * even for a BUS_DROP subscriber, and events published there are delivered
 * in the same dispatch, in order. */
static void test_publish_in_deliver(void) {
    bus *b = bus_new(16);
    g_seq = 0;
    rec r;
    rec_init(&r, TAKE_ALL);
    r.b = b;
    r.publish_inside = true;
    bus_sub *s = bus_subscribe(b, "pub", SHJ_MASK_ALL, NULL, 0, BUS_DROP, rec_deliver, &r);
    CHECK_EQ_I64(pub(b, 6), 6);
    bus_dispatch(b);
    CHECK_EQ_I64(r.published_inside, 10); /* 16 slots minus the 6 being delivered */
    CHECK(r.evs_intact);
    CHECK(rec_is_exactly(&r, 0, 16, SHJ_MASK_ALL, NULL, 0));
    bus_sub_stats st;
    bus_sub_get_stats(s, &st);
    CHECK_EQ_I64(st.dropped, 0);
    CHECK_EQ_I64(st.lag, 0);
    bus_free(b);
    rec_free(&r);
}

/* No subscribers: the ring never fills and nothing is pending. */
static void test_no_subscribers(void) {
    bus *b = bus_new(64);
    g_seq = 0;
    CHECK_EQ_I64(pub(b, 6400), 6400);
    CHECK_EQ_I64(bus_free_slots(b), 64);
    CHECK_EQ_I64(bus_pending(b), 0);
    CHECK_EQ_I64(bus_dispatch(b), 0);
    CHECK_EQ_I64(bus_published(b), 6400);
    CHECK_EQ_I64(bus_sub_count(b), 0);
    bus_free(b);

    b = bus_new(0); /* default capacity */
    CHECK_EQ_I64(bus_free_slots(b), 65536);
    bus_free(b);
    b = bus_new(3);
    CHECK_EQ_I64(bus_free_slots(b), 4);
    bus_free(b);
}

/* A late subscriber starts at head, then sees everything after. */
static void test_late_subscriber(void) {
    bus *b = bus_new(128);
    g_seq = 0;
    rec r0, r1;
    rec_init(&r0, TAKE_ALL);
    rec_init(&r1, TAKE_ALL);
    bus_subscribe(b, "early", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &r0);
    pub(b, 100);
    bus_sub *late = bus_subscribe(b, "late", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, rec_deliver, &r1);
    bus_dispatch(b);
    CHECK_EQ_I64(r1.n, 0);
    bus_sub_stats st;
    bus_sub_get_stats(late, &st);
    CHECK_EQ_I64(st.lag, 0);
    pub(b, 5);
    bus_sub_get_stats(late, &st);
    CHECK_EQ_I64(st.lag, 5);
    bus_dispatch(b);
    CHECK(rec_is_exactly(&r1, 100, 105, SHJ_MASK_ALL, NULL, 0));
    CHECK(rec_is_exactly(&r0, 0, 105, SHJ_MASK_ALL, NULL, 0));
    /* The late one's window is still bounded by capacity from where it joined. */
    CHECK_EQ_I64(pub(b, 1000), 128);
    bus_free(b);
    rec_free(&r0);
    rec_free(&r1);
}

int main(void) {
    test_fanout();
    test_filters();
    test_inst_lookup();
    test_backpressure();
    test_drop_exact();
    test_wrap();
    test_unsubscribe_in_deliver();
    test_publish_in_deliver();
    test_no_subscribers();
    test_late_subscriber();
    T_DONE();
}
