-- shijim.report — a backtest/paper run's tear sheet and data files.
--
-- Input: the table returned by an engine's finish() (shijim.strategy), with an
-- optional `price` series (backtest.lua records the traded code's price at each
-- equity sample: the benchmark and the trade-marker chart). Money there is
-- exact integers of 1 / SHJ_PRICE_SCALE TWD (see shijim.broker_sim); it stays
-- exact up to the text (decimal digits from integers); doubles only hold ratios.
--
-- The parts, one module each:
--   shijim.report_stats  the numbers and their definitions
--   shijim.report_fmt    number/time text for people (separators, sensible decimals)
--   shijim.report_svg    the charts (inline SVG, trading-time axis)
--   shijim.report_html   the self-contained HTML page
--   shijim.report_sweep  parameter grids (backtest.lua --sweep)
-- This module is the front: compute, text summary, CSV/JSON, and write().
local fmt = require "shijim.report_fmt"
local stats = require "shijim.report_stats"
local html = require "shijim.report_html"

local M = {}

local concat, format = table.concat, string.format

M.money = fmt.money                 -- exact decimal, no separators (machines)
M.twd = fmt.twd                     -- exact decimal with separators (people)
M.taipei = stats.taipei
M.trading_day = stats.trading_day
M.day_text = stats.day_text
M.duration_text = fmt.duration
M.compute = stats.compute

-- The statistics as { {label, text}, ... } (what the terminal summary prints).
function M.rows(r, st)
  local out = {}
  for _, sec in ipairs(html.sections(r, st)) do
    for _, row in ipairs(sec[2]) do out[#out + 1] = { row[2], row[3], key = row[1] } end
  end
  return out
end

function M.text(r, st)
  local out = {}
  for _, row in ipairs(M.rows(r, st)) do out[#out + 1] = format("%-34s %s", row[1], row[2]) end
  if st.small_sample then
    out[#out + 1] = format("* %d trading day(s) < %d: annualised ratios are not meaningful", st.days,
                           stats.SMALL_SAMPLE_DAYS)
  end
  if st.trades == 0 then out[#out + 1] = "no completed trade (see the report)" end
  return concat(out, "\n") .. "\n"
end

local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function taipei_us(t) return require("shijim.strategy").taipei(t) end

function M.trades_csv(r)
  local out = { "fill,time_taipei,code,action,qty,price,value,commission,fee,tax,realised,position,cash,order_id,tag" }
  for _, f in ipairs(r.fills) do
    out[#out + 1] = concat({
      f.id, taipei_us(f.ts), f.code, f.action, f.qty, M.money(f.price),
      M.money(f.value), M.money(f.commission), M.money(f.fee), M.money(f.tax),
      M.money(f.realised), f.position, M.money(f.cash), f.order_id, csv_field(f.tag or ""),
    }, ",")
  end
  return concat(out, "\n") .. "\n"
end

function M.roundtrips_csv(r)
  local out = { "trade,code,side,open_taipei,close_taipei,max_qty,fills,gross,costs,net" }
  for i, t in ipairs(r.roundtrips) do
    out[#out + 1] = concat({
      i, t.code, t.side, M.taipei(t.open_ts), M.taipei(t.close_ts), t.max_qty, t.fills,
      M.money(t.gross), M.money(t.costs), M.money(t.net) }, ",")
  end
  return concat(out, "\n") .. "\n"
end

-- Every equity sample: exact money, drawdown from the running peak (the
-- initial capital is the first peak), the traded code's price when recorded.
function M.equity_csv(r)
  local out = { "time_taipei,trading_day,equity,peak,drawdown,drawdown_pct,price" }
  local pts = stats.curve_of(r)
  local prices = r.price and r.price.points
  local aligned = prices and #prices == #(r.curve or {})
  local peak = r.initial
  for i, p in ipairs(pts) do
    if p.e > peak then peak = p.e end
    local price = ""
    if aligned and i > 1 and prices[i - 1].p then price = M.money(prices[i - 1].p) end
    out[#out + 1] = concat({ taipei_us(p.t), M.day_text(M.trading_day(p.t)), M.money(p.e), M.money(peak),
      M.money(p.e - peak), format("%.6f", peak > 0 and (p.e - peak) / peak * 100 or 0), price }, ",")
  end
  return concat(out, "\n") .. "\n"
end

-- One row per trading day: closing equity, exact PnL, return, cumulative return.
function M.daily_csv(r, st)
  local out = { "trading_day,equity,pnl,return_pct,cum_return_pct" }
  for _, d in ipairs(st.daily) do
    out[#out + 1] = concat({ d.text, M.money(d.equity), M.money(d.pnl), format("%.6f", d.ret * 100),
      format("%.6f", (d.equity / r.initial - 1) * 100) }, ",")
  end
  return concat(out, "\n") .. "\n"
end

M.html = html.page

local function units_text(x)
  if x == nil then return nil end
  return M.money(html.cents(x))
end

-- Plain numbers for machines (tests, CI, the sweep): money as exact decimal strings.
function M.json(r, st)
  local cjson = require "cjson"
  local keys = { "initial", "final", "pnl", "costs", "commission", "tax", "fee", "realised",
                 "unrealised", "turnover_value", "max_drawdown_money", "max_drawdown_at_max" }
  local b = st.benchmark
  local o = {
    name = r.name, mode = r.mode, codes = r.codes, params = r.params, trades = st.trades,
    wins = st.wins, losses = st.losses, fills = st.fills, orders = st.orders, events = st.events,
    days = st.days, total_return = st.total_return, annual_return = st.annual_return, cagr = st.cagr,
    vol = st.vol, sharpe = st.sharpe, sortino = st.sortino, calmar = st.calmar,
    max_drawdown = st.max_drawdown, max_drawdown_s = st.max_drawdown_s,
    max_drawdown_days = st.max_drawdown_days, win_rate = st.win_rate, profit_factor = st.profit_factor,
    turnover = st.turnover, exposure = st.exposure, small_sample = st.small_sample,
    avg_win = units_text(st.avg_win), avg_loss = units_text(st.avg_loss),
    expectancy = units_text(st.expectancy),
    benchmark_return = b and b.total_return or nil, excess_return = st.excess_return,
    first_taipei = M.taipei(r.first_ts), last_taipei = M.taipei(r.last_ts),
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

-- Write report.html, trades.csv, roundtrips.csv, equity.csv, daily.csv and
-- summary.json into dir. Returns stats, paths or nil, error.
function M.write(r, dir, opts)
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  local st = M.compute(r, opts)
  local paths = {}
  for name, text in pairs {
    ["report.html"] = M.html(r, st), ["trades.csv"] = M.trades_csv(r),
    ["roundtrips.csv"] = M.roundtrips_csv(r), ["summary.json"] = M.json(r, st),
    ["equity.csv"] = M.equity_csv(r), ["daily.csv"] = M.daily_csv(r, st),
  } do
    local p, err = write_file(dir .. "/" .. name, text)
    if not p then return nil, "report: cannot write " .. dir .. "/" .. name .. ": " .. err end
    paths[name] = p
  end
  return st, paths
end

return M
