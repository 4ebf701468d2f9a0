-- shijim.report_sweep — parameter grids for backtest.lua --sweep, and their report.
--
-- Owns: the --sweep grammar, the grid's combinations, running them as
-- separate `shijim backtest.lua` processes (LuaJIT has no threads: `jobs`
-- workers at once through xargs -P, each run writing its own report
-- directory), and the sweep page (a heatmap of one metric over the first two
-- parameters, and a table of every combination).
--
--   fast=3..8,slow=10..30      integer ranges, step 1
--   fast=3..9:2                a step (3,5,7,9)
--   mode=long|short            explicit values
--
-- Guarantees: combinations are numbered in a fixed order (the first parameter
-- varies slowest) and each run's directory is runs/NNN under the sweep's
-- output, so a sweep is reproducible and its runs can be opened one by one;
-- a run that fails is listed with its exit code and log, never dropped.
local fmt = require "shijim.report_fmt"
local svg = require "shijim.report_svg"

local M = {}

local format, concat, floor = string.format, table.concat, math.floor
local esc = fmt.esc

-- Metrics the heatmap can show: key in summary.json, label, higher-is-better.
M.METRICS = {
  sharpe = { "Sharpe", true }, sortino = { "Sortino", true }, calmar = { "Calmar", true },
  total_return = { "Total return", true, pct = true }, cagr = { "CAGR", true, pct = true },
  pnl = { "Net PnL (TWD)", true, money = true }, max_drawdown = { "Max drawdown", false, pct = true },
  profit_factor = { "Profit factor", true }, win_rate = { "Win rate", true, pct = true },
  trades = { "Trades", true, int = true }, expectancy = { "Expectancy (TWD/trade)", true, money = true },
}
M.METRIC_NAMES = { "sharpe", "sortino", "calmar", "total_return", "cagr", "pnl", "max_drawdown",
                   "profit_factor", "win_rate", "trades", "expectancy" }

-- "fast=3..8,slow=10..30" -> { {name = "fast", values = {3,...,8}}, ... } or nil, message.
function M.parse(spec)
  if type(spec) ~= "string" or spec == "" then return nil, "--sweep: empty grid" end
  local axes, seen = {}, {}
  for part in spec:gmatch("[^,]+") do
    local name, range = part:match("^%s*([%a_][%w_]*)%s*=%s*(.-)%s*$")
    if not name or range == "" then return nil, "--sweep: want NAME=A..B[:STEP] or NAME=V1|V2, got '" .. part .. "'" end
    if seen[name] then return nil, "--sweep: " .. name .. " given twice" end
    seen[name] = true
    local values = {}
    local a, b, step = range:match("^(%-?%d+%.?%d*)%.%.(%-?%d+%.?%d*):?(%d*%.?%d*)$")
    if a then
      a, b, step = tonumber(a), tonumber(b), tonumber(step) or 1
      if not (a and b) or step <= 0 then return nil, "--sweep: bad range for " .. name .. ": " .. range end
      if b < a then return nil, "--sweep: " .. name .. ": " .. range .. " runs backwards" end
      local n = floor((b - a) / step + 1e-9)
      for i = 0, n do values[#values + 1] = a + i * step end
    else
      for v in range:gmatch("[^|]+") do values[#values + 1] = tonumber(v) or v end
    end
    if #values == 0 then return nil, "--sweep: no values for " .. name end
    axes[#axes + 1] = { name = name, values = values }
  end
  if #axes == 0 then return nil, "--sweep: empty grid" end
  local total = 1
  for _, ax in ipairs(axes) do total = total * #ax.values end
  if total > 10000 then return nil, format("--sweep: %d combinations is too many (at most 10,000)", total) end
  return axes
end

-- Every combination: { {fast = 3, slow = 10}, ... }, first axis slowest.
function M.combos(axes)
  local out = { {} }
  for _, ax in ipairs(axes) do
    local next = {}
    for _, c in ipairs(out) do
      for _, v in ipairs(ax.values) do
        local d = {}
        for k, x in pairs(c) do d[k] = x end
        d[ax.name] = v
        next[#next + 1] = d
      end
    end
    out = next
  end
  return out
end

local function value_text(v)
  if type(v) == "number" and v == floor(v) then return format("%d", v) end
  return tostring(v)
end
M.value_text = value_text

-- "fast=3,slow=10" in the axes' order.
function M.label(axes, combo)
  local parts = {}
  for i, ax in ipairs(axes) do parts[i] = ax.name .. "=" .. value_text(combo[ax.name]) end
  return concat(parts, ",")
end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.shq = shq

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Run every combination. opts: bin, script, args (list of arguments shared by
-- every run), params (base "k=v" list), axes, out, jobs, progress(i, n, row).
-- Returns rows { {i =, combo =, label =, dir =, rc =, summary = table|nil} }.
function M.run(opts)
  local cjson = require "cjson"
  local combos = M.combos(opts.axes)
  local runs = opts.out .. "/runs"
  os.execute("mkdir -p " .. shq(runs))
  local jobs_path = runs .. "/jobs.sh"
  local f = assert(io.open(jobs_path, "w"))
  local rows = {}
  local shared = {}
  for i, a in ipairs(opts.args) do shared[i] = shq(a) end
  for i, c in ipairs(combos) do
    local dir = format("%s/%03d", runs, i)
    local params = {}
    for _, p in ipairs(opts.params or {}) do params[#params + 1] = p end
    for _, ax in ipairs(opts.axes) do params[#params + 1] = ax.name .. "=" .. value_text(c[ax.name]) end
    rows[i] = { i = i, combo = c, label = M.label(opts.axes, c), dir = dir, rel = format("runs/%03d", i) }
    -- one line per job: xargs hands it to sh -c
    f:write(format("%s %s %s --param %s --out %s --quiet >%s 2>&1; echo \"done %d $?\"\n",
      shq(opts.bin), shq(opts.script), concat(shared, " "), shq(concat(params, ",")), shq(dir),
      shq(dir .. ".log"), i))
  end
  f:close()
  local p = assert(io.popen(format("xargs -d '\\n' -n 1 -P %d sh -c < %s", opts.jobs, shq(jobs_path))))
  local done = 0
  for line in p:lines() do
    local i, rc = line:match("^done (%d+) (%d+)$")
    if i then
      local row = rows[tonumber(i)]
      row.rc = tonumber(rc)
      local text = read(row.dir .. "/summary.json")
      if row.rc == 0 and text then
        local ok, s = pcall(cjson.decode, text)
        if ok then row.summary = s end
      end
      if not row.summary then
        local log = read(row.dir .. ".log") or ""
        row.error = (log:match("([^\n]+)\n?$") or ("exit " .. row.rc))
      end
      done = done + 1
      if opts.progress then opts.progress(done, #rows, row) end
    end
  end
  p:close()
  for _, row in ipairs(rows) do
    if row.rc == nil then row.rc, row.error = -1, "never ran" end
  end
  return rows
end

-- The metric of a run as a number (money strings -> doubles for colour and order only).
function M.metric(row, metric)
  local s = row.summary
  if not s then return nil end
  local v = s[metric]
  if type(v) == "string" then v = tonumber(v) end
  if type(v) ~= "number" or v ~= v then return nil end
  return v
end

local function metric_text(metric, v, s)
  local m = M.METRICS[metric]
  if v == nil then return "n/a" end
  if m.money then return fmt.group(s[metric]) end
  if m.pct then return fmt.pct(v, 1) end
  if m.int then return fmt.int(v) end
  return fmt.num(v)
end

-- Heatmap of `metric` over the first two axes (the best value over any others).
function M.heatmap(axes, rows, metric)
  local m = M.METRICS[metric]
  local better = m[2]
  local xa, ya = axes[1], axes[2]
  if ya and #ya.values > #xa.values then xa, ya = ya, xa end -- the longer axis across
  local xi, yi = {}, {}
  for i, v in ipairs(xa.values) do xi[value_text(v)] = i end
  if ya then for i, v in ipairs(ya.values) do yi[value_text(v)] = i end end
  local best = {}
  for _, row in ipairs(rows) do
    local v = M.metric(row, metric)
    local cx = xi[value_text(row.combo[xa.name])]
    local cy = ya and yi[value_text(row.combo[ya.name])] or 1
    local key = cy * 100000 + cx
    local cur = best[key]
    if v ~= nil and (cur == nil or (better and v > cur.v) or (not better and v < cur.v)) then
      best[key] = { v = v, row = row }
    elseif cur == nil and v == nil then
      best[key] = { row = row }
    end
  end
  local cols, rlabels = {}, {}
  for i, v in ipairs(xa.values) do cols[i] = value_text(v) end
  if ya then for i, v in ipairs(ya.values) do rlabels[i] = ya.name .. "=" .. value_text(v) end
  else rlabels[1] = metric end
  local title = format("%s by %s (columns)%s", m[1], xa.name, ya and (" and " .. ya.name .. " (rows)") or "")
  if #axes > 2 then title = title .. ", best over the other parameters" end
  return svg.grid("sweep", title, rlabels, cols, function(ri, ci)
    local c = best[ri * 100000 + ci]
    if not c then return nil end
    local v = c.v
    local tip = c.row.label .. ": " .. (c.row.summary and metric_text(metric, v, c.row.summary) or
                                          ("failed: " .. tostring(c.row.error)))
    if v == nil then return nil, c.row.summary and "n/a" or "err", tip end
    return better and v or -v, metric_text(metric, v, c.row.summary), tip
  end)
end

local CSS = [[
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1100px}
table{border-collapse:collapse}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.best{background:#e8f5e9}
.neg{color:#c62828}.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
]]

-- The sweep page. info: name, codes, period, spec, jobs, seconds.
function M.html(axes, rows, metric, info)
  local m = M.METRICS[metric]
  local order = {}
  for i = 1, #rows do order[i] = rows[i] end
  table.sort(order, function(a, b)
    local va, vb = M.metric(a, metric), M.metric(b, metric)
    if va == nil and vb == nil then return a.i < b.i end
    if va == nil then return false end
    if vb == nil then return true end
    if va == vb then return a.i < b.i end
    if m[2] then return va > vb end
    return va < vb
  end)
  local head = { "<tr><th>#</th>" }
  for _, ax in ipairs(axes) do head[#head + 1] = "<th>" .. esc(ax.name) .. "</th>" end
  head[#head + 1] = "<th>trades</th><th>net PnL</th><th>return</th><th>Sharpe</th><th>max DD</th>" ..
                    "<th>profit factor</th><th>win rate</th><th>report</th></tr>"
  local body = { '<table id="combos">', concat(head) }
  local failed = 0
  for rank, row in ipairs(order) do
    local cells = { format('<tr class="combo%s" data-label="%s"><td>%d</td>', rank == 1 and row.summary and " best" or "",
                           esc(row.label), row.i) }
    for _, ax in ipairs(axes) do cells[#cells + 1] = '<td class="num">' .. esc(value_text(row.combo[ax.name])) .. "</td>" end
    local s = row.summary
    if s then
      cells[#cells + 1] = format('<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>' ..
        '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>' ..
        '<td><a href="%s/report.html">open</a></td>',
        fmt.int(s.trades), fmt.group(s.pnl), fmt.signed_pct(s.total_return), fmt.num(s.sharpe),
        fmt.pct(s.max_drawdown and -s.max_drawdown), fmt.num(s.profit_factor), fmt.pct(s.win_rate, 1), row.rel)
    else
      failed = failed + 1
      cells[#cells + 1] = format('<td colspan="8" class="neg">failed (exit %d): %s \226\128\148 %s.log</td>',
                                 row.rc or -1, esc(row.error or "?"), esc(row.rel))
    end
    cells[#cells + 1] = "</tr>"
    body[#body + 1] = concat(cells)
  end
  body[#body + 1] = "</table>"
  local best = order[1]
  local best_text = best and best.summary and format("Best by %s: <b>%s</b> (%s).", esc(m[1]), esc(best.label),
                                                     esc(metric_text(metric, M.metric(best, metric), best.summary)))
                    or "No combination produced a result."
  local small = ""
  if best and best.summary and best.summary.small_sample then
    small = format('<p class="note">Each run covers %d trading day(s): ratios rest on a small sample, and the best ' ..
                   'of %d combinations on the same data is an in-sample choice.</p>', best.summary.days or 0, #rows)
  end
  return concat({
    "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
    "<title>Shijim sweep: " .. esc(info.name) .. "</title><style>" .. CSS .. "</style></head><body>",
    "<h1>" .. esc(info.name) .. " &mdash; parameter sweep</h1>",
    "<p>Grid <code>" .. esc(info.spec) .. "</code>: " .. fmt.int(#rows) .. " combinations on " .. esc(info.codes) ..
      ", " .. esc(info.period or "") .. "; " .. info.jobs .. " worker processes, " ..
      fmt.duration(info.seconds) .. ". " .. (failed > 0 and ('<span class="neg">' .. failed .. " failed.</span> ") or "") ..
      best_text .. "</p>", small,
    M.heatmap(axes, rows, metric),
    "<h2>Every combination (by " .. esc(m[1]) .. ")</h2>", concat(body, "\n"),
    "<p>Each run's full tear sheet, CSVs and log are under runs/NNN. sweep.csv has this table.</p>",
    "</body></html>",
  }, "\n")
end

-- sweep.csv: every combination, its exit code and the main numbers.
function M.csv(axes, rows)
  local head = { "run" }
  for _, ax in ipairs(axes) do head[#head + 1] = ax.name end
  for _, k in ipairs { "rc", "trades", "pnl", "total_return", "sharpe", "sortino", "max_drawdown",
                       "profit_factor", "win_rate", "days" } do head[#head + 1] = k end
  local out = { concat(head, ",") }
  for _, row in ipairs(rows) do
    local cells = { row.i }
    for _, ax in ipairs(axes) do cells[#cells + 1] = value_text(row.combo[ax.name]) end
    local s = row.summary or {}
    cells[#cells + 1] = row.rc or ""
    for _, k in ipairs { "trades", "pnl", "total_return", "sharpe", "sortino", "max_drawdown",
                         "profit_factor", "win_rate", "days" } do
      local v = s[k]
      if type(v) == "number" and v ~= floor(v) then v = format("%.10g", v) end
      cells[#cells + 1] = v == nil and "" or tostring(v)
    end
    out[#out + 1] = concat(cells, ",")
  end
  return concat(out, "\n") .. "\n"
end

return M
