/* lua_bridge.h — the Lua C module "shijim.core": what must call back into Lua.
 *
 * Run, timers and event handlers re-enter the Lua state, which C reached
 * through the FFI must never do, so they are classic lua_CFunctions here.
 * Everything else Lua reaches through the FFI (shj_api.h).
 */
#ifndef SHJ_LUA_BRIDGE_H
#define SHJ_LUA_BRIDGE_H

#include <lua.h>

int luaopen_shijim_core(lua_State *L);

/* The message handler every protected call uses: "file:line: msg" plus a
 * traceback, without adding a second traceback to a message that has one. */
int lbr_traceback(lua_State *L);

#endif
