/* fuzz_archive.c — libFuzzer target: the raw-archive readers agree on any bytes.
 *
 * The input is written as a .shjraw file (a valid file header is prepended
 * when byte 0 is even, so the block path is reached). Oracle: the synchronous
 * reader, the read-ahead reader and the scan see the same records (count and
 * a digest of seq, tag, recv time and payload), pass over the same damaged
 * ranges (arc_reader_resync), stop at the same good offset, and the scan's
 * record count, holes and torn flag match what the readers saw.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "archive/archive_format.h"
#include "core/shj_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    uint64_t records, digest, good, holes;
    int result; /* last arc_reader_next value: 0 clean end, -1 stopped */
} outcome;

static void read_all(arc_reader *r, outcome *o) {
    memset(o, 0, sizeof *o);
    o->digest = 0xcbf29ce484222325ULL;
    arc_record rec;
    int rc;
    for (;;) {
        while ((rc = arc_reader_next(r, &rec)) == 1) {
            o->records++;
            uint64_t h = o->digest ^ rec.seq ^ ((uint64_t)rec.recv_ns << 1) ^ rec.tag;
            for (uint32_t i = 0; i < rec.len; i++) h = (h ^ (uint8_t)rec.data[i]) * 0x100000001b3ULL;
            o->digest = h * 0x100000001b3ULL;
        }
        uint64_t a, b;
        if (rc == 0 || arc_reader_resync(r, &a, &b) != SHJ_OK) break;
        o->holes++;
        o->digest ^= a * 31 + b;
    }
    o->result = rc;
    o->good = arc_reader_good_offset(r);
    arc_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_archive.%d.shjraw", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && (data[0] & 1) == 0) {
        /* A real header, so mutations exercise the block framing. */
        uint8_t hdr[ARC_FILE_HDR_BYTES] = {0};
        memcpy(hdr, ARC_FILE_MAGIC, ARC_FILE_MAGIC_LEN);
        hdr[ARC_FH_VERSION] = ARC_FORMAT_VERSION;
        hdr[ARC_FH_HDR_BYTES] = ARC_FILE_HDR_BYTES;
        memcpy(hdr + ARC_FH_DAY, "2026-12-04", 10);
        uint32_t check = XXH32(hdr, ARC_FH_CHECK, 0);
        for (int i = 0; i < 4; i++) hdr[ARC_FH_CHECK + i] = (uint8_t)(check >> (8 * i));
        fwrite(hdr, 1, sizeof hdr, f);
        data++, size--;
    }
    fwrite(data, 1, size, f);
    fclose(f);

    char err[256];
    outcome a, b;
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    arc_reader *p = arc_reader_open_prefetch(path, 3, err, sizeof err);
    if (!r != !p) abort(); /* both open or both refuse */
    if (!r) return 0;
    read_all(r, &a);
    read_all(p, &b);
    if (a.records != b.records || a.digest != b.digest || a.result != b.result || a.good != b.good ||
        a.holes != b.holes)
        abort();
    arc_scan s;
    if (arc_scan_file(path, &s, err, sizeof err) == SHJ_OK) {
        if (s.records != a.records || s.damaged_ranges != a.holes) abort();
        if (!!s.torn != (a.result != 0)) abort();
    }
    return 0;
}
