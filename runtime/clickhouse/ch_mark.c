/* ch_mark.c — the ClickHouse watermark file (see ch_mark.h). */
#include "clickhouse/ch_mark.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/shj_common.h"

#define EXT_ARCHIVE ".shjraw"
#define EXT_MARK ".chmark"

int chm_path_for(const char *archive_path, char *out, size_t cap) {
    size_t n = strlen(archive_path), e = sizeof EXT_ARCHIVE - 1;
    if (n < e || strcmp(archive_path + n - e, EXT_ARCHIVE) != 0) return SHJ_ERR;
    if (n - e + sizeof EXT_MARK > cap) return SHJ_ERR;
    memcpy(out, archive_path, n - e);
    memcpy(out + n - e, EXT_MARK, sizeof EXT_MARK);
    return SHJ_OK;
}

/* ---- ranges ------------------------------------------------------------- */

static void remove_at(chm_mark *m, size_t i) {
    memmove(&m->unsaved[i], &m->unsaved[i + 1], (m->n - i - 1) * sizeof m->unsaved[0]);
    m->n--;
}

/* Merge overlapping or adjacent neighbours around a sorted array. */
static void normalize(chm_mark *m) {
    for (size_t i = 0; i + 1 < m->n;) {
        chm_range *a = &m->unsaved[i], *b = &m->unsaved[i + 1];
        if (a->to == UINT64_MAX || b->from <= a->to + 1) {
            if (b->to > a->to) a->to = b->to;
            remove_at(m, i + 1);
        } else {
            i++;
        }
    }
}

void chm_add(chm_mark *m, uint64_t from, uint64_t to) {
    if (from > to) return;
    if (m->n == CHM_MAX_RANGES) {
        /* full: join the two neighbours with the smallest gap (a superset
         * replays a few records again; the table key collapses them) */
        size_t best = 0;
        uint64_t gap = UINT64_MAX;
        for (size_t i = 0; i + 1 < m->n; i++) {
            uint64_t g = m->unsaved[i + 1].from - m->unsaved[i].to;
            if (g < gap) gap = g, best = i;
        }
        m->unsaved[best].to = m->unsaved[best + 1].to;
        remove_at(m, best + 1);
    }
    size_t i = 0;
    while (i < m->n && m->unsaved[i].from < from) i++;
    memmove(&m->unsaved[i + 1], &m->unsaved[i], (m->n - i) * sizeof m->unsaved[0]);
    m->unsaved[i].from = from;
    m->unsaved[i].to = to;
    m->n++;
    normalize(m);
}

void chm_add_all(chm_mark *m, const chm_mark *src) {
    for (size_t i = 0; i < src->n; i++) chm_add(m, src->unsaved[i].from, src->unsaved[i].to);
}

int chm_unsaved(const chm_mark *m, uint64_t seq) {
    for (size_t i = 0; i < m->n; i++) {
        if (seq < m->unsaved[i].from) return 0;
        if (seq <= m->unsaved[i].to) return 1;
    }
    return 0;
}

uint64_t chm_unsaved_count(const chm_mark *m) {
    uint64_t n = 0;
    for (size_t i = 0; i < m->n; i++) n += m->unsaved[i].to - m->unsaved[i].from + 1;
    return n;
}

const char *chm_ranges_text(const chm_mark *m, char *out, size_t cap) {
    size_t used = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < m->n && cap; i++) {
        int k = snprintf(out + used, cap - used, "%s%" PRIu64 "-%" PRIu64, i ? "," : "", m->unsaved[i].from,
                         m->unsaved[i].to);
        if (k < 0 || (size_t)k >= cap - used) {
            if (cap > 4) memcpy(out + cap - 4, "...", 4);
            break;
        }
        used += (size_t)k;
    }
    return out;
}

/* ---- file --------------------------------------------------------------- */

int chm_load(const char *path, chm_mark *m, int *exists, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    *exists = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return SHJ_OK;
        return shj_fail(err, errlen, "clickhouse watermark %s: %s", path, strerror(errno));
    }
    char line[128];
    int lineno = 0, rc = SHJ_OK;
    while (rc == SHJ_OK && fgets(line, sizeof line, f)) {
        lineno++;
        uint64_t a, b;
        char extra;
        if (lineno == 1) {
            if (strcmp(line, "shijim-chmark 1\n") != 0)
                rc = shj_fail(err, errlen, "clickhouse watermark %s:1: not a shijim-chmark 1 file", path);
        } else if (sscanf(line, "acked %" SCNu64 " %c", &a, &extra) == 1) {
            m->acked = a;
        } else if (sscanf(line, "file %" SCNu64 " %" SCNu64 " %c", &a, &b, &extra) == 2 && a <= b) {
            m->file_first = a;
            m->file_last = b;
        } else if (sscanf(line, "unsaved %" SCNu64 " %" SCNu64 " %c", &a, &b, &extra) == 2 && a <= b) {
            chm_add(m, a, b);
        } else {
            rc = shj_fail(err, errlen, "clickhouse watermark %s:%d: unexpected line '%.60s'", path, lineno, line);
        }
    }
    if (rc == SHJ_OK && lineno == 0) rc = shj_fail(err, errlen, "clickhouse watermark %s: empty file", path);
    fclose(f);
    if (rc == SHJ_OK) *exists = 1;
    return rc;
}

static void fsync_dir_of(const char *path) {
    char dir[4096];
    shj_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int fd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int chm_save(const char *path, const chm_mark *m, char *err, size_t errlen) {
    char tmp[4200], text[128 + CHM_MAX_RANGES * 48];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(text, sizeof text, "shijim-chmark 1\nacked %" PRIu64 "\n", m->acked);
    if (m->file_last)
        n += snprintf(text + n, sizeof text - (size_t)n, "file %" PRIu64 " %" PRIu64 "\n", m->file_first,
                      m->file_last);
    for (size_t i = 0; i < m->n; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "unsaved %" PRIu64 " %" PRIu64 "\n", m->unsaved[i].from,
                      m->unsaved[i].to);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return shj_fail(err, errlen, "clickhouse watermark %s: %s", tmp, strerror(errno));
    ssize_t w = write(fd, text, (size_t)n);
    int e = w == n ? 0 : (w < 0 ? errno : ENOSPC);
    if (!e && fsync(fd) != 0) e = errno;
    close(fd);
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        return shj_fail(err, errlen, "clickhouse watermark %s: %s", path, strerror(e));
    }
    fsync_dir_of(path);
    return SHJ_OK;
}
