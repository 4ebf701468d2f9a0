/* lua_bridge.c — the Lua C module "shijim.core" (see lua_bridge.h).
 *
 * Handlers get batches, not single events: a bus subscriber owned here calls
 * one Lua function per contiguous run of events with (pointer, count); the
 * Lua side (scripts/shijim/init.lua) casts the pointer to `const shj_event *`
 * once and loops in a JIT-compiled trace, so an event crosses into Lua with
 * no table, no string and no copy.
 *
 * A Lua error inside a handler or timer stops the runtime in order (sources
 * stop, the bus drains, writers flush) and is raised again from run(), so the
 * script dies with file:line and a traceback and nothing accepted is lost.
 *
 * Hot reload (SIGHUP or core.reload()): the Lua function given to
 * core.on_reload(fn) is called from the loop between two bus batches (rt's
 * SIGHUP watcher); sources, bus and writers stay open. An error raised by
 * that function is logged with file:line and does NOT stop the runtime: the
 * old handlers keep running.
 */
#include "lua/lua_bridge.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "loop/bus.h"
#include "loop/rt.h"
#include "loop/watchdog.h"
#include "core/shj_common.h"
#include "ops/ops_metrics.h"

typedef struct lbr_timer {
    ev_timer w;             /* first: the watcher lives inside its owner */
    int fn_ref;
    int id;
    int repeat;
    struct lbr_timer *next;
} lbr_timer;

typedef struct lbr_sub {
    bus_sub *sub;
    int fn_ref;
    int id;
    struct lbr_sub *next;
} lbr_sub;

static struct {
    lua_State *L;           /* the state run() was called from */
    int err_ref;            /* LUA_NOREF or the first error raised by a callback */
    int next_id;
    lbr_timer *timers;
    lbr_sub *subs;
    int reload_ref;         /* LUA_NOREF or the core.on_reload function */
} lbr = {NULL, LUA_NOREF, 1, NULL, NULL, LUA_NOREF};

int lbr_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (strstr(msg, "stack traceback:")) {
        lua_pushstring(L, msg);
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function at the top of the stack with nargs arguments below it.
 * On error keep the first error and ask rt to stop. Returns 0 on success. */
static int lbr_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, lbr_traceback);
    lua_insert(L, base);
    wd_enter(); /* a call that never returns must not cost records or signals */
    int rc = lua_pcall(L, nargs, nresults, base);
    wd_leave();
    lua_remove(L, base);
    if (rc != 0) {
        if (lbr.err_ref == LUA_NOREF)
            lbr.err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        else
            lua_pop(L, 1);
        rt_stop("Lua error");
        return -1;
    }
    return 0;
}

/* Timers ------------------------------------------------------------------ */

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(revents);
    lbr_timer *t = (lbr_timer *)w;
    lua_State *L = lbr.L;
    if (!L || rt_stopping()) {
        ev_timer_stop(loop, w);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref);
    lbr_pcall(L, 0, 0);
}

static int add_timer(lua_State *L, int repeat) {
    lua_Number ms = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (ms < 0) return luaL_argerror(L, 1, "milliseconds must be >= 0");
    if (rt_init(0) != SHJ_OK) return luaL_error(L, "runtime init failed");
    lbr_timer *t = calloc(1, sizeof *t);
    if (!t) return luaL_error(L, "out of memory");
    lua_pushvalue(L, 2);
    t->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->id = lbr.next_id++;
    t->repeat = repeat;
    double s = ms / 1000.0;
    ev_timer_init(&t->w, timer_cb, s, repeat ? s : 0.0);
    ev_timer_start(rt_loop(), &t->w);
    t->next = lbr.timers;
    lbr.timers = t;
    lua_pushinteger(L, t->id);
    return 1;
}

static int l_every(lua_State *L) { return add_timer(L, 1); }
static int l_after(lua_State *L) { return add_timer(L, 0); }

static int l_cancel(lua_State *L) {
    int id = (int)luaL_checkinteger(L, 1);
    for (lbr_timer **pp = &lbr.timers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            lbr_timer *t = *pp;
            *pp = t->next;
            ev_timer_stop(rt_loop(), &t->w);
            luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
            free(t);
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    lua_pushboolean(L, 0);
    return 1;
}

/* Hot reload -------------------------------------------------------------- */

static void reload_hook(void *ctx) {
    SHJ_UNUSED(ctx);
    lua_State *L = lbr.L;
    if (!L || lbr.reload_ref == LUA_NOREF || lbr.err_ref != LUA_NOREF) return;
    int base = lua_gettop(L);
    lua_pushcfunction(L, lbr_traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lbr.reload_ref);
    wd_enter();
    int rc = lua_pcall(L, 0, 0, base + 1);
    wd_leave();
    if (rc != 0) /* keep running the old handlers; say why */
        shj_log(SHJ_LOG_ERROR, "reload failed, old script kept: %s", lua_tostring(L, -1));
    lua_settop(L, base);
}

/* on_reload(fn|nil): fn runs on SIGHUP or reload(), between two bus batches. */
static int l_on_reload(lua_State *L) {
    if (lbr.reload_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, lbr.reload_ref);
    lbr.reload_ref = LUA_NOREF;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TFUNCTION);
        lua_pushvalue(L, 1);
        lbr.reload_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (rt_init(0) != SHJ_OK) return luaL_error(L, "runtime init failed");
    rt_on_hup(lbr.reload_ref == LUA_NOREF ? NULL : reload_hook, NULL);
    return 0;
}

/* reload(): deferred to the loop (never inside the handler that asks). */
static int l_reload(lua_State *L) {
    SHJ_UNUSED(L);
    rt_request_reload();
    return 0;
}

/* Event handlers ----------------------------------------------------------- */

static size_t deliver_to_lua(void *ctx, const shj_event *evs, size_t n) {
    lbr_sub *s = ctx;
    lua_State *L = lbr.L;
    if (!L || lbr.err_ref != LUA_NOREF) return n; /* stopping after an error: let the bus drain */
    ops_observe_batch(OPS_STAGE_HANDLER, evs, n); /* receive -> handler latency (no-op without metrics) */
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fn_ref);
    lua_pushlightuserdata(L, (void *)evs);
    lua_pushinteger(L, (lua_Integer)n);
    if (lbr_pcall(L, 2, 1) != 0) return n;
    size_t taken = n;
    if (lua_isnumber(L, -1)) {
        lua_Integer k = lua_tointeger(L, -1);
        taken = k < 0 ? 0 : ((size_t)k > n ? n : (size_t)k);
    }
    lua_pop(L, 1);
    return taken;
}

/* subscribe(kind_mask, inst_ids_or_nil, policy "block"|"drop", fn, name) -> id */
static int l_subscribe(lua_State *L) {
    uint32_t mask = (uint32_t)luaL_checkinteger(L, 1);
    const char *policy = luaL_optstring(L, 3, "block");
    luaL_checktype(L, 4, LUA_TFUNCTION);
    const char *name = luaL_optstring(L, 5, "lua");
    bus_policy pol;
    if (strcmp(policy, "block") == 0)
        pol = BUS_BLOCK;
    else if (strcmp(policy, "drop") == 0)
        pol = BUS_DROP;
    else
        return luaL_argerror(L, 3, "policy must be \"block\" or \"drop\"");
    uint32_t ids[256];
    size_t n_ids = 0;
    if (lua_istable(L, 2)) {
        size_t len = lua_objlen(L, 2);
        if (len > 256) return luaL_argerror(L, 2, "at most 256 instruments per handler");
        for (size_t i = 1; i <= len; i++) {
            lua_rawgeti(L, 2, (int)i);
            ids[n_ids++] = (uint32_t)luaL_checkinteger(L, -1);
            lua_pop(L, 1);
        }
    }
    if (rt_init(0) != SHJ_OK) return luaL_error(L, "runtime init failed");
    lbr_sub *s = calloc(1, sizeof *s);
    if (!s) return luaL_error(L, "out of memory");
    lua_pushvalue(L, 4);
    s->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->id = lbr.next_id++;
    s->sub = bus_subscribe(rt_bus(), name, mask, n_ids ? ids : NULL, n_ids, pol, deliver_to_lua, s);
    if (!s->sub) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->fn_ref);
        free(s);
        return luaL_error(L, "bus subscribe failed");
    }
    s->next = lbr.subs;
    lbr.subs = s;
    lua_pushinteger(L, s->id);
    return 1;
}

static int l_unsubscribe(lua_State *L) {
    int id = (int)luaL_checkinteger(L, 1);
    for (lbr_sub **pp = &lbr.subs; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            lbr_sub *s = *pp;
            *pp = s->next;
            bus_unsubscribe(rt_bus(), s->sub);
            luaL_unref(L, LUA_REGISTRYINDEX, s->fn_ref);
            free(s);
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    lua_pushboolean(L, 0);
    return 1;
}

/* Stats of handler subscriptions: delivered, dropped, lag. */
static int l_sub_stats(lua_State *L) {
    int id = (int)luaL_checkinteger(L, 1);
    for (lbr_sub *s = lbr.subs; s; s = s->next) {
        if (s->id != id) continue;
        bus_sub_stats st;
        bus_sub_get_stats(s->sub, &st);
        lua_createtable(L, 0, 3);
        lua_pushnumber(L, (lua_Number)st.delivered);
        lua_setfield(L, -2, "delivered");
        lua_pushnumber(L, (lua_Number)st.dropped);
        lua_setfield(L, -2, "dropped");
        lua_pushnumber(L, (lua_Number)st.lag);
        lua_setfield(L, -2, "lag");
        return 1;
    }
    return 0;
}

/* Run --------------------------------------------------------------------- */

static void release_all(lua_State *L) {
    while (lbr.timers) {
        lbr_timer *t = lbr.timers;
        lbr.timers = t->next;
        ev_timer_stop(rt_loop(), &t->w);
        luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
        free(t);
    }
    while (lbr.subs) {
        lbr_sub *s = lbr.subs;
        lbr.subs = s->next;
        luaL_unref(L, LUA_REGISTRYINDEX, s->fn_ref);
        free(s);
    }
}

static int l_run(lua_State *L) {
    if (rt_init(0) != SHJ_OK) return luaL_error(L, "runtime init failed");
    lua_State *prev = lbr.L;
    lbr.L = L;
    char err[1024] = "";
    int rc = rt_run(err, sizeof err);
    lbr.L = prev;
    release_all(L);
    rt_detach_all(); /* sources belong to their Lua objects (ffi.gc) */
    if (lbr.err_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lbr.err_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, lbr.err_ref);
        lbr.err_ref = LUA_NOREF;
        return lua_error(L);
    }
    if (rc != SHJ_OK) return luaL_error(L, "%s", err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_stop(lua_State *L) {
    rt_stop(luaL_optstring(L, 1, "stopped by script"));
    return 0;
}

static const luaL_Reg core_fns[] = {
    {"run", l_run},
    {"stop", l_stop},
    {"every", l_every},
    {"after", l_after},
    {"cancel", l_cancel},
    {"subscribe", l_subscribe},
    {"unsubscribe", l_unsubscribe},
    {"sub_stats", l_sub_stats},
    {"on_reload", l_on_reload},
    {"reload", l_reload},
    {NULL, NULL},
};

int luaopen_shijim_core(lua_State *L) {
    lua_newtable(L);
    luaL_register(L, NULL, core_fns);
    lua_pushstring(L, SHJ_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
