-- nats_consume.lua — run off a gateway's JetStream feed on another host:
-- consume the stream with a durable consumer into the local bus, and record
-- it (ClickHouse) and/or print it, exactly as main.lua does with a live source.
--
--   shijim run nats_consume.lua --nats nats://gw:4222 --durable rec1 --clickhouse clickhouse://...
--   shijim run nats_consume.lua --nats nats://gw:4222 --durable peek --print --events 10
local shijim = require "shijim"
local cli = require "shijim.cli"
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local opts = cli.parse(arg, {
  usage = "shijim run nats_consume.lua --nats URL --durable NAME [options]",
  description = "Consume a Shijim JetStream stream (docs/nats.md) into the local bus.",
  { "--nats", "string", "NATS server URL(s), comma-separated (or $SHIJIM_NATS_URL)" },
  { "--durable", "string", "durable consumer name (resumes after its last ack)" },
  { "--stream", "string", "JetStream stream", default = "SHIJIM" },
  { "--filter", "string", "subject filter", default = "shijim.>" },
  { "--clickhouse", "string", "record into ClickHouse at this DSN" },
  { "--fallback-dir", "string", "where ClickHouse batches go when it is down", default = "data/fallback" },
  { "--gateway-id", "string", "the gateway that published the stream (main.lua --gateway-id): ClickHouse rows get its source number, the keys of its own rows" },
  { "--print", "flag", "print every event as JSON" },
  { "--duration", "number", "stop after N seconds (0 = until Ctrl-C)", default = 0 },
  { "--events", "number", "stop after N events (0 = no limit)", default = 0 },
})
if not opts.durable then
  io.stderr:write("nats_consume.lua: --durable NAME is required\n")
  os.exit(2)
end
local src = require("sinks.nats").source(shijim, {
  servers = opts.nats, durable = opts.durable, stream = opts.stream, filter = opts.filter })
if opts.clickhouse then
  shijim.route(src, require("sinks.clickhouse"){ dsn = opts.clickhouse, fallback_dir = opts.fallback_dir,
                                                 gateway = opts.gateway_id })
end
if opts.print then
  local buf = ffi.new("char[2048]")
  shijim.on({ "tick", "bidask", "quote", "status", "bar" }, function(ev)
    local n = sffi.C.shj_event_json(ev, buf, 2048)
    io.stdout:write(ffi.string(buf, n), "\n")
  end)
end
shijim.run{ duration_s = opts.duration, events = opts.events }
