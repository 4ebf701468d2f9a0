/* sj_backfill.c — fill a stream gap from Shioaji's historical ticks.
 *
 * DESIGN. Gap events are in receive time; history is in exchange time, and
 * the two clocks need not agree (the simulated market runs its own clock).
 * So the window asked for is found per instrument from the ticks themselves:
 * from the exchange time of the last tick received before the loss to the
 * exchange time of the first tick received after it (found by waiting
 * backfill_delay_s after the reconnect; without one, the outage's length is
 * added to the last tick's time). A bus subscriber records every live tick
 * of this source (a ring of the most recent 65536) so that the answer can
 * be de-duplicated as a multiset on (instrument, exchange time, price,
 * volume): a history tick that matches one that did arrive is not sent
 * again; every other one is published flagged SHJ_FLAG_BACKFILL.
 *
 * A backfilled tick is archived like any payload: a tick_stk/tick_fop JSON
 * built from the history row with "backfill":true, so the archive is
 * complete, and it goes through the one ingest path (src_deliver_flags). The
 * parser maps "backfill":true back to SHJ_FLAG_BACKFILL, so a replay of the
 * archive still knows which ticks were back-filled.
 *
 * The window and the ticks that arrived in it are fixed once, when the job
 * is first due (backfill_prepare, sj_backfill.c): a job that waits in the budget's
 * queue (sj_bflimit.c) for hours still asks for the same interval and
 * still de-duplicates against what arrived, though the record has moved on.
 *
 * Limits: one request per gap and instrument, paced with every other REST
 * call (rate_limit per rate_window_s) and counted against the backfill
 * budget (sj_bflimit.c); a window crossing midnight is asked for on the
 * date of its start only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/instrument.h"
#include "parse/parse.h"
#include "shioaji/sj_internal.h"
#include "core/names.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"
#include "shioaji/sj_ticks.h"


/* The record of ticks that arrived --------------------------------------------- */

static size_t record_ticks(void *ctx, const shj_event *evs, size_t n) {
    sj_src *s = ctx;
    for (size_t i = 0; i < n; i++) {
        const shj_event *ev = &evs[i];
        if (ev->source_id != s->base.source_id || ev->kind != SHJ_KIND_TICK ||
            (ev->flags & SHJ_FLAG_BACKFILL))
            continue;
        if (ring_len(&s->seen) == SJ_SEEN_CAP) ring_pop(&s->seen); /* a window: the oldest goes */
        sj_seen *x = ring_push(&s->seen);
        if (!x) continue; /* out of memory: this tick is not a dedup candidate */
        x->inst_id = ev->inst_id;
        x->volume = ev->volume;
        x->ts_exch_ns = ev->ts_exch_ns;
        x->ts_recv_ns = ev->ts_recv_ns;
        x->close = ev->close;
    }
    return n;
}

int sj_backfill_init(sj_src *s) {
    if (s->bus_sub) return SHJ_OK;
    if (!s->base.bus) return SHJ_ERR;
    s->bus_sub = bus_subscribe(s->base.bus, "shioaji-dedup", shj_kind_bit(SHJ_KIND_TICK), NULL, 0,
                               BUS_BLOCK, record_ticks, s);
    return s->bus_sub ? SHJ_OK : SHJ_ERR;
}

void sj_backfill_free(sj_src *s) {
    if (s->bus_sub && s->base.bus) bus_unsubscribe(s->base.bus, s->bus_sub);
    s->bus_sub = NULL;
    ring_free(&s->seen);
    ring_free(&s->bfq);
    sj_bflimit_free(s);
}

/* Gaps -> requests ------------------------------------------------------------------ */

void sj_backfill_gap(sj_src *s, int sub, int64_t g0, int64_t g1) {
    if (!s->bus_sub) return;
    sj_job j = {.type = SJ_JOB_TICKS, .sub = sub, .stream = -1, .g0_ns = g0, .g1_ns = g1};
    j.not_before_mono = clk_mono_ns() + (int64_t)(s->backfill_delay_s * 1e9);
    sj_push_job(s, &j, 0);
}

/* Exchange-time window of the gap for one instrument, from the ticks seen. */
static int gap_window(sj_src *s, const sj_job *j, int64_t *t0, int64_t *t1) {
    uint32_t id = inst_find(s->subs[j->sub].real, strlen(s->subs[j->sub].real));
    int64_t before = INT64_MIN, after = INT64_MAX;
    for (size_t i = 0; id && i < ring_len(&s->seen); i++) {
        const sj_seen *x = ring_at(&s->seen, i);
        if (x->inst_id != id) continue;
        if (x->ts_recv_ns <= j->g0_ns && x->ts_exch_ns > before) before = x->ts_exch_ns;
        if (x->ts_recv_ns >= j->g1_ns && x->ts_exch_ns < after) after = x->ts_exch_ns;
    }
    int64_t outage = j->g1_ns - j->g0_ns + CLK_NS_PER_SEC;
    if (before == INT64_MIN && after == INT64_MAX) return 0; /* nothing to anchor the window */
    if (before == INT64_MIN) before = after - outage;
    if (after == INT64_MAX) after = before + outage;
    *t0 = before;
    *t1 = after;
    return 1;
}

static void ticks_release(sj_job *j) {
    free(j->arrived);
    j->arrived = NULL;
}

/* Fix the job's exchange-time window and snapshot the ticks that arrived in
 * it. 0 when nothing anchors the window (logged; the job is dropped). */
static int backfill_prepare(sj_src *s, sj_job *j) {
    if (j->prepared) return 1;
    const sj_sub *sub = &s->subs[j->sub];
    if (sub->removed || !gap_window(s, j, &j->t0_ns, &j->t1_ns)) {
        shj_log(SHJ_LOG_WARN, "source %s: no tick of %s around the gap to anchor a backfill; skipped",
                s->base.name, sub->real);
        return 0;
    }
    /* The ticks that did arrive in the window, to be matched at most once each. */
    uint32_t id = inst_find(sub->real, strlen(sub->real));
    size_t n = 0;
    for (size_t i = 0; id && i < ring_len(&s->seen); i++) {
        const sj_seen *x = ring_at(&s->seen, i);
        n += x->inst_id == id && x->ts_exch_ns >= j->t0_ns && x->ts_exch_ns <= j->t1_ns;
    }
    sj_arrived *a = malloc(sizeof *a + (n ? n : 1) * sizeof a->v[0]);
    if (!a) {
        shj_log(SHJ_LOG_ERROR, "source %s: out of memory preparing the backfill of %s", s->base.name,
                sub->real);
        return 0;
    }
    a->n = 0;
    for (size_t i = 0; id && i < ring_len(&s->seen) && a->n < n; i++) {
        const sj_seen *x = ring_at(&s->seen, i);
        if (x->inst_id != id || x->ts_exch_ns < j->t0_ns || x->ts_exch_ns > j->t1_ns) continue;
        a->v[a->n++] = (struct sj_arrived_tick){x->ts_exch_ns, x->close, x->volume, 0};
    }
    j->arrived = a;
    j->prepared = 1;
    return 1;
}

/* Fill the request body; 0 when there is nothing to ask (the job is dropped). */
static size_t backfill_body(sj_src *s, sj_job *j, char *out, size_t cap) {
    const sj_sub *sub = &s->subs[j->sub];
    if (sub->removed || !j->prepared) return 0;
    char date[11], ts0[16], ts1[16];
    clk_taipei_date(j->t0_ns, date);
    clk_taipei_time(j->t0_ns, ts0);
    /* Whole seconds: the start rounded down, the end rounded up. */
    clk_taipei_time(j->t1_ns + CLK_NS_PER_SEC - 1, ts1);
    ts0[8] = ts1[8] = '\0';
    /* an index's history is asked as a stock's would be: ticks exist for STK/FUT/OPT */
    const char *sec = sub->sec_type == SHJ_SEC_FUT || sub->sec_type == SHJ_SEC_OPT ? nm_sec_type(sub->sec_type) : "STK";
    const char *ex = sub->exchange ? nm_exchange(sub->exchange) : "TSE";
    /* HTTP_API.md:376-386: the contract nested, query_type with time_start/time_end. */
    int n = snprintf(out, cap,
                     "{\"contract\":{\"security_type\":\"%s\",\"exchange\":\"%s\",\"code\":\"%s\"},"
                     "\"date\":\"%s\",\"query_type\":\"RangeTime\",\"time_start\":\"%s\",\"time_end\":\"%s\"}",
                     sec, ex, sub->real, date, ts0, ts1);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Answer -> de-duplicated, flagged ticks ------------------------------------------------ */

/* "2026-05-18T09:00:08.306075" (Taipei local, as the 1.7.x ticks answer
 * carries it) -> UTC ns; INT64_MIN when it is not that. */
int64_t sj_iso_local_ns(const char *s) { return sj_ticks_iso_local_ns(s); }

static sj_bf_item *bfq_push(sj_src *s) {
    sj_bf_item *it = ring_push(&s->bfq);
    if (it) memset(it, 0, sizeof *it);
    return it;
}

/* An empty answer is "no trades" only while traffic quota remains: over the
 * daily cap, ticks answer empty values (tutor_limit.md:154,
 * TROUBLESHOOTING.md:30-34: check /api/v1/auth/usage first). 1 = j kept. */
static int judge_empty(sj_src *s, sj_job *j) {
    const sj_sub *sub = &s->subs[j->sub];
    int64_t fresh = (int64_t)5 * CLK_NS_PER_SEC;
    if (s->usage_at_mono && clk_mono_ns() - s->usage_at_mono < fresh) {
        if (s->usage_remaining == 0) {
            char w0[16], w1[16];
            clk_taipei_time(j->t0_ns, w0);
            clk_taipei_time(j->t1_ns, w1);
            s->quota_exhausted++;
            shj_log(SHJ_LOG_ERROR, "source %s: backfill %s %.8s-%.8s: empty answer and the traffic quota is "
                    "exhausted (remaining_bytes 0 of %lld): quota, not \"no trades\"; held until the reset",
                    s->base.name, sub->real, w0, w1, (long long)s->usage_limit);
            sj_status(s, SHJ_STATUS_ERROR, sub->real, j->g0_ns, j->g1_ns, 200,
                       "backfill %s: traffic quota exhausted (empty answer, remaining_bytes 0)", sub->real);
            sj_bflimit_quota(s, j);
            return 1;
        }
        shj_log(SHJ_LOG_INFO, "source %s: backfill %s: no trades in the window (quota left: %s%lld bytes)",
                s->base.name, sub->real, s->usage_remaining < 0 ? "unknown, " : "", (long long)s->usage_remaining);
        return 0;
    }
    /* Usage not known lately: ask, and judge when it answers. */
    if (s->bf_verify_n == s->bf_verify_cap) {
        size_t cap = s->bf_verify_cap ? s->bf_verify_cap * 2 : 8;
        sj_job *v = realloc(s->bf_verify, cap * sizeof *v);
        if (!v) return 0;
        s->bf_verify = v;
        s->bf_verify_cap = cap;
    }
    s->bf_verify[s->bf_verify_n++] = *j;
    sj_usage_poll(s);
    return 1;
}

void sj_backfill_usage_known(sj_src *s) {
    size_t n = s->bf_verify_n;
    sj_job *v = s->bf_verify;
    s->bf_verify = NULL;
    s->bf_verify_n = s->bf_verify_cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (!judge_empty(s, &v[i])) {
            sj_bf_item *done = bfq_push(s);
            if (done) {
                shj_strlcpy(done->code, s->subs[v[i].sub].real, sizeof done->code);
                done->t0 = v[i].t0_ns;
                done->t1 = v[i].t1_ns;
            }
            sj_job_release(&v[i]);
        }
    }
    free(v);
    sj_backfill_flush(s);
}

/* 1 when it kept the job (an empty answer waiting to be judged, or held for the quota). */
static int backfill_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len) {
    const sj_sub *sub = &s->subs[j->sub];
    if (http != 200) {
        char msg[200] = "";
        if (sj_json_get_str(body, len, "message", msg, sizeof msg) != 1)
            snprintf(msg, sizeof msg, "%.*s", (int)(len > 150 ? 150 : len), body);
        shj_log(SHJ_LOG_ERROR, "source %s: backfill of %s failed (HTTP %d): %s", s->base.name, sub->real,
                http, msg);
        sj_status(s, SHJ_STATUS_ERROR, sub->real, j->g0_ns, j->g1_ns, http, "backfill %s: %s",
                   sub->real, msg);
        return 0;
    }
    sj_ticks_reader rd;
    if (sj_ticks_open(&rd, body, len) != SHJ_OK) {
        shj_log(SHJ_LOG_ERROR, "source %s: backfill of %s: answer lacks datetime/close/volume: %.*s",
                s->base.name, sub->real, (int)(len > 200 ? 200 : len), body);
        return 0;
    }
    if (sj_ticks_empty(&rd)) { /* no rows at all */
        s->empty_answers++;
        if (judge_empty(s, j)) return 1;
    }

    /* The ticks that did arrive in the window (snapshot), matched at most once each. */
    size_t n_arrived = j->arrived ? j->arrived->n : 0;
    struct sj_arrived_tick *arrived = j->arrived ? j->arrived->v : NULL;
    for (size_t k = 0; k < n_arrived; k++) arrived[k].used = 0;

    uint32_t published = 0, duplicates = 0, bad = 0;
    int64_t now = clk_now_ns();
    int tag = (sub->sec_type == SHJ_SEC_STK || sub->sec_type == SHJ_SEC_IND) ? PSR_TAG_TICK_STK : PSR_TAG_TICK_FOP;
    for (;;) {
        sj_ticks_row row;
        int rc = sj_ticks_next(&rd, &row);
        if (rc == SJ_TICKS_END) break;
        if (rc == SJ_TICKS_BROKEN) {
            bad++;
            break;
        }
        if (rc == SJ_TICKS_BAD) {
            bad++;
            continue;
        }
        int64_t t = row.ts_ns, price = row.price, vol = row.volume, ttype = row.tick_type;
        if (t < j->t0_ns || t > j->t1_ns) continue;
        int dup = 0;
        for (size_t k = 0; k < n_arrived; k++) {
            struct sj_arrived_tick *a = &arrived[k];
            if (!a->used && a->ts == t && a->close == price && a->volume == (int32_t)vol) {
                a->used = 1;
                dup = 1;
                break;
            }
        }
        if (dup) {
            duplicates++;
            continue;
        }
        sj_bf_item *it = bfq_push(s);
        if (!it) break;
        char date[11], tod[16], price_txt[24];
        clk_taipei_date(t, date);
        clk_taipei_time(t, tod);
        dec_format(price, price_txt);
        int pl = snprintf(it->payload, sizeof it->payload,
                          "{\"code\":\"%s\",\"date\":\"%s\",\"time\":\"%s\",\"close\":\"%s\","
                          "\"volume\":%lld,\"tick_type\":%lld,\"simtrade\":false,\"backfill\":true}",
                          sub->real, date, tod, price_txt, (long long)vol, (long long)ttype);
        it->len = pl > 0 && (size_t)pl < sizeof it->payload ? (size_t)pl : 0;
        it->tag = tag;
        it->recv_ns = now;
        if (it->len) published++;
    }
    if (bad)
        shj_log(SHJ_LOG_WARN, "source %s: backfill of %s: %u history rows unreadable", s->base.name,
                sub->real, bad);
    sj_bf_item *done = bfq_push(s);
    if (done) {
        shj_strlcpy(done->code, sub->real, sizeof done->code);
        done->t0 = j->t0_ns;
        done->t1 = j->t1_ns;
        done->count = published;
        done->len = 0;
    }
    shj_log(SHJ_LOG_INFO, "source %s: backfill %s: %u missing ticks recovered, %u already received",
            s->base.name, sub->real, published, duplicates);
    s->backfilled += published;
    sj_backfill_flush(s);
    return 0;
}

int sj_backfill_flush(sj_src *s) {
    sj_bf_item *it;
    while ((it = ring_front(&s->bfq))) {
        if (it->len) {
            if (!sj_status_flush(s)) return 0;
            int rc = src_deliver_flags(&s->base, it->tag, it->payload, it->len, it->recv_ns,
                                       SHJ_FLAG_BACKFILL);
            if (rc == SHJ_AGAIN) return 0;
            if (rc == SHJ_ERR) {
                shj_log(SHJ_LOG_ERROR, "source %s: raw archive failed during backfill", s->base.name);
                s->fatal = 1;
                return 0;
            }
        } else {
            sj_status(s, SHJ_STATUS_BACKFILLED, it->code, it->t0, it->t1, 200,
                       "%u ticks of %s backfilled", it->count, it->code);
        }
        ring_pop(&s->bfq);
    }
    return 1;
}

/* The historical-ticks query as a job type of the REST queue (sj_rest.c). */

static int ticks_request(sj_src *s, sj_job *j, sj_request *rq) {
    shj_strlcpy(rq->path, "/api/v1/data/ticks", sizeof rq->path);
    /* The window is fixed when the job is first due; then the budget
     * decides: send now, or queue it (the hold queue owns it then). */
    if (!backfill_prepare(s, j)) return 0;
    if (!sj_bflimit_admit(s, j)) return 0;
    if (!backfill_body(s, j, rq->body, sizeof rq->body)) {
        ticks_release(j);
        return 0;
    }
    s->backfill_requests++;
    return 1;
}

static void ticks_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    if (sj_bflimit_answer(s, j, http, body, len, cerr)) return;
    if (!backfill_answer(s, j, http, body, len)) ticks_release(j);
}

/* A backfill waiting for its delay lets subscriptions pass; after a 401/403
 * it is dropped (the refusal stops the run or is retried by the session). */
const sj_job_ops sj_ticks_job_ops = {.what = "historical ticks", .flags = SJ_JOB_MAY_BE_PASSED | SJ_JOB_DROP_ON_AUTH,
                                     .request = ticks_request, .answer = ticks_answer, .release = ticks_release};
