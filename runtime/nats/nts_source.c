/* nts_source.c — the JetStream consumer source (contract in nts_source.h).
 *
 * DESIGN. One ring of `ring` slots, three cursors, each written by one thread:
 *   head    fetch thread: next slot to fill (a fetched, decoded message)
 *   done    loop: slots [.., done) were published on the bus or skipped
 *   ackable loop: slots [.., ackable) were taken by every bus subscriber
 *   acked   fetch thread: slots [.., acked) are acknowledged and free
 * acked <= ackable <= done <= head. The loop learns what the bus released
 * from bus_published - bus_pending (the bus frees slots in publish order),
 * comparing it with the bus position it stored in each slot when publishing.
 * A 5 ms timer on the loop moves ackable forward; the fetch thread acks
 * between fetches (fetches wait at most 100 ms), so an ack follows the bus
 * by at most ~100 ms.
 */
#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/instrument.h"
#include "core/shj_common.h"
#include "core/thread.h"
#include "loop/bus.h"
#include "loop/rt.h"
#include "nats/nts_codec.h"
#include "nats/nts_source.h"

/* Stream sequences this process published, remembered for redeliveries:
 * a message comes again when its ack was lost (a node died) or was late,
 * possibly after newer ones (a killed consumer's unacked messages come back
 * to its successor after ack_wait), so a high-water mark is not enough. */
#define NTS_RECENT (1u << 17)

typedef struct nts_slot {
    natsMsg *msg;
    uint64_t stream_seq;
    uint64_t bus_pos;   /* bus_published() right after this event's commit; 0 = not on the bus */
    int bad;            /* did not decode */
    shj_event ev;
} nts_slot;

typedef struct nts_src {
    src_source base;    /* first: the runtime sees a src_source */
    char servers[1024], stream[65], durable[65], filter[128];
    int batch, ack_wait_ms;
    uint32_t cap, mask;
    nts_slot *ring;
    _Atomic uint64_t head, done, ackable, acked;
    uint64_t high_stream_seq; /* loop: highest stream seq published */
    uint64_t *recent;         /* loop: stream seqs published, direct-mapped by seq & (NTS_RECENT - 1) */

    ev_async wake;
    ev_timer tick;
    pthread_t thread;
    int thread_started;
    _Atomic int quit;
    _Atomic uint64_t fetched, published, n_acked, redelivered, malformed, fetch_errors;
    _Atomic uint64_t last_stream_seq;
    _Atomic int connected;
    int logged_bad;
} nts_src;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void nts_src_opts_default(nts_src_opts *o) {
    memset(o, 0, sizeof *o);
    o->stream = "SHIJIM";
    o->filter = "shijim.>";
    o->batch = 256;
    o->ring = 4096;
    o->ack_wait_ms = 30000;
}

/* Fetch thread ------------------------------------------------------------- */

/* The batch to fetch when `want` is wanted. libnats 3.4.1 (Debian 12) has a
 * heap overflow in natsSubscription_Fetch (nats.c #749, fixed in 3.10.0):
 * when k messages are already queued on the subscription (late deliveries
 * for an earlier fetch that timed out) it takes them, then asks the server
 * for batch - k more and loops until count == batch - k; if k > batch - k
 * that never holds and it writes past its batch-sized array until the fetch
 * times out. Fetching 1 while anything is queued drains the queue one message
 * at a time (k <= 1 = batch, or k = 0); with nothing queued here, the fetch
 * would need more than batch/2 late messages to land in the microseconds
 * between this check and its own non-blocking drain (not seen in the cluster
 * test's runs; libnats >= 3.10 removes the hazard). */
static int nts_safe_batch(natsSubscription *sub, int want) {
    int queued = 0;
    if (natsSubscription_GetPending(sub, &queued, NULL) != NATS_OK || queued > 0) return 1;
    return want;
}

static void ack_released(nts_src *s) {
    uint64_t acked = atomic_load_explicit(&s->acked, memory_order_relaxed);
    uint64_t upto = atomic_load_explicit(&s->ackable, memory_order_acquire);
    for (; acked < upto; acked++) {
        nts_slot *sl = &s->ring[acked & s->mask];
        if (natsMsg_Ack(sl->msg, NULL) == NATS_OK) atomic_fetch_add(&s->n_acked, 1);
        natsMsg_Destroy(sl->msg);
        sl->msg = NULL;
    }
    atomic_store_explicit(&s->acked, acked, memory_order_release);
}

static natsSubscription *subscribe_loop(nts_src *s, natsConnection **ncp, jsCtx **jsp) {
    char buf[sizeof s->servers];
    const char *urls[16];
    int n = 0;
    shj_strlcpy(buf, s->servers, sizeof buf);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save))
        urls[n++] = tok;
    natsOptions *o = NULL;
    if (natsOptions_Create(&o) != NATS_OK) return NULL;
    natsOptions_SetServers(o, urls, n);
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetTimeout(o, 1000);
    natsOptions_SetPingInterval(o, 1000);
    natsOptions_SetMaxPingsOut(o, 2);
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    int logged = 0;
    while (!atomic_load(&s->quit)) {
        natsStatus st = nc ? NATS_OK : natsConnection_Connect(&nc, o);
        if (st == NATS_OK && !js) st = natsConnection_JetStream(&js, nc, NULL);
        jsErrCode jerr = 0;
        if (st == NATS_OK) {
            jsSubOptions so;
            jsSubOptions_Init(&so);
            so.Stream = s->stream;
            so.Config.AckPolicy = js_AckExplicit;
            so.Config.AckWait = (int64_t)s->ack_wait_ms * 1000000LL;
            so.Config.MaxAckPending = (int64_t)s->cap * 2;
            st = js_PullSubscribe(&sub, js, s->filter, s->durable, NULL, &so, &jerr);
            if (st == NATS_OK) break;
            sub = NULL;
        }
        if (!logged++)
            shj_log(SHJ_LOG_WARN, "source %s: cannot consume %s/%s at %s: %s (%d) (retrying)",
                    s->base.name, s->stream, s->durable, s->servers, natsStatus_GetText(st), (int)jerr);
        if (st != NATS_OK && !nc) nc = NULL;
        sleep_ms(250);
    }
    natsOptions_Destroy(o);
    *ncp = nc;
    *jsp = js;
    return sub;
}

static void *fetch_thread(void *arg) {
    nts_src *s = arg;
    shj_thread_background("shj-nats-fetch");
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsSubscription *sub = subscribe_loop(s, &nc, &js);
    if (sub) {
        atomic_store(&s->connected, 1);
        shj_log(SHJ_LOG_INFO, "source %s: consuming %s (%s) as durable %s", s->base.name,
                s->stream, s->filter, s->durable);
    }
    int logged_err = 0;
    while (sub && !atomic_load(&s->quit)) {
        ack_released(s);
        uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
        uint64_t room = s->cap - (head - atomic_load_explicit(&s->acked, memory_order_relaxed));
        if (room == 0) {
            sleep_ms(1);
            continue;
        }
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        int want = nts_safe_batch(sub, (int)(room < (uint64_t)s->batch ? room : (uint64_t)s->batch));
        natsStatus st = natsSubscription_Fetch(&list, sub, want, 100, &jerr);
        if (st == NATS_TIMEOUT) continue;
        if (st != NATS_OK) {
            atomic_fetch_add(&s->fetch_errors, 1);
            if (!logged_err++)
                shj_log(SHJ_LOG_WARN, "source %s: fetch: %s (%d) (retrying)", s->base.name,
                        natsStatus_GetText(st), (int)jerr);
            atomic_store(&s->connected, 0);
            natsMsgList_Destroy(&list);
            sleep_ms(100);
            continue;
        }
        if (logged_err) {
            shj_log(SHJ_LOG_INFO, "source %s: fetching again", s->base.name);
            logged_err = 0;
        }
        atomic_store(&s->connected, 1);
        for (int i = 0; i < list.Count; i++) {
            nts_slot *sl = &s->ring[head & s->mask];
            sl->msg = list.Msgs[i];
            list.Msgs[i] = NULL; /* the ring owns it now */
            jsMsgMetaData *meta = NULL;
            sl->stream_seq = 0;
            if (natsMsg_GetMetaData(&meta, sl->msg) == NATS_OK) {
                sl->stream_seq = meta->Sequence.Stream;
                jsMsgMetaData_Destroy(meta);
            }
            sl->bus_pos = 0;
            sl->bad = nts_decode(natsMsg_GetData(sl->msg), (size_t)natsMsg_GetDataLength(sl->msg),
                                 &sl->ev, NULL, 0) != SHJ_OK;
            head++;
        }
        atomic_fetch_add(&s->fetched, (uint64_t)list.Count);
        natsMsgList_Destroy(&list);
        atomic_store_explicit(&s->head, head, memory_order_release);
        ev_async_send(s->base.loop, &s->wake);
    }
    ack_released(s); /* what the loop released before stop */
    /* Slots fetched but not acked are destroyed unacked: the server redelivers them. */
    uint64_t head = atomic_load(&s->head);
    for (uint64_t i = atomic_load(&s->acked); i < head; i++) {
        natsMsg_Destroy(s->ring[i & s->mask].msg);
        s->ring[i & s->mask].msg = NULL;
    }
    /* Destroy without Unsubscribe: the durable consumer must outlive us. */
    if (sub) natsSubscription_Destroy(sub);
    if (js) jsCtx_Destroy(js);
    if (nc) {
        natsConnection_Close(nc);
        natsConnection_Destroy(nc);
    }
    return NULL;
}

/* Loop thread -------------------------------------------------------------- */

static void release_taken(nts_src *s) {
    bus *b = s->base.bus;
    uint64_t taken = bus_published(b) - bus_pending(b);
    uint64_t a = atomic_load_explicit(&s->ackable, memory_order_relaxed);
    uint64_t done = atomic_load_explicit(&s->done, memory_order_relaxed);
    while (a < done && s->ring[a & s->mask].bus_pos <= taken) a++;
    atomic_store_explicit(&s->ackable, a, memory_order_release);
}

static void drain(nts_src *s) {
    if (s->base.state != SRC_RUNNING) return;
    uint64_t head = atomic_load_explicit(&s->head, memory_order_acquire);
    uint64_t done = atomic_load_explicit(&s->done, memory_order_relaxed);
    for (; done < head; done++) {
        nts_slot *sl = &s->ring[done & s->mask];
        if (sl->bad) {
            atomic_fetch_add(&s->malformed, 1);
            if (!s->logged_bad++)
                shj_log(SHJ_LOG_WARN, "source %s: message %" PRIu64 " of %s does not decode "
                        "(acked and counted as malformed; only the first is logged)",
                        s->base.name, sl->stream_seq, s->stream);
            continue;
        }
        if (sl->stream_seq && s->recent[sl->stream_seq & (NTS_RECENT - 1)] == sl->stream_seq) {
            atomic_fetch_add(&s->redelivered, 1);
            continue;
        }
        if (rt_event_budget() == 0) break; /* --events reached: rt stops us */
        shj_event *e = bus_claim(s->base.bus);
        if (!e) {
            s->base.state = SRC_PAUSED;
            s->base.counters.pauses++;
            break;
        }
        *e = sl->ev;
        e->source_id = s->base.source_id;
        e->inst_id = inst_intern(e->code, strnlen(e->code, sizeof e->code), e->exchange, e->sec_type);
        bus_commit(s->base.bus);
        sl->bus_pos = bus_published(s->base.bus);
        if (sl->stream_seq > s->high_stream_seq) s->high_stream_seq = sl->stream_seq;
        s->recent[sl->stream_seq & (NTS_RECENT - 1)] = sl->stream_seq;
        s->base.counters.events++;
        if (e->kind < SHJ_KIND_MAX) s->base.counters.per_kind[e->kind]++;
        atomic_fetch_add(&s->published, 1);
        atomic_store(&s->last_stream_seq, s->high_stream_seq);
    }
    atomic_store_explicit(&s->done, done, memory_order_release);
    release_taken(s);
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    drain(shj_container_of(w, nts_src, wake));
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    nts_src *s = shj_container_of(w, nts_src, tick);
    drain(s);
    release_taken(s);
}

static int op_start(src_source *base, char *err, size_t errlen) {
    nts_src *s = (nts_src *)base;
    ev_async_init(&s->wake, wake_cb);
    ev_async_start(base->loop, &s->wake);
    ev_timer_init(&s->tick, tick_cb, 0.005, 0.005);
    ev_timer_start(base->loop, &s->tick);
    base->state = SRC_RUNNING;
    if (pthread_create(&s->thread, NULL, fetch_thread, s) != 0) {
        ev_async_stop(base->loop, &s->wake);
        ev_timer_stop(base->loop, &s->tick);
        return shj_fail(err, errlen, "source %s: cannot start the fetch thread", base->name);
    }
    s->thread_started = 1;
    return SHJ_OK;
}

static void op_stop(src_source *base) {
    nts_src *s = (nts_src *)base;
    if (base->state == SRC_STOPPED) return;
    if (base->bus) release_taken(s);
    atomic_store(&s->quit, 1);
    if (s->thread_started) {
        pthread_join(s->thread, NULL);
        s->thread_started = 0;
    }
    if (base->loop) {
        ev_async_stop(base->loop, &s->wake);
        ev_timer_stop(base->loop, &s->tick);
    }
    base->state = SRC_STOPPED;
}

static void op_resume(src_source *base) {
    base->state = SRC_RUNNING;
    drain((nts_src *)base);
}

static int op_subscribe(src_source *base, const src_sub_req *req, char *err, size_t errlen) {
    SHJ_UNUSED(req);
    return shj_fail(err, errlen, "source %s: a NATS source takes what its subject filter selects "
                    "(filter option), not subscriptions", base->name);
}

static void op_free(src_source *base) {
    nts_src *s = (nts_src *)base;
    op_stop(base);
    free(s->ring);
    free(s->recent);
    free(s);
}

static size_t op_status(const src_source *base, char *buf, size_t cap) {
    nts_src_stats st;
    nts_src_get_stats(base, &st);
    int n = snprintf(buf, cap, "%s fetched %" PRIu64 " acked %" PRIu64 " redelivered %" PRIu64,
                     st.connected ? "up" : "down", st.fetched, st.acked, st.redelivered);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static const src_ops nts_ops = {
    .type = "nats",
    .start = op_start,
    .stop = op_stop,
    .resume = op_resume,
    .subscribe = op_subscribe,
    .unsubscribe = op_subscribe,
    .free = op_free,
    .status = op_status,
};

int nts_src_get_stats(const src_source *base, nts_src_stats *out) {
    if (!base || base->ops != &nts_ops) return SHJ_ERR;
    nts_src *s = (nts_src *)base;
    memset(out, 0, sizeof *out);
    out->fetched = atomic_load(&s->fetched);
    out->published = atomic_load(&s->published);
    out->acked = atomic_load(&s->n_acked);
    out->redelivered = atomic_load(&s->redelivered);
    out->malformed = atomic_load(&s->malformed);
    out->fetch_errors = atomic_load(&s->fetch_errors);
    out->last_stream_seq = atomic_load(&s->last_stream_seq);
    out->connected = atomic_load(&s->connected);
    return SHJ_OK;
}

src_source *nts_src_new(const char *name, const nts_src_opts *o, char *err, size_t errlen) {
    if (!o->servers || !*o->servers) {
        shj_fail(err, errlen, "nats source: servers are required");
        return NULL;
    }
    if (!o->durable || !*o->durable || strlen(o->durable) > 64 || strpbrk(o->durable, ".*> \t")) {
        shj_fail(err, errlen, "nats source: durable name \"%s\" must be 1..64 characters without . * > or spaces",
                 o->durable ? o->durable : "");
        return NULL;
    }
    uint32_t cap = o->ring ? o->ring : 4096;
    if (cap & (cap - 1) || cap < 16) {
        shj_fail(err, errlen, "nats source: ring %u must be a power of two >= 16", cap);
        return NULL;
    }
    nts_src *s = calloc(1, sizeof *s);
    if (!s || !(s->ring = calloc(cap, sizeof *s->ring)) ||
        !(s->recent = calloc(NTS_RECENT, sizeof *s->recent))) {
        if (s) free(s->ring);
        free(s);
        shj_fail(err, errlen, "nats source: out of memory");
        return NULL;
    }
    src_init(&s->base, &nts_ops, name && *name ? name : "nats");
    shj_strlcpy(s->servers, o->servers, sizeof s->servers);
    shj_strlcpy(s->stream, o->stream && *o->stream ? o->stream : "SHIJIM", sizeof s->stream);
    shj_strlcpy(s->durable, o->durable, sizeof s->durable);
    shj_strlcpy(s->filter, o->filter && *o->filter ? o->filter : "shijim.>", sizeof s->filter);
    s->batch = o->batch > 0 ? o->batch : 256;
    s->ack_wait_ms = o->ack_wait_ms > 0 ? o->ack_wait_ms : 30000;
    s->cap = cap;
    s->mask = cap - 1;
    return &s->base;
}
