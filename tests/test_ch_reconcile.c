/* test_ch_reconcile.c — issue 11, faults 4 and 3, end to end: the real
 * recorder (`shijim run main.lua --clickhouse`, simulated market at a high
 * rate) against a real clickhouse-server, and the archive it writes.
 *
 * (a) kill -9 with rows in memory: right after the kill ClickHouse holds
 *     fewer rows than the archive (the fault: batches held in memory are
 *     gone); a plain restart (no restore, no replay by hand) must leave
 *     ClickHouse FINAL equal to the archive: per kind counts and a digest of
 *     every stored field (runtime/clickhouse/ch_verify.h), and an
 *     independent SELECT count() ... FINAL.
 * (b) ClickHouse down AND the fallback full: the fallback dir is a full
 *     tmpfs (or, where this process may not mount, files limited by
 *     RLIMIT_FSIZE: every write past it fails); the run must exit 1 saying
 *     that rows reached neither, and record their seq ranges in the
 *     watermark beside the archive; a restart with ClickHouse up (and a
 *     fallback dir that works) must make ClickHouse FINAL equal the archive.
 * verify.lua's exit codes are pinned against the same server: 0 when equal,
 * 1 after one row is deleted, 2 on a bad date.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ch_harness.h"
#include "clickhouse/ch_verify.h"
#include "core/shj_common.h"
#include "t.h"

static char shijim_bin[1024];

/* Start the recorder; output to log. fsize > 0: RLIMIT_FSIZE in the child. */
static pid_t recorder(const char *tmp, const char *fb, const char *dsn, const char *duration, const char *log,
                      long fsize) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/raw", tmp);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (fsize > 0) {
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            signal(SIGXFSZ, SIG_IGN); /* writes past it fail with EFBIG, as on a full disk */
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execl(shijim_bin, "shijim", "run", "main.lua", "--dir", dir, "--fallback-dir", fb, "--clickhouse", dsn,
              "--rate", "40000", "--quiet", "--status-every", "0", "--duration", duration, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int file_has(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The archive's rows (all day files of source sim) and ClickHouse's for the
 * same sequence ranges. Returns the number of files. */
static int compare(const char *tmp, const char *dsn, uint64_t rows[3], uint64_t ch_rows[3], int *digests_equal) {
    char dir[512], path[1024], err[600];
    snprintf(dir, sizeof dir, "%s/raw/sim", tmp);
    memset(rows, 0, 3 * sizeof rows[0]);
    memset(ch_rows, 0, 3 * sizeof ch_rows[0]);
    *digests_equal = 1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 8 || strcmp(de->d_name + n - 7, ".shjraw") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        chv_report rep;
        CHECK_EQ_I64(chv_archive(path, 1, &rep, err, sizeof err), SHJ_OK);
        CHECK_EQ_I64(rep.seq_gaps + rep.seq_restarts + rep.damaged_ranges, 0);
        if (dsn) CHECK_EQ_I64(chv_clickhouse(dsn, 1, &rep, err, sizeof err), SHJ_OK);
        for (int k = 0; k < 3; k++) rows[k] += rep.rows[k], ch_rows[k] += rep.ch_rows[k];
        if (rep.digest != rep.ch_digest) *digests_equal = 0;
        files++;
    }
    closedir(d);
    return files;
}

/* Rows under FINAL in the database of dsn ("…/DB"). */
static long long ch_final_count(const chx_server *s, const char *dsn) {
    const char *db = strrchr(dsn, '/') + 1;
    return chx_scalar(s, "SELECT count() FROM %s.ticks FINAL", db) + chx_scalar(s, "SELECT count() FROM %s.bidasks FINAL", db);
}

static void expect_equal(const chx_server *s, const char *tmp, const char *dsn, const char *what) {
    uint64_t rows[3], ch[3];
    int same;
    CHECK(compare(tmp, dsn, rows, ch, &same) >= 1);
    fprintf(stderr, "%s: archive tick %llu quote %llu bidask %llu; clickhouse %llu %llu %llu\n", what,
            (unsigned long long)rows[0], (unsigned long long)rows[1], (unsigned long long)rows[2],
            (unsigned long long)ch[0], (unsigned long long)ch[1], (unsigned long long)ch[2]);
    for (int k = 0; k < 3; k++) CHECK_EQ_I64(ch[k], rows[k]);
    CHECK(same);
    CHECK_EQ_I64(ch_final_count(s, dsn), (long long)(rows[0] + rows[1] + rows[2]));
    CHECK(rows[0] + rows[2] > 10000);
}

static int run_verify(const char *tmp, const char *dsn, const char *date) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' verify.lua --date %s --dir '%s/raw' --dsn '%s' >> '%s/verify.log' 2>&1",
             shijim_bin, date, tmp, dsn, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The day file's date (the archive's name for it), for verify.lua. */
static int day_of(const char *tmp, char out[11]) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/raw/sim", tmp);
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *de;
    int found = -1;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n == 17 && strcmp(de->d_name + 10, ".shjraw") == 0) {
            memcpy(out, de->d_name, 10);
            out[10] = '\0';
            found = 0;
        }
    }
    closedir(d);
    return found;
}

static void case_kill9(chx_server *s, const char *tmp, const char *dsn) {
    fprintf(stderr, "--- (a) kill -9 with rows in memory ---\n");
    char fb[512], log[512];
    snprintf(fb, sizeof fb, "%s/fallback", tmp);
    snprintf(log, sizeof log, "%s/run1.log", tmp);
    pid_t pid = recorder(tmp, fb, dsn, "0", log, 0);
    chx_sleep_ms(3000);
    kill(pid, SIGKILL);
    CHECK_EQ_I64(wait_exit(pid), 128 + SIGKILL);
    uint64_t rows[3], ch[3];
    int same;
    CHECK(compare(tmp, NULL, rows, ch, &same) == 1);
    long long before = ch_final_count(s, dsn);
    fprintf(stderr, "after the kill: archive %llu rows, clickhouse %lld\n",
            (unsigned long long)(rows[0] + rows[1] + rows[2]), before);
    CHECK(before >= 0 && (uint64_t)before < rows[0] + rows[1] + rows[2]); /* the fault happened */

    snprintf(log, sizeof log, "%s/run2.log", tmp);
    pid = recorder(tmp, fb, dsn, "1", log, 0);
    CHECK_EQ_I64(wait_exit(pid), 0);
    CHECK(file_has(log, "replayed from the archive"));
    expect_equal(s, tmp, dsn, "after the restart");

    char date[11];
    CHECK_EQ_I64(day_of(tmp, date), 0);
    CHECK_EQ_I64(run_verify(tmp, dsn, date), 0);
    chx_body b = {0};
    CHECK_EQ_I64(chx_post(s, "ALTER TABLE rc.ticks DELETE WHERE seq = (SELECT min(seq) FROM rc.ticks)", NULL, 0, &b), 200);
    free(b.p);
    for (int i = 0; i < 50 && chx_scalar(s, "SELECT count() FROM system.mutations WHERE is_done = 0") > 0; i++)
        chx_sleep_ms(100);
    CHECK_EQ_I64(run_verify(tmp, dsn, date), 1);
    CHECK_EQ_I64(run_verify(tmp, dsn, "2026-13"), 2);
    char vlog[600];
    snprintf(vlog, sizeof vlog, "%s/verify.log", tmp);
    CHECK(file_has(vlog, "DIFFERS: tick: archive"));
    CHECK(!file_has(vlog, "traceback"));
}

static void case_full_fallback(chx_server *s, const char *tmp, const char *dsn) {
    fprintf(stderr, "--- (b) ClickHouse down and the fallback full ---\n");
    char fb[700], log[700], filler[800];
    snprintf(fb, sizeof fb, "%s/fbfull", tmp);
    mkdir(fb, 0755);
    long fsize = 0;
    int mounted = mount("tmpfs", fb, "tmpfs", 0, "size=1m") == 0;
    if (mounted) {
        snprintf(filler, sizeof filler, "%s/filler", fb);
        FILE *f = fopen(filler, "w");
        static char block[4096];
        while (f && fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0) {}
        if (f) fclose(f);
    } else {
        fprintf(stderr, "cannot mount a tmpfs here (%s): files limited by RLIMIT_FSIZE instead\n", strerror(errno));
        fsize = 16L << 20; /* the archive (~8 MB) stays below it; the fallback's JSONL (7x bigger) does not */
    }
    chx_kill9(s);
    snprintf(log, sizeof log, "%s/run3.log", tmp);
    pid_t pid = recorder(tmp, fb, dsn, "3", log, fsize);
    CHECK_EQ_I64(wait_exit(pid), 1);
    CHECK(file_has(log, "reached neither ClickHouse nor the fallback"));
    CHECK(file_has(log, "the next start with --clickhouse replays them"));
    if (mounted) CHECK_EQ_I64(umount2(fb, MNT_DETACH), 0);

    char err[600];
    CHECK_EQ_I64(chx_restart(s, err, sizeof err), 0);
    snprintf(log, sizeof log, "%s/run4.log", tmp);
    char fb2[700];
    snprintf(fb2, sizeof fb2, "%s/fallback", tmp);
    pid = recorder(tmp, fb2, dsn, "1", log, 0);
    CHECK_EQ_I64(wait_exit(pid), 0);
    CHECK(file_has(log, "replayed from the archive"));
    expect_equal(s, tmp, dsn, "after the restart with ClickHouse up");
}

int main(void) {
    const char *bd = getenv("SHJ_BUILD_DIR");
    snprintf(shijim_bin, sizeof shijim_bin, "%s/shijim", bd ? bd : "build");
    chx_server s;
    char err[600], tmp[] = "/tmp/shj_chrc_XXXXXX", dsn[128];
    if (chx_start(&s, err, sizeof err) != 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    snprintf(dsn, sizeof dsn, "clickhouse://127.0.0.1:%d/rc", s.http_port);
    case_kill9(&s, tmp, dsn);
    /* (b) records into its own archive and database: sequences start at 1 again */
    char tmp_b[100], dsn_b[128];
    snprintf(tmp_b, sizeof tmp_b, "%s/b", tmp);
    mkdir(tmp_b, 0755);
    snprintf(dsn_b, sizeof dsn_b, "clickhouse://127.0.0.1:%d/rc2", s.http_port);
    case_full_fallback(&s, tmp_b, dsn_b);
    chx_stop(&s);
    if (!t_failed) chx_rm_rf(tmp);
    T_DONE();
}
