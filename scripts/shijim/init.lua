-- shijim — the scripting API of the Shijim runtime.
--
--   local shijim = require "shijim"
--   local src = shijim.source.simulated{ seed = 42, rate = 50000 }
--   src:subscribe{ stocks = {"2330", "2317", "0050"}, futures = {"TXFR1"}, kinds = {"tick", "bidask"} }
--   shijim.route(src, require("sinks.raw"){ dir = "data/raw", fsync_ms = 100 })
--   shijim.on("tick", function(ev) if ev.volume >= 100 then shijim.log("block trade", ev) end end)
--   shijim.run()
--
-- Events reach handlers as FFI cdata (`const shj_event *`, fields as in
-- runtime/core/shj_event.h), never copied into tables. Prices are int64 fixed
-- point × shijim.PRICE_SCALE (10^6, owned by C): use ev:px("close") for a Lua
-- number (strategy maths) and ev:dec("close") for the exact decimal text.
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local C, core = sffi.C, sffi.core
local errbuf, ERRLEN, textbuf = sffi.errbuf, sffi.ERRLEN, sffi.textbuf
local ffi_string, ffi_cast, tonumber, type = ffi.string, ffi.cast, tonumber, type
local event_ptr_t = sffi.event_ptr_t
local PRICE_SCALE = sffi.PRICE_SCALE

local shijim = { version = ffi_string(C.shj_version()), C = C, ffi = sffi }

-- Enum values are C.SHJ_* and their names core/names.h's (C.nm_*): read, never retyped.
local KIND, KIND_NAME, STATUS_NAME = {}, {}, {}
for k = C.SHJ_KIND_TICK, C.SHJ_KIND_MAX - 1 do
  KIND_NAME[k] = ffi_string(C.nm_kind(k))
  KIND[KIND_NAME[k]] = k
end
for s = C.SHJ_STATUS_CONNECTED, C.SHJ_STATUS_BACKFILLED do STATUS_NAME[s] = ffi_string(C.nm_status(s)) end
shijim.KIND, shijim.KIND_NAME = KIND, KIND_NAME
shijim.FLAG = { simtrade = C.SHJ_FLAG_SIMTRADE, suspended = C.SHJ_FLAG_SUSPENDED, odd_lot = C.SHJ_FLAG_ODDLOT,
                backfill = C.SHJ_FLAG_BACKFILL, replay = C.SHJ_FLAG_REPLAY, simulated = C.SHJ_FLAG_SIMULATED }
shijim.STATUS = {}
for i, name in pairs(STATUS_NAME) do shijim.STATUS[name] = i end
shijim.PRICE_SCALE = sffi.PRICE_SCALE

C.shj_rt_init(0)

------------------------------------------------------------------------------
-- Events: methods on the FFI struct (fields stay plain struct fields).
------------------------------------------------------------------------------
local decbuf = ffi.new("char[32]")

local event_methods = {}

function event_methods.symbol(ev) return ffi_string(ev.code) end
function event_methods.kind_name(ev) return KIND_NAME[ev.kind] or "none" end
function event_methods.status_name(ev) return STATUS_NAME[ev.status] or "unknown" end
-- A price/amount field as a Lua number (for indicators; never for storage).
function event_methods.px(ev, field) return tonumber(ev[field or "close"]) / PRICE_SCALE end
-- A price/amount field as exact decimal text ("585.5").
function event_methods.dec(ev, field) return ffi_string(C.shj_decimal(ev[field or "close"], decbuf)) end
function event_methods.json(ev)
  local n = C.shj_event_json(ev, textbuf, sffi.TEXTLEN)
  return ffi_string(textbuf, n)
end
function event_methods.taipei_time(ev) return ffi_string(C.clk_taipei_text(ev.ts_exch_ns, decbuf)) end
function event_methods.is(ev, flag) return bit.band(ev.flags, shijim.FLAG[flag] or flag) ~= 0 end

ffi.metatype("shj_event", {
  __index = event_methods,
  __tostring = event_methods.json,
})

function shijim.decimal(scaled) return ffi_string(C.shj_decimal(scaled, decbuf)) end
function shijim.price(scaled) return tonumber(scaled) / PRICE_SCALE end
function shijim.now_ns() return C.clk_now_ns() end

------------------------------------------------------------------------------
-- Time: Asia/Taipei and the trading day. core/clock.h owns both (the offset
-- below is read from C, never typed here); times are UTC ns (int64 cdata or
-- a Lua number, e.g. ev.ts_exch_ns or self:now_ns()).
------------------------------------------------------------------------------
local time = {}
local NS_PER_S = 1000000000
local int64 = ffi.typeof("int64_t")
-- Taipei's offset east of UTC in seconds: 00:00 Taipei of day 0 is this much before 00:00 UTC.
time.TAIPEI_OFFSET_S = -tonumber(C.clk_taipei_day_start(0)) / NS_PER_S

-- Days since 1970-01-01 of a civil date (calendar arithmetic only, no time zone).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

-- Taipei local time of a UTC ns time as a table:
-- { year, month, day, hour, min, sec, usec, wday (1 = Sunday .. 7, as os.date),
--   date = "YYYY-MM-DD", text = "YYYY-MM-DD HH:MM:SS.ffffff", day_minute (minutes since
--   00:00 Taipei, e.g. 13:25 -> 805), trading_day = "YYYY-MM-DD" }.
function time.taipei(ns)
  local text = ffi_string(C.clk_taipei_text(ns, decbuf))
  local y, mo, d, h, mi, s, us = text:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)%.(%d+)$")
  local day = tonumber(C.clk_taipei_day(ns))
  h, mi = tonumber(h), tonumber(mi)
  return {
    year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = h, min = mi, sec = tonumber(s),
    usec = tonumber(us), wday = (day + 4) % 7 + 1, date = text:sub(1, 10), text = text,
    day_minute = h * 60 + mi, trading_day = time.trading_day(ns),
  }
end

-- "YYYY-MM-DD HH:MM:SS.ffffff" Taipei.
function time.text(ns) return ffi_string(C.clk_taipei_text(ns, decbuf)) end
-- Taipei calendar date "YYYY-MM-DD".
function time.date(ns) return ffi_string(C.clk_day_text(C.clk_taipei_day(ns), decbuf)) end
-- Trading day "YYYY-MM-DD" (core/clock.h's rule: the TAIFEX night session belongs to the next day).
function time.trading_day(ns) return ffi_string(C.clk_day_text(C.clk_trading_day(ns), decbuf)) end
-- UTC ns (int64) of a Taipei local time; sec may carry a fraction (microseconds kept).
function time.from_taipei(year, month, day, hour, min, sec)
  local s = sec or 0
  local whole = math.floor(s)
  local us = math.floor((s - whole) * 1e6 + 0.5)
  return C.clk_taipei_day_start(days_from_civil(year, month, day)) +
         int64((hour or 0) * 3600 + (min or 0) * 60 + whole) * NS_PER_S + int64(us) * 1000
end
-- Current UTC time, ns (int64).
function time.now() return C.clk_now_ns() end
shijim.time = time

------------------------------------------------------------------------------
-- Logging
------------------------------------------------------------------------------
local function render(v)
  if type(v) == "cdata" then
    local ok, text = pcall(event_methods.json, v)
    if ok then return text end
  end
  return tostring(v)
end

function shijim.log(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = render((select(i, ...))) end
  C.shj_log_text(1, "lua", table.concat(parts, " ")) -- same timestamp/level/format as C's lines
end

------------------------------------------------------------------------------
-- Sources
------------------------------------------------------------------------------
local Source = {}
Source.__index = Source

local function check(rc, what, level)
  if rc ~= 0 then error(what .. ": " .. sffi.errtext(), (level or 1) + 1) end
end

-- Wrap a src_source* from any constructor into a Lua source object and hand
-- it to the runtime. Used by the simulated, Shioaji and replay sources.
-- Sources live as long as their Lua object (ffi.gc frees them), and at least
-- until the run they take part in has finished (live_sources).
local live_sources = {}

function shijim.wrap_source(ptr, extra)
  if ptr == nil then error("source: " .. sffi.errtext(), 3) end
  ptr = ffi.gc(ptr, C.shj_src_free)
  check(C.shj_rt_add_source(ptr, errbuf, ERRLEN), "source", 3)
  local self = setmetatable(extra or {}, Source)
  live_sources[#live_sources + 1] = self
  self.ptr = ptr
  self.name = ffi_string(C.shj_src_name(ptr))
  self.type = ffi_string(C.shj_src_type(ptr))
  self.resolved = {}
  return self
end

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return { v }
end

local resolved_buf = ffi.new("char[16]")

-- Subscribe { stocks = {...}, futures = {...}, options = {...}, indexes = {...},
--             kinds = {"tick", "bidask"}, odd_lot = false, exchange = "OTC" }
-- A code may also be a table { code = "6488", exchange = "OTC" }.
-- Returns the list of codes actually subscribed (aliases resolved).
local function subscription_calls(self, spec, fn, level)
  if type(spec) ~= "table" then error("subscribe: expected a table like {stocks = {...}}", level) end
  local kinds = table.concat(as_list(spec.kinds or { "tick", "bidask" }), ",")
  local sec, taifex = C.nm_sec_type, ffi_string(C.nm_exchange(C.SHJ_EX_TAIFEX))
  local groups = {
    { spec.stocks, ffi_string(sec(C.SHJ_SEC_STK)), spec.exchange },
    { spec.futures, ffi_string(sec(C.SHJ_SEC_FUT)), taifex },
    { spec.options, ffi_string(sec(C.SHJ_SEC_OPT)), taifex },
    { spec.indexes, ffi_string(sec(C.SHJ_SEC_IND)), spec.exchange },
  }
  local done = {}
  for _, g in ipairs(groups) do
    for _, item in ipairs(as_list(g[1])) do
      local code, exchange = item, g[3]
      if type(item) == "table" then code, exchange = item.code, item.exchange or g[3] end
      if type(code) ~= "string" then error("subscribe: instrument codes must be strings", level) end
      local rc = fn(self.ptr, code, g[2], exchange or "", kinds, spec.odd_lot and 1 or 0)
      check(rc, "subscribe " .. code, level)
      done[#done + 1] = code
    end
  end
  return done
end

function Source:subscribe(spec)
  return subscription_calls(self, spec, function(ptr, code, sec, ex, kinds, odd)
    local rc = C.shj_src_subscribe(ptr, code, sec, ex, kinds, odd, resolved_buf, errbuf, ERRLEN)
    if rc == 0 then self.resolved[code] = ffi_string(resolved_buf) end
    return rc
  end, 3)
end

function Source:unsubscribe(spec)
  return subscription_calls(self, spec, function(ptr, code, sec, ex, kinds, odd)
    return C.shj_src_unsubscribe(ptr, code, sec, ex, kinds, odd, errbuf, ERRLEN)
  end, 3)
end

-- Counters: "events", "tick", "bidask", "status", "malformed", "unknown", "last_seq" ...
function Source:counter(name) return tonumber(C.shj_src_counter(self.ptr, name)) end

shijim.source = {}

-- The built-in simulated Taiwan market (deterministic for a seed).
-- opts: seed (42), rate (events/s; 0 = as fast as possible), date ("YYYY-MM-DD", default today), name
function shijim.source.simulated(opts)
  opts = opts or {}
  local rate = opts.rate or 20000
  local ptr = C.simsrc_new(opts.name or "sim", opts.seed or 42, opts.date, rate, errbuf, ERRLEN)
  -- days: finish after that many whole trading days (every archived day complete)
  if ptr ~= nil and opts.days then C.simsrc_set_days(ptr, opts.days) end
  -- allow_empty: may start with nothing subscribed (main.lua --schedule while closed)
  if ptr ~= nil and opts.allow_empty then C.simsrc_allow_empty(ptr) end
  return shijim.wrap_source(ptr)
end

function shijim.source.shioaji(opts) return require("shijim.source_shioaji")(opts or {}, shijim) end
function shijim.source.replay(opts) return require("shijim.source_replay")(opts or {}, shijim) end

------------------------------------------------------------------------------
-- Routing to sinks
------------------------------------------------------------------------------
function shijim.route(src, sink)
  if type(src) ~= "table" or src.ptr == nil then error("route: first argument must be a source", 2) end
  if type(sink) ~= "table" or type(sink.attach) ~= "function" then
    error("route: second argument must be a sink (e.g. require('sinks.raw'){dir = 'data/raw'})", 2)
  end
  sink:attach(src, shijim)
  return sink
end

------------------------------------------------------------------------------
-- Handlers
------------------------------------------------------------------------------
-- shijim.on("tick", fn)                      every tick
-- shijim.on({"tick", "bidask"}, fn)          several kinds
-- shijim.on{ kind = "tick", code = {"2330"}, where = function(ev) ... end, policy = "drop" }, fn
-- The C bus filters kind and code; `where` runs in Lua. fn(ev) gets the
-- event (valid only during the call: copy fields you keep).
local function kind_mask(kinds)
  local mask = 0
  for _, k in ipairs(as_list(kinds)) do
    local v = KIND[k]
    if not v then error("on: unknown event kind '" .. tostring(k) .. "' (tick, bidask, status, bar, quote)", 4) end
    mask = bit.bor(mask, bit.lshift(1, v))
  end
  return mask
end

function shijim.on(filter, fn)
  if type(fn) ~= "function" then error("on: handler must be a function", 2) end
  if type(filter) == "string" or (type(filter) == "table" and filter[1]) then filter = { kind = filter } end
  if type(filter) ~= "table" then error("on: expected a kind or a filter table", 2) end
  local mask = filter.kind and kind_mask(filter.kind) or C.SHJ_MASK_ALL
  local ids
  if filter.code then
    ids = {}
    for i, code in ipairs(as_list(filter.code)) do ids[i] = C.shj_inst_intern(code) end
  end
  local where = filter.where
  local batch
  if where then
    batch = function(p, n)
      local evs = ffi_cast(event_ptr_t, p)
      for i = 0, n - 1 do
        local ev = evs + i
        if where(ev) then fn(ev) end
      end
    end
  else
    batch = function(p, n)
      local evs = ffi_cast(event_ptr_t, p)
      for i = 0, n - 1 do fn(evs + i) end
    end
  end
  return core.subscribe(mask, ids, filter.policy or "block", batch, filter.name or "lua")
end

function shijim.off(id) return core.unsubscribe(id) end
function shijim.handler_stats(id) return core.sub_stats(id) end

------------------------------------------------------------------------------
-- Timers, run, stop
------------------------------------------------------------------------------
function shijim.every(ms, fn) return core.every(ms, fn) end
function shijim.after(ms, fn) return core.after(ms, fn) end
function shijim.cancel(id) return core.cancel(id) end

-- run{ duration_s = 10, events = 1e6, status_ms = 1000 }: returns when stopped
-- (signal, shijim.stop, limits, or every source finished).
function shijim.run(opts)
  opts = opts or {}
  if opts.status_ms then C.shj_rt_set_status_interval(opts.status_ms) end
  C.shj_rt_set_limits(opts.duration_s or 0, opts.events or 0)
  local ok, err = pcall(core.run)
  live_sources = {}
  if not ok then error(err, 0) end
  return true
end

-- Hot reload: fn runs on SIGHUP or shijim.reload(), from the loop between two
-- bus batches; an error in fn is logged (file:line) and the old handlers stay.
function shijim.on_reload(fn) return core.on_reload(fn) end
function shijim.reload() return core.reload() end
function shijim.stop(reason) core.stop(reason or "stopped by script") end

function shijim.events_published() return tonumber(C.shj_rt_events_published()) end

return shijim
