/* rt.h — the process runtime: one libev loop, one bus, sources and writers.
 *
 * Owns: the default ev_loop, the bus, the list of sources and writers, the
 * status line (every second unless set otherwise; through shj_log, so it
 * carries the log's timestamp and level), the exact totals logged at stop,
 * SIGINT/SIGTERM handling, SIGHUP -> the reload hook (never a stop), and the
 * orderly shutdown:
 *   stop sources -> drain the bus -> drained hooks -> flush + fsync writers -> return.
 * Threading: everything here runs on the loop thread. Writers may own
 * threads of their own (the raw archive does) but are driven from here.
 *
 * Writers (raw archive, ClickHouse, JSONL ...) register a small ops table so
 * that rt can poll them (timers), print their part of the status line and
 * flush them on shutdown, without knowing what they are.
 */
#ifndef SHJ_RT_H
#define SHJ_RT_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
typedef struct bus bus;
typedef struct src_source src_source;

typedef struct rt_writer_ops {
    const char *type;                                         /* "raw", "clickhouse", ... */
    void (*poll)(void *w, int64_t now_mono_ns);               /* every ~5 ms: time-based batching */
    size_t (*status)(void *w, char *buf, size_t cap);         /* short text for the status line */
    int (*close)(void *w, char *err, size_t errlen);          /* flush, fsync, free: on shutdown */
} rt_writer_ops;

/* Create the runtime (idempotent). bus_capacity 0 = default. */
int rt_init(size_t bus_capacity);
struct ev_loop *rt_loop(void);
bus *rt_bus(void);

/* Sources: rt assigns source_id, loop and bus; starts them in rt_run. */
int rt_add_source(src_source *s, char *err, size_t errlen);
/* The sources in order of source_id - 1 (metrics read their counters). */
size_t rt_source_count(void);
src_source *rt_source_at(size_t i);

/* Writers: polled, shown in the status line, closed in reverse order on stop. */
int rt_add_writer(const char *name, const rt_writer_ops *ops, void *w);
/* Optional, for a writer added above: fn runs on the watchdog thread while
 * the loop thread is stuck in a Lua call (loop/watchdog.h): final = 0 every
 * few ms (keep the durability promise, e.g. seal by age), 1 once before the
 * process exits (make everything accepted durable). fn must not touch the
 * event loop. SHJ_ERR if w is not a writer. */
int rt_set_writer_parked(void *w, void (*fn)(void *w, int64_t now_mono_ns, int final));

/* Report a Lua call running longer than this (0 = default 5000, < 0 = never);
 * the environment's SHIJIM_LUA_BUDGET_MS overrides. See loop/watchdog.h. */
void rt_set_lua_budget_ms(int ms);

/* Called once at stop when the bus has drained, before any writer closes
 * (metrics read the other writers' final counts here). At most 4 hooks. */
int rt_on_drained(void (*fn)(void *ctx), void *ctx);

/* Status line every interval_ms to stderr (0 disables). Default 1000. */
void rt_set_status_interval(int interval_ms);
/* Stop automatically after this many seconds / events (0 = never). */
void rt_set_limits(double duration_s, uint64_t max_events);

/* Run the loop until stop (signal, rt_stop, limits, or every source done),
 * then shut down in order. SHJ_OK on a clean stop, SHJ_ERR with err. */
int rt_run(char *err, size_t errlen);
/* Request an orderly stop (safe from any callback on the loop thread). */
void rt_stop(const char *reason);
/* The same, for a failure: rt_run then returns SHJ_ERR with reason (a source
 * that cannot go on, e.g. refused credentials), so the program exits non-zero. */
void rt_fail(const char *reason);
int rt_stopping(void);
/* Called by a source whose data ended (replay at EOF). When all are done, rt stops. */
void rt_source_done(src_source *s);
/* Ask rt to retry paused sources soon (a writer freed room). */
void rt_kick(void);

/* Events a source may still publish before max_events (UINT64_MAX = no limit). */
uint64_t rt_event_budget(void);

/* Total events published on the bus since rt_init. */
uint64_t rt_events_published(void);

/* Free everything, sources included (C tests; the CLI just exits). */
void rt_shutdown(void);
/* Free the runtime but leave sources allocated and detached (stopped, no bus,
 * no loop), for their owner to read counters and free later (Lua's ffi.gc). */
void rt_detach_all(void);

/* SIGHUP (or rt_request_reload) calls fn(ctx) from the loop, between two bus
 * batches. One hook; NULL removes it. Without a hook SIGHUP is logged and ignored. */
void rt_on_hup(void (*fn)(void *ctx), void *ctx);
void rt_request_reload(void);

#endif
