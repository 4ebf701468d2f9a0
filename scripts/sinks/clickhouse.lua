-- sinks.clickhouse — record ticks and 5-level bid/ask into ClickHouse, with a
-- zero-loss JSONL fallback for whatever ClickHouse cannot take.
--
--   shijim.route(src, require("sinks.raw"){ dir = "data/raw" })
--   shijim.route(src, require("sinks.clickhouse"){
--     dsn = "clickhouse://default@127.0.0.1:8123/market",
--     fallback_dir = "data/raw/fallback",
--   })
--
-- opts:
--   dsn            clickhouse://user:pass@host:port/db or http(s)://...
--                  (default: $SHIJIM_CLICKHOUSE_DSN). Port 9000 maps to 8123.
--   fallback_dir   where failed batches go, as <dir>/<table>/<YYYY-MM-DD>.jsonl
--                  (default "data/fallback"); replay with `shijim restore.lua`
--   batch_rows     rows per INSERT (50000)      batch_ms   max batch age (200)
--   max_inflight   concurrent INSERTs (2)       max_mem_mb memory before spilling (64)
--   timeout_ms     one INSERT (30000)           gzip       compress bodies (false)
--   create_schema  CREATE DATABASE/TABLE IF NOT EXISTS (true)
--   wait_when_slow true: a server slower than the source holds the source back
--                  instead of spilling to the fallback (replay; false for live
--                  feeds, which cannot wait)
--   archive_dir    the raw archive root this source records into (sinks.raw's dir):
--                  the writer keeps a watermark beside each day file
--                  (<dir>/<source>/<day>.chmark) and, at start, replays into
--                  ClickHouse what the archive holds beyond it (a kill -9, rows
--                  neither ClickHouse nor the fallback could take); see
--                  docs/durability.md. Without it, no watermark.
--   gateway        this gateway's id (main.lua --gateway-id): its rows carry the
--                  gateway's own `source` number (C.chw_gateway_source), so
--                  gateways recording into the same tables never share a key
--                  (code, ts, source, seq). Without it, `source` is the
--                  per-process source id (1, 2, ...). replay.lua --gateway-id
--                  gives replayed rows the recording gateway's number.
--   on_fatal       "detach" (default): a writer that hit an unfixable error
--                  (wrong password, schema mismatch) stops and recording goes
--                  on without it; "stop": the whole run stops.
-- The writer runs in C on the event loop (runtime/ch_writer.h); this module
-- only configures it. sink:stats() returns its counters.
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN

local STATE = { [0] = "starting", "up", "down", "failed", "closed" }
local stats_buf = ffi.new("chw_stats")

local function number_opt(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or v < 0 then error("sinks.clickhouse: " .. name .. " must be a number >= 0", 3) end
  return v
end

return function(opts)
  opts = opts or {}
  local dsn = opts.dsn or os.getenv("SHIJIM_CLICKHOUSE_DSN")
  if not dsn or dsn == "" then
    error("sinks.clickhouse: dsn is required (or set SHIJIM_CLICKHOUSE_DSN)", 2)
  end
  local source_number = 0
  if opts.gateway ~= nil then
    if type(opts.gateway) ~= "string" or not opts.gateway:match("^[%w_.-]+$") then
      error("sinks.clickhouse: gateway must be letters, digits, '_', '.', '-'", 2)
    end
    source_number = C.chw_gateway_source(opts.gateway)
  end
  if opts.on_fatal ~= nil and opts.on_fatal ~= "detach" and opts.on_fatal ~= "stop" then
    error("sinks.clickhouse: on_fatal must be \"detach\" or \"stop\"", 2)
  end
  local sink = {
    kind = "clickhouse",
    dsn = dsn,
    fallback_dir = opts.fallback_dir or "data/fallback",
    batch_rows = number_opt(opts, "batch_rows", 50000),
    batch_ms = number_opt(opts, "batch_ms", 200),
    max_inflight = number_opt(opts, "max_inflight", 2),
    max_mem_mb = number_opt(opts, "max_mem_mb", 64),
    timeout_ms = number_opt(opts, "timeout_ms", 30000),
    gzip = opts.gzip and 1 or 0,
    create_schema = opts.create_schema == false and 0 or 1,
    wait_when_slow = opts.wait_when_slow and 1 or 0,
    stop_on_fatal = opts.on_fatal == "stop" and 1 or 0,
    archive_dir = opts.archive_dir,
    source_number = source_number,
    routes = {},
  }

  function sink:attach(src)
    local o = ffi.new("chw_opts")
    C.chw_opts_default(o)
    o.dsn = self.dsn
    o.fallback_dir = self.fallback_dir
    o.batch_rows = self.batch_rows
    o.batch_ms = self.batch_ms
    o.max_inflight = self.max_inflight
    o.max_mem_bytes = self.max_mem_mb * 1048576
    o.timeout_ms = self.timeout_ms
    o.gzip = self.gzip
    o.create_schema = self.create_schema
    o.wait_when_slow = self.wait_when_slow
    o.archive_dir = self.archive_dir
    o.source_number = self.source_number
    local id = C.chw_route(src.ptr, o, self.stop_on_fatal, errbuf, ERRLEN)
    if id < 0 then error("sinks.clickhouse: " .. sffi.errtext(), 3) end
    self.routes[#self.routes + 1] = id
  end

  -- Counters summed over every source routed here, as Lua numbers.
  function sink:stats()
    return sffi.sum_route_stats(self.routes, C.chw_route_stats, stats_buf,
      { "rows_in", "rows_inserted", "rows_fallback", "rows_held", "batches_failed", "probes", "rows_unsaved",
        "unsaved_ranges", "reconciled_rows" }, STATE)
  end

  return sink
end
