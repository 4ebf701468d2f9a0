/* test_shioaji_unix.c — the Unix-socket transport with per-kind streams, and a server
 * that is not there yet, then goes away and comes back.
 *
 * The source starts first, pointed at a socket nobody listens on: it keeps
 * retrying /api/v1/info (one ERROR status). The stand-in A then starts on
 * that socket; the source reaches it through CURLOPT_UNIX_SOCKET_PATH with
 * one stream per kind (tick_stk, bidask_stk, tick_fop, bidask_fop). Every
 * stream is cut mid-event: each reconnects on its own, resubscribes what it
 * carries and reports a gap for its instrument only. Then A is stopped and a
 * fresh stand-in B (no subscriptions at all) takes its socket: every stream
 * comes back and the subscriptions are made again on B. The archive ends up
 * with every payload A and B sent, exactly once.
 */
#include "sj_harness.h"
#include "t.h"

typedef struct ctx {
    sh_standin a, b;
    char dir_a[300], dir_b[300], sock[300];
    src_source *src;
    sh_rec rec;
    int phase;
    double t_phase;
    uint64_t mark;
    int64_t sent_a;
} ctx;

static int step(void *p, double el) {
    ctx *c = p;
    switch (c->phase) {
    case 0: /* no server yet: the source waits and says so */
        if (el > 0.4 && sh_count_status(&c->rec, SHJ_STATUS_ERROR) >= 1) {
            const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
            if (sh_standin_start_at(&c->a, c->dir_a, c->sock, args) != 0) return 1;
            c->phase = 1;
        }
        return 0;
    case 1:
        if (sj_counter(c->src, "subscribed") == 4 && sj_counter(c->src, "streams_open") == 4 &&
            c->src->counters.per_kind[SHJ_KIND_BIDASK] > 50 && c->src->counters.per_kind[SHJ_KIND_TICK] > 20) {
            sh_fault(&c->a, "{\"fault\":\"drop\"}");
            c->mark = c->src->counters.payloads;
            c->phase = 2;
        }
        return 0;
    case 2:
        if (sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= 4 && sh_pause_after(&c->a, c->src, c->mark, 50))
            c->phase = 3;
        return 0;
    case 3: /* everything A sent arrived: replace A by B */
        if (sh_caught_up(&c->a, c->src, &c->sent_a)) {
            sh_standin_stop(&c->a);
            const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", "--seed", "9",
                                  NULL};
            if (sh_standin_start_at(&c->b, c->dir_b, c->sock, args) != 0) return 1;
            c->mark = c->src->counters.payloads;
            c->phase = 4;
        }
        return 0;
    case 4:
        if (sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= 8 && sh_pause_after(&c->b, c->src, c->mark, 100))
            c->phase = 5;
        return 0;
    default: {
        int64_t sent_b = sh_stat(&c->b, "sent");
        return sent_b > 0 && (int64_t)c->src->counters.payloads >= c->sent_a + sent_b;
    }
    }
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-unix");
    snprintf(c.dir_a, sizeof c.dir_a, "%s/a", dir);
    snprintf(c.dir_b, sizeof c.dir_b, "%s/b", dir);
    snprintf(c.sock, sizeof c.sock, "%s/sj.sock", dir);
    mkdir(c.dir_a, 0700);
    mkdir(c.dir_b, 0700);
    rt_init(0);
    rt_set_status_interval(0);
    CHECK(sj_new("x", NULL, NULL, "sideways", 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "per_kind") != NULL);
    c.src = sj_new("sju", NULL, c.sock, "per_kind", 1.0, err, sizeof err);
    CHECK(c.src != NULL);
    sj_set(c.src, "backoff_initial_s", 0.05, err, sizeof err);
    sj_set(c.src, "backoff_max_s", 0.2, err, sizeof err);
    sh_wire(c.src, dir, &c.rec, err, sizeof err);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, tb, 0}, b = {"TXFR1", 0, 0, tb, 0};
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &a, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &b, err, sizeof err), SHJ_OK);

    CHECK_EQ_I64(sh_run(step, &c, 50.0), 0);
    CHECK(c.phase >= 5);
    /* Waited for the server, said so once, then connected. */
    size_t not_ready = 0;
    for (size_t i = 0; i < c.rec.n; i++)
        not_ready += c.rec.ev[i].kind == SHJ_KIND_STATUS && c.rec.ev[i].status == SHJ_STATUS_ERROR &&
                     strstr(c.rec.ev[i].detail, "not ready") != NULL;
    CHECK_EQ_I64(not_ready, 1);
    /* Drop on A: 4 streams back; restart to B: 4 streams back again. */
    CHECK_EQ_I64(sj_counter(c.src, "reconnects"), 8);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_CONNECTED), 12);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_RESUBSCRIBED), 8);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_GAP), 8); /* one per stream per loss */
    CHECK_EQ_I64(sh_stat(&c.b, "subscribe_requests"), 4);      /* B learnt every subscription */
    CHECK_EQ_I64(sh_stat(&c.b, "streams_opened"), 4);
    sh_standin_stop(&c.b);

    sh_diff diff = {0};
    CHECK(sh_diff_log(&diff, c.a.log_path) == 0);
    size_t from_a = diff.sent.n, n_gaps = 0;
    CHECK(sh_diff_log(&diff, c.b.log_path) == 0);
    CHECK(sh_diff_archive(&diff, dir, "sju") == 0);
    fprintf(stderr, "of which stand-in A sent %zu, B %zu\n", from_a, diff.sent.n - from_a);
    CHECK(from_a > 100);
    CHECK(diff.sent.n - from_a > 100);
    CHECK_EQ_I64(diff.missing, 0);
    CHECK_EQ_I64(diff.duplicated, 0);
    CHECK_EQ_I64(diff.extra, 0);
    CHECK_EQ_I64(sh_check_gaps(&c.rec, &diff.arch, 0, &n_gaps), 0);
    CHECK_EQ_I64(n_gaps, 8);
    sh_diff_free(&diff);
    sh_teardown(&c.rec, dir);
    T_DONE();
}
