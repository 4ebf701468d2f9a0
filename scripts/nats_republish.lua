-- nats_republish.lua — catch JetStream up from the raw archive (the ground truth).
--
--   shijim run nats_republish.lua --nats URL --gateway-id gw1 --dir data/raw --source sim \
--       --state data/raw/nats-gw1.state [--date 2026-12-05]
--
-- Replays the archive of --source through a NATS publisher with the same
-- gateway id and source name, so every event gets the id the live gateway
-- gave it and JetStream drops what it already has (duplicate window).
-- With --state (the publisher's state file, docs/nats.md) only events
-- received at or after the earliest of "the last acknowledged event" and
-- "the first event of any recorded gap" are sent: the catch-up after a
-- kill -9 or an outage longer than the publisher's ring. Without it the
-- whole archive is sent (all duplicates if nothing was missing).
local shijim = require "shijim"
local cli = require "shijim.cli"

local opts = cli.parse(arg, {
  usage = "shijim run nats_republish.lua --nats URL --gateway-id ID [options]",
  description = "Republish a raw archive to NATS JetStream with the live gateway's dedup ids.",
  { "--nats", "string", "NATS server URL(s), comma-separated (or $SHIJIM_NATS_URL)" },
  { "--gateway-id", "string", "the gateway id the live publisher used" },
  { "--dir", "string", "raw archive directory", default = "data/raw" },
  { "--source", "string", "the recording source's name (archive sub-directory)", default = "sim" },
  { "--date", "string", "one trading day YYYY-MM-DD (default: every file)" },
  { "--state", "string", "the publisher's state file: start from its acked point / first gap" },
  { "--stream", "string", "JetStream stream", default = "SHIJIM" },
})

local min_recv = 0
if opts.state then
  local f, err = io.open(opts.state, "r")
  if not f then
    io.stderr:write("nats_republish.lua: ", err, "\n")
    os.exit(2)
  end
  for line in f:lines() do
    local acked_recv = line:match("^acked %d+ (%-?%d+)")
    local gap_recv = line:match("^gap %d+ %d+ (%-?%d+)")
    local v = tonumber(acked_recv or gap_recv)
    if v and v > 0 and (min_recv == 0 or v < min_recv) then min_recv = v end
  end
  f:close()
  -- A Lua number holds these nanoseconds to ~256 ns: start 1 ms earlier (the
  -- overlap is dropped by JetStream as duplicates, a miss would not be).
  if min_recv > 0 then min_recv = min_recv - 1e6 end
end

local src = shijim.source.replay{ dir = opts.dir, source = opts.source, date = opts.date, mark = false }
local sink = shijim.route(src, require("sinks.nats"){
  servers = opts.nats, gateway = opts.gateway_id, source = opts.source, stream = opts.stream,
  min_recv_ns = min_recv })
shijim.run{}
local st = sink:stats()
shijim.log(string.format("nats_republish: %d events acknowledged, %d were already in the stream, %d not sent",
  st.acked, st.duplicates, st.gap_events))
if st.gap_events > 0 or st.queued > 0 then os.exit(1) end
