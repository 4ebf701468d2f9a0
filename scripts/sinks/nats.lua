-- sinks.nats — publish normalized events to NATS JetStream (fan-out to other hosts),
-- and the matching source that consumes them.
--
--   local nats = require "sinks.nats"
--   shijim.route(src, nats{ servers = "nats://127.0.0.1:4222", gateway = "gw1" })
--   local feed = nats.source(shijim, { servers = "nats://...", durable = "recorder1" })
--
-- Sink opts:
--   servers        "nats://h1:4222,nats://h2:4222" (default $SHIJIM_NATS_URL)
--   gateway        gateway id in every dedup id (default $SHIJIM_GATEWAY_ID)
--   source         source name in the ids (default: the routed source's name;
--                  set it to the recording source's name when republishing)
--   stream         JetStream stream ("SHIJIM")   prefix   subject prefix ("shijim")
--   format         "binary" (default; docs/nats.md) or "json"
--   create_stream  true: add the stream if missing   replicas (1)  dup_window_s (7200)
--   kinds          {"tick","quote","bidask"} (default) — names of shj kinds
--   max_events     events held unacknowledged (65536)  batch (1024)  ack_timeout_ms (2000)
--   state_file     acked point + gaps (docs/nats.md; default none)
--   min_seq, max_seq, min_recv_ns, max_recv_ns   republish filter (0 = open)
-- The publisher runs on a thread of its own (runtime/nats/nts_pub.h): the
-- loop only copies events into its ring. sink:stats() returns its counters.
local bit = require "bit"
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN
local STATE = { [0] = "connecting", "up", "down", "closed" }
local stats_buf = ffi.new("nts_pub_stats")
local KIND_BIT = { tick = C.SHJ_MASK_TICK, bidask = C.SHJ_MASK_BIDASK, quote = C.SHJ_MASK_QUOTE,
                   status = C.SHJ_MASK_STATUS, bar = C.SHJ_MASK_BAR }

local M = {}

local function new_sink(_, opts)
  opts = opts or {}
  local servers = opts.servers or os.getenv("SHIJIM_NATS_URL")
  if not servers or servers == "" then error("sinks.nats: servers is required (or set SHIJIM_NATS_URL)", 2) end
  local gateway = opts.gateway or os.getenv("SHIJIM_GATEWAY_ID")
  if not gateway or gateway == "" then error("sinks.nats: gateway is required (or set SHIJIM_GATEWAY_ID)", 2) end
  if opts.format ~= nil and opts.format ~= "binary" and opts.format ~= "json" then
    error("sinks.nats: format must be \"binary\" or \"json\"", 2)
  end
  local mask = 0
  for _, k in ipairs(opts.kinds or { "tick", "quote", "bidask" }) do
    local b = KIND_BIT[k]
    if not b then error("sinks.nats: unknown kind " .. tostring(k), 2) end
    mask = bit.bor(mask, b)
  end
  local sink = { kind = "nats", routes = {}, opts = opts, servers = servers, gateway = gateway, mask = mask }

  function sink:attach(src)
    local o = ffi.new("nts_pub_opts")
    C.nts_pub_opts_default(o)
    -- strings must outlive the call only (nts_pub_open copies them)
    o.servers = self.servers
    o.gateway = self.gateway
    if opts.source then o.source = opts.source end
    if opts.stream then o.stream = opts.stream end
    if opts.prefix then o.prefix = opts.prefix end
    o.format = opts.format == "json" and 1 or 0
    o.create_stream = opts.create_stream and 1 or 0
    if opts.replicas then o.replicas = opts.replicas end
    if opts.dup_window_s then o.dup_window_ms = opts.dup_window_s * 1000 end
    o.kind_mask = self.mask
    if opts.max_events then o.max_events = opts.max_events end
    if opts.batch then o.batch = opts.batch end
    if opts.ack_timeout_ms then o.ack_timeout_ms = opts.ack_timeout_ms end
    if opts.state_file then o.state_path = opts.state_file end
    o.min_seq = opts.min_seq or 0
    o.max_seq = opts.max_seq or 0
    o.min_recv_ns = opts.min_recv_ns or 0
    o.max_recv_ns = opts.max_recv_ns or 0
    local id = C.nts_route(src.ptr, o, errbuf, ERRLEN)
    if id < 0 then error("sinks.nats: " .. sffi.errtext(), 3) end
    self.routes[#self.routes + 1] = id
  end

  -- Counters summed over every source routed here, as Lua numbers.
  function sink:stats()
    return sffi.sum_route_stats(self.routes, C.nts_route_stats, stats_buf,
      { "pushed", "acked", "duplicates", "queued", "gap_events" }, STATE)
  end
  return sink
end

-- A source consuming a stream with a durable pull consumer (runtime/nats/nts_source.h).
-- opts: servers, durable (required), stream ("SHIJIM"), filter ("shijim.>"),
-- batch (256), ring (4096), ack_wait_ms (30000), name ("nats").
function M.source(shijim, opts)
  opts = opts or {}
  local o = ffi.new("nts_src_opts")
  C.nts_src_opts_default(o)
  o.servers = opts.servers or os.getenv("SHIJIM_NATS_URL")
  o.durable = opts.durable
  if opts.stream then o.stream = opts.stream end
  if opts.filter then o.filter = opts.filter end
  if opts.batch then o.batch = opts.batch end
  if opts.ring then o.ring = opts.ring end
  if opts.ack_wait_ms then o.ack_wait_ms = opts.ack_wait_ms end
  return shijim.wrap_source(C.nts_src_new(opts.name or "nats", o, errbuf, ERRLEN))
end

return setmetatable(M, { __call = new_sink })
