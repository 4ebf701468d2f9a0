/* test_ops_notify.c — systemd's notify protocol, spoken by the real `shijim`
 * binary to a socket of ours, as systemd would see it (runtime/ops/ops_notify.c).
 * The test binds a unix datagram socket, runs `shijim run notify.lua` with
 * NOTIFY_SOCKET and WATCHDOG_USEC=200000 (ping every 50 ms), the script
 * records the simulated market and, 1.5 s after the loop starts, sticks the
 * loop in a Lua timer for 2.5 s. The test sends SIGTERM 5.5 s after READY.
 * Asserted:
 *  - READY=1 arrives exactly once, with a STATUS= line, before any STOPPING;
 *  - WATCHDOG=1 arrives periodically while the loop turns (>= 10 before the
 *    stall, and again after it);
 *  - while the loop is stuck no WATCHDOG=1 arrives: the longest silence
 *    between pings is >= 2.4 s, and it is the only one above 1.5 s;
 *  - STOPPING=1 arrives after SIGTERM, and the process exits 0.
 * Without WATCHDOG_USEC: READY and STOPPING, not a single WATCHDOG=1. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "t.h"

#define MAX_MSGS 4096

typedef struct {
    int64_t at;      /* mono ns when received */
    char text[512];
} msg;

static msg msgs[MAX_MSGS];
static int n_msgs;

static const char *script_text =
    "local shijim = require \"shijim\"\n"
    "local src = shijim.source.simulated{ seed = 3, rate = 2000 }\n"
    "src:subscribe{ stocks = { \"2330\" }, kinds = { \"tick\" } }\n"
    "if os.getenv(\"NOTIFY_TEST_STALL\") == \"1\" then\n"
    "  shijim.after(1500, function()\n"
    "    local t = shijim.now_ns()\n"
    "    while shijim.now_ns() - t < 2.5e9 do end -- the loop is stuck in Lua\n"
    "  end)\n"
    "end\n"
    "shijim.run{ status_ms = 0 }\n";

/* Runs the recorder; collects every datagram until it exits. Returns its exit status. */
static int run(const char *dir, int watchdog, int stall, int64_t *ready_at) {
    char sock_path[300], script[300], bin[300];
    snprintf(sock_path, sizeof sock_path, "%s/notify.sock", dir);
    snprintf(script, sizeof script, "%s/notify.lua", dir);
    const char *bd = getenv("SHJ_BUILD_DIR");
    snprintf(bin, sizeof bin, "%s/shijim", bd && *bd ? bd : ".");
    FILE *f = fopen(script, "w");
    CHECK(f != NULL);
    fputs(script_text, f);
    fclose(f);

    unlink(sock_path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    CHECK(strlen(sock_path) < sizeof a.sun_path);
    memcpy(a.sun_path, sock_path, strlen(sock_path) + 1 < sizeof a.sun_path ? strlen(sock_path) + 1 : sizeof a.sun_path - 1);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);

    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        setenv("NOTIFY_SOCKET", sock_path, 1);
        if (watchdog) setenv("WATCHDOG_USEC", "200000", 1);
        else unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        setenv("NOTIFY_TEST_STALL", stall ? "1" : "0", 1);
        execl(bin, bin, "run", script, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    n_msgs = 0;
    *ready_at = 0;
    int termed = 0, status = -1;
    int64_t t0 = clk_mono_ns();
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 20);
        int64_t now = clk_mono_ns();
        if (r > 0) {
            char buf[512];
            ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
            if (n > 0 && n_msgs < MAX_MSGS) {
                buf[n] = '\0';
                msgs[n_msgs].at = now;
                snprintf(msgs[n_msgs].text, sizeof msgs[n_msgs].text, "%s", buf);
                if (!*ready_at && strstr(buf, "READY=1")) *ready_at = now;
                n_msgs++;
            }
            continue;
        }
        int64_t since = *ready_at ? now - *ready_at : 0;
        if (!termed && *ready_at && since > (stall ? 5500 : 1500) * 1000000LL) {
            kill(pid, SIGTERM);
            termed = 1;
        }
        if (!termed && now - t0 > 30 * 1000000000LL) { /* never ready: give up */
            kill(pid, SIGKILL);
            termed = 1;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
    }
    /* Datagrams sent just before the exit are still queued. */
    for (;;) {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n <= 0 || n_msgs >= MAX_MSGS) break;
        buf[n] = '\0';
        msgs[n_msgs].at = clk_mono_ns();
        snprintf(msgs[n_msgs].text, sizeof msgs[n_msgs].text, "%s", buf);
        n_msgs++;
    }
    close(fd);
    unlink(sock_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int count(const char *what) {
    int c = 0;
    for (int i = 0; i < n_msgs; i++) c += strstr(msgs[i].text, what) != NULL;
    return c;
}

static int first(const char *what) {
    for (int i = 0; i < n_msgs; i++)
        if (strstr(msgs[i].text, what)) return i;
    return -1;
}

int main(void) {
    char dir[] = "/tmp/shj-notify.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int64_t ready_at;

    /* With the watchdog, and a stuck loop. */
    int rc = run(dir, 1, 1, &ready_at);
    CHECK_EQ_I64(rc, 0);
    CHECK_EQ_I64(count("READY=1"), 1);
    int r = first("READY=1"), s = first("STOPPING=1");
    CHECK(r >= 0 && s > r);
    CHECK(r >= 0 && strstr(msgs[r].text, "STATUS=recording") != NULL);
    int64_t prev = 0, longest = 0, longest_end = 0;
    int over = 0, before = 0, after = 0;
    for (int i = 0; i < n_msgs; i++) {
        if (strcmp(msgs[i].text, "WATCHDOG=1") != 0) continue;
        if (prev) {
            int64_t gap = msgs[i].at - prev;
            if (gap > 1500000000LL) over++;
            if (gap > longest) longest = gap, longest_end = msgs[i].at;
        }
        prev = msgs[i].at;
    }
    for (int i = 0; i < n_msgs; i++) {
        if (strcmp(msgs[i].text, "WATCHDOG=1") != 0) continue;
        if (msgs[i].at < longest_end - longest) before++;
        if (msgs[i].at >= longest_end) after++;
    }
    fprintf(stderr, "stall run: %d datagrams, %d WATCHDOG=1 (%d before the silence, %d after), longest silence %.3f s\n",
            n_msgs, count("WATCHDOG=1"), before, after, (double)longest / 1e9);
    CHECK(longest >= 2400000000LL);
    CHECK_EQ_I64(over, 1);
    CHECK(before >= 10);
    CHECK(after >= 5);

    /* Without the watchdog: no pings at all. */
    rc = run(dir, 0, 0, &ready_at);
    CHECK_EQ_I64(rc, 0);
    CHECK_EQ_I64(count("READY=1"), 1);
    CHECK(first("STOPPING=1") > first("READY=1"));
    CHECK_EQ_I64(count("WATCHDOG=1"), 0);
    fprintf(stderr, "plain run: %d datagrams\n", n_msgs);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    T_DONE();
}
