/* ring.h — a growable FIFO of fixed-size elements (one owner, one thread).
 *
 * The one queue the runtime's modules keep work or results in when the
 * consumer may lag (finished bars waiting for bus room, REST jobs, status
 * events waiting to be published). Push at the tail, read and pop at the
 * head; a full ring doubles (elements are moved in order, so a pointer from
 * ring_push/ring_front/ring_at is valid only until the next ring_push).
 * Not thread-safe: the owner serialises access (the loop thread, usually).
 *
 * Fields are private except len (read-only; ring_len reads it).
 */
#ifndef SHJ_RING_H
#define SHJ_RING_H

#include <stddef.h>

typedef struct ring {
    unsigned char *buf; /* private: cap * elem bytes */
    size_t elem;        /* private: element size, bytes */
    size_t first_cap;   /* private: capacity of the first allocation */
    size_t head;        /* private: index of the oldest element */
    size_t cap;         /* private: elements buf holds */
    size_t len;         /* read-only: elements queued */
} ring;

/* An empty ring of elem-byte elements; nothing is allocated until the first
 * push, which allocates first_cap elements (64 when 0). */
void ring_init(ring *r, size_t elem, size_t first_cap);
/* Free the storage; the ring is empty (and reusable) afterwards. */
void ring_free(ring *r);
/* A slot at the tail (contents undefined, len grows by one), or NULL when
 * growing failed (the ring is unchanged). */
void *ring_push(ring *r);
/* A slot at the head, before every queued element (a retry that must go
 * first); NULL when growing failed. */
void *ring_push_front(ring *r);
/* The i-th oldest element (0 = the head), or NULL when i >= len. */
void *ring_at(const ring *r, size_t i);
/* The oldest element, or NULL when empty. */
static inline void *ring_front(const ring *r) { return ring_at(r, 0); }
/* Drop the oldest element; a no-op on an empty ring. */
void ring_pop(ring *r);
static inline size_t ring_len(const ring *r) { return r->len; }

#endif
