/* ch_writer.c — live ClickHouse writer: batching, inserts, fallback, probing
 * (see ch_writer.h for the state machine and the zero-loss argument).
 *
 * DESIGN. A batch is held once, as RowBinary bytes ready to POST; if it has to
 * go to the fallback it is decoded back to events (chb_decode) and written as
 * JSONL, so memory per held row is ~150 bytes rather than a 256-byte event
 * plus its encoding. All work happens in loop callbacks: chw_push (bus
 * dispatch), the writer's tick timer (batch age, fallback retries), the
 * probe timer, and HTTP completions.
 *
 * The fallback runs on a thread of the writer's own: decoding, formatting
 * ~470 bytes of JSON per row, write() and fsync() take tens of ms for a big
 * batch, and the loop (sources, raw archive, bus) must not wait for the disk.
 * A batch handed to the thread stays counted in the writer's memory until the
 * thread reports it durable (ev_async); one that failed comes back and is
 * retried. Only that thread touches the chf_dir.
 */
#include "clickhouse/ch_writer.h"

#include <curl/curl.h>
#include <ev.h>
#include <xxhash.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse/ch_alias.h"
#include "core/resolved.h"
#include "clickhouse/ch_dsn.h"
#include "clickhouse/ch_fallback.h"
#include "clickhouse/ch_http.h"
#include "clickhouse/ch_mark.h"
#include "clickhouse/ch_rowbinary.h"
#include "clickhouse/ch_schema.h"
#include "core/shj_common.h"
#include "core/thread.h"

typedef struct chw_batch {
    struct chw_batch *next;
    chw_writer *w;
    chs_table table;
    size_t rows;
    chb_buf data;
    double opened;       /* ev_now of the first row */
    int64_t accounted;   /* bytes counted in w->st.mem_bytes */
    int spill_rc;        /* set by the fallback thread */
    char spill_err[400];
    int64_t *recv;       /* ts_recv_ns per live row, kept only while an ack hook is set (metrics) */
    size_t nrecv, recv_cap;
    uint64_t min_seq, max_seq;              /* sequences of its rows (watermark, gating) */
    struct chw_batch *alive_prev, *alive_next; /* every batch not yet freed, in creation order */
} chw_batch;

static chw_ack_fn chw_ack_hook; /* loop thread */
void chw_set_ack_hook(chw_ack_fn fn) { chw_ack_hook = fn; }

struct chw_writer {
    struct ev_loop *loop;
    chw_opts o;
    chd_dsn dsn;
    chh_client *http;
    chf_dir *fb;
    char insert_sql[CHS_NTABLES][1024];
    chw_batch *open[CHS_NTABLES];
    chw_batch *q_head, *q_tail;
    ev_timer tick;
    ev_timer probe;
    int probe_ms;
    int probe_busy;
    int schema_step;
    double down_since;
    double fb_retry_at;
    int fb_failing;
    /* the fallback thread; fb_in/fb_out/fb_stop are guarded by fb_mu */
    pthread_t fb_thread;
    int fb_started;
    pthread_mutex_t fb_mu;
    pthread_cond_t fb_cv;
    chw_batch *fb_in_head, *fb_in_tail;   /* to the thread */
    chw_batch *fb_out_head, *fb_out_tail; /* back from it, durable or failed */
    int fb_stop;
    ev_async fb_async;
    int fb_pending;                       /* loop side: handed over, not back yet */
    int64_t mem_spilling;                 /* loop side: bytes of those batches */
    int closing;
    char version[32];
    chs_features feats;
    chw_stats st;
    char last_error[640];
    chw_fatal_fn fatal_fn;
    void *fatal_ctx;
    /* watermark (chw_set_archive): loop thread only */
    chw_batch *alive_head, *alive_tail;   /* batches in creation order = in order of min_seq */
    uint64_t pushed_max;                  /* highest seq taken */
    const chw_archive_ops *arc;
    void *arc_ctx;
    chm_mark mark;                        /* unsaved ranges; acked as last saved */
    int mark_dirty;
    double mark_at;
    int mark_err_logged;
    int gate_off;                         /* closing: no archive gate */
    cha_rows aliases;                     /* aliases rows (ch_alias.h): metadata, no fallback */
    char alias_sql[256];
};

static void pump(chw_writer *w);
static int archived(chw_writer *w, const chw_batch *b);
static void mark_save(chw_writer *w, int force);

/* b's rows are not in ClickHouse (in the fallback, or nowhere): the
 * watermark lists its sequence range, so the reconcile at the next start
 * puts them into ClickHouse from the archive without a manual restore (the
 * fallback copy stays valid for restore.lua: duplicates collapse). */
static void mark_not_in_ch(chw_writer *w, const chw_batch *b) {
    if (!w->arc) return;
    chm_add(&w->mark, b->min_seq, b->max_seq);
    w->mark_dirty = 1;
}

void chw_opts_default(chw_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch_rows = 50000; /* bench/bench_ch.c: 10k-row inserts reach ~65% of clickhouse-client, 50k ~130% */
    o->batch_ms = 200;
    o->max_inflight = 2;
    o->max_mem_bytes = 64LL << 20;
    o->timeout_ms = 30000;
    o->connect_timeout_ms = 2000;
    o->probe_min_ms = 250;
    o->probe_max_ms = 10000;
    o->close_timeout_ms = 10000;
    o->create_schema = 1;
}

int chw_gateway_source(const char *gateway) {
    if (!gateway || !*gateway) return 0;
    return 256 + (int)(XXH32(gateway, strlen(gateway), 0) % (65536u - 256u));
}

static const char *state_name(int s) {
    static const char *names[] = {"STARTING", "UP", "DOWN", "FAILED", "CLOSED"};
    return s >= 0 && s <= CHW_CLOSED ? names[s] : "?";
}

/* ---- memory accounting -------------------------------------------------- */

static void account(chw_writer *w, chw_batch *b) {
    int64_t now = (int64_t)b->data.cap;
    w->st.mem_bytes += now - b->accounted;
    b->accounted = now;
    if (w->st.mem_bytes > w->st.mem_peak) w->st.mem_peak = w->st.mem_bytes;
}

static void batch_free(chw_writer *w, chw_batch *b) {
    if (b->alive_prev) b->alive_prev->alive_next = b->alive_next;
    else w->alive_head = b->alive_next;
    if (b->alive_next) b->alive_next->alive_prev = b->alive_prev;
    else w->alive_tail = b->alive_prev;
    w->st.mem_bytes -= b->accounted;
    w->st.rows_held -= b->rows;
    chb_free(&b->data);
    free(b->recv);
    free(b);
}

static void q_push_tail(chw_writer *w, chw_batch *b) {
    b->next = NULL;
    if (w->q_tail) w->q_tail->next = b;
    else w->q_head = b;
    w->q_tail = b;
    w->st.queued++;
}

static void q_push_head(chw_writer *w, chw_batch *b) {
    b->next = w->q_head;
    w->q_head = b;
    if (!w->q_tail) w->q_tail = b;
    w->st.queued++;
}

static chw_batch *q_pop(chw_writer *w) {
    chw_batch *b = w->q_head;
    if (!b) return NULL;
    w->q_head = b->next;
    if (!w->q_head) w->q_tail = NULL;
    b->next = NULL;
    w->st.queued--;
    return b;
}

/* ---- fallback ----------------------------------------------------------- */

static void set_error(chw_writer *w, const char *why) {
    shj_strlcpy(w->last_error, why, sizeof w->last_error);
}

static void list_append(chw_batch **head, chw_batch **tail, chw_batch *b) {
    b->next = NULL;
    if (*tail) (*tail)->next = b;
    else *head = b;
    *tail = b;
}

static void *fb_main(void *arg) {
    chw_writer *w = arg;
    shj_thread_background("shj-ch-fallback");
    pthread_mutex_lock(&w->fb_mu);
    for (;;) {
        while (!w->fb_in_head && !w->fb_stop) pthread_cond_wait(&w->fb_cv, &w->fb_mu);
        chw_batch *b = w->fb_in_head;
        if (!b) break; /* stopping, and nothing left to write */
        w->fb_in_head = b->next;
        if (!w->fb_in_head) w->fb_in_tail = NULL;
        pthread_mutex_unlock(&w->fb_mu);
        b->spill_rc = chf_append_rowbinary(w->fb, b->table, b->data.data, b->data.len, b->rows,
                                           b->spill_err, sizeof b->spill_err);
        pthread_mutex_lock(&w->fb_mu);
        list_append(&w->fb_out_head, &w->fb_out_tail, b);
        ev_async_send(w->loop, &w->fb_async);
    }
    pthread_mutex_unlock(&w->fb_mu);
    return NULL;
}

/* Hand b to the fallback thread. It stays counted in memory until durable. */
static void spill(chw_writer *w, chw_batch *b) {
    w->fb_pending++;
    w->mem_spilling += b->accounted;
    if (w->mem_spilling > w->st.spill_peak) w->st.spill_peak = w->mem_spilling;
    pthread_mutex_lock(&w->fb_mu);
    list_append(&w->fb_in_head, &w->fb_in_tail, b);
    pthread_cond_signal(&w->fb_cv);
    pthread_mutex_unlock(&w->fb_mu);
}

/* A batch may leave for ClickHouse or the fallback only when the archive
 * fsynced every record in it: after a kill -9 the archive is the truth the
 * reconcile replays from, and a row it lost must not survive elsewhere (the
 * next run reuses that sequence number). Waits at most the archive's
 * fsync_ms. At close the archive was flushed (or failed): no gate. */
static int archived(chw_writer *w, const chw_batch *b) {
    if (!w->arc || w->gate_off || !w->arc->durable_seq) return 1;
    return w->arc->durable_seq(w->arc_ctx) >= b->max_seq;
}

static void update_blocked(chw_writer *w) {
    /* Stop taking events when memory can only come back through a disk that
     * fails, or when the disk is a whole max_mem_bytes behind. */
    w->st.blocked = (w->fb_failing && w->st.mem_bytes > w->o.max_mem_bytes) ||
                    w->mem_spilling > w->o.max_mem_bytes ||
                    (w->o.wait_when_slow && w->st.state == CHW_UP && w->st.mem_bytes > w->o.max_mem_bytes);
}

/* Loop side: take what the thread finished. Durable batches are dropped;
 * failed ones go back to the head of the queue for a later retry. */
static void fb_collect(chw_writer *w) {
    pthread_mutex_lock(&w->fb_mu);
    chw_batch *b = w->fb_out_head;
    w->fb_out_head = w->fb_out_tail = NULL;
    pthread_mutex_unlock(&w->fb_mu);
    while (b) {
        chw_batch *next = b->next;
        w->fb_pending--;
        w->mem_spilling -= b->accounted;
        if (b->spill_rc == SHJ_OK) {
            if (w->fb_failing) shj_log(SHJ_LOG_INFO, "clickhouse: fallback dir writable again");
            w->fb_failing = 0;
            w->st.rows_fallback += b->rows;
            mark_not_in_ch(w, b);
            batch_free(w, b);
        } else {
            w->st.fallback_errors++;
            if (!w->fb_failing)
                shj_log(SHJ_LOG_ERROR, "clickhouse: %s — %zu rows kept in memory, retrying every second",
                        b->spill_err, b->rows);
            w->fb_failing = 1;
            w->fb_retry_at = ev_now(w->loop) + 1.0;
            set_error(w, b->spill_err);
            q_push_head(w, b);
        }
        b = next;
    }
    update_blocked(w);
}

/* Let the thread write what it was given, then end it. */
static void fb_join(chw_writer *w) {
    if (!w->fb_started) return;
    pthread_mutex_lock(&w->fb_mu);
    w->fb_stop = 1;
    pthread_cond_signal(&w->fb_cv);
    pthread_mutex_unlock(&w->fb_mu);
    pthread_join(w->fb_thread, NULL);
    w->fb_started = 0;
}

static void on_fb_async(struct ev_loop *loop, ev_async *a, int revents);

/* Spill waiting batches, oldest first, until at most `keep` bytes are held
 * outside the fallback's hands (0: spill them all). While the fallback is
 * failing, only once per retry interval. */
static void spill_queue(chw_writer *w, int64_t keep) {
    if (w->fb_failing && ev_now(w->loop) < w->fb_retry_at) return;
    if (w->fb_failing) w->fb_retry_at = ev_now(w->loop) + 1.0;
    while (w->q_head && archived(w, w->q_head) && (keep == 0 || w->st.mem_bytes - w->mem_spilling > keep)) {
        spill(w, q_pop(w));
        w->st.batches_spilled++;
        if (w->fb_failing) break; /* one probe batch per retry */
    }
    update_blocked(w);
}

/* ---- state changes ------------------------------------------------------ */

static void on_fb_async(struct ev_loop *loop, ev_async *a, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    chw_writer *w = shj_container_of(a, chw_writer, fb_async);
    fb_collect(w);
    if (!w->closing) pump(w);
}

static void seal(chw_writer *w, int t) {
    chw_batch *b = w->open[t];
    if (!b || !b->rows) return;
    w->open[t] = NULL;
    q_push_tail(w, b);
}

static void seal_all(chw_writer *w) {
    for (int t = 0; t < CHS_NTABLES; t++) seal(w, t);
}

static void arm_probe(chw_writer *w) {
    ev_timer_stop(w->loop, &w->probe);
    ev_timer_set(&w->probe, (double)w->probe_ms / 1000.0, 0.);
    ev_timer_start(w->loop, &w->probe);
}

static void go_down(chw_writer *w, const char *why) {
    set_error(w, why);
    if (w->st.state == CHW_DOWN || w->st.state == CHW_FAILED || w->closing) return;
    w->st.state = CHW_DOWN;
    w->down_since = ev_now(w->loop);
    w->probe_ms = w->o.probe_min_ms;
    shj_log(SHJ_LOG_WARN,
            "clickhouse %s down (%s): rows go to the fallback dir %s; probing with backoff %d..%d ms",
            w->dsn.redacted, why, chf_path(w->fb), w->o.probe_min_ms, w->o.probe_max_ms);
    arm_probe(w);
}

static void go_up(chw_writer *w) {
    int was = w->st.state;
    w->st.state = CHW_UP;
    ev_timer_stop(w->loop, &w->probe);
    if (was == CHW_DOWN)
        shj_log(SHJ_LOG_INFO, "clickhouse %s up again (version %s) after %.1f s; inserting",
                w->dsn.redacted, w->version, ev_now(w->loop) - w->down_since);
    pump(w);
}

static void go_failed(chw_writer *w, const char *why) {
    if (w->st.state == CHW_FAILED) return;
    set_error(w, why);
    w->st.state = CHW_FAILED;
    ev_timer_stop(w->loop, &w->probe);
    shj_log(SHJ_LOG_ERROR,
            "clickhouse writer FAILED: %s — no retry can fix this; it takes no more events. Rows "
            "held are saved to %s; the raw archive keeps everything after. Fix the cause, then "
            "run `shijim restore.lua --fallback-dir %s --apply`",
            why, chf_path(w->fb), chf_path(w->fb));
    seal_all(w);
    spill_queue(w, 0);
    if (w->fatal_fn) w->fatal_fn(w->fatal_ctx, w, why);
}

/* ---- inserts ------------------------------------------------------------ */

static void on_insert_done(void *ctx, const chh_result *r) {
    chw_batch *b = ctx;
    chw_writer *w = b->w;
    w->st.inflight--;
    char why[400];
    chh_class c = chh_classify(r, why, sizeof why);
    if (c == CHH_OK) {
        w->st.rows_inserted += b->rows;
        w->st.bytes_sent += b->data.len;
        w->st.batches_inserted++;
        if (chw_ack_hook && b->nrecv) chw_ack_hook(b->recv, b->nrecv);
        batch_free(w, b);
    } else {
        w->st.batches_failed++;
        spill(w, b);
        if (!w->closing) {
            if (c == CHH_FATAL) go_failed(w, why);
            else go_down(w, why);
        }
    }
    if (!w->closing || w->st.state == CHW_UP) pump(w);
}

static void send_batch(chw_writer *w, chw_batch *b) {
    char err[200];
    if (chh_post(w->http, w->insert_sql[b->table], b->data.data, b->data.len, w->o.gzip,
                 on_insert_done, b, err, sizeof err) != SHJ_OK) {
        w->st.batches_failed++;
        spill(w, b);
        go_down(w, err);
        return;
    }
    w->st.inflight++;
}

static void on_alias_done(void *ctx, const chh_result *r) {
    chw_writer *w = ctx;
    cha_rows *a = &w->aliases;
    a->busy = 0;
    char why[400];
    chh_class c = chh_classify(r, why, sizeof why);
    if (c == CHH_OK || (c == CHH_FATAL && !w->closing)) {
        /* a fatal answer (no aliases table: create_schema off on an old
         * database) drops the rows: they are metadata, never worth the events */
        if (c == CHH_FATAL && !a->failed_logged) {
            a->failed_logged = 1;
            shj_log(SHJ_LOG_WARN, "clickhouse %s: aliases rows not stored (%s); `shijim schema.lua --dsn DSN --migrate` adds the table",
                    w->dsn.redacted, why);
        }
        a->sending.len = 0;
        return;
    }
    /* transient: put them back in front, retried when the writer is UP */
    if (bb_append(&a->sending, a->pending.data, a->pending.len) == 0) {
        bb_buf t = a->pending;
        a->pending = a->sending;
        a->sending = t;
    }
    a->sending.len = 0;
}

/* Send the pending aliases rows (one small insert at a time). */
static void alias_send(chw_writer *w) {
    cha_rows *a = &w->aliases;
    if (a->busy || !a->pending.len || w->st.state != CHW_UP || w->closing) return;
    bb_buf t = a->sending;
    a->sending = a->pending;
    a->pending = t;
    a->pending.len = 0;
    char err[200];
    if (chh_post(w->http, w->alias_sql, a->sending.data, a->sending.len, 0, on_alias_done, w, err, sizeof err) == SHJ_OK) {
        a->busy = 1;
    } else { /* keep them for the next try */
        t = a->pending;
        a->pending = a->sending;
        a->sending = t;
    }
}

static void pump(chw_writer *w) {
    if (w->st.state == CHW_UP) {
        alias_send(w);
        while (w->st.inflight < w->o.max_inflight && w->q_head && w->st.state == CHW_UP && archived(w, w->q_head))
            send_batch(w, q_pop(w));
        /* slow server: past the memory limit the oldest waiting batches
         * spill — unless the source can wait (replay): then the bus waits */
        if (!w->o.wait_when_slow && w->st.mem_bytes > w->o.max_mem_bytes && w->q_head)
            spill_queue(w, w->o.max_mem_bytes);
    } else if (w->st.state == CHW_DOWN || w->st.state == CHW_FAILED) {
        spill_queue(w, 0);
    }
    update_blocked(w);
}

/* ---- probing and schema ------------------------------------------------- */

/* Steps of (re)ensuring the schema each time the server is reached: 0 the
 * database, 1..CHS_NTABLES the tables (both only with create_schema), then
 * SCHEMA_CHECK reads the columns' types back: a table an older Shijim made
 * with another decimal scale is refused before any row is inserted. */
#define SCHEMA_CHECK (CHS_NTABLES + 1)

static int schema_first_step(const chw_writer *w) { return w->o.create_schema ? 0 : SCHEMA_CHECK; }

static int schema_sql(chw_writer *w, int step, char *sql, size_t cap) {
    if (step == 0) {
        snprintf(sql, cap, "CREATE DATABASE IF NOT EXISTS %s", w->dsn.database);
        return 1;
    }
    if (step <= CHS_NTABLES) {
        chs_create_sql((chs_table)(step - 1), w->dsn.database, &w->feats, sql, cap);
        return 1;
    }
    if (step == SCHEMA_CHECK) {
        chs_columns_query(w->dsn.database, sql, cap);
        return 1;
    }
    /* After the check (the views read trading_day): the analyst objects. */
    if (w->o.create_schema && step - SCHEMA_CHECK - 1 < CHS_NEXTRA) {
        chs_extra_sql(step - SCHEMA_CHECK - 1, w->dsn.database, sql, cap);
        return 1;
    }
    return 0;
}

static void probe_again(chw_writer *w) {
    w->probe_ms = w->probe_ms * 2 > w->o.probe_max_ms ? w->o.probe_max_ms : w->probe_ms * 2;
    arm_probe(w);
}

static void on_schema_done(void *ctx, const chh_result *r);

static void schema_next(chw_writer *w) {
    char sql[8192], err[200];
    if (!schema_sql(w, w->schema_step, sql, sizeof sql)) {
        w->probe_busy = 0;
        go_up(w);
        return;
    }
    if (chh_post(w->http, sql, NULL, 0, 0, on_schema_done, w, err, sizeof err) != SHJ_OK) {
        w->probe_busy = 0;
        probe_again(w);
    }
}

static void on_schema_done(void *ctx, const chh_result *r) {
    chw_writer *w = ctx;
    char why[640];
    chh_class c = chh_classify(r, why, sizeof why);
    if (w->closing) {
        w->probe_busy = 0;
        return;
    }
    if (c == CHH_OK && w->schema_step == SCHEMA_CHECK &&
        chs_check_columns(w->dsn.database, r->body, why, sizeof why) != SHJ_OK) {
        w->probe_busy = 0;
        go_failed(w, why);
        return;
    }
    if (c == CHH_OK) {
        w->schema_step++;
        schema_next(w);
        return;
    }
    w->probe_busy = 0;
    if (c == CHH_FATAL) go_failed(w, why);
    else probe_again(w);
}

static void on_probe_done(void *ctx, const chh_result *r) {
    chw_writer *w = ctx;
    char why[400];
    chh_class c = chh_classify(r, why, sizeof why);
    if (w->closing) {
        w->probe_busy = 0;
        return;
    }
    if (c == CHH_OK) {
        chs_version v;
        if (chs_version_parse(r->body, &v) == SHJ_OK) {
            snprintf(w->version, sizeof w->version, "%d.%d.%d", v.major, v.minor, v.patch);
            chs_features_for(&v, &w->feats);
        }
        w->schema_step = schema_first_step(w);
        schema_next(w);
        return;
    }
    w->probe_busy = 0;
    set_error(w, why);
    if (c == CHH_FATAL) go_failed(w, why);
    else probe_again(w);
}

static void on_probe_timer(struct ev_loop *loop, ev_timer *t, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    chw_writer *w = shj_container_of(t, chw_writer, probe);
    if (w->probe_busy || w->st.state != CHW_DOWN) return;
    char err[200];
    w->st.probes++;
    w->probe_busy = 1;
    if (chh_post(w->http, "SELECT version()", NULL, 0, 0, on_probe_done, w, err, sizeof err) != SHJ_OK) {
        w->probe_busy = 0;
        probe_again(w);
    }
}

/* ---- watermark ---------------------------------------------------------- */

/* Every record with seq <= this is acknowledged (ClickHouse or fallback),
 * unsaved ranges aside. Batches are created in seq order, so the oldest
 * alive one bounds it. With none alive, the last record taken is still
 * left out: a quote's book half may not have been taken yet (one record
 * replayed again costs nothing). */
static uint64_t acked_seq(const chw_writer *w) {
    uint64_t start = w->mark.file_first; /* start_seq, kept here (the live mark has no file range) */
    if (w->alive_head) return w->alive_head->min_seq ? w->alive_head->min_seq - 1 : 0;
    return w->pushed_max > start ? w->pushed_max - 1 : start;
}

/* Write the mark beside the archive's current day file, at most every
 * CHW_MARK_MS (force: now). On the loop thread: a ~100-byte write and two
 * fsyncs, four times a second at most; the batches it describes are far
 * bigger. A failure is logged once and retried: a stale mark only makes the
 * next reconcile replay more. */
static void mark_save(chw_writer *w, int force) {
    if (!w->arc || !w->arc->current_path) return;
    uint64_t acked = acked_seq(w);
    w->st.acked_seq = acked;
    w->st.unsaved_ranges = w->mark.n;
    if (acked == w->mark.acked && !w->mark_dirty) return;
    double now = ev_time();
    if (!force && now - w->mark_at < CHW_MARK_MS / 1000.0) return;
    const char *cur = w->arc->current_path(w->arc_ctx);
    char path[4200], err[600];
    if (!cur || !*cur || chm_path_for(cur, path, sizeof path) != SHJ_OK) return;
    chm_mark m = w->mark;
    m.acked = acked;
    m.file_first = m.file_last = 0;
    w->mark_at = now;
    if (chm_save(path, &m, err, sizeof err) != SHJ_OK) {
        if (!w->mark_err_logged) shj_log(SHJ_LOG_ERROR, "%s (retrying)", err);
        w->mark_err_logged = 1;
        return;
    }
    w->mark_err_logged = 0;
    w->mark.acked = acked;
    w->mark_dirty = 0;
}

void chw_set_archive(chw_writer *w, const chw_archive_ops *ops, void *ctx, uint64_t start_seq,
                     const chm_mark *pending) {
    w->arc = ops;
    w->arc_ctx = ctx;
    memset(&w->mark, 0, sizeof w->mark);
    if (pending) chm_add_all(&w->mark, pending);
    w->mark.file_first = start_seq;
    w->mark.acked = start_seq;
    if (w->pushed_max < start_seq) w->pushed_max = start_seq;
    w->mark_dirty = w->mark.n > 0;
    w->st.unsaved_ranges = w->mark.n;
    w->st.acked_seq = start_seq;
}

/* ---- periodic work ------------------------------------------------------ */

void chw_poll(chw_writer *w) {
    if (w->st.state == CHW_CLOSED) return;
    double now = ev_now(w->loop);
    double age = (double)w->o.batch_ms / 1000.0;
    for (int t = 0; t < CHS_NTABLES; t++)
        if (w->open[t] && w->open[t]->rows && now - w->open[t]->opened >= age) seal(w, t);
    pump(w);
    mark_save(w, 0);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    chw_poll(shj_container_of(t, chw_writer, tick));
}

void chw_flush(chw_writer *w) {
    seal_all(w);
    pump(w);
}

/* ---- push --------------------------------------------------------------- */

size_t chw_push(chw_writer *w, const shj_event *evs, size_t n) {
    if (w->st.state == CHW_FAILED || w->st.state == CHW_CLOSED) return 0;
    if (w->st.blocked) {
        pump(w);
        if (w->st.blocked) {
            w->st.refusals++;
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const shj_event *ev = &evs[i];
        int t = chs_table_for_kind(ev->kind);
        if (t < 0) {
            w->st.rows_ignored++;
            continue;
        }
        chw_batch *b = w->open[t];
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) return i;
            b->w = w;
            b->table = (chs_table)t;
            b->opened = ev_now(w->loop);
            b->min_seq = ev->seq;
            chb_init(&b->data);
            w->open[t] = b;
            b->alive_prev = w->alive_tail;
            if (w->alive_tail) w->alive_tail->alive_next = b;
            else w->alive_head = b;
            w->alive_tail = b;
        }
        if (chb_encode_as(&b->data, ev, chw_row_source(&w->o, ev->source_id)) != SHJ_OK) return i; /* out of memory: push back */
        if (rsv_count()) cha_collect(&w->aliases, ev);
        if (ev->seq > b->max_seq) b->max_seq = ev->seq;
        if (ev->seq < b->min_seq) b->min_seq = ev->seq;
        if (ev->seq > w->pushed_max) w->pushed_max = ev->seq;
        if (b->data.cap != (size_t)b->accounted) account(w, b);
        b->rows++;
        if (chw_ack_hook && !(ev->flags & SHJ_FLAG_REPLAY)) {
            if (b->nrecv == b->recv_cap) {
                size_t cap = b->recv_cap ? b->recv_cap * 2 : 1024;
                int64_t *r = realloc(b->recv, cap * sizeof *r);
                if (r) b->recv = r, b->recv_cap = cap;
            }
            if (b->nrecv < b->recv_cap) b->recv[b->nrecv++] = ev->ts_recv_ns; /* else: not sampled */
        }
        w->st.rows_in++;
        w->st.rows_held++;
        if (b->rows >= (size_t)w->o.batch_rows) {
            seal(w, t);
            pump(w);
            if (w->st.blocked && i + 1 < n) {
                w->st.refusals++;
                return i + 1;
            }
        }
    }
    return n;
}

/* ---- open / close ------------------------------------------------------- */

static int open_check(chw_writer *w, char *err, size_t errlen) {
    chh_opts ho = {w->o.connect_timeout_ms, w->o.connect_timeout_ms + 3000};
    chh_sync *s = chh_sync_new(&w->dsn, &ho, err, errlen);
    if (!s) return SHJ_ERR;
    chh_result r;
    char why[640];
    int rc = SHJ_OK;
    chh_class c = chh_sync_exec(s, "SELECT version()", NULL, 0, 0, &r);
    chh_classify(&r, why, sizeof why);
    if (c == CHH_OK) {
        chs_version v;
        if (chs_version_parse(r.body, &v) == SHJ_OK) {
            snprintf(w->version, sizeof w->version, "%d.%d.%d", v.major, v.minor, v.patch);
            chs_features_for(&v, &w->feats);
        }
        char sql[8192];
        for (int step = schema_first_step(w); schema_sql(w, step, sql, sizeof sql); step++) {
            c = chh_sync_exec(s, sql, NULL, 0, 0, &r);
            if (c != CHH_OK) {
                chh_classify(&r, why, sizeof why);
                break;
            }
            if (step == SCHEMA_CHECK && chs_check_columns(w->dsn.database, r.body, why, sizeof why) != SHJ_OK) {
                c = CHH_FATAL;
                break;
            }
        }
    }
    if (c == CHH_OK) {
        w->st.state = CHW_UP;
        shj_log(SHJ_LOG_INFO, "clickhouse %s: server %s, tables %s.ticks/%s.bidasks ready",
                w->dsn.redacted, w->version, w->dsn.database, w->dsn.database);
    } else if (c == CHH_FATAL) {
        rc = shj_fail(err, errlen, "clickhouse %s: %s", w->dsn.redacted, why);
    } else if (r.curl_code == CURLE_COULDNT_RESOLVE_HOST) {
        rc = shj_fail(err, errlen, "clickhouse %s: cannot resolve host '%s'", w->dsn.redacted, w->dsn.host);
    } else {
        w->st.state = CHW_DOWN;
        set_error(w, why);
        shj_log(SHJ_LOG_WARN, "clickhouse %s not reachable at start (%s): recording to the fallback dir %s until it is",
                w->dsn.redacted, why, chf_path(w->fb));
    }
    chh_sync_free(s);
    return rc;
}

chw_writer *chw_open(struct ev_loop *loop, const chw_opts *opts, char *err, size_t errlen) {
    chw_opts d;
    chw_opts_default(&d);
    chw_writer *w = calloc(1, sizeof *w);
    if (!w) {
        shj_fail(err, errlen, "clickhouse: out of memory");
        return NULL;
    }
    w->loop = loop;
    w->o = *opts;
    /* zero means "default" for every numeric option */
    if (w->o.batch_rows <= 0) w->o.batch_rows = d.batch_rows;
    if (w->o.batch_ms <= 0) w->o.batch_ms = d.batch_ms;
    if (w->o.max_inflight <= 0) w->o.max_inflight = d.max_inflight;
    if (w->o.max_mem_bytes <= 0) w->o.max_mem_bytes = d.max_mem_bytes;
    if (w->o.timeout_ms <= 0) w->o.timeout_ms = d.timeout_ms;
    if (w->o.connect_timeout_ms <= 0) w->o.connect_timeout_ms = d.connect_timeout_ms;
    if (w->o.probe_min_ms <= 0) w->o.probe_min_ms = d.probe_min_ms;
    if (w->o.probe_max_ms < w->o.probe_min_ms) w->o.probe_max_ms = w->o.probe_min_ms > d.probe_max_ms ? w->o.probe_min_ms : d.probe_max_ms;
    if (w->o.close_timeout_ms <= 0) w->o.close_timeout_ms = d.close_timeout_ms;
    if (w->o.source_number < 0 || w->o.source_number > 65535) {
        shj_fail(err, errlen, "clickhouse: source number %d out of range (1..65535, 0 = per source)", w->o.source_number);
        free(w);
        return NULL;
    }
    w->o.dsn = NULL; /* not kept: may hold the password */
    w->o.fallback_dir = NULL;
    w->probe_ms = w->o.probe_min_ms;

    if (chd_parse(opts->dsn, &w->dsn, err, errlen) != SHJ_OK) goto fail;
    if (w->dsn.warning[0]) shj_log(SHJ_LOG_WARN, "clickhouse: %s", w->dsn.warning);
    if (!(w->fb = chf_open(opts->fallback_dir, err, errlen))) goto fail;
    pthread_mutex_init(&w->fb_mu, NULL);
    pthread_cond_init(&w->fb_cv, NULL);
    ev_async_init(&w->fb_async, on_fb_async);
    ev_async_start(loop, &w->fb_async);
    ev_unref(loop); /* like the tick: never the reason the loop keeps running */
    if (pthread_create(&w->fb_thread, NULL, fb_main, w) != 0) {
        shj_fail(err, errlen, "clickhouse: cannot start the fallback thread");
        goto fail;
    }
    w->fb_started = 1;
    for (int t = 0; t < CHS_NTABLES; t++)
        chs_insert_sql((chs_table)t, w->dsn.database, "RowBinary", w->insert_sql[t], sizeof w->insert_sql[t]);
    cha_insert_sql(w->dsn.database, w->alias_sql, sizeof w->alias_sql);
    chh_opts ho = {w->o.connect_timeout_ms, w->o.timeout_ms};
    if (!(w->http = chh_new(loop, &w->dsn, &ho, err, errlen))) goto fail;
    ev_init(&w->probe, on_probe_timer);
    double tick = (double)w->o.batch_ms / 4000.0;
    tick = tick < 0.005 ? 0.005 : tick > 0.05 ? 0.05 : tick;
    ev_timer_init(&w->tick, on_tick, tick, tick);
    ev_timer_start(loop, &w->tick);
    ev_unref(loop); /* the tick alone must not keep ev_run alive */

    if (opts->skip_open_check) {
        w->st.state = CHW_DOWN;
        w->down_since = ev_now(loop);
        w->probe_ms = 1;
        arm_probe(w);
        w->probe_ms = w->o.probe_min_ms;
    } else if (open_check(w, err, errlen) != SHJ_OK) {
        goto fail;
    } else if (w->st.state == CHW_DOWN) {
        w->down_since = ev_now(loop);
        arm_probe(w);
    }
    return w;
fail:
    if (w->http) {
        ev_ref(loop);
        ev_timer_stop(loop, &w->tick);
        chh_free(w->http);
    }
    if (w->fb) {
        fb_join(w);
        ev_ref(loop);
        ev_async_stop(loop, &w->fb_async);
        pthread_mutex_destroy(&w->fb_mu);
        pthread_cond_destroy(&w->fb_cv);
    }
    chf_close(w->fb);
    free(w);
    return NULL;
}

void chw_set_fatal_cb(chw_writer *w, chw_fatal_fn fn, void *ctx) {
    w->fatal_fn = fn;
    w->fatal_ctx = ctx;
}

int chw_close(chw_writer *w, char *err, size_t errlen) { return chw_close_stats(w, NULL, err, errlen); }

int chw_close_stats(chw_writer *w, chw_stats *final, char *err, size_t errlen) {
    if (!w) return SHJ_OK;
    /* The orderly stop flushes the archive too (before or right after this),
     * so waiting for its fsync here would only stall the close. */
    w->gate_off = 1;
    seal_all(w);
    pump(w);
    /* Give inserts in flight and waiting batches a bounded time to finish. */
    double deadline = ev_time() + (double)w->o.close_timeout_ms / 1000.0;
    alias_send(w);
    while (w->st.state == CHW_UP && (w->q_head || w->st.inflight > 0 || w->aliases.busy) && ev_time() < deadline) {
        ev_run(w->loop, EVRUN_ONCE);
        alias_send(w); /* rows noted by the last batches */
    }
    w->closing = 1;
    ev_timer_stop(w->loop, &w->probe);
    ev_ref(w->loop);
    ev_timer_stop(w->loop, &w->tick);
    chh_abort_all(w->http); /* aborted inserts spill in their callbacks */
    /* Whatever is left goes to the fallback: the thread writes everything it
     * was given, then stops. Failures come back; retry them here a little (a
     * disk hiccup), then give up loudly. */
    w->fb_failing = 0;
    spill_queue(w, 0);
    fb_join(w);
    fb_collect(w);
    for (int attempt = 0; w->q_head && attempt < 3; attempt++) {
        chw_batch *b = q_pop(w);
        if (chf_append_rowbinary(w->fb, b->table, b->data.data, b->data.len, b->rows, b->spill_err,
                                 sizeof b->spill_err) == SHJ_OK) {
            w->st.rows_fallback += b->rows;
            mark_not_in_ch(w, b);
            batch_free(w, b);
            attempt = -1; /* progress: the next batch gets three tries too */
        } else {
            set_error(w, b->spill_err);
            q_push_head(w, b);
        }
    }
    ev_ref(w->loop);
    ev_async_stop(w->loop, &w->fb_async);
    int rc = SHJ_OK;
    uint64_t lost = 0;
    while (w->q_head) {
        chw_batch *b = q_pop(w);
        lost += b->rows;
        mark_not_in_ch(w, b);
        batch_free(w, b);
    }
    w->st.rows_unsaved += lost;
    mark_save(w, 1);
    char ranges[200];
    if (lost && w->arc && !w->mark_dirty)
        rc = shj_fail(err, errlen,
                      "clickhouse: %llu rows could not be inserted nor saved to the fallback dir %s (%s); they are in "
                      "the raw archive and their seq ranges %s are recorded in the ClickHouse watermark beside it: "
                      "the next start with --clickhouse replays them (check with shijim verify.lua)",
                      (unsigned long long)lost, chf_path(w->fb), w->last_error,
                      chm_ranges_text(&w->mark, ranges, sizeof ranges));
    else if (lost)
        rc = shj_fail(err, errlen, "clickhouse: %llu rows could not be inserted nor saved to the fallback dir %s: %s",
                      (unsigned long long)lost, chf_path(w->fb), w->last_error);
    else if (w->st.state == CHW_FAILED)
        rc = shj_fail(err, errlen, "clickhouse writer failed: %s", w->last_error);
    if (lost) shj_log(SHJ_LOG_ERROR, "%s", err);
    w->st.state = CHW_CLOSED;
    if (final) *final = w->st;
    chh_free(w->http);
    chf_close(w->fb);
    pthread_mutex_destroy(&w->fb_mu);
    pthread_cond_destroy(&w->fb_cv);
    cha_rows_free(&w->aliases);
    free(w);
    return rc;
}

/* ---- introspection ------------------------------------------------------ */

void chw_get_stats(const chw_writer *w, chw_stats *out) { *out = w->st; }

const char *chw_last_error(const chw_writer *w) { return w->last_error; }
int chw_fallback_busy(const chw_writer *w) { return w->fb_pending; }

const char *chw_server_version(const chw_writer *w) { return w->version; }

struct chf_dir *chw_fallback(chw_writer *w) { return w->fb; }

static void human(uint64_t v, char *out, size_t cap) {
    if (v >= 10000000) snprintf(out, cap, "%.1fM", (double)v / 1e6);
    else if (v >= 10000) snprintf(out, cap, "%.1fk", (double)v / 1e3);
    else snprintf(out, cap, "%llu", (unsigned long long)v);
}

size_t chw_status(const chw_writer *w, char *buf, size_t cap) {
    char ins[16], fb[16];
    human(w->st.rows_inserted, ins, sizeof ins);
    human(w->st.rows_fallback, fb, sizeof fb);
    int n;
    if (w->st.state == CHW_FAILED)
        n = snprintf(buf, cap, "FAILED (%.80s) ins %s fb %s", w->last_error, ins, fb);
    else
        n = snprintf(buf, cap, "%s ins %s fb %s q %d mem %.1fMB%s", state_name(w->st.state), ins, fb,
                     w->st.queued + w->st.inflight, (double)w->st.mem_bytes / 1048576.0,
                     w->st.blocked ? (w->fb_failing ? " BLOCKED(fallback failing)" : " BLOCKED(fallback disk busy)") : "");
    if (n < 0 || !cap) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1; /* what was written, not what was wanted */
}
