/* ch_reconcile.c — replay the archive's unacknowledged records into
 * ClickHouse (see ch_reconcile.h for what and why).
 */
#include "clickhouse/ch_reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "clickhouse/ch_restore.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "parse/parse.h"

#define RC_BATCH 50000 /* events per blocking INSERT round (bench_ch: 50k-row inserts are efficient) */
#define RC_MAX_FILES 4096

typedef struct rc_file {
    char name[64];
    char path[4096], mark_path[4096];
    chm_mark mark;
    int has_mark;
    int skip;          /* complete: not read */
    uint64_t acked;    /* effective acked (see ch_reconcile.h) */
    uint64_t first, last;
    int read_ok;       /* read to its end (or a torn tail) */
} rc_file;

typedef struct rc_state {
    const char *dsn;
    int create_schema;
    uint16_t source_id;
    chr_client *client;
    shj_event *evs;
    size_t n;
    chrc_result *res;
} rc_state;

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const rc_file *)a)->name, ((const rc_file *)b)->name);
}

static int is_day_file(const char *name) {
    size_t n = strlen(name);
    return n > 7 && n < 64 && strcmp(name + n - 7, ".shjraw") == 0 && name[0] != '.';
}

/* Insert what is buffered; on the first failure stop inserting for good
 * (res->ch_failed): nothing of this run counts as done then. */
static void flush(rc_state *s) {
    if (!s->n || s->res->ch_failed) {
        s->n = 0;
        return;
    }
    char err[400];
    if (!s->client) s->client = chr_client_new(s->dsn, s->create_schema, err, sizeof err);
    if (!s->client || chr_client_insert(s->client, s->evs, s->n, err, sizeof err) != SHJ_OK) {
        s->res->ch_failed = 1;
        shj_strlcpy(s->res->error, err, sizeof s->res->error);
    } else {
        s->res->rows_inserted += s->n;
    }
    s->n = 0;
}

static void add_event(rc_state *s, const arc_record *rec, int tag) {
    char err[200];
    shj_event *ev = &s->evs[s->n];
    int rc = psr_parse(tag, rec->data, rec->len, ev, err, sizeof err);
    if (rc != PSR_EVENT) return; /* heartbeats, malformed payloads: no row, as live */
    ev->seq = rec->seq;
    ev->ts_recv_ns = rec->recv_ns;
    ev->source_id = s->source_id;
    s->n++;
    if (psr_tag_has_book(tag)) {
        ev = &s->evs[s->n];
        if (psr_parse_book(tag, rec->data, rec->len, ev, err, sizeof err) == PSR_EVENT) {
            ev->seq = rec->seq;
            ev->ts_recv_ns = rec->recv_ns;
            ev->source_id = s->source_id;
            s->n++;
        }
    }
    if (s->n >= RC_BATCH) flush(s);
}

/* Read f, replaying records beyond its acked or in an unsaved range. */
static void read_file(rc_state *s, rc_file *f, const chm_mark *unsaved) {
    char err[512];
    arc_reader *r = arc_reader_open_prefetch(f->path, 4, err, sizeof err);
    if (!r) {
        shj_log(SHJ_LOG_WARN, "clickhouse reconcile: %s", err);
        return;
    }
    arc_record rec;
    int k;
    for (;;) {
        k = arc_reader_next(r, &rec);
        if (k == 1) {
            s->res->records_read++;
            if (!f->first || rec.seq < f->first) f->first = rec.seq;
            if (rec.seq > f->last) f->last = rec.seq;
            if (rec.seq > f->acked || chm_unsaved(unsaved, rec.seq)) {
                s->res->records_replayed++;
                if (!s->res->ch_failed) add_event(s, &rec, rec.tag);
            }
            continue;
        }
        if (k == 0) break;
        uint64_t from, to;
        if (arc_reader_resync(r, &from, &to) == SHJ_OK) {
            shj_log(SHJ_LOG_WARN, "clickhouse reconcile: %s: damaged bytes %" PRIu64 "..%" PRIu64 " passed over",
                    f->path, from, to);
            continue;
        }
        break; /* a torn tail: what follows was never durable */
    }
    arc_reader_close(r);
    f->read_ok = 1;
}

int chrc_run(const char *archive_dir, const char *source, uint16_t source_id, const char *dsn,
             int create_schema, chrc_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    char dir[3901];
    if (snprintf(dir, sizeof dir, "%s/%s", archive_dir, source) >= (int)sizeof dir)
        return shj_fail(err, errlen, "clickhouse reconcile: archive path too long");
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return SHJ_OK; /* nothing recorded yet */
        return shj_fail(err, errlen, "clickhouse reconcile: %s: %s", dir, strerror(errno));
    }
    rc_file *files = NULL;
    size_t n = 0, cap = 0;
    int rc = SHJ_OK;
    struct dirent *de;
    while ((de = readdir(d)) && n < RC_MAX_FILES) {
        if (!is_day_file(de->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rc_file *p = realloc(files, cap * sizeof *files);
            if (!p) {
                rc = shj_fail(err, errlen, "out of memory");
                break;
            }
            files = p;
        }
        memset(&files[n], 0, sizeof files[n]);
        shj_strlcpy(files[n].name, de->d_name, sizeof files[n].name);
        n++;
    }
    closedir(d);
    if (rc != SHJ_OK || n == 0) {
        free(files);
        return rc;
    }
    qsort(files, n, sizeof *files, cmp_names);
    res->files = n;

    /* Marks, and every unsaved range of every mark (sequences are unique
     * per source, so a range matches records in one file only). */
    chm_mark unsaved;
    memset(&unsaved, 0, sizeof unsaved);
    size_t oldest_mark = n;
    for (size_t i = 0; i < n && rc == SHJ_OK; i++) {
        rc_file *f = &files[i];
        if (snprintf(f->path, sizeof f->path, "%.3900s/%s", dir, f->name) >= (int)sizeof f->path) {
            rc = shj_fail(err, errlen, "clickhouse reconcile: path too long under %s", dir);
            break;
        }
        if (chm_path_for(f->path, f->mark_path, sizeof f->mark_path) != SHJ_OK) {
            rc = shj_fail(err, errlen, "clickhouse reconcile: path too long: %s", f->path);
            break;
        }
        rc = chm_load(f->mark_path, &f->mark, &f->has_mark, err, errlen);
        if (f->has_mark) {
            chm_add_all(&unsaved, &f->mark);
            if (oldest_mark == n) oldest_mark = i;
        }
    }
    if (rc != SHJ_OK) {
        free(files);
        return rc;
    }

    /* Effective acked per file, and which files need reading. */
    uint64_t inherited = 0;
    int have_inherited = 0;
    for (size_t i = 0; i < n; i++) {
        rc_file *f = &files[i];
        if (f->has_mark) {
            f->acked = f->mark.acked;
            inherited = f->mark.acked;
            have_inherited = 1;
        } else if (have_inherited) {
            f->acked = inherited;
        } else if (i == n - 1 && oldest_mark == n) {
            f->acked = 0; /* first run with ClickHouse: today's file entirely */
        } else {
            f->skip = 1; /* history from before ClickHouse was used */
            continue;
        }
        if (f->has_mark && f->mark.file_last && f->mark.acked >= f->mark.file_last && i + 1 < n) {
            int touched = 0;
            for (size_t k = 0; k < unsaved.n; k++)
                if (unsaved.unsaved[k].from <= f->mark.file_last && unsaved.unsaved[k].to >= f->mark.file_first)
                    touched = 1;
            if (!touched) {
                f->skip = 1;
                f->first = f->mark.file_first;
                f->last = f->mark.file_last;
            }
        }
    }

    rc_state s = {dsn, create_schema, source_id ? source_id : 1, NULL, NULL, 0, res};
    s.evs = malloc((RC_BATCH + 2) * sizeof *s.evs);
    if (!s.evs) {
        free(files);
        return shj_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (files[i].skip) continue;
        read_file(&s, &files[i], &unsaved);
        res->files_read++;
    }
    flush(&s);
    if (s.client) chr_client_free(s.client);
    free(s.evs);

    /* What is still to replay when ClickHouse did not take it: the unsaved
     * ranges, and every file's records past its acked. */
    chm_mark pending;
    memset(&pending, 0, sizeof pending);
    for (size_t i = 0; i < n; i++) {
        rc_file *f = &files[i];
        if (f->last > res->max_seq) res->max_seq = f->last;
        if (f->mark.file_last > res->max_seq) res->max_seq = f->mark.file_last;
        if (f->mark.acked > res->max_seq) res->max_seq = f->mark.acked;
        if (res->ch_failed && f->read_ok && f->last > f->acked) chm_add(&pending, f->acked + 1, f->last);
    }
    if (res->ch_failed) chm_add_all(&pending, &unsaved);
    pending.acked = res->max_seq;

    /* Rewrite the marks of the files read (and of files whose mark carried
     * a range that is now done). */
    for (size_t i = 0; i < n && rc == SHJ_OK; i++) {
        rc_file *f = &files[i];
        if (!f->read_ok && !(f->has_mark && f->mark.n && !res->ch_failed)) continue;
        chm_mark m;
        memset(&m, 0, sizeof m);
        m.acked = f->last > f->acked ? f->last : f->acked;
        if (f->has_mark && f->mark.acked > m.acked) m.acked = f->mark.acked;
        if (f->read_ok) {
            m.file_first = f->first;
            m.file_last = f->last;
        } else {
            m.file_first = f->mark.file_first;
            m.file_last = f->mark.file_last;
        }
        if (res->ch_failed) chm_add_all(&m, &pending);
        rc = chm_save(f->mark_path, &m, err, errlen);
    }
    res->pending = pending;
    free(files);
    if (rc != SHJ_OK) return rc;
    return res->ch_failed ? SHJ_AGAIN : SHJ_OK;
}
