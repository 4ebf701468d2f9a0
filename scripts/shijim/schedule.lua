-- shijim/schedule.lua — market-hours schedule: subscribe before the open,
-- unsubscribe after the close, sleep in between (main.lua --schedule).
--
-- Owns only the "when to act" loop. The hours, the night session across
-- midnight, weekends and the holiday calendar are core/session's
-- (ses_sched_on / ses_sched_next, pinned by tests/test_session.c); the
-- Taipei offset is core/clock's. Nothing here retypes an hour.
--
--   local sched = schedule.new{ which = "all", lead_s = 600, lag_s = 300,
--     open = function(group) ... end, close = function(group) ... end }
--   sched:attach(shijim)       -- re-arms itself with shijim.after
--
-- Groups: "stocks" follows TWSE/TPEx hours (with the 08:30 pre-open),
-- "futures" follows TAIFEX (day 08:45-13:45, night 15:00-05:00).
-- `now` is injectable (a fake clock for tests, --fake-clock for a run); the
-- default is the wall clock (clk_now_ns). Sleeps are capped at max_sleep_ms
-- so a clock jump (NTP, a fake clock) is noticed within that time.
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local C = sffi.C

local M = {}

local GROUPS = {
  twse = { "stocks" },
  taifex = { "futures" },
  all = { "stocks", "futures" },
}
M.WHICH = { "twse", "taifex", "all" }

local EXCHANGE = { stocks = C.SHJ_EX_TSE, futures = C.SHJ_EX_TAIFEX }
local PREOPEN = { stocks = 1, futures = 0 }

local Sched = {}
Sched.__index = Sched

-- opts: which ("twse" | "taifex" | "all"), lead_s (subscribe this early, 300),
-- lag_s (unsubscribe this late, 300), open(group, now_ns), close(group, now_ns),
-- now (function returning UTC ns as int64 or number), speed (now() runs this
-- much faster than real time: a fake clock), max_sleep_ms (60000).
function M.new(opts)
  local groups = GROUPS[opts.which]
  if not groups then
    error("schedule: which must be twse, taifex or all, not " .. tostring(opts.which), 2)
  end
  local self = setmetatable({
    groups = groups,
    lead_s = math.floor(opts.lead_s or 300),
    lag_s = math.floor(opts.lag_s or 300),
    open_fn = assert(opts.open, "schedule: open function required"),
    close_fn = assert(opts.close, "schedule: close function required"),
    now = opts.now or C.clk_now_ns,
    max_sleep_ms = opts.max_sleep_ms or 60000,
    speed = opts.speed or 1,  -- now() runs this much faster than the loop's timers
    state = {},  -- group -> true while subscribed
  }, Sched)
  if self.lead_s < 0 or self.lag_s < 0 or self.lead_s > 6 * 3600 or self.lag_s > 6 * 3600 then
    error("schedule: lead/lag must be 0..21600 seconds", 2)
  end
  return self
end

-- Should group be subscribed at t (UTC ns)?
function Sched:wanted(group, t)
  return C.ses_sched_on(EXCHANGE[group], t, PREOPEN[group], self.lead_s, self.lag_s) == 1
end

-- The next instant (UTC ns, int64) after t at which any group changes.
function Sched:next_change(t)
  local best
  for _, g in ipairs(self.groups) do
    local n = C.ses_sched_next(EXCHANGE[g], t, PREOPEN[g], self.lead_s, self.lag_s)
    if n >= 0 and (best == nil or n < best) then best = n end
  end
  return best
end

-- Apply the schedule at now(): open the groups that should be on, close the
-- ones that should be off. Returns the next change (int64 ns, or nil).
function Sched:step()
  local t = ffi.cast("int64_t", self.now())
  for _, g in ipairs(self.groups) do
    local want = self:wanted(g, t)
    if want and not self.state[g] then
      self.state[g] = true
      self.open_fn(g, t)
    elseif not want and self.state[g] then
      self.state[g] = nil
      self.close_fn(g, t)
    end
  end
  return self:next_change(t), t
end

-- Taipei text of a UTC ns time (core/clock's formatter).
function M.taipei(t)
  return ffi.string(C.clk_taipei_text(ffi.cast("int64_t", t), sffi.textbuf))
end

-- Drive the schedule from the loop: step now, then sleep until the next
-- change (capped), forever. log(text) reports each sleep.
function Sched:attach(shijim, log)
  local function tick()
    local nxt, t = self:step()
    local wait_ms = self.max_sleep_ms
    if nxt then
      local ms = math.floor(tonumber(nxt - t) / 1e6 / self.speed) + 1
      if ms < wait_ms then wait_ms = ms end
      if log and nxt ~= self.announced then
        self.announced = nxt
        log(string.format("schedule: next change at %s Taipei", M.taipei(nxt)))
      end
    end
    shijim.after(math.max(1, wait_ms), tick)
  end
  tick()
end

-- A fake clock for tests and --fake-clock: starts at start_ns (UTC) and runs
-- speed times faster than the monotonic clock.
function M.fake_clock(start_ns, speed)
  local t0 = C.clk_mono_ns()
  start_ns = ffi.cast("int64_t", start_ns)
  speed = speed or 1
  return function()
    return start_ns + ffi.cast("int64_t", tonumber(C.clk_mono_ns() - t0) * speed)
  end
end

-- "YYYY-MM-DD HH:MM[:SS]" Taipei -> UTC ns (int64), or nil.
function M.parse_taipei(shijim, text)
  local y, mo, d, h, mi, sec = tostring(text):match("^(%d%d%d%d)-(%d%d)-(%d%d)[ T](%d%d):(%d%d):?(%d*)$")
  if not y then return nil end
  return shijim.time.from_taipei(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi),
                                 tonumber(sec) or 0)
end

-- main.lua --schedule: open the universe's (shijim/reloadable.lua) "stocks"
-- group while TWSE trades and its "futures" group while TAIFEX does.
-- opts: schedule, schedule_lead, schedule_lag, fake_clock, fake_speed.
function M.start_main(shijim, universe, opts)
  local now, speed = nil, 1
  if opts.fake_clock then
    local start = M.parse_taipei(shijim, opts.fake_clock)
    if not start then error("--fake-clock: want \"YYYY-MM-DD HH:MM[:SS]\" (Taipei), not " .. opts.fake_clock, 0) end
    speed = opts.fake_speed or 1
    if speed <= 0 then error("--fake-speed: must be > 0", 0) end
    now = M.fake_clock(start, speed)
    shijim.log(string.format("schedule: fake clock from %s Taipei, %gx", M.taipei(start), speed))
  end
  local sched = M.new{
    which = opts.schedule, lead_s = opts.schedule_lead, lag_s = opts.schedule_lag, now = now, speed = speed,
    open = function(g, t)
      local added = universe:open(g)
      shijim.log(string.format("schedule: %s open at %s Taipei: subscribed %s", g, M.taipei(t), table.concat(added, ",")))
    end,
    close = function(g, t)
      local _, removed = universe:close(g)
      shijim.log(string.format("schedule: %s closed at %s Taipei: unsubscribed %s", g, M.taipei(t), table.concat(removed, ",")))
    end,
  }
  sched:attach(shijim, shijim.log)
  return sched
end

return M
