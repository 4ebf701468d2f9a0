/* fuzz_archive_append.c — libFuzzer target: the archive writer's open for
 * append (recover_file) on any existing day file, then the readers.
 *
 * The input becomes <dir>/src/2026-12-04.shjraw (a valid file header is
 * prepended, in place of byte 0, when byte 0 is even, so the block framing
 * is what gets mutated; bit 1 of byte 0 picks lz4 or stored blocks for the
 * appended ones). The writer opens that file
 * for append — verifying the tail, saving a torn or damaged tail to a side
 * file and cutting it — and appends three records of that day.
 * Oracle: no crash or sanitizer report; when the writer says the three
 * records are durable, the reader (passing over damaged ranges with
 * arc_reader_resync, as dump/replay do) ends cleanly and its last three
 * records are exactly the ones appended, and the scan counts exactly the
 * records the reader read. When the writer refuses the file, it says why.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "archive/archive_format.h"
#include "core/clock.h"
#include "core/shj_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_APPEND 3

static char root[64], srcdir[128], path[192];

static void clean_srcdir(void) {
    DIR *d = opendir(srcdir);
    if (!d) return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        snprintf(p, sizeof p, "%s/%s", srcdir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!root[0]) {
        /* tmpfs when there is one: the writer fsyncs every block */
        struct stat st;
        snprintf(root, sizeof root, "%s/fuzz_arc_append.%d", stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp",
                 (int)getpid());
        snprintf(srcdir, sizeof srcdir, "%s/src", root);
        snprintf(path, sizeof path, "%s/2026-12-04.shjraw", srcdir);
        mkdir(root, 0700);
        mkdir(srcdir, 0700);
        shj_log_set_level((shj_log_level)(SHJ_LOG_ERROR + 1)); /* the writer's warnings are expected here */
    }
    clean_srcdir();
    int compress = size && (data[0] & 2) ? ARC_COMPRESS_LZ4 : ARC_COMPRESS_NONE;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && (data[0] & 1) == 0) {
        uint8_t hdr[ARC_FILE_HDR_BYTES] = {0};
        memcpy(hdr, ARC_FILE_MAGIC, ARC_FILE_MAGIC_LEN);
        hdr[ARC_FH_VERSION] = ARC_FORMAT_VERSION;
        hdr[ARC_FH_HDR_BYTES] = ARC_FILE_HDR_BYTES;
        memcpy(hdr + ARC_FH_DAY, "2026-12-04", 10);
        memcpy(hdr + ARC_FH_SOURCE, "src", 3);
        uint32_t check = XXH32(hdr, ARC_FH_CHECK, 0);
        for (int i = 0; i < 4; i++) hdr[ARC_FH_CHECK + i] = (uint8_t)(check >> (8 * i));
        fwrite(hdr, 1, sizeof hdr, f);
        data++, size--;
    }
    fwrite(data, 1, size, f);
    fclose(f);

    /* Append three records of that trading day (10:00 Taipei). */
    char err[512] = "";
    /* small blocks and queue: the default 64 x 256 KiB would be allocated (and
     * poisoned by ASan) on every run */
    arc_opts o = {.dir = root, .source = "src", .fsync_ms = 0, .compress = compress, .block_bytes = 4096, .queue_blocks = 4};
    arc_writer *w = arc_open(&o, err, sizeof err);
    if (!w) {
        if (!err[0]) abort();
        return 0;
    }
    int64_t t0 = clk_taipei_to_utc_ns(2026, 12, 4, 10, 0, 0, 0);
    static const char *payload[N_APPEND] = {"{\"a\":1}", "{\"code\":\"2330\",\"close\":\"585.5\"}", "x"};
    int appended = 1;
    for (int i = 0; i < N_APPEND; i++) {
        int rc;
        while ((rc = arc_append(w, 1, payload[i], (uint32_t)strlen(payload[i]), t0 + i, 1000000 + (uint64_t)i)) ==
               SHJ_AGAIN)
            usleep(100);
        if (rc != SHJ_OK) appended = 0;
    }
    arc_stats st;
    int flushed = arc_flush(w, err, sizeof err) == SHJ_OK;
    arc_get_stats(w, &st);
    int closed = arc_close(w, err, sizeof err) == SHJ_OK;
    if (!appended || !flushed || !closed) {
        if (!err[0] && !arc_error(w)) abort();
        return 0; /* refused (e.g. a header from a newer format): said why */
    }
    if (st.durable_records != N_APPEND || st.durable_seq != 1000000 + N_APPEND - 1) abort();

    /* Every record the writer says is there must be readable. */
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    if (!r) abort();
    uint64_t records = 0, last_seq[N_APPEND] = {0};
    char last[N_APPEND][64];
    int rc;
    arc_record rec;
    for (;;) {
        while ((rc = arc_reader_next(r, &rec)) == 1) {
            records++;
            memmove(last_seq, last_seq + 1, sizeof last_seq[0] * (N_APPEND - 1));
            memmove(last, last + 1, sizeof last[0] * (N_APPEND - 1));
            last_seq[N_APPEND - 1] = rec.seq;
            snprintf(last[N_APPEND - 1], sizeof last[0], "%.*s", (int)(rec.len < 60 ? rec.len : 60), rec.data);
        }
        uint64_t a, b;
        if (rc == 0 || arc_reader_resync(r, &a, &b) != SHJ_OK) break;
    }
    arc_reader_close(r);
    if (rc != 0) abort(); /* the file must end with our good blocks */
    if (records < N_APPEND) abort();
    for (int i = 0; i < N_APPEND; i++)
        if (last_seq[i] != 1000000 + (uint64_t)i || strcmp(last[i], payload[i]) != 0) abort();
    arc_scan sc;
    if (arc_scan_file(path, &sc, err, sizeof err) != SHJ_OK) abort();
    if (sc.records != records || sc.torn) abort();
    return 0;
}
