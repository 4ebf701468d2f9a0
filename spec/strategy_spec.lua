-- strategy_spec — the CTA template and engine: lifecycle, bars, alias routing,
-- no look-ahead, a hand-computed scripted strategy, a never-trading strategy,
-- and the two example strategies on synthetic data.
local ev = require "support.ev"
local strategy = require "shijim.strategy"

local T = ev.units -- TWD -> money units (x SHJ_PRICE_SCALE, from C)
local M1 = 60 * 1e9

describe("strategy engine", function()
  it("calls the hooks in lifecycle order; the last bar comes before stop", function()
    local calls = {}
    local S = strategy.define { name = "trace", codes = { "2330" }, bars = "1m" }
    function S:init() calls[#calls + 1] = "init" end
    function S:start() calls[#calls + 1] = "start" end
    function S:on_tick(e) calls[#calls + 1] = "tick " .. strategy.px(e.close) end
    function S:on_bidask() calls[#calls + 1] = "bidask" end
    function S:on_bar(b) calls[#calls + 1] = "bar " .. b.period_s .. " v" .. b.volume end
    function S:stop() calls[#calls + 1] = "stop" end
    local eng = strategy.engine { strategy = S }
    assert.are.same({ "init" }, calls)
    local t0 = ev.tpe(2026, 11, 25, 9, 0, 5)
    eng:feed(ev.tick("2330", t0, 1000, 2))
    eng:feed(ev.bidask("2330", t0 + 1e9, 995, 1000))
    eng:feed(ev.tick("2317", t0 + 2e9, 100, 1))        -- not a strategy code: ignored
    eng:feed(ev.tick("2330", t0 + M1, 1005, 3))        -- 09:01:05 finishes the 09:00 bar
    eng:finish()
    assert.are.same({ "init", "start", "tick 1000", "bidask", "bar 60 v2", "tick 1005",
                      "bar 60 v3", "stop" }, calls)
  end)

  it("a strategy that never trades has zero PnL and zero costs", function()
    local S = strategy.define { name = "idle", codes = { "2330", "TXFR1" }, bars = "1m,5m" }
    local eng = strategy.engine { strategy = S, broker = { cash = 1000000 } }
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    for i = 1, 3000 do
      eng:feed(ev.tick("2330", t + i * 1e9, 1000 + (i % 7), 1))
      eng:feed(ev.bidask("TXFL6", t + i * 1e9, 23000 + (i % 5), 23001 + (i % 5)))
    end
    local r = eng:finish()
    assert.are.equal(0, r.final - r.initial)
    assert.are.equal(0, r.costs)
    assert.are.equal(0, r.realised)
    assert.are.equal(0, #r.fills)
    assert.are.equal(6000, r.events)
    for _, p in ipairs(r.curve) do assert.are.equal(T(1000000), p.e) end
    local report = require "shijim.report"
    local st = report.compute(r)
    assert.are.equal(0, st.pnl)
    assert.are.equal(0, st.total_return)
    assert.are.equal(0, st.max_drawdown)
    assert.are.equal(0, st.trades)
  end)

  it("fills a bar-close order on the event after the bar, never the bar's own prices", function()
    local S = strategy.define { name = "once", codes = { "2330" }, bars = "1m", params = { qty = 2 } }
    function S:on_bar(b)
      if self:pos() == 0 and #self:open_orders() == 0 then self:buy(self.params.qty) end
    end
    local eng = strategy.engine { strategy = S, broker = { cash = 5000000 } }
    local t = ev.tpe(2026, 11, 25, 9, 0, 0)
    eng:feed(ev.tick("2330", t + 10e9, 1000, 1))
    eng:feed(ev.tick("2330", t + 50e9, 990, 1))
    -- 09:01:00.5 closes the bar; the order placed in on_bar fills on THIS tick (the next event)
    eng:feed(ev.tick("2330", t + M1 + 5e8, 1010, 1))
    local r = eng:finish()
    assert.are.equal(1, #r.fills)
    assert.are.equal(T(1010), r.fills[1].price)
    assert.are.equal(2, r.fills[1].qty)
    -- value 1010 x 2000 = 2,020,000; commission floor(2878.5) = 2878
    assert.are.equal(T(2878), r.commission)
    assert.are.equal(T(5000000 - 2878), r.final) -- marked at 1010: no price move after
  end)

  it("routes an alias to the real contract and trades it (hand-computed PnL)", function()
    local S = strategy.define { name = "script", codes = { "TXFR1" }, bars = "1m" }
    local bars_seen = 0
    function S:on_bar(b)
      bars_seen = bars_seen + 1
      assert.are.equal("TXFL6", strategy.code(b))
      if bars_seen == 1 then self:buy(1) end          -- fills at the next event
      if bars_seen == 3 then self:sell(self:pos()) end
    end
    local eng = strategy.engine { strategy = S, broker = { cash = 1000000 } }
    local t = ev.tpe(2026, 11, 25, 8, 45, 0)
    eng:feed(ev.tick("TXFL6", t + 1e9, 23000, 1))      -- bar 08:45
    eng:feed(ev.bidask("TXFL6", t + M1 + 1e9, 23004, 23005)) -- closes bar 1 -> buy at ask 23005
    eng:feed(ev.tick("TXFL6", t + M1 + 2e9, 23010, 1)) -- bar 08:46
    eng:feed(ev.tick("TXFL6", t + 2 * M1 + 1e9, 23020, 1)) -- bar 08:47 (closes bar 2)
    eng:feed(ev.tick("TXFL6", t + 3 * M1 + 1e9, 23040, 1)) -- closes bar 3 -> sell here at 23040
    local r = eng:finish()
    assert.are.equal(2, #r.fills)
    assert.are.equal("TXFL6", r.fills[1].code)
    assert.are.equal(T(23005), r.fills[1].price)
    assert.are.equal(T(23040), r.fills[2].price)
    -- realised (23040 - 23005) x 200 = 7000
    -- fees 50 + 50; tax round(4,601,000 x 0.00002 = 92.02) = 92, round(4,608,000 x 0.00002 = 92.16) = 92
    assert.are.equal(T(7000), r.realised)
    assert.are.equal(T(100), r.fee)
    assert.are.equal(T(184), r.tax)
    assert.are.equal(T(1000000 + 7000 - 284), r.final)
    assert.are.equal(1, #r.roundtrips)
  end)

  it("rolls a position on the alias into the next month when the feed moves on (hand-computed)", function()
    local S = strategy.define { name = "holder", codes = { "TXFR1" }, bars = "1m" }
    local seen_pos, trades = {}, {}
    function S:on_tick(e)
      if self:pos() == 0 and #trades == 0 then self:short(2) end
      seen_pos[#seen_pos + 1] = self:pos()
    end
    function S:on_trade(f) trades[#trades + 1] = f.tag or "own" end
    local eng = strategy.engine { strategy = S, broker = { cash = 2000000 } }
    local d1 = ev.tpe(2026, 12, 16, 9, 0, 0)           -- expiry day of TXFL6
    local d2 = ev.tpe(2026, 12, 17, 8, 45, 0)          -- TXFR1 is TXFA7 from here
    eng:feed(ev.tick("TXFL6", d1, 23000, 1))           -- short 2 placed
    eng:feed(ev.tick("TXFL6", d1 + 1e9, 23010, 1))     -- fills at 23010
    eng:feed(ev.tick("TXFL6", d1 + 2e9, 22990, 1))     -- last price of TXFL6: 22990
    eng:feed(ev.bidask("TXFA7", d2, 23050, 23052))     -- roll: cover TXFL6 at 22990, short TXFA7 at bid 23050
    eng:feed(ev.tick("TXFA7", d2 + 1e9, 23040, 1))
    local r = eng:finish()
    assert.are.same({ "own", "roll", "roll" }, trades)
    assert.are.same({ 0, -2, -2, -2 }, seen_pos)        -- never flat after the roll
    assert.are.equal(0, r.positions["TXFL6"])
    assert.are.equal(-2, r.positions["TXFA7"])
    assert.are.equal(1, r.rolls)
    assert.are.equal("cover", r.fills[2].action)
    assert.are.equal(T(22990), r.fills[2].price)
    assert.are.equal("short", r.fills[3].action)
    assert.are.equal(T(23050), r.fills[3].price)
    -- realised on TXFL6: (22990 - 23010) x 2 x 200 x (-1) = 8,000
    -- fees 3 fills x 2 contracts x 50 = 300
    -- taxes: 9,204,000 x 0.002% = 184.08 -> 184; 9,196,000 -> 183.92 -> 184; 9,220,000 -> 184.4 -> 184
    assert.are.equal(T(8000), r.realised)
    assert.are.equal(T(300), r.fee)
    assert.are.equal(T(552), r.tax)
    -- unrealised on TXFA7 at 23040: (23040 - 23050) x (-2) x 200 = 4,000
    assert.are.equal(T(4000), r.unrealised)
    assert.are.equal(T(2000000 + 8000 - 852 + 4000), r.final)
    -- roll = false: the position stays in the expired contract
    local eng2 = strategy.engine { strategy = strategy.define { name = "h2", codes = { "TXFR1" }, bars = "1m" },
                                   roll = false }
    eng2.broker:submit { code = "TXFL6", action = "buy", qty = 1, born = 0 }
    eng2:feed(ev.tick("TXFL6", d1, 23000, 1))
    eng2:feed(ev.tick("TXFA7", d2, 23100, 1))
    local r2 = eng2:finish()
    assert.are.equal(1, r2.positions["TXFL6"])
    assert.are.equal(0, r2.rolls)
  end)

  it("merges parameter overrides and rejects unknown ones", function()
    local S = strategy.define { name = "p", codes = { "2330" }, params = { n = 5, on = true, tag = "a" } }
    local eng = strategy.engine { strategy = S, params = { n = 7 } }
    assert.are.equal(7, eng.strategy.params.n)
    assert.are.equal(true, eng.strategy.params.on)
    assert.has_error(function() strategy.engine { strategy = S, params = { zz = 1 } } end)
    assert.are.equal(3, strategy.coerce(S, "n", "3"))
    assert.are.equal(false, strategy.coerce(S, "on", "false"))
    assert.has_error(function() strategy.coerce(S, "n", "x") end)
    assert.has_error(function() strategy.engine { strategy = S, bars = "7q" } end)
  end)

  it("keeps the per-event path JIT-compiled (no NYI in feed, broker, indicators)", function()
    local ffi = require "ffi"
    local jutil = require "jit.util"
    local ind = require "shijim.indicators"
    local S = strategy.define { name = "churn", codes = { "TXFR1" }, bars = "15s" }
    function S:init() self.e = ind.ema(10); self.r = ind.rsi(5); self.d = ind.donchian(20); self.n = 0 end
    function S:on_tick(t)
      local px = strategy.px(t.close)
      self.e:update(px); self.r:update(px); self.d:update(px)
      self.n = self.n + 1
      if self.n % 50 == 0 then
        if self:pos() == 0 then self:buy(1) else self:sell(self:pos()) end
      end
    end
    local eng = strategy.engine { strategy = S }
    -- the functions every event goes through
    local hot = { [eng.feed] = "Engine:feed", [eng.broker.on_event] = "Broker:on_event",
                  [getmetatable(ind.ema(2)).update] = "ema", [getmetatable(ind.rsi(2)).update] = "rsi",
                  [getmetatable(ind.donchian(2)).update] = "donchian" }
    for i = 1, 10 do
      local name, fn = debug.getupvalue(eng.broker.on_event, i)
      if name == "match" then hot[fn] = "match" end
    end
    -- Loop-shape aborts ("leaving loop in root trace") only make LuaJIT pick
    -- another trace start; an NYI abort means code that can never compile.
    local traceerr = require("jit.vmdef").traceerr
    local aborts = {}
    local function on_trace(what, _, func, pc, otr, oex)
      if not hot[func] then return end
      if what == "abort" then
        local msg = tostring(traceerr[otr] or otr) .. " " .. tostring(oex)
        if msg:find("NYI") then
          local info = jutil.funcinfo(func, pc)
          aborts[#aborts + 1] = hot[func] .. " line " .. tostring(info.currentline) .. ": " .. msg
        end
      end
    end
    jit.flush()
    jit.attach(on_trace, "trace")
    local evs = ffi.new("shj_event[?]", 1000)
    local t0 = ev.tpe(2026, 11, 25, 8, 45, 0)
    for i = 0, 999 do
      evs[i] = (i % 3 == 0) and ev.tick("TXFL6", t0, 23000 + (i * 7919) % 13, 1)
               or ev.bidask("TXFL6", t0, 22999, 23001)
    end
    local p = ffi.cast("const shj_event *", evs)
    for i = 0, 200000 - 1 do
      evs[i % 1000].ts_exch_ns = t0 + i * 500000
      eng:feed(p + (i % 1000))
    end
    jit.attach(on_trace)
    local r = eng:finish()
    assert.is_true(#r.fills > 1000)
    assert.are.same({}, aborts)
  end)

  it("formats Taipei times from int64 ns", function()
    assert.are.equal("2026-11-25 09:00:01.250000", strategy.taipei(ev.tpe(2026, 11, 25, 9, 0, 1, 250000)))
  end)

  -- Synthetic market: a slow sine wave plus noise, 1 trade per second.
  local function synthetic(code, base, amp, seconds, start)
    local out, seed = {}, 7
    for i = 0, seconds - 1 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local p = base + amp * math.sin(i / 1800) + (seed % 5) - 2
      out[#out + 1] = { code, start + i * 1e9, math.floor(p) }
    end
    return out
  end

  local function run_example(path, code, ticks, opts)
    local eng = strategy.engine { strategy = path, params = opts and opts.params, broker = { cash = 5000000 } }
    for _, t in ipairs(ticks) do eng:feed(ev.tick(t[1], t[2], t[3], 1)) end
    return eng:finish()
  end

  local function consistent(r)
    -- equity = initial + realised + unrealised - costs, exactly
    assert.are.equal(r.initial + r.realised + r.unrealised - r.costs, r.final)
  end

  it("ma_cross trades TXF on 5-minute bars", function()
    local ticks = synthetic("TXFL6", 23000, 150, 5 * 3600, ev.tpe(2026, 11, 25, 8, 45, 0))
    local r = run_example("scripts/strategies/ma_cross.lua", "TXFL6", ticks)
    assert.is_true(#r.fills >= 2, "fills " .. #r.fills)
    assert.are.equal("TXFL6", r.fills[1].code)
    assert.are.equal(T(50) * (#r.fills), r.fee)  -- one contract per fill, 50 TWD each
    consistent(r)
  end)

  it("donchian_breakout trades 2330 on 5-minute bars", function()
    local ticks = synthetic("2330", 1000, 30, 4 * 3600, ev.tpe(2026, 11, 25, 9, 0, 0))
    local r = run_example("scripts/strategies/donchian_breakout.lua", "2330", ticks,
                          { params = { entry_n = 6, exit_n = 3 } })
    assert.is_true(#r.fills >= 2, "fills " .. #r.fills)
    for _, f in ipairs(r.fills) do assert.are.equal(1, f.qty) end
    consistent(r)
  end)
end)
