-- backtest.lua — run a CTA strategy on recorded data (backtest) or on a live or
-- simulated feed (paper), through the same simulated broker, and write a report.
--
--   shijim backtest.lua --strategy scripts/strategies/ma_cross.lua \
--          --from 2026-11-23 --to 2026-11-25 --codes TXFR1 --out out/ma
--   shijim backtest.lua --strategy scripts/strategies/ma_cross.lua --paper --duration 600
--
-- The strategy file is the same in both modes (see shijim.strategy); only the
-- feed differs: the raw archive through the replay source, or the simulated
-- market / Shioaji. Output in --out: report.html (summary + equity/drawdown
-- SVG), trades.csv (fills), roundtrips.csv, summary.json, orders.log.
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
local out = opts.out or ("out/" .. mode .. "-" .. def.name)
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

local feed = eng.feed
shijim.on({ "tick", "bidask", "quote", "status" }, function(ev) feed(eng, ev) end)
shijim.run { duration_s = opts.duration, events = opts.events, status_ms = status_ms }

local result = eng:finish()
orders_log:close()
local st, paths = report.write(result, out)
if not st then
  io.stderr:write("shijim: ", paths, "\n")
  os.exit(1)
end
if not opts.quiet then
  io.stdout:write(report.text(result, st))
  io.stdout:write("report: ", out, "/report.html (trades.csv, roundtrips.csv, summary.json, orders.log)\n")
end
