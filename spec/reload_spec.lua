-- spec/reload_spec.lua — SIGHUP hot reload (issue 12, part 7; runtime/lua/lua_bridge.c).
-- Runs the real binary: the handler delegates to a function loaded from impl.lua; the
-- on_reload hook reloads impl.lua on SIGHUP. The bus subscription (its cursor) and the
-- raw archive stay the same, so every seq is seen exactly once across both versions.
local proc = require "spec.support.proc"

local MAIN = [[
local shijim = require "shijim"
local dir, impl_path, out_path = arg[1], arg[2], arg[3]
local out = assert(io.open(out_path, "w"))
out:setvbuf("full")
local impl = assert(loadfile(impl_path))()
shijim.on_reload(function()
  local chunk = assert(loadfile(impl_path)) -- syntax error: raised with file:line, old impl kept
  impl = chunk()
end)
local src = shijim.source.simulated{ seed = 1, rate = 20000 }
src:subscribe{ stocks = {"2330"}, kinds = {"tick", "bidask"} }
shijim.route(src, require("sinks.raw"){ dir = dir, fsync_ms = 50 })
shijim.on({}, function(ev) out:write(impl(ev), " ", tonumber(ev.seq), "\n") end)
shijim.run{ duration_s = 2.5 }
out:close()
]]

local V1 = 'return function(ev) return "v1" end\n'
local V2 = 'return function(ev) return "v2" end\n'
local BROKEN = 'return function(ev) return "v2"\n\n  end end end\n'

local function wait_for(path, seconds)
  for _ = 1, seconds * 20 do
    local s = proc.read(path)
    if s and s ~= "" then return s end
    os.execute("sleep 0.05")
  end
end

local function run_with_reload(next_impl)
  local dir = proc.tmpdir()
  proc.write(dir .. "/main.lua", MAIN)
  proc.write(dir .. "/impl.lua", V1)
  os.execute(string.format("(%s run %s/main.lua %s/raw %s/impl.lua %s/seen >%s/out 2>%s/err; echo $? >%s/rc) & echo $! >%s/pid",
    proc.bin, dir, dir, dir, dir, dir, dir, dir, dir))
  os.execute("sleep 1")
  proc.write(dir .. "/impl.lua", next_impl)
  -- the binary is a child of the subshell whose pid we wrote
  local sub = assert(proc.read(dir .. "/pid")):match("%d+")
  local pid = assert(proc.child_pid(sub), "shijim not running")
  os.execute("kill -HUP " .. pid)
  assert(wait_for(dir .. "/rc", 20), "run never ended")
  return dir
end

local function seen(dir)
  local seqs, first_v2, last_v1, lines = {}, nil, 0, 0
  for line in io.lines(dir .. "/seen") do
    local v, seq = line:match("^(v%d) (%d+)$")
    seq = tonumber(seq)
    lines = lines + 1
    seqs[#seqs + 1] = seq
    if v == "v2" and not first_v2 then first_v2 = lines end
    if v == "v1" then last_v1 = lines end
  end
  return seqs, first_v2, last_v1
end

local function archive(dir)
  local _, files = proc.run("ls " .. dir .. "/raw/sim/*.shjraw")
  local list = {}
  for f in files:gmatch("[^\n]+") do list[#list + 1] = f end
  local _, check = proc.shijim("dump --check " .. list[1])
  return list, check, tonumber(check:match("ok, %d+ records in %d+ blocks, seq 1%.%.(%d+)"))
end

describe("SIGHUP hot reload under load", function()
  it("swaps to version 2 with every seq seen once and one archive file, seq continuous", function()
    local dir = run_with_reload(V2)
    assert.equal("0", (proc.read(dir .. "/rc"):match("%d+")))
    local seqs, first_v2, last_v1 = seen(dir)
    assert.truthy(first_v2, "version 2 never ran")
    assert.is_true(last_v1 < first_v2, "v1 ran after v2")
    assert.is_true(last_v1 > 0, "v1 never ran")
    for i = 2, #seqs do assert.equal(seqs[i - 1] + 1, seqs[i]) end -- no gap, no duplicate
    assert.is_true(seqs[1] <= 1, "the handler missed the first archived seq") -- seq 0: the source status event
    local files, check, last = archive(dir)
    assert.equal(1, #files, "the archive was reopened into another file")
    assert.truthy(last, check)
    assert.equal(last, seqs[#seqs]) -- the handler saw exactly what the archive holds
    assert.truthy(proc.read(dir .. "/err"):find("SIGHUP: reloading", 1, true))
  end)

  it("keeps version 1 when the new script has a syntax error, naming file:line; exit 0", function()
    local dir = run_with_reload(BROKEN)
    assert.equal("0", (proc.read(dir .. "/rc"):match("%d+")))
    local seqs, first_v2 = seen(dir)
    assert.is_nil(first_v2)
    for i = 2, #seqs do assert.equal(seqs[i - 1] + 1, seqs[i]) end
    local err = proc.read(dir .. "/err")
    assert.truthy(err:find("reload failed, old script kept", 1, true), err)
    assert.truthy(err:find("impl.lua:3:", 1, true), err)
    local _, _, last = archive(dir)
    assert.equal(last, seqs[#seqs])
  end)
end)
