/* archive.h — the raw archive: append-only ground truth of what sources delivered.
 *
 * Owns: files <dir>/<source>/<YYYY-MM-DD>.shjraw holding every payload a
 * source delivered (SSE event tag + raw bytes) with its receive time and
 * per-source sequence, so that replay re-normalizes through exactly the live
 * code path. The format (blocks with length, checksum, optional lz4) is
 * documented in docs/raw-archive.md.
 *
 * Threading: arc_append / arc_poll / arc_ready run on the event-loop thread
 * and only copy bytes into the current block. A writer thread owned by the
 * archive takes sealed blocks through a bounded queue, compresses, checksums,
 * writes and fsyncs them, so disk latency never stalls the loop. When the
 * queue is full arc_append returns SHJ_AGAIN and the source pauses.
 *
 * Durability promise: a record is on disk and fsynced at the latest
 * fsync_ms after arc_append returned (plus the time to drain the queue), or
 * after fsync_records further records, whichever comes first. arc_stats
 * reports the highest fsynced sequence. After a crash or kill -9 every record
 * up to that sequence is readable; a torn last block is detected, reported
 * and cut off when the file is next opened for append.
 *
 * Trading day: a record goes to the file of its trading day, decided by the
 * caller from the data's exchange time (arc_append_day; core/session's
 * ses_trading_day: the night session belongs to the next trading day,
 * Friday's to Monday, weekends and holidays skipped). arc_append, for
 * payloads without an exchange time, uses the receive time, same rule. A
 * late record of the previous day goes to the previous day's file: the
 * writer keeps two day files open for append.
 */
#ifndef SHJ_ARCHIVE_H
#define SHJ_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct arc_writer arc_writer;
typedef struct arc_reader arc_reader;

typedef enum { ARC_COMPRESS_NONE = 0, ARC_COMPRESS_LZ4 = 1 } arc_compress;

typedef struct arc_opts {
    const char *dir;        /* archive root; created if missing */
    const char *source;     /* source name: one sub-directory per source */
    int fsync_ms;           /* max age of an unsynced record (default 100; 0 = every block) */
    int fsync_records;      /* fsync after this many records (0 = no count limit) */
    int compress;           /* arc_compress (default ARC_COMPRESS_LZ4) */
    size_t block_bytes;     /* raw bytes per block before sealing (default 256 KiB) */
    size_t queue_blocks;    /* blocks in flight to the writer thread (default 64) */
    int file_mode;          /* mode of new day and side files (default 0640: market data is
                               licensed, not for every local user; the umask still applies) */
} arc_opts;

typedef struct arc_stats {
    uint64_t records;        /* appended */
    uint64_t durable_records;/* written and fsynced */
    uint64_t durable_seq;    /* highest sequence fsynced (0 = none yet) */
    uint64_t bytes_raw;      /* payload + framing bytes before compression */
    uint64_t bytes_written;  /* bytes on disk */
    uint64_t blocks;         /* blocks written */
    uint64_t stalls;         /* times arc_append returned SHJ_AGAIN */
    int failed;              /* sticky: a write/fsync failed; see arc_error */
} arc_stats;

typedef struct arc_record {
    uint64_t seq;
    int64_t recv_ns;
    uint8_t tag;             /* psr_tag */
    uint32_t len;
    const char *data;        /* valid until the next arc_reader_next */
} arc_record;

/* Called with the duration of every data fdatasync, on the writer's own
 * thread (the metrics' fsync histogram; NULL = none). Process-wide. */
typedef void (*arc_fsync_hook)(int64_t duration_ns);
void arc_set_fsync_hook(arc_fsync_hook fn);

/* Writer ------------------------------------------------------------------ */
arc_writer *arc_open(const arc_opts *opts, char *err, size_t errlen);
/* Non-zero when one more record of len bytes can be appended without SHJ_AGAIN. */
int arc_ready(const arc_writer *w, size_t len);
/* SHJ_OK, SHJ_AGAIN (queue full: retry later), SHJ_ERR (writer failed: arc_error). */
int arc_append(arc_writer *w, uint8_t tag, const void *data, uint32_t len, int64_t recv_ns,
               uint64_t seq);
/* The same, into the file of trading day `day` (a ses_trading_day day
 * number, from the record's exchange time). Records of one day keep their
 * order; a change of day seals the current block. */
int arc_append_day(arc_writer *w, uint8_t tag, const void *data, uint32_t len, int64_t recv_ns,
                   uint64_t seq, int64_t day);
/* Called by the loop (e.g. every few ms): seals the current block when it is
 * older than fsync_ms so the writer thread can persist it. */
void arc_poll(arc_writer *w, int64_t now_mono_ns);
/* Seal, hand off, wait until everything is written and fsynced. */
int arc_flush(arc_writer *w, char *err, size_t errlen);
/* Flush, stop the thread, close files, free. SHJ_OK or SHJ_ERR (err says why). */
int arc_close(arc_writer *w, char *err, size_t errlen);
void arc_get_stats(const arc_writer *w, arc_stats *out);
/* The sticky error text, "" when none. */
const char *arc_error(const arc_writer *w);
/* Path of the file currently written ("" before the first record). */
const char *arc_current_path(const arc_writer *w);

/* Reader ------------------------------------------------------------------ */
arc_reader *arc_reader_open(const char *path, char *err, size_t errlen);
/* The same reader, reading ahead on a thread of its own: up to `depth`
 * blocks (1..64; 4 is plenty) after the current one are read, verified and
 * decompressed while the caller walks the current one, so arc_reader_next
 * costs only the record framing on the caller's thread. Identical results
 * to arc_reader_open (records, order, errors, offsets, torn tails), and the
 * other reader functions behave the same; arc_reader_close stops the thread
 * at any point. depth <= 0, or no thread/memory, gives the synchronous
 * reader. arc_reader_good_offset is where the caller is, not the thread. */
arc_reader *arc_reader_open_prefetch(const char *path, int depth, char *err, size_t errlen);
/* Read-ahead that also decodes: `workers` threads (1..8) load blocks in
 * parallel (still handed out in file order) and run hook->decode on each
 * block that passed every check, on the worker thread, before the owner
 * sees it: recs are the block's n records as arc_reader_next would return
 * them (data valid during the call). decode keeps what it makes in
 * *block_state (NULL the first time a slot is used; the same pointer comes
 * back when the slot is reused, so buffers can be recycled); release frees
 * one at close. The owner finds the state of the current record's block with
 * arc_reader_block_state. decode runs on several threads at once, each on
 * its own block: it must touch nothing shared. Records, order, errors and
 * offsets are exactly arc_reader_open's. NULL with err if the file cannot
 * be opened or no thread can be started. */
typedef struct arc_decode_hook {
    void (*decode)(void *ctx, void **block_state, const arc_record *recs, size_t n);
    void (*release)(void *ctx, void *block_state);
    void *ctx;
} arc_decode_hook;
arc_reader *arc_reader_open_decoding(const char *path, int depth, int workers,
                                     const arc_decode_hook *hook, char *err, size_t errlen);
/* With a decode hook: the state decode left for the block of the record the
 * last arc_reader_next returned, and that record's index in the block
 * (recs[index] in decode). NULL for other readers. */
void *arc_reader_block_state(const arc_reader *r, size_t *index);
/* 1 = a record, 0 = clean end of file, -1 = corrupt or torn data: the reader
 * stops; arc_reader_error says what and at which byte offset. */
int arc_reader_next(arc_reader *r, arc_record *rec);
const char *arc_reader_error(const arc_reader *r);
/* Byte offset just after the last good block (where a torn tail starts). */
uint64_t arc_reader_good_offset(const arc_reader *r);
/* 1 when the reader stopped (-1) because the file ends inside a block: a torn
 * tail, or the block a writer is appending right now; 0 for damage inside
 * the bytes (checksum, framing, lz4) or any other stop. */
int arc_reader_cut_short(const arc_reader *r);
/* 1 while a writer is appending to path (it holds the archive's flock). A
 * file cut short while being written is growing, not torn. */
int arc_file_being_written(const char *path);
/* After arc_reader_next returned -1 for damage inside the bytes (not an I/O
 * error): find the next block that passes every check and continue there.
 * SHJ_OK: [*skip_from, *skip_to) are the bytes passed over (name them to the
 * user: records in them are lost to this reader, maybe kept in a .torn-*
 * side file) and arc_reader_next resumes with that block's records (read-ahead
 * and a decode hook keep working). SHJ_ERR: no valid block follows (a torn
 * tail), the reader stays stopped with the same error. */
int arc_reader_resync(arc_reader *r, uint64_t *skip_from, uint64_t *skip_to);
/* Total bytes passed over by arc_reader_resync. */
uint64_t arc_reader_skipped_bytes(const arc_reader *r);
void arc_reader_close(arc_reader *r);

/* Check a file: counts records, finds the end of the last good block.
 * Used on open for append (to cut a torn tail) and by `shijim dump --check`. */
typedef struct arc_scan {
    uint64_t records;
    uint64_t blocks;
    uint64_t good_bytes;    /* file offset after the last good block */
    uint64_t file_bytes;
    uint64_t first_seq, last_seq;
    int torn;               /* non-zero: bytes after good_bytes are damaged */
    int cut_short;          /* torn because the file ends inside a block (see arc_reader_cut_short) */
    uint64_t damaged_ranges; /* holes: damaged bytes with valid blocks after them (arc_reader_resync) */
    uint64_t damaged_bytes;  /* bytes in those holes (their records are not counted) */
    char detail[160];       /* what was wrong, with the offset (the tail's, else the first hole's) */
} arc_scan;
int arc_scan_file(const char *path, arc_scan *out, char *err, size_t errlen);

#endif
