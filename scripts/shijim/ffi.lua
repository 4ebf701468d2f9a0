-- shijim.ffi — the one place Lua declares the C runtime to the LuaJIT FFI.
--
-- The declarations come from the binary itself (shj_ffi_cdef(): every
-- FFI-BEGIN/FFI-END block of runtime/*.h, embedded at build time), so Lua
-- can never disagree with the C it runs against. Inside the `shijim`
-- executable the symbols are global (ffi.C); under busted + plain luajit the
-- same library is loaded from $SHIJIM_LIB (or build/libshijim.so).
local ffi = require "ffi"

local M = { ABI = 2 } -- 2: prices x 10^6 (runtime/core/shj_event.h)

ffi.cdef [[
const char *shj_ffi_cdef(void);
]]

local function has_runtime(lib)
  return pcall(function() return lib.shj_ffi_cdef end)
end

local C, lib_path
if has_runtime(ffi.C) then
  C = ffi.C
else
  lib_path = os.getenv("SHIJIM_LIB")
  if not lib_path or lib_path == "" then lib_path = "build/libshijim.so" end
  local ok, lib = pcall(ffi.load, lib_path, true)
  if not ok then
    error("shijim.ffi: cannot load the Shijim runtime from " .. lib_path ..
          " (build it with cmake, or set SHIJIM_LIB): " .. tostring(lib), 2)
  end
  C = lib
end

ffi.cdef(ffi.string(C.shj_ffi_cdef()))

if C.shj_abi_version() ~= M.ABI then
  error(string.format("shijim.ffi: runtime ABI %d but these scripts expect %d: rebuild or update",
                      C.shj_abi_version(), M.ABI), 2)
end

-- The Lua C module half of the runtime (run, timers, handlers).
local core = package.loaded["shijim.core"]
if not core then
  if package.preload["shijim.core"] then
    core = require "shijim.core"
  else
    local open, why = package.loadlib(lib_path or "", "luaopen_shijim_core")
    if not open then error("shijim.ffi: cannot open shijim.core: " .. tostring(why), 2) end
    core = open()
    package.loaded["shijim.core"] = core
  end
end

M.C = C
M.core = core
M.lib_path = lib_path
M.event_ptr_t = ffi.typeof("const shj_event *")
-- The fixed-point scale of every price/amount field, owned by C
-- (SHJ_PRICE_SCALE_FFI in runtime/core/shj_event.h): never a Lua literal.
M.PRICE_SCALE = tonumber(C.SHJ_PRICE_SCALE_FFI)
M.PRICE_DECIMALS = tonumber(C.SHJ_PRICE_DECIMALS_FFI)

-- Reusable buffers: one error buffer and one text buffer for the whole module
-- (never allocated per call).
M.errbuf = ffi.new("char[?]", 1024)
M.ERRLEN = 1024
M.textbuf = ffi.new("char[?]", 4096)
M.TEXTLEN = 4096

function M.errtext()
  return ffi.string(M.errbuf)
end

-- A sink's counters summed over its routes, as Lua numbers: read(id, buf)
-- fills buf (0 = ok) for each route id; fields names the counters; states[i]
-- names route i's state from state_names (sinks.clickhouse, sinks.nats).
function M.sum_route_stats(routes, read, buf, fields, state_names)
  local out = { states = {} }
  for _, f in ipairs(fields) do out[f] = 0 end
  for i, id in ipairs(routes) do
    if read(id, buf) == 0 then
      for _, f in ipairs(fields) do out[f] = out[f] + tonumber(buf[f]) end
      out.states[i] = state_names[buf.state] or "?"
    end
  end
  return out
end

return M
