-- strategy_cli_spec — backtest.lua is loud where a result would mean nothing
-- (issue 13, "Strategies fail silently"): codes without events exit 1 naming
-- the codes and the days recorded; a misspelt hook is warned about; the
-- strategy's self:log reaches the terminal without --verbose; --bars sets the
-- strategy's bar period without --param period_s.
local cjson = require "cjson"
local proc = require "support.proc"

describe("backtest.lua, loud strategies", function()
  local dir

  setup(function()
    dir = proc.tmpdir()
    local rc, _, err = proc.shijim(string.format(
      "run main.lua --events 20000 --rate 0 --seed 3 --date 2026-11-25 --stocks 2330 --futures TXFR1 --dir %s/raw --quiet",
      dir))
    assert.are.equal(0, rc, err)
    proc.write(dir .. "/talk.lua", [[
local strategy = require "shijim.strategy"
local S = strategy.define { name = "talk", codes = { "TXFR1" }, bars = "1m", params = { period_s = 300 } }
function S:start() self:log("first event at", strategy.taipei(self:now_ns()):sub(1, 10)) end
function S:onBar(bar) end
return S
]])
  end)

  teardown(function() os.execute("rm -rf " .. dir) end)

  local function days()
    local p = io.popen("ls " .. dir .. "/raw/sim")
    local out = {}
    for n in p:lines() do out[#out + 1] = n:match("^(.-)%.shjraw$") end
    p:close()
    return out
  end

  it("exits 1 when the requested codes got no events, naming them and the days recorded", function()
    local rc, out, err = proc.shijim(string.format(
      "backtest.lua --strategy ma_cross.lua --codes 2454 --archive-dir %s/raw --out %s/none", dir, dir))
    assert.are.equal(1, rc, err)
    local last = err:match("([^\n]+)\n?$")
    assert.truthy(last:find("no events for 2454", 1, true), err)
    assert.truthy(last:find(dir .. "/raw/sim", 1, true), err)
    local d = days()
    assert.is_true(#d >= 1)
    for _, day in ipairs(d) do assert.truthy(last:find(day, 1, true), "day " .. day .. " not in: " .. err) end
    assert.falsy(err:find("traceback", 1, true), err)
    assert.is_nil(proc.read(dir .. "/none/report.html"))
    assert.are.equal("", out)
  end)

  it("warns about a misspelt hook and prints self:log lines without --verbose", function()
    local rc, out, err = proc.shijim(string.format(
      "backtest.lua --strategy %s/talk.lua --archive-dir %s/raw --out %s/talk", dir, dir, dir))
    assert.are.equal(0, rc, err)
    assert.truthy(err:find("onBar is not a hook and is never called (did you mean on_bar?)", 1, true), err)
    assert.truthy(err:find("talk: first event at 2026-11-2", 1, true), err)
    assert.truthy(err:find("period_s=300 is not one of the bar periods (1m)", 1, true), err)
    assert.truthy(out:find("report:", 1, true), out)
    -- --quiet silences them; orders.log keeps the strategy's lines either way
    rc, out, err = proc.shijim(string.format(
      "backtest.lua --strategy %s/talk.lua --archive-dir %s/raw --out %s/talk2 --quiet", dir, dir, dir))
    assert.are.equal(0, rc, err)
    assert.falsy(err:find("first event at", 1, true), err)
    assert.truthy(proc.read(dir .. "/talk2/orders.log"):find("talk: first event at", 1, true))
  end)

  it("--bars sets the bundled strategy's bar period (no --param period_s)", function()
    local rc, _, err = proc.shijim(string.format(
      "backtest.lua --strategy ma_cross.lua --codes TXFR1 --bars 1m --archive-dir %s/raw --out %s/ma --quiet",
      dir, dir))
    assert.are.equal(0, rc, err)
    local s = cjson.decode(proc.read(dir .. "/ma/summary.json"))
    assert.are.equal(60, s.params.period_s)
    assert.falsy(err:find("period_s", 1, true), err)
  end)
end)
