/* arc_payload.h — deterministic test payloads for the raw-archive tests.
 *
 * The crash test and the recording tool it kills must generate the very same
 * bytes for a sequence number, so the generator lives here, once.
 */
#ifndef SHJ_ARC_PAYLOAD_H
#define SHJ_ARC_PAYLOAD_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "core/shj_common.h"

/* splitmix64 finalizer: a well-mixed 64-bit hash of x. */
static inline uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* 50..600 bytes of JSON-like text derived from seq (buf holds >= 601 bytes); tag 1..7. */
static inline uint32_t arc_test_payload(uint64_t seq, char *buf, uint8_t *tag) {
    uint64_t h = mix64(seq);
    uint32_t len = 50 + (uint32_t)(h % 551);
    *tag = (uint8_t)(1 + (h >> 20) % 7);
    uint32_t n = (uint32_t)snprintf(buf, len + 1, "{\"code\":\"%04u\",\"seq\":%" PRIu64 ",",
                                    (unsigned)(1000 + h % 9000), seq);
    uint64_t s = h | 1;
    while (n < len) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        char field[48];
        int k = snprintf(field, sizeof field, "\"p%u\":\"%u.%u\",", (unsigned)(s % 9),
                         (unsigned)(s >> 8) % 2000, (unsigned)(s >> 24) % 100);
        uint32_t take = (uint32_t)k < len - n ? (uint32_t)k : len - n;
        memcpy(buf + n, field, take);
        n += take;
    }
    return len;
}

/* Receive time of a test record: 1 us apart from t0, with jitter under 1 us. */
static inline int64_t arc_test_recv(int64_t t0, uint64_t seq) {
    return t0 + (int64_t)seq * 1000 + (int64_t)(mix64(seq) % 700);
}

typedef uint32_t (*arc_test_payload_fn)(uint64_t seq, char *buf, uint8_t *tag);

/* arc_append, waiting while the writer's queue is full (SHJ_AGAIN). */
static inline int arc_test_append(arc_writer *w, uint8_t tag, const void *data, uint32_t len,
                                  int64_t recv_ns, uint64_t seq) {
    int rc;
    while ((rc = arc_append(w, tag, data, len, recv_ns, seq)) == SHJ_AGAIN) usleep(200);
    return rc;
}

/* Append records from..to (payloads from gen into buf, receive times from
 * arc_test_recv(t0, seq)) with a writer opened on *o, retrying while the
 * writer's queue is full, then close it. SHJ_OK or SHJ_ERR (printed). */
static inline int arc_test_write(const arc_opts *o, uint64_t from, uint64_t to, arc_test_payload_fn gen,
                                 int64_t t0, char *buf) {
    char err[512];
    arc_writer *w = arc_open(o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return SHJ_ERR;
    }
    int rc = SHJ_OK;
    for (uint64_t s = from; s <= to && rc == SHJ_OK; s++) {
        uint8_t tag;
        uint32_t len = gen(s, buf, &tag);
        rc = arc_test_append(w, tag, buf, len, arc_test_recv(t0, s), s);
    }
    if (arc_close(w, err, sizeof err) != SHJ_OK) {
        fprintf(stderr, "%s\n", err);
        rc = SHJ_ERR;
    }
    return rc;
}

#endif
