/* test_archive_crash.c — kill -9 of a recording process, then reopen.
 *
 * Runs tests/tool_arc_record.c ($SHJ_BUILD_DIR/tool_arc_record), which
 * appends seq 1, 2, 3 ... as fast as it can with fsync_ms = 20 and prints
 * "durable <seq>" whenever the archive reports a new fsynced sequence. After
 * about a second (and at least three such lines) the test SIGKILLs it, then
 * proves the durability promise: every record up to the last reported
 * durable seq is in the file, exact, with sequences contiguous from 1; a torn
 * tail, if the kill left one, is reported with its offset; and reopening the
 * file for append keeps every readable record and continues after it.
 * Runs the kill twice (the second time on top of the first file).
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "t.h"

static int64_t T0;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    SHJ_UNUSED(st), SHJ_UNUSED(flag), SHJ_UNUSED(f);
    return remove(p);
}

/* Records in the file: seq base+1.. must follow seq 1..base exactly; a
 * second run of the tool restarts at seq 1 in the same file, so `runs`
 * contiguous runs are expected. Returns the records read in the last run. */
typedef struct crash_read {
    uint64_t total;       /* records read */
    uint64_t last_run;    /* records in the last 1..N run */
    int torn;
    char err[4600];
} crash_read;

static void read_back(const char *path, crash_read *out) {
    memset(out, 0, sizeof *out);
    char err[512], buf[700];
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    arc_record rec;
    uint64_t expect = 1, bad = 0;
    int k;
    while ((k = arc_reader_next(r, &rec)) == 1) {
        if (rec.seq == 1 && expect != 1) expect = 1;   /* the next run of the tool */
        uint8_t tag;
        uint32_t len = arc_test_payload(expect, buf, &tag);
        if (rec.seq != expect || rec.recv_ns != T0 + (int64_t)expect * 1000 || rec.tag != tag ||
            rec.len != len || memcmp(rec.data, buf, len) != 0) {
            if (bad++ < 3) fprintf(stderr, "%s: seq %" PRIu64 " expected %" PRIu64 "\n", path, rec.seq, expect);
        }
        expect++;
        out->total++;
    }
    CHECK_EQ_I64(bad, 0);
    out->last_run = expect - 1;
    CHECK(k == 0 || k == -1);
    if (k < 0) {
        out->torn = 1;
        shj_strlcpy(out->err, arc_reader_error(r), sizeof out->err);
    }
    arc_reader_close(r);
}

/* One run of the tool, killed after ~1 s. Returns the last durable seq it
 * reported; *path gets the file it wrote. */
static uint64_t record_and_kill(const char *tool, const char *dir, char *path, size_t pathcap) {
    int pfd[2];
    if (pipe(pfd) != 0) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl(tool, tool, dir, "60", (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", tool, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char line[8192];
    size_t have = 0;
    uint64_t last = 0, lines = 0;
    int64_t start = clk_mono_ns();
    int killed = 0, eof = 0;
    while (!eof) {
        int64_t age = clk_mono_ns() - start;
        if (!killed && ((age > CLK_NS_PER_SEC && lines >= 3) || age > 20 * CLK_NS_PER_SEC)) {
            kill(pid, SIGKILL);   /* mid-flight: whatever it was doing */
            killed = 1;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t k = read(pfd[0], line + have, sizeof line - 1 - have);
        if (k <= 0) {
            eof = 1;
            break;
        }
        have += (size_t)k;
        line[have] = '\0';
        char *nl, *s = line;
        while ((nl = strchr(s, '\n'))) {
            *nl = '\0';
            uint64_t v;
            if (sscanf(s, "durable %" SCNu64, &v) == 1) {
                CHECK(v >= last);   /* durable_seq only moves forward */
                last = v;
                lines++;
            } else if (strncmp(s, "file ", 5) == 0) {
                shj_strlcpy(path, s + 5, pathcap);
            }
            s = nl + 1;
        }
        have = strlen(s);
        memmove(line, s, have);
    }
    close(pfd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(lines >= 3);
    printf("killed after %" PRIu64 " durable reports, last durable seq %" PRIu64 "\n", lines, last);
    return last;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    T0 = clk_taipei_to_utc_ns(2026, 11, 25, 9, 0, 0, 0);
    const char *bd = getenv("SHJ_BUILD_DIR");
    char tool[4096], dir[4096], path[4200] = "", err[4600];
    snprintf(tool, sizeof tool, "%s/tool_arc_record", bd && *bd ? bd : ".");
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/shj_crash_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) return 2;

    uint64_t before = 0;   /* records kept from earlier runs */
    for (int run = 0; run < 2; run++) {
        uint64_t durable = record_and_kill(tool, dir, path, sizeof path);
        CHECK(durable > 0);
        CHECK(path[0] != '\0');
        crash_read cr;
        read_back(path, &cr);
        /* Every record up to the last reported durable seq survived. */
        CHECK(cr.last_run >= durable);
        CHECK(cr.total == before + cr.last_run);
        arc_scan sc;
        CHECK_EQ_I64(arc_scan_file(path, &sc, err, sizeof err), SHJ_OK);
        CHECK_EQ_I64(sc.records, cr.total);
        CHECK_EQ_I64(sc.torn, cr.torn);
        if (cr.torn) {
            CHECK(strstr(cr.err, "byte offset") != NULL);
            printf("torn tail reported: %s\n", cr.err);
        } else {
            printf("no torn tail: the kill landed between writes (%" PRIu64 " bytes)\n",
                   sc.file_bytes);
        }
        printf("run %d: %" PRIu64 " records read back, %" PRIu64 " beyond the last durable report\n",
               run, cr.last_run, cr.last_run - durable);
        before = cr.total;
    }

    /* Reopen for append: keeps everything, continues after it. */
    arc_opts o = {.dir = dir, .source = "crash", .fsync_ms = 20, .compress = ARC_COMPRESS_LZ4};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    crash_read cr;
    read_back(path, &cr);
    if (w) {
        char buf[700];
        uint64_t from = cr.last_run + 1;
        for (uint64_t s = from; s < from + 1000; s++) {
            uint8_t tag;
            uint32_t len = arc_test_payload(s, buf, &tag);
            int rc;
            while ((rc = arc_append(w, tag, buf, len, T0 + (int64_t)s * 1000, s)) == SHJ_AGAIN)
                usleep(200);
            CHECK_EQ_I64(rc, SHJ_OK);
        }
        CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);
        crash_read after;
        read_back(path, &after);
        CHECK_EQ_I64(after.torn, 0);
        CHECK_EQ_I64(after.total, cr.total + 1000);
        CHECK_EQ_I64(after.last_run, cr.last_run + 1000);
    }
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    T_DONE();
}
