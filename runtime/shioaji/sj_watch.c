/* sj_watch.c — what keeps the Shioaji subscriptions real: refused
 * credentials, the 503 ban, daily maintenance, silence, alias roll-over.
 *
 * Sinopac's server (1.7.x) can stop delivering without closing anything:
 *  - daily maintenance (about 08:22 Taipei) rebuilds its upstream client and
 *    silently drops every market-data subscription while the SSE stream
 *    stays open and heartbeats go on; /api/v1/health's last_maintenance
 *    moves (shioaji-pro-app@dc12745 src/lib/stream.ts:496-521, which polls
 *    it every 60 s and resubscribes everything when it moves);
 *  - a continuous alias (TXFR1) subscribed with a stale target_code gives
 *    200 and then heartbeats only (HTTP_API.md:812, STREAMING.md:171).
 * So: health is polled slowly (health_poll_s, 60 s as Sinopac's app); a
 * change of last_maintenance resubscribes everything. As a second signal,
 * while heartbeats keep coming and the market is open: no market event for
 * any subscription for silence_s resubscribes everything; a continuous
 * alias silent that long is looked up again and resubscribed. Each resubscribed instrument gets one GAP
 * covering its silent interval, published when the server accepts it again.
 * Aliases are also looked up again on a new Taipei trading day and on a
 * contract_event (HTTP_API.md:522-527: a change signal, query again).
 *
 * 401/403 (HTTP_API.md:1102, TROUBLESHOOTING.md:487): the credentials are
 * missing or wrong. The run stops with a clear error and a non-zero exit
 * (rt_fail), unless auth_retry_s > 0 (then every call is retried that
 * slowly, with one error per refusal streak).
 *
 * 503 "操作異常，請1分鐘後再重新登入" (TROUBLESHOOTING.md:376-392,
 * tutor_limit.md:156): a temporary ban; nothing is sent for ban_wait_s
 * (60 s) — neither REST calls nor stream reopenings.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "parse/parse.h"
#include "shioaji/sj_internal.h"
#include "shioaji/sj_json.h"

void sj_auth_refused(sj_src *s, int http, const char *what, const char *msg) {
    s->auth_refusals++;
    int first = !s->auth_refused;
    s->auth_refused = 1;
    const char *creds = s->have_creds ? "the credentials in " : "no credentials (set ";
    if (s->auth_retry_s <= 0) {
        char reason[400];
        snprintf(reason, sizeof reason,
                 "Shioaji server %s refused us (HTTP %d on %s: %s): %s%s%s; stopping",
                 sj_http_display(s->http), http, what, msg, creds, s->have_creds ? s->cred_vars : "SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY",
                 s->have_creds ? " are not accepted" : ")");
        shj_log(SHJ_LOG_ERROR, "source %s: %s", s->base.name, reason);
        sj_status(s, SHJ_STATUS_ERROR, "", 0, 0, http, "unauthorized: HTTP %d on %s: %s", http, what, msg);
        rt_fail(reason);
        return;
    }
    if (first) {
        shj_log(SHJ_LOG_ERROR, "source %s: Shioaji server %s refused us (HTTP %d on %s: %s): %s%s%s; retrying every %.0f s",
                s->base.name, sj_http_display(s->http), http, what, msg, creds,
                s->have_creds ? s->cred_vars : "SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY",
                s->have_creds ? " are not accepted" : ")", s->auth_retry_s);
        sj_status(s, SHJ_STATUS_ERROR, "", 0, 0, http, "unauthorized: HTTP %d on %s: %s", http, what, msg);
    }
}

int sj_ban_check(sj_src *s, int http, const char *body, size_t len) {
    if (http != 503 || !body || !len) return 0;
    char msg[200] = "";
    if (sj_json_get_str(body, len, "message", msg, sizeof msg) != 1 &&
        sj_json_get_str(body, len, "detail", msg, sizeof msg) != 1)
        return 0;
    /* The message of the temporary ban (TROUBLESHOOTING.md:387); a 503 for a
     * yanked client version (line 388) is not one. */
    if (!strstr(msg, "操作異常") && !strstr(msg, "1分鐘")) return 0;
    int64_t until = clk_mono_ns() + (int64_t)(s->ban_wait_s * 1e9);
    if (until > s->ban_until_mono) s->ban_until_mono = until;
    s->bans++;
    shj_log(SHJ_LOG_ERROR, "source %s: Shioaji server %s: 503 %s (temporary ban): no request for %.0f s",
            s->base.name, sj_http_display(s->http), msg, s->ban_wait_s);
    sj_status(s, SHJ_STATUS_ERROR, "", 0, 0, 503, "banned: %s; waiting %.0f s", msg, s->ban_wait_s);
    return 1;
}

void sj_resubscribe_all(sj_src *s, int64_t g0, const char *why) {
    shj_log(SHJ_LOG_WARN, "source %s: %s: resubscribing every contract", s->base.name, why);
    int64_t now_mono = clk_mono_ns(), now = clk_now_ns();
    for (size_t i = 0; i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (sub->removed || sub->dead || !sub->resolved) continue;
        if (!sub->gap_g0) {
            /* Silent since its last event was received, or since g0 when
             * that is later (the server still had it then). */
            int64_t last = sub->last_event_rx_ns ? sub->last_event_rx_ns : now - (now_mono - sub->last_event_mono);
            sub->gap_g0 = g0 && g0 > last ? g0 : last;
            shj_strlcpy(sub->gap_code, sub->real, sizeof sub->gap_code);
        }
        sub->active_mask = 0;
        sub->last_event_mono = now_mono; /* the silence clock starts again */
        if (sub->alias)
            sj_queue_refresh(s, i, 2 /* then subscribe */);
        else
            sj_queue_sub_jobs(s, i, sub->kind_mask & ~sub->failed_mask);
    }
}

void sj_note_event(sj_src *s, const char *data, size_t len, int64_t rx_ns) {
    char code[16];
    if (!s->n_subs || sj_json_get_str(data, len, "code", code, sizeof code) != 1) return;
    int64_t now = clk_mono_ns();
    size_t k = s->last_match < s->n_subs ? s->last_match : 0;
    for (size_t n = 0; n < s->n_subs; n++, k = (k + 1) % s->n_subs) {
        if (strcmp(s->subs[k].real, code) == 0) {
            s->subs[k].last_event_mono = now;
            s->subs[k].last_event_rx_ns = rx_ns;
            s->last_match = k;
            /* both boards of a stock share the code: mark them all */
            for (size_t m = k + 1; m < s->n_subs; m++)
                if (strcmp(s->subs[m].real, code) == 0) {
                    s->subs[m].last_event_mono = now;
                    s->subs[m].last_event_rx_ns = rx_ns;
                }
            return;
        }
    }
}

void sj_contract_event(sj_src *s) {
    for (size_t i = 0; i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (sub->alias && sub->resolved && !sub->removed && !sub->dead) sj_queue_refresh(s, i, 0);
    }
}

/* Session hours are core/session's. */
int sj_market_open(const sj_sub *sub, int64_t now_ns) {
    return ses_is_open(sub->exchange == SHJ_EX_TAIFEX ? SHJ_EX_TAIFEX : SHJ_EX_TSE, now_ns, 0);
}

void sj_watch_tick(sj_src *s) {
    if (s->stopped || !s->info_ok) return;
    int64_t now_mono = clk_mono_ns(), now = clk_now_ns();
    /* A new trading day: look the aliases up again. */
    char day[11];
    clk_taipei_date(now, day);
    for (size_t i = 0; i < s->n_subs; i++) {
        sj_sub *sub = &s->subs[i];
        if (sub->alias && sub->resolved && !sub->removed && !sub->dead && sub->resolved_day[0] &&
            strcmp(sub->resolved_day, day) != 0) {
            shj_strlcpy(sub->resolved_day, day, sizeof sub->resolved_day);
            sj_queue_refresh(s, i, 0);
        }
    }
    /* Silence, while heartbeats prove the stream alive. A quiet stock is
     * normal, so: (1) no market event at all for any accepted subscription
     * for silence_s while one of their markets is open = every subscription
     * was dropped (maintenance without a visible last_maintenance):
     * resubscribe everything; (2) a continuous alias (a liquid near month)
     * silent for silence_s during TAIFEX hours = a stale target_code: look it
     * up again and subscribe what it names now. */
    if (s->silence_s > 0 && s->hb_seen_mono && now_mono - s->hb_seen_mono < (int64_t)(s->hb_timeout_s * 1e9)) {
        int64_t limit = (int64_t)(s->silence_s * 1e9), newest = INT64_MIN;
        int any = 0, open = 0;
        for (size_t i = 0; i < s->n_subs; i++) {
            sj_sub *sub = &s->subs[i];
            if (sub->removed || sub->dead || !sub->active_mask || sub->gap_g0) continue;
            any = 1;
            if (sub->last_event_mono > newest) newest = sub->last_event_mono;
            int mopen = !s->market_hours || sj_market_open(sub, now);
            open |= mopen;
            if (sub->alias && mopen && now_mono - sub->last_event_mono >= limit) {
                s->silences++;
                shj_log(SHJ_LOG_WARN, "source %s: %s (%s): heartbeats only for %.0f s on an open market: "
                        "looking it up again", s->base.name, sub->code, sub->real,
                        (double)(now_mono - sub->last_event_mono) / 1e9);
                sub->gap_g0 = sub->last_event_rx_ns ? sub->last_event_rx_ns : now - (now_mono - sub->last_event_mono);
                shj_strlcpy(sub->gap_code, sub->real, sizeof sub->gap_code);
                sub->active_mask = 0;
                sub->last_event_mono = now_mono;
                sj_queue_refresh(s, i, 2 /* then subscribe */);
            }
        }
        if (any && open && now_mono - newest >= limit) {
            s->silences++;
            char why[160];
            snprintf(why, sizeof why, "heartbeats only, no market event for %.0f s on an open market",
                     (double)(now_mono - newest) / 1e9);
            sj_resubscribe_all(s, 0, why);
        }
    }
    /* Traffic usage, slowly (shown in the status line). */
    if (s->usage_poll_s > 0 && (!s->usage_at_mono || now_mono - s->usage_at_mono >= (int64_t)(s->usage_poll_s * 1e9)))
        sj_usage_poll(s);
    /* Health, slowly. */
    if (s->health_poll_s > 0 && (!s->health_prev_ns || now - s->health_prev_ns >= (int64_t)(s->health_poll_s * 1e9)) &&
        !s->health_inflight) {
        s->health_inflight = 1;
        s->health_req_ns = now;
        sj_job j = {.type = SJ_JOB_HEALTH, .stream = -1};
        sj_push_job(s, &j, 0);
    }
}

static void handle_health(sj_src *s, int http, const char *body, size_t len) {
    s->health_inflight = 0;
    int64_t now = clk_now_ns();
    /* The previous answer showed the old value, so the server read it after
     * that query was sent: the drop came later. */
    int64_t prev = s->health_prev_req;
    s->health_prev_req = s->health_req_ns;
    s->health_prev_ns = now;
    if (http != 200) return; /* the stream's own loss handling covers a server that is down */
    char lm[48] = "";
    if (sj_json_get_str(body, len, "last_maintenance", lm, sizeof lm) != 1) return; /* 1.5.0: no such field */
    if (s->have_maint && strcmp(lm, s->last_maint) != 0) {
        s->maintenances++;
        char why[120];
        snprintf(why, sizeof why, "server maintenance at %s (last_maintenance moved)", lm);
        /* The drop happened after the previous poll that still showed the
         * old value: every subscription is silent since then at the latest. */
        sj_resubscribe_all(s, prev, why);
    }
    shj_strlcpy(s->last_maint, lm, sizeof s->last_maint);
    s->have_maint = 1;
}

void sj_usage_poll(sj_src *s) {
    if (s->usage_inflight || s->stopped) return;
    s->usage_inflight = 1;
    sj_job j = {.type = SJ_JOB_USAGE, .stream = -1};
    sj_push_job(s, &j, 0);
}

/* GET /api/v1/auth/usage: {connections, bytes, limit_bytes, remaining_bytes}
 * (/work/shared/reference/shioaji.md; TROUBLESHOOTING.md:20-34). */
static void handle_usage(sj_src *s, int http, const char *body, size_t len) {
    s->usage_inflight = 0;
    s->usage_at_mono = clk_mono_ns();
    int64_t b = -1, lim = -1, rem = -1;
    if (http == 200) {
        sj_json_get_i64(body, len, "bytes", &b);
        sj_json_get_i64(body, len, "limit_bytes", &lim);
        sj_json_get_i64(body, len, "remaining_bytes", &rem);
        if (rem < 0 && b >= 0 && lim > 0) rem = lim > b ? lim - b : 0;
        s->usage_bytes = b;
        s->usage_limit = lim;
        s->usage_remaining = rem;
        if (lim > 0 && b >= 0) {
            int over = (double)b >= 0.8 * (double)lim;
            if (over && !s->usage_warned)
                shj_log(SHJ_LOG_WARN, "source %s: traffic quota %.0f%% used (%.1f of %.1f MB; %.1f MB left): "
                        "historical queries answer empty values once it is used up", s->base.name,
                        100.0 * (double)b / (double)lim, (double)b / 1e6, (double)lim / 1e6,
                        (double)(rem > 0 ? rem : 0) / 1e6);
            s->usage_warned = over;
        }
    } else {
        shj_log(SHJ_LOG_DEBUG, "source %s: usage query: HTTP %d", s->base.name, http);
    }
    sj_backfill_usage_known(s);
}

/* The two polls as job types of the REST queue (sj_rest.c). */

static int health_request(sj_src *s, sj_job *j, sj_request *rq) {
    SHJ_UNUSED(s);
    SHJ_UNUSED(j);
    rq->method = "GET";
    shj_strlcpy(rq->path, "/api/v1/health", sizeof rq->path);
    return 1;
}

static void health_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    SHJ_UNUSED(j);
    SHJ_UNUSED(cerr);
    handle_health(s, http, body, len);
}

static int usage_request(sj_src *s, sj_job *j, sj_request *rq) {
    SHJ_UNUSED(s);
    SHJ_UNUSED(j);
    rq->method = "GET";
    shj_strlcpy(rq->path, "/api/v1/auth/usage", sizeof rq->path);
    return 1;
}

static void usage_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    SHJ_UNUSED(j);
    SHJ_UNUSED(cerr);
    handle_usage(s, http, body, len);
}

static void usage_refused(sj_src *s, sj_job *j) {
    SHJ_UNUSED(j);
    s->usage_inflight = 0;
}

/* A refused health query is only a health answer: the stream's own 401/403
 * handling stops the run. */
const sj_job_ops sj_health_job_ops = {.what = "health query", .flags = SJ_JOB_OWN_AUTH,
                                      .request = health_request, .answer = health_answer};
const sj_job_ops sj_usage_job_ops = {.what = "usage query", .request = usage_request, .answer = usage_answer,
                                     .refused = usage_refused};
