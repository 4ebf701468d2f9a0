-- report_spec — report numbers against a hand calculation on a small fixture,
-- and the files the report writes.
local ev = require "support.ev"
local report = require "shijim.report"

local T = ev.units -- TWD -> money units (x SHJ_PRICE_SCALE, from C)
local function at(d, h, m) return tonumber(ev.tpe(2026, 11, d, h, m, 0)) end

-- Three trading days of equity samples (TWD):
--   11-23: 1,000,000 (09:00)  1,020,000 (10:00)  1,010,000 (13:30)
--   11-24:   990,000 (09:30)  1,030,000 (13:30)
--   11-25: 1,040,000 (10:00)  1,035,000 (13:30)
local function fixture()
  local curve = {
    { t = at(23, 9, 0), e = T(1000000) }, { t = at(23, 10, 0), e = T(1020000) },
    { t = at(23, 13, 30), e = T(1010000) }, { t = at(24, 9, 30), e = T(990000) },
    { t = at(24, 13, 30), e = T(1030000) }, { t = at(25, 10, 0), e = T(1040000) },
    { t = at(25, 13, 30), e = T(1035000) },
  }
  local rts = {}
  for i, net in ipairs { 20000, -5000, 10000, -5000 } do
    rts[i] = { code = "2330", side = "long", open_ts = at(23, 9, i), close_ts = at(23, 10, i),
               gross = T(net + 375), costs = T(375), net = T(net), max_qty = 1, fills = 2 }
  end
  local fills = {
    { id = 1, order_id = 1, code = "2330", action = "buy", qty = 1, price = T(1030.5),
      value = T(1030500), commission = T(1468), tax = 0, fee = 0, realised = 0,
      ts = ev.tpe(2026, 11, 23, 9, 0, 1, 500000), position = 1, cash = T(-32468) },
  }
  return {
    name = "fixture", mode = "backtest", codes = { "2330" }, params = { n = 3 },
    initial = T(1000000), final = T(1035000), cash = T(1035000), realised = T(35000),
    unrealised = 0, commission = T(1000), tax = T(500), fee = 0, costs = T(1500),
    turnover = T(4000000), fills = fills, roundtrips = rts, curve = curve, orders = 9,
    open_orders = 0, events = 1234, first_ts = at(23, 9, 0), last_ts = at(25, 13, 30),
  }
end

describe("report", function()
  it("computes the statistics of the fixture by hand", function()
    local st = report.compute(fixture())
    assert.are.equal(T(35000), st.pnl)
    assert.is_true(math.abs(st.total_return - 0.035) < 1e-12)
    assert.are.equal(3, st.days)
    -- daily returns: 1,010,000/1,000,000 - 1; 1,030,000/1,010,000 - 1; 1,035,000/1,030,000 - 1
    local r = { 0.01, 1030000 / 1010000 - 1, 1035000 / 1030000 - 1 }
    for i = 1, 3 do assert.is_true(math.abs(st.daily[i].ret - r[i]) < 1e-12) end
    local mean = (r[1] + r[2] + r[3]) / 3
    local sd = math.sqrt(((r[1] - mean) ^ 2 + (r[2] - mean) ^ 2 + (r[3] - mean) ^ 2) / 2)
    assert.is_true(math.abs(st.sharpe - mean / sd * math.sqrt(252)) < 1e-9)
    assert.is_true(math.abs(st.annual_return - (1.035 ^ 84 - 1)) < 1e-9) -- 252 / 3 days
    -- drawdown: peak 1,020,000 -> trough 990,000 = 30,000 = 2.941176...%
    assert.is_true(math.abs(st.max_drawdown - 30000 / 1020000) < 1e-12)
    assert.are.equal(T(30000), st.max_drawdown_money)
    -- underwater from 11-23 10:00 to the new high at 11-24 13:30 = 27.5 h
    assert.are.equal(27.5 * 3600, st.max_drawdown_s)
    -- trades: +20,000 -5,000 +10,000 -5,000
    assert.are.equal(4, st.trades)
    assert.are.equal(0.5, st.win_rate)
    assert.are.equal(3, st.profit_factor) -- 30,000 / 10,000
    assert.are.equal(4, st.turnover)      -- 4,000,000 / 1,000,000
    assert.are.equal(T(1500), st.costs)
  end)

  it("formats money exactly and finds the trading day (15:00 roll)", function()
    assert.are.equal("1234.50", report.money(T(1234.5)))
    local S = ev.C.SHJ_PRICE_SCALE_FFI -- money units per TWD, from C
    assert.are.equal("-1234.5678", report.money(-(1234 * S + 5678 * S / 10000)))
    assert.are.equal("0.00", report.money(0))
    assert.are.equal("1234567890.12", report.money(1234567890 * S + 12 * S / 100))
    assert.are.equal("0.000001", report.money(1))                         -- the smallest unit
    assert.are.equal("40461.608055", report.money(40461 * S + 608055))    -- Shioaji's 6 places
    assert.are.equal("2026-11-24", report.day_text(report.trading_day(at(24, 14, 59))))
    assert.are.equal("2026-11-25", report.day_text(report.trading_day(at(24, 15, 0))))
    assert.are.equal("2026-11-25", report.day_text(report.trading_day(at(25, 4, 59))))
    -- Friday 2026-11-27's night session and its Saturday tail belong to Monday
    assert.are.equal("2026-11-30", report.day_text(report.trading_day(at(27, 15, 0))))
    assert.are.equal("2026-11-30", report.day_text(report.trading_day(at(28, 4, 59))))
  end)

  it("no losing trade: profit factor n/a; no trades: win rate n/a", function()
    local r = fixture()
    r.roundtrips = { r.roundtrips[1] }
    local st = report.compute(r)
    assert.is_nil(st.profit_factor)
    assert.are.equal(1, st.win_rate)
    r.roundtrips = {}
    st = report.compute(r)
    assert.is_nil(st.win_rate)
  end)

  it("writes HTML with an inline SVG, trades CSV and JSON", function()
    local dir = os.tmpname()
    os.remove(dir)
    local st, paths = report.write(fixture(), dir)
    assert.is_table(st, paths)
    local function slurp(p) local f = assert(io.open(p)); local s = f:read("*a"); f:close(); return s end
    local html = slurp(dir .. "/report.html")
    assert.matches("<svg", html, 1, true)
    assert.matches("<polyline", html, 1, true)
    assert.matches("35000.00", html, 1, true)
    assert.matches("2.94%", html, 1, true)
    local csv = slurp(dir .. "/trades.csv")
    assert.matches("^fill,time_taipei,code,action,qty,price", csv)
    assert.matches("1,2026%-11%-23 09:00:01%.500000,2330,buy,1,1030%.50,1030500%.00,1468%.00,0%.00,0%.00", csv)
    local rt = slurp(dir .. "/roundtrips.csv")
    assert.matches("4,2330,long,", rt, 1, true)
    local j = require("cjson").decode(slurp(dir .. "/summary.json"))
    assert.are.equal("35000.00", j.pnl)
    assert.are.equal(4, j.trades)
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
