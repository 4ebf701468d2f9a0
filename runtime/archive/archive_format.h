/* archive_format.h — private to the raw archive: the on-disk layout of a
 * .shjraw file and the framing helpers shared by the writer (archive.c), the
 * reader (archive_read.c) and the dumper (archive_dump.c).
 *
 * Guarantees: every multi-byte integer on disk is little-endian and written
 * byte by byte (no struct is ever dumped raw), so files are portable and the
 * layout below is the whole truth. docs/raw-archive.md describes the same
 * layout for people; keep the two in step.
 *
 *   file   = file header (128 bytes) , block*
 *   block  = block header (64 bytes) , stored bytes (stored_len)
 *   stored = raw bytes (codec 0) or one LZ4 block of the raw bytes (codec 1)
 *   raw    = record{n_records}
 *   record = varint len , zigzag-varint seq delta , zigzag-varint recv_ns delta ,
 *            tag byte , payload[len]
 * Deltas are taken from the previous record of the same block; the first
 * record of a block starts from seq 0 / recv_ns 0, so a block decodes alone.
 *
 * Nothing here is a public API: symbols with the arc__ prefix are internal to
 * the archive module (and its tests).
 */
#ifndef SHJ_ARCHIVE_FORMAT_H
#define SHJ_ARCHIVE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/session.h"

/* File header ------------------------------------------------------------- */
#define ARC_FILE_MAGIC "\x89SHJRAW\n"      /* 8 bytes; 0x89 catches 7-bit mangling */
#define ARC_FILE_MAGIC_LEN 8
#define ARC_FILE_HDR_BYTES 128             /* fixed in format version 1 */
#define ARC_FORMAT_VERSION 1
#define ARC_SOURCE_MAX 79                  /* source name bytes (NUL-padded to 80) */
/* Offsets inside the file header. */
#define ARC_FH_VERSION 8                   /* u16 */
#define ARC_FH_HDR_BYTES 10                /* u16 = 128 */
#define ARC_FH_FLAGS 12                    /* u32 = 0 */
#define ARC_FH_CREATED 16                  /* i64 ns UTC, when the file was created */
#define ARC_FH_DAY 24                      /* char[16] "YYYY-MM-DD", NUL-padded */
#define ARC_FH_SOURCE 40                   /* char[80] source name, NUL-padded */
#define ARC_FH_RESERVED 120                /* u32 = 0 */
#define ARC_FH_CHECK 124                   /* u32 XXH32(bytes 0..123, seed 0) */

/* Block header ------------------------------------------------------------ */
#define ARC_BLOCK_MAGIC 0x424A4853u        /* bytes "SHJB" */
#define ARC_BLOCK_HDR_BYTES 64
#define ARC_BH_MAGIC 0                     /* u32 */
#define ARC_BH_CODEC 4                     /* u8: ARC_CODEC_* */
#define ARC_BH_FLAGS 5                     /* u8 = 0 */
#define ARC_BH_RESERVED 6                  /* u16 = 0 */
#define ARC_BH_RAW_LEN 8                   /* u32: bytes of framed records */
#define ARC_BH_STORED_LEN 12               /* u32: bytes following this header */
#define ARC_BH_N_RECORDS 16                /* u32 >= 1 */
#define ARC_BH_FIRST_SEQ 20                /* u64: seq of the first record */
#define ARC_BH_LAST_SEQ 28                 /* u64: seq of the last record */
#define ARC_BH_MIN_RECV 36                 /* i64: smallest recv_ns in the block */
#define ARC_BH_MAX_RECV 44                 /* i64: largest recv_ns in the block */
#define ARC_BH_DATA_HASH 52                /* u64: XXH64(stored bytes, seed 0) */
#define ARC_BH_CHECK 60                    /* u32: XXH32(header bytes 0..59, seed 0) */

#define ARC_CODEC_NONE 0
#define ARC_CODEC_LZ4 1

/* Limits ------------------------------------------------------------------ */
#define ARC_MAX_RECORD_BYTES (32u << 20)   /* one payload; larger ones are refused */
#define ARC_MAX_BLOCK_BYTES (32u << 20)    /* largest block_bytes option */
#define ARC_MIN_BLOCK_BYTES 1024u          /* smallest block_bytes option */
/* A block holds at most max(block_bytes, one record): raw_len never exceeds this. */
#define ARC_MAX_BLOCK_RAW (ARC_MAX_BLOCK_BYTES + ARC_MAX_RECORD_BYTES + 64u)
#define ARC_REC_MAX_OVERHEAD 26            /* 5 (len) + 10 (seq) + 10 (recv) + 1 (tag) */
#define ARC_REC_MIN_BYTES 4                /* len, seq, recv, tag: one byte each */
/* On open for append only the blocks in the last this-many bytes are fully
 * verified (decompressed, hashed); older blocks get a header walk. A crash can
 * only tear what was written since the last fsync, and re-reading a whole
 * multi-GB day file would pause the feed at every restart. */
#define ARC_TAIL_VERIFY_BYTES (64ull << 20)

/* Trading day: core/session's ses_trading_day. arc_append caches it per
 * 24 h between two 15:00 Taipei rolls (= 07:00 UTC): the date index
 * floor((recv_ns + 17 h) / 24 h), then ses_trading_day_from that date. */
#define ARC_DAY_NS (86400LL * CLK_NS_PER_SEC)
#define ARC_DAY_SHIFT_NS ((int64_t)(CLK_TAIPEI_OFFSET_S + SES_DAY_ROLL_S) * CLK_NS_PER_SEC)

/* Little-endian ----------------------------------------------------------- */
static inline void arc__put16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void arc__put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void arc__put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t arc__get16(const unsigned char *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t arc__get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline uint64_t arc__get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Varints (LEB128, 7 bits per byte, low first) ----------------------------- */
static inline unsigned char *arc__put_varint(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}
/* Decodes one varint from [p, end). Returns bytes used, 0 when truncated or
 * longer than 10 bytes / overflowing 64 bits (corrupt). */
static inline size_t arc__get_varint(const unsigned char *p, const unsigned char *end,
                                     uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1) return 0;
        v |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}
/* Zigzag on the wrapped difference: small steps either way cost one byte;
 * unsigned arithmetic throughout so that no value can overflow (UB-free). */
static inline uint64_t arc__zigzag(uint64_t delta) { return (delta << 1) ^ (0 - (delta >> 63)); }
static inline uint64_t arc__unzigzag(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }

/* Parsed headers ---------------------------------------------------------- */
typedef struct arc_file_hdr {
    uint16_t version;
    int64_t created_ns;
    char day[16];
    char source[ARC_SOURCE_MAX + 1];
} arc_file_hdr;

typedef struct arc_block_hdr {
    uint8_t codec;
    uint32_t raw_len, stored_len, n_records;
    uint64_t first_seq, last_seq;
    int64_t min_recv_ns, max_recv_ns;
    uint64_t data_hash;
} arc_block_hdr;

/* Encoders fill exactly ARC_FILE_HDR_BYTES / ARC_BLOCK_HDR_BYTES bytes. */
void arc__file_hdr_encode(unsigned char *p, const arc_file_hdr *h);
void arc__block_hdr_encode(unsigned char *p, const arc_block_hdr *h);
/* Decoders validate magic, checksum and internal consistency. SHJ_OK, or
 * SHJ_ERR with the reason in why (no path, no offset: the caller adds them).
 * arc__file_hdr_decode sets *newer when the only problem is a format version
 * this code does not know (such a file must not be appended to or cut). */
int arc__file_hdr_decode(const unsigned char *p, arc_file_hdr *h, int *newer, char *why,
                         size_t whylen);
int arc__block_hdr_decode(const unsigned char *p, arc_block_hdr *h, char *why, size_t whylen);

/* Trading-day helpers (see ARC_DAY_SHIFT_NS). */
int64_t arc__day_index(int64_t recv_ns);     /* the 15:00-rolled Taipei date, before holidays */
int64_t arc__day_start_ns(int64_t day);      /* first recv_ns of that date */
void arc__day_name(int64_t day, char out[11]); /* "YYYY-MM-DD" */

/* Scans an open file descriptor (the writer's, on open for append). Blocks
 * that start before verify_from get a header walk only; later ones are fully
 * verified. *newer as in arc__file_hdr_decode. SHJ_ERR only for I/O errors. */
int arc__scan_fd(int fd, const char *path, uint64_t verify_from, arc_scan *out, int *newer,
                 char *err, size_t errlen);

/* Tests only: hold the writer thread (1) or let it go (0), so that a full
 * queue and SHJ_AGAIN can be produced deterministically. */
void arc__test_pause(arc_writer *w, int paused);

#endif
