-- tests/report/make_report.lua — write tear sheets of synthetic runs for the browser test.
--
--   shijim run tests/report/make_report.lua OUTDIR
--
-- OUTDIR/full: 25 TWSE sessions (the trading days from 2026-10-26 on, as core/session
-- decides them: 10-26 is the Retrocession Day holiday, so 10-27 .. 11-30) of 1-minute
-- equity samples of a long/flat 2330 strategy on a deterministic price walk, with
-- its fills and round trips; OUTDIR/idle: the same days, no order at all.
-- OUTDIR/facts.txt holds what the page must show, computed here from the
-- fixture's own integers (not by the report): days, fills, round trips, final
-- equity and net PnL as exact text, gaps between sessions.
local shijim = require "shijim"
local report = require "shijim.report"

local out = assert(..., "usage: make_report.lua OUTDIR")
local SCALE = shijim.PRICE_SCALE
local T = shijim.time
local LOT = 1000
local COMM = 20 * SCALE -- a flat 20 TWD per fill keeps costs easy to add by hand

local function run(trade)
  local initial = 10000000 * SCALE
  local cash, pos, entry = initial, 0, 0
  local price = 1000 * SCALE
  local seed = 12345
  local function rnd() -- deterministic LCG in [0, 1)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  end
  local curve, fills, rts, pts = {}, {}, {}, {}
  local commission, turnover, realised = 0, 0, 0
  local open_rt
  local days = 0
  local first_ts, last_ts
  local long_breaks = 0 -- session breaks over 36 h (weekends, holidays): drawn darker
  local y, m, d = 2026, 10, 26
  local dim = { [10] = 31, [11] = 30 }
  while days < 25 do
    -- a session day is one whose 09:00 belongs to its own trading day (weekends and
    -- holidays roll forward): the calendar is core/session's, not retyped here
    if T.trading_day(T.from_taipei(y, m, d, 9, 0, 0)) == string.format("%04d-%02d-%02d", y, m, d) then
      days = days + 1
      if last_ts and tonumber(T.from_taipei(y, m, d, 9, 0, 0)) - last_ts > 36 * 3600 * 1e9 then
        long_breaks = long_breaks + 1
      end
      for minute = 0, 270 do
        local t = tonumber(T.from_taipei(y, m, d, 9, minute, 0))
        first_ts = first_ts or t
        last_ts = t
        -- the walk: +-0.5 TWD steps with a slow drift that turns every week
        local drift = (math.floor(days / 5) % 2 == 0) and 0.55 or 0.45
        price = price + (rnd() < drift and 1 or -1) * SCALE / 2
        if trade and minute > 0 and minute % 45 == 0 then
          local action = pos == 0 and "buy" or "sell"
          local value = price * LOT
          local f = { id = #fills + 1, order_id = #fills + 1, code = "2330", action = action, qty = 1,
                      price = price, value = value, commission = COMM, fee = 0, tax = 0, ts = t }
          commission, turnover = commission + COMM, turnover + value
          if action == "buy" then
            cash, pos, entry = cash - value - COMM, 1, price
            f.realised = 0
            open_rt = { code = "2330", side = "long", open_ts = t, gross = 0, costs = COMM, max_qty = 1, fills = 1 }
          else
            local gain = (price - entry) * LOT
            cash, pos = cash + value - COMM, 0
            realised = realised + gain
            f.realised = gain
            open_rt.gross, open_rt.costs, open_rt.fills = gain, open_rt.costs + COMM, 2
            open_rt.close_ts, open_rt.net = t, gain - open_rt.costs
            rts[#rts + 1] = open_rt
            open_rt = nil
          end
          f.position, f.cash = pos, cash
          fills[#fills + 1] = f
        end
        curve[#curve + 1] = { t = t, e = cash + pos * price * LOT }
        pts[#pts + 1] = { t = t, p = price }
      end
    end
    d = d + 1
    if d > dim[m] then d, m = 1, m + 1 end
  end
  local final = curve[#curve].e
  return {
    name = trade and "synthetic_2330" or "idle", mode = "backtest", codes = { "2330" }, params = { every = 45 },
    initial = initial, final = final, cash = cash, realised = realised,
    unrealised = pos * (price - entry) * LOT, commission = commission, tax = 0, fee = 0, costs = commission,
    turnover = turnover, fills = fills, roundtrips = rts, curve = curve, orders = #fills, open_orders = 0,
    events = #curve * 10, first_ts = first_ts, last_ts = last_ts,
    price = { code = "2330", points = pts, real = { ["2330"] = true } },
  }, long_breaks
end

local full, long_breaks = run(true)
local idle = run(false)
assert(report.write(full, out .. "/full"))
assert(report.write(idle, out .. "/idle"))
local f = assert(io.open(out .. "/facts.txt", "w"))
f:write("days=25\n")
f:write("gaps=24\n") -- 25 sessions joined: one marker per overnight/weekend break
f:write("fills=", #full.fills, "\n")
f:write("trades=", #full.roundtrips, "\n")
f:write("final=", report.twd(full.final), " TWD\n")
f:write("pnl=", (full.final >= full.initial and "+" or ""), report.twd(full.final - full.initial), " TWD\n")
f:write("months=2\n")
f:write("longbreaks=", long_breaks, "\n")
f:close()
