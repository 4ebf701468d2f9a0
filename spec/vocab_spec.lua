-- vocab_spec — the market vocabulary reaches Lua from core/ through the FFI
-- (contract.h ctr_*, names.h nm_*, clock.h clk_*), and no script retypes it.
local ffi = require "ffi"
local C = require("shijim.ffi").C
local broker_sim = require "shijim.broker_sim"
local strategy = require "shijim.strategy"
local report = require "shijim.report"

local buf = ffi.new("char[32]")
local function resolve(date, code)
  local rc = C.ctr_resolve_alias(date, code, buf)
  return ffi.string(buf), rc
end

describe("contract codes through the FFI", function()
  it("knows R1/R2 aliases of three-letter roots only", function()
    assert.are.equal(1, C.ctr_is_alias("TXFR1"))
    assert.are.equal(1, C.ctr_is_alias("MXFR2"))
    assert.are.equal(0, C.ctr_is_alias("TXFR3"))
    assert.are.equal(0, C.ctr_is_alias("ABCDR1"))
    assert.are.equal(0, C.ctr_is_alias("00632R"))
  end)

  it("rolls the alias on the delivery date (Sinopac: TXFR1 is TXFF6 on 2026/05/20)", function()
    assert.are.same({ "TXFE6", 1 }, { resolve("2026-05-19", "TXFR1") })
    assert.are.same({ "TXFF6", 1 }, { resolve("2026-05-20", "TXFR1") })
    assert.are.same({ "TXFA7", 1 }, { resolve("2026-11-25", "TXFR2") })
    assert.are.same({ "2330", 0 }, { resolve("2026-11-25", "2330") })
    assert.are.same({ "TXFR1", -1 }, { resolve("2026-13-01", "TXFR1") })
  end)

  it("gives broker_sim and the strategy engine the same products and shapes", function()
    assert.are.equal("TXF", broker_sim.product_of("TXFR1"))
    assert.are.equal("TXF", broker_sim.product_of("TXFL6"))
    assert.are.equal("TXO", broker_sim.product_of("TXO23000L6"))
    assert.are.equal("2330", broker_sim.product_of("2330"))
    assert.are.equal("TXFR9", broker_sim.product_of("TXFR9")) -- not an alias
    assert.is_true(broker_sim.is_future_code("TXFR2"))
    assert.is_false(broker_sim.is_future_code("TXFR3"))
    assert.is_true(broker_sim.is_option_code("TXO32400E6"))
  end)
end)

describe("names and clock through the FFI", function()
  it("maps enum values to names and back", function()
    assert.are.equal("bidask", ffi.string(C.nm_kind(C.SHJ_KIND_BIDASK)))
    assert.are.equal(C.SHJ_KIND_QUOTE, C.nm_kind_of("quote", 5))
    assert.are.equal("TAIFEX", ffi.string(C.nm_exchange(C.SHJ_EX_TAIFEX)))
    assert.are.equal(C.SHJ_SEC_OPT, C.nm_sec_type_of("opt", 3))
    assert.are.equal(-1, C.nm_exchange_of("NYSE", 4))
    local shijim = require "shijim"
    assert.are.equal(C.SHJ_KIND_BAR, shijim.KIND.bar)
    assert.are.equal("gap", ffi.string(C.nm_status(shijim.STATUS.gap)))
    assert.are.equal(C.SHJ_FLAG_ODDLOT, shijim.FLAG.odd_lot)
  end)

  it("formats Taipei time once, for every script", function()
    local t0 = ffi.new("int64_t", 1795568400) * 1000000000 + 1234567 -- 2026-11-25 09:00 Taipei
    assert.are.equal("2026-11-25 09:00:00.001234", ffi.string(C.clk_taipei_text(t0, buf)))
    assert.are.equal("2026-11-25 09:00:00.001234", strategy.taipei(t0))
    assert.are.equal("2026-11-25 09:00:00", report.taipei(t0))
    local d = C.clk_taipei_day(t0)
    assert.are.equal("2026-11-25", ffi.string(C.clk_day_text(d, buf)))
    assert.are.equal(d + 1, C.clk_trading_day(t0 + 6 * 3600 * 1000000000LL)) -- 15:00 rolls
  end)
end)

describe("scripts", function()
  -- The facts have one owner in C; a script that types them again drifts.
  local function lua_files()
    local out = {}
    local p = io.popen("find scripts -name '*.lua'")
    for f in p:lines() do out[#out + 1] = f end
    p:close()
    return out
  end

  it("never retype the Taipei offset, the alias rule or enum values", function()
    local bad = {}
    for _, f in ipairs(lua_files()) do
      local n = 0
      for line in io.lines(f) do
        n = n + 1
        local code = line:gsub("%-%-.*$", "")
        if code:find("8%s*%*%s*3600") or code:find("28800")
           or code:find("R%d", 1, true)
           or code:find("%.kind%s*[=~]=%s*%d") or code:find("%.flags%s*%%")
           or code:find("KIND_%u+%s*=%s*%d") or code:find("FLAG_%u+%s*=%s*%d") then
          bad[#bad + 1] = f .. ":" .. n .. ": " .. line
        end
      end
    end
    assert.are.same({}, bad)
  end)
end)
