/* thread.h — how the runtime's helper threads ask the kernel to treat them.
 *
 * Owns: the scheduling class and name of every thread that is not the event
 * loop (the raw archive's writer, the ClickHouse fallback thread, the NATS
 * publisher and fetcher, replay's read-ahead workers, the loop watchdog).
 *
 * Why: on a small machine the loop shares its cores with these threads. A
 * helper woken by the loop (a sealed block to compress and write) is placed
 * on the loop's core and, as a freshly woken SCHED_OTHER thread, preempts it
 * for the whole LZ4 pass (~0.5 ms): every event in flight waits
 * (bench/bench_latency's "runnable but waiting for a core"). SCHED_BATCH
 * keeps the helper's fair share of CPU but gives up wakeup preemption, so it
 * runs when a core is free or the loop's slice ends instead of cutting in.
 * Unprivileged and harmless where refused (seccomp): the call is advisory.
 */
#ifndef SHJ_THREAD_H
#define SHJ_THREAD_H

/* Call first thing in a helper thread: SCHED_BATCH, and `name` (at most 15
 * characters, shown by top -H and /proc) for operators. */
void shj_thread_background(const char *name);

#endif
