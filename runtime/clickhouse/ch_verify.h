/* ch_verify.h — the C half of `shijim verify.lua`: check a day file of the
 * raw archive, and compare it with what ClickHouse holds.
 *
 * Owns: one read of an archive day file (every block's checksums, through
 * arc_reader, passing over damaged ranges with arc_reader_resync), and one
 * SELECT ... FINAL per table over the file's sequence range.
 *
 * The comparison: the rows the archive's payloads produce (parsed exactly as
 * live: psr_parse and a quote's book half, with the recorded seq and receive
 * time and the given source id), distinct by the tables' key (code, ts,
 * source, seq), against the rows ClickHouse holds under FINAL for that
 * source and sequence range. Counted per kind (tick, quote, bidask), plus a
 * digest: the sum (mod 2^64) of XXH64 over each row's RowBinary encoding,
 * i.e. over every stored field, so equal digests mean equal rows whatever
 * the order. Sequences identify a day file's rows because they increase
 * across restarts (ch_reconcile.h); a file recorded before that (sequence
 * restarting at 1) is reported (seq_restarts) and cannot be compared.
 *
 * Threading: blocking, the caller's thread (the instrument table: the loop
 * thread's, i.e. a script's main thread).
 */
#ifndef SHJ_CH_VERIFY_H
#define SHJ_CH_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* FFI-BEGIN */
enum { CHV_TICK = 0, CHV_QUOTE = 1, CHV_BIDASK = 2, CHV_NKINDS = 3 };

typedef struct chv_report {
    /* archive */
    uint64_t records, blocks;
    uint64_t first_seq, last_seq;
    uint64_t seq_gaps;          /* jumps forward by more than one */
    uint64_t seq_missing;       /* sequence numbers missing in them */
    uint64_t seq_restarts;      /* jumps backwards (a restart before sequences continued) */
    uint64_t damaged_ranges;    /* damaged byte ranges passed over */
    uint64_t damaged_bytes;
    int torn;                   /* the file ends inside a block (a torn tail, or being written) */
    int being_written;          /* a writer holds the file now */
    uint64_t rows[CHV_NKINDS];  /* rows the payloads make, distinct by key */
    uint64_t digest;
    /* ClickHouse (chv_clickhouse) */
    uint64_t ch_rows[CHV_NKINDS];
    uint64_t ch_digest;
    char gaps[600];             /* "seq 120..130 missing (damaged bytes 4096..8192 passed over); ..." */
    char detail[300];           /* the reader's last error, if any */
} chv_report;

/* Read and check the archive day file at path; fills the archive half of
 * *out (zeroed first). SHJ_OK, or SHJ_ERR with err when it cannot be opened. */
int chv_archive(const char *path, uint16_t source_id, chv_report *out, char *err, size_t errlen);
/* The ClickHouse half for [out->first_seq, out->last_seq] of source_id at
 * dsn. SHJ_OK, or SHJ_ERR with err (unreachable, no tables: redacted). */
int chv_clickhouse(const char *dsn, uint16_t source_id, chv_report *out, char *err, size_t errlen);
/* Run the reconcile (ch_reconcile.h) for one source, as a recorder start
 * does: 0 nothing left to replay (*replayed records were), 1 ClickHouse
 * could not take them (err says why; the watermarks keep them), -1 err. */
int chv_reconcile(const char *archive_dir, const char *source, uint16_t source_id, const char *dsn,
                  uint64_t *replayed, char *err, size_t errlen);
/* FFI-END */

#endif
