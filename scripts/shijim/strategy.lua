-- shijim.strategy — the CTA strategy template and the engine that runs it.
--
-- A strategy file returns a definition made with strategy.define{...} and
-- adds hook methods to it. The SAME file runs in backtest (replay of the raw
-- archive) and paper mode (live or simulated feed): the engine below is the
-- only thing that talks to it, and it is fed the same shj_event cdata in both
-- modes (scripts/backtest.lua wires the feed).
--
--   local strategy = require "shijim.strategy"
--   local S = strategy.define{ name = "x", codes = {"TXFR1"}, bars = "5m",
--                              params = { fast = 5, qty = 1 } }
--   function S:init() ... end          -- before any data; build indicators here
--   function S:start() ... end         -- right before the first event
--   function S:on_tick(ev) ... end     -- a trade (kind TICK or QUOTE) of one of `codes`;
--                                      -- trial-match (simtrade) ticks are not passed
--   function S:on_bidask(ev) ... end   -- a 5-level book snapshot
--   function S:on_bar(bar) ... end     -- a finished bar (kind BAR; bar.period_s says which)
--   function S:on_order(o) ... end     -- an order changed status (submitted/filled/cancelled/rejected)
--   function S:on_trade(f) ... end     -- a fill
--   function S:stop() ... end          -- after the last event (final bars delivered first)
--   return S
--
-- Inside hooks: self.params (defaults merged with overrides), self.code (the
-- first of codes), self:buy/sell/short/cover([code,] qty [, limit_price]) ->
-- order id (price nil = market; price in TWD as a Lua number), self:cancel(id),
-- self:cancel_all(), self:pos([code]), self:code_of(ev) (which of `codes` an
-- event or bar is for), self:equity(), self:cash() (TWD
-- numbers), self:log(...) (always shown: the engine's `say` callback, the
-- terminal in backtest.lua), self:now_ns() (exchange time of the current event,
-- UTC ns as a Lua number), self.period_s (the first bar period in seconds:
-- `bars`, or what --bars says). A `period_s` parameter that --param does not
-- set follows --bars too, so `--bars 1m` is all it takes to trade 1-minute bars.
--
-- The engine is loud about mistakes that would otherwise give an empty result:
-- a function on the definition that looks like a hook but is none (onBar,
-- on_bars: warned with the closest hook), a period_s parameter that is not one
-- of the bar periods, codes that received no event and a strategy with an
-- on_bar that never got a bar (warned at finish; result.no_events lists the
-- codes without events).
--
-- Events are cdata (shj_event*), valid only during the hook: copy what you
-- keep. Prices are int64 x SHJ_PRICE_SCALE (10^6): strategy.px(ev.close) gives a Lua number for
-- indicator math; strategy.code(ev) the code as a string. An alias such as
-- TXFR1 follows the real contract the feed delivers (ev.code is "TXFL6");
-- orders on the alias go to that real contract. When the alias moves on to
-- the next month (the first event of the new contract), a position held in
-- the old one is rolled before any hook sees the event: settled at the old
-- contract's last price and reopened by a market order on the new one,
-- filled on this event (orders and fills tagged "roll", seen by
-- on_order/on_trade; engine option roll = false keeps the position in the
-- old contract instead).
--
-- Fills never look ahead: bars are finished before the event that finished
-- them reaches the broker, and an order placed during event k fills on a
-- later event (see shijim.broker_sim).
local ffi = require "ffi"
local bit = require "bit"
local broker_sim = require "shijim.broker_sim"

local M = {}

local tonumber, type, error, setmetatable, select = tonumber, type, error, setmetatable, select
local ffi_string = ffi.string
local band = bit.band

local C = require("shijim.ffi").C
local KIND_TICK, KIND_BIDASK, KIND_STATUS, KIND_QUOTE =
  C.SHJ_KIND_TICK, C.SHJ_KIND_BIDASK, C.SHJ_KIND_STATUS, C.SHJ_KIND_QUOTE
local FLAG_SIMTRADE = C.SHJ_FLAG_SIMTRADE
local SCALE = broker_sim.SCALE -- SHJ_PRICE_SCALE, read from C by shijim.ffi

-- Helpers for strategies -------------------------------------------------------------

-- Fixed-point (int64 cdata or integer number, x SCALE) -> Lua number.
function M.px(v) return tonumber(v) / SCALE end
function M.code(ev) return ffi_string(ev.code) end

-- Taipei "YYYY-MM-DD HH:MM:SS.ffffff" of a UTC ns time (int64 cdata or number).
local taipei_buf = ffi.new("char[32]")
function M.taipei(ts) return ffi_string(C.clk_taipei_text(ts, taipei_buf)) end

-- Publish bars on the runtime bus as SHJ_KIND_BAR events (for sinks and
-- shijim.on("bar", ...) handlers; strategies get theirs from the engine).
-- periods: "1m,5m,D"; grace_ms: how long after a bar's end (exchange time)
-- it is finished (default 0). The runtime owns the bar builder afterwards.
function M.publish_bars(periods, grace_ms)
  local sffi = require "shijim.ffi"
  local C = sffi.C
  local b = C.bars_new(periods, grace_ms or 0, sffi.errbuf, sffi.ERRLEN)
  if b == nil then error(sffi.errtext(), 2) end
  if C.bars_attach_rt(b, sffi.errbuf, sffi.ERRLEN) ~= 0 then
    C.bars_free(b)
    error(sffi.errtext(), 2)
  end
end

-- Definitions ---------------------------------------------------------------------------

local Base = {}
Base.__index = Base

function M.define(def)
  if type(def) ~= "table" then error("strategy.define: want a table", 2) end
  if type(def.name) ~= "string" then error("strategy.define: name missing", 2) end
  def.params = def.params or {}
  def.codes = def.codes or {}
  def.bars = def.bars or "1m"
  def.__index = def
  return setmetatable(def, Base)
end

-- default hooks: do nothing
function Base:init() end
function Base:start() end
function Base:on_tick() end
function Base:on_bidask() end
function Base:on_bar() end
function Base:on_order() end
function Base:on_trade() end
function Base:stop() end

local function order(self, action, ...)
  local a1 = ...
  local code, qty, price
  if type(a1) == "string" then
    code, qty, price = ...
  else
    code, qty, price = self.code, ...
  end
  local eng = self._engine
  local real = eng:real_code(code)
  if not real then
    return nil, "no market data yet for " .. tostring(code)
  end
  return eng.broker:submit { code = real, action = action, qty = qty, price = price,
                             born = eng.n, ts = eng.now }
end

function Base:buy(...) return order(self, "buy", ...) end
function Base:sell(...) return order(self, "sell", ...) end
function Base:short(...) return order(self, "short", ...) end
function Base:cover(...) return order(self, "cover", ...) end
function Base:cancel(id) return self._engine.broker:cancel(id) end

function Base:cancel_all(code)
  local b = self._engine.broker
  local real = code and self._engine:real_code(code)
  for _, o in ipairs(b:open_orders(real)) do b:cancel(o.id) end
end

function Base:open_orders(code)
  return self._engine.broker:open_orders(code and self._engine:real_code(code))
end

function Base:pos(code)
  local real = self._engine:real_code(code or self.code)
  if not real then return 0 end
  return self._engine.broker:position(real)
end

-- The strategy code an event belongs to ("TXFR1" for a TXFL6 event when the
-- strategy asked for the alias), or nil when it is not one of ours.
function Base:code_of(ev)
  local eng = self._engine
  local real = eng.route[ev.inst_id]
  if real == nil then real = eng:resolve(ev) end
  if not real then return nil end
  return eng.alias_of[real] or real
end

function Base:equity() return self._engine.broker:equity() / SCALE end
function Base:cash() return self._engine.broker.cash / SCALE end
function Base:now_ns() return self._engine.now end

function Base:log(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  self._engine:log(self.name .. ": " .. table.concat(parts, " "), true)
end

-- Loading a strategy file ------------------------------------------------------------------

-- A relative path that is not found from the working directory is looked up
-- in the installation too, so `--strategy scripts/strategies/ma_cross.lua` and
-- `--strategy ma_cross.lua` work from anywhere.
local function find_strategy(path)
  local f = io.open(path, "r")
  if f then f:close() return path end
  if path:sub(1, 1) == "/" then return nil end
  local ffi = require "ffi"
  local home = ffi.string(require("shijim.ffi").C.shj_home())
  for _, candidate in ipairs({ home .. "/" .. path, home .. "/scripts/strategies/" .. path }) do
    f = io.open(candidate, "r")
    if f then f:close() return candidate end
  end
  return nil
end
-- The strategy file a --strategy argument names, or nil when there is none.
M.find = find_strategy

function M.load(path)
  path = find_strategy(path) or path
  local chunk, err = loadfile(path)
  if not chunk then error("strategy: cannot load " .. path .. ": " .. err, 2) end
  local def = chunk()
  if type(def) ~= "table" or getmetatable(def) ~= Base then
    error("strategy: " .. path .. " must return strategy.define{...}", 2)
  end
  return def
end

-- Parameter overrides from text ("fast=3") keep the default's type.
function M.coerce(def, key, text)
  local d = def.params[key]
  if d == nil then error("strategy " .. def.name .. ": unknown parameter " .. key, 2) end
  if type(d) == "number" then
    local v = tonumber(text)
    if not v then error("parameter " .. key .. ": expects a number (default " .. tostring(d) .. "), got '" .. text .. "'", 2) end
    return v
  elseif type(d) == "boolean" then
    if text == "true" or text == "1" then return true end
    if text == "false" or text == "0" then return false end
    error("parameter " .. key .. ": expects true/false/1/0, got '" .. text .. "'", 2)
  end
  return text
end

-- Bar periods in seconds of a period list ("15s,1m,D" -> {15, 60, 86400}), or
-- nil and the bar builder's own complaint (shijim.bars: the one parser).
function M.periods(spec)
  if type(spec) == "table" then spec = table.concat(spec, ",") end
  local err = ffi.new("char[256]")
  local b = C.bars_new(tostring(spec), 0, err, 256)
  if b == nil then return nil, ffi_string(err) end
  C.bars_free(b)
  local out = {}
  for item in tostring(spec):gmatch("[^,%s]+") do
    local n, unit = item:match("^(%d+)([smh]?)$")
    out[#out + 1] = n and tonumber(n) * ({ s = 1, m = 60, h = 3600 })[unit ~= "" and unit or "s"] or 86400
  end
  return out
end

-- Hooks, and the names a misspelt hook would have.
local HOOKS = { "init", "start", "on_tick", "on_bidask", "on_bar", "on_order", "on_trade", "stop" }
local IS_HOOK = {}
for _, h in ipairs(HOOKS) do IS_HOOK[h] = true end

local function distance(a, b) -- edits incl. swapped neighbours (OSA), for "did you mean"
  local prev2, prev = nil, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a:byte(i) == b:byte(j) and 0 or 1))
      if prev2 and i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d = math.min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[#b]
end

-- The closest hook to name when name looks like a hook but is none, else nil.
function M.misspelt_hook(name)
  if type(name) ~= "string" or IS_HOOK[name] then return nil end
  local low = name:lower():gsub("_", "")
  local best, bd = nil, math.huge
  for _, h in ipairs(HOOKS) do
    local d = distance(low, (h:gsub("_", "")))
    if d < bd then best, bd = h, d end
  end
  local limit = #best <= 5 and 1 or 2
  if bd <= limit or low:match("^on") then return best end
  return nil
end

-- The engine ----------------------------------------------------------------------------------

local Engine = {}
Engine.__index = Engine

local function is_alias(code) return C.ctr_is_alias(code) == 1 end -- core/contract.h

-- opts: strategy (definition or path), params (overrides), codes (override list),
-- bars (override period list), broker (broker_sim options), mode ("backtest"|"paper"),
-- log (function(line, loud) or nil: loud for the strategy's own self:log lines),
-- warn (function(message) for the warnings above; default: stderr), grace_ms
-- (bars), sample_s (equity curve spacing, 60), roll (default true: see "alias" above).
function M.engine(opts)
  local def = opts.strategy
  if type(def) == "string" then def = M.load(def) end
  if type(def) ~= "table" then error("strategy.engine: strategy missing", 2) end
  local sffi = require "shijim.ffi"
  local C = sffi.C
  local params = {}
  for k, v in pairs(def.params) do params[k] = v end
  for k, v in pairs(opts.params or {}) do
    if def.params[k] == nil then error("strategy " .. def.name .. ": unknown parameter " .. k, 2) end
    params[k] = v
  end
  local codes = opts.codes or def.codes
  if #codes == 0 then error("strategy " .. def.name .. ": no codes (define codes or pass --codes)", 2) end
  local bars_spec = opts.bars or def.bars
  if type(bars_spec) == "table" then bars_spec = table.concat(bars_spec, ",") end
  local periods, perr = M.periods(bars_spec)
  if not periods then error(perr, 2) end
  -- --bars sets the period the strategy trades on: a period_s parameter the
  -- caller did not set follows the first period given.
  if opts.bars and type(def.params.period_s) == "number" and (opts.params or {}).period_s == nil then
    params.period_s = periods[1]
  end
  local warn = opts.warn or function(msg) io.stderr:write("shijim: warning: ", msg, "\n") end
  for k, v in pairs(def) do
    local hook = type(v) == "function" and M.misspelt_hook(k)
    if hook then
      warn(string.format("strategy %s: %s is not a hook and is never called (did you mean %s?)", def.name, k, hook))
    end
  end
  if type(params.period_s) == "number" then
    local found = false
    for _, p in ipairs(periods) do if p == params.period_s then found = true end end
    if not found then
      warn(string.format("strategy %s: period_s=%s is not one of the bar periods (%s): its on_bar sees no bar of "
        .. "that period", def.name, tostring(params.period_s), bars_spec))
    end
  end
  local err = ffi.new("char[256]")
  local b = C.bars_new(bars_spec, opts.grace_ms or 0, err, 256)
  if b == nil then error(ffi_string(err), 2) end
  ffi.gc(b, C.bars_free)

  local self = setmetatable({
    C = C, def = def, mode = opts.mode or "backtest", bars = b,
    barbuf = ffi.new("shj_event[16]"), n = 0, now = 0,
    route = {}, alias_of = {}, current = {}, codes = codes, wanted = {}, aliases = {},
    broker = broker_sim.new(opts.broker), logf = opts.log,
    sample_ns = (opts.sample_s or 60) * 1e9, next_sample = -math.huge,
    curve = {}, started = false, finished = false, events = 0, first_ts = nil,
    roll = opts.roll ~= false, rolls = 0, warnf = warn, seen = {}, bars_delivered = 0, periods = periods, bars_spec = bars_spec,
  }, Engine)
  for _, c in ipairs(codes) do
    if is_alias(c) then self.aliases[broker_sim.product_of(c)] = c else self.wanted[c] = true end
  end
  local inst = setmetatable({ params = params, code = codes[1], codes = codes, name = def.name,
                              period_s = periods[1], _engine = self }, def)
  self.strategy = inst
  local br = self.broker
  br.on_order = function(o)
    self:log(string.format("order #%d %s %d %s %s%s %s%s", o.id, o.action, o.qty, o.code,
      o.type, o.price and (" @" .. o.price / SCALE) or "", o.status,
      o.reason and (" (" .. o.reason .. ")") or ""))
    inst:on_order(o)
  end
  br.on_trade = function(f)
    self:log(string.format("fill #%d order #%d %s %d %s @%s fees %s tax %s pos %d",
      f.id, f.order_id, f.action, f.qty, f.code, f.price / SCALE,
      (f.commission + f.fee) / SCALE, f.tax / SCALE, f.position))
    self:sample(true)
    inst:on_trade(f)
  end
  -- a strategy refusing its parameters in init: free the bar builder now, since
  -- the caller's os.exit would skip the ffi.gc finalizer (a leak under ASan)
  local ok, e = pcall(inst.init, inst)
  if not ok then
    C.bars_free(ffi.gc(b, nil))
    error(e, 0)
  end
  return self
end

function Engine:log(line, loud)
  if self.logf then
    local t = self.now ~= 0 and M.taipei(self.now) or "-"
    self.logf("[" .. self.mode .. " " .. t .. "] " .. line, loud)
  end
end

-- Which strategy code an event belongs to (cached per instrument id), or false.
function Engine:resolve(ev)
  local code = ffi_string(ev.code)
  local r = false
  local alias = self.aliases[broker_sim.product_of(code)]
  if self.wanted[code] then
    r = code
  elseif alias and code:match("^%u%u%u[A-L]%d$") then
    r = code
  end
  if r then
    self.alias_of[r] = (not self.wanted[r]) and alias or false
    self.seen[self.alias_of[r] or r] = true -- once per instrument: the hot path stays as it was
  end
  self.route[ev.inst_id] = r
  return r
end

-- Real contract for a strategy code (alias -> the last contract seen for it).
function Engine:real_code(code)
  if code == nil then return nil end
  if is_alias(code) then return self.current[code] end
  return code
end

function Engine:sample(force)
  local t = self.now
  if not force and t < self.next_sample then return end
  self.next_sample = t + self.sample_ns
  local c = self.curve
  c[#c + 1] = { t = self.now, e = self.broker:equity() }
end

local function drain_bars(self)
  local C, buf, inst = self.C, self.barbuf, self.strategy
  while true do
    local k = tonumber(C.bars_take(self.bars, buf, 16))
    if k == 0 then break end
    self.bars_delivered = self.bars_delivered + k
    for i = 0, k - 1 do inst:on_bar(buf[i]) end
  end
end

-- The hot path: one event of any kind and instrument.
function Engine:feed(ev)
  local kind = ev.kind
  if kind == KIND_STATUS then
    if self.C.bars_feed(self.bars, ev) > 0 then drain_bars(self) end
    return
  end
  if kind ~= KIND_TICK and kind ~= KIND_BIDASK and kind ~= KIND_QUOTE then return end
  local code = self.route[ev.inst_id]
  if code == nil then code = self:resolve(ev) end
  if not code then return end
  local now = tonumber(ev.ts_exch_ns) -- ns as a double: ~256 ns resolution, plenty for pacing
  self.now = now
  if not self.started then
    self.started = true
    self.first_ts = now
    self.strategy:start()
  end
  local alias = self.alias_of[code]
  if alias then
    local old = self.current[alias]
    self.current[alias] = code
    if old and old ~= code and self.roll then self:roll_position(alias, old, code, ev) end
  end
  -- Bars this event finishes hold only earlier trades: deliver them first, with
  -- the counter still at the previous event so that their orders may fill on
  -- this one (it is the first event after the bar).
  if self.C.bars_feed(self.bars, ev) > 0 then drain_bars(self) end
  local n = self.n + 1
  self.n = n
  self.broker:on_event(ev, code, n)
  if now >= self.next_sample then self:sample(false) end
  if kind == KIND_BIDASK then
    self.strategy:on_bidask(ev)
  elseif band(ev.flags, FLAG_SIMTRADE) == 0 then
    self.strategy:on_tick(ev)
  end
end

-- The alias moved from contract old to new (this event is new's): settle the
-- position in old at its last price and reopen it on new at this event, so
-- that no hook ever sees the alias flat in between.
function Engine:roll_position(alias, old, new, ev)
  local br = self.broker
  local pos = br:position(old)
  if pos == 0 then -- nothing to carry over; orders left on the old month cannot fill any more
    for _, o in ipairs(br:open_orders(old)) do br:cancel(o.id) end
    return
  end
  self:log(string.format("roll %s: %s -> %s, %d contract(s)", alias, old, new, pos))
  if not br:settle(old, ev.ts_exch_ns, "roll") then return end -- (settle cancels old's orders)
  self.rolls = self.rolls + 1
  br:execute({ code = new, action = pos > 0 and "buy" or "short", qty = pos > 0 and pos or -pos,
                born = self.n + 1, ts = ev.ts_exch_ns, tag = "roll" }, ev)
end

-- End of data: deliver the last bars, stop the strategy, take the final sample.
function Engine:finish()
  if self.finished then return self:result() end
  self.finished = true
  local whole_bars = self.bars_delivered -- bars finished by the data, before the flush of the last ones
  self.C.bars_flush(self.bars)
  drain_bars(self)
  self.strategy:stop()
  self:sample(true)
  local missing = {}
  for _, c in ipairs(self.codes) do if not self.seen[c] then missing[#missing + 1] = c end end
  self.no_events = missing
  if #missing > 0 and #missing < #self.codes then
    self.warnf(string.format("strategy %s: no events for %s (only for the other codes)", self.def.name,
                             table.concat(missing, ",")))
  end
  if self.n > 0 and whole_bars == 0 and self.def.on_bar ~= Base.on_bar then
    self.warnf(string.format("strategy %s: never got a bar: %d events from %s to %s (Taipei) hold no whole bar of "
      .. "%s (on_bar saw only the %d partial bar(s) cut off by the end of the data); try a shorter --bars or a "
      .. "longer range", self.def.name, self.n, M.taipei(self.first_ts):sub(1, 19), M.taipei(self.now):sub(1, 19),
      self.bars_spec, self.bars_delivered))
  end
  return self:result()
end

function Engine:result()
  local br = self.broker
  return {
    name = self.def.name, params = self.strategy.params, mode = self.mode, codes = self.codes,
    initial = br.initial, final = br:equity(), cash = br.cash, realised = br.realised,
    unrealised = br:total_unrealised(),
    commission = br.commission, tax = br.tax, fee = br.fee, costs = br:costs_total(),
    turnover = br.turnover, fills = br.fills, roundtrips = br.roundtrips, curve = self.curve,
    orders = br.next_id, open_orders = #br:open_orders(), events = self.n,
    first_ts = self.first_ts, last_ts = self.now, positions = br.pos, rolls = self.rolls,
    no_events = self.no_events, bars = self.bars_delivered,
  }
end

return M
