/* test_thread.c — helper threads leave the loop's core alone (core/thread.h):
 * shj_thread_background makes the calling thread SCHED_BATCH and names it,
 * and the raw archive's writer thread (the one that compresses and writes
 * blocks the loop seals) runs that way — found by name in /proc, its policy
 * read from the kernel. bench/bench_latency shows what it buys. */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "core/thread.h"
#include "t.h"

static int seen_policy = -1;
static char seen_name[16];

static void *helper(void *arg) {
    (void)arg;
    shj_thread_background("shj-test");
    seen_policy = sched_getscheduler(0);
    pthread_getname_np(pthread_self(), seen_name, sizeof seen_name);
    return NULL;
}

/* The scheduling policy of this process's thread named `name`, -1 if none. */
static int policy_of_thread(const char *name) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    struct dirent *de;
    int policy = -1;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        if (strcmp(comm, name) == 0) policy = sched_getscheduler(atoi(de->d_name));
    }
    closedir(d);
    return policy;
}

int main(void) {
    pthread_t t;
    CHECK_EQ_I64(pthread_create(&t, NULL, helper, NULL), 0);
    pthread_join(t, NULL);
    CHECK_EQ_I64(seen_policy, SCHED_BATCH);
    CHECK_STR(seen_name, "shj-test");
    CHECK_EQ_I64(sched_getscheduler(0), SCHED_OTHER); /* the caller (the loop) is untouched */

    char dir[] = "/tmp/shj-thread-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[512];
    arc_opts o = {.dir = dir, .source = "sim", .fsync_ms = 100, .compress = 1};
    arc_writer *w = arc_open(&o, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
        int policy = -1;
        for (int i = 0; i < 200 && policy < 0; i++) { /* the thread names itself as it starts */
            policy = policy_of_thread("shj-archive");
            if (policy < 0) usleep(5000);
        }
        CHECK_EQ_I64(policy, SCHED_BATCH);
        CHECK_EQ_I64(arc_close(w, err, sizeof err), 0);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_I64(system(cmd), 0);
    T_DONE();
}
