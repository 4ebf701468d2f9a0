/* watchdog.c — see watchdog.h: keeps records durable and signals effective
 * while a Lua handler does not return. */
#include "loop/watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "core/thread.h"

static struct {
    pthread_t thread;
    int running;
    pthread_mutex_t mu;          /* held while a parked hook runs; wd_leave waits on it */
    pthread_cond_t cv;
    int stop;
    int budget_ms;
    wd_parked_fn fn;
    void *ctx;
    int depth;                   /* loop thread only: nesting of wd_enter */
    _Atomic int64_t in_lua_since; /* mono ns when the outermost Lua call began, 0 = not in Lua */
    _Atomic int64_t reported_call; /* the in_lua_since value already reported */
    _Atomic uint64_t parked_runs, stuck_reports;
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The stop signal seen, 0 = none: written by a signal handler on any thread
 * and read by the watchdog, so a lock-free atomic (async-signal-safe). */
static _Atomic int wd_signal;
static _Atomic int64_t wd_signal_mono;    /* when the watchdog first noticed it */
static struct sigaction wd_prev[65];      /* the handler wd_chain_signal displaced */

void wd_enter(void) {
    if (wd.depth++ == 0) atomic_store_explicit(&wd.in_lua_since, clk_mono_ns(), memory_order_release);
}

void wd_leave(void) {
    if (--wd.depth > 0) return;
    pthread_mutex_lock(&wd.mu); /* not while a parked hook uses the loop's writers */
    atomic_store_explicit(&wd.in_lua_since, 0, memory_order_release);
    pthread_mutex_unlock(&wd.mu);
}

void wd_note_signal(int signum) { atomic_store_explicit(&wd_signal, signum, memory_order_relaxed); }

static void wd_sig_handler(int signum, siginfo_t *info, void *uctx) {
    wd_note_signal(signum);
    const struct sigaction *p = (signum > 0 && signum < 65) ? &wd_prev[signum] : NULL;
    if (!p) return;
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction) p->sa_sigaction(signum, info, uctx);
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN && p->sa_handler) {
        p->sa_handler(signum);
    }
}

void wd_chain_signal(int signum) {
    if (signum <= 0 || signum >= 65) return;
    struct sigaction cur, mine;
    if (sigaction(signum, NULL, &cur) != 0) return;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == wd_sig_handler) return; /* already */
    wd_prev[signum] = cur;
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = wd_sig_handler;
    mine.sa_flags = SA_SIGINFO | SA_RESTART;
    mine.sa_mask = cur.sa_mask;
    sigaction(signum, &mine, NULL);
}

uint64_t wd_parked_runs(void) { return atomic_load(&wd.parked_runs); }
uint64_t wd_stuck_reports(void) { return atomic_load(&wd.stuck_reports); }

static void *wd_main(void *arg) {
    SHJ_UNUSED(arg);
    shj_thread_background("shj-watchdog");
    pthread_mutex_lock(&wd.mu);
    while (!wd.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WD_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd.cv, &wd.mu, &ts);
        if (wd.stop) break;
        int64_t now = clk_mono_ns();
        int sig = atomic_load_explicit(&wd_signal, memory_order_relaxed);
        if (sig && !atomic_load(&wd_signal_mono)) atomic_store(&wd_signal_mono, now);
        int64_t since = atomic_load_explicit(&wd.in_lua_since, memory_order_acquire);
        if (!since) {
            atomic_store_explicit(&wd_signal, 0, memory_order_relaxed); /* the loop takes signals itself */
            atomic_store(&wd_signal_mono, 0);
            continue;
        }
        int64_t stuck_ms = (now - since) / 1000000;
        if (stuck_ms < WD_PARKED_AFTER_MS) continue;
        /* The loop is inside Lua and cannot leave while we hold mu. */
        if (wd.fn) {
            wd.fn(wd.ctx, now, 0);
            atomic_fetch_add(&wd.parked_runs, 1);
        }
        if (wd.budget_ms > 0 && stuck_ms >= wd.budget_ms && atomic_load(&wd.reported_call) != since) {
            atomic_store(&wd.reported_call, since);
            atomic_fetch_add(&wd.stuck_reports, 1);
            shj_log(SHJ_LOG_WARN,
                    "a Lua handler has been running for %.1f s without returning: the event loop is "
                    "blocked (records already accepted are still made durable; SIGINT/SIGTERM "
                    "stop the process)", (double)stuck_ms / 1000.0);
        }
        int64_t sig_at = atomic_load(&wd_signal_mono);
        if (sig && sig_at && (now - sig_at) / 1000000 >= WD_SIGNAL_GRACE_MS) {
            shj_log(SHJ_LOG_ERROR,
                    "%s while a Lua handler has been running for %.1f s: making every accepted "
                    "record durable and exiting without waiting for it",
                    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a stop signal",
                    (double)stuck_ms / 1000.0);
            if (wd.fn) wd.fn(wd.ctx, now, 1);
            fflush(stdout);
            fflush(stderr);
            _exit(1); /* the loop thread is stuck: no orderly return exists */
        }
    }
    pthread_mutex_unlock(&wd.mu);
    return NULL;
}

int wd_start(int budget_ms, wd_parked_fn fn, void *ctx) {
    if (wd.running) return SHJ_OK;
    wd.budget_ms = budget_ms == 0 ? WD_DEFAULT_BUDGET_MS : budget_ms;
    wd.fn = fn;
    wd.ctx = ctx;
    wd.stop = 0;
    /* Signals stay with the loop thread (libev) and our chained handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&wd.thread, NULL, wd_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) return SHJ_ERR;
    wd.running = 1;
    return SHJ_OK;
}

void wd_stop(void) {
    if (!wd.running) return;
    pthread_mutex_lock(&wd.mu);
    wd.stop = 1;
    pthread_cond_signal(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
    pthread_join(wd.thread, NULL);
    wd.running = 0;
    wd.fn = NULL;
}
