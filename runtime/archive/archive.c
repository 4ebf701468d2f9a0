/* archive.c — the raw archive writer: arc_open/append/poll/flush/close and the
 * writer thread (contract in archive.h, layout in archive_format.h and
 * docs/raw-archive.md).
 *
 * DESIGN. The loop thread never touches the disk. arc_append frames a record
 * straight into the current block buffer (a few varints + one memcpy). A
 * block is sealed when the next record would not fit in block_bytes, when it
 * holds fsync_records records, when arc_poll finds its first record older
 * than fsync_ms, or when a record belongs to another trading day (the
 * caller's, arc_append_day; core/session's rule). Sealing
 * moves the buffer into a FIFO of queue_blocks slots and takes a recycled
 * buffer: queue_blocks + 2 buffers are allocated once at open (one filling,
 * queue_blocks waiting, one being written), so a non-full queue always has a
 * free buffer and steady state never mallocs. When the FIFO is full the
 * append returns SHJ_AGAIN (stats.stalls) and nothing changes: no blocking,
 * no drop.
 *
 * ONE writer thread pops blocks in order, LZ4-compresses them (kept only when
 * that saves at least 1/16), hashes (XXH64), writes header + bytes with
 * pwrite (short writes and EINTR retried) and fdatasyncs by policy: when the
 * oldest unsynced record is fsync_ms old, after fsync_records records, after
 * every block when fsync_ms is 0, before leaving a day file, and on flush.
 * Only after a successful fdatasync does it publish durable_records /
 * durable_seq (release stores; they only grow).
 *
 * Failures of the disk (ENOSPC, EIO, a failed fsync — which cannot be
 * retried safely) set a sticky error naming the file and strerror; the
 * partial block is cut off again when possible, later blocks are discarded
 * (they can never become durable) and every later arc_append returns
 * SHJ_ERR.
 *
 * Day files are opened by the writer thread. An existing file is scanned
 * (arc__scan_fd; the last ARC_TAIL_VERIFY_BYTES fully verified, the rest by a
 * header walk) and a torn or corrupt tail is logged, copied to
 * "<file>.torn-<offset>-<ns>" (so that a complete block behind a bad one is
 * never destroyed), cut with ftruncate and fsynced before appending. New
 * files are written as temp -> fsync -> rename -> fsync(dir), so a day file
 * always has a whole header. flock() keeps a second process out.
 *
 * Two day files stay open: records go to the file of their trading day,
 * decided by the exchange time, so at the boundary a late record of the day
 * before (a quote stamped 13:44:59 arriving after the night session's first
 * one) goes back to the earlier file. Leaving a file fdatasyncs it, so only
 * the current file ever holds unsynced records; switching back to the other
 * open file costs that fdatasync, not a re-scan of a multi-GB file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lz4.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "archive/archive_format.h"
#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "core/thread.h"

#define ARC_DEFAULT_FSYNC_MS 100
#define ARC_DEFAULT_BLOCK_BYTES (256u << 10)
#define ARC_DEFAULT_QUEUE_BLOCKS 64
#define ARC_MAX_QUEUE_BLOCKS 4096
/* A day file's path: srcdir (checked to leave room) + "/YYYY-MM-DD.shjraw". */
#define ARC_PATH_MAX (PATH_MAX + 32)

typedef struct arc_block {
    unsigned char *buf;        /* ARC_BLOCK_HDR_BYTES of headroom, then cap bytes of records */
    size_t cap;
    size_t used;               /* record bytes */
    uint32_t n;                /* records */
    uint64_t first_seq, last_seq, max_seq;
    int64_t min_recv, max_recv;
    uint64_t prev_seq, prev_recv; /* delta state of the framing */
    int64_t first_mono;        /* clk_mono_ns() when the first record went in */
    int64_t day;               /* trading day of every record in the block */
} arc_block;

struct arc_writer {
    /* Read-only after arc_open. */
    char srcdir[PATH_MAX];
    int file_mode;             /* arc_opts.file_mode */
    char source[ARC_SOURCE_MAX + 1];
    int fsync_ms;
    uint64_t fsync_records;
    int compress;
    size_t block_bytes;
    size_t queue_blocks;
    size_t n_all;
    arc_block *all;            /* every buffer, for freeing */

    /* Loop thread only. */
    arc_block *cur;
    int have_day;
    int64_t day;               /* trading day of the current block */
    int64_t cache_lo, cache_hi, cache_day; /* arc_append: recv_ns range [lo, hi) of cache_day */
    char cur_path[ARC_PATH_MAX];
    uint64_t records, bytes_raw, stalls;

    /* Shared, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;    /* writer waits: a block, a flush request, stop */
    pthread_cond_t space_cv;   /* flush waits for a free queue slot */
    pthread_cond_t done_cv;    /* flush waits for completion */
    arc_block **ring;          /* queue_blocks slots */
    size_t qhead, qcount;
    arc_block **freel;         /* recycled buffers */
    size_t nfree;
    uint64_t flush_req, flush_done;
    int stop, paused;
    _Atomic size_t queued;     /* == qcount, readable without the lock (arc_ready) */

    /* Writer thread only. */
    pthread_t thread;
    int thread_started;
    int fd;
    int64_t fd_day;
    uint64_t file_off;
    char fpath[ARC_PATH_MAX];
    int pfd;                   /* the other open day file (-1: none); never unsynced */
    int64_t pfd_day;
    uint64_t pfile_off;
    char pfpath[ARC_PATH_MAX];
    unsigned char *cbuf;       /* compression output, with header headroom */
    size_t ccap;
    uint64_t unsynced_records, unsynced_max_seq;
    int64_t unsynced_since;    /* first_mono of the oldest unsynced block */

    /* Published by the writer thread. */
    _Atomic uint64_t durable_records, durable_seq, bytes_written, blocks;
    _Atomic int failed;
    char error[ARC_PATH_MAX + 1024];
};

/* Layout helpers =========================================================== */

void arc__file_hdr_encode(unsigned char *p, const arc_file_hdr *h) {
    memset(p, 0, ARC_FILE_HDR_BYTES);
    memcpy(p, ARC_FILE_MAGIC, ARC_FILE_MAGIC_LEN);
    arc__put16(p + ARC_FH_VERSION, h->version);
    arc__put16(p + ARC_FH_HDR_BYTES, ARC_FILE_HDR_BYTES);
    arc__put64(p + ARC_FH_CREATED, (uint64_t)h->created_ns);
    memcpy(p + ARC_FH_DAY, h->day, strnlen(h->day, 15));
    memcpy(p + ARC_FH_SOURCE, h->source, strnlen(h->source, ARC_SOURCE_MAX));
    arc__put32(p + ARC_FH_CHECK, XXH32(p, ARC_FH_CHECK, 0));
}

void arc__block_hdr_encode(unsigned char *p, const arc_block_hdr *h) {
    memset(p, 0, ARC_BLOCK_HDR_BYTES);
    arc__put32(p + ARC_BH_MAGIC, ARC_BLOCK_MAGIC);
    p[ARC_BH_CODEC] = h->codec;
    arc__put32(p + ARC_BH_RAW_LEN, h->raw_len);
    arc__put32(p + ARC_BH_STORED_LEN, h->stored_len);
    arc__put32(p + ARC_BH_N_RECORDS, h->n_records);
    arc__put64(p + ARC_BH_FIRST_SEQ, h->first_seq);
    arc__put64(p + ARC_BH_LAST_SEQ, h->last_seq);
    arc__put64(p + ARC_BH_MIN_RECV, (uint64_t)h->min_recv_ns);
    arc__put64(p + ARC_BH_MAX_RECV, (uint64_t)h->max_recv_ns);
    arc__put64(p + ARC_BH_DATA_HASH, h->data_hash);
    arc__put32(p + ARC_BH_CHECK, XXH32(p, ARC_BH_CHECK, 0));
}

int64_t arc__day_index(int64_t recv_ns) {
    /* floor((recv_ns + shift) / day) without overflowing near INT64_MAX. */
    int64_t q = recv_ns / ARC_DAY_NS, r = recv_ns % ARC_DAY_NS;
    if (r < 0) {
        q--;
        r += ARC_DAY_NS;
    }
    return r >= ARC_DAY_NS - ARC_DAY_SHIFT_NS ? q + 1 : q;
}

int64_t arc__day_start_ns(int64_t day) {
    if (day > INT64_MAX / ARC_DAY_NS) return INT64_MAX;
    if (day <= INT64_MIN / ARC_DAY_NS) return INT64_MIN;
    return day * ARC_DAY_NS - ARC_DAY_SHIFT_NS;
}

void arc__day_name(int64_t day, char out[11]) {
    int y, m, d;
    clk_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) y = 0;   /* absurd receive times still get a valid name */
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* Writer thread: files ===================================================== */

static void set_failed(arc_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_failed(arc_writer *w, const char *fmt, ...) {
    /* Only the writer thread (or arc_open before it starts) writes the text,
     * once, before the release store that makes it visible. */
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    atomic_store_explicit(&w->failed, 1, memory_order_release);
    shj_log(SHJ_LOG_ERROR, "raw archive (%s): %s", w->source, w->error);
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off) {
    size_t done = 0;
    while (done < n) {
        ssize_t k = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR) continue;
            return SHJ_ERR;
        }
        if (k == 0) {
            errno = EIO;
            return SHJ_ERR;
        }
        done += (size_t)k;
    }
    return SHJ_OK;
}

static int fsync_dir(const char *dir) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return SHJ_ERR;
    int rc = fsync(dfd) == 0 ? SHJ_OK : SHJ_ERR;
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

/* Metrics (ops) time every data fdatasync; called on the writer thread. */
static _Atomic(arc_fsync_hook) arc_fsync_observer;
void arc_set_fsync_hook(arc_fsync_hook fn) { atomic_store(&arc_fsync_observer, fn); }

/* fdatasync the open file and publish what it made durable. */
static void sync_file(arc_writer *w) {
    if (w->fd < 0 || w->unsynced_records == 0) return;
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return;
    int64_t t0 = clk_mono_ns();
    int synced = fdatasync(w->fd);
    arc_fsync_hook obs = atomic_load(&arc_fsync_observer);
    if (obs) obs(clk_mono_ns() - t0);
    if (synced != 0) {
        /* After a failed fsync the page cache state is unknown (the kernel may
         * have dropped the dirty pages): never retry, never claim durability. */
        set_failed(w, "fsync %s: %s", w->fpath, strerror(errno));
        return;
    }
    uint64_t dr = atomic_load_explicit(&w->durable_records, memory_order_relaxed);
    atomic_store_explicit(&w->durable_records, dr + w->unsynced_records, memory_order_release);
    uint64_t ds = atomic_load_explicit(&w->durable_seq, memory_order_relaxed);
    if (w->unsynced_max_seq > ds)
        atomic_store_explicit(&w->durable_seq, w->unsynced_max_seq, memory_order_release);
    w->unsynced_records = 0;
    w->unsynced_max_seq = 0;
}

static void close_file(arc_writer *w) {
    if (w->pfd >= 0) {
        close(w->pfd);   /* synced when it was left */
        w->pfd = -1;
        w->pfpath[0] = '\0';
    }
    if (w->fd < 0) return;
    sync_file(w);
    close(w->fd);   /* the flock goes with it */
    w->fd = -1;
    w->fpath[0] = '\0';
}

/* Copies bytes [from, to) of fd into a new file side (fsynced), so that a cut
 * never destroys data: the damage may hide complete blocks behind it. The
 * side file starts with the day file's own header, so it is an archive file
 * that `shijim dump --resync` and replay can read. A failed copy removes the
 * partial side file: a half-written one would look like the whole tail. */
static int save_tail(int fd, uint64_t from, uint64_t to, const char *side, const char *dir, int mode) {
    int out = open(side, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0) return SHJ_ERR;
    size_t bufsz = 1u << 20;
    char *buf = malloc(bufsz);
    int rc = buf ? SHJ_OK : SHJ_ERR;
    uint64_t off = from, at = 0;
    if (rc == SHJ_OK && from >= ARC_FILE_HDR_BYTES) {
        ssize_t k = pread(fd, buf, ARC_FILE_HDR_BYTES, 0);
        if (k == ARC_FILE_HDR_BYTES) {
            rc = pwrite_all(out, buf, ARC_FILE_HDR_BYTES, 0);
            at = ARC_FILE_HDR_BYTES;
        } else {
            if (k >= 0) errno = EIO;
            rc = SHJ_ERR;
        }
    }
    while (rc == SHJ_OK && off < to) {
        size_t want = to - off < bufsz ? (size_t)(to - off) : bufsz;
        ssize_t k = pread(fd, buf, want, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            rc = SHJ_ERR;
            break;
        }
        rc = pwrite_all(out, buf, (size_t)k, at + (off - from));
        off += (uint64_t)k;
    }
    if (rc == SHJ_OK && fsync(out) != 0) rc = SHJ_ERR;
    int e = errno;
    free(buf);
    close(out);
    if (rc != SHJ_OK) unlink(side);
    if (rc == SHJ_OK) rc = fsync_dir(dir);
    errno = e;
    return rc;
}

static void header_for(const arc_writer *w, int64_t day, unsigned char *hdr) {
    arc_file_hdr h;
    memset(&h, 0, sizeof h);
    h.version = ARC_FORMAT_VERSION;
    h.created_ns = clk_now_ns();
    arc__day_name(day, h.day);
    shj_strlcpy(h.source, w->source, sizeof h.source);
    arc__file_hdr_encode(hdr, &h);
}

/* A new day file: temp -> header -> fsync -> rename -> fsync(dir). */
static int create_file(arc_writer *w, int64_t day, const char *path) {
    char tmp[ARC_PATH_MAX + 8];
    unsigned char hdr[ARC_FILE_HDR_BYTES];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, w->file_mode);
    if (fd < 0) {
        set_failed(w, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        set_failed(w, "%s is being created by another process", path);
        close(fd);
        return -1;
    }
    header_for(w, day, hdr);
    if (ftruncate(fd, 0) != 0 || pwrite_all(fd, hdr, sizeof hdr, 0) != SHJ_OK || fsync(fd) != 0 ||
        rename(tmp, path) != 0 || fsync_dir(w->srcdir) != SHJ_OK) {
        set_failed(w, "create %s: %s", path, strerror(errno));
        unlink(tmp); /* never leave an empty .tmp behind (a full disk fails here) */
        close(fd);
        return -1;
    }
    atomic_fetch_add_explicit(&w->bytes_written, ARC_FILE_HDR_BYTES, memory_order_relaxed);
    w->file_off = ARC_FILE_HDR_BYTES;
    return fd;
}

/* An existing day file: find the end of the last good block, keep and cut
 * anything after it. Returns SHJ_OK with w->file_off set. */
static int recover_file(arc_writer *w, int fd, int64_t day, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_failed(w, "stat %s: %s", path, strerror(errno));
        return SHJ_ERR;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint64_t verify_from = size > ARC_TAIL_VERIFY_BYTES ? size - ARC_TAIL_VERIFY_BYTES : 0;
    arc_scan sc;
    int newer = 0;
    char err[ARC_PATH_MAX + 512];
    if (arc__scan_fd(fd, path, verify_from, &sc, &newer, err, sizeof err) != SHJ_OK) {
        set_failed(w, "%s", err);
        return SHJ_ERR;
    }
    if (newer) {
        set_failed(w, "file %s: %s; refusing to append", path, sc.detail);
        return SHJ_ERR;
    }
    if (sc.damaged_ranges)
        shj_log(SHJ_LOG_WARN,
                "raw archive: file %s: %" PRIu64 " damaged range(s), %" PRIu64 " bytes (first: %s); "
                "left in place, readers pass over them (shijim dump --resync); appending after the "
                "last good block",
                path, sc.damaged_ranges, sc.damaged_bytes, sc.detail);
    if (!sc.torn) {
        w->file_off = sc.good_bytes;
        return SHJ_OK;
    }
    char side[ARC_PATH_MAX + 64] = "(nothing to save)";
    if (size > sc.good_bytes) {
        snprintf(side, sizeof side, "%s.torn-%" PRIu64 "-%" PRId64, path, sc.good_bytes,
                 clk_now_ns());
    }
    if (size > sc.good_bytes && save_tail(fd, sc.good_bytes, size, side, w->srcdir, w->file_mode) != SHJ_OK) {
        /* Cutting without a copy could destroy complete blocks: stop instead. */
        set_failed(w, "file %s is damaged (%s) and saving its tail to %s failed: %s", path, sc.detail,
                   side, strerror(errno));
        return SHJ_ERR;
    }
    shj_log(SHJ_LOG_WARN,
            "raw archive: file %s: %s; cutting the %" PRIu64 " bytes after byte offset %" PRIu64
            " (%" PRIu64 " good records in %" PRIu64 " blocks kept); cut bytes saved to %s",
            path, sc.detail, size - sc.good_bytes, sc.good_bytes, sc.records, sc.blocks, side);
    if (sc.good_bytes < ARC_FILE_HDR_BYTES) {
        /* The file header itself is damaged: start the file over (its old
         * bytes are in the side file). */
        unsigned char hdr[ARC_FILE_HDR_BYTES];
        header_for(w, day, hdr);
        if (ftruncate(fd, 0) != 0 || pwrite_all(fd, hdr, sizeof hdr, 0) != SHJ_OK ||
            fsync(fd) != 0) {
            set_failed(w, "rewrite header of %s: %s", path, strerror(errno));
            return SHJ_ERR;
        }
        w->file_off = ARC_FILE_HDR_BYTES;
        return SHJ_OK;
    }
    if (ftruncate(fd, (off_t)sc.good_bytes) != 0 || fsync(fd) != 0) {
        set_failed(w, "truncate %s to %" PRIu64 " bytes: %s", path, sc.good_bytes, strerror(errno));
        return SHJ_ERR;
    }
    w->file_off = sc.good_bytes;
    return SHJ_OK;
}

static int open_day_file(arc_writer *w, int64_t day) {
    char name[11], path[ARC_PATH_MAX];
    arc__day_name(day, name);
    snprintf(path, sizeof path, "%s/%s.shjraw", w->srcdir, name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = create_file(w, day, path);
        if (fd < 0) return SHJ_ERR;
    } else if (fd < 0) {
        set_failed(w, "open %s: %s", path, strerror(errno));
        return SHJ_ERR;
    } else {
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            set_failed(w, "%s is locked by another writer (flock: %s)", path, strerror(errno));
            close(fd);
            return SHJ_ERR;
        }
        if (recover_file(w, fd, day, path) != SHJ_OK) {
            close(fd);
            return SHJ_ERR;
        }
    }
    w->fd = fd;
    w->fd_day = day;
    shj_strlcpy(w->fpath, path, sizeof w->fpath);
    return SHJ_OK;
}

/* Writer thread: blocks ==================================================== */

/* Make day's file the current one: the other open file when it is that
 * day's, else open it and keep the one left as the other (closing the older). */
static int switch_day_file(arc_writer *w, int64_t day) {
    sync_file(w);   /* "before leaving a day file": only the current one is ever unsynced */
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return SHJ_ERR;
    if (w->pfd >= 0 && w->pfd_day == day) {
        int fd = w->fd;
        int64_t fd_day = w->fd_day;
        uint64_t off = w->file_off;
        char path[ARC_PATH_MAX];
        memcpy(path, w->fpath, sizeof path);
        w->fd = w->pfd;
        w->fd_day = w->pfd_day;
        w->file_off = w->pfile_off;
        memcpy(w->fpath, w->pfpath, sizeof w->fpath);
        w->pfd = fd;
        w->pfd_day = fd_day;
        w->pfile_off = off;
        memcpy(w->pfpath, path, sizeof path);
        return SHJ_OK;
    }
    if (w->pfd >= 0) close(w->pfd);
    w->pfd = w->fd;
    w->pfd_day = w->fd_day;
    w->pfile_off = w->file_off;
    memcpy(w->pfpath, w->fpath, sizeof w->pfpath);
    w->fd = -1;
    w->fpath[0] = '\0';
    return open_day_file(w, day);
}

static void write_block(arc_writer *w, arc_block *b) {
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return;
    if (w->fd < 0 || b->day != w->fd_day) {
        if (switch_day_file(w, b->day) != SHJ_OK) return;
    }
    arc_block_hdr h = {
        .codec = ARC_CODEC_NONE,
        .raw_len = (uint32_t)b->used,
        .stored_len = (uint32_t)b->used,
        .n_records = b->n,
        .first_seq = b->first_seq,
        .last_seq = b->last_seq,
        .min_recv_ns = b->min_recv,
        .max_recv_ns = b->max_recv,
    };
    unsigned char *out = b->buf;   /* header headroom + raw records */
    if (w->compress == ARC_COMPRESS_LZ4) {
        size_t need = ARC_BLOCK_HDR_BYTES + (size_t)LZ4_compressBound((int)b->used);
        if (need > w->ccap) {
            unsigned char *p = realloc(w->cbuf, need);
            if (!p) {
                set_failed(w, "out of memory for a %zu-byte compression buffer", need);
                return;
            }
            w->cbuf = p;
            w->ccap = need;
        }
        int c = LZ4_compress_default((const char *)b->buf + ARC_BLOCK_HDR_BYTES,
                                     (char *)w->cbuf + ARC_BLOCK_HDR_BYTES, (int)b->used,
                                     (int)(w->ccap - ARC_BLOCK_HDR_BYTES));
        /* Keep it only when it pays: raw blocks cost nothing to read. */
        if (c > 0 && (size_t)c < b->used - b->used / 16) {
            h.codec = ARC_CODEC_LZ4;
            h.stored_len = (uint32_t)c;
            out = w->cbuf;
        }
    }
    h.data_hash = XXH64(out + ARC_BLOCK_HDR_BYTES, h.stored_len, 0);
    arc__block_hdr_encode(out, &h);
    size_t n = ARC_BLOCK_HDR_BYTES + h.stored_len;
    if (pwrite_all(w->fd, out, n, w->file_off) != SHJ_OK) {
        int e = errno;
        /* Drop the partial block so the file ends on a whole block (best effort:
         * a later open would cut it anyway). */
        if (ftruncate(w->fd, (off_t)w->file_off) != 0) { /* reported below */ }
        set_failed(w, "write %s at byte offset %" PRIu64 ": %s", w->fpath, w->file_off, strerror(e));
        return;
    }
    /* Start writeback of this block now without waiting for it, so that the
     * policy fdatasync finds little left to do and the thread spends its time
     * compressing instead of blocked in fdatasync (measured: raw-codec
     * throughput 0.7 -> 1.6 GB/s here). Only a hint: errors show at fdatasync. */
    (void)sync_file_range(w->fd, (off_t)w->file_off, (off_t)n, SYNC_FILE_RANGE_WRITE);
    w->file_off += n;
    atomic_fetch_add_explicit(&w->bytes_written, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->blocks, 1, memory_order_relaxed);
    if (w->unsynced_records == 0) w->unsynced_since = b->first_mono;
    w->unsynced_records += b->n;
    if (b->max_seq > w->unsynced_max_seq) w->unsynced_max_seq = b->max_seq;
    if (w->fsync_ms == 0 || (w->fsync_records && w->unsynced_records >= w->fsync_records) ||
        clk_mono_ns() - w->unsynced_since >= (int64_t)w->fsync_ms * 1000000)
        sync_file(w);
}

static void *writer_main(void *arg) {
    arc_writer *w = arg;
    shj_thread_background("shj-archive");
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (!w->paused && w->qcount > 0) {
            arc_block *b = w->ring[w->qhead];
            w->qhead = (w->qhead + 1) % w->queue_blocks;
            w->qcount--;
            atomic_store_explicit(&w->queued, w->qcount, memory_order_release);
            pthread_mutex_unlock(&w->mu);
            write_block(w, b);
            pthread_mutex_lock(&w->mu);
            w->freel[w->nfree++] = b;
            pthread_cond_broadcast(&w->space_cv);
            continue;
        }
        if (!w->paused && w->flush_req != w->flush_done) {
            uint64_t req = w->flush_req;   /* every block queued before it is written */
            pthread_mutex_unlock(&w->mu);
            sync_file(w);
            pthread_mutex_lock(&w->mu);
            w->flush_done = req;
            pthread_cond_broadcast(&w->done_cv);
            continue;
        }
        if (w->stop) break;
        if (!w->paused && w->unsynced_records > 0 &&
            !atomic_load_explicit(&w->failed, memory_order_relaxed)) {
            int64_t deadline = w->unsynced_since + (int64_t)w->fsync_ms * 1000000;
            if (clk_mono_ns() >= deadline) {
                pthread_mutex_unlock(&w->mu);
                sync_file(w);
                pthread_mutex_lock(&w->mu);
                continue;
            }
            struct timespec ts = {.tv_sec = deadline / CLK_NS_PER_SEC,
                                  .tv_nsec = deadline % CLK_NS_PER_SEC};
            pthread_cond_timedwait(&w->work_cv, &w->mu, &ts);
        } else {
            pthread_cond_wait(&w->work_cv, &w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    close_file(w);
    return NULL;
}

/* Loop thread ============================================================== */

/* Moves the current block to the queue and takes a fresh one; mu held and
 * the queue known not to be full. */
static void seal_locked(arc_writer *w) {
    w->ring[(w->qhead + w->qcount) % w->queue_blocks] = w->cur;
    w->qcount++;
    atomic_store_explicit(&w->queued, w->qcount, memory_order_release);
    w->cur = w->freel[--w->nfree];
    w->cur->used = 0;
    w->cur->n = 0;
    pthread_cond_signal(&w->work_cv);
}

/* Non-blocking seal: 0 when the queue is full. */
static int seal_try(arc_writer *w) {
    if (atomic_load_explicit(&w->queued, memory_order_acquire) >= w->queue_blocks) return 0;
    pthread_mutex_lock(&w->mu);
    int ok = w->qcount < w->queue_blocks;
    if (ok) seal_locked(w);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static void set_day(arc_writer *w, int64_t day) {
    char name[11];
    w->have_day = 1;
    w->day = day;
    arc__day_name(day, name);
    snprintf(w->cur_path, sizeof w->cur_path, "%s/%s.shjraw", w->srcdir, name);
}

/* Would appending a record of `need` framed bytes of trading day `day` seal first? */
static int needs_seal(const arc_writer *w, size_t need, int64_t day) {
    const arc_block *b = w->cur;
    if (w->have_day && day != w->day) return b->n > 0;
    return b->n > 0 && (b->used + need > w->block_bytes ||
                        (w->fsync_records && b->n >= w->fsync_records));
}

int arc_ready(const arc_writer *w, size_t len) {
    SHJ_UNUSED(len);
    /* Conservative and exact enough: an empty block takes any record without
     * sealing; otherwise the record may need a seal (full block, fsync count,
     * day change), which needs a free queue slot. Only the loop consumes
     * slots, so a "yes" here still holds at the next arc_append. A failed
     * writer says yes so that arc_append can report the error. */
    if (atomic_load_explicit(&w->failed, memory_order_relaxed) || w->cur->n == 0) return 1;
    return atomic_load_explicit(&w->queued, memory_order_acquire) < w->queue_blocks;
}

int arc_append(arc_writer *w, uint8_t tag, const void *data, uint32_t len, int64_t recv_ns,
               uint64_t seq) {
    /* The receive time's trading day; the 24 h between two 15:00 rolls share
     * one, so it is computed once per range (a holiday lookup per record
     * would cost little, but the loop pays for every byte). */
    if (!(recv_ns >= w->cache_lo && recv_ns < w->cache_hi)) {
        int64_t cal = arc__day_index(recv_ns);
        w->cache_lo = arc__day_start_ns(cal);
        w->cache_hi = arc__day_start_ns(cal + 1);
        w->cache_day = ses_trading_day_from(cal);
    }
    return arc_append_day(w, tag, data, len, recv_ns, seq, w->cache_day);
}

int arc_append_day(arc_writer *w, uint8_t tag, const void *data, uint32_t len, int64_t recv_ns,
                   uint64_t seq, int64_t day) {
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return SHJ_ERR;
    if (len > ARC_MAX_RECORD_BYTES) {
        shj_log(SHJ_LOG_ERROR,
                "raw archive (%s): record seq %" PRIu64 " of %" PRIu32 " bytes exceeds the %u-byte limit",
                w->source, seq, len, ARC_MAX_RECORD_BYTES);
        return SHJ_ERR;
    }
    size_t need = (size_t)len + ARC_REC_MAX_OVERHEAD;
    if (needs_seal(w, need, day)) {
        if (!seal_try(w)) {
            w->stalls++;
            return SHJ_AGAIN;
        }
    }
    if (!w->have_day || day != w->day) set_day(w, day);
    arc_block *b = w->cur;
    if (need > b->cap) {   /* only an empty block gets here (see needs_seal) */
        unsigned char *p = realloc(b->buf, ARC_BLOCK_HDR_BYTES + need);
        if (!p) {
            shj_log(SHJ_LOG_ERROR, "raw archive (%s): out of memory for a %zu-byte record",
                    w->source, need);
            return SHJ_ERR;
        }
        b->buf = p;
        b->cap = need;
    }
    if (b->n == 0) {
        b->first_mono = clk_mono_ns();
        b->first_seq = b->max_seq = seq;
        b->min_recv = b->max_recv = recv_ns;
        b->prev_seq = 0;
        b->prev_recv = 0;
        b->day = w->day;
    } else {
        if (recv_ns < b->min_recv) b->min_recv = recv_ns;
        if (recv_ns > b->max_recv) b->max_recv = recv_ns;
        if (seq > b->max_seq) b->max_seq = seq;
    }
    unsigned char *start = b->buf + ARC_BLOCK_HDR_BYTES + b->used, *p = start;
    p = arc__put_varint(p, len);
    p = arc__put_varint(p, arc__zigzag(seq - b->prev_seq));
    p = arc__put_varint(p, arc__zigzag((uint64_t)recv_ns - b->prev_recv));
    *p++ = tag;
    memcpy(p, data, len);
    p += len;
    b->used += (size_t)(p - start);
    b->n++;
    b->last_seq = b->prev_seq = seq;
    b->prev_recv = (uint64_t)recv_ns;
    w->records++;
    w->bytes_raw += (uint64_t)(p - start);
    return SHJ_OK;
}

void arc_poll(arc_writer *w, int64_t now_mono_ns) {
    const arc_block *b = w->cur;
    if (b->n == 0) return;
    if (w->fsync_ms == 0 || now_mono_ns - b->first_mono >= (int64_t)w->fsync_ms * 1000000 ||
        (w->fsync_records && b->n >= w->fsync_records) || b->used >= w->block_bytes)
        seal_try(w);
}

int arc_flush(arc_writer *w, char *err, size_t errlen) {
    pthread_mutex_lock(&w->mu);
    if (w->cur->n > 0) {
        while (w->qcount >= w->queue_blocks) pthread_cond_wait(&w->space_cv, &w->mu);
        seal_locked(w);
    }
    uint64_t req = ++w->flush_req;
    pthread_cond_signal(&w->work_cv);
    while (w->flush_done < req) pthread_cond_wait(&w->done_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (atomic_load_explicit(&w->failed, memory_order_acquire))
        return shj_fail(err, errlen, "raw archive (%s): %s", w->source, w->error);
    return SHJ_OK;
}

/* Open / close ============================================================= */

static int mkdir_p(const char *path, char *err, size_t errlen) {
    char tmp[PATH_MAX];
    if (shj_strlcpy(tmp, path, sizeof tmp) >= sizeof tmp)
        return shj_fail(err, errlen, "raw archive: path too long: %s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return shj_fail(err, errlen, "raw archive: mkdir %s: %s", tmp, strerror(errno));
            *p = c;
            if (c == '\0') break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return shj_fail(err, errlen, "raw archive: %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return shj_fail(err, errlen, "raw archive: %s: %s", path, strerror(ENOTDIR));
    if (access(path, W_OK | X_OK) != 0)
        return shj_fail(err, errlen, "raw archive: directory %s: %s", path, strerror(errno));
    return SHJ_OK;
}

static void free_writer(arc_writer *w) {
    if (w->all)
        for (size_t i = 0; i < w->n_all; i++) free(w->all[i].buf);
    free(w->all);
    free(w->ring);
    free(w->freel);
    free(w->cbuf);
    free(w);
}

arc_writer *arc_open(const arc_opts *o, char *err, size_t errlen) {
    if (!o || !o->dir || !o->dir[0] || !o->source || !o->source[0]) {
        shj_fail(err, errlen, "raw archive: dir and source are required");
        return NULL;
    }
    size_t slen = strlen(o->source);
    if (slen > ARC_SOURCE_MAX || strchr(o->source, '/') || strcmp(o->source, ".") == 0 ||
        strcmp(o->source, "..") == 0) {
        shj_fail(err, errlen, "raw archive: bad source name \"%s\" (1..%d bytes, no '/')",
                 o->source, ARC_SOURCE_MAX);
        return NULL;
    }
    if (o->compress != ARC_COMPRESS_NONE && o->compress != ARC_COMPRESS_LZ4) {
        shj_fail(err, errlen, "raw archive: unknown compress value %d", o->compress);
        return NULL;
    }
    size_t block_bytes = o->block_bytes ? o->block_bytes : ARC_DEFAULT_BLOCK_BYTES;
    size_t queue_blocks = o->queue_blocks ? o->queue_blocks : ARC_DEFAULT_QUEUE_BLOCKS;
    if (block_bytes < ARC_MIN_BLOCK_BYTES || block_bytes > ARC_MAX_BLOCK_BYTES ||
        queue_blocks > ARC_MAX_QUEUE_BLOCKS) {
        shj_fail(err, errlen, "raw archive: block_bytes %zu (%u..%u) or queue_blocks %zu (1..%d) out of range",
                 block_bytes, ARC_MIN_BLOCK_BYTES, ARC_MAX_BLOCK_BYTES, queue_blocks,
                 ARC_MAX_QUEUE_BLOCKS);
        return NULL;
    }
    arc_writer *w = calloc(1, sizeof *w);
    if (!w) {
        shj_fail(err, errlen, "raw archive: out of memory");
        return NULL;
    }
    w->fd = -1;
    w->pfd = -1;
    w->cache_lo = w->cache_hi = 0;
    shj_strlcpy(w->source, o->source, sizeof w->source);
    w->fsync_ms = o->fsync_ms < 0 ? ARC_DEFAULT_FSYNC_MS : o->fsync_ms;
    w->fsync_records = o->fsync_records > 0 ? (uint64_t)o->fsync_records : 0;
    w->compress = o->compress;
    w->file_mode = o->file_mode > 0 ? (o->file_mode & 07777) : 0640;
    w->block_bytes = block_bytes;
    w->queue_blocks = queue_blocks;
    /* Leave room for "/YYYY-MM-DD.shjraw.torn-<offset>-<ns>" under srcdir. */
    if (strlen(o->dir) + 1 + slen + 64 >= sizeof w->srcdir) {
        shj_fail(err, errlen, "raw archive: path too long: %s/%s", o->dir, o->source);
        free_writer(w);
        return NULL;
    }
    snprintf(w->srcdir, sizeof w->srcdir, "%s/%s", o->dir, o->source);
    if (mkdir_p(w->srcdir, err, errlen) != SHJ_OK) {
        free_writer(w);
        return NULL;
    }
    /* queue_blocks + 2 buffers: while the queue has a free slot there is a
     * free buffer too (one is filling, at most one is being written). */
    w->n_all = queue_blocks + 2;
    w->all = calloc(w->n_all, sizeof *w->all);
    w->ring = calloc(queue_blocks, sizeof *w->ring);
    w->freel = calloc(w->n_all, sizeof *w->freel);
    int ok = w->all && w->ring && w->freel;
    for (size_t i = 0; ok && i < w->n_all; i++) {
        w->all[i].buf = malloc(ARC_BLOCK_HDR_BYTES + block_bytes);
        w->all[i].cap = block_bytes;
        ok = w->all[i].buf != NULL;
    }
    if (!ok) {
        shj_fail(err, errlen, "raw archive: out of memory for %zu blocks of %zu bytes", w->n_all,
                 block_bytes);
        free_writer(w);
        return NULL;
    }
    w->cur = &w->all[0];
    for (size_t i = 1; i < w->n_all; i++) w->freel[w->nfree++] = &w->all[i];

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* fsync deadlines use clk_mono_ns */
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, &ca);
    pthread_cond_init(&w->space_cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    pthread_condattr_destroy(&ca);

    /* The writer thread takes no signals: SIGINT/SIGTERM belong to the loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        shj_fail(err, errlen, "raw archive: cannot start the writer thread: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->work_cv);
        pthread_cond_destroy(&w->space_cv);
        pthread_cond_destroy(&w->done_cv);
        free_writer(w);
        return NULL;
    }
    w->thread_started = 1;
    return w;
}

int arc_close(arc_writer *w, char *err, size_t errlen) {
    if (!w) return SHJ_OK;
    int rc = arc_flush(w, err, errlen);
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    w->paused = 0;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (rc == SHJ_OK && atomic_load_explicit(&w->failed, memory_order_acquire))
        rc = shj_fail(err, errlen, "raw archive (%s): %s", w->source, w->error);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->space_cv);
    pthread_cond_destroy(&w->done_cv);
    free_writer(w);
    return rc;
}

void arc_get_stats(const arc_writer *w, arc_stats *out) {
    out->records = w->records;
    out->durable_records = atomic_load_explicit(&w->durable_records, memory_order_acquire);
    out->durable_seq = atomic_load_explicit(&w->durable_seq, memory_order_acquire);
    out->bytes_raw = w->bytes_raw;
    out->bytes_written = atomic_load_explicit(&w->bytes_written, memory_order_relaxed);
    out->blocks = atomic_load_explicit(&w->blocks, memory_order_relaxed);
    out->stalls = w->stalls;
    out->failed = atomic_load_explicit(&w->failed, memory_order_acquire);
}

const char *arc_error(const arc_writer *w) {
    return atomic_load_explicit(&w->failed, memory_order_acquire) ? w->error : "";
}

const char *arc_current_path(const arc_writer *w) { return w->cur_path; }

void arc__test_pause(arc_writer *w, int paused) {
    pthread_mutex_lock(&w->mu);
    w->paused = paused;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
}
