/* src_replay.h — the replay source: the raw archive played back as a live feed.
 *
 * Owns: a list of raw archive files (one file, a day, a date range of one
 * source's directory), an arc_reader over the current one, a code/kind
 * filter, pacing, and the progress line.
 *
 * Guarantees:
 *  - Every record goes through the same parser and bus as live
 *    (src_deliver_recorded, or psr_parse_payload on read-ahead threads
 *    finished by src_deliver_parsed: the same events), with the recorded
 *    sequence number and receive time. Replayed
 *    events are therefore the events the live run published (same fields,
 *    same order, same seq), except source_id (this source's), inst_id
 *    (process-local interning) and the SHJ_FLAG_REPLAY bit when `mark` is set.
 *  - Deterministic: the same files and options give the same events.
 *  - Files are played in date order (explicit files: in the order given).
 *  - A file still being recorded (its writer holds the archive's lock) is
 *    played as far as it is complete on disk and counted in live_files; if
 *    it ends inside a block, that block is being written, not torn: not bad.
 *  - A file that cannot be opened, or a torn/corrupt block, is reported with
 *    the file and byte offset and skipped (the rest of that file is
 *    unreadable: blocks carry the framing); replay goes on with the next
 *    file and never crashes. Malformed payloads are counted by the source
 *    layer like live ones.
 *  - Speed 0 (or less) = as fast as the bus takes events; 1 = real time;
 *    N = N x real time, paced with an ev_timer on the recorded receive
 *    times. Recorded pauses longer than max_gap_ms (default 5000) are cut to
 *    that (overnight gaps would otherwise stall a real-time replay).
 *  - Back-pressure: when src_ready says no, the source pauses and rt resumes it.
 *  - At the end: publishes STATUS SESSION_CLOSE for the whole source
 *    ("replay: end of data", which also finishes open bars), prints the last
 *    progress line and calls rt_source_done.
 *  - Filter: codes given at creation plus subscribe() requests; aliases
 *    (TXFR1) resolve for the trading date in each payload; an empty
 *    filter passes everything.
 *    Payloads without a code (heartbeats, malformed ones) always pass so
 *    that they are counted as live.
 *
 * States: NEW -> start -> RUNNING <-> PAUSED -> DONE (end of data) or STOPPED.
 */
#ifndef SHJ_SRC_REPLAY_H
#define SHJ_SRC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "loop/source.h"

typedef struct rpl_opts {
    const char *const *files;   /* explicit files, played in this order (or NULL) */
    size_t n_files;
    const char *dir;            /* archive root (with source) when files is NULL */
    const char *source;         /* sub-directory: the recording source's name */
    const char *from, *to;      /* "YYYY-MM-DD" inclusive bounds (NULL = open) */
    const char *codes;          /* "2330,TXFR1" filter (NULL/"" = everything) */
    double speed;               /* <= 0 max, 1 real time, N x real time */
    int max_gap_ms;             /* pacing: longest recorded pause kept (0 = 5000) */
    int progress;               /* -1 = when stderr is a terminal, 0 off, 1 on */
    int mark;                   /* non-zero: set SHJ_FLAG_REPLAY on every event; 0 keeps the
                                   recording's flags exactly (replay.lua's default, so
                                   replayed rows equal live rows: docs/data.md) */
    int workers;                /* threads that read and parse ahead: 0 = by core
                                   count (2..4), -1 = none (parse on the loop), 1..4 */
} rpl_opts;

/* A new replay source (not started: hand it to rt_add_source). NULL and err
 * when no file matches or an option is wrong. */
src_source *rpl_new(const char *name, const rpl_opts *opts, char *err, size_t errlen);

/* FFI-BEGIN */
typedef struct rpl_stats {
    uint64_t files;          /* files to play */
    uint64_t files_done;     /* files finished (read to the end or skipped) */
    uint64_t bad_files;      /* files skipped, cut short or with holes (unopenable, torn, corrupt) */
    uint64_t damaged_ranges; /* damaged byte ranges passed over (arc_reader_resync) */
    uint64_t damaged_bytes;  /* bytes in them: their records are not played */
    uint64_t live_files;     /* files still being recorded: played as far as they were complete */
    uint64_t records;        /* records read */
    uint64_t filtered;       /* records skipped by the code/kind filter */
    uint64_t delivered;      /* records handed to src_deliver_recorded */
    uint64_t bytes_total;    /* size of all files */
    uint64_t bytes_done;     /* bytes of files finished + current good offset */
    int64_t first_recv_ns;   /* receive time of the first record played (0: none yet) */
    int64_t last_recv_ns;
    int done;                /* end of data reached */
} rpl_stats;

/* Lua-facing constructor: files = comma-separated paths ("" = use dir/source/
 * from/to), codes comma-separated ("" = all), workers as in rpl_opts. */
src_source *rpl_new_text(const char *name, const char *files, const char *dir, const char *source,
                         const char *from, const char *to, const char *codes, double speed,
                         int progress, int mark, int workers, char *err, size_t errlen);
void rpl_get_stats(const src_source *s, rpl_stats *out);
/* FFI-END */

#endif
