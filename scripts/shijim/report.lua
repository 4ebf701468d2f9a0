-- shijim.report — backtest/paper statistics, trades CSV and an HTML report.
--
-- Input: the table returned by an engine's finish() (shijim.strategy). Money
-- there is exact integers of 1 / SHJ_PRICE_SCALE TWD (see shijim.broker_sim); this module
-- keeps money exact (decimal text from integers) and uses doubles only for
-- ratios (returns, Sharpe, win rate...).
--
-- Definitions (docs/backtest.md has worked examples):
--   total return      final / initial - 1
--   trading day       Taipei date, rolled at 15:00 (the TAIFEX night session
--                     belongs to the next trading day); daily equity = last
--                     sample of the day; day 0 = initial capital
--   daily return      E_d / E_(d-1) - 1
--   annualised return (final/initial)^(252 / trading days) - 1
--   Sharpe            mean(daily returns) / sample stddev (n-1) * sqrt(252), risk-free 0;
--                     nil with fewer than 2 days or zero deviation
--   max drawdown      max over samples of (running peak - equity) / running peak, and
--                     the largest money drop from a running peak
--   dd duration       longest time from a peak until equity is back at/above it (or
--                     until the last sample if it never is), exchange-time seconds
--   trade             a round trip: flat -> position -> flat on one instrument;
--                     net PnL = realised gross - all costs of its fills
--   win rate          trades with net > 0 / trades
--   profit factor     sum of winning nets / |sum of losing nets| (nil: no losing trade)
--   turnover          sum of fill values / initial capital
local M = {}

local floor, abs, sqrt = math.floor, math.abs, math.sqrt
local sffi = require "shijim.ffi"
local SCALE, DECIMALS = sffi.PRICE_SCALE, sffi.PRICE_DECIMALS -- owned by C (SHJ_PRICE_SCALE)
local CENT = SCALE / 100
local FRAC_FMT = "%d.%0" .. DECIMALS .. "d"

-- Exact decimal TWD text of an integer of money units (1 / SCALE TWD):
-- 1234567800 -> "1234.5678", 123450000 -> "123.45" (cents keep 2 decimals;
-- finer amounts show their digits, trailing zeros dropped).
function M.money(units)
  if units == nil then return "" end
  units = tonumber(units)
  local neg = units < 0
  local a = neg and -units or units
  local whole = floor(a / SCALE)
  local frac = a - whole * SCALE
  local s
  if frac % CENT == 0 then s = string.format("%d.%02d", whole, frac / CENT)
  else s = (string.format(FRAC_FMT, whole, frac):gsub("0+$", "")) end
  return neg and "-" .. s or s
end

local function ns_to_s(t) return tonumber(t) / 1e9 end

-- Taipei time and the trading day are core/clock.h's (C.clk_*).
local ffi = require "ffi"
local C = require("shijim.ffi").C
local textbuf = ffi.new("char[32]")

-- Taipei text of a UTC ns time (number or int64 cdata), seconds precision.
function M.taipei(t)
  if t == nil then return "" end
  return ffi.string(C.clk_taipei_text(t, textbuf), 19)
end

-- Trading day number of a UTC ns time: core/session's rule (night session ->
-- next trading day, Friday night -> Monday, weekends and holidays skipped),
-- the same day as the archive file and ClickHouse's trading_day.
function M.trading_day(t) return tonumber(C.ses_trading_day(t)) end

function M.day_text(day) return ffi.string(C.clk_day_text(day, textbuf)) end

function M.compute(r)
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

  -- daily equity
  local days, deq = {}, {}
  for _, p in ipairs(r.curve) do
    local d = M.trading_day(p.t)
    if deq[d] == nil then days[#days + 1] = d end
    deq[d] = p.e
  end
  st.days = #days
  st.daily = {}
  local rets = {}
  local prev = init
  for i, d in ipairs(days) do
    local e = deq[d]
    rets[i] = e / prev - 1
    st.daily[i] = { day = M.day_text(d), equity = e, ret = rets[i] }
    prev = e
  end
  if st.days > 0 and final > 0 then
    st.annual_return = (final / init) ^ (252 / st.days) - 1
  end
  if #rets >= 2 then
    local s = 0
    for _, x in ipairs(rets) do s = s + x end
    local mean = s / #rets
    local v = 0
    for _, x in ipairs(rets) do v = v + (x - mean) ^ 2 end
    local sd = sqrt(v / (#rets - 1))
    if sd > 0 then st.sharpe = mean / sd * sqrt(252) end
  end

  -- drawdown over the curve, starting from the initial capital
  local peak, peak_t = init, r.first_ts or (r.curve[1] and r.curve[1].t) or 0
  local mdd, mdd_money, dur, under = 0, 0, 0, false
  local last_t = peak_t
  for _, p in ipairs(r.curve) do
    local e, t = p.e, p.t
    last_t = t
    if e >= peak then
      if under then
        local d = ns_to_s(t) - ns_to_s(peak_t)
        if d > dur then dur = d end
        under = false
      end
      peak, peak_t = e, t
    else
      under = true
      local dd = (peak - e) / peak
      if dd > mdd then mdd = dd end
      if peak - e > mdd_money then mdd_money = peak - e end
    end
  end
  if under then
    local d = ns_to_s(last_t) - ns_to_s(peak_t)
    if d > dur then dur = d end
  end
  st.max_drawdown, st.max_drawdown_money, st.max_drawdown_s = mdd, mdd_money, dur

  -- round trips
  local wins, losses, gp, gl = 0, 0, 0, 0
  for _, t in ipairs(r.roundtrips) do
    if t.net > 0 then wins = wins + 1; gp = gp + t.net
    elseif t.net < 0 then losses = losses + 1; gl = gl - t.net end
  end
  st.trades = #r.roundtrips
  st.wins, st.losses = wins, losses
  st.gross_profit, st.gross_loss = gp, gl
  st.win_rate = st.trades > 0 and wins / st.trades or nil
  st.profit_factor = gl > 0 and gp / gl or nil
  return st
end

-- Output ------------------------------------------------------------------------------

local function pct(x) return x and string.format("%.2f%%", x * 100) or "n/a" end
local function num(x, f) return x and string.format(f or "%.3f", x) or "n/a" end

local function duration_text(s)
  if not s or s <= 0 then return "0" end
  local d = floor(s / 86400); s = s - d * 86400
  local h = floor(s / 3600); s = s - h * 3600
  local m = floor(s / 60)
  if d > 0 then return string.format("%dd %dh %dm", d, h, m) end
  if h > 0 then return string.format("%dh %dm", h, m) end
  return string.format("%dm %ds", m, floor(s - m * 60))
end
M.duration_text = duration_text

function M.rows(r, st)
  return {
    { "Strategy", r.name .. " (" .. r.mode .. ")" },
    { "Codes", table.concat(r.codes, ",") },
    { "Period", M.taipei(r.first_ts) .. " .. " .. M.taipei(r.last_ts) },
    { "Initial capital", M.money(st.initial) },
    { "Final equity", M.money(st.final) },
    { "Net PnL", M.money(st.pnl) },
    { "Total return", pct(st.total_return) },
    { "Annualised return", pct(st.annual_return) },
    { "Sharpe (daily, x sqrt 252)", num(st.sharpe) },
    { "Max drawdown", pct(st.max_drawdown) .. " (" .. M.money(-st.max_drawdown_money) .. ")" },
    { "Max drawdown duration", duration_text(st.max_drawdown_s) },
    { "Trades (round trips)", tostring(st.trades) },
    { "Win rate", pct(st.win_rate) },
    { "Profit factor", num(st.profit_factor) },
    { "Fills / orders", st.fills .. " / " .. st.orders },
    { "Turnover", num(st.turnover, "%.2fx") .. " (" .. M.money(st.turnover_value) .. ")" },
    { "Costs", M.money(st.costs) .. " (commission " .. M.money(st.commission) ..
      ", fees " .. M.money(st.fee) .. ", tax " .. M.money(st.tax) .. ")" },
    { "Realised / unrealised", M.money(st.realised) .. " / " .. M.money(st.unrealised) },
    { "Trading days", tostring(st.days) },
    { "Events", tostring(st.events) },
  }
end

function M.text(r, st)
  local out = {}
  for _, row in ipairs(M.rows(r, st)) do out[#out + 1] = string.format("%-28s %s", row[1], row[2]) end
  return table.concat(out, "\n") .. "\n"
end

local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

function M.trades_csv(r)
  local out = { "fill,time_taipei,code,action,qty,price,value,commission,fee,tax,realised,position,cash,order_id,tag" }
  for _, f in ipairs(r.fills) do
    out[#out + 1] = table.concat({
      f.id, require("shijim.strategy").taipei(f.ts), f.code, f.action, f.qty, M.money(f.price),
      M.money(f.value), M.money(f.commission), M.money(f.fee), M.money(f.tax),
      M.money(f.realised), f.position, M.money(f.cash), f.order_id, csv_field(f.tag or ""),
    }, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

function M.roundtrips_csv(r)
  local out = { "trade,code,side,open_taipei,close_taipei,max_qty,fills,gross,costs,net" }
  for i, t in ipairs(r.roundtrips) do
    out[#out + 1] = table.concat({
      i, t.code, t.side, M.taipei(t.open_ts), M.taipei(t.close_ts), t.max_qty, t.fills,
      M.money(t.gross), M.money(t.costs), M.money(t.net) }, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

local function esc(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

-- Inline SVG: equity (top) and drawdown (bottom) against exchange time.
function M.svg(r, st)
  local W, H1, H2, PAD = 900, 260, 120, 50
  local pts = { { t = r.first_ts or (r.curve[1] and r.curve[1].t) or 0, e = r.initial } }
  local c = r.curve
  local step = math.max(1, floor(#c / 2000))
  for i = 1, #c, step do pts[#pts + 1] = c[i] end
  if #c > 0 and pts[#pts] ~= c[#c] then pts[#pts + 1] = c[#c] end
  local t0, t1 = ns_to_s(pts[1].t), ns_to_s(pts[#pts].t)
  if t1 <= t0 then t1 = t0 + 1 end
  local lo, hi = math.huge, -math.huge
  for _, p in ipairs(pts) do
    if p.e < lo then lo = p.e end
    if p.e > hi then hi = p.e end
  end
  if hi <= lo then hi = lo + SCALE end
  local function x(t) return PAD + (ns_to_s(t) - t0) / (t1 - t0) * (W - 2 * PAD) end
  local eq, dd = {}, {}
  local peak, maxdd = -math.huge, 0
  local dds = {}
  for i, p in ipairs(pts) do
    if p.e > peak then peak = p.e end
    dds[i] = peak > 0 and (peak - p.e) / peak or 0
    if dds[i] > maxdd then maxdd = dds[i] end
  end
  if maxdd <= 0 then maxdd = 1e-9 end
  for i, p in ipairs(pts) do
    eq[i] = string.format("%.1f,%.1f", x(p.t), 10 + (hi - p.e) / (hi - lo) * (H1 - 20))
    dd[i] = string.format("%.1f,%.1f", x(p.t), H1 + 10 + dds[i] / maxdd * (H2 - 20))
  end
  local out = {
    string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" ' ..
                  'viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">', W, H1 + H2, W, H1 + H2),
    '<rect width="100%" height="100%" fill="#fff"/>',
    string.format('<text x="%d" y="14">equity (TWD)</text>', PAD),
    string.format('<text x="4" y="20">%s</text><text x="4" y="%d">%s</text>',
                  esc(M.money(hi)), H1 - 8, esc(M.money(lo))),
    string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ccc"/>', PAD, H1, W - PAD, H1),
    '<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="' .. table.concat(eq, " ") .. '"/>',
    string.format('<text x="%d" y="%d">drawdown (max %s)</text>', PAD, H1 + 24, pct(st.max_drawdown)),
    '<polyline fill="none" stroke="#c62828" stroke-width="1.2" points="' .. table.concat(dd, " ") .. '"/>',
    string.format('<text x="%d" y="%d">%s</text><text x="%d" y="%d" text-anchor="end">%s</text>',
                  PAD, H1 + H2 - 2, esc(M.taipei(pts[1].t)), W - PAD, H1 + H2 - 2,
                  esc(M.taipei(pts[#pts].t))),
    '</svg>',
  }
  return table.concat(out, "\n")
end

function M.html(r, st)
  local rows = {}
  for _, row in ipairs(M.rows(r, st)) do
    rows[#rows + 1] = "<tr><th>" .. esc(row[1]) .. "</th><td>" .. esc(row[2]) .. "</td></tr>"
  end
  local params = {}
  local keys = {}
  for k in pairs(r.params) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do params[#params + 1] = esc(k) .. "=" .. esc(r.params[k]) end
  local trades = {}
  for i, t in ipairs(r.roundtrips) do
    if i > 500 then
      trades[#trades + 1] = '<tr><td colspan="8">... ' .. (#r.roundtrips - 500) ..
                            ' more in roundtrips.csv</td></tr>'
      break
    end
    trades[#trades + 1] = string.format(
      "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=%s>%s</td></tr>",
      i, esc(t.code), t.side, esc(M.taipei(t.open_ts)), esc(M.taipei(t.close_ts)), M.money(t.gross),
      M.money(t.costs), t.net >= 0 and "pos" or "neg", M.money(t.net))
  end
  return table.concat({
    "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
    "<title>Shijim " .. esc(r.mode) .. ": " .. esc(r.name) .. "</title>",
    "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}" ..
    "th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}" ..
    "td.pos{color:#2e7d32}td.neg{color:#c62828}</style></head><body>",
    "<h1>" .. esc(r.name) .. " &mdash; " .. esc(r.mode) .. "</h1>",
    "<p>Parameters: " .. table.concat(params, ", ") .. "</p>",
    "<table>", table.concat(rows, "\n"), "</table>",
    "<h2>Equity and drawdown</h2>", M.svg(r, st),
    "<h2>Trades</h2>",
    "<table><tr><th>#</th><th>code</th><th>side</th><th>open</th><th>close</th>" ..
    "<th>gross</th><th>costs</th><th>net</th></tr>",
    table.concat(trades, "\n"), "</table>",
    "<p>Fills: trades.csv. Money is exact (1/" .. SCALE .. " TWD units); times are Asia/Taipei.</p>",
    "</body></html>",
  }, "\n")
end

-- Plain numbers for machines (tests, CI): money as exact decimal strings.
function M.json(r, st)
  local cjson = require "cjson"
  local keys = { "initial", "final", "pnl", "costs", "commission", "tax", "fee", "realised",
                 "unrealised", "turnover_value", "max_drawdown_money" }
  local o = {
    name = r.name, mode = r.mode, codes = r.codes, params = r.params, trades = st.trades,
    wins = st.wins, losses = st.losses, fills = st.fills, orders = st.orders, events = st.events,
    days = st.days, total_return = st.total_return, annual_return = st.annual_return,
    sharpe = st.sharpe, max_drawdown = st.max_drawdown, max_drawdown_s = st.max_drawdown_s,
    win_rate = st.win_rate, profit_factor = st.profit_factor, turnover = st.turnover,
  }
  for _, k in ipairs(keys) do o[k] = M.money(st[k]) end
  return cjson.encode(o)
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  return path
end

-- Write report.html, trades.csv, roundtrips.csv, summary.json into dir.
-- Returns stats, paths or nil, error.
function M.write(r, dir)
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  local st = M.compute(r)
  local paths = {}
  for name, text in pairs {
    ["report.html"] = M.html(r, st), ["trades.csv"] = M.trades_csv(r),
    ["roundtrips.csv"] = M.roundtrips_csv(r), ["summary.json"] = M.json(r, st),
  } do
    local p, err = write_file(dir .. "/" .. name, text)
    if not p then return nil, "report: cannot write " .. dir .. "/" .. name .. ": " .. err end
    paths[name] = p
  end
  return st, paths
end

return M
