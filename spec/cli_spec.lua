-- The `shijim` command line: help, version, exit codes, Lua errors, arguments, signals.
local proc = require "support.proc"

describe("shijim CLI", function()
  local dir
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("prints its version and help with exit code 0", function()
    local rc, out = proc.shijim("--version")
    assert.are.equal(0, rc)
    assert.truthy(out:match("^shijim %d+%.%d+%.%d+"))
    rc, out = proc.shijim("--help")
    assert.are.equal(0, rc)
    assert.truthy(out:find("shijim run SCRIPT.lua", 1, true))
  end)

  it("shows list defaults in main.lua's help as the user would type them", function()
    local rc, out = proc.shijim("run main.lua --help")
    assert.are.equal(0, rc)
    assert.truthy(out:find("(default: 2330,2317,0050,2454,2603)", 1, true), out)
    assert.truthy(out:find("(default: tick,bidask)", 1, true), out)
    assert.falsy(out:find("table: 0x", 1, true), out)
  end)

  it("exits 2 on bad usage", function()
    local rc, _, err = proc.shijim("--bogus")
    assert.are.equal(2, rc)
    assert.truthy(err:find("unknown option", 1, true))
    rc, _, err = proc.shijim("run")
    assert.are.equal(2, rc)
    rc, _, err = proc.shijim("run " .. dir .. "/missing.lua")
    assert.are.equal(2, rc)
    assert.truthy(err:find("script not found", 1, true))
  end)

  it("reports a syntax error as file:line and exits 1", function()
    local script = dir .. "/broken.lua"
    proc.write(script, "local x = 1\n\nlocal y = = 2\n")
    local rc, _, err = proc.shijim("run " .. script)
    assert.are.equal(1, rc)
    assert.truthy(err:find("broken.lua:3:", 1, true), err)
  end)

  it("reports a runtime error with file:line and a traceback and exits 1", function()
    local script = dir .. "/boom.lua"
    proc.write(script, "local function f()\n  error('boom here')\nend\nf()\n")
    local rc, _, err = proc.shijim(script)
    assert.are.equal(1, rc)
    assert.truthy(err:find("boom.lua:2: boom here", 1, true), err)
    assert.truthy(err:find("stack traceback", 1, true), err)
  end)

  it("stops in order and exits 1 when a handler raises, keeping what was archived", function()
    local script = dir .. "/handler.lua"
    proc.write(script, [[
local shijim = require "shijim"
local src = shijim.source.simulated{ seed = 1, rate = 0, date = "2026-11-25" }
src:subscribe{ stocks = {"2330"}, kinds = {"tick", "bidask"} }
shijim.route(src, require("sinks.raw"){ dir = "]] .. dir .. [[/raw" })
local n = 0
shijim.on("tick", function(ev)
  n = n + 1
  if n == 500 then error("handler failed at tick " .. n) end
end)
shijim.run{ status_ms = 0 }
]])
    local rc, _, err = proc.shijim("run " .. script)
    assert.are.equal(1, rc)
    assert.truthy(err:find("handler.lua:8: handler failed at tick 500", 1, true), err)
    assert.truthy(err:find("stack traceback", 1, true))
    -- Everything accepted before the error is in the archive and checks clean.
    local crc, out = proc.run("ls " .. dir .. "/raw/sim/*.shjraw | xargs " .. proc.bin .. " dump --check")
    assert.are.equal(0, crc, out)
  end)

  it("passes script arguments in arg and ...", function()
    local script = dir .. "/args.lua"
    proc.write(script, "local a, b = ...\nio.write(arg[0]:match('args.lua') and 'ok' or 'no', ' ', a, ' ', b, ' ', #arg)\n")
    local rc, out = proc.shijim("run " .. script .. " one two")
    assert.are.equal(0, rc)
    assert.are.equal("ok one two 2", out)
  end)

  it("finds scripts in scripts/ when not in the current directory", function()
    local rc, out = proc.run("cd " .. dir .. " && " .. (proc.bin:sub(1, 1) == "/" and proc.bin or (os.getenv("PWD") .. "/" .. proc.bin)) .. " main.lua --help")
    assert.are.equal(0, rc)
    assert.truthy(out:find("usage: shijim run main.lua", 1, true))
  end)

  it("stops cleanly on SIGTERM: exit 0, archive complete up to the last sequence", function()
    local raw = dir .. "/raw"
    local cmd = string.format("%s run main.lua --rate 0 --dir %s --quiet & pid=$!; sleep 1.5; kill -TERM $pid; wait $pid",
      proc.bin, raw)
    local rc, _, err = proc.run(cmd)
    assert.are.equal(0, rc, err)
    assert.truthy(err:find("stopping (SIGTERM)", 1, true), err)
    local crc, out = proc.run("ls " .. raw .. "/sim/*.shjraw | xargs " .. proc.bin .. " dump --check")
    assert.are.equal(0, crc, out)
  end)

  it("the default job prints a status line at least every second", function()
    local rc, _, err = proc.shijim("run main.lua --duration 2.5 --dir " .. dir .. "/raw --quiet")
    assert.are.equal(0, rc, err)
    local lines = 0
    for line in err:gmatch("[^\n]+") do
      if line:match("ev/s") and line:match("tick") and line:match("bidask") then lines = lines + 1 end
    end
    assert.is_true(lines >= 2, err)
  end)

  it("never prints a password given inside --url (issue 11, fault 6)", function()
    local rc, out, err = proc.shijim("run main.lua --url 'http://u:Zq9SECRETpw@127.0.0.1:1' --duration 1")
    local all = (out or "") .. (err or "")
    assert.truthy(all:find("u:***@127.0.0.1:1", 1, true), all) -- still says where it connects
    assert.falsy(all:find("Zq9SECRETpw", 1, true), all)
    assert.is_number(rc)
  end)
end)
