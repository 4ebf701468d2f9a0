/* watchdog.h — the recorder's promises while the loop thread is stuck in Lua.
 *
 * Owns: one thread that watches how long the loop thread has been inside a
 * Lua call (lua_bridge brackets every call with wd_enter/wd_leave). LuaJIT
 * cannot be interrupted inside compiled code (a `while true do end` handler
 * ignores debug hooks), so nothing can make such a handler return; what this
 * module guarantees instead:
 *  - records already accepted keep becoming durable on time: while the loop
 *    is parked in Lua, the watchdog runs the writers' `parked` hook (the raw
 *    archive seals its open block by age, as arc_poll would), so "fsynced
 *    within fsync_ms" holds even then;
 *  - a handler running longer than the budget is reported (once per call);
 *  - SIGINT/SIGTERM always stop the process: if the loop does not take the
 *    signal within WD_SIGNAL_GRACE_MS because it is stuck in Lua, the
 *    watchdog makes every accepted record durable (`parked` with final = 1)
 *    and exits with status 1, naming the stuck handler's duration.
 *
 * Protocol: the loop thread sets "inside Lua since T" (release) after its own
 * work and before calling Lua, so the watchdog (acquire) sees the writers in
 * the state the loop left them. wd_leave takes the watchdog's mutex, so the
 * loop cannot come back out of Lua while a `parked` hook runs: the hooks may
 * touch loop-owned writer state. The cost on the loop thread is one atomic
 * store in and one uncontended mutex out per Lua call (per batch of events).
 */
#ifndef SHJ_WATCHDOG_H
#define SHJ_WATCHDOG_H

#include <stdint.h>

#define WD_TICK_MS 10            /* how often the watchdog looks */
#define WD_PARKED_AFTER_MS 20    /* a Lua call this long counts as parked */
#define WD_SIGNAL_GRACE_MS 1000  /* the loop's chance to take a signal itself */
#define WD_DEFAULT_BUDGET_MS 5000

/* Called on the watchdog thread while the loop thread is parked in Lua:
 * final = 0 periodically (seal by age), 1 once before the process exits. */
typedef void (*wd_parked_fn)(void *ctx, int64_t now_mono_ns, int final);

/* Start the thread (idempotent). budget_ms: report a Lua call running longer
 * (0 = default, < 0 = never report). SHJ_OK or SHJ_ERR (no thread). */
int wd_start(int budget_ms, wd_parked_fn fn, void *ctx);
void wd_stop(void);

/* Loop thread, around every Lua call. Nesting is allowed (counted). */
void wd_enter(void);
void wd_leave(void);

/* Async-signal-safe: a stop signal arrived (chained before libev's handler). */
void wd_note_signal(int signum);
/* Chain wd_note_signal in front of the handler libev installed for signum. */
void wd_chain_signal(int signum);

/* Counters (tests, status): parked hook runs, and stuck calls reported. */
uint64_t wd_parked_runs(void);
uint64_t wd_stuck_reports(void);

#endif
