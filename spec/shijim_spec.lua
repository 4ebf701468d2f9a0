-- The `shijim` Lua API in-process: sources, routing, handlers through the FFI, timers.
local ffi = require "ffi"
local cjson = require "cjson"
local proc = require "support.proc"
local shijim = require "shijim"

-- Taipei -> UTC computed independently of the C runtime (spec/support/ev.lua).
local days_from_civil = require("support.ev").days_from_civil

local function taipei_ns(date, time)
  local y, mo, d = date:match("^(%d+)-(%d+)-(%d+)$")
  local h, mi, s, us = time:match("^(%d+):(%d+):(%d+)%.(%d+)$")
  local secs = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
      + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) - 8 * 3600
  return secs * 1000000000LL + tonumber(us) * 1000LL
end

-- "1025.50" -> "1025.5", "33601" -> "33601"
local function canon(dec)
  if not dec:find("%.") then return dec end
  dec = dec:gsub("0+$", ""):gsub("%.$", "")
  return dec
end

local function dump_records(path)
  local p = io.popen(proc.bin .. " dump " .. path)
  local recs = {}
  for line in p:lines() do
    local r = cjson.decode(line)
    recs[#recs + 1] = r
  end
  p:close()
  return recs
end

describe("shijim Lua API", function()
  local dir
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("delivers every field of every event through the FFI exactly as the payload said", function()
    local src = shijim.source.simulated{ seed = 7, rate = 0, date = "2026-11-25" }
    src:subscribe{ stocks = { "2330", "0050" }, futures = { "TXFR1" }, kinds = { "tick", "bidask" } }
    assert.are.equal("TXFL6", src.resolved["TXFR1"])
    shijim.route(src, require("sinks.raw"){ dir = dir .. "/raw", fsync_ms = 10 })
    local seen = {}
    shijim.on({ "tick", "bidask" }, function(ev)
      local r = { kind = ev:kind_name(), code = ev:symbol(), seq = tonumber(ev.seq), ts = ev.ts_exch_ns,
                  recv = ev.ts_recv_ns, flags = ev.flags }
      if ev.kind == shijim.KIND.tick then
        r.close, r.open, r.high, r.low = ev:dec("close"), ev:dec("open"), ev:dec("high"), ev:dec("low")
        r.volume, r.vol_sum, r.tick_type = ev.volume, tonumber(ev.vol_sum), ev.tick_type
      else
        r.bid, r.ask, r.bidv, r.askv = {}, {}, {}, {}
        for i = 0, 4 do
          r.bid[i + 1], r.ask[i + 1] = shijim.decimal(ev.bid_price[i]), shijim.decimal(ev.ask_price[i])
          r.bidv[i + 1], r.askv[i + 1] = ev.bid_volume[i], ev.ask_volume[i]
        end
      end
      seen[#seen + 1] = r
    end)
    shijim.run{ events = 5000, status_ms = 0 }
    assert.are.equal(5000, #seen)

    local files = {}
    local p = io.popen("ls " .. dir .. "/raw/sim/")
    for f in p:lines() do files[#files + 1] = f end
    p:close()
    assert.are.equal(1, #files)
    local recs = dump_records(dir .. "/raw/sim/" .. files[1])
    assert.are.equal(5000, #recs)
    local byseq = {}
    for _, r in ipairs(recs) do byseq[r.seq] = r end

    local ticks, bidasks = 0, 0
    for _, e in ipairs(seen) do
      local rec = byseq[e.seq]
      assert.is_not_nil(rec, "no archive record for seq " .. e.seq)
      local d = cjson.decode(rec.data)
      assert.are.equal(d.code, e.code)
      assert.are.equal(taipei_ns(d.date, d.time), e.ts)
      if e.kind == "tick" then
        ticks = ticks + 1
        assert.are.equal(canon(d.close), e.close)
        assert.are.equal(canon(d.open), e.open)
        assert.are.equal(canon(d.high), e.high)
        assert.are.equal(canon(d.low), e.low)
        assert.are.equal(d.volume, e.volume)
        assert.are.equal(d.total_volume or d.vol_sum, e.vol_sum) -- Shioaji 1.7.x name, or 1.5.0's
        assert.are.equal(d.tick_type, e.tick_type)
        assert.are.equal(d.simtrade and 1 or 0, bit.band(e.flags, shijim.FLAG.simtrade))
      else
        bidasks = bidasks + 1
        for i = 1, 5 do
          assert.are.equal(canon(d.bid_price[i]), e.bid[i])
          assert.are.equal(canon(d.ask_price[i]), e.ask[i])
          assert.are.equal(d.bid_volume[i], e.bidv[i])
          assert.are.equal(d.ask_volume[i], e.askv[i])
        end
      end
    end
    assert.is_true(ticks > 100 and bidasks > 100)
  end)

  it("filters by kind and code in C and by predicate in Lua", function()
    local src = shijim.source.simulated{ seed = 3, rate = 0, date = "2026-11-25" }
    src:subscribe{ stocks = { "2330", "2317" }, kinds = { "tick", "bidask" } }
    local all_ticks, ticks_2330, big, other = 0, 0, 0, 0
    shijim.on("tick", function() all_ticks = all_ticks + 1 end)
    shijim.on({ kind = "tick", code = "2330" }, function(ev)
      if ev:symbol() ~= "2330" then other = other + 1 end
      ticks_2330 = ticks_2330 + 1
    end)
    shijim.on({ kind = "tick", where = function(ev) return ev.volume >= 10 end }, function(ev)
      if ev.volume < 10 then other = other + 1 end
      big = big + 1
    end)
    shijim.on("bidask", function(ev) if ev.kind ~= shijim.KIND.bidask then other = other + 1 end end)
    shijim.run{ events = 20000, status_ms = 0 }
    assert.are.equal(0, other)
    assert.is_true(ticks_2330 > 0 and ticks_2330 < all_ticks)
    assert.is_true(big > 0 and big < all_ticks)
    assert.are.equal(all_ticks, src:counter("tick"))
  end)

  it("runs timers and stops from a handler or a timer", function()
    local src = shijim.source.simulated{ seed = 1, rate = 1000, date = "2026-11-25" }
    src:subscribe{ stocks = { "2330" } }
    local fired, once = 0, 0
    shijim.every(20, function()
      fired = fired + 1
      if fired == 5 then shijim.stop("enough") end
    end)
    shijim.after(10, function() once = once + 1 end)
    shijim.run{ status_ms = 0 }
    assert.are.equal(5, fired)
    assert.are.equal(1, once)
  end)

  it("rejects bad arguments with clear errors", function()
    local src = shijim.source.simulated{ seed = 1, date = "2026-11-25" }
    assert.has_error(function() src:subscribe{ stocks = { "2330" }, kinds = { "trades" } } end)
    local ok, err = pcall(src.subscribe, src, { stocks = { "2330" }, kinds = { "trades" } })
    assert.is_false(ok)
    assert.truthy(err:find("unknown event kind \"trades\"", 1, true), err)
    ok, err = pcall(shijim.on, "ticks", function() end)
    assert.is_false(ok)
    assert.truthy(err:find("unknown event kind 'ticks'", 1, true), err)
    ok, err = pcall(shijim.route, src, {})
    assert.truthy(err:find("must be a sink", 1, true), err)
    assert.has_error(function() shijim.source.simulated{ date = "2026-13-45" } end)
    -- leave the runtime clean for the next spec
    src:subscribe{ stocks = { "2330" } }
    shijim.run{ events = 10, status_ms = 0 }
  end)
end)
