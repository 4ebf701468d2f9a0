/* bytebuf.c — the growable byte buffer (see bytebuf.h). */
#include "core/bytebuf.h"

#include <stdlib.h>
#include <string.h>

void bb_init(bb_buf *b) { memset(b, 0, sizeof *b); }

void bb_free(bb_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

int bb_grow(bb_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return 0;
    if (extra > SIZE_MAX / 2 - b->len) return -1;
    size_t want = b->len + extra;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < want) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int bb_append(bb_buf *b, const void *p, size_t n) {
    if (bb_reserve(b, n) != 0) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}
