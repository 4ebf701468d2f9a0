/* shj_api.h — the flat C interface Lua reaches through the LuaJIT FFI.
 *
 * Owns the runtime's control surface for scripts: start/limits of rt, the
 * generic handle of any source (subscribe, counters, free), interning codes
 * for handler filters, and small generic helpers. Plain C types only (the
 * lua-resty-core pattern). Functions that must call back into Lua (run,
 * timers, handlers) are classic lua_CFunctions in lua_bridge.c instead,
 * because C reached through the FFI must not re-enter the Lua state.
 *
 * THE FFI SURFACE (one naming pattern): what Lua may call is exactly the
 * FFI-BEGIN/FFI-END blocks of the runtime headers (cmake/embed_ffi.cmake
 * collects them: shj_event.h first, this header second, then by file name),
 * and every function there carries the prefix of the module that owns it
 * and is declared in that module's own header:
 *   shj_    the lua/ facade (this header, raw_route.h)
 *   clk_ ctr_ nm_   core vocabulary: Taipei time, contract codes, names
 *   simsrc_ rpl_    a source's constructor lives with the source (sim_source.h,
 *                   replay.h); the Shioaji source likewise in its own header
 *   bars_ chw_ chr_ the bar builder, ClickHouse writer, ClickHouse restore
 * Enum values are read as C.SHJ_* (shj_event.h's block), never as numbers.
 */
#ifndef SHJ_API_H
#define SHJ_API_H

#include <stddef.h>
#include <stdint.h>

/* Every FFI block of the runtime headers as one string (generated at build time by
 * cmake/embed_ffi.cmake). Lua cdefs this first thing. */
const char *shj_ffi_cdef(void);

/* FFI-BEGIN */
typedef struct src_source src_source;

int shj_abi_version(void);
const char *shj_version(void);
/* Root of the installation (scripts/, runtime/): $SHIJIM_HOME or the build's default. */
const char *shj_home(void);

/* Runtime */
int shj_rt_init(size_t bus_capacity);
int shj_rt_add_source(src_source *s, char *err, size_t errlen);
void shj_rt_set_status_interval(int interval_ms);
void shj_rt_set_limits(double duration_s, uint64_t max_events);
uint64_t shj_rt_events_published(void);

/* Sources (common) */
const char *shj_src_name(const src_source *s);
const char *shj_src_type(const src_source *s);
/* kinds: "tick,bidask" (names: tick, bidask, quote). Resolved code (aliases
 * such as TXFR1) is written to resolved[16] when non-NULL. */
int shj_src_subscribe(src_source *s, const char *code, const char *security_type,
                      const char *exchange, const char *kinds, int odd_lot, char *resolved,
                      char *err, size_t errlen);
int shj_src_unsubscribe(src_source *s, const char *code, const char *security_type,
                        const char *exchange, const char *kinds, int odd_lot, char *err,
                        size_t errlen);
uint64_t shj_src_counter(const src_source *s, const char *name); /* "events", "tick", "malformed"... */
/* Stop and free a source that is not (or no longer) attached to a running runtime. */
void shj_src_free(src_source *s);

/* Instruments */
uint32_t shj_inst_intern(const char *code); /* id, created when new (handler filters) */

/* Exact decimal text of a fixed-point value; returns buf. buf holds >= 24 bytes. */
const char *shj_decimal(int64_t scaled, char *buf);
/* A normalized event as one JSON object (runtime/event_json.h); returns length. */
size_t shj_event_json(const void *ev, char *buf, size_t cap);
/* 1 when fd is a terminal (scripts decide on progress lines). */
int shj_isatty(int fd);
/* FFI-END */

#endif
