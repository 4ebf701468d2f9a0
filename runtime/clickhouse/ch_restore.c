/* ch_restore.c — fallback files back into ClickHouse (see ch_restore.h).
 *
 * Reading is line by line with getline (lines are ~600 bytes; a line over
 * CHR_LINE_MAX is rejected, not loaded). Each line is parsed by
 * chj_parse_line (exact, validated); the batch keeps the parsed events and
 * the original text so that a Lua client can be handed either.
 */
#include "clickhouse/ch_restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clickhouse/ch_dsn.h"
#include "clickhouse/ch_http.h"
#include "clickhouse/ch_jsonl.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "core/shj_event.h"

#define CHR_LINE_MAX (1u << 20)

_Static_assert(CHR_SEED_SOURCE_ID == CHJ_SEED_SOURCE_ID, "one seed source id for Lua and C");
#define CHR_REASON_MAX 240

typedef struct chr_reject {
    uint64_t line;
    char reason[CHR_REASON_MAX];
} chr_reject;

struct chr_file {
    char path[1024];
    char rej_path[1100];
    FILE *fp;
    FILE *rej;
    int mode;
    uint64_t line_no;
    int eof;
    chr_counts counts;
    /* current batch */
    shj_event *evs;
    uint64_t *line_nos;
    size_t *text_off;
    size_t *text_len;
    chb_buf text;
    int n, cap;
    chr_reject *rejs;
    int nrej, rejcap;
    char *line;
    size_t linecap;
    int rej_failed;
    char rej_err[200];
    int64_t seed_shift_ns;
};

struct chr_client {
    chd_dsn dsn;
    chh_sync *s;
    char version[32];
    chs_features feats;
    char insert_sql[CHS_NTABLES][1024];
    int scale_checked; /* the tables' decimal scale was checked (before the first insert) */
};

/* snprintf that -Wformat-truncation leaves alone: truncation is intended
 * wherever this is used (messages into fixed buffers). */
static void fmt_text(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_text(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* ---- listing ------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int names_add(names *ns, const char *prefix, const char *name) {
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v) return -1;
        ns->v = v;
        ns->cap = cap;
    }
    size_t len = strlen(prefix) + strlen(name) + 2;
    char *s = malloc(len);
    if (!s) return -1;
    snprintf(s, len, "%s%s%s", prefix, prefix[0] ? "/" : "", name);
    ns->v[ns->n++] = s;
    return 0;
}

/* Sorted, "\n"-terminated into out[cap]; frees ns. The count, or -1. */
static int names_join(names *ns, int rc, const char *dir, char *out, size_t cap, char *err, size_t errlen) {
    int result;
    if (rc != 0) {
        result = shj_fail(err, errlen, "listing %s: %s", dir, strerror(errno));
    } else {
        if (ns->n) qsort(ns->v, ns->n, sizeof *ns->v, cmp_str);
        size_t o = 0;
        result = (int)ns->n;
        if (cap) out[0] = '\0';
        for (size_t i = 0; i < ns->n; i++) {
            size_t len = strlen(ns->v[i]);
            if (o + len + 2 > cap) {
                result = shj_fail(err, errlen, "listing %s: too many entries for the buffer", dir);
                break;
            }
            memcpy(out + o, ns->v[i], len);
            o += len;
            out[o++] = '\n';
            out[o] = '\0';
        }
    }
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i]);
    free(ns->v);
    return result;
}

/* The sub-directories chr_list reads: Shijim's tables, and the Python
 * shijim's books/ (its ticks/ shares Shijim's name). */
#define N_KNOWN_DIRS (CHS_NTABLES + 1)
static const char *known_dir(int i) { return i < CHS_NTABLES ? chs_table_name((chs_table)i) : "books"; }

static int scan_dir(const char *dir, const char *prefix, names *ns) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (!ends_with(de->d_name, ".jsonl") || ends_with(de->d_name, ".rejected.jsonl")) continue;
        char full[2048];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (names_add(ns, prefix, de->d_name) != 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

int chr_list(const char *dir, char *out, size_t cap, char *err, size_t errlen) {
    struct stat st;
    if (!dir || !*dir) return shj_fail(err, errlen, "no fallback dir given");
    if (stat(dir, &st) != 0) return shj_fail(err, errlen, "fallback dir %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return shj_fail(err, errlen, "fallback dir %s is not a directory", dir);
    names ns = {0};
    int rc = scan_dir(dir, "", &ns);
    for (int t = 0; rc == 0 && t < N_KNOWN_DIRS; t++) {
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/%s", dir, known_dir(t));
        rc = scan_dir(sub, known_dir(t), &ns);
    }
    return names_join(&ns, rc, dir, out, cap, err, errlen);
}

/* Regular files under dir, recursively (symlinks not followed; depth-bounded). */
static long count_files(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char full[2048];
        struct stat st;
        fmt_text(full, sizeof full, "%s/%s", dir, de->d_name);
        if (lstat(full, &st) != 0) continue;
        if (S_ISREG(st.st_mode)) n++;
        else if (S_ISDIR(st.st_mode) && depth < 16) n += count_files(full, depth + 1);
    }
    closedir(d);
    return n;
}

/* Sub-directories of dir (prefix: how dir is named to the user) that are
 * not in skip[0..nskip), as "prefix/name/<TAB>files" entries. */
static int unknown_dirs(const char *dir, const char *prefix, const char *const *skip, int nskip, names *ns) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        int known = 0;
        for (int i = 0; i < nskip; i++) known |= !strcmp(de->d_name, skip[i]);
        char full[2048], entry[600];
        struct stat st;
        fmt_text(full, sizeof full, "%s/%s", dir, de->d_name);
        if (known || stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        fmt_text(entry, sizeof entry, "%s/\t%ld", de->d_name, count_files(full, 0));
        rc = names_add(ns, prefix, entry);
    }
    closedir(d);
    return rc;
}

int chr_list_unknown(const char *dir, char *out, size_t cap, char *err, size_t errlen) {
    const char *known[N_KNOWN_DIRS];
    for (int t = 0; t < N_KNOWN_DIRS; t++) known[t] = known_dir(t);
    names ns = {0};
    int rc = unknown_dirs(dir, "", known, N_KNOWN_DIRS, &ns);
    for (int t = 0; rc == 0 && t < N_KNOWN_DIRS; t++) {
        char sub[1100];
        fmt_text(sub, sizeof sub, "%s/%s", dir, known[t]);
        rc = unknown_dirs(sub, known[t], NULL, 0, &ns);
    }
    return names_join(&ns, rc, dir, out, cap, err, errlen);
}

/* ---- files -------------------------------------------------------------- */

chr_file *chr_open(const char *path, int mode, char *err, size_t errlen) {
    chr_file *f = calloc(1, sizeof *f);
    if (!f) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    f->mode = mode;
    f->seed_shift_ns = CHJ_SEED_SHIFT_NS;
    shj_strlcpy(f->path, path, sizeof f->path);
    size_t n = strlen(path);
    if (ends_with(path, ".jsonl")) n -= 6;
    snprintf(f->rej_path, sizeof f->rej_path, "%.*s.rejected.jsonl", (int)n, path);
    f->fp = fopen(path, "r");
    if (!f->fp) {
        shj_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
        free(f);
        return NULL;
    }
    int fd = fileno(f->fp);
    if (flock(fd, mode == CHR_APPLY ? LOCK_EX : LOCK_SH) != 0) {
        shj_fail(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st, now;
    if (fstat(fd, &st) != 0 || stat(path, &now) != 0 || st.st_ino != now.st_ino || st.st_nlink == 0) {
        shj_fail(err, errlen, "%s was moved away while waiting for its lock (another restore?)", path);
        goto fail;
    }
    f->counts.file_bytes = (uint64_t)st.st_size;
    /* a rejected file from an earlier run describes that run: start afresh */
    if (mode == CHR_APPLY) unlink(f->rej_path);
    return f;
fail:
    fclose(f->fp);
    free(f);
    return NULL;
}

void chr_set_seed_offset_h(chr_file *f, int hours) { f->seed_shift_ns = (int64_t)hours * 3600 * CLK_NS_PER_SEC; }

static void json_str(FILE *o, const char *s, size_t n) {
    fputc('"', o);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') fprintf(o, "\\%c", ch);
        else if (ch < 0x20) fprintf(o, "\\u%04x", ch);
        else fputc(ch, o);
    }
    fputc('"', o);
}

static void reject(chr_file *f, const char *text, size_t len, const char *reason) {
    f->counts.rejected++;
    if (f->nrej == f->rejcap) {
        int cap = f->rejcap ? f->rejcap * 2 : 16;
        chr_reject *r = realloc(f->rejs, (size_t)cap * sizeof *r);
        if (r) {
            f->rejs = r;
            f->rejcap = cap;
        }
    }
    if (f->nrej < f->rejcap) {
        f->rejs[f->nrej].line = f->line_no;
        shj_strlcpy(f->rejs[f->nrej].reason, reason, CHR_REASON_MAX);
        f->nrej++;
    }
    if (f->mode != CHR_APPLY || f->rej_failed) return;
    if (!f->rej && !(f->rej = fopen(f->rej_path, "a"))) {
        f->rej_failed = 1;
        fmt_text(f->rej_err, sizeof f->rej_err, "cannot write %s: %s", f->rej_path, strerror(errno));
        return;
    }
    fputs("{\"file\":", f->rej);
    json_str(f->rej, f->path, strlen(f->path));
    fprintf(f->rej, ",\"line\":%llu,\"reason\":", (unsigned long long)f->line_no);
    json_str(f->rej, reason, strlen(reason));
    fputs(",\"text\":", f->rej);
    json_str(f->rej, text, len > CHR_LINE_MAX ? CHR_LINE_MAX : len);
    fputs("}\n", f->rej);
}

static int batch_reserve(chr_file *f, int want) {
    if (want <= f->cap) return SHJ_OK;
    int cap = want;
    shj_event *e = realloc(f->evs, (size_t)cap * sizeof *e);
    if (e) f->evs = e;
    uint64_t *l = realloc(f->line_nos, (size_t)cap * sizeof *l);
    if (l) f->line_nos = l;
    size_t *o = realloc(f->text_off, (size_t)cap * sizeof *o);
    if (o) f->text_off = o;
    size_t *n = realloc(f->text_len, (size_t)cap * sizeof *n);
    if (n) f->text_len = n;
    if (!e || !l || !o || !n) return SHJ_ERR;
    f->cap = cap;
    return SHJ_OK;
}

int chr_next_batch(chr_file *f, int max_rows, char *err, size_t errlen) {
    if (max_rows <= 0) max_rows = 10000;
    f->n = 0;
    f->nrej = 0;
    f->text.len = 0;
    if (batch_reserve(f, max_rows) != SHJ_OK) return shj_fail(err, errlen, "out of memory for a batch of %d rows", max_rows);
    char why[CHR_REASON_MAX];
    while (f->n < max_rows && !f->eof) {
        errno = 0;
        ssize_t got = getline(&f->line, &f->linecap, f->fp);
        if (got < 0) {
            if (ferror(f->fp)) return shj_fail(err, errlen, "reading %s: %s", f->path, strerror(errno));
            f->eof = 1;
            break;
        }
        f->line_no++;
        f->counts.lines++;
        f->counts.bytes_read += (uint64_t)got;
        size_t len = (size_t)got;
        int had_nl = len > 0 && f->line[len - 1] == '\n';
        if (had_nl) len--;
        if (len > 0 && f->line[len - 1] == '\r') len--;
        if (len == 0) {
            f->counts.lines--; /* blank separator, not a row */
            continue;
        }
        if (len > CHR_LINE_MAX) {
            reject(f, f->line, 200, "line longer than 1 MiB");
            continue;
        }
        shj_event *ev = &f->evs[f->n];
        chj_opts jo = {f->seed_shift_ns, f->line_no};
        chj_info info;
        if (chj_parse_line_ex(f->line, len, &jo, ev, &info, why, sizeof why) != SHJ_OK) {
            char reason[CHR_REASON_MAX];
            if (!had_nl) fmt_text(reason, sizeof reason, "truncated last line (no newline at end of file): %s", why);
            else shj_strlcpy(reason, why, sizeof reason);
            reject(f, f->line, len, reason);
            if (!had_nl) { /* a torn tail, not bad data: quarantined, counted apart */
                f->counts.rejected--;
                f->counts.torn_tail++;
            }
            continue;
        }
        if (chb_append(&f->text, f->line, len) != SHJ_OK) return shj_fail(err, errlen, "out of memory");
        f->text_off[f->n] = f->text.len - len;
        f->text_len[f->n] = len;
        f->line_nos[f->n] = f->line_no;
        f->n++;
        if (info.format == CHJ_FORMAT_SEED) f->counts.rows_seed++;
        f->counts.rounded += (uint64_t)info.rounded;
        if (chs_table_for_kind(ev->kind) == CHS_TICKS) f->counts.rows_ticks++;
        else f->counts.rows_bidasks++;
        if (ev->kind == SHJ_KIND_TICK) f->counts.rows_tick_kind++;
        else if (ev->kind == SHJ_KIND_QUOTE) f->counts.rows_quote_kind++;
        else f->counts.rows_bidask_kind++;
        if (f->counts.ts_min == 0 && f->counts.ts_max == 0) f->counts.ts_min = f->counts.ts_max = ev->ts_exch_ns;
        if (ev->ts_exch_ns < f->counts.ts_min) f->counts.ts_min = ev->ts_exch_ns;
        if (ev->ts_exch_ns > f->counts.ts_max) f->counts.ts_max = ev->ts_exch_ns;
    }
    if (f->rej_failed) return shj_fail(err, errlen, "%s", f->rej_err);
    return f->n;
}

const void *chr_batch_event(const chr_file *f, int i) {
    return i >= 0 && i < f->n ? &f->evs[i] : NULL;
}

uint64_t chr_batch_line_no(const chr_file *f, int i) { return i >= 0 && i < f->n ? f->line_nos[i] : 0; }

const char *chr_batch_text(const chr_file *f, int i, size_t *len) {
    if (i < 0 || i >= f->n) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = f->text_len[i];
    return (const char *)f->text.data + f->text_off[i];
}

int chr_reject_count(const chr_file *f) { return f->nrej; }

uint64_t chr_reject_line_no(const chr_file *f, int i) { return i >= 0 && i < f->nrej ? f->rejs[i].line : 0; }

const char *chr_reject_reason(const chr_file *f, int i) { return i >= 0 && i < f->nrej ? f->rejs[i].reason : ""; }

void chr_get_counts(const chr_file *f, chr_counts *out) { *out = f->counts; }

static int insert_rows(chr_client *c, chs_table t, const chb_buf *b, size_t rows, char *err, size_t errlen) {
    chh_result r;
    char why[400];
    for (int attempt = 0;; attempt++) {
        chh_class cl = chh_sync_exec(c->s, c->insert_sql[t], b->data, b->len, 0, &r);
        if (cl == CHH_OK) return SHJ_OK;
        chh_classify(&r, why, sizeof why);
        if (cl == CHH_FATAL || attempt == 3)
            return shj_fail(err, errlen, "clickhouse %s: insert of %zu %s rows failed%s: %s", c->dsn.redacted, rows,
                            chs_table_name(t), cl == CHH_FATAL ? "" : " 4 times", why);
        struct timespec ts = {0, 250000000L << attempt};
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec = ts.tv_nsec / 1000000000L, ts.tv_nsec %= 1000000000L;
        nanosleep(&ts, NULL);
    }
}

/* The tables' columns as system.columns reports them (TabSeparated) into
 * *body (valid until the next request on c). */
static int read_columns(chr_client *c, const char **body, char *err, size_t errlen) {
    char sql[512], why[400];
    chh_result r;
    chs_columns_query(c->dsn.database, sql, sizeof sql);
    if (chh_sync_exec(c->s, sql, NULL, 0, 0, &r) != CHH_OK) {
        chh_classify(&r, why, sizeof why);
        return shj_fail(err, errlen, "clickhouse %s: reading the columns' types: %s", c->dsn.redacted, why);
    }
    *body = r.body ? r.body : "";
    return SHJ_OK;
}

/* Before the first insert: refuse tables whose decimal scale is not ours
 * (RowBinary carries the scaled int64 unconverted; see ch_schema.h). */
static int check_scale(chr_client *c, char *err, size_t errlen) {
    if (c->scale_checked) return SHJ_OK;
    const char *body = ""; /* set by read_columns on success; gcc -O3 cannot see it */
    char why[600];
    if (read_columns(c, &body, err, errlen) != SHJ_OK) return SHJ_ERR;
    if (chs_check_columns(c->dsn.database, body, why, sizeof why) != SHJ_OK)
        return shj_fail(err, errlen, "clickhouse %s: %s", c->dsn.redacted, why);
    c->scale_checked = 1;
    return SHJ_OK;
}

int chr_client_migrate_sql(chr_client *c, char *out, size_t cap, char *err, size_t errlen) {
    const char *body = "";
    if (read_columns(c, &body, err, errlen) != SHJ_OK) return -1;
    size_t n = chs_migrate_sql(c->dsn.database, body, out, cap);
    if (n >= cap) return shj_fail(err, errlen, "migration text longer than %zu bytes", cap);
    return (int)n;
}

int chr_insert_batch(chr_file *f, chr_client *c, char *err, size_t errlen) {
    if (f->mode != CHR_APPLY) return shj_fail(err, errlen, "%s was opened for a dry run", f->path);
    if (check_scale(c, err, errlen) != SHJ_OK) return SHJ_ERR;
    chb_buf b[CHS_NTABLES];
    size_t rows[CHS_NTABLES] = {0, 0};
    int rc = SHJ_OK;
    for (int t = 0; t < CHS_NTABLES; t++) chb_init(&b[t]);
    for (int i = 0; i < f->n && rc == SHJ_OK; i++) {
        int t = chs_table_for_kind(f->evs[i].kind);
        if (chb_encode(&b[t], &f->evs[i]) != SHJ_OK) rc = shj_fail(err, errlen, "out of memory encoding rows");
        rows[t]++;
    }
    for (int t = 0; t < CHS_NTABLES && rc == SHJ_OK; t++) {
        if (!rows[t]) continue;
        rc = insert_rows(c, (chs_table)t, &b[t], rows[t], err, errlen);
        if (rc == SHJ_OK) f->counts.inserted += rows[t];
    }
    for (int t = 0; t < CHS_NTABLES; t++) chb_free(&b[t]);
    return rc;
}


int chr_client_insert(chr_client *c, const shj_event *evs, size_t n, char *err, size_t errlen) {
    if (check_scale(c, err, errlen) != SHJ_OK) return SHJ_ERR;
    chb_buf b[CHS_NTABLES];
    size_t rows[CHS_NTABLES] = {0, 0};
    int rc = SHJ_OK;
    for (int t = 0; t < CHS_NTABLES; t++) chb_init(&b[t]);
    for (size_t i = 0; i < n && rc == SHJ_OK; i++) {
        int t = chs_table_for_kind(evs[i].kind);
        if (t < 0) continue;
        if (chb_encode(&b[t], &evs[i]) != SHJ_OK) rc = shj_fail(err, errlen, "out of memory encoding rows");
        rows[t]++;
    }
    for (int t = 0; t < CHS_NTABLES && rc == SHJ_OK; t++)
        if (rows[t]) rc = insert_rows(c, (chs_table)t, &b[t], rows[t], err, errlen);
    for (int t = 0; t < CHS_NTABLES; t++) chb_free(&b[t]);
    return rc;
}
static int mkdirs_for(const char *path, char *err, size_t errlen) {
    char tmp[2048];
    shj_strlcpy(tmp, path, sizeof tmp);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return shj_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    return SHJ_OK;
}

static void fsync_parent(const char *path) {
    char dir[2048];
    shj_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = '\0';
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int chr_archive(chr_file *f, const char *archive_dir, const char *rel_path, char *dest, size_t cap,
                char *err, size_t errlen) {
    if (f->mode != CHR_APPLY) return shj_fail(err, errlen, "%s was opened for a dry run", f->path);
    if (!archive_dir || !*archive_dir || !rel_path || !*rel_path || strstr(rel_path, ".."))
        return shj_fail(err, errlen, "archive: bad directory or relative path");
    char base[2048];
    snprintf(base, sizeof base, "%s/%s", archive_dir, rel_path);
    if (mkdirs_for(base, err, errlen) != SHJ_OK) return SHJ_ERR;
    size_t stem = strlen(base) - (ends_with(base, ".jsonl") ? 6 : 0);
    for (int k = 0; k < 1000; k++) {
        char cand[2100];
        if (k == 0) shj_strlcpy(cand, base, sizeof cand);
        else snprintf(cand, sizeof cand, "%.*s.%d.jsonl", (int)stem, base, k);
        int rc = renameat2(AT_FDCWD, f->path, AT_FDCWD, cand, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* filesystem without RENAME_NOREPLACE: link() also refuses to overwrite */
            rc = link(f->path, cand);
            if (rc == 0) unlink(f->path);
        }
        if (rc == 0) {
            fsync_parent(cand);
            fsync_parent(f->path);
            shj_strlcpy(dest, cand, cap);
            return SHJ_OK;
        }
        if (errno == EEXIST) continue;
        if (errno == EXDEV)
            return shj_fail(err, errlen, "archive: %s is on another filesystem than %s (an atomic move needs the same one)",
                            archive_dir, f->path);
        return shj_fail(err, errlen, "archive: cannot move %s to %s: %s", f->path, cand, strerror(errno));
    }
    return shj_fail(err, errlen, "archive: no free name for %s", base);
}

int chr_close(chr_file *f, char *err, size_t errlen) {
    if (!f) return SHJ_OK;
    int rc = SHJ_OK;
    if (f->rej) {
        if (fflush(f->rej) != 0 || fsync(fileno(f->rej)) != 0)
            rc = shj_fail(err, errlen, "writing %s: %s", f->rej_path, strerror(errno));
        fclose(f->rej);
    }
    if (f->rej_failed && rc == SHJ_OK) rc = shj_fail(err, errlen, "%s", f->rej_err);
    fclose(f->fp);
    free(f->evs);
    free(f->line_nos);
    free(f->text_off);
    free(f->text_len);
    chb_free(&f->text);
    free(f->rejs);
    free(f->line);
    free(f);
    return rc;
}

/* ---- client ------------------------------------------------------------- */

chr_client *chr_client_new(const char *dsn, int create_schema, char *err, size_t errlen) {
    chr_client *c = calloc(1, sizeof *c);
    if (!c) {
        shj_fail(err, errlen, "out of memory");
        return NULL;
    }
    if (chd_parse(dsn, &c->dsn, err, errlen) != SHJ_OK) goto fail;
    if (c->dsn.warning[0]) shj_log(SHJ_LOG_WARN, "clickhouse: %s", c->dsn.warning);
    chh_opts o = {2000, 120000};
    if (!(c->s = chh_sync_new(&c->dsn, &o, err, errlen))) goto fail;
    chh_result r;
    char why[400];
    chh_class cl = chh_sync_exec(c->s, "SELECT version()", NULL, 0, 0, &r);
    if (cl != CHH_OK) {
        chh_classify(&r, why, sizeof why);
        shj_fail(err, errlen, "clickhouse %s: %s%s", c->dsn.redacted, cl == CHH_FATAL ? "" : "cannot reach the server: ", why);
        goto fail;
    }
    chs_version v;
    if (chs_version_parse(r.body, &v) == SHJ_OK) {
        snprintf(c->version, sizeof c->version, "%d.%d.%d", v.major, v.minor, v.patch);
        chs_features_for(&v, &c->feats);
    }
    if (create_schema) {
        char sql[8192];
        snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", c->dsn.database);
        for (int step = 0; step <= CHS_NTABLES; step++) {
            if (step > 0) chs_create_sql((chs_table)(step - 1), c->dsn.database, &c->feats, sql, sizeof sql);
            if (chh_sync_exec(c->s, sql, NULL, 0, 0, &r) != CHH_OK) {
                chh_classify(&r, why, sizeof why);
                shj_fail(err, errlen, "clickhouse %s: creating the schema: %s", c->dsn.redacted, why);
                goto fail;
            }
        }
    }
    for (int t = 0; t < CHS_NTABLES; t++)
        chs_insert_sql((chs_table)t, c->dsn.database, "RowBinary", c->insert_sql[t], sizeof c->insert_sql[t]);
    return c;
fail:
    chh_sync_free(c->s);
    free(c);
    return NULL;
}

int chr_client_exec(chr_client *c, const char *sql, char *out, size_t cap, char *err, size_t errlen) {
    chh_result r;
    char why[400];
    chh_class cl = chh_sync_exec(c->s, sql, NULL, 0, 0, &r);
    if (out && cap) shj_strlcpy(out, r.body ? r.body : "", cap);
    if (cl != CHH_OK) {
        chh_classify(&r, why, sizeof why);
        return shj_fail(err, errlen, "clickhouse %s: %s", c->dsn.redacted, why);
    }
    return SHJ_OK;
}

const char *chr_client_version(const chr_client *c) { return c->version; }
const char *chr_client_redacted(const chr_client *c) { return c->dsn.redacted; }

void chr_client_free(chr_client *c) {
    if (!c) return;
    chh_sync_free(c->s);
    free(c);
}

size_t chr_schema_sql(const char *version, const char *db, char *out, size_t cap) {
    chs_version v = {18, 16, 1};
    if (version && *version) chs_version_parse(version, &v);
    chs_features f;
    chs_features_for(&v, &f);
    if (!db || !*db) db = "default";
    size_t o = 0;
    int n = snprintf(out, cap, "CREATE DATABASE IF NOT EXISTS %s;\n\n", db);
    if (n > 0) o = (size_t)n;
    for (int t = 0; t < CHS_NTABLES; t++) {
        size_t room = o < cap ? cap - o : 0;
        o += chs_create_sql((chs_table)t, db, &f, room ? out + o : NULL, room);
        room = o < cap ? cap - o : 0;
        n = snprintf(room ? out + o : NULL, room, ";\n\n");
        if (n > 0) o += (size_t)n;
    }
    return o;
}

/* ---- helpers ------------------------------------------------------------ */

int64_t chr_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}
