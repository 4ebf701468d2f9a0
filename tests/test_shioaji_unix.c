/* test_shioaji_unix.c — the Unix-socket transport with per-kind streams.
 *
 * The stand-in listens on a Unix socket only; the source reaches it through
 * CURLOPT_UNIX_SOCKET_PATH with one stream per kind (tick_stk, bidask_stk,
 * tick_fop, bidask_fop). Every stream is cut mid-event: each reconnects on
 * its own, resubscribes what it carries and reports a gap for its
 * instruments only; the archive ends up with every payload exactly once.
 */
#include "sj_harness.h"
#include "t.h"

typedef struct ctx {
    sh_standin si;
    src_source *src;
    sh_rec rec;
    int phase;
    uint64_t mark;
    int64_t sent;
} ctx;

static int step(void *p, double el) {
    ctx *c = p;
    SHJ_UNUSED(el);
    switch (c->phase) {
    case 0:
        if (shj_shioaji_counter(c->src, "subscribed") == 4 && shj_shioaji_counter(c->src, "streams_open") == 4 &&
            c->src->counters.per_kind[SHJ_KIND_BIDASK] > 50 && c->src->counters.per_kind[SHJ_KIND_TICK] > 20) {
            sh_fault(&c->si, "{\"fault\":\"drop\"}");
            c->mark = c->src->counters.payloads;
            c->phase = 1;
        }
        return 0;
    case 1:
        if (sh_count_status(&c->rec, SHJ_STATUS_RESUBSCRIBED) >= 4 && c->src->counters.payloads > c->mark + 50) {
            sh_fault(&c->si, "{\"fault\":\"pause\"}");
            c->phase = 2;
        }
        return 0;
    default:
        return sh_caught_up(&c->si, c->src, &c->sent);
    }
}

int main(void) {
    ctx c;
    memset(&c, 0, sizeof c);
    char dir[256], err[256];
    sh_mkdtemp(dir, sizeof dir, "sj-unix");
    const char *args[] = {"--rate", "300", "--heartbeat-ms", "150", "--date", "2026-11-25", NULL};
    if (sh_standin_start(&c.si, dir, 1, args) != 0) {
        CHECK(0);
        T_DONE();
    }
    rt_init(0);
    rt_set_status_interval(0);
    CHECK(shj_shioaji_new("x", NULL, NULL, "sideways", 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "per_kind") != NULL);
    c.src = shj_shioaji_new("sju", NULL, c.si.unix_path, "per_kind", 1.0, err, sizeof err);
    CHECK(c.src != NULL);
    shj_shioaji_set(c.src, "backoff_initial_s", 0.05, err, sizeof err);
    rt_add_source(c.src, err, sizeof err);
    sh_route_raw(c.src, dir);
    bus_subscribe(rt_bus(), "test", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sh_rec_cb, &c.rec);
    uint32_t tb = (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK);
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, tb, 0}, b = {"TXFR1", 0, 0, tb, 0};
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &a, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(c.src->ops->subscribe(c.src, &b, err, sizeof err), SHJ_OK);

    CHECK_EQ_I64(sh_run(step, &c, 40.0), 0);
    CHECK_EQ_I64(c.phase, 2);
    CHECK_EQ_I64(sh_stat(&c.si, "streams_opened"), 8); /* 4 kinds, each opened twice */
    CHECK_EQ_I64(shj_shioaji_counter(c.src, "reconnects"), 4);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_CONNECTED), 8);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_RESUBSCRIBED), 4);
    CHECK_EQ_I64(sh_count_status(&c.rec, SHJ_STATUS_GAP), 4); /* one per stream: its one instrument */
    CHECK_EQ_I64(sh_stat(&c.si, "subscribe_requests"), 8);     /* 4 at start + 1 per stream after */
    sh_standin_stop(&c.si);

    sh_items sent = {0}, arch = {0};
    CHECK(sh_read_log(c.si.log_path, &sent) == 0);
    CHECK(sh_read_archive(dir, "sju", &arch) == 0);
    size_t missing, dup, extra, n_gaps = 0;
    sh_compare(&sent, &arch, &missing, &dup, &extra);
    fprintf(stderr, "stand-in sent %zu, archive holds %zu: missing %zu duplicated %zu extra %zu\n", sent.n,
            arch.n, missing, dup, extra);
    CHECK(sent.n > 100);
    CHECK_EQ_I64(missing, 0);
    CHECK_EQ_I64(dup, 0);
    CHECK_EQ_I64(extra, 0);
    CHECK_EQ_I64(sh_check_gaps(&c.rec, &arch, 0, &n_gaps), 0);
    CHECK_EQ_I64(n_gaps, 4);
    sh_items_free(&sent);
    sh_items_free(&arch);
    free(c.rec.ev);
    rt_shutdown();
    sh_rmrf(dir);
    T_DONE();
}
