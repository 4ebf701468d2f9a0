-- spec/reload_main_spec.lua — main.lua itself reloads (issue 12, part 7).
-- The real binary records the simulated market at 20k events/s with
-- `main.lua --config c.lua`; the config changes the stock universe and the
-- handler, then SIGHUP; later a broken config, then SIGHUP again. Asserts:
--   * the raw archive is one file, seq 1..N continuous (dump --check), and
--     the config's handlers saw every seq exactly once across the versions;
--   * the subscription set changed as asked: 2317 before the reload only,
--     2454 after it only, 2330 throughout;
--   * the broken config (syntax error) is refused with file:line and the
--     second version keeps running.
local proc = require "support.proc"

local function config(version, stocks, broken)
  return string.format([[
local out = assert(io.open(os.getenv("RELOAD_SEEN"), "a"))
out:setvbuf("line") -- each version has its own handle: keep lines in order
return {
  stocks = { %s },
  futures = {},
  kinds = { "tick", "bidask" },
  handlers = function(shijim)
    shijim.on({}, function(ev) out:write("%s ", tonumber(ev.seq), " ", ev:symbol(), "\n") end)
    shijim.every(200, function() out:flush() end)
  end,
}
%s]], stocks, version, broken and "end end\n" or "")
end

local function sleep(s) os.execute("sleep " .. s) end

describe("main.lua hot reload under load", function()
  it("diffs subscriptions, swaps handlers, keeps the archive and refuses a broken config", function()
    local dir = proc.tmpdir()
    local cfg = dir .. "/c.lua"
    proc.write(cfg, config("v1", '"2330", "2317"'))
    os.execute(string.format(
      "(RELOAD_SEEN=%s/seen %s run main.lua --config %s --dir %s/raw --rate 20000 --duration 4 --status-every 0 --quiet "
      .. ">%s/out 2>%s/err; echo $? >%s/rc) & echo $! >%s/pid",
      dir, proc.bin, cfg, dir, dir, dir, dir, dir))
    sleep(1.2)
    local sub = assert(proc.read(dir .. "/pid")):match("%d+")
    local pid = assert(proc.child_pid(sub), "shijim not running")
    proc.write(cfg, config("v2", '"2330", "2454"'))
    os.execute("kill -HUP " .. pid)
    sleep(1.2)
    proc.write(cfg, config("v3", '"2330"', true))
    os.execute("kill -HUP " .. pid)
    for _ = 1, 200 do
      if proc.read(dir .. "/rc") then break end
      sleep(0.05)
    end
    local err = proc.read(dir .. "/err") or ""
    assert.equal("0", (assert(proc.read(dir .. "/rc"), "run never ended"):match("%d+")), err)

    -- the handlers: every seq once, v1 then v2, never v3
    local seqs, syms, first_v2, last_v1, n = {}, {}, nil, 0, 0
    for line in io.lines(dir .. "/seen") do
      local v, seq, sym = line:match("^(v%d) (%d+) (%S*)$")
      assert.truthy(v, line)
      n = n + 1
      seqs[n], syms[n] = tonumber(seq), sym
      assert.are_not.equal("v3", v)
      if v == "v2" and not first_v2 then first_v2 = n end
      if v == "v1" then last_v1 = n end
    end
    assert.truthy(first_v2, "version 2 never ran\n" .. err)
    assert.is_true(last_v1 > 1000 and last_v1 < first_v2, "v1 ran after v2 (or too little)")
    for i = 2, n do assert.equal(seqs[i - 1] + 1, seqs[i], "gap or duplicate at line " .. i) end

    -- the subscription set changed as asked
    local seen_before, seen_after = {}, {}
    for i = 1, n do
      local t = i < first_v2 and seen_before or seen_after
      t[syms[i]] = (t[syms[i]] or 0) + 1
    end
    assert.truthy(seen_before["2330"] and seen_before["2317"], "v1 did not record its universe")
    assert.is_nil(seen_before["2454"])
    assert.truthy(seen_after["2330"] and seen_after["2454"], "v2 did not record its universe")
    assert.is_nil(seen_after["2317"], "2317 still flowing after it was removed")

    -- the raw archive: one file (never reopened), seq continuous, what the handlers saw
    local _, files = proc.run("ls " .. dir .. "/raw/sim/*.shjraw")
    local list = {}
    for f in files:gmatch("[^\n]+") do list[#list + 1] = f end
    assert.equal(1, #list, "the archive was reopened into another file")
    local _, check = proc.shijim("dump --check " .. list[1])
    local last = tonumber(check:match("ok, %d+ records in %d+ blocks, seq 1%.%.(%d+)"))
    assert.truthy(last, check)
    assert.equal(last, seqs[n])

    -- the logs: the diff, then the refusal naming file:line
    assert.truthy(err:find("version 2 applied", 1, true), err)
    assert.truthy(err:find("stocks +2454 -2317", 1, true), err)
    assert.truthy(err:find("reload failed, old script kept", 1, true), err)
    assert.truthy(err:find("c.lua:12:", 1, true), err)
    os.execute("rm -rf " .. dir)
  end)

  it("refuses to start with a broken --config, naming file:line", function()
    local dir = proc.tmpdir()
    proc.write(dir .. "/c.lua", "return { stocks = { 2330 } }\n")
    local rc, _, err = proc.shijim(string.format("run main.lua --config %s/c.lua --duration 1 --dir %s/raw", dir, dir))
    assert.equal(2, rc)
    assert.truthy(err:find("field 'stocks' must be a list of strings", 1, true), err)
    proc.write(dir .. "/c.lua", "return {\n stocks = {\"2330\",\n")
    rc, _, err = proc.shijim(string.format("run main.lua --config %s/c.lua --duration 1 --dir %s/raw", dir, dir))
    assert.equal(2, rc)
    assert.truthy(err:find("c.lua:3:", 1, true), err)
    os.execute("rm -rf " .. dir)
  end)
end)
