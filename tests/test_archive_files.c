/* test_archive_files.c — what the raw archive leaves on disk besides records.
 *
 * Issue 11, fault 8: day files were world-readable (0644), and a create that
 * failed on a full disk left a 0-byte ".shjraw.tmp" behind. Here: new files
 * get mode 0640 by default and arc_opts.file_mode when given; a create that
 * fails part-way (the file-size limit makes the header write fail, as a full
 * disk would) names the file and leaves no temp file.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "core/clock.h"
#include "t.h"

static int count_suffix(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name), s = strlen(suffix);
        n += l >= s && strcmp(de->d_name + l - s, suffix) == 0;
    }
    if (d) closedir(d);
    return n;
}

static int mode_of_day_file(const char *srcdir) {
    DIR *d = opendir(srcdir);
    struct dirent *de;
    int mode = -1;
    while (d && (de = readdir(d))) {
        if (!strstr(de->d_name, ".shjraw") || strstr(de->d_name, ".tmp")) continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", srcdir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0) mode = (int)(st.st_mode & 07777);
    }
    if (d) closedir(d);
    return mode;
}

int main(void) {
    umask(022);
    shj_log_set_level(SHJ_LOG_ERROR);
    char root[] = "/tmp/shj_arcfiles_XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char buf[700], dir[4200];
    int64_t t0 = clk_now_ns();

    arc_opts o = {.dir = root, .source = "modes", .fsync_ms = -1};
    CHECK_EQ_I64(arc_test_write(&o, 1, 100, arc_test_payload, t0, buf), SHJ_OK);
    snprintf(dir, sizeof dir, "%s/modes", root);
    CHECK_EQ_I64(mode_of_day_file(dir), 0640);

    arc_opts o2 = {.dir = root, .source = "private", .fsync_ms = -1, .file_mode = 0600};
    CHECK_EQ_I64(arc_test_write(&o2, 1, 100, arc_test_payload, t0, buf), SHJ_OK);
    snprintf(dir, sizeof dir, "%s/private", root);
    CHECK_EQ_I64(mode_of_day_file(dir), 0600);

    /* A create that fails: files may grow to 64 bytes only, so the 128-byte
     * header write fails (EFBIG) after the temp file exists. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, small = {64, 64};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    char err[1024];
    arc_opts o3 = {.dir = root, .source = "full", .fsync_ms = -1};
    arc_writer *w = arc_open(&o3, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
        uint8_t tag;
        uint32_t len = arc_test_payload(1, buf, &tag);
        arc_test_append(w, tag, buf, len, t0, 1);
        CHECK_EQ_I64(arc_flush(w, err, sizeof err), SHJ_ERR);
        CHECK(strstr(err, "create") != NULL && strstr(err, ".shjraw") != NULL);
        arc_close(w, err, sizeof err);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    snprintf(dir, sizeof dir, "%s/full", root);
    CHECK_EQ_I64(count_suffix(dir, ".tmp"), 0);
    CHECK_EQ_I64(count_suffix(dir, ".shjraw"), 0);

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK(system(cmd) == 0);
    T_DONE();
}
