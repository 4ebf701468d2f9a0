-- shijim.broker_sim — the simulated broker behind backtest and paper mode.
--
-- Owns: orders, fills, positions (FIFO lots), cash, realised/unrealised PnL
-- and Taiwan trading costs. It sees the same events the strategy sees and
-- fills against them; it never looks ahead: an order placed while event k is
-- being handled can only fill on a later event of its instrument.
--
-- MONEY. Every amount is an exact integer in the events' fixed-point scale,
-- 1 unit = 1 / SCALE TWD (SCALE = SHJ_PRICE_SCALE, 10^6, read from C), held
-- in a Lua number. Prices are int64 x SCALE in events, so price x quantity x
-- multiplier is an exact integer product: no rounding ever happens on
-- positions, cash or PnL. Doubles hold integers exactly below 2^53, i.e.
-- |amount| < 2^53 / SCALE (~9.0 billion TWD): cash, values and PnL beyond
-- that raise an error naming the amount rather than go inexact (M.MAX_TWD).
-- Fees and taxes are computed in int64 without overflow (cost_twd) and
-- rounded to whole TWD by the Taiwan rules below. shijim.report formats
-- these as decimal TWD.
--
-- FILLS (all-or-nothing by default; with partial = true, volume-limited:
-- see PARTIAL below; queue position is never modelled):
--   market: next event of the instrument: a bid/ask snapshot -> the opposite
--           best level (buy at ask[0], sell at bid[0]); a trade -> its price.
--           Slippage (price units, per product/code or a default) is added
--           for buys and subtracted for sells.
--   limit:  on the first event after submission a marketable limit fills at
--           the better price (buy: ask[0] or trade price <= limit, filled at
--           that price). Afterwards it rests and fills at the limit price when
--           the market crosses it: a trade strictly through the limit, or the
--           opposite best level at or through it. A trade exactly at the limit
--           does not fill a resting order (queue position unknown).
--   Trial-match (simtrade) ticks never fill.
-- PARTIAL (opts.partial = true): an order takes only the volume the event
--   shows, shared by the orders it fills in submission order: a trade fills
--   at most its volume; a book snapshot is walked level by level (each at its
--   own price, limits stopping at the limit) up to each level's volume. The
--   rest of the order stays open (status "partial") for later events; every
--   piece is a fill of its own with its own costs (a stock commission
--   minimum applies per fill).
-- BUYING POWER: a fill that opens or adds to a stock or option long must be
--   paid from cash (value + costs), or it is rejected ("insufficient cash";
--   check_cash = false allows a negative cash balance). Futures and short
--   options need initial margin only when margin = { TXF = 322000, ... }
--   (TWD per contract per product) is given: an opening fill is rejected
--   when equity minus the margin of the open positions cannot cover it.
--   Maintenance margin and margin calls are not modelled.
-- POSITIONS: net per instrument. buy opens/adds long, sell reduces long,
--   short opens/adds short, cover reduces short; an order that would flip or
--   over-close the position when it fills is rejected (reason given).
-- COSTS (defaults, all configurable):
--   stocks   commission = floor(value x 0.1425% x discount) TWD, at least 20 TWD,
--            both sides; sell tax = floor(value x 0.3%) TWD (ETFs, codes "00...",
--            0.1%; day_trade = true: 0.15%).
--   futures  fee per contract per side (TXF 50, MXF 25, default 50 TWD);
--            futures transaction tax = value x 0.002% rounded half up to TWD,
--            both sides.
--   options  fee per contract per side (TXO 25, default 25 TWD); options
--            transaction tax = premium value x 0.1% rounded half up to TWD,
--            both sides. The premium is paid (bought) or received (sold
--            short) in cash, like a stock; margin is not modelled.
--   Multipliers: TXF 200, MXF 50, TMF 10, TXO 50 TWD per index point; a stock
--   lot is 1000 shares (orders and positions are in lots/contracts).
-- What an instrument is comes from its events' sec_type, or before the first
-- event from its code: "TXFL6"/"TXFR1" futures, "TXO23000L6" options (strike,
-- month letter A-L calls / M-X puts, year digit), anything else a stock.
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local M = {}

local SCALE = sffi.PRICE_SCALE
local EXACT = 2 ^ 53 -- doubles hold every integer below this
local floor = math.floor
local I64 = ffi.typeof("int64_t")
local tonumber, type, error, pairs, ipairs = tonumber, type, error, pairs, ipairs

M.SCALE = SCALE
M.MAX_TWD = floor(EXACT / SCALE) -- largest |amount| kept exact, whole TWD

-- An amount (units) that must stay exact: error beyond 2^53.
local function exact(x, what)
  if x >= EXACT or x <= -EXACT then
    error(string.format("broker_sim: %s of %.0f TWD is beyond the exact range (|amount| < %d TWD)",
                        what, x / SCALE, M.MAX_TWD), 3)
  end
  return x
end

local C = require("shijim.ffi").C
local band = require("bit").band
local KIND_TICK, KIND_BIDASK, KIND_QUOTE = C.SHJ_KIND_TICK, C.SHJ_KIND_BIDASK, C.SHJ_KIND_QUOTE
local FLAG_SIMTRADE = C.SHJ_FLAG_SIMTRADE
local SEC_FUT, SEC_OPT = C.SHJ_SEC_FUT, C.SHJ_SEC_OPT

M.DEFAULTS = {
  cash = 1000000,                 -- TWD
  commission_rate = 0.001425,
  commission_discount = 1,
  commission_min = 20,            -- TWD per stock fill
  sell_tax_rate = 0.003,
  etf_sell_tax_rate = 0.001,
  day_trade_tax_rate = 0.0015,
  day_trade = false,
  futures_tax_rate = 0.00002,
  futures_fee = { TXF = 50, MXF = 25, default = 50 },  -- TWD per contract per side
  options_tax_rate = 0.001,
  options_fee = { TXO = 25, default = 25 },            -- TWD per contract per side
  multipliers = { TXF = 200, MXF = 50, TMF = 10, TXO = 50 }, -- TWD per point per contract
  lot_shares = 1000,
  slippage = { default = 0 },                         -- price units (TWD), per product or code
  partial = false,                                    -- volume-limited partial fills
  check_cash = true,                                  -- stock/option buys need the cash
  margin = {},                                        -- initial margin, TWD per contract, by product
}

-- Rates as exact integers per 10^8 (0.001425 -> 142500): fees stay integer math.
local function rate_e8(r, name)
  if type(r) ~= "number" or r < 0 then error("broker_sim: bad " .. name .. ": " .. tostring(r), 3) end
  return floor(r * 1e8 + 0.5)
end

-- TWD (a Lua number) -> money units, exact (errors beyond the exact range).
local function to_units(x, name)
  if type(x) ~= "number" then error("broker_sim: " .. name .. " must be a number", 3) end
  local u = floor(x * SCALE + 0.5)
  if u >= EXACT or u <= -EXACT then
    error(string.format("broker_sim: %s %.0f TWD is beyond the exact range (|amount| < %d TWD)",
                        name, x, M.MAX_TWD), 3)
  end
  return u
end
M.to_units = function(x) return floor(x * SCALE + 0.5) end
M.to_e4 = M.to_units -- the old name (units were 10^-4 TWD before ABI 2)

-- A cost in whole TWD: floor(value x rate_e8 / 10^8 / SCALE) (half_up: rounded
-- half up), value in units (non-negative integer), rate_e8 <= 10^8. Exact and
-- without overflow for any value below 2^53: value = hi x SCALE + lo, and
-- hi x rate_e8 is held in an int64 (hi < 2^53 / SCALE, so < 9.1e17).
local E8 = 100000000
local function cost_twd(value, rate_e8, half_up)
  local hi = floor(value / SCALE)
  local lo = value - hi * SCALE
  local x = I64(hi) * rate_e8                  -- TWD x 10^8
  local whole = tonumber(x / E8)               -- int64 division truncates (x >= 0)
  local rest = tonumber(x - I64(whole) * E8)   -- < 10^8
  -- the remainder in units x 10^8: rest x SCALE + lo x rate_e8 < 2 x 10^14
  local num = rest * SCALE + lo * rate_e8
  if half_up then num = num + E8 / 2 * SCALE end
  return whole + floor(num / (E8 * SCALE))
end
M.cost_twd = cost_twd

-- "TXFL6" -> "TXF"; "TXFR1" -> "TXF"; "TXO23000L6" -> "TXO"; stocks are
-- their own product. The rules are core/contract.h's (C.ctr_*); products are
-- remembered per code, so the C call happens once per instrument.
local product_buf, products = ffi.new("char[16]"), {}
local function product_of(code)
  local p = products[code]
  if p == nil then
    p = ffi.string(C.ctr_product(code, product_buf))
    products[code] = p
  end
  return p
end
M.product_of = product_of

local function is_future_code(code) return C.ctr_is_future(code) == 1 end
local function is_option_code(code) return C.ctr_is_option(code) == 1 end
M.is_future_code, M.is_option_code = is_future_code, is_option_code

local Broker = {}
Broker.__index = Broker

function M.new(opts)
  opts = opts or {}
  local d = M.DEFAULTS
  local function opt(k) if opts[k] == nil then return d[k] end return opts[k] end
  local self = setmetatable({}, Broker)
  self.initial = to_units(opt("cash"), "cash")
  self.cash = self.initial
  self.comm_e8 = rate_e8(opt("commission_rate") * opt("commission_discount"), "commission_rate")
  self.comm_min = to_units(opt("commission_min"), "commission_min")
  self.sell_tax_e8 = rate_e8(opt("sell_tax_rate"), "sell_tax_rate")
  self.etf_tax_e8 = rate_e8(opt("etf_sell_tax_rate"), "etf_sell_tax_rate")
  self.dt_tax_e8 = rate_e8(opt("day_trade_tax_rate"), "day_trade_tax_rate")
  self.day_trade = opt("day_trade") and true or false
  self.fut_tax_e8 = rate_e8(opt("futures_tax_rate"), "futures_tax_rate")
  self.fut_fee = {}
  for k, v in pairs(d.futures_fee) do self.fut_fee[k] = v end
  for k, v in pairs(opts.futures_fee or {}) do self.fut_fee[k] = v end
  self.opt_tax_e8 = rate_e8(opt("options_tax_rate"), "options_tax_rate")
  self.opt_fee = {}
  for k, v in pairs(d.options_fee) do self.opt_fee[k] = v end
  for k, v in pairs(opts.options_fee or {}) do self.opt_fee[k] = v end
  self.mults = {}
  for k, v in pairs(d.multipliers) do self.mults[k] = v end
  for k, v in pairs(opts.multipliers or {}) do self.mults[k] = v end
  self.lot = opt("lot_shares")
  self.partial = opt("partial") and true or false
  -- scratch reused by on_event / fill_partial (no table allocated per event)
  self.snapshot, self.used_bid, self.used_ask = {}, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 }
  self.check_cash = opt("check_cash") and true or false
  self.margin = {}
  for k, v in pairs(opts.margin or d.margin) do
    if type(v) ~= "number" or v < 0 then error("broker_sim: bad margin for " .. tostring(k), 2) end
    self.margin[k] = v
  end
  local slip = opts.slippage
  if type(slip) == "number" then slip = { default = slip } end
  self.slip = {}
  for k, v in pairs(slip or d.slippage) do self.slip[k] = to_units(v, "slippage") end
  self.slip.default = self.slip.default or 0

  self.next_id = 0
  self.orders = {}        -- id -> order
  self.pending = {}       -- code -> array of open orders (submission order)
  self.npending = 0
  self.pos = {}           -- code -> net position (lots/contracts)
  self.lots = {}          -- code -> FIFO array of {q = signed qty, px = e4}
  self.mark = {}          -- code -> last trade price e4
  self.sec = {}           -- code -> shj_sec_type seen in events
  self.fills = {}
  self.roundtrips = {}
  self.open_rt = {}       -- code -> round trip in progress
  self.realised = 0
  self.commission, self.tax, self.fee = 0, 0, 0
  self.turnover = 0       -- sum of fill values (e4)
  self.on_order, self.on_trade = nil, nil -- listeners set by the engine
  return self
end

-- Contract facts ---------------------------------------------------------------

function Broker:is_future(code)
  local s = self.sec[code]
  if s then return s == SEC_FUT end
  return is_future_code(code)
end

function Broker:is_option(code)
  local s = self.sec[code]
  if s then return s == SEC_OPT end
  return is_option_code(code)
end

function Broker:multiplier(code)
  local fut = self:is_future(code)
  if fut or self:is_option(code) then
    local p = product_of(code)
    local m = self.mults[p] or self.mults[code]
    if not m then error("broker_sim: no multiplier for " .. (fut and "futures" or "options") ..
                        " product " .. p .. " (set opts.multipliers." .. p .. ")", 2) end
    return m
  end
  return self.lot
end

-- Costs of one fill, each in money units (whole TWD).
function Broker:costs(code, action, price, qty)
  local value = exact(price * qty * self:multiplier(code), "the value of a fill")
  if self:is_future(code) then
    local p = product_of(code)
    local fee = (self.fut_fee[p] or self.fut_fee[code] or self.fut_fee.default) * qty * SCALE
    local tax = cost_twd(value, self.fut_tax_e8, true) * SCALE
    return 0, tax, fee, value
  end
  if self:is_option(code) then
    local p = product_of(code)
    local fee = (self.opt_fee[p] or self.opt_fee[code] or self.opt_fee.default) * qty * SCALE
    local tax = cost_twd(value, self.opt_tax_e8, true) * SCALE
    return 0, tax, fee, value
  end
  local comm = cost_twd(value, self.comm_e8) * SCALE
  if comm < self.comm_min then comm = self.comm_min end
  local tax = 0
  if action == "sell" or action == "short" then
    local r = self.sell_tax_e8
    if self.day_trade then r = self.dt_tax_e8
    elseif code:sub(1, 2) == "00" then r = self.etf_tax_e8 end
    tax = cost_twd(value, r) * SCALE
  end
  return comm, tax, 0, value
end

-- Orders -------------------------------------------------------------------------

local ACTIONS = { buy = 1, sell = -1, short = -1, cover = 1 }

-- req = {code=, action=, qty=, price=nil|TWD number (limit), born=event counter}
function Broker:submit(req)
  local code, action, qty = req.code, req.action, req.qty
  if type(code) ~= "string" or code == "" then error("broker_sim: order needs a code", 2) end
  if not ACTIONS[action] then error("broker_sim: unknown action " .. tostring(action), 2) end
  if type(qty) ~= "number" or qty <= 0 or qty ~= floor(qty) then
    error("broker_sim: qty must be a positive integer, got " .. tostring(qty), 2)
  end
  self.next_id = self.next_id + 1
  local o = {
    id = self.next_id, code = code, action = action, qty = qty,
    type = req.price and "limit" or "market",
    price = req.price and to_units(req.price, "price") or nil,
    status = "submitted", born = req.born or 0, fresh = true, ts = req.ts, tag = req.tag,
  }
  if o.price and o.price <= 0 then error("broker_sim: limit price must be > 0", 2) end
  self.orders[o.id] = o
  local list = self.pending[code]
  if not list then list = {}; self.pending[code] = list end
  list[#list + 1] = o
  self.npending = self.npending + 1
  if self.on_order then self.on_order(o) end
  return o.id
end

local function remove_pending(self, o)
  local list = self.pending[o.code]
  for i = 1, #list do
    if list[i] == o then table.remove(list, i); break end
  end
  self.npending = self.npending - 1
end

function Broker:cancel(id)
  local o = self.orders[id]
  if not o or (o.status ~= "submitted" and o.status ~= "partial") then return false end
  remove_pending(self, o)
  o.status = "cancelled"
  if self.on_order then self.on_order(o) end
  return true
end

function Broker:open_orders(code)
  local out = {}
  for _, list in pairs(self.pending) do
    for _, o in ipairs(list) do
      if code == nil or o.code == code then out[#out + 1] = o end
    end
  end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

-- Positions and fills --------------------------------------------------------------

function Broker:position(code) return self.pos[code] or 0 end

-- Close the whole position in code at its last price (e4), now: an expired
-- futures contract settled when a continuous alias moved on to the next
-- month. Open orders on code are cancelled first. Costs as for any fill
-- (TAIFEX charges the fee and the tax on final settlement too). Returns the
-- fill, or nil when flat or never priced.
function Broker:settle(code, ts, tag)
  for _, o in ipairs(self:open_orders(code)) do self:cancel(o.id) end
  local pos, mark = self.pos[code] or 0, self.mark[code]
  if pos == 0 or mark == nil then return nil end
  local id = self:submit { code = code, action = pos > 0 and "sell" or "cover", qty = pos > 0 and pos or -pos,
                           tag = tag or "settle" }
  return self:fill(self.orders[id], mark, ts)
end

local function reject(self, o, reason)
  remove_pending(self, o)
  o.status = "rejected"
  o.reason = reason
  if self.on_order then self.on_order(o) end
end

local function twd(e4) return string.format("%.0f", e4 / SCALE) end

-- Margin (e4) the open futures and short option positions hold.
function Broker:margin_in_use()
  local m = 0
  for code, p in pairs(self.pos) do
    if p ~= 0 and (self:is_future(code) or (p < 0 and self:is_option(code))) then
      local per = self.margin[product_of(code)] or self.margin[code]
      if per then m = m + (p < 0 and -p or p) * per * SCALE end
    end
  end
  return m
end

-- Why a fill of qty (action a, position pos, paying `pay` e4 for a buy) cannot
-- be afforded, or nil (BUYING POWER above).
function Broker:cannot_afford(code, a, pos, qty, pay)
  local opening = (a == "buy" and pos >= 0) or (a == "short" and pos <= 0)
  if not opening then return nil end
  local fut = self:is_future(code)
  if fut or (a == "short" and self:is_option(code)) then
    local per = self.margin[product_of(code)] or self.margin[code]
    if not per then return nil end
    local need, free = per * qty * SCALE, self:equity() - self:margin_in_use()
    if need > free then
      return string.format("insufficient margin: %d x %s TWD needed, %s free", qty, twd(per * SCALE), twd(free))
    end
    return nil
  end
  if a == "buy" and self.check_cash and pay > self.cash then
    return string.format("insufficient cash: %s TWD needed, %s available", twd(pay), twd(self.cash))
  end
  return nil
end

-- Apply a fill of order o at price (e4) for qty (default: all that is left).
-- ts: event time (int64 cdata or number).
function Broker:fill(o, price, ts, qty)
  local code = o.code
  local done = o.filled or 0
  qty = qty or (o.qty - done)
  local pos = self.pos[code] or 0
  local a = o.action
  if a == "buy" and pos < 0 then return reject(self, o, "buy while short: cover first") end
  if a == "short" and pos > 0 then return reject(self, o, "short while long: sell first") end
  if a == "sell" and qty > pos then return reject(self, o, "sell " .. qty .. " > long " .. pos) end
  if a == "cover" and qty > -pos then return reject(self, o, "cover " .. qty .. " > short " .. -pos) end
  local mult = self:multiplier(code)
  local comm, tax, fee, value = self:costs(code, a, price, qty)
  local why = self:cannot_afford(code, a, pos, qty, value + comm + tax + fee)
  if why then return reject(self, o, why) end
  local dir = ACTIONS[a]
  local lots = self.lots[code]
  if not lots then lots = {}; self.lots[code] = lots end
  local realised = 0
  if (a == "buy" or a == "short") then
    lots[#lots + 1] = { q = dir * qty, px = price }
  else -- reduce FIFO
    local left = qty
    while left > 0 do
      local lot = lots[1]
      local lq = lot.q < 0 and -lot.q or lot.q
      local take = lq < left and lq or left
      local sign = lot.q > 0 and 1 or -1
      realised = realised + (price - lot.px) * take * mult * sign
      if take == lq then table.remove(lots, 1) else lot.q = lot.q - sign * take end
      left = left - take
    end
  end
  local newpos = pos + dir * qty
  self.pos[code] = newpos
  if self.mark[code] == nil then self.mark[code] = price end
  local costs = comm + tax + fee
  if self:is_future(code) then
    self.cash = exact(self.cash + realised - costs, "cash")
  else
    self.cash = exact(self.cash - dir * value - costs, "cash")
  end
  self.realised = self.realised + realised
  self.commission = self.commission + comm
  self.tax = self.tax + tax
  self.fee = self.fee + fee
  self.turnover = self.turnover + value
  -- round trip: flat -> flat
  local rt = self.open_rt[code]
  if pos == 0 then
    rt = { code = code, side = dir > 0 and "long" or "short", open_ts = ts, gross = 0, costs = 0,
           max_qty = 0, fills = 0 }
    self.open_rt[code] = rt
  end
  rt.gross = rt.gross + realised
  rt.costs = rt.costs + costs
  rt.fills = rt.fills + 1
  local aq = newpos < 0 and -newpos or newpos
  if aq > rt.max_qty then rt.max_qty = aq end
  if newpos == 0 then
    rt.close_ts = ts
    rt.net = rt.gross - rt.costs
    self.roundtrips[#self.roundtrips + 1] = rt
    self.open_rt[code] = nil
  end
  o.filled = done + qty
  o.fill_price = price
  if o.filled == o.qty then
    remove_pending(self, o)
    o.status = "filled"
  else
    o.status = "partial"
  end
  local f = {
    id = #self.fills + 1, order_id = o.id, code = code, action = a, qty = qty, price = price,
    value = value, commission = comm, tax = tax, fee = fee, realised = realised, ts = ts,
    position = newpos, cash = self.cash, tag = o.tag,
  }
  self.fills[#self.fills + 1] = f
  if self.on_order then self.on_order(o) end
  if self.on_trade then self.on_trade(f) end
  return f
end

-- Slippage (e4) for code: per code, per product, or the default.
local function slip_of(self, code)
  local sl = self.slip
  return sl[code] or sl[product_of(code)] or sl.default
end

-- Try to fill one order against event ev. Returns the fill price or nil.
local function match(self, o, ev, kind)
  local buy = ACTIONS[o.action] > 0
  local fresh = o.fresh
  o.fresh = false
  local L = o.price
  if kind == KIND_BIDASK then
    if buy then
      local ask = tonumber(ev.ask_price[0])
      if ask <= 0 then return nil end
      if not L then return ask + slip_of(self, o.code) end
      if ask <= L then return fresh and ask or L end
    else
      local bid = tonumber(ev.bid_price[0])
      if bid <= 0 then return nil end
      if not L then return bid - slip_of(self, o.code) end
      if bid >= L then return fresh and bid or L end
    end
    return nil
  end
  -- a trade
  local px = tonumber(ev.close)
  if px <= 0 then return nil end
  local slip = slip_of(self, o.code)
  if not L then return buy and px + slip or px - slip end
  if buy then
    if fresh and px <= L then return px end
    if px < L then return L end
  else
    if fresh and px >= L then return px end
    if px > L then return L end
  end
  return nil
end

-- Volume-limited matching (PARTIAL above): the event's volume is shared by
-- the eligible orders in submission order.
local function fill_partial(self, orders, ev, kind, n)
  local ts = ev.ts_exch_ns
  if kind ~= KIND_BIDASK then
    local avail = tonumber(ev.volume)
    for i = 1, #orders do
      local o = orders[i]
      if avail <= 0 then return end
      if (o.status == "submitted" or o.status == "partial") and o.born < n then
        local px = match(self, o, ev, kind)
        if px then
          local left = o.qty - (o.filled or 0)
          local q = left < avail and left or avail
          if self:fill(o, px, ts, q) then avail = avail - q end
        end
      end
    end
    return
  end
  local used_bid, used_ask = self.used_bid, self.used_ask -- reused: no table per event
  for lv = 1, 5 do used_bid[lv], used_ask[lv] = 0, 0 end
  for i = 1, #orders do
    local o = orders[i]
    if (o.status == "submitted" or o.status == "partial") and o.born < n then
      local buy = ACTIONS[o.action] > 0
      local prices = buy and ev.ask_price or ev.bid_price
      local vols = buy and ev.ask_volume or ev.bid_volume
      local used = buy and used_ask or used_bid
      local L, fresh = o.price, o.fresh
      o.fresh = false
      local slip = slip_of(self, o.code)
      for lv = 0, 4 do
        local left = o.qty - (o.filled or 0)
        if left <= 0 or o.status == "rejected" then break end
        local px, v = tonumber(prices[lv]), tonumber(vols[lv]) - used[lv + 1]
        if px <= 0 then break end
        local at
        if not L then
          at = buy and px + slip or px - slip
        elseif (buy and px <= L) or (not buy and px >= L) then
          at = fresh and px or L
        else
          break
        end
        if v > 0 then
          local q = left < v and left or v
          if self:fill(o, at, ts, q) then used[lv + 1] = used[lv + 1] + q end
        end
      end
    end
  end
end

-- Submit req and try it against ev at once (ev is req.code's current event):
-- for orders the engine places on the strategy's behalf at a known moment
-- (a roll), not for the strategy's own orders, which wait for the next
-- event. A trial-match tick cannot fill it: it then waits like any order.
function Broker:execute(req, ev)
  local o = self.orders[self:submit(req)]
  local kind = ev.kind
  if kind ~= KIND_TICK and kind ~= KIND_QUOTE and kind ~= KIND_BIDASK then return o end
  if kind ~= KIND_BIDASK and band(ev.flags, FLAG_SIMTRADE) ~= 0 then return o end
  if self.sec[o.code] == nil then self.sec[o.code] = ev.sec_type end
  local px = match(self, o, ev, kind)
  if px then self:fill(o, px, ev.ts_exch_ns) end
  return o
end

-- Feed one event of instrument `code` (a Lua string); n is the engine's event
-- counter (orders born at n or later are not eligible yet).
function Broker:on_event(ev, code, n)
  local kind = ev.kind
  if kind == KIND_TICK or kind == KIND_QUOTE then
    if band(ev.flags, FLAG_SIMTRADE) ~= 0 then return end
    self.mark[code] = tonumber(ev.close)
  elseif kind ~= KIND_BIDASK then
    return
  end
  if self.sec[code] == nil then self.sec[code] = ev.sec_type end
  if self.npending == 0 then return end
  local list = self.pending[code]
  if not list or #list == 0 then return end
  -- copy: fills remove from the list while we walk it (into a reused table)
  local snapshot, len = self.snapshot, #list
  for i = 1, len do snapshot[i] = list[i] end
  for i = len + 1, #snapshot do snapshot[i] = nil end
  if self.partial then return fill_partial(self, snapshot, ev, kind, n) end
  for i = 1, len do
    local o = snapshot[i]
    if o.status == "submitted" and o.born < n then
      local px = match(self, o, ev, kind)
      if px then self:fill(o, px, ev.ts_exch_ns) end
    end
  end
end

-- Valuation ---------------------------------------------------------------------------

-- Unrealised PnL of code at its last price (e4).
function Broker:unrealised(code)
  local lots = self.lots[code]
  if not lots or #lots == 0 then return 0 end
  local m = self.mark[code]
  local mult = self:multiplier(code)
  local u = 0
  for i = 1, #lots do
    local lot = lots[i]
    u = u + (m - lot.px) * lot.q * mult
  end
  return u
end

function Broker:total_unrealised()
  local u = 0
  for code, lots in pairs(self.lots) do
    if #lots > 0 then u = u + self:unrealised(code) end
  end
  return u
end

-- Equity = cash + stock and option positions at market + futures unrealised (e4).
function Broker:equity()
  local e = self.cash
  for code, p in pairs(self.pos) do
    if p ~= 0 then
      if self:is_future(code) then
        e = e + self:unrealised(code)
      else
        e = e + p * self.mark[code] * self:multiplier(code)
      end
    end
  end
  return e
end

function Broker:costs_total() return self.commission + self.tax + self.fee end

return M
