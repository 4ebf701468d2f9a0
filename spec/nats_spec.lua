-- spec/nats_spec.lua — the Lua side of the NATS fan-out (issue 14, part 3),
-- end to end on a real `nats-server -js` (one node, 127.0.0.1, its store in
-- a temp dir, stopped by its PID): main.lua --nats publishes what it
-- records; nats_consume.lua on "another host" receives every event exactly
-- once; nats_republish.lua replays the archive with the live gateway's ids
-- and JetStream drops all of them as duplicates (the catch-up after a crash
-- adds nothing twice). test_nats_cluster.c covers the C publisher/consumer
-- on a 3-node cluster with kills; this covers the scripts users run.
local proc = require "support.proc"

local function sh(cmd) return proc.run(cmd) end

describe("NATS JetStream scripts", function()
  local dir, pid, url

  setup(function()
    dir = proc.tmpdir()
    -- the ASan runtime is for our library, not for the server
    os.execute(string.format("env -u LD_PRELOAD nats-server -js -sd %s/js -a 127.0.0.1 -p -1 >%s/nats.log 2>&1 & "
      .. "echo $! >%s/nats.pid", dir, dir, dir))
    pid = assert(proc.read(dir .. "/nats.pid"):match("%d+"))
    for _ = 1, 100 do
      local port = (proc.read(dir .. "/nats.log") or ""):match("client connections on 127%.0%.0%.1:(%d+)")
      if port then url = "nats://127.0.0.1:" .. port break end
      os.execute("sleep 0.05")
    end
    assert(url, "nats-server did not start: " .. tostring(proc.read(dir .. "/nats.log")))
  end)

  teardown(function()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null; sleep 0.2; kill -9 " .. pid .. " 2>/dev/null") end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  -- Events consumed by a durable consumer in `secs` seconds: seq -> count, lines.
  local function consume(durable, secs)
    local rc, out, err = proc.shijim(string.format("run nats_consume.lua --nats %s --durable %s --print --duration %d",
      url, durable, secs))
    assert.are.equal(0, rc, err)
    local seen, n = {}, 0
    for line in out:gmatch("[^\n]+") do
      local seq = assert(line:match('"seq":(%d+)'), line)
      seen[seq] = (seen[seq] or 0) + 1
      n = n + 1
    end
    return seen, n
  end

  it("main.lua --nats publishes what it records; a consumer gets it once; a republish adds nothing", function()
    local rc, _, err = proc.shijim(string.format("run main.lua --nats %s --gateway-id g1 --events 20000 --rate 0 "
      .. "--dir %s/raw --quiet --status-every 0", url, dir))
    assert.are.equal(0, rc, err)
    local ticks, books = err:match("sim%-g1: events %d+ tick (%d+) bidask (%d+)")
    assert.truthy(ticks, err)
    local published = tonumber(ticks) + tonumber(books) -- status events are not fanned out
    assert.is_true(published > 19000, err)
    -- the gateway id names the source (archive sub-directory) and the state file
    assert.truthy(proc.read(dir .. "/raw/nats-g1.state"):find("\nacked " .. published .. " ", 1, true))
    local _, files = sh("ls " .. dir .. "/raw/sim-g1/")
    assert.truthy(files:find("%.shjraw"), files)

    local seen, n = consume("r1", 2)
    assert.are.equal(published, n)
    for seq, count in pairs(seen) do assert.are.equal(1, count, "seq " .. seq .. " twice") end

    -- the catch-up path: every id is already in the stream
    local out
    rc, out, err = proc.shijim(string.format("run nats_republish.lua --nats %s --gateway-id g1 --dir %s/raw --source sim-g1",
      url, dir))
    assert.are.equal(0, rc, err)
    assert.truthy((out .. err):find(string.format("%d events acknowledged, %d were already in the stream, 0 not sent",
      published, published), 1, true), out .. err)
    -- the first consumer has nothing new; a fresh one sees the stream once, not twice
    local _, again = consume("r1", 1)
    assert.are.equal(0, again)
    local _, fresh = consume("r2", 2)
    assert.are.equal(published, fresh)
  end)

  it("refuses a gateway id that cannot name a source, and nats_consume without --durable", function()
    local rc, _, err = proc.shijim("run main.lua --nats " .. url .. " --gateway-id 'a b' --events 10")
    assert.are.equal(2, rc)
    assert.truthy(err:find("--gateway-id", 1, true), err)
    rc, _, err = proc.shijim("run nats_consume.lua --nats " .. url)
    assert.are.equal(2, rc)
    assert.truthy(err:find("--durable NAME is required", 1, true), err)
  end)
end)
