-- spec/support/ev.lua — event builders for specs.
--
-- Events are built with the runtime's own FFI declarations (shijim.ffi).
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local M = {}
M.C = sffi.C

local SCALE = sffi.PRICE_SCALE -- SHJ_PRICE_SCALE, from C
local function e4(x) return math.floor(x * SCALE + 0.5) end
M.e4 = e4 -- TWD -> event units (the name predates the 10^6 scale)
M.units = e4

-- Days since 1970-01-01 of a civil date (Hinnant's algorithm; no time zone state).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
M.days_from_civil = days_from_civil

-- Taipei local time -> UTC ns (int64 cdata).
function M.tpe(y, mo, d, h, mi, s, us)
  local secs = days_from_civil(y, mo, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0) - 8 * 3600
  return ffi.new("int64_t", secs) * 1000000000 + (us or 0) * 1000
end

local ids, next_id = {}, 0
local function inst_id(code)
  if not ids[code] then next_id = next_id + 1; ids[code] = next_id end
  return ids[code]
end

local seq = 0
local function base(kind, code, ts)
  local ev = ffi.new("shj_event")
  ev.kind = kind
  ffi.copy(ev.code, code)
  local fut = code:match("^%u%u%u[A-L]%d$") ~= nil
  local opt = code:match("^%u%u%u%d+[A-X]%d$") ~= nil
  ev.exchange = (fut or opt) and 4 or 1
  ev.sec_type = fut and 2 or opt and 3 or 1
  ev.inst_id = inst_id(code)
  ev.ts_exch_ns = ts
  ev.ts_recv_ns = ts
  seq = seq + 1
  ev.seq = seq
  return ev
end

-- tick(code, ts, price_twd, volume [, flags])
function M.tick(code, ts, price, volume, flags)
  local ev = base(1, code, ts)
  ev.close = e4(price)
  ev.volume = volume or 1
  ev.flags = flags or 0
  return ev
end

-- bidask(code, ts, bid_twd, ask_twd [, bid_vol, ask_vol])
function M.bidask(code, ts, bid, ask, bv, av)
  local ev = base(2, code, ts)
  ev.bid_price[0] = e4(bid)
  ev.ask_price[0] = e4(ask)
  ev.bid_volume[0] = bv or 10
  ev.ask_volume[0] = av or 10
  return ev
end

-- A 5-level book: bids/asks = { {price, volume}, ... } best first.
function M.book(code, ts, bids, asks)
  local ev = base(2, code, ts)
  for i, l in ipairs(bids) do ev.bid_price[i - 1] = e4(l[1]); ev.bid_volume[i - 1] = l[2] end
  for i, l in ipairs(asks) do ev.ask_price[i - 1] = e4(l[1]); ev.ask_volume[i - 1] = l[2] end
  return ev
end

function M.status(code_status)
  local ev = ffi.new("shj_event")
  ev.kind = 3
  ev.status = code_status
  return ev
end

return M
