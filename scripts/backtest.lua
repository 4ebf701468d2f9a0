-- backtest.lua — run a CTA strategy on recorded data (backtest) or on a live or
-- simulated feed (paper), through the same simulated broker, and write a report.
--
--   shijim backtest.lua --strategy scripts/strategies/ma_cross.lua \
--          --from 2026-11-23 --to 2026-11-25 --codes TXFR1 --out out/ma
--   shijim backtest.lua --strategy scripts/strategies/ma_cross.lua --paper --duration 600
--
-- The strategy file is the same in both modes (see shijim.strategy); only the
-- feed differs: the raw archive through the replay source, or the simulated
-- market / Shioaji. Output in --out: report.html (the tear sheet: statistics,
-- equity vs buy-and-hold, underwater, daily PnL, monthly returns, price with
-- fills), trades.csv (fills), roundtrips.csv, equity.csv, daily.csv,
-- summary.json, orders.log.
--
--   shijim backtest.lua --strategy ma_cross.lua --codes TXFR1 --sweep fast=3..8,slow=10..30
--
-- runs the grid as separate backtests, `--jobs` at a time (default: the number
-- of cores), and writes sweep.html (heatmap of --metric, every combination),
-- sweep.csv and runs/NNN/ (each run's own report) in --out.
local shijim = require "shijim"
local cli = require "shijim.cli"
local strategy = require "shijim.strategy"
local report = require "shijim.report"

local opts = cli.parse(arg, {
  usage = "shijim backtest.lua --strategy FILE [--from DATE --to DATE] [--codes A,B] [options]",
  description = "Backtest a strategy on the raw archive, or paper-trade it (--paper) on the simulated\n" ..
                "market or Shioaji, with the simulated broker (Taiwan costs). Writes an HTML report.",
  { "--strategy", "string", "strategy file (returns strategy.define{...})", required = true, metavar = "FILE" },
  { "--from", "string", "first archive day YYYY-MM-DD (default: the oldest)", metavar = "DATE" },
  { "--to", "string", "last archive day YYYY-MM-DD (default: --from if given, else the newest)", metavar = "DATE" },
  { "--codes", "list", "instruments (default: the strategy's codes), e.g. 2330,TXFR1", metavar = "A,B" },
  { "--archive-dir", "string", "raw archive root", default = "data/raw", metavar = "DIR" },
  { "--source", "string", "recording source (sub-directory of the archive)", default = "sim", metavar = "NAME" },
  { "--files", "list", "explicit archive files instead of --archive-dir/--source/--from/--to", metavar = "F1,F2" },
  { "--speed", "string", "replay speed: max, or N x real time", default = "max" },
  { "--out", "string", "output directory (default out/<mode>-<strategy>)", metavar = "DIR" },
  { "--paper", "flag", "paper mode: live/simulated feed instead of the archive" },
  { "--feed", "string", "paper feed", default = "sim", choices = { "sim", "shioaji" } },
  { "--seed", "number", "paper sim: seed", default = 42 },
  { "--date", "string", "paper sim: trading date (default today)", metavar = "DATE" },
  { "--rate", "number", "paper sim: events/s (0 = as fast as possible)", default = 2000 },
  { "--duration", "number", "stop after N seconds (0 = until the data ends / Ctrl-C)", default = 0 },
  { "--events", "number", "stop after N events (0 = no limit)", default = 0 },
  { "--param", "list", "strategy parameters, e.g. fast=5,slow=20", metavar = "K=V,..." },
  { "--bars", "string", "bar periods instead of the strategy's, e.g. 1m,5m", metavar = "LIST" },
  { "--cash", "number", "initial capital, TWD (a lot of 2330 is ~1 M)", default = 10000000 },
  { "--margin", "string", "futures/short-option initial margin per contract, e.g. TXF=322000,MXF=80500 (default: not checked)" },
  { "--no-cash-check", "flag", "let stock/option buys take cash below zero" },
  { "--slippage", "number", "slippage in price units for every instrument", default = 0 },
  { "--day-trade", "flag", "stocks: day-trade sell tax 0.15% instead of 0.3%" },
  { "--partial-fills", "flag", "fill only the volume each trade / book level shows (default: all-or-nothing)" },
  { "--verbose", "flag", "print orders and fills in backtest mode too" },
  { "--quiet", "flag", "do not print the summary" },
  { "--sweep", "string", "parameter grid: run every combination, e.g. fast=3..8,slow=10..30 (A..B[:STEP] or V1|V2)",
    metavar = "GRID" },
  { "--metric", "string", "sweep: the heatmap's metric", default = "sharpe",
    choices = require("shijim.report_sweep").METRIC_NAMES },
  { "--jobs", "number", "sweep: backtests run at once (default: the number of cores)", metavar = "N" },
})

local def = strategy.load(opts.strategy)
local params = {}
for _, kv in ipairs(opts.param or {}) do
  local k, v = kv:match("^([%w_]+)=(.*)$")
  if not k then io.stderr:write("shijim: --param expects key=value, got '", kv, "'\n"); os.exit(2) end
  params[k] = strategy.coerce(def, k, v)
end
local margin = {}
for part in (opts.margin or ""):gmatch("[^,]+") do
  local k, v = part:match("^%s*(%w+)=(%d+)%s*$")
  if not k then io.stderr:write("shijim: --margin expects PRODUCT=TWD,..., got '", part, "'\n"); os.exit(2) end
  margin[k] = tonumber(v)
end
local codes = opts.codes or def.codes
if not codes or #codes == 0 then
  io.stderr:write("shijim: no codes: pass --codes or set codes in the strategy\n")
  os.exit(2)
end
local mode = opts.paper and "paper" or "backtest"
local out = opts.out or ("out/" .. (opts.sweep and "sweep" or mode) .. "-" .. def.name)

-- Sweep: every combination is a backtest of its own (a separate process of this
-- binary and script, --jobs at a time), then one page compares them.
local function usage_error(msg)
  io.stderr:write("shijim: ", msg, " (try --help)\n")
  os.exit(2)
end

if opts.sweep then
  local sweep = require "shijim.report_sweep"
  if opts.paper then usage_error("--sweep runs backtests on the archive: not with --paper") end
  local axes, err = sweep.parse(opts.sweep)
  if not axes then usage_error(err) end
  local swept = {}
  for _, ax in ipairs(axes) do
    swept[ax.name] = true
    for _, v in ipairs(ax.values) do
      local ok, e = pcall(strategy.coerce, def, ax.name, sweep.value_text(v))
      if not ok then usage_error("--sweep: " .. tostring(e)) end
    end
  end
  -- the arguments every run shares: ours without those the sweep sets per run
  local drop = { ["--sweep"] = true, ["--metric"] = true, ["--jobs"] = true, ["--out"] = true, ["--param"] = true }
  local shared, i = {}, 1
  while i <= #arg do
    local a = arg[i]
    local name = a:match("^(%-%-[%w%-]+)=")
    if drop[a] then i = i + 1
    elseif not (name and drop[name]) and a ~= "--quiet" then shared[#shared + 1] = a end
    i = i + 1
  end
  local base = {}
  for _, kv in ipairs(opts.param or {}) do
    if not swept[kv:match("^([%w_]+)=")] then base[#base + 1] = kv end
  end
  local jobs = opts.jobs
  if not jobs then
    local p = io.popen("nproc 2>/dev/null")
    jobs = p and tonumber(p:read("*l") or "") or 2
    if p then p:close() end
  end
  if jobs < 1 or jobs ~= math.floor(jobs) then usage_error("--jobs expects a positive integer") end
  local ffi = require "ffi"
  pcall(ffi.cdef, "long readlink(const char *path, char *buf, unsigned long size);")
  local exe = ffi.new("char[4096]")
  local n = ffi.C.readlink("/proc/self/exe", exe, 4095)
  local bin = n > 0 and ffi.string(exe, n) or (os.getenv("SHIJIM_BIN") or "shijim")
  local n_combos = #sweep.combos(axes)
  io.stderr:write(string.format("sweep: %d combinations of %s, %d at a time -> %s\n", n_combos, opts.sweep, jobs, out))
  local t0 = os.time()
  local tty = require("shijim.ffi").C.shj_isatty(2) == 1
  local rows = sweep.run {
    bin = bin, script = arg[0], args = shared, params = base, axes = axes, out = out, jobs = jobs,
    progress = function(done, total, row)
      local m = sweep.metric(row, opts.metric)
      local line = string.format("sweep %d/%d  %s  %s", done, total, row.label,
        row.summary and (opts.metric .. " " .. (m and string.format("%.4g", m) or "n/a")) or ("FAILED: " .. tostring(row.error)))
      if tty then io.stderr:write("\r\27[K", line) else io.stderr:write(line, "\n") end
    end,
  }
  if tty then io.stderr:write("\n") end
  local ok_runs, period = 0, nil
  for _, row in ipairs(rows) do
    if row.summary then
      ok_runs = ok_runs + 1
      period = period or ((row.summary.first_taipei or "") .. " .. " .. (row.summary.last_taipei or ""))
    end
  end
  local info = { name = def.name, codes = table.concat(codes, ","), period = period, spec = opts.sweep,
                 jobs = jobs, seconds = os.time() - t0 }
  for name, text in pairs { ["sweep.html"] = sweep.html(axes, rows, opts.metric, info),
                            ["sweep.csv"] = sweep.csv(axes, rows) } do
    local f = assert(io.open(out .. "/" .. name, "w"))
    f:write(text)
    f:close()
  end
  if not opts.quiet then
    io.stdout:write(string.format("sweep: %d of %d runs succeeded; report: %s/sweep.html (sweep.csv, runs/)\n",
                                  ok_runs, #rows, out))
  end
  os.exit(ok_runs > 0 and 0 or 1)
end
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")
local orders_log = assert(io.open(out .. "/orders.log", "w"))

local echo = opts.paper or opts.verbose
local eng = strategy.engine {
  strategy = def, params = params, codes = codes, bars = opts.bars, mode = mode,
  broker = { cash = opts.cash, slippage = opts.slippage, day_trade = opts.day_trade,
             partial = opts.partial_fills, margin = margin, check_cash = not opts.no_cash_check },
  log = function(line)
    orders_log:write(line, "\n")
    if echo then io.stderr:write(line, "\n") end
  end,
}


local src
if mode == "backtest" then
  src = shijim.source.replay {
    dir = opts.archive_dir, source = opts.source, files = opts.files, from = opts.from,
    to = opts.to or opts.from, codes = codes,
    speed = opts.speed == "max" and "max" or tonumber(opts.speed) or error("--speed: max or a number"),
  }
else
  local broker_sim = require "shijim.broker_sim"
  local stocks, futures, options = {}, {}, {}
  for _, c in ipairs(codes) do
    if broker_sim.is_future_code(c) then futures[#futures + 1] = c
    elseif broker_sim.is_option_code(c) then options[#options + 1] = c
    else stocks[#stocks + 1] = c end
  end
  if opts.feed == "shioaji" then
    src = shijim.source.shioaji {}
  else
    src = shijim.source.simulated { seed = opts.seed, rate = opts.rate, date = opts.date }
  end
  src:subscribe { stocks = stocks, futures = futures, options = options, kinds = { "tick", "bidask" } }
end

-- On a terminal the replay draws its own progress line (percent, events/s,
-- ETA): the runtime's 1-second status line would only garble it.
local status_ms
if mode == "backtest" and require("shijim.ffi").C.shj_isatty(2) == 1 then status_ms = 0 end

-- The traded code's last trade price at every equity sample (the report's
-- benchmark and trade markers): one length check per event, a table per sample.
local price = { code = codes[1], points = {}, real = {} }
local ppts, preal, curve, nrec = price.points, price.real, eng.curve, 0
local pcode, marks = codes[1], eng.broker.mark
local function record_prices()
  while nrec < #curve do
    nrec = nrec + 1
    local real = eng:real_code(pcode)
    if real then preal[real] = true end
    ppts[nrec] = { t = curve[nrec].t, p = real and marks[real] or nil }
  end
end

local feed = eng.feed
shijim.on({ "tick", "bidask", "quote", "status" }, function(ev)
  feed(eng, ev)
  if nrec < #curve then record_prices() end
end)
shijim.run { duration_s = opts.duration, events = opts.events, status_ms = status_ms }

local result = eng:finish()
record_prices()
result.price = price
orders_log:close()
local st, paths = report.write(result, out)
if not st then
  io.stderr:write("shijim: ", paths, "\n")
  os.exit(1)
end
if not opts.quiet then
  io.stdout:write(report.text(result, st))
  io.stdout:write("report: ", out, "/report.html (trades.csv, roundtrips.csv, equity.csv, daily.csv, ",
                  "summary.json, orders.log)\n")
end
