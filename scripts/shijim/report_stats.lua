-- shijim.report_stats — the numbers of a backtest tear sheet.
--
-- Input: the table an engine's finish() returns (shijim.strategy), optionally
-- with `price` = { code =, points = { {t =, p =}, ... }, real = { CODE = true } }
-- (the traded code's last trade price at each equity sample; backtest.lua
-- records it) for the benchmark and the trade-marker chart.
-- Money stays exact integers of 1 / SHJ_PRICE_SCALE TWD wherever it is an
-- amount (PnL, costs, drawdown in TWD, daily PnL); doubles are used only for
-- ratios and for averages (avg win/loss, expectancy), which are not amounts
-- anyone is paid.
--
-- Definitions (docs/backtest.md "Report" has them with worked numbers):
--   trading day       core/session.h's ses_trading_day (exchange time, 15:00 roll, weekends, holidays);
--                     daily equity = last sample of the day; day 0 = initial capital
--   daily return      E_d / E_(d-1) - 1;  daily PnL = E_d - E_(d-1) (exact)
--   CAGR              (final/initial)^(252 / trading days) - 1
--   volatility        sample stddev (n-1) of daily returns x sqrt(252)
--   Sharpe            mean(daily) / stddev(daily) x sqrt(252), risk-free 0 (needs 2 days)
--   Sortino           mean(daily) / downside deviation x sqrt(252), where the downside
--                     deviation is sqrt(sum(min(r,0)^2) / n) (target 0; nil without a down day)
--   Calmar            CAGR / max drawdown
--   small sample      fewer than SMALL_SAMPLE_DAYS (60) trading days: ratios flagged
--   max drawdown      max over samples of (running peak - equity) / running peak, the
--                     peak starting at the initial capital; its TWD is the drop at that
--                     same sample (max_drawdown_money is the largest TWD drop anywhere)
--   dd duration       longest time from a peak until equity is back at/above it (or until
--                     the last sample), exchange-time seconds and trading days spanned
--   trade             a round trip (flat -> flat on one instrument), net of its costs
--   win rate          trades with net > 0 / trades
--   avg win / loss    mean net of winning / losing trades (TWD)
--   expectancy        sum of nets / trades (TWD per trade)
--   profit factor     sum of winning nets / |sum of losing nets| (nil: no losing trade)
--   exposure          share of session time (sample intervals shorter than gap_s) that
--                     began with a non-zero position
--   turnover          sum of fill values / initial capital
--   benchmark         buy-and-hold of the traded code: initial x price / first price
local M = {}

local floor, sqrt = math.floor, math.sqrt
local ffi = require "ffi"
local C = require("shijim.ffi").C
local textbuf = ffi.new("char[32]")

M.SMALL_SAMPLE_DAYS = 60
M.GAP_S = 1800 -- a pause in the samples longer than this is a market break, not trading time
M.YEAR_DAYS = 252

-- Trading day number of a UTC ns time (core/clock.h decides the rule).
-- core/session's rule (night session -> next trading day, Friday night ->
-- Monday, weekends and holidays skipped): the archive file's and ClickHouse's day.
function M.trading_day(t) return tonumber(C.ses_trading_day(t)) end
function M.day_text(day) return ffi.string(C.clk_day_text(day, textbuf)) end
function M.taipei(t)
  if t == nil then return "" end
  return ffi.string(C.clk_taipei_text(t, textbuf), 19)
end

local function ns_to_s(t) return tonumber(t) / 1e9 end

-- mean, sample stddev (n-1) of a list; sd nil below 2 values.
local function mean_sd(xs)
  local n = #xs
  if n == 0 then return nil, nil end
  local s = 0
  for i = 1, n do s = s + xs[i] end
  local mean = s / n
  if n < 2 then return mean, nil end
  local v = 0
  for i = 1, n do v = v + (xs[i] - mean) ^ 2 end
  return mean, sqrt(v / (n - 1))
end
M.mean_sd = mean_sd

-- The curve with the initial capital as its first point.
local function curve_of(r)
  local c = r.curve or {}
  local t0 = r.first_ts or (c[1] and c[1].t) or 0
  local pts = { { t = t0, e = r.initial } }
  for i = 1, #c do pts[#pts + 1] = c[i] end
  return pts
end
M.curve_of = curve_of

-- Per trading day: { day =, text =, equity =, pnl =, ret = }, day 0 being the capital.
function M.daily(r)
  local days, deq = {}, {}
  for _, p in ipairs(r.curve or {}) do
    local d = M.trading_day(p.t)
    if deq[d] == nil then days[#days + 1] = d end
    deq[d] = p.e
  end
  local out, prev = {}, r.initial
  for i, d in ipairs(days) do
    local e = deq[d]
    out[i] = { day = d, text = M.day_text(d), equity = e, pnl = e - prev, ret = e / prev - 1 }
    prev = e
  end
  return out
end

-- Monthly returns compounded from the daily equity: { {month = "YYYY-MM", ret =, pnl =}, ... }.
function M.monthly(daily, initial)
  local out, prev, cur = {}, initial, nil
  for _, d in ipairs(daily) do
    local m = d.text:sub(1, 7)
    if not cur or cur.month ~= m then
      if cur then prev = cur.equity end
      cur = { month = m, start = prev }
      out[#out + 1] = cur
    end
    cur.equity = d.equity
    cur.ret = d.equity / cur.start - 1
    cur.pnl = d.equity - cur.start
  end
  return out
end

-- Drawdown over points {t, e} (the first is the starting peak).
function M.drawdown(pts)
  local dd = { max = 0, money_at_max = 0, max_money = 0, duration_s = 0 }
  if #pts == 0 then return dd end
  local peak, peak_t = pts[1].e, pts[1].t
  local under, last_t = false, peak_t
  local function close_episode(t)
    local d = ns_to_s(t) - ns_to_s(peak_t)
    if d > dd.duration_s then
      dd.duration_s, dd.duration_from, dd.duration_to = d, peak_t, t
    end
  end
  for i = 2, #pts do
    local e, t = pts[i].e, pts[i].t
    last_t = t
    if e >= peak then
      if under then close_episode(t); under = false end
      peak, peak_t = e, t
    else
      under = true
      local f = peak > 0 and (peak - e) / peak or 0
      if f > dd.max then
        dd.max, dd.money_at_max, dd.peak_t, dd.trough_t = f, peak - e, peak_t, t
      end
      if peak - e > dd.max_money then dd.max_money = peak - e end
    end
  end
  if under then close_episode(last_t); dd.recovered = false else dd.recovered = true end
  if dd.duration_from then
    dd.duration_days = M.trading_day(dd.duration_to) - M.trading_day(dd.duration_from)
  else
    dd.duration_days = 0
  end
  return dd
end

-- Share of session time (intervals <= gap_s) that started with a position.
function M.exposure(r, gap_s)
  local c, fills = r.curve or {}, r.fills or {}
  local pos, open = {}, 0
  local fi = 1
  local total, exposed = 0, 0
  local function apply_until(t)
    while fills[fi] and tonumber(fills[fi].ts) <= t do
      local f = fills[fi]
      local was = pos[f.code] or 0
      if was == 0 and f.position ~= 0 then open = open + 1 end
      if was ~= 0 and f.position == 0 then open = open - 1 end
      pos[f.code] = f.position
      fi = fi + 1
    end
  end
  for i = 1, #c - 1 do
    local t0, t1 = tonumber(c[i].t), tonumber(c[i + 1].t)
    apply_until(t0)
    local dt = (t1 - t0) / 1e9
    if dt > 0 and dt <= gap_s then
      total = total + dt
      if open > 0 then exposed = exposed + dt end
    end
  end
  if total <= 0 then return nil, 0 end
  return exposed / total, total
end

-- Benchmark: buy-and-hold of r.price (the traded code), as equity points.
function M.benchmark(r)
  local pr = r.price
  if not pr or not pr.points or #pr.points == 0 then return nil end
  local p0
  for _, q in ipairs(pr.points) do
    if q.p and q.p > 0 then p0 = q.p; break end
  end
  if not p0 then return nil end
  local pts = {}
  for _, q in ipairs(pr.points) do
    if q.p and q.p > 0 then pts[#pts + 1] = { t = q.t, e = r.initial * q.p / p0 } end
  end
  local last = pts[#pts].e
  local b = { code = pr.code, points = pts, first_price = p0, last_price = pr.points[#pr.points].p,
              total_return = last / r.initial - 1 }
  table.insert(pts, 1, { t = pts[1].t, e = r.initial })
  b.drawdown = M.drawdown(pts)
  -- daily returns of the benchmark, same trading-day rule
  local days, deq = {}, {}
  for i = 2, #pts do
    local d = M.trading_day(pts[i].t)
    if deq[d] == nil then days[#days + 1] = d end
    deq[d] = pts[i].e
  end
  local rets, prev = {}, r.initial
  for i, d in ipairs(days) do rets[i] = deq[d] / prev - 1; prev = deq[d] end
  local mean, sd = mean_sd(rets)
  if sd and sd > 0 then
    b.vol = sd * sqrt(M.YEAR_DAYS)
    b.sharpe = mean / sd * sqrt(M.YEAR_DAYS)
  end
  if #days > 0 and last > 0 then b.cagr = (last / r.initial) ^ (M.YEAR_DAYS / #days) - 1 end
  return b
end

-- All statistics. opts.gap_s overrides GAP_S (exposure, trading-time axis).
function M.compute(r, opts)
  opts = opts or {}
  local st = {}
  local init, final = r.initial, r.final
  st.initial, st.final = init, final
  st.pnl = final - init
  st.total_return = final / init - 1
  st.commission, st.tax, st.fee = r.commission, r.tax, r.fee
  st.costs = r.costs
  st.realised, st.unrealised = r.realised, r.unrealised
  st.fills = #r.fills
  st.orders = r.orders
  st.events = r.events
  st.turnover_value = r.turnover
  st.turnover = r.turnover / init
  st.gap_s = opts.gap_s or M.GAP_S

  -- days
  st.daily = M.daily(r)
  st.days = #st.daily
  st.monthly = M.monthly(st.daily, init)
  local rets = {}
  for i, d in ipairs(st.daily) do rets[i] = d.ret end
  st.small_sample = st.days < M.SMALL_SAMPLE_DAYS
  if st.days > 0 and final > 0 then
    st.annual_return = (final / init) ^ (M.YEAR_DAYS / st.days) - 1
    st.cagr = st.annual_return
  end
  local mean, sd = mean_sd(rets)
  st.daily_mean = mean
  if sd then
    st.vol = sd * sqrt(M.YEAR_DAYS)
    if sd > 0 then st.sharpe = mean / sd * sqrt(M.YEAR_DAYS) end
  end
  if #rets >= 2 then
    local down = 0
    for _, x in ipairs(rets) do if x < 0 then down = down + x * x end end
    if down > 0 then st.sortino = mean / sqrt(down / #rets) * sqrt(M.YEAR_DAYS) end
  end
  local best, worst
  for _, d in ipairs(st.daily) do
    if not best or d.pnl > best.pnl then best = d end
    if not worst or d.pnl < worst.pnl then worst = d end
  end
  st.best_day, st.worst_day = best, worst
  local up = 0
  for _, d in ipairs(st.daily) do if d.pnl > 0 then up = up + 1 end end
  st.up_days = up

  -- drawdown over the curve, starting from the initial capital
  local dd = M.drawdown(curve_of(r))
  st.dd = dd
  st.max_drawdown = dd.max
  st.max_drawdown_at_max = dd.money_at_max
  st.max_drawdown_money = dd.max_money
  st.max_drawdown_s = dd.duration_s
  st.max_drawdown_days = dd.duration_days
  if st.cagr and dd.max > 0 then st.calmar = st.cagr / dd.max end

  -- round trips
  local wins, losses, gp, gl, net = 0, 0, 0, 0, 0
  local hold, largest_win, largest_loss = 0, nil, nil
  for _, t in ipairs(r.roundtrips) do
    net = net + t.net
    if t.net > 0 then wins = wins + 1; gp = gp + t.net
    elseif t.net < 0 then losses = losses + 1; gl = gl - t.net end
    if not largest_win or t.net > largest_win then largest_win = t.net end
    if not largest_loss or t.net < largest_loss then largest_loss = t.net end
    if t.open_ts and t.close_ts then hold = hold + (ns_to_s(t.close_ts) - ns_to_s(t.open_ts)) end
  end
  st.trades = #r.roundtrips
  st.wins, st.losses = wins, losses
  st.gross_profit, st.gross_loss = gp, gl
  st.trades_net = net
  st.win_rate = st.trades > 0 and wins / st.trades or nil
  st.avg_win = wins > 0 and gp / wins or nil
  st.avg_loss = losses > 0 and -gl / losses or nil
  st.expectancy = st.trades > 0 and net / st.trades or nil
  st.profit_factor = gl > 0 and gp / gl or nil
  st.payoff = (st.avg_win and st.avg_loss) and st.avg_win / -st.avg_loss or nil
  st.largest_win, st.largest_loss = largest_win, largest_loss
  st.avg_hold_s = st.trades > 0 and hold / st.trades or nil

  st.exposure, st.session_s = M.exposure(r, st.gap_s)
  st.cost_bps = r.turnover > 0 and r.costs / r.turnover * 1e4 or nil
  st.benchmark = M.benchmark(r)
  if st.benchmark then st.excess_return = st.total_return - st.benchmark.total_return end
  return st
end

return M
