-- Operations: a real Prometheus scraping `shijim run main.lua --metrics`,
-- /readyz flipping when the source goes silent, and the log/summary options
-- of main.lua (--status-every, --log-format json, the ClickHouse exit summary).
local cjson = require "cjson"
local proc = require "support.proc"

local build = os.getenv("SHJ_BUILD_DIR") or "build"
local bin = proc.bin

local function free_ports(n)
  local p = io.popen(build .. "/tool_free_ports " .. n)
  local out = p:read("*a")
  p:close()
  local ports = {}
  for port in out:gmatch("%d+") do ports[#ports + 1] = tonumber(port) end
  assert(#ports == n, "tool_free_ports: " .. out)
  return ports
end

local function sleep(s) os.execute("sleep " .. s) end

-- Under the ASan build busted runs with the sanitizer runtimes in LD_PRELOAD
-- (for luajit); tools of our own (curl, prometheus, promtool) run without them.
local plain = "env -u LD_PRELOAD "

-- Start cmdline in the background; returns its PID (output to logfile).
local function spawn(cmdline, logfile)
  local p = io.popen(string.format("(%s) >%s 2>&1 & echo $!", cmdline, logfile))
  local pid = tonumber(p:read("*l"))
  p:close()
  return pid
end

local function alive(pid) return os.execute("kill -0 " .. pid .. " 2>/dev/null") == 0 end

local function wait_exit(pid, timeout_s)
  for _ = 1, timeout_s * 10 do
    if not alive(pid) then return true end
    sleep(0.1)
  end
  return false
end

local function stop(pid)
  if pid and alive(pid) then
    os.execute("kill " .. pid)
    if not wait_exit(pid, 10) then os.execute("kill -9 " .. pid) end
  end
end

-- HTTP GET: status code, body.
local function get(url)
  local p = io.popen(string.format(plain .. "curl -s -m 5 -w '\\n%%{http_code}' '%s'", url))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return tonumber(code), body
end

local function prom_query(port, expr)
  local p = io.popen(string.format(plain .. "curl -s -m 5 -G 'http://127.0.0.1:%d/api/v1/query' --data-urlencode 'query=%s'",
    port, expr))
  local out = p:read("*a")
  p:close()
  local doc = cjson.decode(out)
  assert(doc.status == "success", out)
  return doc.data.result
end

local function scalar(result)
  assert(#result == 1, "expected one series, got " .. #result .. ": " .. cjson.encode(result))
  return tonumber(result[1].value[2])
end

describe("operations", function()
  local dir
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("a real Prometheus scrapes main.lua's /metrics: the final counters equal the run's totals at stop", function()
    local ports = free_ports(2)
    local prom_port, metrics_port = ports[1], ports[2]
    proc.write(dir .. "/prometheus.yml", string.format([[
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: shijim
    static_configs:
      - targets: ['127.0.0.1:%d']
]], metrics_port))
    local prom_pid = spawn(string.format(plain .. "prometheus --config.file=%s/prometheus.yml --storage.tsdb.path=%s/tsdb " ..
      "--web.listen-address=127.0.0.1:%d", dir, dir, prom_port), dir .. "/prometheus.log")
    local shj_pid
    local ok, err = pcall(function()
      local up = false
      for _ = 1, 100 do
        if get(string.format("http://127.0.0.1:%d/-/ready", prom_port)) == 200 then up = true break end
        sleep(0.1)
      end
      assert(up, "prometheus did not become ready: " .. tostring(proc.read(dir .. "/prometheus.log")))
      -- Prometheus hands static targets to its scrapers up to 5 s after it is
      -- ready: wait for its first (failed) scrape, so it scrapes the whole run.
      local scraping = false
      for _ = 1, 150 do
        if #prom_query(prom_port, 'up{job="shijim"}') > 0 then scraping = true break end
        sleep(0.1)
      end
      assert(scraping, "prometheus never scraped the target")
      -- 4 s of recording, then the final snapshot (sources stopped, bus drained,
      -- writers closed) stays served for 4 s: several scrapes see the totals.
      shj_pid = spawn(string.format("%s run main.lua --duration 4 --rate 5000 --dir %s/raw --metrics 127.0.0.1:%d " ..
        "--metrics-linger 4 --status-every 0", bin, dir, metrics_port), dir .. "/shijim.log")
      assert.is_true(wait_exit(shj_pid, 60), "shijim did not exit")
      local log = proc.read(dir .. "/shijim.log")
      local total, tick, bidask, status = log:match(
        "published (%d+) events in [%d.]+ s; sim: events %d+ tick (%d+) bidask (%d+) quote 0 status (%d+)")
      assert.truthy(total, log)
      total, tick, bidask, status = tonumber(total), tonumber(tick), tonumber(bidask), tonumber(status)
      assert.is_true(total > 10000, log)
      assert.are.equal(total, tick + bidask + status)
      -- The target is gone now: instant queries see staleness markers, range
      -- functions see the last samples it served.
      local function last(expr) return scalar(prom_query(prom_port, "last_over_time(" .. expr .. "[5m])")) end
      assert.are.equal(total, last("shijim_bus_published_total"))
      assert.are.equal(tick, last('shijim_events_total{source="sim",kind="tick"}'))
      assert.are.equal(bidask, last('shijim_events_total{source="sim",kind="bidask"}'))
      assert.are.equal(status, last('shijim_events_total{source="sim",kind="status"}'))
      -- Every payload was archived: the raw archive count matches the events (one event per payload).
      assert.are.equal(tick + bidask, last('shijim_raw_records_total{source="sim"}'))
      -- Latency histograms were scraped: every market event passed the bus stage once;
      -- the block-trade handler saw ticks; the archive reported most of them durable.
      assert.are.equal(total, last('shijim_event_latency_seconds_count{stage="bus"}'))
      assert.are.equal(total, last('shijim_event_latency_seconds_bucket{stage="bus",le="+Inf"}'))
      assert.are.equal(tick, last('shijim_event_latency_seconds_count{stage="handler"}'))
      local durable = last('shijim_event_latency_seconds_count{stage="durable"}')
      assert.is_true(durable > 0 and durable <= tick + bidask, tostring(durable))
      local p99 = scalar(prom_query(prom_port,
        'histogram_quantile(0.99, last_over_time(shijim_event_latency_seconds_bucket{stage="durable"}[5m]))'))
      assert.is_true(p99 > 0 and p99 <= 10, tostring(p99))
      -- Ready while recording, not ready in the final snapshot (stopped).
      assert.are.equal(1, scalar(prom_query(prom_port, "max_over_time(shijim_ready[5m])")))
      assert.are.equal(0, last("shijim_ready"))
      -- Prometheus saw the target up (a parse error of the text makes up 0), scraping it
      -- while it recorded and while it lingered.
      assert.are.equal(1, scalar(prom_query(prom_port, 'max_over_time(up{job="shijim"}[5m])')))
      assert.is_true(scalar(prom_query(prom_port, "count_over_time(shijim_ready[5m])")) >= 6)
    end)
    stop(shj_pid)
    stop(prom_pid)
    assert(ok, err)
  end)

  it("/readyz flips to 503 when the source stops sending while /healthz stays 200", function()
    local port = free_ports(1)[1]
    local script = dir .. "/silent.lua"
    proc.write(script, string.format([[
local shijim = require "shijim"
local sffi = require "shijim.ffi"
assert(sffi.C.shj_metrics_start("127.0.0.1:%d", 1, 0, sffi.errbuf, sffi.ERRLEN) == 0, sffi.errtext())
local src = shijim.source.simulated{ seed = 7, rate = 2000 }
src:subscribe{ stocks = { "2330" }, kinds = { "tick", "bidask" } }
-- After 3 s the only instrument is dropped: the simulated market falls silent.
shijim.after(3000, function()
  src:unsubscribe{ stocks = { "2330" }, kinds = { "tick", "bidask" } }
  shijim.log("silent now")
end)
shijim.run{ duration_s = 8, status_ms = 0 }
sffi.C.shj_metrics_stop()
]], port))
    local pid = spawn(string.format("%s run %s", bin, script), dir .. "/run.log")
    local ok, err = pcall(function()
      local seen_ready, seen_flip, health_during_flip = false, false, nil
      local flip_body
      for _ = 1, 70 do
        local code, body = get(string.format("http://127.0.0.1:%d/readyz", port))
        if code == 200 then seen_ready = true end
        if seen_ready and code == 503 then
          seen_flip, flip_body = true, body
          health_during_flip = get(string.format("http://127.0.0.1:%d/healthz", port))
          break
        end
        sleep(0.1)
      end
      local log = proc.read(dir .. "/run.log")
      assert.is_true(seen_ready, log)
      assert.is_true(seen_flip, log)
      assert.truthy(flip_body:find("not ready: source sim: no market event for", 1, true), flip_body)
      assert.are.equal(200, health_during_flip)
      -- It flipped because of the silence, after the script silenced the source.
      assert.truthy(proc.read(dir .. "/run.log"):find("silent now", 1, true))
    end)
    stop(pid)
    assert(ok, err)
  end)

  it("/metrics passes promtool's lint, and every metric the Grafana dashboard queries is exposed", function()
    local port = free_ports(1)[1]
    local pid = spawn(string.format("%s run main.lua --duration 2 --rate 2000 --dir %s/raw --clickhouse clickhouse://127.0.0.1:1/dead " ..
      "--fallback-dir %s/fb --metrics 127.0.0.1:%d --metrics-linger 3 --status-every 0", bin, dir, dir, port), dir .. "/run.log")
    local ok, err = pcall(function()
      local code, body
      for _ = 1, 50 do
        sleep(0.1)
        code, body = get(string.format("http://127.0.0.1:%d/metrics", port))
        if code == 200 and body:find("shijim_clickhouse_rows_in_total", 1, true) then break end
      end
      assert.are.equal(200, code)
      proc.write(dir .. "/metrics.txt", body)
      local rc, out, lint = proc.run(plain .. "promtool check metrics < " .. dir .. "/metrics.txt")
      assert.are.equal(0, rc, tostring(out) .. tostring(lint))
      local families = {}
      for name in body:gmatch("# TYPE ([%w_]+) ") do families[name] = true end
      local src_dir = os.getenv("SHJ_SOURCE_DIR") or "."
      local dash = cjson.decode(proc.read(src_dir .. "/deploy/grafana/shijim.json"))
      local used = 0
      for _, panel in ipairs(dash.panels) do
        for _, target in ipairs(panel.targets or {}) do
          for name in target.expr:gmatch("shijim_[%w_]+") do
            local family = name:gsub("_bucket$", ""):gsub("_sum$", ""):gsub("_count$", "")
            assert.is_true(families[family] ~= nil, "dashboard panel '" .. panel.title .. "' queries " .. name ..
              " which /metrics does not expose")
            used = used + 1
          end
        end
      end
      assert.is_true(used >= 20)
    end)
    stop(pid)
    assert(ok, err)
  end)

  it("--status-every sets the status interval (0 = off) and --log-format json writes one object per line", function()
    local rc, _, err = proc.shijim(string.format("run main.lua --duration 2.2 --dir %s/raw --status-every 0", dir))
    assert.are.equal(0, rc, err)
    assert.falsy(err:find("ev/s", 1, true), err)
    assert.truthy(err:find("published %d+ events"), err)
    rc, _, err = proc.shijim(string.format("run main.lua --duration 2.5 --dir %s/raw --status-every 1", dir))
    assert.are.equal(0, rc, err)
    local n = 0
    for line in err:gmatch("[^\n]+") do
      if line:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%+08:00 info [%d.]+k? ev/s | sim: tick") then n = n + 1 end
    end
    assert.are.equal(2, n, err)
    rc, _, err = proc.shijim(string.format("run main.lua --duration 1.5 --dir %s/raw --log-format json", dir))
    assert.are.equal(0, rc, err)
    local lines, levels, lua_lines = 0, {}, 0
    for line in err:gmatch("[^\n]+") do
      local obj = cjson.decode(line) -- every line is JSON
      assert.truthy(obj.ts:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%+08:00$"), line)
      assert.truthy(obj.msg, line)
      levels[obj.level] = true
      if obj.src == "lua" then lua_lines = lua_lines + 1 end
      lines = lines + 1
    end
    assert.is_true(lines >= 4, err)
    assert.is_true(levels.info)
    assert.is_true(lua_lines >= 1, err)
    rc, _, err = proc.shijim(string.format("run main.lua --duration 1 --dir %s/raw --log-format yaml", dir))
    assert.are.equal(2, rc)
    assert.truthy(err:find("--log-format must be one of text, json", 1, true), err)
  end)

  it("says how many rows are in the ClickHouse fallback, to restore, and exits 1", function()
    local rc, _, err = proc.shijim(string.format(
      "run main.lua --duration 2 --rate 2000 --dir %s/raw --clickhouse clickhouse://127.0.0.1:1/dead --fallback-dir %s/fb --status-every 0",
      dir, dir))
    assert.are.equal(1, rc, err)
    local rows_in, fb = err:match("clickhouse: (%d+) rows in, 0 inserted, (%d+) in the fallback")
    assert.truthy(rows_in, err)
    assert.is_true(tonumber(rows_in) > 1000, err)
    assert.are.equal(rows_in, fb)
    assert.truthy(err:find(fb .. " rows are in the fallback: run restore.lua --apply", 1, true), err)
    -- A fallback line per batch (~20 here) would flood the log: one per file
    -- (ticks, bidasks) is printed, the rest summed up with a count.
    local appended, summaries = 0, 0
    for line in err:gmatch("[^\n]+") do
      if line:find("fallback file [^ ]+ appended %d+ rows$") then appended = appended + 1 end
      if line:find("fallback file [^ ]+ appended %d+ rows %(repeated %d+ times in %d+ s%)$") then summaries = summaries + 1 end
    end
    assert.are.equal(2, appended, err)
    assert.is_true(summaries >= 1, err)
  end)
end)
