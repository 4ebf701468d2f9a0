/* fuzz_sse.c — libFuzzer target: the SSE framer gives the same events however
 * the bytes are chunked, and with refusals (back-pressure) in between.
 *
 * Input: byte 0 seeds the chunk sizes, the rest is the stream. The oracle
 * compares a digest of every event (name, data, id, in order) plus the final
 * result (ok/error) across: the whole buffer at once, chunks of pseudo-random
 * sizes, one byte at a time, and chunks with every other event refused once
 * and taken again from sse_resume.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"
#include "parse/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    uint64_t digest;
    uint64_t events;
    int refuse_toggle; /* refuse every other offer once */
    int refusing;
} run;

static uint64_t mix(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 0x100000001b3ULL;
    return (h ^ n) * 0x100000001b3ULL;
}

static int on_event(void *ctx, const sse_event *ev) {
    run *r = ctx;
    if (r->refusing) {
        r->refuse_toggle ^= 1;
        if (r->refuse_toggle) return 1;
    }
    r->digest = mix(r->digest, ev->name, ev->name_len);
    r->digest = mix(r->digest, ev->data, ev->data_len);
    r->digest = mix(r->digest, ev->id, ev->id_len);
    r->events++;
    return 0;
}

/* Feed [p, p+n) and drain any pause; returns the final sse result. */
static int feed(sse_parser *ps, const char *p, size_t n) {
    int rc = sse_feed(ps, p, n);
    while (rc == SHJ_AGAIN) rc = sse_resume(ps);
    return rc;
}

static int play(const uint8_t *data, size_t size, int mode, uint8_t seed, run *r) {
    sse_parser ps;
    memset(r, 0, sizeof *r);
    r->digest = 0xcbf29ce484222325ULL;
    r->refusing = mode == 3;
    sse_init(&ps, on_event, r);
    ps.max_event_bytes = 48; /* small, so the oversize path is reached quickly */
    int rc = SHJ_OK;
    size_t off = 0;
    uint32_t x = seed * 2654435761u + 1;
    while (off < size && rc != SHJ_ERR) {
        size_t n = size - off;
        if (mode == 1 || mode == 3) {
            x = x * 1103515245u + 12345u;
            n = 1 + (x >> 16) % 64;
            if (n > size - off) n = size - off;
        } else if (mode == 2) {
            n = 1;
        }
        /* Copy each chunk so zero-copy pointers cannot outlive it unseen (ASan). */
        char *chunk = malloc(n ? n : 1);
        memcpy(chunk, data + off, n);
        rc = feed(&ps, chunk, n);
        free(chunk);
        off += n;
    }
    sse_free(&ps);
    return rc == SHJ_ERR ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t seed = data[0];
    data++, size--;
    run base, other;
    int rc0 = play(data, size, 0, seed, &base);
    for (int mode = 1; mode <= 3; mode++) {
        int rc = play(data, size, mode, seed, &other);
        if (rc0 == 0 && rc == 0 && (other.digest != base.digest || other.events != base.events))
            abort(); /* chunking or refusals changed the events */
        if (rc0 != rc) abort(); /* an oversize error must not depend on chunking */
        if (other.events > base.events + 1 && rc0 != 0) abort();
    }
    return 0;
}
