/* test_shioaji_conform.c — the live path against the server as Sinopac documents it.
 *
 * Sinopac's material is quoted from /work/sinopac/ (Sinotrade/Shioaji @046010c
 * plugins/shioaji/skills/shioaji/references/ (the .md files), Sinotrade.github.io @4c63dd4
 * tutor/, shioaji-pro-app @dc12745 src/lib/stream.ts). Runs against the
 * stand-in in its default 1.7.x mode and again (test_shioaji_conform_api150)
 * in 1.5.0 mode, where the 1.7-only answers do not exist and the assertions
 * say what must happen instead.
 *
 *  A. success:false (STREAMING.md:167: "If success=false ... do not open SSE
 *     as if subscribed"): 2454 is refused with 200 {"success":false,...}; an
 *     ERROR status names 2454 and carries the server's message, it is not
 *     counted as subscribed, 2330 goes on. (1.5.0: no such answer; both are
 *     subscribed.)
 *  B. Maintenance (stream.ts:496-499: the server "silently drops every
 *     market-data subscription while our SSE connection stays up"): every
 *     subscription is restored by itself, one GAP per instrument covering the
 *     moment of the drop, and the raw archive holds every payload the
 *     stand-in sent (so nothing it sent after the resubscription is lost).
 *     1.7: found through /api/v1/health last_maintenance (polled every 0.2 s
 *     here); 1.5.0 (no last_maintenance): through the silence of the
 *     subscriptions while heartbeats go on.
 *  C. Alias expiry (HTTP_API.md:812, STREAMING.md:171: a missing or stale
 *     target_code gives 200 and heartbeats only): after the near month of
 *     TXFR1 expires, the source looks it up again (1.7: on the contract_event,
 *     HTTP_API.md:522-527; 1.5.0: on the silence) and subscribes the new
 *     month, whose ticks then arrive.
 *  D. The 503 ban (TROUBLESHOOTING.md:387, tutor_limit.md:156): after a 503
 *     "操作異常，請1分鐘後再重新登入" no request reaches the server before
 *     ban_wait_s (1.2 s here, 60 s by default); then the call goes through.
 *  E. Quota exhausted (tutor_limit.md:154, TROUBLESHOOTING.md:30-34: over
 *     the traffic cap ticks answer empty values; check /api/v1/auth/usage
 *     first): a gap's backfill gets empty arrays while remaining_bytes is 0;
 *     it is reported as the quota (error status, status line), never as
 *     "no trades", and the job is kept for the reset.
 */
#include "sj_harness.h"
#include "parse/parse.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    double t_phase;
    uint64_t mark;
    char new_month[16];
} ctx;

static int has_status(const sh_rec *r, int status, const char *code, const char *needle) {
    for (size_t i = 0; i < r->n; i++) {
        const shj_event *ev = &r->ev[i];
        if (ev->kind == SHJ_KIND_STATUS && ev->status == status && (!code || !strcmp(ev->code, code)) &&
            (!needle || strstr(ev->detail, needle)))
            return 1;
    }
    return 0;
}

/* A ----------------------------------------------------------------------------- */

static int step_refuse(void *p, double el) {
    ctx *c = p;
    SHJ_UNUSED(el);
    uint64_t want = sh_api150() ? 2 : 1;
    return sj_counter(c->src, "subscribed") == want &&
           (sh_api150() || has_status(&c->rec, SHJ_STATUS_ERROR, "2454", NULL)) &&
           c->src->counters.per_kind[SHJ_KIND_TICK] > 20;
}

static void scenario_refuse(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-conf-a");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    sh_fault(&c.si, "{\"fault\":\"refuse\",\"code\":\"2454\"}");
    c.src = sh_source_new(&c.si, 0, "sja", NULL, 2.0, err, sizeof err);
    sh_wire(c.src, NULL, &c.rec, err, sizeof err);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0},
                b = {"2454", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);
    CHECK_EQ_I64(sh_run(step_refuse, &c, 20.0), 0);
    if (sh_api150()) {
        CHECK_EQ_I64(sh_stat(&c.si, "refused_subs"), 0);
        CHECK_EQ_I64(sj_counter(c.src, "subscribe_errors"), 0);
        CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 2);
    } else {
        CHECK_EQ_I64(sh_stat(&c.si, "refused_subs"), 1);
        CHECK_EQ_I64(sj_counter(c.src, "subscribe_errors"), 1);
        CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 1);
        /* The error names the contract and carries the server's own message. */
        CHECK(has_status(&c.rec, SHJ_STATUS_ERROR, "2454", "upstream refused the topic"));
        CHECK(has_status(&c.rec, SHJ_STATUS_ERROR, "2454", "refused"));
    }
    sh_standin_stop(&c.si);
    sh_teardown(&c.rec, dir);
}

/* B ----------------------------------------------------------------------------- */

static const char *const B_CODES[] = {"2330", "6488", "TXFL6"};

static int step_maint(void *p, double el) {
    ctx *c = p;
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 3 && c->src->counters.payloads > 200) {
            sh_fault(&c->si, "{\"fault\":\"maintenance\"}");
            c->phase++;
            c->t_phase = el;
            c->mark = c->src->counters.payloads;
        }
        return 0;
    case 1:
        if (sh_count_status(&c->rec, SHJ_STATUS_GAP) >= 3 && sh_stat(&c->si, "subscriptions") == 3 &&
            c->src->counters.payloads > c->mark + 200) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            c->phase++;
        }
        return 0;
    default:
        return sh_caught_up(&c->si, c->src, NULL);
    }
}

/* From the stand-in's log: the instant of the drop (its "M seq iso" line)
 * and, per code, the hash of the last event it sent before it. */
static int read_drop(const char *log, int64_t *t_drop, uint64_t last_hash[3]) {
    FILE *f = fopen(log, "r");
    if (!f) return -1;
    char line[1024];
    int dropped = 0;
    while (fgets(line, sizeof line, f)) {
        int y, mo, d, h, mi, sec;
        long long frac;
        unsigned long long seq;
        if (line[0] == 'M' && sscanf(line, "M %llu %d-%d-%dT%d:%d:%d.%lldZ", &seq, &y, &mo, &d, &h, &mi, &sec, &frac) == 8) {
            *t_drop = ((sh_days_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * CLK_NS_PER_SEC) + frac;
            dropped = 1;
        }
        char tag[32], code[32];
        int conn;
        size_t len;
        unsigned long long hash;
        if (!dropped && line[0] == 'S' &&
            sscanf(line, "S %llu %d %31s %31s %zu %llx", &seq, &conn, tag, code, &len, &hash) == 6)
            for (int k = 0; k < 3; k++)
                if (!strcmp(code, B_CODES[k])) last_hash[k] = hash;
    }
    fclose(f);
    return dropped ? 0 : -1;
}

static void scenario_maintenance(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-conf-b");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    c.src = sh_source_new(&c.si, 0, "sjb", NULL, 2.0, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "health_poll_s", 0.2, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "silence_s", 1.5, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "market_hours", 0, err, sizeof err), SHJ_OK);
    sh_wire(c.src, dir, &c.rec, err, sizeof err);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0},
                b = {"6488", 0, 0, 1u << SHJ_KIND_TICK, 0}, d = {"TXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);
    c.src->ops->subscribe(c.src, &d, err, sizeof err);
    CHECK_EQ_I64(sh_run(step_maint, &c, 40.0), 0);
    CHECK(c.phase >= 2);
    CHECK_EQ_I64(sh_stat(&c.si, "maintenances"), 1);
    if (sh_api150()) {
        CHECK_EQ_I64(sj_counter(c.src, "maintenances"), 0);
        CHECK(sj_counter(c.src, "silences") >= 1);
    } else {
        CHECK_EQ_I64(sj_counter(c.src, "maintenances"), 1);
    }
    /* The stream stayed open: no reconnect, yet every subscription is back. */
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 0);
    CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 3);
    CHECK_EQ_I64(sh_stat(&c.si, "subscriptions"), 3);
    sh_standin_stop(&c.si);
    /* Everything the stand-in sent (before the drop and after the
     * resubscription) is in the archive exactly once. */
    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.si.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sjb") == 0);
    CHECK(diff.sent.n > 400);
    CHECK_EQ_I64(diff.missing, 0);
    CHECK_EQ_I64(diff.duplicated, 0);
    CHECK_EQ_I64(diff.extra, 0);
    /* One GAP per instrument, covering the silent interval: it starts no
     * earlier than the receive time of the instrument's last event sent
     * before the drop and no later than the drop (or that receive time, if
     * it came after), ends after the drop and within seconds, and nothing of
     * the instrument was received inside it. */
    int64_t t_drop = 0;
    uint64_t last_hash[3] = {0, 0, 0};
    CHECK_EQ_I64(read_drop(c.si.log_path, &t_drop, last_hash), 0);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_GAP), 3);
    for (int k = 0; k < 3; k++) {
        const shj_event *gap = NULL;
        for (size_t i = 0; i < c.rec.n; i++)
            if (c.rec.ev[i].kind == SHJ_KIND_STATUS && c.rec.ev[i].status == SHJ_STATUS_GAP &&
                !strcmp(c.rec.ev[i].code, B_CODES[k]))
                gap = &c.rec.ev[i];
        if (!gap) fprintf(stderr, "no gap for %s\n", B_CODES[k]);
        CHECK(gap != NULL);
        if (!gap) continue;
        int64_t r_last = 0;
        int inside = 0;
        for (size_t i = 0; i < diff.arch.n; i++) {
            const sh_item *it = &diff.arch.v[i];
            if (it->hash == last_hash[k]) r_last = it->recv_ns;
            char code[16] = "";
            if (it->data) sj_json_get_str(it->data, it->len, "code", code, sizeof code);
            if (!strcmp(code, B_CODES[k]) && it->recv_ns > gap->gap_start_ns && it->recv_ns < gap->gap_end_ns) inside++;
        }
        CHECK(r_last > 0);
        CHECK(gap->gap_start_ns >= r_last);
        CHECK(gap->gap_start_ns <= (t_drop > r_last ? t_drop : r_last));
        CHECK(gap->gap_end_ns >= t_drop);
        CHECK(gap->gap_end_ns - t_drop < 10 * CLK_NS_PER_SEC);
        CHECK_EQ_I64(inside, 0);
    }
    sh_diff_free(&diff);
    sh_teardown(&c.rec, dir);
}

/* C ----------------------------------------------------------------------------- */

static int64_t ticks_of(const src_source *s) { return (int64_t)s->counters.per_kind[SHJ_KIND_TICK]; }

static int step_alias(void *p, double el) {
    ctx *c = p;
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 2 && c->src->counters.payloads > 200) {
            sh_fault(&c->si, "{\"fault\":\"alias_expire\",\"code\":\"TXFR1\"}");
            char out[1024];
            if (sh_http(&c->si, "GET", "/api/v1/data/contracts/TXFR1?security_type=FUT", NULL, out, sizeof out) == 200)
                sj_json_get_str(out, strlen(out), "target_code", c->new_month, sizeof c->new_month);
            c->phase++;
            c->t_phase = el;
        }
        return 0;
    default: {
        char r[16] = "";
        if (sj_resolved(c->src, "TXFR1", r) != 1 || strcmp(r, c->new_month) != 0) return 0;
        /* ticks of the new month arrived */
        for (size_t i = c->rec.n; i-- > 0;) {
            const shj_event *ev = &c->rec.ev[i];
            if (ev->kind == SHJ_KIND_TICK && !strcmp(ev->code, c->new_month)) return 1;
        }
        return 0;
    }
    }
}

static void scenario_alias(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-conf-c");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    c.src = sh_source_new(&c.si, 0, "sjc", NULL, 2.0, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "silence_s", 1.0, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "market_hours", 0, err, sizeof err), SHJ_OK);
    sh_wire(c.src, NULL, &c.rec, err, sizeof err);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0},
                b = {"TXFR1", 0, 0, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    c.src->ops->subscribe(c.src, &b, err, sizeof err);
    CHECK_EQ_I64(sh_run(step_alias, &c, 30.0), 0);
    CHECK(c.new_month[0] != '\0');
    CHECK(strcmp(c.new_month, "TXFL6") != 0);
    char r[16] = "";
    CHECK_EQ_I64(sj_resolved(c.src, "TXFR1", r), 1);
    CHECK_STR(r, c.new_month);
    CHECK_EQ_I64(sj_counter(c.src, "alias_changes"), 1);
    CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 2);
    CHECK(ticks_of(c.src) > 0);
    /* The old month's silence is a gap of TXFL6. */
    CHECK(has_status(&c.rec, SHJ_STATUS_GAP, "TXFL6", NULL));
    if (!sh_api150()) CHECK_EQ_I64(sj_counter(c.src, "silences"), 0); /* the contract_event was enough */
    sh_standin_stop(&c.si);
    sh_teardown(&c.rec, dir);
}

/* D ----------------------------------------------------------------------------- */

static int step_ban(void *p, double el) {
    ctx *c = p;
    char err[256];
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 1 && c->src->counters.payloads > 50) {
            sh_fault(&c->si, "{\"fault\":\"ban\",\"ms\":800}");
            src_sub_req b = {"2454", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0};
            c->src->ops->subscribe(c->src, &b, err, sizeof err);
            c->phase++;
            c->t_phase = el;
        }
        return 0;
    default:
        return sj_counter(c->src, "subscribed") == 2;
    }
}

static void scenario_ban(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-conf-d");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    c.src = sh_source_new(&c.si, 0, "sjd", NULL, 2.0, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "ban_wait_s", 1.2, err, sizeof err), SHJ_OK);
    sh_wire(c.src, NULL, &c.rec, err, sizeof err);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    CHECK_EQ_I64(sh_run(step_ban, &c, 20.0), 0);
    /* One request met the ban; the next one came no sooner than ban_wait_s. */
    CHECK_EQ_I64(sh_stat(&c.si, "banned_requests"), 1);
    CHECK(sh_stat(&c.si, "ban_retry_gap_ms") >= 1200);
    CHECK_EQ_I64(sj_counter(c.src, "bans"), 1);
    CHECK(has_status(&c.rec, SHJ_STATUS_ERROR, NULL, "操作異常"));
    CHECK_EQ_I64(sj_counter(c.src, "subscribed"), 2);
    sh_standin_stop(&c.si);
    sh_teardown(&c.rec, dir);
}

/* E ----------------------------------------------------------------------------- */

static int step_quota(void *p, double el) {
    ctx *c = p;
    SHJ_UNUSED(el);
    switch (c->phase) {
    case 0:
        if (sj_counter(c->src, "subscribed") == 1 && c->src->counters.payloads > 100) {
            sh_fault(&c->si, "{\"fault\":\"quota\",\"remaining\":0}");
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            c->phase++;
        }
        return 0;
    default:
        return sj_counter(c->src, "quota_exhausted") >= 1;
    }
}

static void scenario_quota(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-conf-e");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    CHECK(sh_standin_start(&c.si, dir, 0, args) == 0);
    c.src = sh_source_new(&c.si, 0, "sje", NULL, 2.0, err, sizeof err);
    CHECK_EQ_I64(sj_set(c.src, "backfill", 1, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_delay_s", 0.3, err, sizeof err), SHJ_OK);
    /* Backfill at once, whatever the hour: the intraday rules have their own
     * test (test_shioaji_budget.c). */
    CHECK_EQ_I64(sj_set(c.src, "backfill_defer", 0, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "backfill_intraday_max", 10000, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sj_set(c.src, "usage_poll_s", 0, err, sizeof err), SHJ_OK); /* asked only when needed */
    sh_wire(c.src, NULL, &c.rec, err, sizeof err);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0};
    c.src->ops->subscribe(c.src, &a, err, sizeof err);
    CHECK_EQ_I64(sh_run(step_quota, &c, 30.0), 0);
    /* The empty answer was judged against /api/v1/auth/usage and reported as
     * the quota, not as "no trades"; the job waits for the reset. */
    CHECK(sj_counter(c.src, "empty_answers") >= 1);
    CHECK_EQ_I64(sj_counter(c.src, "quota_exhausted"), 1);
    CHECK(sh_stat(&c.si, "usage_requests") >= 1);
    CHECK(has_status(&c.rec, SHJ_STATUS_ERROR, "2330", "traffic quota exhausted"));
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_BACKFILLED), 0);
    CHECK_EQ_I64(sj_counter(c.src, "backfilled"), 0);
    CHECK(sj_counter(c.src, "backfill_queued") >= 1);
    CHECK_EQ_I64(sj_counter(c.src, "usage_remaining"), 0);
    char line[256];
    sj_status_line(c.src, line, sizeof line);
    CHECK(strstr(line, "QUOTA EXHAUSTED") != NULL);
    sh_standin_stop(&c.si);
    sh_teardown(&c.rec, dir);
}

int main(void) {
    scenario_refuse();
    scenario_maintenance();
    scenario_alias();
    scenario_ban();
    scenario_quota();
    T_DONE();
}
