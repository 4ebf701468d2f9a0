/* archive_read.c — reads .shjraw files back: arc_reader, arc_scan_file and the
 * header decoders (layout in archive_format.h, docs/raw-archive.md).
 *
 * Guarantees: a block's records are handed out only after the whole block
 * has passed every check (header checksum, stored-bytes XXH64, exact LZ4
 * size, record framing, and agreement of the decoded records with the
 * header's counts, sequences and time range). The first failing block stops
 * the reader with "file X: torn/corrupt block at byte offset N: reason";
 * every record of every block before it has been returned, and
 * arc_reader_good_offset() is N. Bad input never crashes the reader and
 * never makes it allocate more than one block's bounded size.
 *
 * Threading: an arc_reader belongs to one thread; readers are independent.
 * A reader from arc_reader_open_prefetch additionally owns one read-ahead
 * thread, one from arc_reader_open_decoding several, that load, verify and
 * decompress the next blocks into a small ring of recycled buffers (and run
 * the caller's decode hook on them; see "Prefetching" below); the owner
 * thread then only walks record frames. Results are identical to the
 * synchronous reader because the threads run the very same rd_read_header /
 * rd_load_body on readers of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "archive/archive_format.h"
#include "core/shj_common.h"
#include "core/thread.h"

typedef struct arc_prefetch arc_prefetch;

struct arc_reader {
    int fd;
    int owns_fd;
    char path[4096];
    arc_file_hdr fh;
    uint64_t off;              /* where the next block header starts */
    uint64_t good;             /* end of the last block that passed every check */
    int state;                 /* 0 reading, 1 clean EOF, -1 damaged / I/O error */
    int io_error;              /* the -1 came from the OS, not from the bytes */
    char err[4400];
    unsigned char *sbuf;       /* header + stored bytes of the current block */
    size_t scap;
    unsigned char *rbuf;       /* decompressed raw bytes (lz4 blocks) */
    size_t rcap;
    const unsigned char *rp, *rend; /* next record of the current block */
    uint32_t left;             /* records of the current block not yet returned */
    uint64_t prev_seq;
    uint64_t prev_recv;
    arc_block_hdr bh;          /* header of the current block */
    arc_prefetch *pf;          /* non-NULL: blocks come from the prefetch thread */
    size_t pf_next;            /* prefetch: block bytes below this were asked into the cache */
    void *block_state;         /* decode hook's state for the current block (or NULL) */
    int cut_short;             /* the -1 is the file ending inside a block */
    size_t rec_index;          /* records returned from the current block */
    int pf_depth, pf_workers;  /* how read-ahead was started, to restart it after a resync */
    arc_decode_hook pf_hook;   /* (hook.decode NULL: plain read-ahead) */
    void *resync_state;        /* decode state of a block loaded by arc_reader_resync */
    uint64_t skipped_bytes;    /* total bytes passed over by arc_reader_resync */
};

#define ARC_PF_AHEAD 4096

static int pf_next_block(arc_reader *r);
static void pf_stop(arc_reader *r);

/* Header decoders ========================================================= */

int arc__file_hdr_decode(const unsigned char *p, arc_file_hdr *h, int *newer, char *why,
                         size_t whylen) {
    *newer = 0;
    if (memcmp(p, ARC_FILE_MAGIC, ARC_FILE_MAGIC_LEN) != 0)
        return shj_fail(why, whylen, "bad magic: not a Shijim raw archive");
    if (XXH32(p, ARC_FH_CHECK, 0) != arc__get32(p + ARC_FH_CHECK))
        return shj_fail(why, whylen, "file header checksum mismatch");
    h->version = arc__get16(p + ARC_FH_VERSION);
    if (h->version != ARC_FORMAT_VERSION) {
        *newer = h->version > ARC_FORMAT_VERSION;
        return shj_fail(why, whylen, "format version %u, this build reads version %d",
                        (unsigned)h->version, ARC_FORMAT_VERSION);
    }
    if (arc__get16(p + ARC_FH_HDR_BYTES) != ARC_FILE_HDR_BYTES)
        return shj_fail(why, whylen, "file header size %u, expected %d",
                        (unsigned)arc__get16(p + ARC_FH_HDR_BYTES), ARC_FILE_HDR_BYTES);
    h->created_ns = (int64_t)arc__get64(p + ARC_FH_CREATED);
    memcpy(h->day, p + ARC_FH_DAY, 16);
    h->day[15] = '\0';
    memcpy(h->source, p + ARC_FH_SOURCE, ARC_SOURCE_MAX);
    h->source[ARC_SOURCE_MAX] = '\0';
    return SHJ_OK;
}

int arc__block_hdr_decode(const unsigned char *p, arc_block_hdr *h, char *why, size_t whylen) {
    if (arc__get32(p + ARC_BH_MAGIC) != ARC_BLOCK_MAGIC) return shj_fail(why, whylen, "bad block magic");
    if (XXH32(p, ARC_BH_CHECK, 0) != arc__get32(p + ARC_BH_CHECK))
        return shj_fail(why, whylen, "block header checksum mismatch");
    h->codec = p[ARC_BH_CODEC];
    h->raw_len = arc__get32(p + ARC_BH_RAW_LEN);
    h->stored_len = arc__get32(p + ARC_BH_STORED_LEN);
    h->n_records = arc__get32(p + ARC_BH_N_RECORDS);
    h->first_seq = arc__get64(p + ARC_BH_FIRST_SEQ);
    h->last_seq = arc__get64(p + ARC_BH_LAST_SEQ);
    h->min_recv_ns = (int64_t)arc__get64(p + ARC_BH_MIN_RECV);
    h->max_recv_ns = (int64_t)arc__get64(p + ARC_BH_MAX_RECV);
    h->data_hash = arc__get64(p + ARC_BH_DATA_HASH);
    /* The checksum matched, so these only fail for a writer bug or a forged
     * header; they keep every later size computation in bounds. */
    if (h->codec != ARC_CODEC_NONE && h->codec != ARC_CODEC_LZ4)
        return shj_fail(why, whylen, "unknown codec %u", (unsigned)h->codec);
    if (p[ARC_BH_FLAGS] != 0 || arc__get16(p + ARC_BH_RESERVED) != 0)
        return shj_fail(why, whylen, "unknown block flags");
    if (h->raw_len == 0 || h->raw_len > ARC_MAX_BLOCK_RAW)
        return shj_fail(why, whylen, "raw length %" PRIu32 " out of range", h->raw_len);
    if (h->n_records == 0 || h->n_records > h->raw_len / ARC_REC_MIN_BYTES)
        return shj_fail(why, whylen, "%" PRIu32 " records cannot fit in %" PRIu32 " bytes",
                        h->n_records, h->raw_len);
    if (h->codec == ARC_CODEC_NONE ? h->stored_len != h->raw_len
                                   : (h->stored_len == 0 ||
                                      h->stored_len > (uint32_t)LZ4_compressBound((int)h->raw_len)))
        return shj_fail(why, whylen, "stored length %" PRIu32 " impossible for raw length %" PRIu32,
                        h->stored_len, h->raw_len);
    if (h->min_recv_ns > h->max_recv_ns)
        return shj_fail(why, whylen, "min recv_ns after max recv_ns");
    return SHJ_OK;
}

/* Reading ================================================================= */

static int grow(unsigned char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return SHJ_OK;
    size_t n = *cap ? *cap : 65536;
    while (n < need) n *= 2;
    unsigned char *p = realloc(*buf, n);
    if (!p) return SHJ_ERR;
    *buf = p;
    *cap = n;
    return SHJ_OK;
}

/* pread until n bytes or EOF; returns bytes read or -1 (errno set). */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (k == 0) break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

static int rd_damaged(arc_reader *r, const char *why) {
    r->state = -1;
    snprintf(r->err, sizeof r->err, "file %s: torn/corrupt block at byte offset %" PRIu64 ": %s",
             r->path, r->off, why);
    return -1;
}

static int rd_io_error(arc_reader *r, const char *what) {
    r->state = -1;
    r->io_error = 1;
    snprintf(r->err, sizeof r->err, "file %s: %s at byte offset %" PRIu64 ": %s", r->path, what,
             r->off, strerror(errno));
    return -1;
}

static int rd_nomem(arc_reader *r) {
    errno = ENOMEM;
    return rd_io_error(r, "allocating a block buffer");
}

/* Decodes every record of raw[0..raw_len) once, checking framing and that
 * the records agree with the header. Returns NULL or the reason. */
static const char *check_framing(const unsigned char *raw, const arc_block_hdr *h, char *why,
                                 size_t whylen) {
    const unsigned char *p = raw, *end = raw + h->raw_len;
    uint64_t seq = 0, recv = 0;
    for (uint32_t i = 0; i < h->n_records; i++) {
        uint64_t len, ds, dr;
        size_t k;
        if (!(k = arc__get_varint(p, end, &len))) goto bad;
        p += k;
        if (!(k = arc__get_varint(p, end, &ds))) goto bad;
        p += k;
        if (!(k = arc__get_varint(p, end, &dr))) goto bad;
        p += k;
        seq += arc__unzigzag(ds);
        recv += arc__unzigzag(dr);
        if (p >= end || len > (uint64_t)(end - p - 1)) goto bad;
        p += 1 + len;
        if (i == 0 && seq != h->first_seq) {
            snprintf(why, whylen, "first record seq %" PRIu64 " != header first_seq %" PRIu64, seq,
                     h->first_seq);
            return why;
        }
        if ((int64_t)recv < h->min_recv_ns || (int64_t)recv > h->max_recv_ns) {
            snprintf(why, whylen, "record %" PRIu32 " recv_ns outside the header's range", i);
            return why;
        }
        continue;
    bad:
        snprintf(why, whylen, "record %" PRIu32 " of %" PRIu32 " overruns the block (framing)", i,
                 h->n_records);
        return why;
    }
    if (p != end) {
        snprintf(why, whylen, "%td bytes left after the last record (framing)", end - p);
        return why;
    }
    if (seq != h->last_seq) {
        snprintf(why, whylen, "last record seq %" PRIu64 " != header last_seq %" PRIu64, seq,
                 h->last_seq);
        return why;
    }
    return NULL;
}

/* Loads and checks the block at r->off. verify = 0: header walk only (the
 * stored bytes must exist but are not read). Returns 1 (block ok), 0 (clean
 * EOF), -1 (damage or I/O error, r->err set). */
/* Reads and checks the block header at r->off. 1 = *h holds it, 0 = clean
 * end of file (r->state 1), -1 = damaged or I/O error (r->state -1, r->err). */
static int rd_read_header(arc_reader *r, arc_block_hdr *h) {
    char why[200];
    unsigned char hdr[ARC_BLOCK_HDR_BYTES];
    ssize_t k = pread_full(r->fd, hdr, sizeof hdr, r->off);
    if (k < 0) return rd_io_error(r, "read");
    if (k == 0) {
        r->state = 1;
        return 0;
    }
    if (k < ARC_BLOCK_HDR_BYTES) {
        snprintf(why, sizeof why, "only %zd of %d block header bytes", k, ARC_BLOCK_HDR_BYTES);
        r->cut_short = 1;
        return rd_damaged(r, why);
    }
    if (arc__block_hdr_decode(hdr, h, why, sizeof why) != SHJ_OK) return rd_damaged(r, why);
    return 1;
}

/* Loads, verifies and decodes the block whose header *h was read at r->off.
 * 1 = it is the current block (r->rp .. r->rend) and r->off / r->good are
 * past it; -1 = damaged or I/O error. */
static int rd_load_body(arc_reader *r, const arc_block_hdr *h) {
    char why[200];
    uint64_t end = r->off + ARC_BLOCK_HDR_BYTES + h->stored_len;
    if (grow(&r->sbuf, &r->scap, h->stored_len) != SHJ_OK) return rd_nomem(r);
    ssize_t k = pread_full(r->fd, r->sbuf, h->stored_len, r->off + ARC_BLOCK_HDR_BYTES);
    if (k < 0) return rd_io_error(r, "read");
    if ((uint64_t)k < h->stored_len) {
        snprintf(why, sizeof why, "block needs %" PRIu32 " stored bytes, file has %zd",
                 h->stored_len, k);
        r->cut_short = 1;
        return rd_damaged(r, why);
    }
    if (XXH64(r->sbuf, h->stored_len, 0) != h->data_hash)
        return rd_damaged(r, "data checksum (XXH64) mismatch");
    const unsigned char *raw = r->sbuf;
    if (h->codec == ARC_CODEC_LZ4) {
        if (grow(&r->rbuf, &r->rcap, h->raw_len) != SHJ_OK) return rd_nomem(r);
        int n = LZ4_decompress_safe((const char *)r->sbuf, (char *)r->rbuf, (int)h->stored_len,
                                    (int)h->raw_len);
        if (n != (int)h->raw_len) {
            snprintf(why, sizeof why, "lz4 decompression gave %d bytes, header says %" PRIu32, n,
                     h->raw_len);
            return rd_damaged(r, why);
        }
        raw = r->rbuf;
    }
    const char *bad = check_framing(raw, h, why, sizeof why);
    if (bad) return rd_damaged(r, bad);
    r->bh = *h;
    r->rp = raw;
    r->rend = raw + h->raw_len;
    r->left = h->n_records;
    r->prev_seq = 0;
    r->prev_recv = 0;
    r->good = r->off = end;
    return 1;
}

static int rd_load_block(arc_reader *r, int verify, uint64_t file_size) {
    arc_block_hdr h;
    int k = rd_read_header(r, &h);
    if (k != 1) return k;
    if (!verify) {
        uint64_t end = r->off + ARC_BLOCK_HDR_BYTES + h.stored_len;
        if (end > file_size) {
            char why[200];
            r->cut_short = 1;
            snprintf(why, sizeof why, "block needs %" PRIu32 " stored bytes, file has %" PRIu64,
                     h.stored_len, file_size - r->off - ARC_BLOCK_HDR_BYTES);
            return rd_damaged(r, why);
        }
        r->bh = h;
        r->good = r->off = end;
        return 1;
    }
    return rd_load_body(r, &h);
}

/* The next record of the current block (r->left > 0; framing already
 * validated by check_framing, so nothing can fail here). */
static inline void rd_walk(arc_reader *r, arc_record *rec) {
    uint64_t len = 0, ds = 0, dr = 0;
    r->rp += arc__get_varint(r->rp, r->rend, &len);
    r->rp += arc__get_varint(r->rp, r->rend, &ds);
    r->rp += arc__get_varint(r->rp, r->rend, &dr);
    r->prev_seq += arc__unzigzag(ds);
    r->prev_recv += arc__unzigzag(dr);
    rec->seq = r->prev_seq;
    rec->recv_ns = (int64_t)r->prev_recv;
    rec->tag = *r->rp++;
    rec->len = (uint32_t)len;
    rec->data = (const char *)r->rp;
    r->rp += len;
    r->left--;
}

/* Opens the file header. fd is borrowed when owns_fd is 0. Returns the
 * reader, or NULL with err and *why_kind: 1 = the header is missing or
 * damaged (the file's own fault), -1 = an I/O error or no memory. *newer as
 * in arc__file_hdr_decode. */
static arc_reader *rd_open_fd(int fd, int owns_fd, const char *path, int *why_kind, int *newer,
                              char *err, size_t errlen) {
    unsigned char fh[ARC_FILE_HDR_BYTES];
    char why[200];
    *newer = 0;
    *why_kind = -1;
    ssize_t k = pread_full(fd, fh, sizeof fh, 0);
    if (k < 0) {
        shj_fail(err, errlen, "file %s: read: %s", path, strerror(errno));
        return NULL;
    }
    if (k < ARC_FILE_HDR_BYTES) {
        *why_kind = 1;
        shj_fail(err, errlen,
                 "file %s: torn/corrupt file header at byte offset 0: only %zd of %d bytes", path,
                 k, ARC_FILE_HDR_BYTES);
        return NULL;
    }
    arc_reader *r = calloc(1, sizeof *r);
    if (!r) {
        shj_fail(err, errlen, "file %s: out of memory", path);
        return NULL;
    }
    if (arc__file_hdr_decode(fh, &r->fh, newer, why, sizeof why) != SHJ_OK) {
        *why_kind = 1;
        if (*newer)
            shj_fail(err, errlen, "file %s: %s", path, why);
        else
            shj_fail(err, errlen, "file %s: torn/corrupt file header at byte offset 0: %s", path,
                     why);
        free(r);
        return NULL;
    }
    r->fd = fd;
    r->owns_fd = owns_fd;
    shj_strlcpy(r->path, path, sizeof r->path);
    r->off = r->good = ARC_FILE_HDR_BYTES;
    return r;
}

arc_reader *arc_reader_open(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        shj_fail(err, errlen, "file %s: open: %s", path, strerror(errno));
        return NULL;
    }
    int newer, kind;
    arc_reader *r = rd_open_fd(fd, 1, path, &kind, &newer, err, errlen);
    if (!r) close(fd);
    return r;
}

int arc_reader_next(arc_reader *r, arc_record *rec) {
    while (r->left == 0) {
        if (r->state != 0) return r->state == 1 ? 0 : -1;
        int k = r->pf ? pf_next_block(r) : rd_load_block(r, 1, 0);
        if (k <= 0) return k;
    }
    rd_walk(r, rec);
    r->rec_index++;
    if (r->pf && !r->block_state) {
        /* The block was decoded on the other core: its lines are not in this
         * core's cache. Keep the next ARC_PF_AHEAD bytes (~10 records) on
         * their way while the caller parses, each line asked for once. (A
         * decode hook has already read them: its caller reads its own
         * state instead.) */
        const unsigned char *base = r->rend - r->bh.raw_len;
        size_t want = (size_t)(r->rp - base) + ARC_PF_AHEAD;
        if (want > r->bh.raw_len) want = r->bh.raw_len;
        for (; r->pf_next < want; r->pf_next += 64) __builtin_prefetch(base + r->pf_next);
    }
    return 1;
}

void *arc_reader_block_state(const arc_reader *r, size_t *index) {
    if (index) *index = r->rec_index ? r->rec_index - 1 : 0;
    return r->block_state;
}

const char *arc_reader_error(const arc_reader *r) { return r->state == -1 ? r->err : ""; }

uint64_t arc_reader_good_offset(const arc_reader *r) { return r->good; }

int arc_reader_cut_short(const arc_reader *r) { return r->state == -1 && r->cut_short; }

int arc_file_being_written(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    /* The writer holds LOCK_EX for as long as it appends (archive.c); a
     * shared lock is refused exactly then, even to our own process. */
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the shared lock if we got it */
    return busy;
}

void arc_reader_close(arc_reader *r) {
    if (!r) return;
    if (r->pf) pf_stop(r); /* joins the thread before the fd it reads goes away */
    if (r->resync_state && r->pf_hook.release) r->pf_hook.release(r->pf_hook.ctx, r->resync_state);
    if (r->owns_fd) close(r->fd);
    free(r->sbuf);
    free(r->rbuf);
    free(r);
}

/* Prefetching ============================================================= */

/* Why threads: replay spends ~1/3 of its loop-thread time loading blocks
 * (pread, XXH64, LZ4) and the rest parsing. Read-ahead workers run the very
 * same rd_read_header / rd_load_body on readers of their own (sharing the
 * fd: pread has no file position) and hand each verified block over by
 * swapping their decode buffer with a free slot's, so the owner walks frames
 * in memory no other thread touches any more, and nothing is allocated per
 * block once every buffer has reached the largest block size.
 *
 * Several workers load different blocks at once. Blocks are claimed in file
 * order under the lock (a block's header says where the next one starts, so
 * claiming reads the 32-byte header there; the body is loaded outside the
 * lock), and the owner takes them in claim order, so records come out in
 * file order whatever order the workers finish in. The first block, by file
 * order, that is missing (end of file) or fails a check ends the stream
 * there; blocks claimed after it are dropped unread by the owner. So the
 * owner sees exactly the synchronous reader's records, error and offsets.
 *
 * A decode hook (arc_reader_open_decoding) runs on the worker after its
 * block passed every check: replay parses the block's payloads there, so
 * the parse runs on as many cores as there are workers. */

#define ARC_PREFETCH_MAX_DEPTH 64
#define ARC_PREFETCH_MAX_WORKERS 8

/* One decoded block on its way from a worker to the owner. */
typedef struct pf_slot {
    unsigned char *buf;        /* raw (decoded) bytes of the block; recycled */
    size_t cap;
    arc_block_hdr bh;
    uint64_t end;              /* file offset after the block: the new good offset */
    int ready;                 /* loaded (and decoded): the owner may take it */
    void *state;               /* the decode hook's, kept across reuses of the slot */
} pf_slot;

typedef struct pf_worker {
    pthread_t thread;
    int started;
    struct arc_prefetch *pf;
    arc_reader *w;             /* this worker's reader: buffers and error text */
    arc_record *recs;          /* the block's records, for the decode hook */
    size_t recs_cap;
} pf_worker;

/* Ownership: blocks tail .. claimed-1 are in slots (index % n_slots); a
 * claimed slot belongs to its worker until `ready`, then to the owner, who
 * reads slot tail while `holding`. Everything below moves only under mu,
 * which also orders the slot contents between threads. */
struct arc_prefetch {
    pthread_mutex_t mu;
    pthread_cond_t filled_cv;  /* worker -> owner: a slot is ready, or the stream ended */
    pthread_cond_t free_cv;    /* owner -> workers: a slot was released, or stop */
    arc_decode_hook hook;      /* hook.decode == NULL: plain read-ahead */
    uint64_t next_off;         /* header of the next block to claim */
    uint64_t claimed;          /* blocks claimed so far */
    uint64_t tail;             /* blocks released by the owner */
    int holding;               /* the owner is walking slot tail */
    int no_more;               /* a claim or a load ended the stream: claim nothing more */
    int ended;                 /* end_* describe where the stream ends */
    uint64_t end_index;        /* first block (claim order) that is EOF or bad */
    int end_state;             /* 1 clean EOF, -1 damaged / I/O error */
    int end_io_error;
    int end_cut_short;
    uint64_t end_off;          /* its file offset: the good offset there */
    char end_err[sizeof(((arc_reader *)0)->err)];
    int stop;                  /* the owner closes the reader early */
    int n_workers;
    pf_worker *workers;
    size_t n_slots;            /* depth + 1: depth blocks ahead of the one being walked */
    pf_slot slots[];
};

static void swap_buf(unsigned char **a, size_t *acap, unsigned char **b, size_t *bcap) {
    unsigned char *t = *a;
    size_t c = *acap;
    *a = *b;
    *acap = *bcap;
    *b = t;
    *bcap = c;
}

/* Under mu: block idx (at offset off) ended the stream with w's verdict.
 * The earliest such block wins: a later one may fail first in time. */
static void pf_end(arc_prefetch *pf, uint64_t idx, uint64_t off, const arc_reader *w) {
    if (!pf->ended || idx < pf->end_index) {
        pf->ended = 1;
        pf->end_index = idx;
        pf->end_state = w->state;
        pf->end_io_error = w->io_error;
        pf->end_cut_short = w->cut_short;
        pf->end_off = off;
        if (w->state == -1) memcpy(pf->end_err, w->err, sizeof pf->end_err);
    }
    pf->no_more = 1;
    pthread_cond_broadcast(&pf->filled_cv);
    pthread_cond_broadcast(&pf->free_cv);
}

/* Runs the decode hook over the block w just loaded. */
static int pf_decode(pf_worker *wk, pf_slot *s) {
    arc_reader *w = wk->w;
    size_t n = w->left;
    if (n > wk->recs_cap) {
        arc_record *nr = realloc(wk->recs, n * sizeof *nr);
        if (!nr) return rd_nomem(w);
        wk->recs = nr;
        wk->recs_cap = n;
    }
    for (size_t i = 0; i < n; i++) rd_walk(w, &wk->recs[i]);
    wk->pf->hook.decode(wk->pf->hook.ctx, &s->state, wk->recs, n);
    return 1;
}

static void *pf_main(void *arg) {
    pf_worker *wk = arg;
    shj_thread_background("shj-readahead");
    arc_prefetch *pf = wk->pf;
    arc_reader *w = wk->w;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->stop && !pf->no_more && pf->claimed - pf->tail == pf->n_slots)
            pthread_cond_wait(&pf->free_cv, &pf->mu);
        if (pf->stop || pf->no_more) break;
        /* Claim the next block: its header says where the one after starts. */
        uint64_t idx = pf->claimed, off = pf->next_off;
        arc_block_hdr h;
        w->off = off;
        int k = rd_read_header(w, &h);
        if (k != 1) {
            pf_end(pf, idx, off, w);
            break;
        }
        pf->next_off = off + ARC_BLOCK_HDR_BYTES + h.stored_len;
        pf->claimed++;
        pf_slot *s = &pf->slots[idx % pf->n_slots];
        s->ready = 0;
        pthread_mutex_unlock(&pf->mu);
        /* The slot is this worker's until it is ready: I/O, decoding and
         * the hook run without the lock. */
        k = rd_load_body(w, &h);
        if (k == 1) {
            /* the hook walks the frames in w's buffer, before it moves */
            if (pf->hook.decode) k = pf_decode(wk, s);
            if (h.codec == ARC_CODEC_LZ4) swap_buf(&w->rbuf, &w->rcap, &s->buf, &s->cap);
            else swap_buf(&w->sbuf, &w->scap, &s->buf, &s->cap);
            s->bh = h;
            s->end = w->good;
        }
        pthread_mutex_lock(&pf->mu);
        if (k != 1) {
            pf_end(pf, idx, off, w);
            break;
        }
        s->ready = 1;
        pthread_cond_broadcast(&pf->filled_cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* The owner's rd_load_block: releases the block it walked, takes the next
 * one (waiting for the workers if needed). Same returns and same effects on
 * r as rd_load_block(r, 1, 0). */
static int pf_next_block(arc_reader *r) {
    arc_prefetch *pf = r->pf;
    pthread_mutex_lock(&pf->mu);
    if (pf->holding) {
        pf->holding = 0;
        pf->slots[pf->tail % pf->n_slots].ready = 0;
        pf->tail++;
        pthread_cond_broadcast(&pf->free_cv);
    }
    const pf_slot *s;
    for (;;) {
        if (pf->ended && pf->tail == pf->end_index) {
            /* The stream ends here: the verdict was copied under mu. */
            r->state = pf->end_state;
            r->io_error = pf->end_io_error;
            r->cut_short = pf->end_cut_short;
            r->good = r->off = pf->end_off;
            if (pf->end_state == -1) memcpy(r->err, pf->end_err, sizeof r->err);
            r->block_state = NULL;
            pthread_mutex_unlock(&pf->mu);
            return pf->end_state == 1 ? 0 : -1;
        }
        s = &pf->slots[pf->tail % pf->n_slots];
        if (pf->claimed > pf->tail && s->ready) break;
        pthread_cond_wait(&pf->filled_cv, &pf->mu);
    }
    pf->holding = 1;
    pthread_mutex_unlock(&pf->mu);
    r->bh = s->bh;
    r->rp = s->buf;
    r->rend = s->buf + s->bh.raw_len;
    r->left = s->bh.n_records;
    r->prev_seq = 0;
    r->prev_recv = 0;
    r->good = r->off = s->end;
    r->pf_next = 0;
    r->block_state = pf->hook.decode ? s->state : NULL;
    r->rec_index = 0;
    return 1;
}

/* Frees what pf owns; every worker thread has been joined (or never ran). */
static void pf_free(arc_prefetch *pf) {
    for (size_t i = 0; i < pf->n_slots; i++) {
        free(pf->slots[i].buf);
        if (pf->slots[i].state && pf->hook.release) pf->hook.release(pf->hook.ctx, pf->slots[i].state);
    }
    for (int i = 0; i < pf->n_workers; i++) {
        pf_worker *wk = &pf->workers[i];
        if (wk->w) arc_reader_close(wk->w);
        free(wk->recs);
    }
    free(pf->workers);
    pthread_cond_destroy(&pf->free_cv);
    pthread_cond_destroy(&pf->filled_cv);
    pthread_mutex_destroy(&pf->mu);
    free(pf);
}

static void pf_join(arc_prefetch *pf) {
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    pthread_cond_broadcast(&pf->free_cv);
    pthread_mutex_unlock(&pf->mu);
    /* At most one block load each to finish: workers check stop before each. */
    for (int i = 0; i < pf->n_workers; i++)
        if (pf->workers[i].started) pthread_join(pf->workers[i].thread, NULL);
}

static void pf_stop(arc_reader *r) {
    pf_join(r->pf);
    pf_free(r->pf);
    r->pf = NULL;
    r->block_state = NULL;
}

/* Sets up read-ahead on the freshly opened r. Any failure leaves r
 * synchronous and says why (a hook's caller must know: 0 = running). */
static int pf_start(arc_reader *r, int depth, int workers, const arc_decode_hook *hook) {
    if (depth > ARC_PREFETCH_MAX_DEPTH) depth = ARC_PREFETCH_MAX_DEPTH;
    if (workers < 1) workers = 1;
    if (workers > ARC_PREFETCH_MAX_WORKERS) workers = ARC_PREFETCH_MAX_WORKERS;
    /* every worker needs a slot to fill while the owner walks one */
    if (depth < workers) depth = workers;
    size_t n = (size_t)depth + 1;
    arc_prefetch *pf = calloc(1, sizeof *pf + n * sizeof pf->slots[0]);
    if (!pf) {
        errno = ENOMEM;
        return SHJ_ERR;
    }
    pf->n_slots = n;
    pf->next_off = r->off;
    if (hook) pf->hook = *hook;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->filled_cv, NULL);
    pthread_cond_init(&pf->free_cv, NULL);
    pf->workers = calloc((size_t)workers, sizeof *pf->workers);
    if (!pf->workers) {
        pf_free(pf);
        errno = ENOMEM;
        return SHJ_ERR;
    }
    pf->n_workers = workers;
    for (int i = 0; i < workers; i++) {
        pf_worker *wk = &pf->workers[i];
        wk->pf = pf;
        wk->w = malloc(sizeof *wk->w);
        if (!wk->w) {
            pf_free(pf);
            errno = ENOMEM;
            return SHJ_ERR;
        }
        *wk->w = *r; /* header parsed, at the next block to read */
        wk->w->owns_fd = 0;
        /* After a resync r owns buffers and a decode state: never share them. */
        wk->w->sbuf = wk->w->rbuf = NULL;
        wk->w->scap = wk->w->rcap = 0;
        wk->w->pf = NULL;
        wk->w->resync_state = NULL;
        memset(&wk->w->pf_hook, 0, sizeof wk->w->pf_hook);
    }
    /* Signals stay with the loop thread (libev's handlers). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (int i = 0; i < workers && rc == 0; i++) {
        rc = pthread_create(&pf->workers[i].thread, NULL, pf_main, &pf->workers[i]);
        pf->workers[i].started = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pf_join(pf);
        pf_free(pf);
        errno = rc; /* pthread_create's reason, for the caller's message */
        return SHJ_ERR;
    }
    r->pf = pf;
    r->pf_depth = depth;
    r->pf_workers = workers;
    r->pf_hook = pf->hook;
    return SHJ_OK;
}

arc_reader *arc_reader_open_prefetch(const char *path, int depth, char *err, size_t errlen) {
    arc_reader *r = arc_reader_open(path, err, errlen);
    if (!r || depth <= 0) return r;
    /* Whatever fails, the synchronous reader gives the same results: fall
     * back to it rather than fail the open. */
    if (pf_start(r, depth, 1, NULL) != SHJ_OK)
        shj_log(SHJ_LOG_WARN, "archive: %s: no read-ahead (%s), reading synchronously", path,
                strerror(errno));
    return r;
}

arc_reader *arc_reader_open_decoding(const char *path, int depth, int workers,
                                     const arc_decode_hook *hook, char *err, size_t errlen) {
    arc_reader *r = arc_reader_open(path, err, errlen);
    if (!r) return NULL;
    if (!hook || !hook->decode) {
        shj_fail(err, errlen, "file %s: arc_reader_open_decoding needs a decode hook", path);
        arc_reader_close(r);
        return NULL;
    }
    if (pf_start(r, depth < 1 ? 1 : depth, workers, hook) != SHJ_OK) {
        shj_fail(err, errlen, "file %s: cannot start read-ahead threads: %s", path, strerror(errno));
        arc_reader_close(r);
        return NULL;
    }
    return r;
}

/* Resynchronising ========================================================= */

/* DESIGN. A damaged block must not hide the blocks after it: a flipped byte
 * early in a day file would otherwise make the rest of the day unreadable.
 * Block headers start with a 4-byte magic, carry their length and an XXH64
 * of their bytes, and check_framing ties every record to the header, so a
 * candidate found by searching for the magic is accepted only when it
 * passes every check a block read in order must pass; a false match inside
 * compressed bytes is as unlikely as an XXH64 collision. The search runs on
 * the caller's thread; read-ahead, when it was on, is stopped for it and
 * restarted after the block found, whose decode hook (if any) runs here. */

#define ARC_RESYNC_WINDOW (1u << 20)

/* Offset of the next "SHJB" at or after from, or UINT64_MAX. */
static uint64_t find_magic(arc_reader *r, uint64_t from, uint64_t size, unsigned char *win) {
    static const unsigned char magic[4] = {'S', 'H', 'J', 'B'};
    while (from + ARC_BLOCK_HDR_BYTES <= size) {
        size_t want = size - from < ARC_RESYNC_WINDOW ? (size_t)(size - from) : ARC_RESYNC_WINDOW;
        ssize_t k = pread_full(r->fd, win, want, from);
        if (k < 4) return UINT64_MAX;
        unsigned char *hit = memmem(win, (size_t)k, magic, sizeof magic);
        if (hit) return from + (uint64_t)(hit - win);
        from += (uint64_t)k - 3; /* a magic may straddle two windows */
    }
    return UINT64_MAX;
}

int arc_reader_resync(arc_reader *r, uint64_t *skip_from, uint64_t *skip_to) {
    if (r->state != -1 || r->io_error) return SHJ_ERR; /* only damage is skipped over */
    uint64_t from = r->off;
    char saved_err[sizeof r->err];
    memcpy(saved_err, r->err, sizeof saved_err);
    int saved_cut = r->cut_short;
    if (r->pf) {
        pf_join(r->pf);
        pf_free(r->pf);
        r->pf = NULL;
    }
    r->block_state = NULL;
    struct stat st;
    unsigned char *win = malloc(ARC_RESYNC_WINDOW);
    if (!win || fstat(r->fd, &st) != 0) {
        free(win);
        return SHJ_ERR;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint64_t pos = from + 1;
    int found = 0;
    while (!found && (pos = find_magic(r, pos, size, win)) != UINT64_MAX) {
        arc_block_hdr h;
        r->off = pos;
        r->state = 0;
        r->cut_short = 0;
        if (rd_read_header(r, &h) == 1 && rd_load_body(r, &h) == 1) found = 1;
        else if (r->io_error) break;
        else pos++;
    }
    free(win);
    if (!found) {
        /* Nothing valid follows: the reader stays stopped where it was. */
        r->off = r->good = from;
        r->state = -1;
        r->cut_short = saved_cut;
        memcpy(r->err, saved_err, sizeof r->err);
        return SHJ_ERR;
    }
    *skip_from = from;
    *skip_to = pos;
    r->skipped_bytes += pos - from;
    r->rec_index = 0;
    if (r->pf_hook.decode) {
        /* The consumer expects this block decoded like every other one. */
        size_t n = r->left;
        arc_record *recs = malloc((n ? n : 1) * sizeof *recs);
        if (!recs) return SHJ_ERR;
        arc_reader walk = *r;
        for (size_t i = 0; i < n; i++) rd_walk(&walk, &recs[i]);
        r->pf_hook.decode(r->pf_hook.ctx, &r->resync_state, recs, n);
        free(recs);
        r->block_state = r->resync_state;
    }
    if (r->pf_depth > 0 && pf_start(r, r->pf_depth, r->pf_workers,
                                    r->pf_hook.decode ? &r->pf_hook : NULL) != SHJ_OK) {
        shj_log(SHJ_LOG_WARN, "archive: %s: read-ahead not restarted after a resync (%s)", r->path,
                strerror(errno));
        if (r->pf_hook.decode) return SHJ_ERR; /* its consumer needs every block decoded */
    }
    return SHJ_OK;
}

uint64_t arc_reader_skipped_bytes(const arc_reader *r) { return r->skipped_bytes; }

/* Scanning ================================================================ */

/* arc_scan.detail is short: keep the reason and offset, drop "file <path>: ". */
static void set_detail(arc_scan *out, const char *msg, const char *path) {
    size_t pl = strlen(path);
    if (strncmp(msg, "file ", 5) == 0 && strncmp(msg + 5, path, pl) == 0 &&
        strncmp(msg + 5 + pl, ": ", 2) == 0)
        msg += 5 + pl + 2;
    shj_strlcpy(out->detail, msg, sizeof out->detail);
}

int arc__scan_fd(int fd, const char *path, uint64_t verify_from, arc_scan *out, int *newer,
                 char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (fstat(fd, &st) != 0) return shj_fail(err, errlen, "file %s: stat: %s", path, strerror(errno));
    out->file_bytes = (uint64_t)st.st_size;
    char why[512];
    int kind;
    arc_reader *r = rd_open_fd(fd, 0, path, &kind, newer, why, sizeof why);
    if (!r) {
        if (kind < 0) return shj_fail(err, errlen, "%s", why);
        out->torn = 1;
        set_detail(out, why, path);
        return SHJ_OK;
    }
    int rc = SHJ_OK;
    for (;;) {
        int k = rd_load_block(r, r->off >= verify_from, out->file_bytes);
        if (k == 0) break;
        if (k < 0 && !r->io_error) {
            /* Damage with valid blocks after it is a hole, not the end: count
             * it and carry on (nothing after it may be cut as a "tail"). */
            char why_here[sizeof out->detail];
            shj_strlcpy(why_here, r->err, sizeof why_here);
            uint64_t a, b;
            if (arc_reader_resync(r, &a, &b) == SHJ_OK) {
                if (!out->damaged_ranges++) set_detail(out, why_here, path);
                out->damaged_bytes += b - a;
                k = 1; /* r holds the block found */
            }
        }
        if (k < 0) {
            if (r->io_error) {
                rc = shj_fail(err, errlen, "%s", r->err);
            } else {
                out->torn = 1;
                out->cut_short = r->cut_short;
                set_detail(out, r->err, path);
            }
            break;
        }
        if (out->blocks == 0) out->first_seq = r->bh.first_seq;
        out->last_seq = r->bh.last_seq;
        out->blocks++;
        out->records += r->bh.n_records;
    }
    out->good_bytes = r->good;
    /* The file may have grown while we read (it is not ours to lock here). */
    if (out->good_bytes > out->file_bytes) out->file_bytes = out->good_bytes;
    arc_reader_close(r);
    return rc;
}

int arc_scan_file(const char *path, arc_scan *out, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        memset(out, 0, sizeof *out);
        return shj_fail(err, errlen, "file %s: open: %s", path, strerror(errno));
    }
    int newer;
    int rc = arc__scan_fd(fd, path, 0, out, &newer, err, errlen);
    close(fd);
    return rc;
}
