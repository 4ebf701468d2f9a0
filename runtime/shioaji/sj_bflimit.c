/* sj_bflimit.c — the backfill query budget and the queue of backfill jobs that did not fit.
 *
 * Owns: when a gap-backfill query (POST /api/v1/data/ticks) may be sent, and
 * what happens to one that may not. Sinopac caps historical queries (and an
 * account's daily data usage), so a burst of gaps — one job per instrument —
 * must not be fired at the server all at once, and a refusal must not lose
 * the interval.
 *
 * DESIGN. Every ticks query is counted in a sliding window: at most
 * backfill_max_queries per backfill_window_s (default 20 per 60 s), on top
 * of the pacing every REST call gets. A job that is due when the budget is
 * spent is QUEUED here ("hold queue", FIFO, in memory) with its instrument,
 * its exchange-time window (fixed, with the ticks that did arrive in it, by
 * backfill_prepare in sj_backfill.c) and the reason; it is logged once and counted in
 * the connection's status text. Released, it goes back to the REST queue and
 * through the budget again. Three reasons, three waits:
 *   BUDGET  our own budget is spent: released as the window frees;
 *   SERVER  the server refused with a usage/quota limit (a 4xx/5xx whose
 *           message mentions "usage", "quota" or "query limit"): no ticks
 *           query at all until backfill_retry_at (Taipei "HH:MM", default
 *           13:50, after the TWSE and TAIFEX day sessions close; the next
 *           such instant after the refusal);
 *   BUSY    a plain 429 or 5xx or no answer, still there after max_retries
 *           quick retries with backoff: retried one window later.
 * Whatever the reason, jobs leave the queue in order and only as many as the
 * budget has free slots, so a release never spends a query that would only
 * be queued again.
 * Nothing is dropped: only a genuine refusal of the query itself (another
 * 4xx, e.g. an unknown contract) ends a job with an error status. At stop,
 * every job still pending is logged with its window, so an operator knows
 * which intervals the archive may still lack (the GAP events name them too).
 *
 * Timing: the hold queue is released by one libev timer, armed for the
 * earliest release and at most a minute ahead, so that a change of the wall
 * clock (or of backfill_retry_at) is noticed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "shioaji/sj_internal.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"

#define BF_MAX_WAIT_S 60.0 /* re-check at least this often while jobs are held */

/* Clocks ----------------------------------------------------------------------------- */

static int64_t wall_now(const sj_src *s) { return clk_now_ns() + s->bf_clock_offset_ns; }

/* The next instant after now (wall ns) at which Taipei time reads backfill_retry_at. */
static int64_t next_hhmm(int hhmm, int64_t now);
static int64_t next_retry_at(const sj_src *s, int64_t now) { return next_hhmm(s->bf_retry_hhmm, now); }

static int64_t next_hhmm(int hhmm, int64_t now) {
    const int64_t day = 86400 * CLK_NS_PER_SEC, off = (int64_t)CLK_TAIPEI_OFFSET_S * CLK_NS_PER_SEC;
    int64_t local = now + off;
    int64_t midnight = local - ((local % day) + day) % day;
    int64_t t = midnight + (int64_t)((hhmm / 100) * 3600 + (hhmm % 100) * 60) *
                               CLK_NS_PER_SEC - off;
    return t > now ? t : t + day;
}

/* The budget -------------------------------------------------------------------------- */

static size_t budget_free(sj_src *s, int64_t now_mono) { return sj_ratewin_room(&s->bf_budget, now_mono); }

/* The hold queue ------------------------------------------------------------------------ */

/* "09:01:02–09:01:07" (Taipei) of a prepared job, else its gap in receive time. */
static void fmt_window(const sj_job *j, char *out, size_t cap) {
    char a[16], b[16];
    int64_t t0 = j->prepared ? j->t0_ns : j->g0_ns, t1 = j->prepared ? j->t1_ns : j->g1_ns;
    clk_taipei_time(t0, a);
    clk_taipei_time(t1 + CLK_NS_PER_SEC - 1, b);
    a[8] = b[8] = '\0';
    snprintf(out, cap, "%.8s\xe2\x80\x93%.8s%s", a, b, j->prepared ? "" : " (receive time)");
}

static void arm(sj_src *s);

/* The one "queued" line per job and reason: instrument, window, why, until when. */
static void note_held(sj_src *s, sj_held *h) {
    sj_job *j = &h->job;
    if (j->held_logged && j->held_why == h->why) return;
    char when[64], win[64];
    if (h->why == SJ_HOLD_SERVER)
        snprintf(when, sizeof when, "after %02d:%02d", s->bf_retry_hhmm / 100, s->bf_retry_hhmm % 100);
    else if (h->why == SJ_HOLD_BUSY)
        snprintf(when, sizeof when, "in %g s", s->bf_window_s);
    else
        shj_strlcpy(when, "when the budget window frees", sizeof when);
    fmt_window(j, win, sizeof win);
    shj_log(SHJ_LOG_WARN, "source %s: backfill %s %s queued: %s; retry %s", s->base.name, s->subs[j->sub].real,
            win, h->reason, when);
    j->held_logged = 1;
    j->held_why = h->why;
    s->bf_deferred++;
}

static void park(sj_src *s, sj_job *j, int why, const char *reason) {
    if (s->held_n == s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap * 2 : 16;
        sj_held *h = realloc(s->held, cap * sizeof *h);
        if (!h) {
            shj_log(SHJ_LOG_ERROR, "source %s: out of memory queueing the backfill of %s; dropped",
                    s->base.name, s->subs[j->sub].real);
            sj_job_release(j);
            return;
        }
        s->held = h;
        s->held_cap = cap;
    }
    sj_held *h = &s->held[s->held_n++];
    memset(h, 0, sizeof *h);
    h->job = *j;
    h->why = why;
    shj_strlcpy(h->reason, reason, sizeof h->reason);
    if (why == SJ_HOLD_SERVER) h->release_wall_ns = s->bf_blocked_until_wall;
    if (why == SJ_HOLD_BUSY) h->release_mono = clk_mono_ns() + (int64_t)(s->bf_window_s * 1e9);
    note_held(s, h);
    arm(s);
}

/* A held job whose own wait is over; it still needs a free slot of the budget. */
static int ready(const sj_src *s, const sj_held *h, int64_t now_mono, int64_t now_wall) {
    if (h->why == SJ_HOLD_SERVER) return now_wall >= h->release_wall_ns;
    if (h->why == SJ_HOLD_BUSY) return now_mono >= h->release_mono;
    return s->bf_blocked_until_wall <= now_wall;
}

/* Move held jobs that are ready back to the REST queue, in order, as many
 * as the budget has free slots (so a release never spends a query that
 * would only be queued again). */
static void release_due(sj_src *s) {
    int64_t now_mono = clk_mono_ns(), now_wall = wall_now(s);
    size_t slots = budget_free(s, now_mono), k = 0, released = 0;
    for (size_t i = 0; i < s->held_n; i++) {
        sj_held *h = &s->held[i];
        if (!slots || !ready(s, h, now_mono, now_wall)) {
            s->held[k++] = *h;
            continue;
        }
        slots--;
        sj_job j = h->job;
        j.not_before_mono = 0;
        j.tries = 0;
        sj_push_job(s, &j, 0);
        released++;
    }
    s->held_n = k;
    if (released)
        shj_log(SHJ_LOG_INFO, "source %s: %zu queued backfill job%s retried, %zu still queued", s->base.name,
                released, released == 1 ? "" : "s", s->held_n);
}

static void arm(sj_src *s) {
    if (!s->base.loop || !s->bf_budget.t) return;
    ev_timer_stop(s->base.loop, &s->bf_hold);
    if (!s->held_n || s->stopped) return;
    int64_t now_mono = clk_mono_ns(), now_wall = wall_now(s);
    double wait = BF_MAX_WAIT_S;
    for (size_t i = 0; i < s->held_n; i++) {
        const sj_held *h = &s->held[i];
        double d;
        if (ready(s, h, now_mono, now_wall))
            d = (double)sj_ratewin_wait_ns(&s->bf_budget, now_mono) / 1e9;
        else if (h->why == SJ_HOLD_SERVER)
            d = (double)(h->release_wall_ns - now_wall) / 1e9;
        else if (h->why == SJ_HOLD_BUSY)
            d = (double)(h->release_mono - now_mono) / 1e9;
        else
            d = (double)(s->bf_blocked_until_wall - now_wall) / 1e9;
        if (d < wait) wait = d;
    }
    ev_timer_set(&s->bf_hold, (wait > 0 ? wait : 0) + 0.001, 0.0);
    ev_timer_start(s->base.loop, &s->bf_hold);
}

static void hold_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    sj_src *s = shj_container_of(w, sj_src, bf_hold);
    if (s->stopped) return;
    release_due(s);
    arm(s);
}

/* The server's answer: a usage/quota limit, in whatever words it uses. */
static int is_usage_limit(int http, const char *msg) {
    if (http < 400) return 0;
    static const char *const words[] = {"usage", "quota", "query limit", "queries limit"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(msg, words[i])) return 1;
    return 0;
}

/* Entry points ----------------------------------------------------------------------------- */

void sj_bflimit_quota(sj_src *s, sj_job *j) {
    /* Over the daily traffic cap ticks answer empty values, not an error
     * (tutor_limit.md:154, TROUBLESHOOTING.md:30-34); the traffic resets at
     * 08:00 on each trading day (TROUBLESHOOTING.md:33). Every backfill
     * waits for that, or for backfill_retry_at if it comes later. */
    s->bf_refusals++;
    int64_t now = wall_now(s), reset = next_hhmm(800, now), retry = next_retry_at(s, reset - 1);
    s->bf_blocked_until_wall = retry > reset ? retry : reset;
    park(s, j, SJ_HOLD_SERVER, "traffic quota exhausted (remaining_bytes 0); waiting for the 08:00 reset");
    for (size_t i = 0; i < s->held_n; i++) {
        sj_held *h = &s->held[i];
        if (h->why == SJ_HOLD_SERVER && h->release_wall_ns >= s->bf_blocked_until_wall) continue;
        h->why = SJ_HOLD_SERVER;
        h->release_wall_ns = s->bf_blocked_until_wall;
        shj_strlcpy(h->reason, "the traffic quota is exhausted", sizeof h->reason);
    }
    arm(s);
}

int sj_bflimit_init(sj_src *s) {
    if (!s->bf_budget.t &&
        sj_ratewin_init(&s->bf_budget, (size_t)s->bf_max_queries, (int64_t)(s->bf_window_s * 1e9)) != SHJ_OK)
        return SHJ_ERR;
    if (!ev_is_active(&s->bf_hold)) ev_timer_init(&s->bf_hold, hold_cb, 0.0, 0.0);
    return SHJ_OK;
}

int sj_bflimit_admit(sj_src *s, sj_job *j) {
    if (!s->bf_budget.t) return 1;
    int64_t now_mono = clk_mono_ns(), now_wall = wall_now(s);
    char reason[160];
    if (s->bf_blocked_until_wall > now_wall) {
        shj_strlcpy(reason, "the server's query limit was reached", sizeof reason);
        park(s, j, SJ_HOLD_SERVER, reason);
        return 0;
    }
    /* Intraday: ticks queries are limited to 10 while the market is open
     * (tutor_limit.md:116-119; TROUBLESHOOTING.md:60), and repeated excess
     * in a day suspends the IP and ID (tutor_limit.md:156). By default no
     * backfill is asked during the session at all (backfill_defer): it runs
     * after backfill_retry_at. Without deferral at most
     * backfill_intraday_max queries per trading day are spent in session. */
    if (sj_market_open(&s->subs[j->sub], now_wall)) {
        char day[11];
        clk_taipei_date(now_wall, day);
        if (strcmp(day, s->bf_intraday_day) != 0) {
            shj_strlcpy(s->bf_intraday_day, day, sizeof s->bf_intraday_day);
            s->bf_intraday_used = 0;
        }
        if (s->bf_defer || s->bf_intraday_used >= s->bf_intraday_max) {
            if (s->bf_defer)
                shj_strlcpy(reason, "deferred until after the close (intraday ticks queries are capped at 10)",
                            sizeof reason);
            else
                snprintf(reason, sizeof reason, "intraday ticks query cap reached (%d today)", s->bf_intraday_max);
            int64_t until = next_retry_at(s, now_wall);
            if (until > s->bf_blocked_until_wall) s->bf_blocked_until_wall = until;
            park(s, j, SJ_HOLD_SERVER, reason);
            return 0;
        }
        if (budget_free(s, now_mono)) s->bf_intraday_used++;
    }
    if (!budget_free(s, now_mono)) {
        snprintf(reason, sizeof reason, "query limit reached (%d per %g s)", s->bf_max_queries, s->bf_window_s);
        park(s, j, SJ_HOLD_BUDGET, reason);
        return 0;
    }
    sj_ratewin_note(&s->bf_budget, now_mono);
    return 1;
}

int sj_bflimit_answer(sj_src *s, sj_job *j, int http, const char *body, size_t len, const char *cerr) {
    if (http >= 200 && http < 300) return 0;
    char msg[200], reason[160];
    if (len && sj_json_get_str(body, len, "message", msg, sizeof msg) == 1) {
        /* the server's own words */
    } else if (len) {
        snprintf(msg, sizeof msg, "%.*s", (int)(len > 150 ? 150 : len), body);
        for (char *p = msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    } else {
        shj_strlcpy(msg, cerr && *cerr ? cerr : "no answer", sizeof msg);
    }
    if (is_usage_limit(http, msg)) {
        s->bf_refusals++;
        s->bf_blocked_until_wall = next_retry_at(s, wall_now(s));
        snprintf(reason, sizeof reason, "server query limit (HTTP %d: %.100s)", http, msg);
        park(s, j, SJ_HOLD_SERVER, reason);
        /* What waited for our budget now waits for the server's limit too. */
        for (size_t i = 0; i < s->held_n; i++) {
            sj_held *h = &s->held[i];
            if (h->why != SJ_HOLD_BUDGET) continue;
            h->why = SJ_HOLD_SERVER;
            h->release_wall_ns = s->bf_blocked_until_wall;
            shj_strlcpy(h->reason, "the server's query limit was reached", sizeof h->reason);
            note_held(s, h);
        }
        arm(s);
        return 1;
    }
    if (http == 429 || http >= 500 || http == 0) {
        if (j->tries < s->max_retries) {
            char why[300];
            snprintf(why, sizeof why, "historical ticks of %s: %s%d %s", s->subs[j->sub].real,
                     http ? "HTTP " : "no answer ", http, msg);
            sj_retry_job(s, j, why);
            return 1;
        }
        snprintf(reason, sizeof reason, "server busy (%s%d: %.80s) after %d retries", http ? "HTTP " : "no answer ",
                 http, msg, j->tries);
        park(s, j, SJ_HOLD_BUSY, reason);
        return 1;
    }
    return 0;
}

int sj_bflimit_set(sj_src *s, const char *key, double v, char *err, size_t errlen) {
    if (!strcmp(key, "backfill_max_queries")) {
        if (!(v >= 1 && v <= 100000) || v != floor(v))
            return shj_fail(err, errlen, "backfill_max_queries must be a whole number 1..100000, not %g", v);
        /* The queries already sent still count against a new limit. */
        if (s->bf_budget.t && sj_ratewin_resize(&s->bf_budget, (size_t)v) != SHJ_OK)
            return shj_fail(err, errlen, "out of memory");
        s->bf_max_queries = (int)v;
    } else if (!strcmp(key, "backfill_window_s")) {
        if (!(v > 0)) return shj_fail(err, errlen, "backfill_window_s must be > 0, not %g", v);
        s->bf_window_s = v;
        s->bf_budget.window_ns = (int64_t)(v * 1e9);
    } else if (!strcmp(key, "backfill_retry_at")) {
        /* HHMM as a number (13:50 -> 1350); the Lua layer takes "HH:MM". */
        if (!(v >= 0 && v <= 2359) || v != floor(v) || (int)v % 100 >= 60)
            return shj_fail(err, errlen, "backfill_retry_at must be HHMM (0000..2359), not %g", v);
        s->bf_retry_hhmm = (int)v;
    } else if (!strcmp(key, "backfill_defer")) {
        s->bf_defer = v != 0;
    } else if (!strcmp(key, "backfill_intraday_max")) {
        if (!(v >= 0 && v <= 10000) || v != floor(v))
            return shj_fail(err, errlen, "backfill_intraday_max must be a whole number 0..10000, not %g", v);
        s->bf_intraday_max = (int)v;
    } else if (!strcmp(key, "backfill_clock_offset_s")) {
        if (!isfinite(v)) return shj_fail(err, errlen, "backfill_clock_offset_s must be finite");
        s->bf_clock_offset_ns = (int64_t)(v * 1e9);
    } else {
        return SHJ_AGAIN;
    }
    /* A new retry time (or clock) moves what waits for the server's limit. */
    if (!strcmp(key, "backfill_retry_at") || !strcmp(key, "backfill_clock_offset_s")) {
        if (s->bf_blocked_until_wall) {
            s->bf_blocked_until_wall = next_retry_at(s, wall_now(s));
            for (size_t i = 0; i < s->held_n; i++)
                if (s->held[i].why == SJ_HOLD_SERVER) s->held[i].release_wall_ns = s->bf_blocked_until_wall;
        }
    }
    arm(s);
    return SHJ_OK;
}

size_t sj_bflimit_queued(const sj_src *s) { return s->held_n; }

static void log_pending(sj_src *s, const sj_job *j, const char *state) {
    char win[64];
    fmt_window(j, win, sizeof win);
    shj_log(SHJ_LOG_WARN, "source %s: backfill %s %s not done at stop (%s)", s->base.name,
            s->subs[j->sub].real, win, state);
}

/* A ticks job still in the REST queue at stop (sj_rest_foreach). */
static void log_queued(sj_src *s, const sj_job *j, int in_flight, void *ud) {
    if (j->type != SJ_JOB_TICKS) return;
    log_pending(s, j, in_flight ? "in flight" : "waiting for its turn");
    ++*(size_t *)ud;
}

void sj_bflimit_stop(sj_src *s) {
    if (s->base.loop && s->bf_budget.t) ev_timer_stop(s->base.loop, &s->bf_hold);
    size_t pending = 0;
    sj_rest_foreach(s, log_queued, &pending);
    for (size_t i = 0; i < s->held_n; i++) {
        char state[200];
        snprintf(state, sizeof state, "queued: %s", s->held[i].reason);
        log_pending(s, &s->held[i].job, state);
        pending++;
    }
    if (pending)
        shj_log(SHJ_LOG_WARN, "source %s: %zu backfill job%s pending at stop: those intervals may be missing "
                "from the archive", s->base.name, pending, pending == 1 ? "" : "s");
}

void sj_bflimit_free(sj_src *s) {
    for (size_t i = 0; i < s->held_n; i++) sj_job_release(&s->held[i].job);
    free(s->held);
    s->held = NULL;
    s->held_n = s->held_cap = 0;
    sj_ratewin_free(&s->bf_budget);
}
