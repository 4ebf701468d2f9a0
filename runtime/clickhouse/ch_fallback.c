/* ch_fallback.c — fsynced JSONL append of rows ClickHouse did not take
 * (see ch_fallback.h for the durability and locking contract).
 *
 * DESIGN. Every append opens the file by path, locks it, writes, fsyncs and
 * closes it again. Keeping the descriptor open would be faster, but the
 * fallback is the rare path, and reopening by path is what makes restore's
 * "move the file away under the lock" safe: a moved file is never appended
 * to again.
 */
#include "clickhouse/ch_fallback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickhouse/ch_rowbinary.h"
#include "core/clock.h"
#include "core/event_json.h"
#include "core/shj_common.h"

#define CHF_MAX_GROUPS 4 /* distinct dates buffered per call before writing */

struct chf_dir {
    char dir[1024];
    int made[CHS_NTABLES];      /* sub-directory known to exist */
    chf_stats stats;
    /* test fault: set from the loop thread while the writer's fallback
     * thread appends, hence atomics */
    int fault_errno;
    uint64_t fault_budget;
};

void chf_date(int64_t ts_ns, char out[11]) { clk_taipei_date(ts_ns, out); }

static int mkdir_p(const char *path, char *err, size_t errlen) {
    char tmp[1024];
    if (shj_strlcpy(tmp, path, sizeof tmp) >= sizeof tmp)
        return shj_fail(err, errlen, "fallback dir path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return shj_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return shj_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return shj_fail(err, errlen, "%s is not a directory", tmp);
    return SHJ_OK;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

chf_dir *chf_open(const char *dir, char *err, size_t errlen) {
    if (!dir || !*dir) {
        shj_fail(err, errlen, "fallback_dir is required (rows ClickHouse cannot take go there)");
        return NULL;
    }
    if (mkdir_p(dir, err, errlen) != SHJ_OK) return NULL;
    if (access(dir, W_OK | X_OK) != 0) {
        shj_fail(err, errlen, "fallback dir %s is not writable: %s", dir, strerror(errno));
        return NULL;
    }
    chf_dir *f = calloc(1, sizeof *f);
    if (!f) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    shj_strlcpy(f->dir, dir, sizeof f->dir);
    return f;
}

void chf_close(chf_dir *f) {
    free(f);
}

const char *chf_path(const chf_dir *f) { return f->dir; }

void chf_get_stats(const chf_dir *f, chf_stats *out) { *out = f->stats; }

void chf_set_fault(chf_dir *f, int err_no, uint64_t byte_budget) {
    __atomic_store_n(&f->fault_budget, byte_budget, __ATOMIC_RELAXED);
    __atomic_store_n(&f->fault_errno, err_no, __ATOMIC_RELEASE);
}

/* write() that honours the test fault: a full disk accepts part of a write. */
static ssize_t fb_write(chf_dir *f, int fd, const void *p, size_t n) {
    int fault = __atomic_load_n(&f->fault_errno, __ATOMIC_ACQUIRE);
    if (fault) {
        uint64_t budget = __atomic_load_n(&f->fault_budget, __ATOMIC_RELAXED);
        if (budget == 0) {
            errno = fault;
            return -1;
        }
        if (n > budget) n = (size_t)budget;
        ssize_t w = write(fd, p, n);
        if (w > 0) __atomic_store_n(&f->fault_budget, budget - (uint64_t)w, __ATOMIC_RELAXED);
        return w;
    }
    return write(fd, p, n);
}

static int write_all(chf_dir *f, int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = fb_write(f, fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Append data (n_rows whole lines) to <dir>/<table>/<date>[.k].jsonl. */
static int append_file(chf_dir *f, chs_table t, const char *date, const uint8_t *data, size_t len,
                       size_t n_rows, char *err, size_t errlen) {
    char sub[1100], path[1200];
    snprintf(sub, sizeof sub, "%s/%s", f->dir, chs_table_name(t));
    if (!f->made[t]) {
        if (mkdir_p(sub, err, errlen) != SHJ_OK) goto fail;
        fsync_dir(f->dir);
        f->made[t] = 1;
    }
    for (int k = 0; k < 1000; k++) {
        if (k == 0)
            snprintf(path, sizeof path, "%s/%s.jsonl", sub, date);
        else
            snprintf(path, sizeof path, "%s/%s.%d.jsonl", sub, date, k);
        struct stat before;
        int existed = stat(path, &before) == 0;
        int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644); /* read: the torn-tail check */
        if (fd < 0) {
            shj_fail(err, errlen, "fallback: cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd); /* restore is replaying this file: use the next name */
            continue;
        }
        struct stat st, now;
        if (fstat(fd, &st) != 0 || stat(path, &now) != 0 || st.st_ino != now.st_ino ||
            st.st_dev != now.st_dev || st.st_nlink == 0) {
            close(fd); /* moved away (restore archived it) between open and lock */
            k--;
            continue;
        }
        off_t start = st.st_size;
        int rc = 0;
        /* a torn last line (a crash mid-append) must not swallow our first one */
        if (start > 0) {
            char last = '\n';
            if (pread(fd, &last, 1, start - 1) == 1 && last != '\n') rc = write_all(f, fd, (const uint8_t *)"\n", 1);
        }
        if (rc == 0) rc = write_all(f, fd, data, len);
        if (rc == 0) rc = fsync(fd);
        if (rc != 0) {
            int e = errno;
            /* Cut our partial write off so the file holds only whole lines.
             * The caller keeps the rows and will try again. */
            if (ftruncate(fd, start) == 0) fsync(fd);
            close(fd);
            shj_fail(err, errlen, "fallback: cannot append %zu rows to %s: %s", n_rows, path, strerror(e));
            goto fail;
        }
        close(fd);
        if (!existed) fsync_dir(sub);
        f->stats.appends++;
        f->stats.rows += n_rows;
        f->stats.bytes += len;
        shj_log(SHJ_LOG_WARN, "fallback file %s appended %zu rows", path, n_rows);
        return SHJ_OK;
    }
    shj_fail(err, errlen, "fallback: every name for %s/%s is locked", sub, date);
fail:
    f->stats.failures++;
    return SHJ_ERR;
}

typedef struct group {
    int64_t day;
    size_t rows;
    chb_buf text;
} group;

typedef struct appender {
    chf_dir *f;
    chs_table t;
    group g[CHF_MAX_GROUPS];
    int ng;
    int failed;
    char *err;
    size_t errlen;
} appender;

static int flush_group(appender *a, group *g) {
    if (!g->rows) return SHJ_OK;
    char date[11];
    chf_date(clk_taipei_day_start(g->day), date);
    int rc = append_file(a->f, a->t, date, g->text.data, g->text.len, g->rows, a->err, a->errlen);
    g->rows = 0;
    g->text.len = 0;
    return rc;
}

static int add_event(appender *a, const shj_event *ev) {
    /* Files are named by trading day, like the archive's day files and the
     * trading_day column (restore recomputes that column from ts). */
    int64_t day = chb_trading_day(ev->ts_exch_ns);
    group *g = NULL;
    for (int i = 0; i < a->ng; i++)
        if (a->g[i].day == day) g = &a->g[i];
    if (!g) {
        if (a->ng == CHF_MAX_GROUPS) { /* unusual: many dates in one batch */
            for (int i = 0; i < a->ng; i++)
                if (flush_group(a, &a->g[i]) != SHJ_OK) return SHJ_ERR;
            a->ng = 0;
        }
        g = &a->g[a->ng++];
        g->day = day;
        g->rows = 0;
        g->text.len = 0;
    }
    if (chb_reserve(&g->text, EVJ_MAX + 1) != SHJ_OK) return shj_fail(a->err, a->errlen, "fallback: out of memory");
    size_t n = evj_format(ev, (char *)g->text.data + g->text.len, EVJ_MAX);
    if (n == 0) return shj_fail(a->err, a->errlen, "fallback: event did not format");
    g->text.len += n;
    g->text.data[g->text.len++] = '\n';
    g->rows++;
    return SHJ_OK;
}

static int finish(appender *a, int rc) {
    for (int i = 0; i < a->ng; i++) {
        if (rc == SHJ_OK) rc = flush_group(a, &a->g[i]);
    }
    for (int i = 0; i < CHF_MAX_GROUPS; i++) chb_free(&a->g[i].text);
    return rc;
}

int chf_append_events(chf_dir *f, const shj_event *evs, size_t n, char *err, size_t errlen) {
    int rc = SHJ_OK;
    for (int t = 0; t < CHS_NTABLES && rc == SHJ_OK; t++) {
        appender a = {.f = f, .t = (chs_table)t, .err = err, .errlen = errlen};
        for (size_t i = 0; i < n && rc == SHJ_OK; i++)
            if (chs_table_for_kind(evs[i].kind) == t) rc = add_event(&a, &evs[i]);
        rc = finish(&a, rc);
    }
    return rc;
}

int chf_append_rowbinary(chf_dir *f, chs_table t, const uint8_t *rows, size_t len, size_t n_rows,
                         char *err, size_t errlen) {
    appender a = {.f = f, .t = t, .err = err, .errlen = errlen};
    int rc = SHJ_OK;
    size_t off = 0, done = 0;
    shj_event ev;
    while (off < len && rc == SHJ_OK) {
        size_t used = 0;
        if (chb_decode(t, rows + off, len - off, &used, &ev) != SHJ_OK) {
            rc = shj_fail(err, errlen, "fallback: batch row %zu does not decode (bug)", done);
            break;
        }
        off += used;
        done++;
        rc = add_event(&a, &ev);
    }
    if (rc == SHJ_OK && done != n_rows)
        rc = shj_fail(err, errlen, "fallback: batch holds %zu rows, expected %zu (bug)", done, n_rows);
    return finish(&a, rc);
}
