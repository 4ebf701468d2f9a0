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
  description = "Record TWSE/TPEx stocks and TAIFEX futures into the raw archive, printing a status line every second. "
    .. "With --schedule it runs unattended: subscriptions open before each session (TWSE/TPEx with the pre-open, "
    .. "TAIFEX day and night), close after it, and it sleeps over weekends and holidays (docs/operations.md).",
  { "--stocks", "codes", "stock codes", default = { "2330", "2317", "0050", "2454", "2603" } },
  { "--futures", "codes", "futures codes (continuous aliases allowed)", default = { "TXFR1", "MXFR1" } },
  { "--kinds", "list", "event kinds", default = { "tick", "bidask" }, choices = { "tick", "bidask", "quote" } },
  { "--dir", "string", "raw archive directory", default = "data/raw" },
  { "--fsync-ms", "number", "fsync the archive at least this often", default = 100, min = 0 },
  { "--duration", "number", "stop after N seconds (0 = until Ctrl-C)", default = 0, min = 0 },
  { "--events", "number", "stop after N events (0 = no limit)", default = 0, min = 0, integer = true },
  { "--rate", "number", "simulated events per second (0 = as fast as possible)", default = 20000, min = 0 },
  { "--seed", "int", "simulated market seed", default = 42, min = 0 },
  { "--date", "date", "simulated trading date YYYY-MM-DD (default: today in Taipei)" },
  { "--url", "string", "Shioaji server URL (e.g. http://127.0.0.1:8080)" },
  { "--socket", "string", "Shioaji server Unix socket path" },
  { "--clickhouse", "string", "also record into ClickHouse at this DSN (or $SHIJIM_CLICKHOUSE_DSN)" },
  { "--fallback-dir", "string", "where ClickHouse batches go when it is down", default = "data/fallback" },
  { "--nats", "string", "also publish to NATS JetStream at these URL(s) (docs/nats.md)" },
  { "--gateway-id", "string", "this gateway's id: its source name (shioaji-ID), ClickHouse source number and NATS dedup ids (or $SHIJIM_GATEWAY_ID)" },
  { "--universe", "string", "record a universe instead of --stocks/--futures: tse, otc, stocks, futures, txo, top150, market, or a Lua file (docs/universe.md)" },
  { "--shard", "string", "record shard I of K of the universe, I/K (or $SHARD_ID and $TOTAL_SHARDS)" },
  { "--quiet", "flag", "do not log block trades" },
  { "--status-every", "number", "status line every N seconds (0 = off)", default = 1, min = 0 },
  { "--log-format", "string", "log lines as text or json (one object per line)", default = "text", choices = { "text", "json" } },
  { "--metrics", "string", "serve /metrics, /healthz, /readyz on ADDR:PORT (e.g. 127.0.0.1:9464; off by default)" },
  { "--ready-silence", "number", "/readyz fails after N s without a market event from a source", default = 10, min = 0 },
  { "--metrics-linger", "number", "after the stop, keep serving the final metrics N seconds", default = 0, min = 0 },
  { "--config", "string", "Lua file returning {stocks=, futures=, kinds=, handlers=}; re-read on SIGHUP (hot reload)" },
  -- market-hours schedule (scripts/shijim/schedule.lua; hours and holidays: core/session)
  { "--schedule", "string", "twse|taifex|all: subscribe only in market hours (stocks: twse, futures: taifex), sleep between", choices = { "twse", "taifex", "all" } },
  { "--schedule-lead", "number", "with --schedule: subscribe N seconds before each open", default = 300, min = 0 },
  { "--schedule-lag", "number", "with --schedule: unsubscribe N seconds after each close", default = 300, min = 0 },
  { "--holidays", "string", "holiday calendar file (default: scripts/data/holidays.txt, compiled in)" },
  { "--fake-clock", "string", "test hook: --schedule reads a clock starting at \"YYYY-MM-DD HH:MM\" Taipei" },
  { "--fake-speed", "number", "test hook: the fake clock runs N times faster", default = 1, min = 0 },
})

-- Operations (docs/operations.md): log format first, then metrics, which must
-- subscribe before the sinks and handlers so the bus stage is measured first.
local sffi = require "shijim.ffi"
local C = sffi.C
C.shj_log_set_format(opts.log_format)
if opts.metrics then
  if C.shj_metrics_start(opts.metrics, opts.ready_silence, 0, sffi.errbuf, sffi.ERRLEN) ~= 0 then
    io.stderr:write("main.lua: --metrics: ", sffi.errtext(), "\n")
    os.exit(2)
  end
end

-- A universe is subscribed once, whole; the schedule and hot reload manage
-- --stocks/--futures or a --config file (scripts/shijim/reloadable.lua).
if opts.universe and (opts.schedule or opts.config) then
  io.stderr:write("main.lua: --universe with --", opts.schedule and "schedule" or "config",
    ": not supported together yet; a universe is subscribed once for the whole run\n")
  os.exit(2)
end

if opts.fake_clock and not opts.schedule then
  io.stderr:write("main.lua: --fake-clock only drives --schedule; add --schedule twse|taifex|all\n")
  os.exit(2)
end

-- The holiday calendar, before any source or sink reads it (core/session.h).
if opts.holidays and C.ses_holidays_load(opts.holidays, sffi.errbuf, sffi.ERRLEN) ~= 0 then
  io.stderr:write("main.lua: --holidays: ", sffi.errtext(), "\n")
  os.exit(2)
end

local url = opts.url or os.getenv("SHIOAJI_URL")
local has_keys = (os.getenv("SHIOAJI_API_KEY") or os.getenv("SJ_API_KEY")) ~= nil
-- Universes and shards (docs/universe.md): the gateway id names this gateway's
-- source, so its archive directory and ClickHouse `source` never collide with another's.
local gateway_id = opts.gateway_id or os.getenv("SHIJIM_GATEWAY_ID")
if gateway_id and not gateway_id:match("^[%w_.-]+$") then
  io.stderr:write("main.lua: --gateway-id: letters, digits, '_', '.', '-' only, got '", gateway_id, "'\n")
  os.exit(2)
end
local shard_ok, shard_i, shard_k = pcall(function()
  if opts.shard then return require("shijim.shard").parse(opts.shard) end
  return require("shijim.shard").from_env()
end)
if not shard_ok or (shard_i and not opts.universe) then
  io.stderr:write("main.lua: ", shard_ok and "--shard (or SHARD_ID/TOTAL_SHARDS) needs --universe" or tostring(shard_i), "\n")
  os.exit(2)
end
local src_name = gateway_id and ((url or opts.socket or has_keys) and "shioaji-" or "sim-") .. gateway_id
local src
if url or opts.socket or has_keys then
  src = shijim.source.shioaji{ url = url, socket = opts.socket, name = src_name }
  -- a URL may carry a password (http://u:PASSWORD@host): core/redact.h decides what shows
  local shown = opts.socket or url or "http://127.0.0.1:8080"
  if not opts.socket and url then
    sffi.C.shj_redact_url(url, sffi.textbuf, sffi.TEXTLEN)
    shown = ffi.string(sffi.textbuf)
  end
  shijim.log("source: live Shioaji server at " .. shown)
else
  src = shijim.source.simulated{ seed = opts.seed, rate = opts.rate, date = opts.date, name = src_name,
                                 allow_empty = opts.schedule ~= nil }
  shijim.log(string.format("source: simulated market (no Shioaji credentials or server URL configured), seed %d, %s",
    opts.seed, opts.rate > 0 and (opts.rate .. " events/s") or "as fast as possible"))
end

if opts.universe then
  local universe = require "shijim.universe"
  local ok, u = pcall(universe.load, opts.universe, { url = url, socket = opts.socket })
  if not ok then C.shj_log_text(3, "lua", tostring(u)); os.exit(1) end
  local all = u:count()
  if shard_i then
    local loads
    ok, u, loads = pcall(require("shijim.shard").pick, u, shard_i, shard_k)
    if not ok then C.shj_log_text(3, "lua", tostring(u)); os.exit(1) end
    shijim.log(string.format("universe %s: %d codes; shard %d/%d takes %d (weight %d of %d)", opts.universe, all,
      shard_i, shard_k, u:count(), loads.weight[shard_i], loads.total_weight))
  else
    shijim.log(string.format("universe %s: %d codes", opts.universe, all))
  end
  src:subscribe(u:subscription{ kinds = opts.kinds })
else
  -- The reloadable part (docs/operations.md "Hot reload"): subscriptions and
  -- handlers from --config FILE (else the options above), swapped on SIGHUP or
  -- shijim.reload() with the sinks below untouched.
  local ok_u, universe = pcall(require("shijim.reloadable").new, shijim, src, {
    path = opts.config, defaults = { stocks = opts.stocks, futures = opts.futures, kinds = opts.kinds } })
  if not ok_u then
    io.stderr:write("main.lua: --config: ", tostring(universe), "\n")
    os.exit(2)
  end
  universe:attach()
  if opts.schedule then
    -- subscribe at each open, unsubscribe after each close, sleep between
    local ok_s, err_s = pcall(require("shijim.schedule").start_main, shijim, universe, opts)
    if not ok_s then
      io.stderr:write("main.lua: ", tostring(err_s), "\n")
      os.exit(2)
    end
  else
    universe:open("stocks")
    universe:open("futures")
    -- at start a code the source refuses is fatal, as before (at a reload it is logged and skipped)
    if #universe.refused > 0 then
      io.stderr:write("main.lua: subscribe ", universe.refused[1], "\n")
      os.exit(2)
    end
  end
end
shijim.route(src, require("sinks.raw"){ dir = opts.dir, fsync_ms = opts.fsync_ms })

-- ClickHouse is the analytical copy; the raw archive stays the ground truth.
-- When ClickHouse is slow or down, batches go to JSONL under --fallback-dir
-- (replay them with `shijim restore.lua --fallback-dir DIR --apply`).
local dsn = opts.clickhouse or os.getenv("SHIJIM_CLICKHOUSE_DSN")
local ch
if dsn then
  -- archive_dir: the ClickHouse watermark lives beside the archive, and the
  -- archive's unacknowledged tail is replayed at start (docs/durability.md)
  -- gateway: rows carry this gateway's own `source` number, so gateways that
  -- share tables never share a key (code, ts, source, seq)
  ch = shijim.route(src, require("sinks.clickhouse"){ dsn = dsn, fallback_dir = opts.fallback_dir,
                                                      archive_dir = opts.dir, gateway = gateway_id })
  if gateway_id then
    shijim.log(string.format("clickhouse: gateway %s writes source = %d (replay.lua --gateway-id %s gives replayed rows the same)",
      gateway_id, ch.source_number, gateway_id))
  end
end

-- Fan-out to other hosts (docs/nats.md); the raw archive stays the ground truth.
if opts.nats then
  local gw = gateway_id
  shijim.route(src, require("sinks.nats"){ servers = opts.nats, gateway = gw, create_stream = true,
    state_file = opts.dir .. "/nats-" .. tostring(gw) .. ".state" })
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

-- A writer that fails at close (rows it could save nowhere) makes run raise;
-- the exit summary below must still say what happened, without a traceback.
local run_ok, run_err = pcall(shijim.run, { duration_s = opts.duration, events = opts.events,
                                            status_ms = math.floor(opts.status_every * 1000) })

-- Exit summary: rows ClickHouse did not take are safe in the fallback, but the
-- job is not done until they are restored, so say so and exit non-zero.
local code = 0
if not run_ok then
  C.shj_log_text(3, "lua", tostring(run_err))
  code = 1
end
if ch then
  local cs = ch:stats()
  shijim.log(string.format("clickhouse: %d rows in, %d inserted, %d in the fallback (%s)",
    cs.rows_in, cs.rows_inserted, cs.rows_fallback, opts.fallback_dir))
  if cs.rows_fallback > 0 then
    C.shj_log_text(2, "lua", string.format(
      "%d rows are in the fallback: run restore.lua --apply (shijim restore.lua --fallback-dir %s --apply)",
      cs.rows_fallback, opts.fallback_dir))
    code = 1
  end
  if cs.rows_unsaved > 0 then
    -- issue 11, fault 3: ClickHouse down and the fallback disk full
    C.shj_log_text(3, "lua", string.format(
      "%d rows reached neither ClickHouse nor the fallback; they are in the raw archive and their seq ranges are "
      .. "recorded in the watermark beside it (%s/<source>/<day>.chmark)", cs.rows_unsaved, opts.dir))
    code = 1
  end
  if cs.unsaved_ranges > 0 then
    C.shj_log_text(2, "lua", string.format(
      "%d seq range(s) are not in ClickHouse: the next start with --clickhouse replays them from the raw archive "
      .. "by itself (or now: shijim verify.lua --date D --dir %s --dsn DSN --reconcile)", cs.unsaved_ranges, opts.dir))
    code = 1
  end
end
if opts.metrics then
  C.shj_metrics_linger(opts.metrics_linger)
  C.shj_metrics_stop()
end
if code ~= 0 then os.exit(code) end
