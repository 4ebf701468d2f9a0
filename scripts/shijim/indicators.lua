-- shijim.indicators — incremental technical indicators for strategies.
--
-- Every indicator is an object updated with one new observation at a time in
-- O(1) (amortized O(1) for Donchian's monotonic deques and for the periodic
-- re-summation that keeps SMA/Bollinger from drifting). `update` returns the
-- current value, or nil while the indicator is still warming up; `ready`
-- says the same. Values are Lua numbers (doubles): indicator math is
-- strategy-side, never on the storage path. Use shijim.strategy.px(v) to turn
-- an event's fixed-point price into a number first.
--
-- Definitions (the common ones, e.g. TA-Lib's):
--   sma(n)            mean of the last n values
--   ema(n)            alpha = 2/(n+1), seeded with the SMA of the first n values
--   atr(n)            Wilder: TR = max(h-l, |h-prev_c|, |l-prev_c|) (first TR = h-l),
--                     first ATR = mean of n TRs, then (prev*(n-1) + TR)/n
--   rsi(n)            Wilder smoothing of gains/losses over n changes; 100 when no losses,
--                     50 when flat
--   bollinger(n, k)   middle = sma(n), upper/lower = middle +- k * population stddev
--   donchian(n)       highest high / lowest low of the last n observations, middle = mean
local M = {}

local floor, sqrt, abs, max = math.floor, math.sqrt, math.abs, math.max

local function check_n(n, name)
  if type(n) ~= "number" or n < 1 or n ~= floor(n) then
    error(name .. ": period must be a positive integer, got " .. tostring(n), 3)
  end
end

-- A sliding window sum with exact re-summation every n updates: the running
-- sum drifts by rounding after many add/subtract pairs, re-summing the ring
-- bounds that drift at O(1) amortized cost.
local function window(n)
  return { n = n, buf = {}, i = 0, count = 0, sum = 0, sumsq = 0, shift = nil, since = 0 }
end

local function window_push(w, x, squares)
  if w.shift == nil then w.shift = x end
  local y = x - w.shift -- shifted: keeps sumsq small (less cancellation)
  local n = w.n
  local i = w.i % n + 1
  w.i = i
  local old = w.buf[i]
  w.buf[i] = y
  if w.count < n then
    w.count = w.count + 1
    w.sum = w.sum + y
    if squares then w.sumsq = w.sumsq + y * y end
  else
    w.sum = w.sum + y - old
    if squares then w.sumsq = w.sumsq + y * y - old * old end
    w.since = w.since + 1
    if w.since >= n then
      local s, q = 0, 0
      local buf = w.buf
      for j = 1, n do
        local v = buf[j]
        s = s + v
        q = q + v * v
      end
      w.sum, w.sumsq, w.since = s, q, 0
    end
  end
end

-- SMA -------------------------------------------------------------------------
local SMA = {}
SMA.__index = SMA

function M.sma(n)
  check_n(n, "sma")
  return setmetatable({ n = n, w = window(n), value = nil, ready = false }, SMA)
end

function SMA:update(x)
  local w = self.w
  window_push(w, x, false)
  if w.count == self.n then
    self.value = w.shift + w.sum / self.n
    self.ready = true
  end
  return self.value
end

-- EMA -------------------------------------------------------------------------
local EMA = {}
EMA.__index = EMA

function M.ema(n)
  check_n(n, "ema")
  return setmetatable({ n = n, alpha = 2 / (n + 1), count = 0, seed = 0, value = nil,
                        ready = false }, EMA)
end

function EMA:update(x)
  local c = self.count + 1
  self.count = c
  if c < self.n then
    self.seed = self.seed + x
  elseif c == self.n then
    self.value = (self.seed + x) / self.n
    self.ready = true
  else
    local v = self.value
    self.value = v + self.alpha * (x - v)
  end
  return self.value
end

-- ATR -------------------------------------------------------------------------
local ATR = {}
ATR.__index = ATR

function M.atr(n)
  check_n(n, "atr")
  return setmetatable({ n = n, count = 0, acc = 0, prev_close = nil, value = nil,
                        ready = false }, ATR)
end

function ATR:update(high, low, close)
  local tr = high - low
  local pc = self.prev_close
  if pc then tr = max(tr, abs(high - pc), abs(low - pc)) end
  self.prev_close = close
  local n = self.n
  local c = self.count + 1
  self.count = c
  if c < n then
    self.acc = self.acc + tr
  elseif c == n then
    self.value = (self.acc + tr) / n
    self.ready = true
  else
    self.value = (self.value * (n - 1) + tr) / n
  end
  return self.value
end

-- RSI -------------------------------------------------------------------------
local RSI = {}
RSI.__index = RSI

function M.rsi(n)
  check_n(n, "rsi")
  return setmetatable({ n = n, count = 0, prev = nil, gain = 0, loss = 0, value = nil,
                        ready = false }, RSI)
end

local function rsi_of(g, l)
  if l == 0 then return g == 0 and 50 or 100 end
  return 100 - 100 / (1 + g / l)
end

function RSI:update(x)
  local prev = self.prev
  self.prev = x
  if prev == nil then return self.value end
  local d = x - prev
  local up = d > 0 and d or 0
  local down = d < 0 and -d or 0
  local n = self.n
  local c = self.count + 1
  self.count = c
  if c <= n then
    self.gain = self.gain + up
    self.loss = self.loss + down
    if c == n then
      self.gain, self.loss = self.gain / n, self.loss / n
      self.value = rsi_of(self.gain, self.loss)
      self.ready = true
    end
  else
    self.gain = (self.gain * (n - 1) + up) / n
    self.loss = (self.loss * (n - 1) + down) / n
    self.value = rsi_of(self.gain, self.loss)
  end
  return self.value
end

-- Bollinger bands -------------------------------------------------------------
local BB = {}
BB.__index = BB

function M.bollinger(n, k)
  check_n(n, "bollinger")
  k = k or 2
  return setmetatable({ n = n, k = k, w = window(n), middle = nil, upper = nil, lower = nil,
                        stddev = nil, ready = false }, BB)
end

-- Returns middle, upper, lower (nil while warming up).
function BB:update(x)
  local w = self.w
  window_push(w, x, true)
  local n = self.n
  if w.count == n then
    local mean = w.sum / n
    local var = w.sumsq / n - mean * mean
    if var < 0 then var = 0 end
    local sd = sqrt(var)
    local mid = w.shift + mean
    self.middle, self.stddev = mid, sd
    self.upper, self.lower = mid + self.k * sd, mid - self.k * sd
    self.ready = true
  end
  return self.middle, self.upper, self.lower
end

-- Donchian channel ------------------------------------------------------------
-- Monotonic deques of (index, value): the front is the max (min) of the window;
-- each observation is pushed and popped at most once -> amortized O(1).
local DC = {}
DC.__index = DC

function M.donchian(n)
  check_n(n, "donchian")
  return setmetatable({ n = n, t = 0,
                        hi_i = {}, hi_v = {}, hi_h = 1, hi_t = 0,
                        lo_i = {}, lo_v = {}, lo_h = 1, lo_t = 0,
                        upper = nil, lower = nil, middle = nil, ready = false }, DC)
end

-- update(high, low) or update(x). Returns upper, lower, middle.
function DC:update(high, low)
  if low == nil then low = high end
  local t = self.t + 1
  self.t = t
  local oldest = t - self.n + 1
  -- highs: keep decreasing values
  local hi_i, hi_v = self.hi_i, self.hi_v
  local h, tl = self.hi_h, self.hi_t
  while tl >= h and hi_v[tl] <= high do
    hi_i[tl], hi_v[tl] = nil, nil
    tl = tl - 1
  end
  tl = tl + 1
  hi_i[tl], hi_v[tl] = t, high
  while hi_i[h] < oldest do
    hi_i[h], hi_v[h] = nil, nil
    h = h + 1
  end
  self.hi_h, self.hi_t = h, tl
  -- lows: keep increasing values
  local lo_i, lo_v = self.lo_i, self.lo_v
  local lh, ll = self.lo_h, self.lo_t
  while ll >= lh and lo_v[ll] >= low do
    lo_i[ll], lo_v[ll] = nil, nil
    ll = ll - 1
  end
  ll = ll + 1
  lo_i[ll], lo_v[ll] = t, low
  while lo_i[lh] < oldest do
    lo_i[lh], lo_v[lh] = nil, nil
    lh = lh + 1
  end
  self.lo_h, self.lo_t = lh, ll
  if t >= self.n then
    self.upper, self.lower = hi_v[h], lo_v[lh]
    self.middle = (self.upper + self.lower) / 2
    self.ready = true
  end
  return self.upper, self.lower, self.middle
end

return M
