-- spec/watchdog_spec.lua — a Lua handler that never returns costs no record and no signal
-- (issue 11, fault 1; runtime/loop/watchdog.h). LuaJIT cannot interrupt compiled code,
-- so the runtime keeps its promises from a watchdog thread; these run the real binary.
local proc = require "spec.support.proc"

local STUCK = [[
local shijim = require "shijim"
local dir, mark = arg[1], arg[2]
local src = shijim.source.simulated{ seed = 1, rate = 20000 }
src:subscribe{ stocks = {"2330"}, kinds = {"tick", "bidask"} }
shijim.route(src, require("sinks.raw"){ dir = dir, fsync_ms = 50 })
local n = 0
shijim.on("tick", function(ev)
  n = n + 1
  if n == 300 then
    -- this payload (and all before it) went to the archive before it was published
    local f = io.open(mark, "w"); f:write(tostring(tonumber(ev.seq))); f:close()
    local x = 0
    while true do x = x + 1 end
  end
end)
shijim.run{}
]]

local function setup()
  local dir = proc.tmpdir()
  proc.write(dir .. "/stuck.lua", STUCK)
  return dir
end

local function wait_for(path, seconds)
  for _ = 1, seconds * 20 do
    local s = proc.read(path)
    if s and s ~= "" then return s end
    os.execute("sleep 0.05")
  end
end

local function archive_records(dir)
  local _, out = proc.run("ls " .. dir .. "/raw/sim/*.shjraw")
  local file = out:match("[^\n]+")
  local rc, check = proc.shijim("dump --check " .. file)
  return rc, check, tonumber(check:match("ok, %d+ records in %d+ blocks, seq 1%.%.(%d+)"))
end

describe("a Lua handler stuck in a loop", function()
  it("SIGINT still stops the run (exit 1, named) and every accepted record is durable", function()
    local dir = setup()
    local cmd = string.format("%s run %s/stuck.lua %s/raw %s/mark >%s/out 2>%s/err & echo $! >%s/pid",
      proc.bin, dir, dir, dir, dir, dir, dir)
    os.execute(cmd)
    local last_seq = tonumber((assert(wait_for(dir .. "/mark", 20), "the handler never got stuck")))
    local pid = assert(wait_for(dir .. "/pid", 5)):match("%d+")
    os.execute("sleep 0.3; kill -INT " .. pid)
    local gone = false
    for _ = 1, 200 do -- up to 10 s; the watchdog gives the loop 1 s of grace
      if os.execute("kill -0 " .. pid .. " 2>/dev/null") ~= 0 then gone = true; break end
      os.execute("sleep 0.05")
    end
    if not gone then os.execute("kill -9 " .. pid) end
    assert.is_true(gone)
    local err = proc.read(dir .. "/err")
    assert.matches("SIGINT while a Lua handler has been running", err)
    local rc, check, records = archive_records(dir) -- records: the last seq, contiguous from 1
    assert.equals(0, rc, check)
    assert.is_true(records >= last_seq, check) -- contiguous from 1 through the stuck payload
    os.execute("rm -rf " .. dir)
  end)

  it("keeps sealing by age: records are durable before a SIGKILL, with nobody polling", function()
    local dir = setup()
    os.execute(string.format("%s run %s/stuck.lua %s/raw %s/mark >/dev/null 2>&1 & echo $! >%s/pid",
      proc.bin, dir, dir, dir, dir))
    local last_seq = tonumber((assert(wait_for(dir .. "/mark", 20), "the handler never got stuck")))
    local pid = assert(wait_for(dir .. "/pid", 5)):match("%d+")
    os.execute("sleep 0.5; kill -9 " .. pid) -- well past fsync_ms = 50, loop stuck all along
    os.execute("sleep 0.2")
    local rc, check, records = archive_records(dir) -- records: the last seq, contiguous from 1
    assert.equals(0, rc, check)
    assert.is_true(records >= last_seq, check) -- contiguous from 1 through the stuck payload
    os.execute("rm -rf " .. dir)
  end)
end)
