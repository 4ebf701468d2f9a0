/* bus.h — the in-process pub/sub bus.
 *
 * Owns: one ring of shj_event slots and the subscribers' cursors into it
 * (a single-threaded disruptor). Publishers claim a slot, fill it in place and
 * commit; bus_dispatch hands each subscriber the committed events it has not
 * seen, filtered by kind mask and (optionally) instrument ids, in contiguous
 * runs so that C writers and the Lua bridge work on batches.
 *
 * Never drops silently. Per subscriber:
 *  - BUS_BLOCK (default, writers): events a subscriber did not take stay in
 *    the ring; when the ring is full bus_claim returns NULL and sources pause
 *    (back-pressure reaches the source, which stops reading/generating).
 *  - BUS_DROP: a subscriber that does not take events in time loses them; the
 *    bus counts every lost event in its stats and they appear in the status line.
 *
 * Threading: event-loop thread only. Ordering: every subscriber sees events
 * in publish order.
 */
#ifndef SHJ_BUS_H
#define SHJ_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

typedef struct bus bus;
typedef struct bus_sub bus_sub;

typedef enum { BUS_BLOCK = 0, BUS_DROP = 1 } bus_policy;

/* Deliver n >= 1 contiguous, filter-matching events. Return how many were
 * taken (0..n). Fewer than n means "full for now": a BUS_BLOCK subscriber is
 * offered the rest again on a later dispatch; a BUS_DROP subscriber loses the
 * rest (counted). The events stay valid only during the call. */
typedef size_t (*bus_deliver_fn)(void *ctx, const shj_event *evs, size_t n);

typedef struct bus_sub_stats {
    uint64_t delivered;  /* events taken */
    uint64_t dropped;    /* events lost (BUS_DROP only) */
    uint64_t lag;        /* events committed but not yet taken */
} bus_sub_stats;

/* capacity is rounded up to a power of two (default 65536 when 0). */
bus *bus_new(size_t capacity);
void bus_free(bus *b);

/* kind_mask: bits 1u << SHJ_KIND_*; inst_ids: NULL/0 = every instrument. The
 * bus copies inst_ids. name is used in stats/status ("raw", "lua", "clickhouse"). */
bus_sub *bus_subscribe(bus *b, const char *name, uint32_t kind_mask, const uint32_t *inst_ids,
                       size_t n_inst, bus_policy policy, bus_deliver_fn fn, void *ctx);
/* Remove a subscriber; its pending events are released. Safe inside dispatch. */
void bus_unsubscribe(bus *b, bus_sub *s);

/* Claim the next slot to fill (zeroed is NOT guaranteed), or NULL when the ring
 * is full (a BUS_BLOCK subscriber is behind): the caller must pause. */
shj_event *bus_claim(bus *b);
/* Publish the claimed slot. */
void bus_commit(bus *b);
/* Convenience: claim + memcpy + commit. SHJ_OK or SHJ_AGAIN when full. */
int bus_publish(bus *b, const shj_event *ev);

/* Slots free for claiming right now. */
size_t bus_free_slots(const bus *b);
/* Events committed and not yet taken by every subscriber. */
size_t bus_pending(const bus *b);

/* Offer pending events to every subscriber. Returns the number of slots freed. */
size_t bus_dispatch(bus *b);

uint64_t bus_published(const bus *b);
size_t bus_sub_count(const bus *b);
/* Stats of the i-th subscriber (0..bus_sub_count-1); name via *name. */
void bus_sub_stats_at(const bus *b, size_t i, const char **name, bus_sub_stats *out);
void bus_sub_get_stats(const bus_sub *s, bus_sub_stats *out);

#endif
