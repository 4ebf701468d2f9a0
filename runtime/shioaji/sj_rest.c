/* sj_rest.c — the Shioaji source's REST job queue and its pacer.
 *
 * Owns the queue (a FIFO ring of sj_job), the one call in flight (s->cur),
 * the pacing (a sliding window of rate_limit calls per rate_window_s,
 * sj_ratewin.h; default 45 per 5 s, under Shioaji's documented ~50 per 5 s),
 * retry delays, the 503 ban wait and the 401/403 path every job shares.
 *
 * It knows nothing about what a job does: each job type's owner describes it
 * in an sj_job_ops entry of sj_job_types[] (sj_internal.h) — how to build the
 * request, whether it is obsolete, what to do with the answer and what the
 * job owns. Retries of transient failures go back to the FRONT of the queue
 * with an exponential delay, so order is kept and the pacing still holds.
 * The SSE streams (sj_stream.c) are not paced: they are not API calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "shioaji/sj_internal.h"
#include "shioaji/sj_json.h"

static const sj_job_ops *ops_of(const sj_job *j) {
    return j->type > 0 && j->type < SJ_JOB_TYPE_COUNT ? sj_job_types[j->type] : NULL;
}

void sj_job_release(sj_job *j) {
    const sj_job_ops *o = ops_of(j);
    if (o && o->release) o->release(j);
}

void sj_push_job(sj_src *s, const sj_job *j, int front) {
    sj_job *slot = front ? ring_push_front(&s->jobs) : ring_push(&s->jobs);
    if (!slot) {
        shj_log(SHJ_LOG_ERROR, "source %s: out of memory queueing a request", s->base.name);
        return;
    }
    *slot = *j;
    sj_pump_soon(s);
}

static void pump(sj_src *s);

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_src *s = shj_container_of(w, sj_src, kick);
    sj_source_kicked(s);
    pump(s);
}

static void pacer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    pump(shj_container_of(w, sj_src, pacer));
}

void sj_rest_init(sj_src *s) {
    ev_timer_init(&s->kick, kick_cb, 0.0, 0.0);
    ev_timer_init(&s->pacer, pacer_cb, 0.0, 0.0);
}

void sj_rest_stop(sj_src *s) {
    if (s->base.loop) {
        ev_timer_stop(s->base.loop, &s->kick);
        ev_timer_stop(s->base.loop, &s->pacer);
    }
    if (s->cur_req) {
        sj_http_cancel(s->cur_req);
        s->cur_req = NULL;
        s->inflight = 0;
    }
}

void sj_rest_free(sj_src *s) {
    /* The queue is ours: what its jobs own goes with it. */
    for (size_t i = 0; i < ring_len(&s->jobs); i++) sj_job_release(ring_at(&s->jobs, i));
    sj_job_release(&s->cur);
    ring_free(&s->jobs);
    sj_ratewin_free(&s->rest_win);
}

void sj_rest_foreach(sj_src *s, void (*fn)(sj_src *s, const sj_job *j, int in_flight, void *ud), void *ud) {
    if (s->inflight) fn(s, &s->cur, 1, ud);
    for (size_t i = 0; i < ring_len(&s->jobs); i++) fn(s, ring_at(&s->jobs, i), 0, ud);
}

void sj_pump_soon(sj_src *s) {
    if (!s->base.loop || s->stopped || !s->started) return;
    if (!ev_is_active(&s->kick)) {
        ev_timer_set(&s->kick, 0.0, 0.0);
        ev_timer_start(s->base.loop, &s->kick);
    }
}

void sj_retry_job(sj_src *s, sj_job *j, const char *why) {
    j->tries++;
    double d = sj_backoff_delay(s, j->tries - 1);
    j->not_before_mono = clk_mono_ns() + (int64_t)(d * 1e9);
    shj_log(SHJ_LOG_WARN, "source %s: %s; retry %d in %.2f s", s->base.name, why, j->tries, d);
    sj_push_job(s, j, 1);
}

static void pace_for(sj_src *s, double seconds) {
    ev_timer_stop(s->base.loop, &s->pacer);
    ev_timer_set(&s->pacer, seconds, 0.0);
    ev_timer_start(s->base.loop, &s->pacer);
}

static void rest_done(void *ctx, sj_http_req *r, int http, const char *body, size_t len, const char *cerr);

static void pump(sj_src *s) {
    if (s->stopped || !s->http) return;
    if (ring_len(&s->jobs) && !s->inflight && clk_mono_ns() < s->ban_until_mono) {
        /* Banned (503 操作異常，請1分鐘後再重新登入): nothing goes out before the
         * ban is over (TROUBLESHOOTING.md:387: wait at least one minute
         * without sending more requests). */
        pace_for(s, (double)(s->ban_until_mono - clk_mono_ns()) / 1e9 + 0.001);
        return;
    }
    while (!s->inflight && ring_len(&s->jobs)) {
        sj_job *j = ring_front(&s->jobs);
        const sj_job_ops *o = ops_of(j);
        if (!o || (o->drop_if_obsolete && o->drop_if_obsolete(s, j))) {
            ring_pop(&s->jobs);
            continue;
        }
        int64_t now = clk_mono_ns();
        if ((o->flags & SJ_JOB_MAY_BE_PASSED) && j->not_before_mono > now) {
            /* A job of this type waiting for its delay lets the next job of
             * another type go first (a backfill must not hold up subscriptions). */
            size_t k;
            for (k = 1; k < ring_len(&s->jobs); k++) {
                const sj_job_ops *ok = ops_of(ring_at(&s->jobs, k));
                if (!ok || !(ok->flags & SJ_JOB_MAY_BE_PASSED)) break;
            }
            if (k < ring_len(&s->jobs)) {
                sj_job *at = ring_at(&s->jobs, k);
                sj_job other = *at;
                *at = *j;
                *j = other;
                continue;
            }
        }
        if (j->not_before_mono > now) {
            pace_for(s, (double)(j->not_before_mono - now) / 1e9);
            return;
        }
        int64_t wait_ns = sj_ratewin_wait_ns(&s->rest_win, now);
        if (wait_ns > 0) {
            /* Full window: wait until its oldest call leaves it. */
            s->rate_waits++;
            pace_for(s, (double)wait_ns / 1e9 + 0.001);
            return;
        }

        s->cur = *j;
        ring_pop(&s->jobs);
        sj_request rq = {.method = "POST"};
        if (!o->request(s, &s->cur, &rq)) {
            /* Dropped, or handed to its owner (which released or keeps what it owns). */
            s->cur = (sj_job){0};
            continue;
        }
        sj_ratewin_note(&s->rest_win, now);
        s->requests++;
        char err[256];
        s->cur_req = sj_http_request(s->http, rq.method, rq.path, rq.body[0] ? rq.body : NULL, rest_done, s, err,
                                     sizeof err);
        if (!s->cur_req) {
            shj_log(SHJ_LOG_ERROR, "source %s: cannot start %s %s: %s", s->base.name, rq.method, rq.path, err);
            sj_job_release(&s->cur);
            s->cur = (sj_job){0};
            continue;
        }
        s->inflight = 1;
    }
}

/* The server's message from a JSON error body, or the body itself. */
void sj_server_message(const char *body, size_t len, const char *cerr, char *out, size_t cap) {
    if (len && sj_json_get_str(body, len, "message", out, cap) == 1) return;
    if (len) {
        snprintf(out, cap, "%.*s", (int)(len > 160 ? 160 : len), body);
        for (char *p = out; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        return;
    }
    shj_strlcpy(out, cerr && *cerr ? cerr : "no answer", cap);
}

static void rest_done(void *ctx, sj_http_req *r, int http, const char *body, size_t len, const char *cerr) {
    SHJ_UNUSED(r);
    sj_src *s = ctx;
    s->inflight = 0;
    s->cur_req = NULL;
    sj_job j = s->cur;
    s->cur = (sj_job){0}; /* j owns what the job owns now */
    const sj_job_ops *o = ops_of(&j);
    if (sj_ban_check(s, http, body, len)) {
        /* Not the job's fault: the same job again once the ban is over, its
         * tries untouched. */
        j.not_before_mono = s->ban_until_mono;
        sj_push_job(s, &j, 1);
        pump(s);
        return;
    }
    if ((http == 401 || http == 403) && !(o->flags & SJ_JOB_OWN_AUTH)) {
        if (o->refused) o->refused(s, &j);
        char msg[200];
        sj_server_message(body, len, cerr, msg, sizeof msg);
        sj_job_release(&j);
        sj_auth_refused(s, http, o->what, msg);
        if (!(o->flags & SJ_JOB_DROP_ON_AUTH) && !s->stopped) {
            j.not_before_mono = clk_mono_ns() + (int64_t)(s->auth_retry_s * 1e9);
            sj_push_job(s, &j, 1); /* only reached when retrying slowly */
        }
        pump(s);
        return;
    }
    if (http >= 200 && http < 300) s->auth_refused = 0;
    o->answer(s, &j, http, body, len, cerr);
    pump(s);
}
