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
    for _, id in ipairs { "equity", "underwater", "daily", "monthly", "price" } do
      assert.matches('id="chart-' .. id .. '"', html, 1, true)
    end
    assert.matches('<path class="equity" d="M', html, 1, true)
    assert.matches("+35,000.00 TWD", html, 1, true)   -- thousands separators
    assert.matches("-2.94%", html, 1, true)
    assert.matches('id="small-sample"', html, 1, true) -- 3 days: the caveat
    assert.matches("^time_taipei,trading_day,equity,peak,drawdown,drawdown_pct,price\n",
                   slurp(dir .. "/equity.csv"))
    local daily = slurp(dir .. "/daily.csv")
    assert.are.equal("trading_day,equity,pnl,return_pct,cum_return_pct\n" ..
                     "2026-11-23,1010000.00,10000.00,1.000000,1.000000\n" ..
                     "2026-11-24,1030000.00,20000.00,1.980198,3.000000\n" ..
                     "2026-11-25,1035000.00,5000.00,0.485437,3.500000\n", daily)
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

  -- Daily equity 1,000,000 -> 1,020,000 (+2%) -> 999,600 (-2%) -> 1,019,592 (+2%).
  -- mean = 1/150, sample sd = sqrt(0.0016/3) so mean/sd = 1/sqrt(12):
  --   Sharpe = sqrt(252/12) = sqrt(21); downside deviation sqrt(0.0004/3):
  --   Sortino = (1/150)/sqrt(0.0004/3) x sqrt(252) = sqrt(84); vol = sqrt(0.0016/3 x 252).
  -- Drawdown: peak 1,020,000 -> 999,600 = 20,400 = exactly 2%; never recovered
  -- (1,019,592 < 1,020,000): 48 h, 2 trading days. CAGR = 1.019592^84 - 1.
  -- Trades +30,000 -10,000 -5,000 +1,000: PF 31/15, expectancy 4,000, avg win
  -- 15,500, avg loss -7,500.
  local function fixture2()
    local r = fixture()
    r.curve = { { t = at(23, 13, 30), e = T(1020000) }, { t = at(24, 13, 30), e = T(999600) },
                { t = at(25, 13, 30), e = T(1019592) } }
    r.first_ts, r.final = at(23, 9, 0), T(1019592)
    for i, net in ipairs { 30000, -10000, -5000, 1000 } do r.roundtrips[i].net = T(net) end
    return r
  end

  it("Sharpe, Sortino, vol, Calmar, drawdown and trade statistics by hand", function()
    local st = report.compute(fixture2())
    local function near(want, got, tol) assert.is_true(math.abs(want - got) < (tol or 1e-9), want .. " vs " .. tostring(got)) end
    near(math.sqrt(21), st.sharpe)
    near(math.sqrt(84), st.sortino)
    near(math.sqrt(0.0016 / 3 * 252), st.vol)
    assert.are.equal(0.02, st.max_drawdown)
    assert.are.equal(T(20400), st.max_drawdown_at_max)
    assert.are.equal(48 * 3600, st.max_drawdown_s)
    assert.are.equal(2, st.max_drawdown_days)
    assert.is_false(st.dd.recovered)
    near(1.019592 ^ 84 - 1, st.cagr)
    near((1.019592 ^ 84 - 1) / 0.02, st.calmar)
    near(31 / 15, st.profit_factor, 1e-12)
    assert.are.equal(T(4000), st.expectancy)
    assert.are.equal(T(15500), st.avg_win)
    assert.are.equal(T(-7500), st.avg_loss)
    assert.are.equal(0.5, st.win_rate)
    assert.is_true(st.small_sample)
    -- daily PnL exact, monthly compounded
    assert.are.same({ T(20000), T(-20400), T(19992) }, { st.daily[1].pnl, st.daily[2].pnl, st.daily[3].pnl })
    assert.are.equal(1, #st.monthly)
    near(0.019592, st.monthly[1].ret, 1e-12)
  end)

  it("a 342 TWD drawdown on 10 M is -0.0034%, never 0.00%", function()
    local r = fixture()
    r.initial, r.final = T(10000000), T(9999658)
    r.curve = { { t = at(23, 9, 0), e = T(10000000) }, { t = at(23, 9, 1), e = T(9999658) } }
    local st = report.compute(r)
    assert.are.equal(342 / 10000000, st.max_drawdown)
    local row
    for _, x in ipairs(report.rows(r, st)) do if x.key == "max_drawdown" then row = x[2] end end
    assert.are.equal("-0.0034% (-342.00 TWD)", row)
  end)

  it("formats numbers for people", function()
    local fmt = require "shijim.report_fmt"
    assert.are.equal("1,234,567.50", fmt.twd(T(1234567.5)))
    assert.are.equal("-1,000.00", fmt.twd(T(-1000)))
    assert.are.equal("999.00", fmt.twd(T(999)))
    assert.are.equal("+342.00", fmt.signed_twd(T(342)))
    assert.are.equal("0.00", fmt.signed_twd(0))
    assert.are.equal("12.35%", fmt.pct(0.12345))
    assert.are.equal("0.00%", fmt.pct(0))
    assert.are.equal("0.0034%", fmt.pct(0.0000342))
    assert.are.equal("-0.0099%", fmt.pct(-0.000099))
    assert.are.equal("1,234.50%", fmt.pct(12.345))
    assert.are.equal("n/a", fmt.pct(nil))
    assert.are.equal("n/a", fmt.pct(0 / 0))
    assert.are.equal("n/a", fmt.num(math.huge))
    assert.are.equal("1,234,567", fmt.int(1234567))
    assert.are.equal("1.23", fmt.num(1.23456))
    assert.are.equal("1d 3h 30m", fmt.duration(27.5 * 3600))
    assert.are.equal("4m 10s", fmt.duration(250))
    assert.are.equal("0s", fmt.duration(0))
  end)

  it("exposure counts session time in a position; breaks are not trading time", function()
    local r = fixture()
    -- samples 09:00, 09:10, 09:20, 09:30 then the next day 09:00, 09:10
    r.curve = { { t = at(23, 9, 0), e = T(1000000) }, { t = at(23, 9, 10), e = T(1000000) },
                { t = at(23, 9, 20), e = T(1000000) }, { t = at(23, 9, 30), e = T(1000000) },
                { t = at(24, 9, 0), e = T(1000000) }, { t = at(24, 9, 10), e = T(1000000) } }
    -- long from 09:10 to 09:30 on day 1 (two 10-minute intervals of the four session intervals)
    r.fills = { { code = "2330", ts = at(23, 9, 10), position = 1 }, { code = "2330", ts = at(23, 9, 30), position = 0 } }
    local st = report.compute(r)
    assert.are.equal(0.5, st.exposure)
    assert.are.equal(40 * 60, st.session_s)
    -- the trading-time axis joins the sessions: a break is 1.5% of the 40 session minutes wide
    local svg = require "shijim.report_svg"
    local ax = svg.axis({ at(23, 9, 0), at(23, 9, 10), at(23, 9, 30), at(24, 9, 0), at(24, 9, 10) })
    assert.are.same({ 0, 600, 1800, 1800 + 36, 2436 }, ax.x)
    assert.are.equal(1, #ax.gaps)
    assert.are.equal(300, ax:at(at(23, 9, 5)))
  end)

  it("benchmark: buy-and-hold of the traded code", function()
    local r = fixture()
    r.price = { code = "2330", real = { ["2330"] = true }, points = {
      { t = at(23, 9, 0), p = nil }, { t = at(23, 10, 0), p = T(1000) }, { t = at(24, 13, 30), p = T(950) },
      { t = at(25, 13, 30), p = T(1100) } } }
    local st = report.compute(r)
    assert.are.equal("2330", st.benchmark.code)
    assert.is_true(math.abs(st.benchmark.total_return - 0.1) < 1e-12)
    assert.is_true(math.abs(st.benchmark.drawdown.max - 0.05) < 1e-12)
    assert.is_true(math.abs(st.excess_return - (0.035 - 0.1)) < 1e-12)
  end)

  it("no trades: the report says so instead of an empty table", function()
    local r = fixture()
    r.roundtrips, r.fills, r.orders = {}, {}, 0
    local html = report.html(r, report.compute(r))
    assert.matches('id="no-trades">No trades: the strategy placed 0 orders', html, 1, true)
    assert.is_nil(html:find('<table id="trades"', 1, true))
  end)

  it("shijim.time: Taipei fields from core/clock.h through the FFI", function()
    local time = require("shijim").time
    assert.are.equal(8 * 3600, time.TAIPEI_OFFSET_S)               -- read from C, not typed in Lua
    assert.are.equal(0, tonumber(time.from_taipei(1970, 1, 1, 8, 0, 0)))
    local ns = ev.tpe(2026, 11, 25, 15, 30, 1, 250000)              -- a Wednesday, TAIFEX night session
    assert.are.equal(ns, time.from_taipei(2026, 11, 25, 15, 30, 1.25))
    local t = time.taipei(ns)
    assert.are.same({ 2026, 11, 25, 15, 30, 1, 250000, 4, 930 },
                    { t.year, t.month, t.day, t.hour, t.min, t.sec, t.usec, t.wday, t.day_minute })
    assert.are.equal("2026-11-25", t.date)
    assert.are.equal("2026-11-26", t.trading_day)                    -- the night belongs to the next day
    assert.are.equal("2026-11-25 15:30:01.250000", time.text(ns))
    assert.are.equal("2026-11-25", time.date(ns))
    assert.are.equal(t.trading_day, time.trading_day(ns))
    assert.are.equal(1, time.taipei(ev.tpe(2026, 11, 29, 10, 0, 0)).wday) -- Sunday
  end)
end)
