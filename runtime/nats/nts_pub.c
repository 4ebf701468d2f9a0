/* nts_pub.c — the JetStream publisher (contract and thread ownership in nts_pub.h).
 *
 * DESIGN. A single-producer single-consumer ring of shj_event slots:
 *   head   written by the loop (release), read by the publisher thread (acquire)
 *   acked  written by the publisher thread (release), read by the loop (acquire)
 * The loop fills slot head & mask when head - acked < cap, then publishes head+1.
 * The publisher thread owns [acked, head): it sends the window
 * [acked, acked + n) with js_PublishAsync, waits for all n acks with
 * js_PublishAsyncComplete(MaxWait = ack_timeout_ms), and only when every ack
 * was positive moves acked by n. Anything else (a publish refused while the
 * connection is down, an error ack, a timeout) drops the client's pending
 * list and resends the same window after a backoff: JetStream stores each id
 * once, so a resend of what it already has is acknowledged as a duplicate.
 * Window-at-a-time costs one round trip per window (1024 events), not per
 * event, and keeps the bookkeeping to two counters.
 *
 * The gap record (ring full) lives on the loop thread; closed gaps are handed
 * to the publisher thread under a mutex taken only when a gap opens/closes
 * and when the thread writes the state file (never per event).
 */
#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/event_json.h"
#include "core/shj_common.h"
#include "core/thread.h"
#include "nats/nts_codec.h"
#include "nats/nts_pub.h"

#define NTS_MAX_SERVERS 16
#define NTS_MAX_GAPS 1024 /* closed gaps kept for the state file (older ones are merged) */

typedef struct nts_gap {
    uint64_t first_seq, last_seq;
    int64_t first_recv, last_recv;
    uint64_t events;
} nts_gap;

struct nts_pub {
    /* options (read-only after open; strings owned) */
    char servers[1024], gateway[65], source[33], stream[65], prefix[33], state_path[1024];
    int format, create_stream, replicas, batch, ack_timeout_ms, close_timeout_ms;
    int64_t dup_window_ms;
    uint32_t kind_mask, cap, mask;
    uint64_t min_seq, max_seq;
    int64_t min_recv_ns, max_recv_ns;

    /* the ring */
    shj_event *ring;
    _Atomic uint64_t head;    /* loop: next slot to fill */
    _Atomic uint64_t acked;   /* thread: first slot not acknowledged */

    /* loop-owned */
    uint64_t pushed, filtered, gap_events_loop;
    int in_gap;
    nts_gap open_gap;

    /* shared under mu: closed gaps waiting for the state file */
    pthread_mutex_t mu;
    nts_gap gaps[NTS_MAX_GAPS];
    size_t n_gaps;
    uint64_t gaps_total;
    _Atomic int gaps_dirty;   /* also read by the thread without mu (a hint to write the file) */

    /* thread-owned, published through atomics for stats */
    pthread_t thread;
    int thread_started;
    _Atomic int stop;          /* 1: drain then quit (deadline below) */
    _Atomic int64_t stop_deadline_mono;
    _Atomic int state;
    _Atomic uint64_t published, acked_events, duplicates, resent;
    _Atomic uint64_t acked_seq;
    _Atomic int64_t acked_recv_ns;
    _Atomic uint64_t win_ok, win_err, win_dup; /* acks of the current window (client threads) */
    char last_error[200];      /* thread: last failure, for the close message */
};

/* Options ----------------------------------------------------------------- */

void nts_pub_opts_default(nts_pub_opts *o) {
    memset(o, 0, sizeof *o);
    o->stream = "SHIJIM";
    o->prefix = "shijim";
    o->format = NTS_FMT_BIN;
    o->replicas = 1;
    o->dup_window_ms = 2 * 3600 * 1000;
    o->kind_mask = shj_kind_bit(SHJ_KIND_TICK) | shj_kind_bit(SHJ_KIND_QUOTE) | shj_kind_bit(SHJ_KIND_BIDASK);
    o->max_events = 65536;
    o->batch = 1024;
    o->ack_timeout_ms = 2000;
    o->close_timeout_ms = 5000;
}

static int name_ok(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* State file -------------------------------------------------------------- */

/* Publisher thread (and close): temp -> rename, so a reader never sees half. */
static void write_state(nts_pub *p) {
    if (!p->state_path[0]) return;
    nts_gap gaps[NTS_MAX_GAPS];
    pthread_mutex_lock(&p->mu);
    size_t n = p->n_gaps;
    memcpy(gaps, p->gaps, n * sizeof gaps[0]);
    p->gaps_dirty = 0;
    pthread_mutex_unlock(&p->mu);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->state_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        shj_log(SHJ_LOG_WARN, "nats: cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "# shijim nats publisher state v1 (docs/nats.md)\n");
    fprintf(f, "gateway %s\nsource %s\nstream %s\n", p->gateway, p->source, p->stream);
    fprintf(f, "acked %" PRIu64 " %" PRId64 "\n", atomic_load(&p->acked_seq),
            atomic_load(&p->acked_recv_ns));
    for (size_t i = 0; i < n; i++)
        fprintf(f, "gap %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRIu64 "\n",
                gaps[i].first_seq, gaps[i].last_seq, gaps[i].first_recv, gaps[i].last_recv,
                gaps[i].events);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, p->state_path) != 0)
        shj_log(SHJ_LOG_WARN, "nats: cannot write %s: %s", p->state_path, strerror(errno));
}

static void add_gap(nts_pub *p, const nts_gap *g) {
    pthread_mutex_lock(&p->mu);
    if (p->n_gaps == NTS_MAX_GAPS) { /* merge the two oldest: a wider range, never a lost one */
        nts_gap *a = &p->gaps[0], *b = &p->gaps[1];
        if (b->last_seq > a->last_seq) a->last_seq = b->last_seq;
        if (b->first_seq < a->first_seq) a->first_seq = b->first_seq;
        if (b->last_recv > a->last_recv) a->last_recv = b->last_recv;
        a->events += b->events;
        memmove(&p->gaps[1], &p->gaps[2], (NTS_MAX_GAPS - 2) * sizeof p->gaps[0]);
        p->n_gaps--;
    }
    p->gaps[p->n_gaps++] = *g;
    p->gaps_total++;
    p->gaps_dirty = 1;
    pthread_mutex_unlock(&p->mu);
}

/* Loop side ---------------------------------------------------------------- */

static int wanted(const nts_pub *p, const shj_event *ev) {
    if (!(p->kind_mask & shj_kind_bit(ev->kind))) return 0;
    if (p->min_seq && ev->seq < p->min_seq) return 0;
    if (p->max_seq && ev->seq > p->max_seq) return 0;
    if (p->min_recv_ns && ev->ts_recv_ns < p->min_recv_ns) return 0;
    if (p->max_recv_ns && ev->ts_recv_ns > p->max_recv_ns) return 0;
    return 1;
}

static void close_gap(nts_pub *p) {
    if (!p->in_gap) return;
    p->in_gap = 0;
    add_gap(p, &p->open_gap);
    shj_log(SHJ_LOG_WARN,
            "nats %s: ring has room again; %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64
            ") were not published: republish them from the raw archive (state file %s)",
            p->source, p->open_gap.events, p->open_gap.first_seq, p->open_gap.last_seq,
            p->state_path[0] ? p->state_path : "(none)");
}

size_t nts_pub_push(nts_pub *p, const shj_event *evs, size_t n) {
    uint64_t head = atomic_load_explicit(&p->head, memory_order_relaxed);
    uint64_t acked = atomic_load_explicit(&p->acked, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const shj_event *ev = &evs[i];
        p->pushed++;
        if (!wanted(p, ev)) {
            p->filtered++;
            continue;
        }
        if (head - acked == p->cap) acked = atomic_load_explicit(&p->acked, memory_order_acquire);
        if (head - acked == p->cap) {
            if (!p->in_gap) {
                p->in_gap = 1;
                p->open_gap = (nts_gap){ev->seq, ev->seq, ev->ts_recv_ns, ev->ts_recv_ns, 0};
                shj_log(SHJ_LOG_WARN, "nats %s: %u events unacknowledged (JetStream down or slow): "
                        "newer events are left to the raw archive from seq %" PRIu64,
                        p->source, p->cap, ev->seq);
            }
            nts_gap *g = &p->open_gap;
            if (ev->seq < g->first_seq) g->first_seq = ev->seq;
            if (ev->seq > g->last_seq) g->last_seq = ev->seq;
            if (ev->ts_recv_ns < g->first_recv) g->first_recv = ev->ts_recv_ns;
            if (ev->ts_recv_ns > g->last_recv) g->last_recv = ev->ts_recv_ns;
            g->events++;
            p->gap_events_loop++;
            continue;
        }
        close_gap(p);
        p->ring[head & p->mask] = *ev;
        head++;
        atomic_store_explicit(&p->head, head, memory_order_release);
    }
    return n;
}

int nts_pub_in_gap(const nts_pub *p) { return p->in_gap; }

/* Publisher thread --------------------------------------------------------- */

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
    (void)js;
    nts_pub *p = closure;
    if (pa && !pae) {
        if (pa->Duplicate) atomic_fetch_add(&p->win_dup, 1);
        atomic_fetch_add(&p->win_ok, 1);
    } else {
        atomic_fetch_add(&p->win_err, 1);
    }
    natsMsg_Destroy(msg);
}

static int stopping_now(nts_pub *p) {
    return atomic_load(&p->stop) && clk_mono_ns() >= atomic_load(&p->stop_deadline_mono);
}

static natsConnection *connect_loop(nts_pub *p) {
    char buf[sizeof p->servers];
    const char *urls[NTS_MAX_SERVERS];
    int n = 0;
    shj_strlcpy(buf, p->servers, sizeof buf);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < NTS_MAX_SERVERS;
         tok = strtok_r(NULL, ",", &save))
        urls[n++] = tok;
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    if (natsOptions_Create(&o) != NATS_OK) return NULL;
    natsOptions_SetServers(o, urls, n);
    natsOptions_SetMaxReconnect(o, -1);          /* an outage is waited out, never fatal */
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetTimeout(o, 1000);
    natsOptions_SetPingInterval(o, 1000);        /* a dead node is noticed within ~2 s */
    natsOptions_SetMaxPingsOut(o, 2);
    natsOptions_SetReconnectBufSize(o, 16 << 20);
    char name[128];
    snprintf(name, sizeof name, "shijim-pub %s/%s", p->gateway, p->source);
    natsOptions_SetName(o, name);
    int logged = 0;
    while (!stopping_now(p)) {
        natsStatus s = natsConnection_Connect(&nc, o);
        if (s == NATS_OK) break;
        if (!logged++)
            shj_log(SHJ_LOG_WARN, "nats %s: cannot connect to %s: %s (retrying)", p->source,
                    p->servers, natsStatus_GetText(s));
        nc = NULL;
        sleep_ms(250);
    }
    natsOptions_Destroy(o);
    return nc;
}

static int ensure_stream(nts_pub *p, jsCtx *js) {
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, p->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return SHJ_OK;
    }
    if (s != NATS_NOT_FOUND || !p->create_stream) {
        snprintf(p->last_error, sizeof p->last_error, "stream %s: %s (%d)", p->stream,
                 natsStatus_GetText(s), (int)jerr);
        return SHJ_ERR;
    }
    char subj[48];
    snprintf(subj, sizeof subj, "%s.>", p->prefix);
    const char *subjects[] = {subj};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = p->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = p->replicas;
    cfg.Duplicates = p->dup_window_ms * 1000000LL;
    s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) {
        if (si) jsStreamInfo_Destroy(si);
        shj_log(SHJ_LOG_INFO, "nats: stream %s (%s, R%d, duplicate window %" PRId64 " s) ready",
                p->stream, subj, p->replicas, p->dup_window_ms / 1000);
        return SHJ_OK;
    }
    snprintf(p->last_error, sizeof p->last_error, "cannot create stream %s: %s (%d)", p->stream,
             natsStatus_GetText(s), (int)jerr);
    return SHJ_ERR;
}

/* Send [acked, acked + n). 1: all acknowledged; 0: resend later. */
static int send_window(nts_pub *p, jsCtx *js, uint64_t from, uint32_t n) {
    unsigned char bin[NTS_BIN_MAX];
    char json[EVJ_MAX], subj[NTS_SUBJECT_MAX], id[NTS_ID_MAX];
    atomic_store(&p->win_ok, 0);
    atomic_store(&p->win_err, 0);
    atomic_store(&p->win_dup, 0);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    uint32_t sent = 0;
    natsStatus s = NATS_OK;
    for (; sent < n; sent++) {
        const shj_event *ev = &p->ring[(from + sent) & p->mask];
        nts_subject(ev, p->prefix, subj, sizeof subj);
        nts_msg_id(ev, p->gateway, p->source, id, sizeof id);
        const void *data;
        size_t len;
        if (p->format == NTS_FMT_JSON) {
            len = evj_format(ev, json, sizeof json);
            data = json;
        } else {
            len = nts_encode(ev, bin);
            data = bin;
        }
        s = js_PublishAsync(js, subj, data, (int)len, &po);
        if (s != NATS_OK) break;
    }
    atomic_fetch_add(&p->published, sent);
    jsPubOptions cpo;
    jsPubOptions_Init(&cpo);
    cpo.MaxWait = p->ack_timeout_ms;
    natsStatus cs = sent ? js_PublishAsyncComplete(js, &cpo) : NATS_OK;
    if (s == NATS_OK && cs == NATS_OK && atomic_load(&p->win_ok) == n && !atomic_load(&p->win_err)) {
        atomic_fetch_add(&p->duplicates, atomic_load(&p->win_dup));
        return 1;
    }
    /* Take back whatever is still pending: late acks for it are then
     * discarded by the client, so the next window's counters stay clean. */
    natsMsgList pending = {0};
    if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
    snprintf(p->last_error, sizeof p->last_error, "%s", s != NATS_OK ? natsStatus_GetText(s)
             : cs != NATS_OK ? natsStatus_GetText(cs) : "negative acknowledgment");
    return 0;
}

static void *pub_thread(void *arg) {
    nts_pub *p = arg;
    shj_thread_background("shj-nats-pub");
    natsConnection *nc = connect_loop(p);
    jsCtx *js = NULL;
    if (nc) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.PublishAsync.AckHandler = on_ack;
        jo.PublishAsync.AckHandlerClosure = p;
        jo.PublishAsync.MaxPending = p->batch;
        jo.Wait = p->ack_timeout_ms;
        if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) js = NULL;
    }
    int stream_ok = 0, backoff = 50, logged_down = 0;
    int64_t last_state_write = 0;
    uint64_t acked_written = 0;
    while (js) {
        uint64_t acked = atomic_load_explicit(&p->acked, memory_order_relaxed);
        uint64_t head = atomic_load_explicit(&p->head, memory_order_acquire);
        int64_t now = clk_mono_ns();
        if ((atomic_load(&p->acked_seq) != acked_written || atomic_load(&p->gaps_dirty)) &&
            now - last_state_write > 200000000LL) {
            acked_written = atomic_load(&p->acked_seq);
            write_state(p);
            last_state_write = now;
        }
        if (head == acked) {
            if (atomic_load(&p->stop)) break;
            sleep_ms(1); /* idle: at most 1 ms of added latency, no lock on the loop's side */
            continue;
        }
        if (stopping_now(p)) break;
        if (!stream_ok && !(stream_ok = ensure_stream(p, js) == SHJ_OK)) {
            atomic_store(&p->state, NTS_DOWN);
            if (!logged_down++) shj_log(SHJ_LOG_WARN, "nats %s: %s (retrying)", p->source, p->last_error);
            sleep_ms(backoff);
            backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
            continue;
        }
        uint32_t n = (uint32_t)(head - acked < (uint64_t)p->batch ? head - acked : (uint64_t)p->batch);
        if (send_window(p, js, acked, n)) {
            const shj_event *last = &p->ring[(acked + n - 1) & p->mask];
            atomic_store(&p->acked_seq, last->seq);
            atomic_store(&p->acked_recv_ns, last->ts_recv_ns);
            atomic_fetch_add(&p->acked_events, n);
            atomic_store_explicit(&p->acked, acked + n, memory_order_release);
            if (atomic_load(&p->state) != NTS_UP) {
                if (logged_down) shj_log(SHJ_LOG_INFO, "nats %s: JetStream acknowledges again", p->source);
                atomic_store(&p->state, NTS_UP);
            }
            backoff = 50;
            logged_down = 0;
        } else {
            atomic_fetch_add(&p->resent, 1);
            atomic_store(&p->state, NTS_DOWN);
            if (!logged_down++)
                shj_log(SHJ_LOG_WARN, "nats %s: %" PRIu64 " events unacknowledged (%s): resending",
                        p->source, head - acked, p->last_error);
            sleep_ms(backoff);
            backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
        }
    }
    if (js) jsCtx_Destroy(js);
    if (nc) {
        natsConnection_Close(nc);
        natsConnection_Destroy(nc);
    }
    return NULL;
}

/* Open / close ------------------------------------------------------------ */

nts_pub *nts_pub_open(const nts_pub_opts *o, char *err, size_t errlen) {
    if (!o->servers || !*o->servers) {
        shj_fail(err, errlen, "nats: servers are required (nats://host:port[,...])");
        return NULL;
    }
    if (!name_ok(o->gateway) || strlen(o->gateway) > 64) {
        shj_fail(err, errlen, "nats: gateway id \"%s\" must be 1..64 of [A-Za-z0-9_-]",
                 o->gateway ? o->gateway : "");
        return NULL;
    }
    if (!name_ok(o->source) || strlen(o->source) > 32) {
        shj_fail(err, errlen, "nats: source name \"%s\" must be 1..32 of [A-Za-z0-9_-]",
                 o->source ? o->source : "");
        return NULL;
    }
    uint32_t cap = o->max_events ? o->max_events : 65536;
    if (cap & (cap - 1) || cap < 16) {
        shj_fail(err, errlen, "nats: max_events %u must be a power of two >= 16", cap);
        return NULL;
    }
    nts_pub *p = calloc(1, sizeof *p);
    if (!p || !(p->ring = aligned_alloc(64, (size_t)cap * sizeof(shj_event)))) {
        free(p);
        shj_fail(err, errlen, "nats: out of memory for %u events", cap);
        return NULL;
    }
    shj_strlcpy(p->servers, o->servers, sizeof p->servers);
    shj_strlcpy(p->gateway, o->gateway, sizeof p->gateway);
    shj_strlcpy(p->source, o->source, sizeof p->source);
    shj_strlcpy(p->stream, o->stream && *o->stream ? o->stream : "SHIJIM", sizeof p->stream);
    shj_strlcpy(p->prefix, o->prefix && *o->prefix ? o->prefix : "shijim", sizeof p->prefix);
    if (o->state_path) shj_strlcpy(p->state_path, o->state_path, sizeof p->state_path);
    p->format = o->format == NTS_FMT_JSON ? NTS_FMT_JSON : NTS_FMT_BIN;
    p->create_stream = o->create_stream;
    p->replicas = o->replicas > 0 ? o->replicas : 1;
    p->dup_window_ms = o->dup_window_ms > 0 ? o->dup_window_ms : 2 * 3600 * 1000;
    p->kind_mask = o->kind_mask ? o->kind_mask : SHJ_MASK_TICK | SHJ_MASK_QUOTE | SHJ_MASK_BIDASK;
    p->batch = o->batch > 0 ? o->batch : 1024;
    if ((uint32_t)p->batch > cap) p->batch = (int)cap;
    p->ack_timeout_ms = o->ack_timeout_ms > 0 ? o->ack_timeout_ms : 2000;
    p->close_timeout_ms = o->close_timeout_ms > 0 ? o->close_timeout_ms : 5000;
    p->min_seq = o->min_seq;
    p->max_seq = o->max_seq;
    p->min_recv_ns = o->min_recv_ns;
    p->max_recv_ns = o->max_recv_ns;
    p->cap = cap;
    p->mask = cap - 1;
    pthread_mutex_init(&p->mu, NULL);
    atomic_store(&p->state, NTS_CONNECTING);
    if (pthread_create(&p->thread, NULL, pub_thread, p) != 0) {
        shj_fail(err, errlen, "nats: cannot start the publisher thread");
        pthread_mutex_destroy(&p->mu);
        free(p->ring);
        free(p);
        return NULL;
    }
    p->thread_started = 1;
    return p;
}

void nts_pub_get_stats(const nts_pub *p, nts_pub_stats *out) {
    nts_pub *q = (nts_pub *)p; /* atomics are read, nothing changes */
    memset(out, 0, sizeof *out);
    out->pushed = p->pushed;
    out->filtered = p->filtered;
    out->queued = atomic_load(&q->head) - atomic_load(&q->acked);
    out->published = atomic_load(&q->published);
    out->acked = atomic_load(&q->acked_events);
    out->duplicates = atomic_load(&q->duplicates);
    out->resent_windows = atomic_load(&q->resent);
    out->gap_events = p->gap_events_loop;
    pthread_mutex_lock(&q->mu);
    out->gaps = p->gaps_total + (p->in_gap ? 1 : 0);
    pthread_mutex_unlock(&q->mu);
    out->acked_seq = atomic_load(&q->acked_seq);
    out->acked_recv_ns = atomic_load(&q->acked_recv_ns);
    out->state = atomic_load(&q->state);
}

size_t nts_pub_status(const nts_pub *p, char *buf, size_t cap) {
    static const char *const names[] = {"CONNECTING", "UP", "DOWN", "CLOSED"};
    nts_pub_stats st;
    nts_pub_get_stats(p, &st);
    int n = snprintf(buf, cap, "%s q %" PRIu64 " ack %" PRIu64 " dup %" PRIu64 " gap %" PRIu64,
                     names[st.state & 3], st.queued, st.acked, st.duplicates, st.gap_events);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int nts_pub_close(nts_pub *p, nts_pub_stats *final, char *err, size_t errlen) {
    int rc = SHJ_OK;
    close_gap(p);
    atomic_store(&p->stop_deadline_mono, clk_mono_ns() + (int64_t)p->close_timeout_ms * 1000000LL);
    atomic_store(&p->stop, 1);
    if (p->thread_started) pthread_join(p->thread, NULL);
    uint64_t head = atomic_load(&p->head), acked = atomic_load(&p->acked);
    if (head != acked) {
        /* Unacknowledged at close: they are in the raw archive, name them. */
        nts_gap g = {UINT64_MAX, 0, INT64_MAX, INT64_MIN, head - acked};
        for (uint64_t i = acked; i < head; i++) {
            const shj_event *ev = &p->ring[i & p->mask];
            if (ev->seq < g.first_seq) g.first_seq = ev->seq;
            if (ev->seq > g.last_seq) g.last_seq = ev->seq;
            if (ev->ts_recv_ns < g.first_recv) g.first_recv = ev->ts_recv_ns;
            if (ev->ts_recv_ns > g.last_recv) g.last_recv = ev->ts_recv_ns;
        }
        add_gap(p, &g);
        p->gap_events_loop += g.events;
        rc = shj_fail(err, errlen,
                      "nats %s: %" PRIu64 " events not acknowledged at close (seq %" PRIu64 "..%" PRIu64
                      ", %s): recorded as a gap%s%s", p->source, g.events, g.first_seq, g.last_seq,
                      p->last_error[0] ? p->last_error : "no connection",
                      p->state_path[0] ? " in " : "", p->state_path);
    }
    write_state(p);
    atomic_store(&p->state, NTS_CLOSED);
    if (final) nts_pub_get_stats(p, final);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p);
    return rc;
}
