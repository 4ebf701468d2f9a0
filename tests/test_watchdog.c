/* test_watchdog.c — a Lua handler that never returns costs no record and no signal.
 *
 * Issue 11, fault 1: a handler stuck in a loop blocked every signal and
 * stranded the open archive block (records accepted 20 s earlier were never
 * made durable; SIGKILL then lost them). LuaJIT cannot be interrupted inside
 * compiled code, so loop/watchdog.c keeps the promises from its own thread.
 * Here the "loop thread" is this test's main thread: it appends records,
 * enters "Lua" (wd_enter) and never comes back. Checked:
 *  1. the records become durable within about fsync_ms although nobody calls
 *     arc_poll (without the watchdog they stay in the open block forever);
 *  2. a stuck call past the budget is reported once;
 *  3. in a child process stuck the same way, SIGINT ends the process with
 *     status 1 within seconds, and every accepted record is in the file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arc_payload.h"
#include "archive/archive.h"
#include "core/clock.h"
#include "core/shj_common.h"
#include "loop/watchdog.h"
#include "t.h"

#define N 500

static void parked_archive(void *ctx, int64_t now_mono_ns, int final) {
    arc_writer *w = ctx;
    if (final) {
        char err[512];
        arc_flush(w, err, sizeof err);
    } else {
        arc_poll(w, now_mono_ns);
    }
}

static arc_writer *open_and_fill(const char *dir, const char *source) {
    char err[512], buf[700];
    arc_opts o = {.dir = dir, .source = source, .fsync_ms = 50};
    arc_writer *w = arc_open(&o, err, sizeof err);
    if (!w) return NULL;
    int64_t t0 = clk_now_ns();
    for (uint64_t s = 1; s <= N; s++) {
        uint8_t tag;
        uint32_t len = arc_test_payload(s, buf, &tag);
        arc_test_append(w, tag, buf, len, arc_test_recv(t0, s), s);
    }
    return w;
}

static uint64_t durable(arc_writer *w) {
    arc_stats st;
    arc_get_stats(w, &st);
    return st.durable_records;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The child of check 3: a loop thread stuck in "Lua" with records accepted. */
static int stuck_child(const char *dir) {
    arc_writer *cw = open_and_fill(dir, "signal");
    if (!cw) return 3;
    wd_start(-1, parked_archive, cw);
    wd_chain_signal(SIGINT); /* over SIG_DFL here; over libev's handler in rt */
    wd_enter();
    printf("ready\n");
    fflush(stdout);
    /* The stuck handler. It sleeps rather than spins only so that
     * ThreadSanitizer, which delivers signals at intercepted calls, can hand
     * the signal over at all; to the watchdog it is the same. */
    for (;;) usleep(1000);
}

int main(int argc, char **argv) {
    shj_log_set_level(SHJ_LOG_ERROR);
    if (argc == 3 && strcmp(argv[1], "child") == 0) return stuck_child(argv[2]);
    char dir[] = "/tmp/shj_wd_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);

    /* 1 + 2: durability and the report while "stuck". */
    arc_writer *w = open_and_fill(dir, "stuck");
    CHECK(w != NULL);
    CHECK_EQ_I64(wd_start(300, parked_archive, w), SHJ_OK);
    wd_enter(); /* the handler starts and never returns (until we end the test) */
    uint64_t d = 0;
    for (int i = 0; i < 500 && (d = durable(w)) < N; i++) sleep_ms(10);
    CHECK_EQ_I64(d, N);
    for (int i = 0; i < 100 && wd_stuck_reports() == 0; i++) sleep_ms(10);
    CHECK_EQ_I64(wd_stuck_reports(), 1);
    CHECK(wd_parked_runs() > 0);
    sleep_ms(200);
    CHECK_EQ_I64(wd_stuck_reports(), 1); /* once per call, not once per tick */
    wd_leave();
    wd_stop();
    char err[512];
    CHECK_EQ_I64(arc_close(w, err, sizeof err), SHJ_OK);

    /* 3: SIGINT to a process whose loop is stuck: exit 1, nothing lost. */
    /* A fresh process (exec, not a bare fork: sanitizers dislike threads
     * started in a forked child). */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        execl("/proc/self/exe", "test_watchdog", "child", dir, (char *)NULL);
        _exit(4);
    }
    close(pfd[1]);
    char ready[16] = "";
    CHECK(read(pfd[0], ready, sizeof ready - 1) > 0 && strncmp(ready, "ready", 5) == 0);
    close(pfd[0]);
    sleep_ms(100); /* well inside the stuck "handler" */
    int64_t t_sig = clk_mono_ns();
    kill(pid, SIGINT);
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 1000 && (got = waitpid(pid, &status, WNOHANG)) == 0; i++) sleep_ms(10);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    double took_s = (double)(clk_mono_ns() - t_sig) / 1e9;
    fprintf(stderr, "stuck child exited %.2f s after SIGINT\n", took_s);
    CHECK(got == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char cmd[600], path[600];
    snprintf(cmd, sizeof cmd, "ls %s/signal/*.shjraw", dir);
    FILE *ls = popen(cmd, "r");
    CHECK(fgets(path, sizeof path, ls) != NULL);
    pclose(ls);
    path[strcspn(path, "\n")] = '\0';
    arc_scan sc;
    CHECK_EQ_I64(arc_scan_file(path, &sc, err, sizeof err), SHJ_OK);
    CHECK_EQ_I64(sc.records, N);
    CHECK_EQ_I64(sc.torn, 0);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    T_DONE();
}
