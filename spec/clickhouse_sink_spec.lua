-- sinks.clickhouse and schema.lua in a real run: the simulated market recorded
-- into a real clickhouse-server (18.16) next to the raw archive, a dead server
-- (everything lands in the fallback, then restores), and clear errors.
local proc = require "support.proc"
local ch = require "support.ch"
local shijim = require "shijim"

local bin = proc.bin:sub(1, 1) == "/" and proc.bin or (os.getenv("PWD") .. "/" .. proc.bin)

describe("sinks.clickhouse", function()
  local server, dir
  setup(function() server = ch.start() end)
  teardown(function() server:stop() end)
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function sim(seed)
    local src = shijim.source.simulated{ seed = seed, rate = 0, date = "2026-11-25" }
    src:subscribe{ stocks = { "2330", "2317", "0050" }, futures = { "TXFR1" }, kinds = { "tick", "bidask" } }
    return src
  end

  it("records the simulated market: every tick and book in ClickHouse, none in the fallback", function()
    local src = sim(11)
    shijim.route(src, require("sinks.raw"){ dir = dir .. "/raw", fsync_ms = 10 })
    local sink = shijim.route(src, require("sinks.clickhouse"){
      dsn = server:dsn("live"), fallback_dir = dir .. "/fallback", batch_rows = 4000, batch_ms = 50 })
    local ticks, books = 0, 0
    shijim.on("tick", function() ticks = ticks + 1 end)
    shijim.on("bidask", function() books = books + 1 end)
    shijim.run{ events = 40000, status_ms = 0 }
    local st = sink:stats()
    assert.are.equal(ticks + books, st.rows_in)
    assert.are.equal(st.rows_in, st.rows_inserted)
    assert.are.equal(0, st.rows_fallback)
    assert.are.equal(ticks, server:scalar("SELECT count() FROM live.ticks FINAL"))
    assert.are.equal(books, server:scalar("SELECT count() FROM live.bidasks FINAL"))
    assert.are.equal(0, server:scalar("SELECT count() FROM live.ticks WHERE length(code) = 0 OR close <= 0"))
    assert.are.same({}, ch.files(dir .. "/fallback"))
  end)

  it("keeps everything in the fallback while ClickHouse is unreachable; restore puts it all back", function()
    local src = sim(12)
    local sink = shijim.route(src, require("sinks.clickhouse"){
      dsn = "clickhouse://127.0.0.1:1/dead", fallback_dir = dir .. "/fallback", batch_rows = 2000, batch_ms = 20 })
    shijim.run{ events = 10000, status_ms = 0 }
    local st = sink:stats()
    assert.is_true(st.rows_in > 0)
    assert.are.equal(st.rows_in, st.rows_fallback)
    assert.are.equal(0, st.rows_inserted)
    assert.are.equal(2, #ch.files(dir .. "/fallback"))
    local rc, out, err = proc.run(string.format("%s restore.lua --fallback-dir %s/fallback --apply --dsn %s", bin, dir,
      server:dsn("late")))
    assert.are.equal(0, rc, err)
    assert.truthy(out:find("inserted " .. st.rows_in .. " rows", 1, true))
    assert.are.equal(st.rows_in, server:scalar("SELECT count() FROM late.ticks FINAL")
      + server:scalar("SELECT count() FROM late.bidasks FINAL"))
  end)

  it("replay.lua loads a recorded archive into ClickHouse: every tick and book, nothing in the fallback", function()
    local src = sim(13)
    shijim.route(src, require("sinks.raw"){ dir = dir .. "/raw", fsync_ms = 10 })
    local ticks, books = 0, 0
    shijim.on("tick", function() ticks = ticks + 1 end)
    shijim.on("bidask", function() books = books + 1 end)
    shijim.run{ events = 20000, status_ms = 0 }
    assert.is_true(ticks > 0 and books > 0)
    local rc, _, err = proc.run(string.format("%s replay.lua --archive-dir %s/raw --clickhouse %s --fallback-dir %s/fallback",
      bin, dir, server:dsn("replayed"), dir))
    assert.are.equal(0, rc, err)
    assert.truthy(err:find("clickhouse: " .. (ticks + books) .. " rows in, " .. (ticks + books) .. " inserted, 0 to the fallback", 1, true), err)
    assert.are.equal(ticks, server:scalar("SELECT count() FROM replayed.ticks FINAL"))
    assert.are.equal(books, server:scalar("SELECT count() FROM replayed.bidasks FINAL"))
    assert.are.same({}, ch.files(dir .. "/fallback"))
    -- ClickHouse unreachable: every row kept in the fallback, and the exit code says the job is not done
    rc, _, err = proc.run(string.format("%s replay.lua --archive-dir %s/raw --clickhouse clickhouse://127.0.0.1:1/dead --fallback-dir %s/fallback",
      bin, dir, dir))
    assert.are.equal(1, rc, err)
    assert.truthy(err:find("0 inserted, " .. (ticks + books) .. " to the fallback", 1, true), err)
    assert.truthy(err:find("restore.lua --fallback-dir", 1, true), err)
    assert.are.equal(2, #ch.files(dir .. "/fallback"))
  end)

  -- Issue 14: gateways sharing tables. The key is (code, ts, source, seq); two
  -- gateways that both number their source 1 collide on it wherever code, ts and
  -- seq coincide (here: the same simulated market, so on every row).
  it("gives each --gateway-id its own source number: two gateways never share a key; replay keeps the number", function()
    -- (each gateway its own archive: an archive that exists continues its seq)
    local function gateway(id, db, archive)
      local cmd = string.format("%s run main.lua --seed 5 --rate 0 --events 6000 --date 2026-11-25 --stocks 2330,2317 "
        .. "--futures TXFR1 --dir %s/raw-%s --fallback-dir %s/fb --clickhouse %s --status-every 0 --quiet%s",
        bin, dir, archive or id, dir, server:dsn(db), id and (" --gateway-id " .. id) or "")
      local rc, out, err = proc.run(cmd)
      assert.are.equal(0, rc, err)
      return out .. err
    end
    local function rows(db)
      return server:scalar("SELECT count() FROM " .. db .. ".ticks FINAL")
        + server:scalar("SELECT count() FROM " .. db .. ".bidasks FINAL")
    end
    -- control: no gateway ids, both rows sets are source 1 and collapse into one
    gateway(nil, "nogw", "a")
    local one = rows("nogw")
    assert.is_true(one > 0)
    gateway(nil, "nogw", "b")
    assert.are.equal(one, rows("nogw"))
    -- with gateway ids: every row of both kept, under two numbers main.lua announced
    local log0 = gateway("gw0", "gw")
    local log1 = gateway("gw1", "gw")
    assert.are.equal(2 * one, rows("gw"))
    local n0 = tonumber(log0:match("gateway gw0 writes source = (%d+)"))
    local n1 = tonumber(log1:match("gateway gw1 writes source = (%d+)"))
    assert.is_truthy(n0 and n1, log0 .. log1)
    assert.are_not.equal(n0, n1)
    assert.are.equal(n0, require("shijim.ffi").C.chw_gateway_source("gw0"))
    assert.is_true(n0 >= 256 and n1 >= 256)
    local body = server:query("SELECT source, count() FROM gw.ticks FINAL GROUP BY source ORDER BY source")
    local seen = {}
    for src, c in body:gmatch("(%d+)\t(%d+)") do seen[tonumber(src)] = tonumber(c) end
    assert.is_truthy(seen[n0] and seen[n1] and seen[n0] == seen[n1], body)
    -- replaying gw0's archive with its gateway id lands on the same keys: no new row
    local rc, _, err = proc.run(string.format("%s replay.lua --archive-dir %s/raw-gw0 --source sim-gw0 --clickhouse %s "
      .. "--gateway-id gw0 --fallback-dir %s/fb", bin, dir, server:dsn("gw"), dir))
    assert.are.equal(0, rc, err)
    assert.are.equal(2 * one, rows("gw"))
    -- a gateway whose ClickHouse was down: its fallback lines keep the number, restore lands on the same keys
    local rc2, _, err2 = proc.run(string.format("%s run main.lua --seed 5 --rate 0 --events 6000 --date 2026-11-25 "
      .. "--stocks 2330,2317 --futures TXFR1 --dir %s/raw-gw0-down --fallback-dir %s/fb-down --clickhouse %s "
      .. "--status-every 0 --quiet --gateway-id gw0", bin, dir, dir, "clickhouse://127.0.0.1:1/dead"))
    assert.are.equal(1, rc2, err2) -- rows left in the fallback: exit 1, as documented
    assert.truthy(io.open(dir .. "/fb-down/ticks/2026-11-25.jsonl"):read("*a"):find('"source_id":' .. n0, 1, true))
    rc2, _, err2 = proc.run(string.format("%s restore.lua --fallback-dir %s/fb-down --apply --dsn %s", bin, dir,
      server:dsn("gw")))
    assert.are.equal(0, rc2, err2)
    assert.are.equal(2 * one, rows("gw"))
    -- and without it, the replayed rows are another source's (number 1): a third copy
    rc, _, err = proc.run(string.format("%s replay.lua --archive-dir %s/raw-gw0 --source sim-gw0 --clickhouse %s "
      .. "--fallback-dir %s/fb", bin, dir, server:dsn("gw"), dir))
    assert.are.equal(0, rc, err)
    assert.are.equal(3 * one, rows("gw"))
  end)

  it("refuses bad options and bad credentials with clear errors", function()
    local ok, err = pcall(require("sinks.clickhouse"), { fallback_dir = dir })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("dsn is required", 1, true))
    ok, err = pcall(require("sinks.clickhouse"), { dsn = "clickhouse://h/db", on_fatal = "explode" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("on_fatal", 1, true))
    -- attach directly: a source created here would take part in the next spec's run
    local nosrc = { ptr = nil }
    local sink = require("sinks.clickhouse"){ dsn = server:dsn("x", "shj:hunter2@"), fallback_dir = dir }
    ok, err = pcall(sink.attach, sink, nosrc)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("Wrong password for user shj", 1, true))
    assert.falsy(tostring(err):find("hunter2", 1, true))
    sink = require("sinks.clickhouse"){ dsn = "clickhouse://127.0.0.1:80x/db", fallback_dir = dir }
    ok, err = pcall(sink.attach, sink, nosrc)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("bad DSN", 1, true))
  end)
end)

describe("schema.lua", function()
  local server
  setup(function() server = ch.start() end)
  teardown(function() server:stop() end)

  it("prints DDL for old and new servers and creates the tables on a real one", function()
    local rc, out = proc.run(bin .. " schema.lua --print")
    assert.are.equal(0, rc)
    assert.truthy(out:find("CREATE TABLE IF NOT EXISTS default.ticks", 1, true))
    assert.truthy(out:find("ENGINE = ReplacingMergeTree()", 1, true))
    assert.falsy(out:find("LowCardinality", 1, true))
    rc, out = proc.run(bin .. " schema.lua --print --version 24.8 --db md")
    assert.are.equal(0, rc)
    assert.truthy(out:find("md.bidasks", 1, true))
    assert.truthy(out:find("code LowCardinality(String)", 1, true))
    assert.truthy(out:find("DateTime64(9, 'Asia/Taipei')", 1, true))
    rc, out = proc.run(bin .. " schema.lua --print --dsn " .. server:dsn("dba"))
    assert.are.equal(0, rc)
    assert.truthy(out:find("server 18.16.1, database dba", 1, true))
    assert.falsy(out:find("CODEC", 1, true))
    assert.are.equal(0, server:scalar("SELECT count() FROM system.databases WHERE name = 'dba'")) -- print touches nothing
    rc, out = proc.run(bin .. " schema.lua --dsn " .. server:dsn("dba"))
    assert.are.equal(0, rc)
    -- ticks, bidasks; aliases, instruments, bars_1m and the two views
    assert.are.equal(7, server:scalar("SELECT count() FROM system.tables WHERE database = 'dba'"))
    rc = proc.run(bin .. " schema.lua --dsn " .. server:dsn("dba")) -- again: IF NOT EXISTS
    assert.are.equal(0, rc)
    local _, _, err = proc.run(bin .. " schema.lua")
    assert.truthy(err:find("nothing to do", 1, true))
  end)

  -- Tables an older Shijim created hold prices as Decimal64(4); prices are now
  -- x 10^6 (SHJ_PRICE_SCALE), so --migrate converts them in place, exactly.
  it("--migrate converts Decimal64(4) tables to the scale written now, keeping the values", function()
    local rc, ddl = proc.run(bin .. " schema.lua --print --db olddb")
    local out, err
    assert.are.equal(0, rc)
    ddl = ddl:match("^(.-)CREATE TABLE IF NOT EXISTS olddb%.aliases") -- the event tables of an older Shijim
    local old, n = ddl:gsub("Decimal64%(6%)", "Decimal64(4)")
    assert.are.equal(12, n) -- 10 price columns in ticks, 2 in bidasks
    assert.are.equal(200, select(2, server:query("CREATE DATABASE olddb")))
    for stmt in old:gmatch("(CREATE TABLE.-ORDER BY %b())") do
      assert.are.equal(200, select(2, server:query(stmt)))
    end
    local row = '{"code":"2330","ts":1795568400000000001,"recv_ts":1,"dt":1795568400,"day":"2026-11-25",' ..
                '"source":1,"seq":1,"flags":0,"kind":"tick","close":585.1234,"amount_sum":123456789.5}'
    assert.are.equal(200, select(2, server:query("INSERT INTO olddb.ticks FORMAT JSONEachRow " .. row)))
    local types = "SELECT count() FROM system.columns WHERE database = 'olddb' AND table IN ('ticks', 'bidasks') " ..
                  "AND type LIKE '%%Decimal(18, %d)%%'"
    rc, out = proc.run(bin .. " schema.lua --migrate --print --dsn " .. server:dsn("olddb"))
    assert.are.equal(0, rc)
    assert.truthy(out:find("ALTER TABLE olddb.ticks MODIFY COLUMN open Decimal64(6), MODIFY COLUMN high Decimal64(6)", 1, true))
    assert.truthy(out:find("ALTER TABLE olddb.bidasks MODIFY COLUMN bid_price Array(Decimal64(6))", 1, true))
    assert.are.equal(12, server:scalar(types:format(4))) -- --print changes nothing
    rc, out, err = proc.run(bin .. " schema.lua --migrate --dsn " .. server:dsn("olddb"))
    assert.are.equal(0, rc, err)
    assert.truthy(out:find("migrated", 1, true))
    assert.are.equal(0, server:scalar(types:format(4)))
    assert.are.equal(12, server:scalar(types:format(6)))
    assert.are.equal("585.123400\t123456789.500000", (server:query("SELECT close, amount_sum FROM olddb.ticks")))
    -- the analyst objects were added and backfilled from the stored row
    assert.are.equal(1, server:scalar("SELECT count() FROM (SELECT code, minute FROM olddb.bars_1m GROUP BY code, minute)"))
    assert.are.equal("585.123400", (server:query("SELECT argMaxMerge(close_state) FROM olddb.bars_1m")))
    rc, out = proc.run(bin .. " schema.lua --migrate --dsn " .. server:dsn("olddb")) -- again: nothing to do
    assert.are.equal(0, rc)
    assert.truthy(out:find("nothing to migrate", 1, true))
    rc, _, err = proc.run(bin .. " schema.lua --migrate --print")
    assert.are.equal(2, rc)
    assert.truthy(err:find("--migrate needs --dsn", 1, true))
  end)
end)
