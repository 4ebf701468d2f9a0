-- backtest_spec — `shijim backtest.lua` end to end, and the same strategy file in
-- paper mode.
--
-- Records five minutes (exchange time) of the simulated market into a raw
-- archive, backtests scripts/strategies/ma_cross.lua on it (15-second bars so
-- that five minutes hold enough bars to trade), then paper-trades the SAME
-- file on the simulated market with the same seed, date and instruments. The
-- replayed events are the live events, so both runs must make exactly the
-- same orders and fills, and their reports the same numbers.
local cjson = require "cjson"
local proc = require "support.proc"
local sffi = require "shijim.ffi"

local EVENTS = 600000 -- 5 minutes of exchange time at the simulator's 2000 events/s
local STRAT = "scripts/strategies/ma_cross.lua"
local COMMON = "--codes TXFR1,2330 --bars 15s --param period_s=15,fast=2,slow=5 --quiet"

local function csv_rows(text)
  local rows = {}
  for line in text:gmatch("[^\n]+") do
    local r = {}
    for f in (line .. ","):gmatch("([^,]*),") do r[#r + 1] = f end
    rows[#rows + 1] = r
  end
  return rows
end

-- "123.45" -> integer money units, 1 / SCALE TWD (exact, no float parsing of money)
local SCALE, DECIMALS = sffi.PRICE_SCALE, sffi.PRICE_DECIMALS
local function units(dec)
  local neg, w, f = dec:match("^(%-?)(%d+)%.?(%d*)$")
  assert(w, "not a decimal: " .. dec)
  assert(#f <= DECIMALS, "more decimals than the scale holds: " .. dec)
  local v = tonumber(w) * SCALE + tonumber((f .. string.rep("0", DECIMALS)):sub(1, DECIMALS))
  return neg == "-" and -v or v
end

describe("backtest.lua", function()
  local dir

  setup(function()
    dir = proc.tmpdir()
    local rc, _, err = proc.shijim(string.format(
      "run main.lua --events %d --rate 0 --seed 42 --date 2026-11-25 --stocks 2330 --futures TXFR1 " ..
      "--dir %s/raw --quiet", EVENTS, dir))
    assert.are.equal(0, rc, err)
  end)

  teardown(function() os.execute("rm -rf " .. dir) end)

  it("prints help and rejects bad options", function()
    local rc, out = proc.shijim("backtest.lua --help")
    assert.are.equal(0, rc)
    assert.matches("--strategy", out, 1, true)
    assert.matches("--paper", out, 1, true)
    rc = proc.shijim("backtest.lua --strategy " .. STRAT .. " --nonsense")
    assert.are.equal(2, rc)
    rc = proc.shijim("backtest.lua --strategy " .. STRAT .. " --param nope=1 --archive-dir " .. dir .. "/raw")
    assert.are_not.equal(0, rc)
  end)

  it("backtests and paper-trades one strategy file with identical results", function()
    local bt, pp = dir .. "/bt", dir .. "/paper"
    local rc, _, err = proc.shijim(string.format("backtest.lua --strategy %s %s --archive-dir %s/raw --out %s",
      STRAT, COMMON, dir, bt))
    assert.are.equal(0, rc, err)
    rc, _, err = proc.shijim(string.format(
      "backtest.lua --strategy %s %s --paper --rate 0 --events %d --seed 42 --date 2026-11-25 --out %s",
      STRAT, COMMON, EVENTS, pp))
    assert.are.equal(0, rc, err)
    assert.matches("[paper ", err, 1, true)   -- paper mode logs orders and fills
    assert.matches("fill #1", err, 1, true)

    local sb = cjson.decode(proc.read(bt .. "/summary.json"))
    local sp = cjson.decode(proc.read(pp .. "/summary.json"))
    assert.are.equal("backtest", sb.mode)
    assert.are.equal("paper", sp.mode)
    assert.are.equal(EVENTS, sb.events)
    assert.is_true(sb.fills >= 2, "the strategy should trade on this data")
    for _, k in ipairs { "events", "fills", "orders", "trades", "pnl", "final", "costs", "fee", "tax",
                         "realised", "unrealised", "turnover_value", "max_drawdown_money" } do
      assert.are.equal(sb[k], sp[k], k)
    end
    local tb, tp = proc.read(bt .. "/trades.csv"), proc.read(pp .. "/trades.csv")
    assert.are.equal(tb, tp)
    local function strip(log) return (log:gsub("%[%a+ ", "[")) end
    assert.are.equal(strip(proc.read(bt .. "/orders.log")), strip(proc.read(pp .. "/orders.log")))

    -- the report agrees with its own fills, to the unit
    local rows = csv_rows(tb)
    assert.are.same({ "fill", "time_taipei", "code", "action", "qty", "price", "value", "commission",
                      "fee", "tax", "realised" }, { unpack(rows[1], 1, 11) })
    local realised, fees, tax = 0, 0, 0
    for i = 2, #rows do
      local r = rows[i]
      assert.are.equal("TXFL6", r[3])                  -- TXFR1 traded as the real contract
      assert.are.equal(units(r[6]) * 200 * tonumber(r[5]), units(r[7])) -- value = price x 200 x qty
      assert.are.equal(50 * SCALE * tonumber(r[5]), units(r[9]))        -- 50 TWD per contract
      realised = realised + units(r[11])
      fees = fees + units(r[8]) + units(r[9])
      tax = tax + units(r[10])
    end
    assert.are.equal(units(sb.realised), realised)
    assert.are.equal(units(sb.costs), fees + tax)
    assert.are.equal(units(sb.tax), tax)
    assert.are.equal(units(sb.final), units(sb.initial) + units(sb.realised) + units(sb.unrealised) - units(sb.costs))
    assert.are.equal(units(sb.pnl), units(sb.final) - units(sb.initial))

    local html = proc.read(bt .. "/report.html")
    assert.matches("<svg", html, 1, true)
    assert.matches("ma_cross", html, 1, true)
    assert.matches('id="chart-price"', html, 1, true)
    assert.matches('class="marker ', html, 1, true)       -- fills drawn on the price chart
    assert.matches("Buy &amp; hold TXFR1", html, 1, true) -- the benchmark was recorded

    -- equity.csv: one row per equity sample plus the capital; the last is the final equity
    local eq = csv_rows(proc.read(bt .. "/equity.csv"))
    assert.are.same({ "time_taipei", "trading_day", "equity", "peak", "drawdown", "drawdown_pct", "price" }, eq[1])
    assert.are.equal(units(sb.initial), units(eq[2][3]))
    assert.are.equal(units(sb.final), units(eq[#eq][3]))
    local maxdd = 0
    for i = 2, #eq do
      assert.are.equal(units(eq[i][3]) - units(eq[i][4]), units(eq[i][5])) -- drawdown = equity - peak, exact
      if -units(eq[i][5]) > maxdd then maxdd = -units(eq[i][5]) end
    end
    assert.are.equal(units(sb.max_drawdown_money), maxdd)
    -- daily.csv: the daily PnL adds up to the net PnL, to the unit
    local dl = csv_rows(proc.read(bt .. "/daily.csv"))
    assert.are.same({ "trading_day", "equity", "pnl", "return_pct", "cum_return_pct" }, dl[1])
    local sum = 0
    for i = 2, #dl do sum = sum + units(dl[i][3]) end
    assert.are.equal(units(sb.pnl), sum)
    assert.are.equal(sb.days, #dl - 1)
  end)

  it("--sweep runs every combination on worker processes and draws a heatmap", function()
    local sw = dir .. "/sweep"
    local rc, out, err = proc.shijim(string.format(
      "backtest.lua --strategy %s --codes TXFR1 --bars 15s --param period_s=15 --archive-dir %s/raw " ..
      "--sweep fast=2..3,slow=5..6 --metric pnl --jobs 2 --out %s", STRAT, dir, sw))
    assert.are.equal(0, rc, err)
    assert.matches("sweep: 4 of 4 runs succeeded", out, 1, true)
    local html = proc.read(sw .. "/sweep.html")
    assert.matches('id="chart-sweep"', html, 1, true)
    local cells = 0
    for _ in html:gmatch('<rect class="cell"') do cells = cells + 1 end
    assert.are.equal(4, cells) -- net PnL has a value in every cell (1 trading day: Sharpe would be n/a)
    for _, label in ipairs { "fast=2,slow=5", "fast=2,slow=6", "fast=3,slow=5", "fast=3,slow=6" } do
      assert.matches('data-label="' .. label .. '"', html, 1, true)
    end
    -- each combination is a full backtest of its own, with the swept parameters
    local rows = csv_rows(proc.read(sw .. "/sweep.csv"))
    assert.are.equal(5, #rows)
    local events
    for i = 2, 5 do
      assert.are.equal("0", rows[i][4])
      local s = cjson.decode(proc.read(string.format("%s/runs/%03d/summary.json", sw, i - 1)))
      assert.are.equal(tonumber(rows[i][2]), s.params.fast)
      assert.are.equal(tonumber(rows[i][3]), s.params.slow)
      assert.are.equal(15, s.params.period_s)
      events = events or s.events
      assert.are.equal(events, s.events) -- every run saw the same data
      assert.is_true(s.events > 0)
    end
    -- a bad grid is a usage error before any run
    rc, _, err = proc.shijim("backtest.lua --strategy " .. STRAT .. " --archive-dir " .. dir ..
                             "/raw --sweep nope=1..2 --out " .. dir .. "/bad")
    assert.are.equal(2, rc)
    assert.matches("unknown parameter nope", err, 1, true)
  end)

  it("replays through the Lua API and publishes bars on the bus", function()
    local script = dir .. "/bars.lua"
    proc.write(script, [[
local shijim = require "shijim"
local strategy = require "shijim.strategy"
local dir = ...
local src = shijim.source.replay { dir = dir, source = "sim", codes = { "TXFR1" }, progress = false }
strategy.publish_bars("1m,15s")
local bars, ticks, vol, last_end = 0, 0, 0, nil
local ordered = true
shijim.on("bar", function(b)
  bars = bars + 1
  if b.period_s == 60 then vol = vol + b.volume end
  if last_end and b.period_s == 60 and b.ts_exch_ns < last_end then ordered = false end
  if b.period_s == 60 then last_end = b.ts_exch_ns end
end)
shijim.on("tick", function(ev) if not ev:is("simtrade") then ticks = ticks + ev.volume end end)
shijim.run { status_ms = 0 }
local st = src:stats()
print(string.format("bars=%d vol=%d tickvol=%d ordered=%s done=%s delivered=%d",
  bars, vol, ticks, tostring(ordered), tostring(st.done), st.delivered))
]])
    local rc, out, err = proc.shijim("run " .. script .. " " .. dir .. "/raw")
    assert.are.equal(0, rc, err)
    local bars, vol, tickvol = out:match("bars=(%d+) vol=(%d+) tickvol=(%d+) ordered=true done=true")
    assert.is_not_nil(bars, out)
    -- five minutes of TXF: 1-minute and 15-second bars, the last ones flushed at the end
    assert.is_true(tonumber(bars) >= 5 * 5, out)
    assert.are.equal(tickvol, vol)   -- every traded lot is in exactly one 1-minute bar
  end)

  it("a strategy that never trades: zero PnL, zero costs, over the whole recording", function()
    local idle = dir .. "/idle.lua"
    proc.write(idle, [[
local strategy = require "shijim.strategy"
local S = strategy.define { name = "idle", codes = { "TXFR1", "2330" }, bars = "1m" }
local bars = 0
function S:on_bar() bars = bars + 1 end
function S:stop() self:log("bars", bars) end
return S
]])
    local out = dir .. "/idle"
    local rc, _, err = proc.shijim(string.format("backtest.lua --strategy %s --archive-dir %s/raw --out %s --verbose --quiet",
      idle, dir, out))
    assert.are.equal(0, rc, err)
    local s = cjson.decode(proc.read(out .. "/summary.json"))
    assert.are.equal("0.00", s.pnl)
    assert.are.equal("0.00", s.costs)
    assert.are.equal(0, s.fills)
    assert.are.equal(0, s.trades)
    assert.are.equal(EVENTS, s.events)
    assert.matches("idle: bars %d+", err)
  end)
end)
