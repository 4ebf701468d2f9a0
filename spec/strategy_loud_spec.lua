-- strategy_loud_spec — the strategy engine says when a result would be empty
-- for a reason the user can fix (issue 13, "Strategies fail silently"):
-- misspelt hooks, codes without events, no bar at all, a period_s that no bar
-- has; --bars sets the bar period the bundled strategies trade; self:log lines
-- are marked for the terminal.
local ev = require "support.ev"
local strategy = require "shijim.strategy"

local M1 = 60 * 1e9

local function engine(S, opts)
  local warnings = {}
  opts = opts or {}
  opts.strategy = S
  opts.warn = function(msg) warnings[#warnings + 1] = msg end
  local eng = strategy.engine(opts)
  return eng, warnings
end

local function joined(list) return table.concat(list, "\n") end

describe("strategy engine warnings", function()
  it("names a misspelt hook and the closest valid one", function()
    local cases = { onBar = "on_bar", on_bars = "on_bar", onTick = "on_tick", ontrade = "on_trade",
                    strat = "start", on_fill = nil, stopp = "stop" }
    for name, want in pairs(cases) do
      local S = strategy.define { name = "typo", codes = { "2330" } }
      S[name] = function() end
      local _, warnings = engine(S)
      assert.are.equal(1, #warnings, name .. ": " .. joined(warnings))
      assert.truthy(warnings[1]:find(name .. " is not a hook", 1, true), warnings[1])
      if want then assert.truthy(warnings[1]:find("did you mean " .. want .. "?", 1, true), warnings[1]) end
    end
  end)

  it("does not warn about helper methods or the real hooks", function()
    local S = strategy.define { name = "clean", codes = { "2330" } }
    function S:on_bar() end
    function S:on_tick() end
    function S:enter_long() end
    function S:exit() end
    function S:stop_loss() end
    local _, warnings = engine(S)
    assert.are.same({}, warnings)
  end)

  it("warns about codes that received no event and lists them in the result", function()
    local S = strategy.define { name = "two", codes = { "2330", "2454" }, bars = "1m" }
    local eng, warnings = engine(S)
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    for i = 1, 130 do eng:feed(ev.tick("2330", t + i * 1e9, 1000, 1)) end
    local r = eng:finish()
    assert.are.same({ "2454" }, r.no_events)
    assert.are.equal(1, #warnings, joined(warnings))
    assert.truthy(warnings[1]:find("no events for 2454", 1, true), warnings[1])
  end)

  it("reports every code without events when nothing arrived (backtest.lua then exits 1)", function()
    local S = strategy.define { name = "none", codes = { "2454", "TXFR1" } }
    local eng = engine(S)
    local r = eng:finish()
    assert.are.equal(0, r.events)
    assert.are.same({ "2454", "TXFR1" }, r.no_events)
  end)

  it("warns when a strategy with on_bar never got a whole bar, and not when it did", function()
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    local function run(bars, seconds, with_on_bar)
      local S = strategy.define { name = "slow", codes = { "2330" }, bars = bars }
      if with_on_bar then function S:on_bar() end end
      local eng, warnings = engine(S)
      for i = 1, seconds do eng:feed(ev.tick("2330", t + i * 1e9, 1000, 1)) end
      eng:finish()
      return joined(warnings)
    end
    local w = run("1h", 120, true)
    assert.truthy(w:find("never got a bar: 120 events", 1, true), w)
    assert.truthy(w:find("whole bar of 1h", 1, true), w)
    assert.are.equal("", run("1m", 130, true))  -- two whole minute bars
    assert.are.equal("", run("1h", 120, false)) -- no on_bar: a tick strategy, bars do not matter
  end)
end)

describe("--bars and the strategy's bar period", function()
  local function trending_minutes(eng, code, n)
    -- n minutes of one trade a second: up for a third, down, then up again
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    local p = 1000
    for s = 1, n * 60 do
      local m = math.floor(s / 60)
      p = p + ((m % 24 < 8 or m % 24 >= 16) and 0.05 or -0.05)
      eng:feed(ev.tick(code, t + s * 1e9, math.floor(p * 100 + 0.5) / 100, 1))
    end
  end

  it("a --bars override sets period_s (self.period_s and an unset period_s parameter)", function()
    local S = strategy.load("scripts/strategies/ma_cross.lua")
    local eng, warnings = engine(S, { bars = "1m", params = { fast = 2, slow = 4 }, codes = { "2330" },
                                      broker = { cash = 1e9 } })
    assert.are.equal(60, eng.strategy.params.period_s)
    assert.are.equal(60, eng.strategy.period_s)
    trending_minutes(eng, "2330", 60)
    local r = eng:finish()
    assert.is_true(#r.fills >= 2, "fills: " .. #r.fills)
    assert.are.same({}, warnings)
  end)

  it("an explicit period_s that no bar has is warned about", function()
    local S = strategy.load("scripts/strategies/ma_cross.lua")
    local eng, warnings = engine(S, { bars = "1m", params = { period_s = 300 }, codes = { "2330" } })
    assert.are.equal(300, eng.strategy.params.period_s)
    assert.truthy(joined(warnings):find("period_s=300 is not one of the bar periods (1m)", 1, true), joined(warnings))
  end)

  it("without --bars the strategy's own bars and period_s stand", function()
    local S = strategy.load("scripts/strategies/donchian_breakout.lua")
    local eng, warnings = engine(S)
    assert.are.equal(300, eng.strategy.params.period_s)
    assert.are.equal(300, eng.strategy.period_s)
    assert.are.same({}, warnings)
  end)

  it("periods() parses like the bar builder and refuses what it refuses", function()
    assert.are.same({ 15, 60, 3600, 86400 }, strategy.periods("15s,1m,1h,D"))
    local p, err = strategy.periods("7q")
    assert.is_nil(p)
    assert.truthy(err:find("7q", 1, true), err)
  end)
end)

describe("self:log", function()
  it("marks the strategy's own lines loud (shown on the terminal), order lines not", function()
    local S = strategy.define { name = "talk", codes = { "2330" }, bars = "1m" }
    function S:start() self:log("hello", 42) end
    function S:on_tick() if self:pos() == 0 and #self:open_orders() == 0 then self:buy(1) end end
    local lines = {}
    local eng = strategy.engine { strategy = S, broker = { cash = 1e9 }, warn = function() end,
                                  log = function(line, loud) lines[#lines + 1] = { line, loud == true } end }
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    eng:feed(ev.tick("2330", t + 1e9, 1000, 1))
    eng:feed(ev.tick("2330", t + 2e9, 1000, 1))
    eng:finish()
    local loud, quiet = {}, 0
    for _, l in ipairs(lines) do if l[2] then loud[#loud + 1] = l[1] else quiet = quiet + 1 end end
    assert.are.equal(1, #loud)
    assert.truthy(loud[1]:find("talk: hello 42", 1, true), loud[1])
    assert.is_true(quiet >= 2, "order and fill lines: " .. quiet)
  end)
end)
