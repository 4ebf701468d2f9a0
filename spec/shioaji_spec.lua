-- The live Shioaji source from Lua: options, subscriptions, status events for
-- handlers, alias resolution, and main.lua choosing it (against the stand-in).
local ffi = require "ffi"
local proc = require "support.proc"
local shijim = require "shijim"

local build = os.getenv("SHJ_BUILD_DIR") or "build"

-- Start tool_standin on a free port; returns port, pid, log path.
local function standin(dir, extra)
  local cmd = string.format("%s/tool_standin --port 0 --log %s/standin.log %s > %s/port 2> %s/standin.err & echo $! > %s/pid",
                            build, dir, extra or "", dir, dir, dir)
  os.execute(cmd)
  local port
  for _ = 1, 200 do
    local text = proc.read(dir .. "/port") or ""
    port = text:match("listening 127%.0%.0%.1:(%d+)")
    if port then break end
    os.execute("sleep 0.02")
  end
  assert(port, "stand-in did not start: " .. tostring(proc.read(dir .. "/standin.err")))
  return tonumber(port), proc.read(dir .. "/pid"):match("%d+")
end

local function stop(pid) os.execute("kill " .. pid .. " 2>/dev/null; sleep 0.05") end

describe("shijim.source.shioaji", function()
  local dir
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("refuses credentials in scripts, unknown options and bad stream modes", function()
    local ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", api_key = "x" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("only from the environment", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", stream = "sideways" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("combined", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", bogus = 1 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("unknown option 'bogus'", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "ftp://x" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("http://", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", rate_limit = "fast" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("rate_limit", 1, true))
  end)

  it("takes the backfill budget options, backfill_retry_at as \"HH:MM\"", function()
    local src = shijim.source.shioaji{ url = "http://127.0.0.1:1", backfill = true, backfill_max_queries = 5,
                                       backfill_window_s = 30, backfill_retry_at = "14:05" }
    assert.are.equal(0, src:stats().backfill_queued)
    local ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", backfill_retry_at = "25:00" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("backfill_retry_at", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", backfill_retry_at = "soon" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("backfill_retry_at", 1, true))
    ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", backfill_max_queries = 0 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("backfill_max_queries", 1, true))
  end)

  it("takes the 1.7 resilience options", function()
    local src = shijim.source.shioaji{ url = "http://127.0.0.1:1", auth_retry_s = 30, ban_wait_s = 90,
                                       health_poll_s = 60, silence_s = 120, market_hours = false,
                                       backfill_defer = false, backfill_intraday_max = 10, usage_poll_s = 300 }
    local st = src:stats()
    assert.are.equal(0, st.bans)
    assert.are.equal(0, st.quota_exhausted)
    local ok, err = pcall(shijim.source.shioaji, { url = "http://127.0.0.1:1", backfill_intraday_max = 1.5 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("backfill_intraday_max", 1, true))
  end)

  it("ends the run with an error when the server refuses the credentials (401)", function()
    -- HTTP_API.md:72-77: a server that demands auth answers 401 without the right header.
    ffi.cdef[[ int setenv(const char *, const char *, int); int unsetenv(const char *); ]]
    local port, pid = standin(dir, "--rate 100 --heartbeat-ms 200 --date 2026-11-25 --require-auth right:pair")
    ffi.C.setenv("SHIOAJI_API_KEY", "k3y-zq81", 1)
    ffi.C.setenv("SHIOAJI_SECRET_KEY", "s3c-zq82", 1)
    local src = shijim.source.shioaji{ url = "http://127.0.0.1:" .. port, backoff_initial_s = 0.05, name = "sj401" }
    src:subscribe{ stocks = { "2330" } }
    local t0 = os.time()
    local ok, err = pcall(shijim.run, { duration_s = 20, status_ms = 0 })
    ffi.C.unsetenv("SHIOAJI_API_KEY")
    ffi.C.unsetenv("SHIOAJI_SECRET_KEY")
    stop(pid)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("HTTP 401", 1, true))
    assert.is_nil(tostring(err):find("zq8", 1, true)) -- the key itself is never shown
    assert.truthy(os.time() - t0 < 15) -- it ended by itself, not at duration_s
    assert.truthy(src:stats().auth_refusals >= 1)
  end)

  it("streams ticks and bid/asks, resolves aliases and hands status events to handlers", function()
    local port, pid = standin(dir, "--rate 300 --heartbeat-ms 200 --date 2026-11-25 --unknown 9999")
    local src = shijim.source.shioaji{ url = "http://127.0.0.1:" .. port, heartbeat_timeout_s = 2,
                                       backoff_initial_s = 0.05, name = "sjlua" }
    assert.are.equal("shioaji", src.type)
    assert.are.equal("sjlua", src.name)
    src:subscribe{ stocks = { "2330", "9999" }, futures = { "TXFR1" }, kinds = { "tick", "bidask" } }
    shijim.route(src, require("sinks.raw"){ dir = dir .. "/raw", fsync_ms = 10 })
    local ticks, bidasks, statuses, codes = 0, 0, {}, {}
    shijim.on("tick", function(ev) ticks = ticks + 1; codes[ev:symbol()] = true end)
    shijim.on("bidask", function() bidasks = bidasks + 1 end)
    shijim.on("status", function(ev)
      statuses[#statuses + 1] = { name = ev:status_name(), code = ev:symbol(), http = ev.http_status,
                                  detail = ffi.string(ev.detail) }
    end)
    shijim.every(50, function()
      if codes["2330"] and codes["TXFL6"] and bidasks > 20 and #statuses >= 2 then shijim.stop("seen enough") end
    end)
    shijim.run{ duration_s = 20, status_ms = 0 }
    stop(pid)

    assert.truthy(codes["2330"] and codes["TXFL6"], "ticks of both instruments")
    assert.truthy(bidasks > 20)
    assert.are.equal("TXFL6", src:resolve("TXFR1"))
    assert.is_nil(src:resolve("NOPE"))
    local server = src:server()
    assert.are.equal("1.7.2-standin", server.version)
    assert.is_true(server.simulation)
    local connected, rejected
    for _, s in ipairs(statuses) do
      if s.name == "connected" then connected = true end
      if s.name == "error" and s.code == "9999" then rejected = s end
    end
    assert.is_true(connected)
    assert.truthy(rejected, "an error status for the unknown contract")
    assert.are.equal(404, rejected.http)
    assert.truthy(rejected.detail:find("contract not found", 1, true))
    local st = src:stats()
    assert.are.equal(1, st.subscribe_errors)
    assert.are.equal(4, st.subscribed)
    assert.are.equal(0, st.reconnects)
    assert.truthy(src:connection():find("streams 0/1 subs 4 err 1 reconn 0", 1, true), src:connection()) -- stopped now
    assert.truthy(src:counter("events") > 0)
  end)

  it("is what main.lua picks when a server URL is given, and the status line shows the connection", function()
    local port, pid = standin(dir, "--rate 200 --heartbeat-ms 200")
    local rc, _, err = proc.shijim(string.format("run scripts/main.lua --url http://127.0.0.1:%d --duration 2.5 --dir %s/raw --quiet",
                                                 port, dir))
    stop(pid)
    assert.are.equal(0, rc, err)
    assert.truthy(err:find("source: live Shioaji server", 1, true), err)
    assert.truthy(err:find("Shioaji server shioaji-standin", 1, true), err)
    assert.truthy(err:find("streams 1/1", 1, true), err) -- the source's part of the status line
  end)
end)
