-- shijim.report_html — the self-contained HTML tear sheet of one run.
--
-- Owns: the page layout and the statistics table (rows keyed by data-key, so
-- tests and scrapers need not parse the labels). Everything is inline: CSS,
-- SVG charts (shijim.report_svg); no script, no network, one file.
local fmt = require "shijim.report_fmt"
local stats = require "shijim.report_stats"
local svg = require "shijim.report_svg"

local M = {}

local format, concat, floor = string.format, table.concat, math.floor
local esc = fmt.esc
local CENT = fmt.SCALE / 100

-- An average of money units (a double) to whole cents for display.
local function cents(x) if x == nil then return nil end return floor(x / CENT + 0.5) * CENT end
M.cents = cents

local function twd(u) return fmt.twd(u) .. (u and " TWD" or "") end

-- The statistics, grouped: { {section, { {key, label, text}, ... }}, ... }.
-- A star marks annualised ratios resting on fewer than SMALL_SAMPLE_DAYS days.
function M.sections(r, st)
  local star = st.small_sample and " *" or ""
  local function ratio(x) return x and (fmt.num(x) .. star) or "n/a" end
  local b = st.benchmark
  local dd_when = st.dd.peak_t and (" peak " .. stats.taipei(st.dd.peak_t) .. ", trough " ..
                                    stats.taipei(st.dd.trough_t)) or ""
  local dur = fmt.duration(st.max_drawdown_s)
  if st.max_drawdown_s > 0 then
    dur = dur .. format(" (%d trading day%s%s)", st.max_drawdown_days, st.max_drawdown_days == 1 and "" or "s",
                        st.dd.recovered and "" or ", not recovered")
  end
  local returns = {
    { "pnl", "Net PnL", fmt.signed_twd(st.pnl) .. " TWD" },
    { "total_return", "Total return", fmt.signed_pct(st.total_return) },
    { "cagr", "CAGR", st.cagr and (fmt.signed_pct(st.cagr) .. star) or "n/a" },
    { "initial", "Initial capital", twd(st.initial) },
    { "final", "Final equity", twd(st.final) },
    { "realised", "Realised / unrealised", fmt.signed_twd(st.realised) .. " / " .. fmt.signed_twd(st.unrealised) .. " TWD" },
  }
  if b then
    returns[#returns + 1] = { "benchmark_return", "Buy & hold " .. b.code,
                              fmt.signed_pct(b.total_return) .. format(" (%s -> %s)",
                              fmt.money(b.first_price), fmt.money(b.last_price)) }
    returns[#returns + 1] = { "excess_return", "Excess over buy & hold", fmt.signed_pct(st.excess_return) }
  else
    returns[#returns + 1] = { "benchmark_return", "Buy & hold", "n/a (no price series recorded)" }
  end
  local risk = {
    { "vol", "Volatility (annualised)", st.vol and (fmt.pct(st.vol) .. star) or "n/a" },
    { "sharpe", "Sharpe (daily, x sqrt(252), rf 0)", ratio(st.sharpe) },
    { "sortino", "Sortino", ratio(st.sortino) },
    { "calmar", "Calmar (CAGR / max DD)", ratio(st.calmar) },
    { "max_drawdown", "Max drawdown", fmt.pct(-st.max_drawdown) .. " (" .. fmt.signed_twd(-st.max_drawdown_at_max) ..
      " TWD)" },
    { "max_drawdown_when", "Max drawdown from", st.dd.peak_t and dd_when:sub(2) or "no drawdown" },
    { "max_drawdown_duration", "Longest drawdown", dur },
    { "days", "Trading days", fmt.int(st.days) .. (st.days > 0 and format(" (%d up, %d down/flat)", st.up_days,
      st.days - st.up_days) or "") },
    { "best_day", "Best / worst day", st.best_day and (fmt.signed_twd(st.best_day.pnl) .. " (" .. st.best_day.text ..
      ") / " .. fmt.signed_twd(st.worst_day.pnl) .. " (" .. st.worst_day.text .. ")") or "n/a" },
  }
  if b then
    risk[#risk + 1] = { "benchmark_risk", "Buy & hold: max DD / Sharpe",
                        fmt.pct(-b.drawdown.max) .. " / " .. ratio(b.sharpe) }
  end
  local trades = {
    { "trades", "Trades (round trips)", fmt.int(st.trades) .. format(" (%d won, %d lost)", st.wins, st.losses) },
    { "win_rate", "Win rate", fmt.pct(st.win_rate, 1) },
    { "avg_win", "Average win / loss", (st.avg_win and fmt.signed_twd(cents(st.avg_win)) or "n/a") .. " / " ..
      (st.avg_loss and fmt.signed_twd(cents(st.avg_loss)) or "n/a") .. " TWD" },
    { "expectancy", "Expectancy (per trade)", st.expectancy and (fmt.signed_twd(cents(st.expectancy)) .. " TWD") or "n/a" },
    { "profit_factor", "Profit factor", st.profit_factor and fmt.num(st.profit_factor) or
      (st.wins > 0 and "n/a (no losing trade)" or "n/a") },
    { "largest", "Largest win / loss", st.largest_win and (fmt.signed_twd(st.largest_win) .. " / " ..
      fmt.signed_twd(st.largest_loss) .. " TWD") or "n/a" },
    { "avg_hold", "Average holding time", st.avg_hold_s and fmt.duration(st.avg_hold_s) or "n/a" },
    { "exposure", "Exposure (time in a position)", fmt.pct(st.exposure, 1) },
  }
  local costs = {
    { "costs", "Costs", twd(st.costs) .. (st.cost_bps and format(" (%s bps of traded value)", fmt.num(st.cost_bps, 2)) or "") },
    { "commission", "Commission", twd(st.commission) },
    { "fee", "Exchange / broker fees", twd(st.fee) },
    { "tax", "Transaction tax", twd(st.tax) },
    { "turnover", "Turnover", fmt.num(st.turnover) .. "x capital (" .. twd(st.turnover_value) .. ")" },
    { "fills", "Fills / orders", fmt.int(st.fills) .. " / " .. fmt.int(st.orders) },
  }
  local run = {
    { "strategy", "Strategy", r.name .. " (" .. r.mode .. ")" },
    { "codes", "Codes", concat(r.codes, ",") },
    { "period", "Period (Taipei)", stats.taipei(r.first_ts) .. " .. " .. stats.taipei(r.last_ts) },
    { "events", "Events", fmt.int(st.events) },
  }
  return { { "Returns", returns }, { "Risk", risk }, { "Trades", trades }, { "Costs and activity", costs },
           { "Run", run } }
end

local CSS = [[
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1000px}
h1{margin-bottom:0.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:flex;flex-wrap:wrap;gap:1.5em}.stats table{min-width:440px}
.stats caption{text-align:left;font-weight:bold;padding:4px 0}
.pos{color:#2e7d32}.neg{color:#c62828}.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px}
.empty{color:#666;font-style:italic}svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
]]

local function stats_tables(r, st)
  local out = { '<div class="stats" id="stats">' }
  for _, sec in ipairs(M.sections(r, st)) do
    out[#out + 1] = "<table><caption>" .. esc(sec[1]) .. "</caption>"
    for _, row in ipairs(sec[2]) do
      out[#out + 1] = format('<tr data-key="%s"><th>%s</th><td class="num">%s</td></tr>', row[1], esc(row[2]),
                             esc(row[3]))
    end
    out[#out + 1] = "</table>"
  end
  out[#out + 1] = "</div>"
  return concat(out, "\n")
end

local MAX_ROWS = 500

local function trades_table(r, st)
  if #r.roundtrips == 0 then
    local why
    if st.fills == 0 then
      why = format("No trades: the strategy placed %s order%s and got no fill over %s events. " ..
                   "Check its bar period (--bars, which sets its period_s), its codes and the data range.",
                   fmt.int(st.orders), st.orders == 1 and "" or "s", fmt.int(st.events))
    else
      why = format("No completed round trip: %s fill%s, but no position went back to flat " ..
                   "(open at the end: see Realised / unrealised). Fills are in trades.csv.",
                   fmt.int(st.fills), st.fills == 1 and "" or "s")
    end
    return '<p class="empty" id="no-trades">' .. esc(why) .. "</p>"
  end
  local rows = { '<table id="trades"><tr><th>#</th><th>code</th><th>side</th><th>open</th><th>close</th>' ..
                 '<th>qty</th><th>gross</th><th>costs</th><th>net</th></tr>' }
  for i, t in ipairs(r.roundtrips) do
    if i > MAX_ROWS then
      rows[#rows + 1] = format('<tr><td colspan="9">\226\128\166 %s more in roundtrips.csv</td></tr>',
                               fmt.int(#r.roundtrips - MAX_ROWS))
      break
    end
    rows[#rows + 1] = format(
      '<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="num">%d</td><td class="num">%s</td>' ..
      '<td class="num">%s</td><td class="num %s">%s</td></tr>',
      i, esc(t.code), t.side, esc(stats.taipei(t.open_ts)), esc(stats.taipei(t.close_ts)), t.max_qty,
      fmt.signed_twd(t.gross), fmt.twd(t.costs), t.net >= 0 and "pos" or "neg", fmt.signed_twd(t.net))
  end
  rows[#rows + 1] = "</table>"
  return concat(rows, "\n")
end

function M.page(r, st)
  local params, keys = {}, {}
  for k in pairs(r.params or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do params[#params + 1] = esc(k) .. "=" .. esc(r.params[k]) end
  local ax, pts = svg.result_axis(r, st.gap_s)
  local note = ""
  if st.small_sample then
    note = format('<p class="note" id="small-sample">* Only %d trading day%s: annualised figures (CAGR, volatility, ' ..
                  'Sharpe, Sortino, Calmar) rest on fewer than %d days and say little about the strategy.</p>',
                  st.days, st.days == 1 and "" or "s", stats.SMALL_SAMPLE_DAYS)
  end
  return concat({
    "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
    "<title>Shijim " .. esc(r.mode) .. ": " .. esc(r.name) .. "</title>",
    "<style>" .. CSS .. "</style></head><body>",
    "<h1>" .. esc(r.name) .. " &mdash; " .. esc(r.mode) .. "</h1>",
    "<p>" .. esc(concat(r.codes, ",")) .. ", " .. esc(stats.taipei(r.first_ts)) .. " .. " ..
      esc(stats.taipei(r.last_ts)) .. " (Asia/Taipei)" .. (#params > 0 and (". Parameters: " .. concat(params, ", ")) or "") ..
      "</p>",
    stats_tables(r, st), note,
    "<h2>Equity</h2>", svg.equity(ax, pts, st),
    svg.underwater(ax, pts),
    "<p class=\"empty\">x axis: trading time (sessions joined; dashed lines mark market breaks longer than " ..
      floor(st.gap_s / 60) .. " min).</p>",
    "<h2>Daily and monthly</h2>", svg.daily(st), svg.monthly(st),
    "<h2>Price and trades</h2>", svg.price(ax, r),
    "<h2>Trades</h2>", trades_table(r, st),
    "<p>Files: trades.csv (fills), roundtrips.csv, equity.csv, daily.csv, summary.json, orders.log. " ..
      "Money is exact (1/" .. fmt.SCALE .. " TWD units); times are Asia/Taipei.</p>",
    "</body></html>",
  }, "\n")
end

return M
