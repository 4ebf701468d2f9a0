-- spec/schedule_spec.lua — main.lua --schedule (issue 12, part 6).
-- 1. scripts/shijim/schedule.lua driven by a fake clock that jumps to each
--    change the schedule announces: subscribe/unsubscribe at the right
--    Taipei times, the night session across midnight, a weekend skipped, a
--    holiday skipped (the compiled-in calendar and a --holidays file).
-- 2. The real binary: `shijim run main.lua --schedule taifex --fake-clock`
--    opens and closes its subscriptions at the fake clock's Taipei times.
-- Hours come from core/session (ses_sched_*), pinned in tests/test_session.c
-- against Sinopac's notes (/work/sinopac/MARKET_DATA.md:474-475, 674-676,
-- TROUBLESHOOTING.md:579).
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local shijim = require "shijim"
local schedule = require "shijim.schedule"
local proc = require "support.proc"
local C = sffi.C

local function T(text) return (assert(schedule.parse_taipei(shijim, text), text)) end

-- Run the schedule from start to stop on a fake clock that jumps to each
-- announced change (what the loop's timer does, without waiting).
local function simulate(which, start, stop, lead, lag)
  local now = T(start)
  local log = {}
  local s = schedule.new{
    which = which, lead_s = lead, lag_s = lag,
    now = function() return now end,
    open = function(g, t) log[#log + 1] = schedule.taipei(t):sub(1, 16) .. " open " .. g end,
    close = function(g, t) log[#log + 1] = schedule.taipei(t):sub(1, 16) .. " close " .. g end,
  }
  local limit = T(stop)
  for _ = 1, 100 do
    local nxt = s:step()
    if not nxt or nxt > limit then break end
    now = nxt
  end
  return log
end

describe("market-hours schedule (fake clock)", function()
  it("runs the TAIFEX night session across midnight and skips the weekend", function()
    -- 2026-12-04 is a Friday; 12-05/06 the weekend; 12-07 a Monday
    local log = simulate("taifex", "2026-12-03 12:00", "2026-12-07 12:00", 600, 300)
    assert.are.same({
      "2026-12-03 13:50 close futures",   -- opened at the start (inside the day session)
      "2026-12-03 14:50 open futures",    -- night session 15:00, 10 min early
      "2026-12-04 05:05 close futures",   -- past midnight, 5 min after 05:00
      "2026-12-04 08:35 open futures",
      "2026-12-04 13:50 close futures",
      "2026-12-04 14:50 open futures",    -- Friday night ...
      "2026-12-05 05:05 close futures",   -- ... ends Saturday morning
      "2026-12-07 08:35 open futures",    -- nothing on the weekend
    }, { select(2, unpack(log)) })
    assert.are.equal("2026-12-03 12:00 open futures", log[1])
  end)

  it("skips a holiday from the calendar (2026-12-25, Constitution Day) and keeps stocks to TWSE hours", function()
    local log = simulate("all", "2026-12-24 06:00", "2026-12-28 12:00", 600, 300)
    assert.are.same({
      "2026-12-24 08:20 open stocks",     -- 08:30 pre-open, 10 min early
      "2026-12-24 08:35 open futures",
      "2026-12-24 13:35 close stocks",
      "2026-12-24 13:50 close futures",
      "2026-12-24 14:50 open futures",    -- Thursday's night session runs ...
      "2026-12-25 05:05 close futures",   -- ... into the holiday morning
      "2026-12-28 08:20 open stocks",     -- holiday + weekend skipped
      "2026-12-28 08:35 open futures",
    }, log)
  end)

  it("follows a --holidays file (a Monday made a holiday)", function()
    local dir = proc.tmpdir()
    proc.write(dir .. "/h.txt", "# test calendar\n2026-12-07  made up\n")
    assert.are.equal(0, C.ses_holidays_load(dir .. "/h.txt", sffi.errbuf, sffi.ERRLEN), sffi.errtext())
    local ok, log = pcall(simulate, "twse", "2026-12-04 12:00", "2026-12-09 00:00", 0, 0)
    C.ses_holidays_load(nil, sffi.errbuf, sffi.ERRLEN) -- back to the compiled-in calendar
    os.execute("rm -rf " .. dir)
    assert(ok, log)
    assert.are.same({
      "2026-12-04 12:00 open stocks",
      "2026-12-04 13:30 close stocks",
      "2026-12-08 08:30 open stocks",     -- Monday 12-07 is a holiday in this file
      "2026-12-08 13:30 close stocks",
    }, log)
    -- a bad file is refused with its file:line, the calendar unchanged
    dir = proc.tmpdir()
    proc.write(dir .. "/bad.txt", "2026-12-07\n2026-13-01\n")
    assert.are.equal(-1, C.ses_holidays_load(dir .. "/bad.txt", sffi.errbuf, sffi.ERRLEN))
    assert.truthy(sffi.errtext():find("bad.txt:2:", 1, true), sffi.errtext())
    os.execute("rm -rf " .. dir)
    local monday = C.clk_taipei_day(T("2026-12-07 10:00"))
    assert.are.equal(1, tonumber(C.ses_is_trading_day(monday)))
  end)

  it("refuses an unknown market and margins beyond 6 h", function()
    local f = function() end
    assert.has_error(function() schedule.new{ which = "nyse", open = f, close = f } end)
    assert.has_error(function() schedule.new{ which = "all", lead_s = 7 * 3600, open = f, close = f } end)
  end)
end)

describe("shijim run main.lua --schedule", function()
  it("subscribes and unsubscribes at the fake clock's Taipei times and records only then", function()
    local dir = proc.tmpdir()
    -- Friday 13:40 Taipei, 600x: 13:45 close (lag 0), 15:00 night open
    -- (lead 60 s: 14:59) arrive after ~0.5 s and ~8 s of real time.
    local rc, so, se = proc.shijim(string.format(
      "run main.lua --schedule taifex --schedule-lead 60 --schedule-lag 0 --fake-clock '2026-12-04 13:40' "
      .. "--fake-speed 600 --duration 10 --rate 2000 --status-every 0 --quiet --dir %s/raw", dir))
    os.execute("rm -rf " .. dir)
    local out = (so or "") .. (se or "")
    assert.are.equal(0, rc, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do
      if l:find("schedule: futures", 1, true) then lines[#lines + 1] = l end
    end
    assert.are.equal(3, #lines, out)
    assert.truthy(lines[1]:find("futures open at 2026-12-04 13:40", 1, true), lines[1])
    assert.truthy(lines[2]:find("futures closed at 2026-12-04 13:45", 1, true), lines[2])
    assert.truthy(lines[3]:find("futures open at 2026-12-04 14:59", 1, true), lines[3])
    assert.truthy(lines[1]:find("TXFR1", 1, true), lines[1])
    assert.falsy(out:find("subscribed 2330", 1, true), "stocks are TWSE's, not scheduled here")
  end)

  it("starts on a weekend with nothing subscribed and sleeps until Monday's pre-open", function()
    local dir = proc.tmpdir()
    local rc, so, se = proc.shijim(string.format(
      "run main.lua --schedule all --fake-clock '2026-12-05 10:00' --duration 2 --status-every 0 --quiet --dir %s/raw", dir))
    os.execute("rm -rf " .. dir)
    local out = (so or "") .. (se or "")
    assert.are.equal(0, rc, out)
    assert.truthy(out:find("schedule: next change at 2026-12-07 08:25:00", 1, true), out)
    assert.falsy(out:find("open at", 1, true), out)
  end)
end)
