/* test_shioaji_secret.c — credentials come from the environment and never reach a log.
 *
 * Fake keys are put in SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY and SJ_API_KEY/
 * SJ_SEC_KEY; the stand-in demands "Authorization: Bearer KEY:SECRET".
 *  A. SHIOAJI_* hold the right pair, SJ_* a wrong one: the SHIOAJI_* pair
 *     wins (subscriptions succeed, no 401).
 *  B. Only SJ_* hold the right pair: it is used.
 *  C. Wrong credentials (SHIOAJI_* and SJ_* both wrong) to a server on
 *     127.0.0.1 that demands auth (as one bound to 0.0.0.0 does:
 *     /work/sinopac/HTTP_API.md:72-77, the header is needed whatever address
 *     the client dialled, so we send it whenever credentials are set): 401,
 *     an error status naming it, and the run ends by itself within seconds
 *     with an error from rt_run (the program's exit status is non-zero), not
 *     "reconnecting" forever and exit 0.
 *  D. No credentials at all: the same, and the message says to set them.
 *  E. Wrong credentials with auth_retry_s = 0.3: no stop; the calls are
 *     retried slowly (more 401s over time, one error status for the streak).
 * All of it runs with debug logging, stderr captured (ours and the stand-in's);
 * none of the four secrets appears there or in the stand-in's log.
 */
#include "sj_harness.h"
#include "t.h"

#define KEY "fake-key-6f1e2d4c"
#define SEC "fake-secret-9a8b7c3e"
#define WRONG_KEY "wrong-key-13579bdf"
#define WRONG_SEC "wrong-secret-2468ace0"

typedef struct ctx {
    sh_standin *si;
    src_source *src;
    sh_rec rec;
    int want_error;          /* 1: wait for the run to end by itself; 2: run 2 s */
    char err[512];
    int timed_out;
    double elapsed;
    uint64_t refusals;
} ctx;

static int step(void *p, double el) {
    ctx *c = p;
    if (c->want_error == 1) return 0; /* only the source may end this run */
    if (c->want_error == 2) return el > 2.0;
    return sj_counter(c->src, "subscribed") == 1 && c->src->counters.per_kind[SHJ_KIND_TICK] > 10;
}

/* One run of a source against the stand-in; returns what it recorded. */
static void scenario(sh_standin *si, double auth_retry_s, int want_error, ctx *c) {
    char err[256];
    memset(c, 0, sizeof *c);
    c->si = si;
    c->want_error = want_error;
    c->src = sh_source_new(si, 0, "sjs", NULL, 2.0, err, sizeof err);
    if (auth_retry_s > 0) sj_set(c->src, "auth_retry_s", auth_retry_s, err, sizeof err);
    sh_wire(c->src, NULL, &c->rec, err, sizeof err); /* no archive */
    src_sub_req a = {"2330", SHJ_EX_TSE, SHJ_SEC_STK, 1u << SHJ_KIND_TICK, 0};
    c->src->ops->subscribe(c->src, &a, err, sizeof err);
    int rc = sh_run(step, c, 20.0);
    if (want_error != 1) CHECK_EQ_I64(rc, 0);
    shj_strlcpy(c->err, sh_last_err, sizeof c->err);
    c->timed_out = sh_last_timed_out;
    c->elapsed = sh_last_elapsed_s;
    c->refusals = sj_counter(c->src, "auth_refusals");
}

static int unauthorized_statuses(const ctx *c) {
    int n = 0;
    for (size_t i = 0; i < c->rec.n; i++)
        if (c->rec.ev[i].kind == SHJ_KIND_STATUS && c->rec.ev[i].status == SHJ_STATUS_ERROR &&
            c->rec.ev[i].http_status == 401 && strstr(c->rec.ev[i].detail, "unauthorized"))
            n++;
    return n;
}

static int file_has(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&line, &cap, f) > 0) found = strstr(line, needle) != NULL;
    free(line);
    fclose(f);
    return found;
}

int main(void) {
    char dir[256], cap_path[512];
    sh_mkdtemp(dir, sizeof dir, "sj-secret");
    snprintf(cap_path, sizeof cap_path, "%s/stderr.txt", dir);

    /* Capture stderr (ours and, by inheritance, the stand-in's). */
    fflush(stderr);
    int saved = dup(2);
    int capfd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(capfd, 2);
    close(capfd);
    shj_log_set_level(SHJ_LOG_DEBUG);

    sh_standin si;
    const char *args[] = {"--rate", "200", "--heartbeat-ms", "200", "--date", "2026-11-25", "--require-auth",
                          KEY ":" SEC, NULL};
    int started = sh_standin_start(&si, dir, 0, args) == 0;

    ctx a, b, c, d, e;
    int64_t fails_a = -1, fails_b = -1, fails_c = -1, fails_d = -1, fails_e = -1;
    if (started) {
        setenv("SHIOAJI_API_KEY", KEY, 1);
        setenv("SHIOAJI_SECRET_KEY", SEC, 1);
        setenv("SJ_API_KEY", WRONG_KEY, 1);
        setenv("SJ_SEC_KEY", WRONG_SEC, 1);
        scenario(&si, 0, 0, &a);
        fails_a = sh_stat(&si, "auth_failures");
        rt_shutdown();

        unsetenv("SHIOAJI_API_KEY");
        unsetenv("SHIOAJI_SECRET_KEY");
        setenv("SJ_API_KEY", KEY, 1);
        setenv("SJ_SEC_KEY", SEC, 1);
        scenario(&si, 0, 0, &b);
        fails_b = sh_stat(&si, "auth_failures");
        rt_shutdown();

        setenv("SHIOAJI_API_KEY", WRONG_KEY, 1);
        setenv("SHIOAJI_SECRET_KEY", WRONG_SEC, 1);
        setenv("SJ_API_KEY", WRONG_KEY, 1);
        setenv("SJ_SEC_KEY", WRONG_SEC, 1);
        scenario(&si, 0, 1, &c);
        fails_c = sh_stat(&si, "auth_failures");
        rt_shutdown();

        unsetenv("SHIOAJI_API_KEY");
        unsetenv("SHIOAJI_SECRET_KEY");
        unsetenv("SJ_API_KEY");
        unsetenv("SJ_SEC_KEY");
        scenario(&si, 0, 1, &d);
        fails_d = sh_stat(&si, "auth_failures") - fails_c;
        rt_shutdown();

        setenv("SHIOAJI_API_KEY", WRONG_KEY, 1);
        setenv("SHIOAJI_SECRET_KEY", WRONG_SEC, 1);
        int64_t before_e = sh_stat(&si, "auth_failures");
        scenario(&si, 0.3, 2, &e);
        fails_e = sh_stat(&si, "auth_failures") - before_e;
        rt_shutdown();
        sh_standin_stop(&si);
    }

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    shj_log_set_level(SHJ_LOG_INFO);

    CHECK(started);
    CHECK_EQ_I64(fails_a, 0);
    CHECK(a.rec.n > 10);
    CHECK_EQ_I64(fails_b, 0);
    CHECK(b.rec.n > 10);
    /* C: refused, reported, and the run ended by itself with an error. */
    CHECK(fails_c > 0);
    CHECK(unauthorized_statuses(&c) >= 1);
    CHECK_EQ_I64(c.timed_out, 0);
    CHECK(c.elapsed < 10.0);
    CHECK(strstr(c.err, "HTTP 401") != NULL);
    CHECK(strstr(c.err, "are not accepted") != NULL);
    CHECK(c.refusals >= 1);
    /* D: no credentials: the same, and it says which variables to set. */
    CHECK(fails_d > 0);
    CHECK_EQ_I64(d.timed_out, 0);
    CHECK(strstr(d.err, "HTTP 401") != NULL);
    CHECK(strstr(d.err, "no credentials (set SHIOAJI_API_KEY") != NULL);
    /* E: retried slowly instead: the run went on, more than one 401 in 2 s
     * (0.3 s apart), but one error status for the whole streak. */
    CHECK_EQ_I64(e.timed_out, 0);
    CHECK_STR(e.err, "");
    CHECK(fails_e >= 2);
    CHECK(fails_e <= 2.0 / 0.3 * 3 + 3); /* slowly: a few per retry round, not a tight loop */
    CHECK_EQ_I64(unauthorized_statuses(&e), 1);

    /* The logs said things (so the grep is meaningful), but never a secret. */
    CHECK_EQ_I64(file_has(cap_path, "Shioaji server shioaji-standin"), 1);
    CHECK_EQ_I64(file_has(cap_path, "credentials: sent"), 1);
    CHECK_EQ_I64(file_has(cap_path, "HTTP 401"), 1);
    const char *secrets[] = {KEY, SEC, WRONG_KEY, WRONG_SEC, "6f1e2d4c", "9a8b7c3e"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        CHECK_EQ_I64(file_has(cap_path, secrets[i]), 0);
        CHECK_EQ_I64(file_has(si.log_path, secrets[i]), 0);
    }
    free(a.rec.ev);
    free(b.rec.ev);
    free(c.rec.ev);
    free(d.rec.ev);
    free(e.rec.ev);
    sh_rmrf(dir);
    T_DONE();
}
