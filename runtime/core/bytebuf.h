/* bytebuf.h — the growable byte buffer (sds-like, but plain).
 *
 * One owner, one thread. data[0..len) is the content; growing doubles the
 * capacity (first 4096 bytes) and may move data, so pointers into it are
 * valid until the next reserve/append. A failed reserve leaves the buffer as
 * it was. Fields: data and len read-write by the owner (write past len only
 * after bb_reserve), cap read-only.
 */
#ifndef SHJ_BYTEBUF_H
#define SHJ_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct bb_buf {
    uint8_t *data;
    size_t len;
    size_t cap; /* read-only */
} bb_buf;

void bb_init(bb_buf *b);
/* Free the storage; the buffer is empty (and reusable) afterwards. */
void bb_free(bb_buf *b);
/* Out-of-line half of bb_reserve. */
int bb_grow(bb_buf *b, size_t extra);
/* Room for extra more bytes after len: 0 (SHJ_OK) or -1 (SHJ_ERR, out of memory). */
static inline int bb_reserve(bb_buf *b, size_t extra) {
    return b->cap - b->len >= extra ? 0 : bb_grow(b, extra);
}
/* Append n bytes of p: 0 or -1 (out of memory; nothing appended). */
int bb_append(bb_buf *b, const void *p, size_t n);

#endif
