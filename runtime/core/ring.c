/* ring.c — the growable FIFO (see ring.h). */
#include "core/ring.h"

#include <stdlib.h>
#include <string.h>

void ring_init(ring *r, size_t elem, size_t first_cap) {
    memset(r, 0, sizeof *r);
    r->elem = elem;
    r->first_cap = first_cap ? first_cap : 64;
}

void ring_free(ring *r) {
    free(r->buf);
    r->buf = NULL;
    r->head = r->cap = r->len = 0;
}

/* Double the storage, unwrapping the queue to start at index 0. */
static int grow(ring *r) {
    size_t cap = r->cap ? r->cap * 2 : r->first_cap;
    if (cap < r->cap || cap > (size_t)-1 / r->elem) return -1;
    unsigned char *buf = malloc(cap * r->elem);
    if (!buf) return -1;
    size_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len; /* up to the wrap */
    if (r->len) {
        memcpy(buf, r->buf + r->head * r->elem, first * r->elem);
        memcpy(buf + first * r->elem, r->buf, (r->len - first) * r->elem);
    }
    free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
    return 0;
}

void *ring_push(ring *r) {
    if (r->len == r->cap && grow(r) != 0) return NULL;
    void *slot = r->buf + ((r->head + r->len) % r->cap) * r->elem;
    r->len++;
    return slot;
}

void *ring_push_front(ring *r) {
    if (r->len == r->cap && grow(r) != 0) return NULL;
    r->head = (r->head + r->cap - 1) % r->cap;
    r->len++;
    return r->buf + r->head * r->elem;
}

void *ring_at(const ring *r, size_t i) {
    if (i >= r->len) return NULL;
    return r->buf + ((r->head + i) % r->cap) * r->elem;
}

void ring_pop(ring *r) {
    if (!r->len) return;
    r->head = (r->head + 1) % r->cap;
    r->len--;
}
