/* bus.c — the in-process pub/sub bus (see bus.h for the contract).
 *
 * Owns: the ring of shj_event slots, the subscriber list and each
 * subscriber's cursor, filter and counters.
 *
 * Guarantees:
 *  - Every subscriber sees the events matching its filter in publish order,
 *    each at most once; a BUS_BLOCK subscriber sees every one of them.
 *  - Nothing is lost silently: an event a BUS_DROP subscriber did not take
 *    is counted in its `dropped` (only events that match its filter count;
 *    delivered + dropped + still pending == published matching, exactly).
 *  - The ring never overwrites a slot a BUS_BLOCK subscriber has not passed,
 *    nor the slots being handed to the deliver callback that is running
 *    (so a callback may publish: for that call its subscriber blocks).
 *  - Stats: `lag` is head - cursor, i.e. slots the subscriber has not passed
 *    yet, matching or not (counting only matching ones would need a scan).
 *
 * DESIGN
 * A single-threaded disruptor. Sequences are 64-bit and never wrap: `head` is
 * the sequence the next claim fills, a subscriber's `cursor` the first
 * sequence it has not passed; slot of sequence q is slots[q & mask]. The
 * invariant head - cursor <= capacity holds for every subscriber.
 *
 * The claim fast path is one compare against `limit`, a cached lower bound of
 * min(cursor) + capacity over all subscribers. It stays valid without updates
 * because cursors only move forward, and a new subscriber starts at head while
 * limit, computed from an earlier head, is never above head + capacity. Only
 * when head reaches `limit` does claim walk the subscribers: a BUS_BLOCK one a full ring behind
 * makes the claim fail; a BUS_DROP one that holds the slot about to be reused
 * loses exactly that one event (counted when it matches its filter).
 *
 * Dispatch walks a subscriber's pending window, skipping events its filter
 * rejects, and hands maximal runs of matching events to its callback; a run
 * never crosses the ring end, so the callback always gets one flat array.
 * Unfiltered subscribers skip the per-event scan altogether.
 *
 * Instrument filters are a bitmap over ids when the largest id is small (one
 * load and a bit test per event; ids come from inst_intern and are dense) and
 * a sorted array with branchless binary search otherwise, so a stray huge id
 * cannot make the bitmap big. bench/bench_bus.c measures both: with 4
 * filtered subscribers the bitmap runs at ~42 M events/s against ~29 M for
 * the sorted array (5 ids), hence the bitmap for every realistic id range.
 *
 * Unsubscribing inside dispatch only marks the subscriber dead; the list is
 * compacted and the memory freed when the outermost dispatch returns, so the
 * loop and any callback still holding the pointer stay safe.
 *
 * Threading: event-loop thread only; no locks, no atomics.
 */
#include "loop/bus.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"

#define BUS_DEFAULT_CAPACITY 65536u
#define BUS_MAX_CAPACITY (1u << 26)      /* 16 GiB of slots: anything above is a bug */
#define BUS_SLOT_ALIGN 64                /* cache line */
#define BUS_BITMAP_MAX_ID (1u << 20)     /* bitmap up to 128 KiB; beyond, sorted array */
#define BUS_NAME_MAX 32

struct bus_sub {
    /* private: hot fields first, read once per event by the filter scan */
    uint64_t cursor;          /* first sequence not yet passed */
    uint32_t kind_mask;       /* 1u << kind */
    bool     all_kinds;       /* kind_mask has every bit set: skip the kind test */
    bool     dead;            /* unsubscribed during dispatch; freed when dispatch returns */
    uint8_t  policy;          /* bus_policy */
    uint64_t *inst_bits;      /* bitmap filter, or NULL */
    uint32_t inst_nbits;      /* ids < inst_nbits are covered by inst_bits */
    uint32_t *inst_sorted;    /* sorted-array filter, or NULL */
    size_t   n_sorted;
    bus_deliver_fn fn;
    void    *ctx;
    uint64_t delivered;
    uint64_t dropped;
    const bus *bus;           /* for lag in bus_sub_get_stats */
    char     name[BUS_NAME_MAX];
};

struct bus {
    /* private */
    shj_event *slots;         /* capacity slots, 64-byte aligned */
    uint64_t   mask;          /* capacity - 1 */
    uint64_t   capacity;
    uint64_t   head;          /* next sequence to claim; also the count published */
    uint64_t   limit;         /* claims below this need no check (see DESIGN) */
    bool       claimed;       /* a slot is claimed and not yet committed */
    bus_sub  **subs;          /* in subscribe order; dead ones linger during dispatch */
    size_t     n_subs;        /* entries in subs, dead included */
    size_t     cap_subs;
    size_t     n_live;
    size_t     n_dead;
    int        dispatching;   /* inside bus_dispatch: defer frees */
    bus_sub   *in_deliver;    /* whose callback runs now: its window must not move */
};

/* ---------------------------------------------------------------- ring */

bus *bus_new(size_t capacity) {
    if (capacity == 0) capacity = BUS_DEFAULT_CAPACITY;
    if (capacity > BUS_MAX_CAPACITY) return NULL;
    size_t cap = 1;
    while (cap < capacity) cap <<= 1;
    /* Keep a couple of slots at minimum so that "full" and "wrap" are distinct. */
    if (cap < 2) cap = 2;

    bus *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->slots = aligned_alloc(BUS_SLOT_ALIGN, cap * sizeof(shj_event));
    if (!b->slots) {
        free(b);
        return NULL;
    }
    b->capacity = cap;
    b->mask = cap - 1;
    b->limit = cap;
    return b;
}

static void sub_free(bus_sub *s) {
    free(s->inst_bits);
    free(s->inst_sorted);
    free(s);
}

void bus_free(bus *b) {
    if (!b) return;
    assert(!b->dispatching && "bus_free called from inside a deliver callback");
    for (size_t i = 0; i < b->n_subs; i++) sub_free(b->subs[i]);
    free(b->subs);
    free(b->slots);
    free(b);
}

/* Does this subscriber's window pin ring slots right now? Dead subscribers
 * release theirs, except the one whose callback is still reading its run. */
static inline bool sub_holds(const bus *b, const bus_sub *s) {
    return !s->dead || s == b->in_deliver;
}

static inline bool sub_matches(const bus_sub *s, const shj_event *ev) {
    if (!s->all_kinds) {
        unsigned k = ev->kind;
        if (k >= 32 || !((s->kind_mask >> k) & 1u)) return false;
    }
    if (s->inst_bits) {
        uint32_t id = ev->inst_id;
        return id < s->inst_nbits && ((s->inst_bits[id >> 6] >> (id & 63)) & 1u);
    }
    if (s->inst_sorted) {
        /* Branchless search for the last element <= id (n_sorted >= 1):
         * event ids are unpredictable, so a compare-and-jump search pays a
         * mispredict per level (measured: about 2x slower here). */
        uint32_t id = ev->inst_id;
        const uint32_t *base = s->inst_sorted;
        size_t len = s->n_sorted;
        while (len > 1) {
            size_t half = len / 2;
            base = base[half] <= id ? base + half : base;
            len -= half;
        }
        return *base == id;
    }
    return true;
}

static inline bool sub_unfiltered(const bus_sub *s) {
    return s->all_kinds && !s->inst_bits && !s->inst_sorted;
}

/* Slow path of bus_claim: head reached the cached limit. Returns false when a
 * BUS_BLOCK subscriber (or the one being delivered to) is a full ring behind. */
static bool claim_make_room(bus *b) {
    const uint64_t head = b->head, cap = b->capacity;
    /* First see whether anyone blocks, so that BUS_DROP subscribers lose
     * nothing on a claim that fails anyway. */
    for (size_t i = 0; i < b->n_subs; i++) {
        bus_sub *s = b->subs[i];
        if (!sub_holds(b, s)) continue;
        bool blocks = s->policy == BUS_BLOCK || s == b->in_deliver;
        if (blocks && s->cursor + cap <= head) {
            b->limit = s->cursor + cap;
            return false;
        }
    }
    uint64_t limit = head + cap;
    for (size_t i = 0; i < b->n_subs; i++) {
        bus_sub *s = b->subs[i];
        if (!sub_holds(b, s)) continue;
        if (s->cursor + cap <= head) {
            /* BUS_DROP subscriber holding the slot the claim reuses: by the
             * invariant it is exactly one ring behind, so it loses one event. */
            assert(s->cursor + cap == head);
            if (sub_matches(s, &b->slots[s->cursor & b->mask])) s->dropped++;
            s->cursor++;
        }
        if (s->cursor + cap < limit) limit = s->cursor + cap;
    }
    b->limit = limit;
    return true;
}

/* Inline bodies shared by the exported functions: bus_publish calling the
 * exported bus_claim/bus_commit would go through the PLT (they are
 * interposable in a shared library), which perf showed at ~4% of a publish. */
static inline shj_event *claim_inline(bus *b) {
    if (b->head >= b->limit && !claim_make_room(b)) return NULL;
    b->claimed = true;
    return &b->slots[b->head & b->mask];
}

static inline void commit_inline(bus *b) {
    assert(b->claimed && "bus_commit without a successful bus_claim");
    b->claimed = false;
    b->head++;
}

shj_event *bus_claim(bus *b) { return claim_inline(b); }

void bus_commit(bus *b) { commit_inline(b); }

int bus_publish(bus *b, const shj_event *ev) {
    shj_event *slot = claim_inline(b);
    if (!slot) return SHJ_AGAIN;
    memcpy(slot, ev, sizeof *slot);
    commit_inline(b);
    return SHJ_OK;
}

/* Smallest cursor over subscribers that pin slots (head when none): every
 * sequence below it is released. block_only restricts to BUS_BLOCK ones. */
static uint64_t ring_tail(const bus *b, bool block_only) {
    uint64_t tail = b->head;
    for (size_t i = 0; i < b->n_subs; i++) {
        const bus_sub *s = b->subs[i];
        if (!sub_holds(b, s)) continue;
        if (block_only && s->policy != BUS_BLOCK && s != b->in_deliver) continue;
        if (s->cursor < tail) tail = s->cursor;
    }
    return tail;
}

size_t bus_free_slots(const bus *b) {
    return (size_t)(b->capacity - (b->head - ring_tail(b, true)));
}

size_t bus_pending(const bus *b) { return (size_t)(b->head - ring_tail(b, false)); }

uint64_t bus_published(const bus *b) { return b->head; }

/* ---------------------------------------------------------- subscribers */

static int build_inst_filter(bus_sub *s, const uint32_t *ids, size_t n) {
    uint32_t max_id = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > max_id) max_id = ids[i];
    if (max_id < BUS_BITMAP_MAX_ID) {
        size_t words = (size_t)max_id / 64 + 1;
        s->inst_bits = calloc(words, sizeof(uint64_t));
        if (!s->inst_bits) return SHJ_ERR;
        s->inst_nbits = (uint32_t)(words * 64);
        for (size_t i = 0; i < n; i++) s->inst_bits[ids[i] >> 6] |= 1ull << (ids[i] & 63);
        return SHJ_OK;
    }
    s->inst_sorted = malloc(n * sizeof(uint32_t));
    if (!s->inst_sorted) return SHJ_ERR;
    memcpy(s->inst_sorted, ids, n * sizeof(uint32_t));
    /* Insertion sort with de-duplication: sets are small and this runs once. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = s->inst_sorted[i];
        size_t j = m;
        while (j > 0 && s->inst_sorted[j - 1] > v) j--;
        if (j > 0 && s->inst_sorted[j - 1] == v) continue;
        memmove(&s->inst_sorted[j + 1], &s->inst_sorted[j], (m - j) * sizeof(uint32_t));
        s->inst_sorted[j] = v;
        m++;
    }
    s->n_sorted = m;
    return SHJ_OK;
}

bus_sub *bus_subscribe(bus *b, const char *name, uint32_t kind_mask, const uint32_t *inst_ids,
                       size_t n_inst, bus_policy policy, bus_deliver_fn fn, void *ctx) {
    assert(fn && "bus_subscribe needs a deliver callback");
    if (!fn || (policy != BUS_BLOCK && policy != BUS_DROP)) return NULL;
    if (b->n_subs == b->cap_subs) {
        size_t ncap = b->cap_subs ? b->cap_subs * 2 : 8;
        bus_sub **ns = realloc(b->subs, ncap * sizeof *ns);
        if (!ns) return NULL;
        b->subs = ns;
        b->cap_subs = ncap;
    }
    bus_sub *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    shj_strlcpy(s->name, name ? name : "sub", sizeof s->name);
    s->kind_mask = kind_mask;
    /* Only a mask with every bit set skips the per-event kind test: with
     * SHJ_MASK_ALL an event of kind 0 or >= SHJ_KIND_MAX (a publisher bug)
     * must still be filtered out, the same with or without an inst filter. */
    s->all_kinds = kind_mask == 0xffffffffu;
    s->policy = (uint8_t)policy;
    s->bus = b;
    s->fn = fn;
    s->ctx = ctx;
    if (inst_ids && n_inst && build_inst_filter(s, inst_ids, n_inst) != SHJ_OK) {
        sub_free(s);
        return NULL;
    }
    /* New subscribers start at head: they never see history. `limit` needs
     * no update: it is always <= head + capacity (see DESIGN). */
    s->cursor = b->head;
    b->subs[b->n_subs++] = s;
    b->n_live++;
    return s;
}

static void subs_compact(bus *b) {
    size_t w = 0;
    for (size_t r = 0; r < b->n_subs; r++) {
        bus_sub *s = b->subs[r];
        if (s->dead) sub_free(s);
        else b->subs[w++] = s;
    }
    b->n_subs = w;
    b->n_dead = 0;
}

void bus_unsubscribe(bus *b, bus_sub *s) {
    if (!s || s->dead) return;
    bool found = false;
    for (size_t i = 0; i < b->n_subs; i++)
        if (b->subs[i] == s) found = true;
    assert(found && "bus_unsubscribe of a subscriber not on this bus");
    if (!found) return;
    s->dead = true;
    b->n_live--;
    b->n_dead++;
    /* Outside dispatch nothing can hold the pointer: free now. */
    if (!b->dispatching) subs_compact(b);
}

size_t bus_sub_count(const bus *b) { return b->n_live; }

void bus_sub_get_stats(const bus_sub *s, bus_sub_stats *out) {
    out->delivered = s->delivered;
    out->dropped = s->dropped;
    out->lag = s->bus->head - s->cursor;
}

void bus_sub_stats_at(const bus *b, size_t i, const char **name, bus_sub_stats *out) {
    for (size_t k = 0; k < b->n_subs; k++) {
        const bus_sub *s = b->subs[k];
        if (s->dead) continue;
        if (i-- == 0) {
            if (name) *name = s->name;
            if (out) bus_sub_get_stats(s, out);
            return;
        }
    }
    assert(0 && "bus_sub_stats_at index out of range");
    if (name) *name = NULL;
    if (out) memset(out, 0, sizeof *out);
}

/* ------------------------------------------------------------- dispatch */

/* Offer one run [start, start+n) (contiguous in the ring) to s. Returns true
 * when the subscriber may be offered more in this dispatch. */
static bool sub_deliver(bus *b, bus_sub *s, uint64_t start, size_t n) {
    /* Publish the skip over non-matching events before the call, so that a
     * publish from inside the callback sees the slots they held as free. */
    s->cursor = start;
    b->in_deliver = s;
    size_t taken = s->fn(s->ctx, &b->slots[start & b->mask], n);
    b->in_deliver = NULL;
    if (taken > n) taken = n; /* a callback claiming more than offered took n */
    s->delivered += taken;
    if (taken == n) {
        s->cursor = start + n;
        return !s->dead;
    }
    if (s->policy == BUS_BLOCK) {
        s->cursor = start + taken; /* the rest is offered again next dispatch */
    } else {
        s->dropped += n - taken;   /* "full for now" costs a BUS_DROP subscriber the rest */
        s->cursor = start + n;
    }
    return false;
}

static void sub_dispatch(bus *b, bus_sub *s) {
    const shj_event *slots = b->slots;
    const uint64_t mask = b->mask, cap = b->capacity;
    uint64_t c = s->cursor;
    bool unfiltered = sub_unfiltered(s);
    for (;;) {
        uint64_t h = b->head; /* re-read: a callback may have published */
        if (c >= h) break;
        uint64_t idx = c & mask;
        uint64_t seg = h - c; /* events up to head or the ring end, whichever first */
        if (seg > cap - idx) seg = cap - idx;
        if (unfiltered) {
            if (!sub_deliver(b, s, c, (size_t)seg)) return;
            c += seg;
            continue;
        }
        const shj_event *p = &slots[idx], *end = p + seg;
        while (p < end && !sub_matches(s, p)) p++;
        if (p == end) { /* nothing in this segment is for s */
            c += seg;
            s->cursor = c;
            continue;
        }
        const shj_event *run = p;
        while (p < end && sub_matches(s, p)) p++;
        uint64_t start = c + (uint64_t)(run - &slots[idx]);
        if (!sub_deliver(b, s, start, (size_t)(p - run))) return;
        c = s->cursor;
    }
    s->cursor = c;
}

size_t bus_dispatch(bus *b) {
    if (b->dispatching) return 0; /* re-entered from a callback: the outer pass continues */
    b->dispatching = 1;
    uint64_t tail0 = ring_tail(b, false);
    /* Index loop re-reading n_subs: callbacks may subscribe (realloc) or
     * unsubscribe (mark dead) while we walk. */
    for (size_t i = 0; i < b->n_subs; i++) {
        bus_sub *s = b->subs[i];
        if (s->dead) continue;
        sub_dispatch(b, s);
    }
    b->dispatching = 0;
    if (b->n_dead) subs_compact(b);
    uint64_t tail1 = ring_tail(b, false);
    return (size_t)(tail1 - tail0);
}
