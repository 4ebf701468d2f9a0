-- simulate.lua — make simulated trading days in the raw archive, as fast as possible.
--
--   shijim simulate.lua --days 5                         a week from today (Taipei)
--   shijim simulate.lua --days 5 --from 2026-11-23 --codes 2330,TXFR1 --dir data/raw
--
-- Runs the built-in simulated market (docs/simulator.md: calibrated trade rates,
-- U-shaped activity, TAIFEX night sessions, open gaps and intraday regimes)
-- unpaced into <dir>/<source>/<trading day>.shjraw, one whole trading day per
-- file (a TAIFEX night session belongs to the next trading day). Each day is a
-- function of (seed, date): the same command writes the same bytes, other dates
-- differ. Every event is flagged simulated (SHJ_FLAG_SIMULATED), in replay too.
-- Then e.g.: shijim backtest.lua --strategy scripts/strategies/ma_cross.lua --from D1 --to D5
local shijim = require "shijim"
local cli = require "shijim.cli"

local function usage_error(msg)
  io.stderr:write("shijim: simulate.lua: ", msg, " (try --help)\n")
  os.exit(2)
end

local opts = cli.parse(arg, {
  usage = "shijim simulate.lua --days N [--from YYYY-MM-DD] [--codes A,B] [--dir DIR]",
  description = "Write N simulated trading days into the raw archive, as fast as possible.",
  { "--days", "number", "trading days to make (weekends are skipped)", default = 5 },
  { "--from", "string", "first trading day YYYY-MM-DD (default: today in Taipei; a weekend means Monday)", metavar = "DATE" },
  { "--codes", "list", "instruments", default = { "2330", "2317", "0050", "TXFR1", "MXFR1" }, metavar = "A,B" },
  { "--dir", "string", "raw archive root", default = "data/raw", metavar = "DIR" },
  { "--source", "string", "source name (archive sub-directory)", default = "sim", metavar = "NAME" },
  { "--seed", "number", "market seed", default = 42 },
  { "--quiet", "flag", "no progress lines" },
})

-- Every argument is checked before any work starts.
if #opts.args > 0 then usage_error("unexpected argument '" .. opts.args[1] .. "'") end
if opts.days ~= math.floor(opts.days) or opts.days < 1 or opts.days > 260 then
  usage_error("--days wants a whole number 1..260, got " .. tostring(opts.days))
end
if opts.seed ~= math.floor(opts.seed) or opts.seed < 0 then
  usage_error("--seed wants a whole number >= 0, got " .. tostring(opts.seed))
end
if opts.from then
  local y, m, d = opts.from:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  local t = y and os.time { year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 }
  if not t or os.date("%Y-%m-%d", t) ~= opts.from then
    usage_error("--from wants an existing date YYYY-MM-DD, got '" .. opts.from .. "'")
  end
end
if #opts.codes == 0 then usage_error("--codes is empty") end
if opts.source == "" or opts.source:find("/", 1, true) then usage_error("--source wants a name without '/'") end

local ok, src = pcall(shijim.source.simulated,
                      { name = opts.source, seed = opts.seed, date = opts.from, rate = 0, days = opts.days })
if not ok then usage_error(tostring(src):gsub("^.-source: ", "")) end
local stocks, futures = {}, {}
for _, c in ipairs(opts.codes) do
  if c:match("^%d") then stocks[#stocks + 1] = c else futures[#futures + 1] = c end
end
local sub_ok, src_err = pcall(function()
  if #stocks > 0 then src:subscribe { stocks = stocks, kinds = { "tick", "bidask" } } end
  if #futures > 0 then src:subscribe { futures = futures, kinds = { "tick", "bidask" } } end
end)
if not sub_ok then usage_error((tostring(src_err):gsub("^.-: ", "", 1))) end
shijim.route(src, require("sinks.raw") { dir = opts.dir, fsync_ms = 1000 })

-- Progress: one line per finished trading day (the source's session status).
local t0 = os.clock()
local wall0 = os.time()
local days, n_events, current = {}, 0, nil
shijim.on({ "tick", "bidask" }, function() n_events = n_events + 1 end)
local function day_done()
  if not current then return end
  days[#days + 1] = { date = current, payloads = n_events }
  n_events = 0
  if not opts.quiet then
    io.stderr:write(string.format("simulate: %s done: %d events (%d/%d days, %.1f s CPU)\n",
      current, days[#days].payloads, #days, opts.days, os.clock() - t0))
  end
  current = nil
end
shijim.on("status", function(ev)
  local detail = ev:status_name() and require("ffi").string(ev.detail) or ""
  local date, what = detail:match("^simulated session (%d%d%d%d%-%d%d%-%d%d) (%a+)")
  if not date then return end
  if what == "open" then current = date elseif what == "closed" then day_done() end
end)

shijim.run { status_ms = 0 }
day_done()

local total = src:counter("payloads")
local secs = math.max(os.clock() - t0, 1e-9)
print(string.format("simulate: %d trading days (%s .. %s), %d payloads, %d events, %d malformed, into %s/%s/ in %.1f s CPU (%d s wall, %.0f payloads/s)",
  #days, days[1] and days[1].date or "-", days[#days] and days[#days].date or "-", total,
  src:counter("events"), src:counter("malformed"), opts.dir, opts.source, secs, os.time() - wall0, total / secs))
for _, d in ipairs(days) do
  print(string.format("  %s  %9d events  %s/%s/%s.shjraw", d.date, d.payloads, opts.dir, opts.source, d.date))
end
if #days ~= opts.days or src:counter("malformed") > 0 then
  io.stderr:write("shijim: simulate.lua: made ", #days, " of ", opts.days, " days\n")
  os.exit(1)
end
