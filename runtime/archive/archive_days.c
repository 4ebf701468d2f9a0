/* archive_days.c — `shijim days`: list recorded days (see archive_days.h).
 *
 * Reads every record of every file (the reader verifies each block's
 * checksum, so "ok" means every byte was checked) and parses the payloads
 * for their exchange times with a private parser memo (no shared state).
 */
#include "archive/archive_days.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "parse/parse.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_day_file(const char *n) {
    int y, m, d;
    char date[11];
    if (strlen(n) != 17 || strcmp(n + 10, ".shjraw") != 0) return 0;
    memcpy(date, n, 10);
    date[10] = '\0';
    return clk_parse_date(date, &y, &m, &d) == 0;
}

/* Sorted names in path matching keep (NULL: sub-directories); *n set. */
static char **names_in(const char *path, int want_dirs, size_t *n) {
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return NULL;
    size_t cap = 0;
    char **v = NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && is_day_file(de->d_name))) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        if (!(v[*n] = strdup(de->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void human(uint64_t b, char *out, size_t cap) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)b;
    int i = 0;
    while (x >= 1024 && i < 4) x /= 1024, i++;
    if (i == 0) snprintf(out, cap, "%llu B", (unsigned long long)b);
    else snprintf(out, cap, "%.1f %s", x, u[i]);
}

/* One file's line; returns 1 when it is torn or damaged. */
static int one_file(const char *source, const char *path, const char *name, int mode, FILE *out,
                    uint64_t *bytes) {
    char err[512], first[CLK_TEXT_MAX] = "-", last[CLK_TEXT_MAX] = "-", size[32];
    struct stat st;
    *bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    human(*bytes, size, sizeof size);
    arc_reader *r = arc_reader_open(path, err, sizeof err);
    if (!r) {
        fprintf(out, "%-10s %.10s %12s %-26s %-26s %-8s %10s  %s\n", source, name, "-", "-", "-",
                "damaged", size, err);
        return 1;
    }
    static psr_memo memo; /* the command's own thread only */
    uint64_t records = 0, ranges = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    arc_record rec;
    shj_event ev;
    const char *status = "ok";
    char detail[400] = "";
    for (;;) {
        int rc = arc_reader_next(r, &rec);
        if (rc == 1) {
            records++;
            char perr[160];
            if (psr_parse_payload(&memo, rec.tag, rec.data, rec.len, &ev, perr, sizeof perr) == PSR_EVENT &&
                ev.ts_exch_ns) {
                if (ev.ts_exch_ns < lo) lo = ev.ts_exch_ns;
                if (ev.ts_exch_ns > hi) hi = ev.ts_exch_ns;
            }
            continue;
        }
        if (rc == 0) break;
        if (arc_reader_cut_short(r)) {
            status = arc_file_being_written(path) ? "growing" : "torn";
            if (strcmp(status, "torn") == 0) shj_strlcpy(detail, arc_reader_error(r), sizeof detail);
            break;
        }
        status = "damaged";
        if (!detail[0]) shj_strlcpy(detail, arc_reader_error(r), sizeof detail);
        uint64_t from, to;
        if (!(mode & ARCDAYS_CHECK) || arc_reader_resync(r, &from, &to) != SHJ_OK) break;
        ranges++;
    }
    arc_reader_close(r);
    if (lo <= hi) {
        clk_taipei_text(lo, first);
        clk_taipei_text(hi, last);
    }
    if (ranges) {
        char more[64];
        snprintf(more, sizeof more, " (%llu damaged ranges passed over)", (unsigned long long)ranges);
        strncat(detail, more, sizeof detail - strlen(detail) - 1);
    }
    fprintf(out, "%-10s %.10s %12llu %-26s %-26s %-8s %10s%s%s\n", source, name,
            (unsigned long long)records, first, last, status, size, detail[0] ? "  " : "", detail);
    return strcmp(status, "torn") == 0 || strcmp(status, "damaged") == 0;
}

int arcdays_list(const char *dir, int mode, FILE *out) {
    size_t ns;
    char **sources = names_in(dir, 1, &ns);
    if (!sources && ns == 0) {
        DIR *d = opendir(dir);
        if (!d) {
            fprintf(stderr, "shijim days: cannot open %s: %s\n", dir, strerror(errno));
            return 1;
        }
        closedir(d);
    }
    fprintf(out, "%-10s %-10s %12s %-26s %-26s %-8s %10s\n", "source", "day", "records",
            "first exchange time", "last exchange time", "status", "size");
    int bad = 0, any = 0;
    uint64_t total = 0;
    for (size_t s = 0; s < ns; s++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, sources[s]);
        size_t nf;
        char **files = names_in(sub, 0, &nf);
        uint64_t src_total = 0;
        for (size_t f = 0; f < nf; f++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files[f]);
            uint64_t b;
            bad |= one_file(sources[s], path, files[f], mode, out, &b);
            src_total += b;
            any = 1;
        }
        if ((mode & ARCDAYS_DU) && nf) {
            char h[32];
            human(src_total, h, sizeof h);
            fprintf(out, "%-10s %-10s %12zu %-26s %-26s %-8s %10s\n", sources[s], "total", nf, "days",
                    "", "", h);
        }
        total += src_total;
        free_names(files, nf);
    }
    free_names(sources, ns);
    if (mode & ARCDAYS_DU) {
        char h[32];
        human(total, h, sizeof h);
        fprintf(out, "%-10s %-10s %12s %-26s %-26s %-8s %10s\n", "all", "total", "", "", "", "", h);
    }
    if (!any) fprintf(stderr, "shijim days: no day files (<source>/YYYY-MM-DD.shjraw) under %s\n", dir);
    return bad || !any;
}
