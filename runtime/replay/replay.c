/* src_replay.c — the replay source (see src_replay.h for the guarantees).
 *
 * DESIGN. One record is "current" at a time (arc_record data stays valid until
 * the next arc_reader_next), so pausing for back-pressure or pacing simply
 * leaves it current and returns to the loop. At full speed an ev_idle
 * watcher delivers batches of BATCH records per loop iteration, which lets rt
 * dispatch the bus between batches; paced replay instead arms an ev_timer
 * for the current record's due time (monotonic clock, anchored on the first
 * record's receive time, re-anchored after long recorded pauses). The
 * progress line is its own 0.5 s timer and only runs on a terminal (or when
 * asked), so that logs and pipes stay clean.
 *
 * Parsing runs off the loop. Files are read with arc_reader_open_decoding:
 * `workers` read-ahead threads each load a whole block (pread, XXH64, LZ4)
 * and run psr_parse_payload over its payloads into the block's own event
 * array (rpl_block), several blocks at once; the loop then only finishes
 * each event (psr_resolve: instrument ids are the loop's) and copies it
 * into the bus. psr_parse is exactly psr_parse_payload + psr_resolve, so
 * the events are the ones src_deliver_recorded would publish; payloads the
 * workers did not turn into an event (heartbeats, malformed ones, a block
 * whose arrays could not be allocated) take src_deliver_recorded on the
 * loop, which parses them again and counts and logs them like live ones.
 * Why: parsing is ~3/4 of replay's work and the loop thread is one core;
 * bench/bench_replay.c measures the two ways side by side.
 */
#include "replay/replay.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/contract.h"
#include "core/session.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "core/shj_common.h"

#define BATCH 4096
#define RPL_MAX_WORKERS 4
#define MAX_FILTER 256
#define PROGRESS_S 0.5

typedef struct rpl_filter {
    char code[SHJ_CODE_MAX];     /* as asked (may be an alias) */
    char resolved[SHJ_CODE_MAX]; /* real code: for an alias, of the payloads' trading date */
    uint32_t kind_mask;          /* 0 = every kind */
    int alias;                   /* TXFR1-style continuous alias */
} rpl_filter;

typedef struct rpl_source {
    src_source base; /* first: rt and source.c see a src_source */
    char **files;
    uint64_t *sizes;
    size_t n_files, cur;
    arc_reader *rd;
    arc_record rec;
    int have_rec;
    rpl_filter filter[MAX_FILTER];
    size_t n_filter, n_alias;
    char alias_date[11];         /* date the aliases are resolved for ("" = none yet) */
    double speed;
    int workers;                 /* parsing read-ahead threads (0 = parse on the loop) */
    int cur_damaged;             /* the current file had a hole passed over */
    int64_t max_gap_ns;
    int progress;
    uint32_t extra_flags;
    int64_t anchor_mono, anchor_recv, prev_recv; /* pacing */
    int64_t rec_due;                             /* when the current record is due */
    int anchored;
    int end_status_sent;
    int64_t started_mono;
    ev_idle idle;
    ev_timer pace;
    ev_timer prog;
    rpl_stats st;
} rpl_source;

static void pump(rpl_source *r);

/* ---- files --------------------------------------------------------------- */

static int is_day_name(const char *n) {
    /* YYYY-MM-DD.shjraw */
    static const char pat[] = "dddd-dd-dd.shjraw";
    if (strlen(n) != sizeof pat - 1) return 0;
    for (size_t i = 0; i < sizeof pat - 1; i++) {
        if (pat[i] == 'd') {
            if (n[i] < '0' || n[i] > '9') return 0;
        } else if (n[i] != pat[i]) {
            return 0;
        }
    }
    return 1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(rpl_source *r, const char *path, size_t *cap, char *err, size_t errlen) {
    if (r->n_files == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **f = realloc(r->files, nc * sizeof *f);
        if (!f) return shj_fail(err, errlen, "replay: out of memory");
        r->files = f;
        *cap = nc;
    }
    r->files[r->n_files] = strdup(path);
    if (!r->files[r->n_files]) return shj_fail(err, errlen, "replay: out of memory");
    r->n_files++;
    return SHJ_OK;
}

static int check_date(const char *d, const char *what, char *err, size_t errlen) {
    if (!d || !*d) return SHJ_OK;
    char name[32];
    snprintf(name, sizeof name, "%s.shjraw", d);
    if (!is_day_name(name))
        return shj_fail(err, errlen, "replay: %s date \"%s\" is not YYYY-MM-DD", what, d);
    return SHJ_OK;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

/* "D1, D2, ... Dn" of the day files in path (files are named by trading
 * day, core/session), for the error that says a day has no data. */
static void list_days(const char *path, char *out, size_t cap) {
    enum { MAX_SHOWN = 400 };
    static char names[MAX_SHOWN][11];
    size_t n = 0, total = 0;
    DIR *d = opendir(path);
    shj_strlcpy(out, "none", cap);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_day_name(de->d_name)) continue;
        total++;
        if (n < MAX_SHOWN) {
            memcpy(names[n], de->d_name, 10);
            names[n++][10] = '\0';
        }
    }
    closedir(d);
    if (!n) return;
    qsort(names, n, sizeof names[0], cmp_name);
    size_t o = 0;
    out[0] = '\0';
    /* the most recent ones matter most: show the last 30 */
    size_t from = n > 30 ? n - 30 : 0;
    if (from) o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%zu earlier, ", total - (n - from));
    for (size_t i = from; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i > from ? ", " : "", names[i]);
}

static int list_dir(rpl_source *r, const rpl_opts *o, size_t *cap, char *err, size_t errlen) {
    if (!o->dir || !*o->dir) return shj_fail(err, errlen, "replay: no files and no archive dir");
    if (check_date(o->from, "from", err, errlen) || check_date(o->to, "to", err, errlen))
        return SHJ_ERR;
    char path[4096];
    if (o->source && *o->source) snprintf(path, sizeof path, "%s/%s", o->dir, o->source);
    else snprintf(path, sizeof path, "%s", o->dir);
    DIR *d = opendir(path);
    if (!d) return shj_fail(err, errlen, "replay: cannot open %s: %s", path, strerror(errno));
    size_t first = r->n_files;
    struct dirent *de;
    int rc = SHJ_OK;
    while ((de = readdir(d)) != NULL) {
        if (!is_day_name(de->d_name)) continue;
        if (o->from && *o->from && strncmp(de->d_name, o->from, 10) < 0) continue;
        if (o->to && *o->to && strncmp(de->d_name, o->to, 10) > 0) continue;
        char full[4400];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        if ((rc = add_file(r, full, cap, err, errlen)) != SHJ_OK) break;
    }
    closedir(d);
    if (rc != SHJ_OK) return rc;
    if (r->n_files == first) {
        char days[600];
        list_days(path, days, sizeof days);
        char hint[160] = "";
        int y, m, dd;
        if (o->from && o->to && strcmp(o->from, o->to) == 0 && clk_parse_date(o->from, &y, &m, &dd) == 0) {
            int64_t day = clk_days_from_civil(y, m, dd);
            if (!ses_is_trading_day(day)) {
                char next[11];
                snprintf(hint, sizeof hint, " (%s is no trading day: its night session and weekend data are in %s)",
                         o->from, clk_day_text(ses_trading_day_from(day), next));
            }
        }
        return shj_fail(err, errlen, "replay: no archive file in %s for %s .. %s%s; days recorded: %s", path,
                        o->from && *o->from ? o->from : "(start)", o->to && *o->to ? o->to : "(end)",
                        hint, days);
    }
    qsort(r->files + first, r->n_files - first, sizeof *r->files, cmp_str);
    return SHJ_OK;
}

/* ---- filter -------------------------------------------------------------- */

static int filter_add(rpl_source *r, const char *code, uint32_t mask, char *err, size_t errlen) {
    size_t n = strlen(code);
    if (n == 0 || n >= SHJ_CODE_MAX)
        return shj_fail(err, errlen, "replay: bad code \"%s\" (1..15 bytes)", code);
    for (size_t i = 0; i < r->n_filter; i++) {
        if (strcmp(r->filter[i].code, code) == 0) {
            r->filter[i].kind_mask = (mask && r->filter[i].kind_mask) ? r->filter[i].kind_mask | mask : 0;
            return SHJ_OK;
        }
    }
    if (r->n_filter == MAX_FILTER)
        return shj_fail(err, errlen, "replay: more than %d codes in the filter", MAX_FILTER);
    rpl_filter *f = &r->filter[r->n_filter++];
    memset(f, 0, sizeof *f);
    memcpy(f->code, code, n + 1);
    memcpy(f->resolved, code, n + 1);
    f->kind_mask = mask;
    f->alias = ctr_is_alias(code);
    if (f->alias) {
        r->n_alias++;
        r->alias_date[0] = '\0'; /* resolve again on the next payload */
    }
    return SHJ_OK;
}

/* Aliases follow the trading date written in the payloads themselves (the
 * archive file's date is the receive date, which differs for a simulated
 * market of another day). */
static void filter_resolve(rpl_source *r, const char *date) {
    memcpy(r->alias_date, date, 10);
    r->alias_date[10] = '\0';
    for (size_t i = 0; i < r->n_filter; i++) {
        rpl_filter *f = &r->filter[i];
        if (f->alias) ctr_resolve_alias(r->alias_date, f->code, f->resolved);
    }
}

static int tag_kind(int tag) {
    switch (tag) {
    case PSR_TAG_TICK_STK:
    case PSR_TAG_TICK_FOP: return SHJ_KIND_TICK;
    case PSR_TAG_BIDASK_STK:
    case PSR_TAG_BIDASK_FOP: return SHJ_KIND_BIDASK;
    case PSR_TAG_QUOTE_STK:
    case PSR_TAG_QUOTE_FOP: return SHJ_KIND_QUOTE;
    default: return SHJ_KIND_NONE;
    }
}

/* The string value of "key" in a JSON payload, without parsing it all. */
static int payload_str(const char *p, size_t len, const char *key, size_t klen, const char **val,
                       size_t *vlen) {
    const char *end = p + len;
    const char *k = memmem(p, len, key, klen);
    if (!k) return 0;
    k += klen;
    while (k < end && (*k == ' ' || *k == ':' || *k == '\t')) k++;
    if (k >= end || *k != '"') return 0;
    k++;
    const char *q = memchr(k, '"', (size_t)(end - k));
    if (!q) return 0;
    *val = k;
    *vlen = (size_t)(q - k);
    return 1;
}

static int passes(rpl_source *r, const arc_record *rec) {
    if (r->n_filter == 0) return 1;
    int kind = tag_kind(rec->tag);
    const char *c, *d;
    size_t n, dn;
    if (kind == SHJ_KIND_NONE ||
        !payload_str(rec->data, rec->len, "\"code\"", 6, &c, &n))
        return 1;
    if (r->n_alias && payload_str(rec->data, rec->len, "\"date\"", 6, &d, &dn) && dn == 10 &&
        memcmp(d, r->alias_date, 10) != 0) {
        char date[11];
        memcpy(date, d, 10);
        date[10] = '\0';
        filter_resolve(r, date);
    }
    for (size_t i = 0; i < r->n_filter; i++) {
        const rpl_filter *f = &r->filter[i];
        if (strlen(f->resolved) == n && memcmp(f->resolved, c, n) == 0)
            return f->kind_mask == 0 || (f->kind_mask & shj_kind_bit(kind)) != 0;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

/* One block's payloads as the read-ahead workers parsed them (see DESIGN). */
typedef struct rpl_block {
    size_t n;          /* records parsed: ev[i] / rc[i] for i < n */
    size_t cap;
    shj_event *ev;
    signed char *rc;   /* psr_parse_payload's result per record */
    psr_memo memo;     /* the parser's memo: one block is parsed by one thread */
} rpl_block;

/* Runs on a read-ahead worker: touches only its block's state. */
static void rpl_decode(void *ctx, void **state, const arc_record *recs, size_t n) {
    SHJ_UNUSED(ctx);
    rpl_block *b = *state;
    if (!b && !(b = *state = calloc(1, sizeof *b))) return; /* the loop parses it */
    b->n = 0;
    if (n > b->cap) {
        free(b->ev);
        free(b->rc);
        b->ev = aligned_alloc(64, n * sizeof *b->ev); /* a multiple of 64: events are 256 B */
        b->rc = malloc(n);
        if (!b->ev || !b->rc) {
            free(b->ev);
            free(b->rc);
            b->ev = NULL;
            b->rc = NULL;
            b->cap = 0;
            return; /* the loop parses this block's payloads itself */
        }
        b->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        b->rc[i] = (signed char)psr_parse_payload(&b->memo, recs[i].tag, recs[i].data, recs[i].len,
                                                  &b->ev[i], NULL, 0);
    b->n = n;
}

static void rpl_release(void *ctx, void *state) {
    SHJ_UNUSED(ctx);
    rpl_block *b = state;
    free(b->ev);
    free(b->rc);
    free(b);
}

static const arc_decode_hook rpl_hook = {rpl_decode, rpl_release, NULL};

/* Read-ahead threads by default: one core stays for the loop, at least two
 * workers (one would parse no faster than the loop), at most four (the
 * loop's own share per event caps the gain). On one core, none: workers
 * would only add hand-offs to the same amount of work. */
static int default_workers(void) {
    /* the cores this process may run on (taskset, cpusets), not the machine's */
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 1) return 0;
    return n - 1 < 2 ? 2 : n - 1 > RPL_MAX_WORKERS ? RPL_MAX_WORKERS : (int)(n - 1);
}

static arc_reader *open_file(rpl_source *r, const char *path, char *err, size_t errlen) {
    if (r->workers <= 0) return arc_reader_open_prefetch(path, 4, err, errlen);
    /* every worker a block to fill, and as many ready for the loop */
    return arc_reader_open_decoding(path, 2 * r->workers + 2, r->workers, &rpl_hook, err, errlen);
}

static void close_current(rpl_source *r, int bad) {
    if (r->rd) arc_reader_close(r->rd);
    r->rd = NULL;
    r->st.bytes_done += r->sizes[r->cur];
    r->st.files_done++;
    if (bad || r->cur_damaged) r->st.bad_files++;
    r->cur_damaged = 0;
    r->cur++;
}

/* 1 = r->rec holds the next record, 0 = end of all files. */
static int next_record(rpl_source *r) {
    for (;;) {
        if (!r->rd) {
            if (r->cur >= r->n_files) return 0;
            char err[256];
            r->rd = open_file(r, r->files[r->cur], err, sizeof err);
            if (!r->rd) {
                shj_log(SHJ_LOG_ERROR, "replay %s: %s: cannot open, skipped: %s", r->base.name,
                        r->files[r->cur], err);
                close_current(r, 1);
                continue;
            }
        }
        int rc = arc_reader_next(r->rd, &r->rec);
        if (rc == 1) {
            r->st.records++;
            return 1;
        }
        int bad = rc < 0;
        if ((rc == 0 || arc_reader_cut_short(r->rd)) && arc_file_being_written(r->files[r->cur])) {
            /* today's file while it is recorded: played as far as it is on
             * disk; a block cut short is on its way there, not torn */
            shj_log(SHJ_LOG_INFO,
                    "replay %s: %s is still being recorded: played up to byte offset %llu "
                    "(what was complete on disk)", r->base.name, r->files[r->cur],
                    (unsigned long long)arc_reader_good_offset(r->rd));
            r->st.live_files++;
            bad = 0;
        } else if (bad) {
            /* the reader's message names the file and the byte offset; a
             * hole is passed over, never the rest of the day behind it */
            char why[512];
            shj_strlcpy(why, arc_reader_error(r->rd), sizeof why);
            uint64_t from, to;
            if (arc_reader_resync(r->rd, &from, &to) == SHJ_OK) {
                shj_log(SHJ_LOG_ERROR,
                        "replay %s: %s; skipped bytes [%llu, %llu) (%llu bytes), playing on from the "
                        "next valid block", r->base.name, why, (unsigned long long)from,
                        (unsigned long long)to, (unsigned long long)(to - from));
                r->st.damaged_ranges++;
                r->st.damaged_bytes += to - from;
                r->cur_damaged = 1;
                continue;
            }
            shj_log(SHJ_LOG_ERROR, "replay %s: %s; nothing valid follows, the rest of this file is skipped",
                    r->base.name, why);
        }
        close_current(r, bad);
    }
}

/* ---- progress ------------------------------------------------------------ */

static void print_progress(rpl_source *r, int final) {
    uint64_t cur = r->rd ? arc_reader_good_offset(r->rd) : 0;
    uint64_t done = r->st.bytes_done + cur;
    double pct = r->st.bytes_total ? 100.0 * (double)done / (double)r->st.bytes_total : 100.0;
    if (final) pct = 100.0;
    double el = (double)(clk_mono_ns() - r->started_mono) / 1e9;
    double rate = el > 0 ? (double)r->base.counters.events / el : 0;
    double eta = (pct > 0 && pct < 100) ? el * (100.0 - pct) / pct : 0;
    fprintf(stderr, "\r[%s] %5.1f%%  %llu events  %.2fM ev/s  elapsed %.1fs  ETA %.0fs   %s",
            r->base.name, pct, (unsigned long long)r->base.counters.events, rate / 1e6, el, eta,
            final ? "\n" : "");
    fflush(stderr);
}

static void on_progress(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    print_progress(shj_container_of(w, rpl_source, prog), 0);
}

/* ---- pumping ------------------------------------------------------------- */

static void stop_watchers(rpl_source *r) {
    if (!r->base.loop) return;
    ev_idle_stop(r->base.loop, &r->idle);
    ev_timer_stop(r->base.loop, &r->pace);
}

static void pause_source(rpl_source *r) {
    stop_watchers(r);
    r->base.state = SRC_PAUSED;
    r->base.counters.pauses++;
}

static void finish(rpl_source *r) {
    if (!r->end_status_sent) {
        int rc = src_publish_status(&r->base, SHJ_STATUS_SESSION_CLOSE, "", 0, 0, 0,
                                    "replay: end of data");
        if (rc == SHJ_AGAIN) { /* bus full: wait for resume */
            pause_source(r);
            return;
        }
        r->end_status_sent = 1;
    }
    stop_watchers(r);
    if (r->base.loop) ev_timer_stop(r->base.loop, &r->prog);
    r->st.done = 1;
    if (r->progress) print_progress(r, 1);
    r->base.state = SRC_DONE;
    rt_source_done(&r->base);
}

/* Monotonic time at which the current record is due (paced mode): the
 * recorded receive-time distance to an anchor, divided by the speed. A
 * recorded pause longer than max_gap (or time going backwards, e.g. between
 * files of different sources) re-anchors so that it lasts max_gap. */
static int64_t due_mono(rpl_source *r) {
    int64_t recv = r->rec.recv_ns;
    if (!r->anchored) {
        r->anchor_mono = clk_mono_ns();
        r->anchor_recv = recv;
        r->anchored = 1;
    } else if (recv - r->prev_recv > r->max_gap_ns || recv < r->prev_recv) {
        int64_t prev_due = r->anchor_mono + (int64_t)((double)(r->prev_recv - r->anchor_recv) / r->speed);
        r->anchor_mono = prev_due + (recv < r->prev_recv ? 0 : (int64_t)((double)r->max_gap_ns / r->speed));
        r->anchor_recv = recv;
    }
    r->prev_recv = recv;
    return r->anchor_mono + (int64_t)((double)(recv - r->anchor_recv) / r->speed);
}

static void pump(rpl_source *r) {
    if (r->base.state != SRC_RUNNING) return;
    int64_t now = 0;
    /* rt's event limit (shijim.run{events = N}): never publish past it; rt
     * stops the loop once it is reached. */
    uint64_t budget = rt_event_budget();
    for (int i = 0; i < BATCH; i++) {
        if (budget == 0) return;
        if (!r->have_rec) {
            if (!next_record(r)) {
                finish(r);
                return;
            }
            if (!passes(r, &r->rec)) {
                r->st.filtered++;
                continue;
            }
            r->have_rec = 1;
            if (r->speed > 0) r->rec_due = due_mono(r);
        }
        if (r->speed > 0 && r->rec_due > now) {
            now = clk_mono_ns();
            if (r->rec_due > now) {
                ev_idle_stop(r->base.loop, &r->idle);
                ev_timer_set(&r->pace, (double)(r->rec_due - now) / 1e9, 0.);
                ev_timer_start(r->base.loop, &r->pace);
                return;
            }
        }
        if (!src_ready(&r->base, r->rec.len)) {
            pause_source(r);
            return;
        }
        size_t idx;
        const rpl_block *b = arc_reader_block_state(r->rd, &idx);
        int rc = b && idx < b->n && b->rc[idx] == PSR_EVENT
                     ? src_deliver_parsed(&r->base, &b->ev[idx], r->rec.tag, r->rec.data,
                                          r->rec.len, r->rec.recv_ns, r->rec.seq, r->extra_flags)
                     : src_deliver_recorded(&r->base, r->rec.tag, r->rec.data, r->rec.len,
                                            r->rec.recv_ns, r->rec.seq, r->extra_flags);
        if (rc == SHJ_AGAIN) { /* counted as a pause by the source layer */
            stop_watchers(r);
            r->base.state = SRC_PAUSED;
            return;
        }
        if (!r->st.first_recv_ns) r->st.first_recv_ns = r->rec.recv_ns;
        r->st.last_recv_ns = r->rec.recv_ns;
        r->st.delivered++;
        r->have_rec = 0;
        budget--;
    }
    /* batch done: come back on the next loop iteration */
    ev_idle_start(r->base.loop, &r->idle);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    pump(shj_container_of(w, rpl_source, idle));
}

static void on_pace(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    pump(shj_container_of(w, rpl_source, pace));
}

/* ---- src_ops ------------------------------------------------------------- */

static int op_start(src_source *s, char *err, size_t errlen) {
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    rpl_source *r = (rpl_source *)s;
    ev_idle_init(&r->idle, on_idle);
    ev_timer_init(&r->pace, on_pace, 0., 0.);
    ev_timer_init(&r->prog, on_progress, PROGRESS_S, PROGRESS_S);
    r->started_mono = clk_mono_ns();
    s->state = SRC_RUNNING;
    if (r->progress) ev_timer_start(s->loop, &r->prog);
    ev_idle_start(s->loop, &r->idle);
    return SHJ_OK;
}

static void op_stop(src_source *s) {
    rpl_source *r = (rpl_source *)s;
    stop_watchers(r);
    if (s->loop) ev_timer_stop(s->loop, &r->prog);
    if (s->state != SRC_DONE) s->state = SRC_STOPPED;
}

static void op_resume(src_source *s) {
    rpl_source *r = (rpl_source *)s;
    if (s->state != SRC_PAUSED) return;
    s->state = SRC_RUNNING;
    if (r->speed > 0 && r->have_rec) {
        /* keep pacing: the timer path re-checks the due time */
        ev_timer_set(&r->pace, 0., 0.);
        ev_timer_start(s->loop, &r->pace);
    } else {
        ev_idle_start(s->loop, &r->idle);
    }
}

static int op_subscribe(src_source *s, const src_sub_req *req, char *err, size_t errlen) {
    rpl_source *r = (rpl_source *)s;
    if (!req->code) return shj_fail(err, errlen, "replay: subscribe needs a code");
    return filter_add(r, req->code, req->kind_mask, err, errlen);
}

static int op_unsubscribe(src_source *s, const src_sub_req *req, char *err, size_t errlen) {
    rpl_source *r = (rpl_source *)s;
    for (size_t i = 0; i < r->n_filter; i++) {
        if (req->code && strcmp(r->filter[i].code, req->code) == 0) {
            if (r->filter[i].alias) r->n_alias--;
            r->filter[i] = r->filter[--r->n_filter];
            return SHJ_OK;
        }
    }
    return shj_fail(err, errlen, "replay: %s is not subscribed", req->code ? req->code : "(null)");
}

static void op_free(src_source *s) {
    rpl_source *r = (rpl_source *)s;
    if (r->rd) arc_reader_close(r->rd);
    for (size_t i = 0; i < r->n_files; i++) free(r->files[i]);
    free(r->files);
    free(r->sizes);
    free(r);
}

static const src_ops replay_ops = {
    .type = "replay",
    .start = op_start,
    .stop = op_stop,
    .resume = op_resume,
    .subscribe = op_subscribe,
    .unsubscribe = op_unsubscribe,
    .free = op_free,
};

/* ---- construction -------------------------------------------------------- */

static int add_codes(rpl_source *r, const char *codes, char *err, size_t errlen) {
    if (!codes) return SHJ_OK;
    const char *p = codes;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ') q++;
        char code[64];
        size_t n = (size_t)(q - p);
        if (n >= sizeof code) return shj_fail(err, errlen, "replay: code too long in \"%s\"", codes);
        memcpy(code, p, n);
        code[n] = '\0';
        if (filter_add(r, code, 0, err, errlen) != SHJ_OK) return SHJ_ERR;
        p = q;
    }
    return SHJ_OK;
}

src_source *rpl_new(const char *name, const rpl_opts *o, char *err, size_t errlen) {
    rpl_source *r = calloc(1, sizeof *r);
    if (!r) {
        shj_fail(err, errlen, "replay: out of memory");
        return NULL;
    }
    src_init(&r->base, &replay_ops, name && *name ? name : "replay");
    size_t cap = 0;
    int rc = SHJ_OK;
    if (o->files && o->n_files) {
        for (size_t i = 0; i < o->n_files && rc == SHJ_OK; i++)
            rc = add_file(r, o->files[i], &cap, err, errlen);
    } else {
        rc = list_dir(r, o, &cap, err, errlen);
    }
    if (rc == SHJ_OK) rc = add_codes(r, o->codes, err, errlen);
    if (rc == SHJ_OK) {
        r->sizes = calloc(r->n_files ? r->n_files : 1, sizeof *r->sizes);
        if (!r->sizes) rc = shj_fail(err, errlen, "replay: out of memory");
    }
    for (size_t i = 0; rc == SHJ_OK && i < r->n_files; i++) {
        struct stat sb;
        if (stat(r->files[i], &sb) != 0) {
            rc = shj_fail(err, errlen, "replay: %s: %s", r->files[i], strerror(errno));
            break;
        }
        r->sizes[i] = (uint64_t)sb.st_size;
        r->st.bytes_total += (uint64_t)sb.st_size;
    }
    if (rc != SHJ_OK) {
        op_free(&r->base);
        return NULL;
    }
    r->st.files = r->n_files;
    r->speed = o->speed > 0 ? o->speed : 0;
    r->workers = o->workers == 0 ? default_workers() : o->workers < 0 ? 0 : o->workers;
    if (r->workers > RPL_MAX_WORKERS) r->workers = RPL_MAX_WORKERS;
    r->max_gap_ns = (int64_t)(o->max_gap_ms > 0 ? o->max_gap_ms : 5000) * 1000000;
    r->progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress != 0;
    r->extra_flags = o->mark ? SHJ_FLAG_REPLAY : 0;
    return &r->base;
}

src_source *rpl_new_text(const char *name, const char *files, const char *dir, const char *source,
                         const char *from, const char *to, const char *codes, double speed,
                         int progress, int mark, int workers, char *err, size_t errlen) {
    rpl_opts o;
    memset(&o, 0, sizeof o);
    char *copy = NULL;
    const char **list = NULL;
    size_t n = 0;
    if (files && *files) {
        copy = strdup(files);
        size_t cap = 1;
        for (const char *p = files; *p; p++) cap += *p == ',';
        list = calloc(cap, sizeof *list);
        if (!copy || !list) {
            free(copy);
            free(list);
            shj_fail(err, errlen, "replay: out of memory");
            return NULL;
        }
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) list[n++] = t;
    }
    o.files = list;
    o.n_files = n;
    o.dir = dir;
    o.source = source;
    o.from = from;
    o.to = to;
    o.codes = codes;
    o.speed = speed;
    o.progress = progress;
    o.mark = mark;
    o.workers = workers;
    src_source *s = rpl_new(name, &o, err, errlen);
    free(list);
    free(copy);
    return s;
}

void rpl_get_stats(const src_source *s, rpl_stats *out) {
    const rpl_source *r = (const rpl_source *)s;
    *out = r->st;
    if (r->rd) out->bytes_done += arc_reader_good_offset(r->rd);
}
