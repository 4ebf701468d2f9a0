-- main.lua — Shijim's default job: record the market into the raw archive.
--
--   shijim run main.lua                  simulated market (no credentials needed)
--   SJ_API_KEY=... SJ_SEC_KEY=... shijim run main.lua --url http://127.0.0.1:8080
--
-- Picks the live Shioaji source when a server URL/socket or credentials are
-- configured, the built-in simulated market otherwise, and says which.
local shijim = require "shijim"
local cli = require "shijim.cli"
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local opts = cli.parse(arg, {
  usage = "shijim run main.lua [options]",
  description = "Record TWSE/TPEx stocks and TAIFEX futures into the raw archive, printing a status line every second.",
  { "--stocks", "list", "stock codes", default = { "2330", "2317", "0050", "2454", "2603" } },
  { "--futures", "list", "futures codes (continuous aliases allowed)", default = { "TXFR1", "MXFR1" } },
  { "--kinds", "list", "event kinds", default = { "tick", "bidask" } },
  { "--dir", "string", "raw archive directory", default = "data/raw" },
  { "--fsync-ms", "number", "fsync the archive at least this often", default = 100 },
  { "--duration", "number", "stop after N seconds (0 = until Ctrl-C)", default = 0 },
  { "--events", "number", "stop after N events (0 = no limit)", default = 0 },
  { "--rate", "number", "simulated events per second (0 = as fast as possible)", default = 20000 },
  { "--seed", "number", "simulated market seed", default = 42 },
  { "--date", "string", "simulated trading date YYYY-MM-DD (default: today in Taipei)" },
  { "--url", "string", "Shioaji server URL (e.g. http://127.0.0.1:8080)" },
  { "--socket", "string", "Shioaji server Unix socket path" },
  { "--clickhouse", "string", "also record into ClickHouse at this DSN (or $SHIJIM_CLICKHOUSE_DSN)" },
  { "--fallback-dir", "string", "where ClickHouse batches go when it is down", default = "data/fallback" },
  { "--quiet", "flag", "do not log block trades" },
})

local url = opts.url or os.getenv("SHIOAJI_URL")
local has_keys = (os.getenv("SHIOAJI_API_KEY") or os.getenv("SJ_API_KEY")) ~= nil
local src
if url or opts.socket or has_keys then
  src = shijim.source.shioaji{ url = url, socket = opts.socket }
  -- a URL may carry a password (http://u:PASSWORD@host): core/redact.h decides what shows
  local shown = opts.socket or url or "http://127.0.0.1:8080"
  if not opts.socket and url then
    sffi.C.shj_redact_url(url, sffi.textbuf, sffi.TEXTLEN)
    shown = ffi.string(sffi.textbuf)
  end
  shijim.log("source: live Shioaji server at " .. shown)
else
  src = shijim.source.simulated{ seed = opts.seed, rate = opts.rate, date = opts.date }
  shijim.log(string.format("source: simulated market (no Shioaji credentials or server URL configured), seed %d, %s",
    opts.seed, opts.rate > 0 and (opts.rate .. " events/s") or "as fast as possible"))
end

src:subscribe{ stocks = opts.stocks, futures = opts.futures, kinds = opts.kinds }
shijim.route(src, require("sinks.raw"){ dir = opts.dir, fsync_ms = opts.fsync_ms })

-- ClickHouse is the analytical copy; the raw archive stays the ground truth.
-- When ClickHouse is slow or down, batches go to JSONL under --fallback-dir
-- (replay them with `shijim restore.lua --fallback-dir DIR --apply`).
local dsn = opts.clickhouse or os.getenv("SHIJIM_CLICKHOUSE_DSN")
if dsn then
  shijim.route(src, require("sinks.clickhouse"){ dsn = dsn, fallback_dir = opts.fallback_dir })
end

-- Block trades (>= 100 lots), reported at most once a second so logs stay readable.
if not opts.quiet then
  local last_block, seen = nil, 0
  shijim.on({ kind = "tick", where = function(ev) return ev.volume >= 100 and not ev:is("simtrade") end },
    function(ev)
      seen = seen + 1
      last_block = string.format("%s %s x %d at %s", ev:symbol(), ev:dec("close"), ev.volume, ev:taipei_time())
    end)
  shijim.every(1000, function()
    if last_block then
      shijim.log(string.format("block trades: %d in the last second, latest %s", seen, last_block))
      last_block, seen = nil, 0
    end
  end)
end

shijim.run{ duration_s = opts.duration, events = opts.events }
