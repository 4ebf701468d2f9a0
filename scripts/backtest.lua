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

local usage_error = cli.usage_error

local function check_speed(v)
  if v ~= "max" and not ((cli.number(v) or 0) > 0) then return "expects max or a positive number, got '" .. v .. "'" end
end
local function check_files(list)
  for _, f in ipairs(list) do
    local h = io.open(f, "rb")
    if not h then return "no such file '" .. f .. "'" end
    h:close()
  end
end
local function check_bars(v)
  local ok, err = strategy.periods(v)
  if not ok then return (err:gsub("^bars: ", "")) end
end

local opts = cli.parse(arg, {
  usage = "shijim backtest.lua --strategy FILE [--from DATE --to DATE] [--codes A,B] [options]",
  description = "Backtest a strategy on the raw archive, or paper-trade it (--paper) on the simulated\n" ..
                "market or Shioaji, with the simulated broker (Taiwan costs). Writes an HTML report.",
  { "--strategy", "file", "strategy file (returns strategy.define{...})", required = true, metavar = "FILE",
    resolve = strategy.find },
  { "--from", "date", "first archive day YYYY-MM-DD (default: the oldest)", metavar = "DATE" },
  { "--to", "date", "last archive day YYYY-MM-DD (default: --from if given, else the newest)", metavar = "DATE" },
  { "--codes", "codes", "instruments (default: the strategy's codes), e.g. 2330,TXFR1", metavar = "A,B" },
  { "--archive-dir", "string", "raw archive root", default = "data/raw", metavar = "DIR" },
  { "--source", "string", "recording source (sub-directory of the archive)", default = "sim", metavar = "NAME" },
  { "--files", "list", "explicit archive files instead of --archive-dir/--source/--from/--to", metavar = "F1,F2",
    check = check_files },
  { "--speed", "string", "replay speed: max, or N x real time", default = "max", check = check_speed },
  { "--out", "string", "output directory (default out/<mode>-<strategy>)", metavar = "DIR" },
  { "--paper", "flag", "paper mode: live/simulated feed instead of the archive" },
  { "--feed", "string", "paper feed", default = "sim", choices = { "sim", "shioaji" } },
  { "--seed", "int", "paper sim: seed", default = 42, min = 0 },
  { "--date", "date", "paper sim: trading date (default today)", metavar = "DATE" },
  { "--rate", "number", "paper sim: events/s (0 = as fast as possible)", default = 2000, min = 0 },
  { "--duration", "number", "stop after N seconds (0 = until the data ends / Ctrl-C)", default = 0, min = 0 },
  { "--events", "number", "stop after N events (0 = no limit)", default = 0, min = 0, integer = true },
  { "--param", "kv", "strategy parameters, e.g. fast=5,slow=20", metavar = "K=V,..." },
  { "--bars", "string", "bar periods instead of the strategy's, e.g. 1m,5m (the first is the one it trades)",
    metavar = "LIST", check = check_bars },
  { "--cash", "number", "initial capital, TWD (a lot of 2330 is ~1 M)", default = 10000000, min = 1 },
  { "--margin", "kv", "futures/short-option initial margin per contract, e.g. TXF=322000,MXF=80500 (default: not checked)",
    metavar = "P=TWD,..." },
  { "--no-cash-check", "flag", "let stock/option buys take cash below zero" },
  { "--slippage", "number", "slippage in price units for every instrument", default = 0, min = 0 },
  { "--day-trade", "flag", "stocks: day-trade sell tax 0.15% instead of 0.3%" },
  { "--partial-fills", "flag", "fill only the volume each trade / book level shows (default: all-or-nothing)" },
  { "--verbose", "flag", "print orders and fills in backtest mode too" },
  { "--quiet", "flag", "do not print the summary, warnings or the strategy's log lines" },
  { "--sweep", "string", "parameter grid: run every combination, e.g. fast=3..8,slow=10..30 (A..B[:STEP] or V1|V2)",
    metavar = "GRID" },
  { "--metric", "string", "sweep: the heatmap's metric", default = "sharpe",
    choices = require("shijim.report_sweep").METRIC_NAMES },
  { "--jobs", "int", "sweep: backtests run at once (default: the number of cores)", metavar = "N", min = 1 },
  ranges = { { "from", "to" } },
  exclusive = { { "paper", "sweep" }, { "paper", "from" }, { "paper", "to" }, { "files", "from" }, { "files", "to" } },
})

-- The strategy and its parameters are arguments too: checked before any work.
local ok_def, def = pcall(strategy.load, opts.strategy)
if not ok_def then usage_error("--strategy " .. tostring(def):gsub("^strategy: ", "")) end
local params = {}
for _, kv in ipairs(opts.param or {}) do
  local k, v = kv:match("^([%w_]+)=(.*)$")
  if not k then usage_error("--param expects key=value, got '" .. kv .. "'") end
  local ok, val = pcall(strategy.coerce, def, k, v)
  if not ok then usage_error("--param " .. tostring(val):gsub("^parameter ", "")) end
  params[k] = val
end
local margin = {}
for _, part in ipairs(opts.margin or {}) do
  local k, v = part:match("^(%w+)=(%d+)$")
  if not k then usage_error("--margin expects PRODUCT=TWD (a whole number), got '" .. part .. "'") end
  margin[k] = tonumber(v)
end
local codes = opts.codes or def.codes
if not codes or #codes == 0 then usage_error("no codes: pass --codes or set codes in the strategy") end
for _, c in ipairs(codes) do
  if not cli.is_code(c) then usage_error("strategy " .. def.name .. ": '" .. c .. "' is not an instrument code") end
end
local quiet = opts.quiet
local warnings = {}
local function warn(msg)
  warnings[#warnings + 1] = msg
  if not quiet then io.stderr:write("shijim: warning: ", msg, "\n") end
end
local mode = opts.paper and "paper" or "backtest"
local out = opts.out or ("out/" .. (opts.sweep and "sweep" or mode) .. "-" .. def.name)

-- Sweep: every combination is a backtest of its own (a separate process of this
-- binary and script, --jobs at a time), then one page compares them.

if opts.sweep then
  local sweep = require "shijim.report_sweep"
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
-- The engine (the strategy's init) and the source are made before anything is
-- written: a strategy that refuses its parameters or an archive without the
-- requested days leaves no output directory behind.
local orders_log, pending_log = nil, {}
local echo = opts.paper or opts.verbose
local ok_eng, eng = pcall(strategy.engine, {
  strategy = def, params = params, codes = codes, bars = opts.bars, mode = mode,
  broker = { cash = opts.cash, slippage = opts.slippage, day_trade = opts.day_trade,
             partial = opts.partial_fills, margin = margin, check_cash = not opts.no_cash_check },
  warn = warn,
  -- orders and fills: orders.log (and the terminal with --verbose / --paper);
  -- the strategy's own self:log lines always reach the terminal (unless --quiet)
  log = function(line, loud)
    if orders_log then orders_log:write(line, "\n") else pending_log[#pending_log + 1] = line end
    if echo or (loud and not quiet) then io.stderr:write(line, "\n") end
  end,
})
if not ok_eng then
  local msg = tostring(eng):gsub("^[^%s]-:%d+: ", "")
  if msg:sub(1, #def.name + 2) ~= def.name .. ": " then msg = def.name .. ": " .. msg end
  usage_error("strategy " .. msg)
end

local src
if mode == "backtest" then
  local ok_src
  ok_src, src = pcall(shijim.source.replay, {
    dir = opts.archive_dir, source = opts.source, files = opts.files, from = opts.from,
    to = opts.to or opts.from, codes = codes,
    speed = opts.speed == "max" and "max" or tonumber(opts.speed),
  })
  if not ok_src then -- nothing to play: the message says what exists
    io.stderr:write("shijim: ", (tostring(src):gsub("^.-source: ", ""):gsub("\n+$", "")), "\n")
    os.exit(1)
  end
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

os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")
orders_log = assert(io.open(out .. "/orders.log", "w"))
for _, line in ipairs(pending_log) do orders_log:write(line, "\n") end

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
result.warnings = warnings
orders_log:close()
-- No event at all for the requested codes: a report would be an empty page
-- dated 1970. Say which codes, and what the archive holds.
if result.events == 0 then
  local where
  if mode == "backtest" and not opts.files then
    local dir = opts.archive_dir .. "/" .. opts.source
    local days = {}
    local p = io.popen("ls '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
    for name in p:lines() do
      local d = name:match("^(%d%d%d%d%-%d%d%-%d%d)%.shjraw$")
      if d then days[#days + 1] = d end
    end
    p:close()
    where = string.format(" in %s %s; days recorded there: %s", dir,
      opts.from and (opts.from .. ".." .. (opts.to or opts.from)) or "(every day)",
      #days > 0 and table.concat(days, ", ") or "none")
  elseif mode == "backtest" then
    where = " in " .. table.concat(opts.files, ",")
  else
    where = " from the " .. opts.feed .. " feed"
  end
  io.stderr:write("shijim: no events for ", table.concat(codes, ","), where, ": nothing to report\n")
  os.exit(1)
end
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
