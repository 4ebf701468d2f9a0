-- `shijim restore.lua` end to end, against a real clickhouse-server (18.16):
-- dry-run counts and writes nothing; apply restores exactly; twice and after
-- a kill -9 still 0 duplicates and each file archived once; malformed and
-- truncated lines are reported file:line, quarantined in *.rejected.jsonl (the file finished), exit 1;
-- clear errors for a missing dir, a bad DSN, a wrong password; custom clients.
local proc = require "support.proc"
local ch = require "support.ch"
local sffi = require "shijim.ffi"

local bin = proc.bin:sub(1, 1) == "/" and proc.bin or (os.getenv("PWD") .. "/" .. proc.bin)

local function restore(args, env)
  return proc.run((env or "") .. " " .. bin .. " restore.lua " .. args)
end

describe("shijim restore.lua", function()
  local server, dir
  setup(function() server = ch.start() end)
  teardown(function() server:stop() end)
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function final_rows(db)
    return server:scalar("SELECT count() FROM " .. db .. ".ticks FINAL")
        + server:scalar("SELECT count() FROM " .. db .. ".bidasks FINAL")
  end

  local function dups(db)
    local n = 0
    for _, t in ipairs({ "ticks", "bidasks" }) do
      n = n + server:scalar("SELECT count() FROM (SELECT code, ts, source, seq, count() AS c FROM " .. db .. "." .. t
        .. " FINAL GROUP BY code, ts, source, seq HAVING c > 1)")
    end
    return n
  end

  it("explains itself and refuses bad usage", function()
    local rc, out = restore("--help")
    assert.are.equal(0, rc)
    for _, flag in ipairs({ "--fallback-dir", "--mode", "--apply", "--dsn", "--client-factory", "--batch-size", "--archive-dir" }) do
      assert.truthy(out:find(flag, 1, true), flag)
    end
    local err
    rc, _, err = restore("")
    assert.are.equal(2, rc)
    assert.truthy(err:find("--fallback-dir is required", 1, true))
    rc, _, err = restore("--fallback-dir " .. dir .. " --apply")
    assert.are.equal(2, rc)
    assert.truthy(err:find("needs --dsn", 1, true))
    rc, _, err = restore("--fallback-dir " .. dir .. " --apply --dsn clickhouse://h/db --client-factory a:b")
    assert.are.equal(2, rc)
    rc, _, err = restore("--fallback-dir " .. dir .. " --mode sideways")
    assert.are.equal(2, rc)
    assert.truthy(err:find("dry-run, apply", 1, true))
    rc, _, err = restore("--fallback-dir " .. dir .. "/missing")
    assert.are.equal(1, rc)
    assert.truthy(err:find(dir .. "/missing: No such file or directory", 1, true))
  end)

  it("dry-run reports exact counts per file and kind and the time range, and writes nothing", function()
    local fb = dir .. "/fb"
    local t = ch.generate(fb, 30000, 2)
    -- the database exists and holds other rows: they must not change
    local rc = restore(string.format("--fallback-dir %s --apply --dsn %s", fb, server:dsn("dry")))
    assert.are.equal(0, rc)
    local before = final_rows("dry")
    local fb2 = dir .. "/fb2"
    local t2 = ch.generate(fb2, 20000, 1, 30000)
    local before_files = ch.files(fb2)
    local out, err
    rc, out, err = restore(string.format("--fallback-dir %s --dsn %s", fb2, server:dsn("dry")))
    assert.are.equal(0, rc, err)
    assert.are.equal(before, final_rows("dry"))
    assert.are.same(before_files, ch.files(fb2)) -- no file created, moved or removed
    assert.truthy(out:find("dry run", 1, true))
    assert.truthy(out:find(string.format("total: 2 file(s), %d rows (ticks %d, bidasks %d;", t2.rows, t2.ticks, t2.bidasks), 1, true))
    assert.truthy(out:find("ticks/2026-11-25.jsonl: " .. t2.ticks .. " rows", 1, true))
    assert.truthy(out:find("bidasks/2026-11-25.jsonl: " .. t2.bidasks .. " rows", 1, true))
    assert.truthy(out:find("time range: 2026-11-25 09:00:", 1, true))
    assert.truthy(out:find("nothing was written", 1, true))
    assert.are.equal(t.rows, before)
  end)

  it("applies exactly, archives each file once, and is idempotent when run twice", function()
    local fb, arc = dir .. "/fb", dir .. "/archive"
    local t = ch.generate(fb, 60000, 3)
    local files = ch.files(fb)
    assert.are.equal(6, #files)
    local rc, out, err = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s --batch-size 7000",
      fb, server:dsn("twice"), arc))
    assert.are.equal(0, rc, err)
    assert.truthy(out:find("archived 6 file(s), kept 0", 1, true))
    assert.are.equal(t.rows, final_rows("twice"))
    assert.are.equal(t.seqsum, server:scalar("SELECT sum(seq) FROM twice.ticks FINAL") + server:scalar("SELECT sum(seq) FROM twice.bidasks FINAL"))
    assert.are.equal(t.closesum, server:scalar("SELECT toInt64(sum(close) * " .. sffi.PRICE_SCALE .. ") FROM twice.ticks FINAL"))
    assert.are.equal(t.volsum, server:scalar("SELECT sum(volume) FROM twice.ticks FINAL"))
    assert.are.same({}, ch.files(fb))
    assert.are.same(files, ch.files(arc))
    -- again: nothing left to do
    rc, out = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s", fb, server:dsn("twice"), arc))
    assert.are.equal(0, rc)
    assert.truthy(out:find("nothing to do", 1, true))
    assert.are.same(files, ch.files(arc))
    -- and replaying the archived files themselves (a restore run twice) adds nothing under FINAL
    os.execute(string.format("cp -r %s %s/again", arc, dir))
    rc = restore(string.format("--fallback-dir %s/again --apply --dsn %s", dir, server:dsn("twice")))
    assert.are.equal(0, rc)
    assert.are.equal(t.rows, final_rows("twice"))
    assert.are.equal(0, dups("twice"))
    assert.is_true(server:scalar("SELECT count() FROM twice.ticks") > t.ticks) -- the copies are there until a merge
  end)

  it("can be killed -9 mid-way and re-run: 0 duplicates, every file archived exactly once", function()
    local fb, arc = dir .. "/fb", dir .. "/archive"
    local t = ch.generate(fb, 400000, 4)
    local files = ch.files(fb)
    local pidfile = dir .. "/pid"
    os.execute(string.format("sh -c '%s restore.lua --fallback-dir %s --apply --dsn %s --archive-dir %s --batch-size 500 >%s/out1 2>&1 & echo $! > %s'",
      bin, fb, server:dsn("killed"), arc, dir, pidfile))
    local pid = proc.read(pidfile):match("%d+")
    local seen = 0
    for _ = 1, 500 do
      local body, code = server:query("SELECT count() FROM killed.ticks")
      seen = code == 200 and tonumber(body) or 0
      if seen > 0 then break end
      os.execute("sleep 0.01")
    end
    os.execute("kill -9 " .. pid)
    os.execute("sleep 0.1")
    local mid = final_rows("killed")
    assert.is_true(seen > 0 and mid < t.rows, "restore was not caught mid-way (" .. mid .. " of " .. t.rows .. ")")
    local moved = #ch.files(arc)
    assert.is_true(moved < #files)
    local rc, out, err = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s", fb, server:dsn("killed"), arc))
    assert.are.equal(0, rc, err)
    assert.are.equal(t.rows, final_rows("killed"))
    assert.are.equal(0, dups("killed"))
    assert.are.same(files, ch.files(arc)) -- each file once, under its own name
    assert.are.same({}, ch.files(fb))
    assert.truthy(out:find(string.format("archived %d file(s)", #files - moved), 1, true))
  end)

  it("reports malformed and truncated lines as file:line, keeps them with the reason, exits 1", function()
    local fb, arc = dir .. "/fb", dir .. "/archive"
    local t = ch.generate(fb, 1000, 1)
    local path = fb .. "/ticks/2026-11-25.jsonl"
    local f = assert(io.open(path, "a"))
    f:write('{"kind":"tick","code":"2330","close":58x.5}\n')
    f:write('not json at all\n')
    f:write('{"kind":"tick","code":"2330","exchange":"TSE"') -- torn, no newline
    f:close()
    local n_lines = t.ticks + 3
    -- dry run: listed, nothing written
    local rc, out, err = restore("--fallback-dir " .. fb)
    assert.are.equal(1, rc)
    assert.truthy(err:find(path .. ":" .. (t.ticks + 1) .. ": bad number '58x.5' at column 38", 1, true), err)
    assert.truthy(err:find(path .. ":" .. (t.ticks + 2) .. ": line does not start with '{'", 1, true))
    assert.truthy(err:find(path .. ":" .. n_lines .. ": truncated last line", 1, true))
    assert.truthy(err:find("2 malformed line(s) rejected", 1, true))
    assert.truthy(err:find("1 torn last line(s)", 1, true))
    assert.truthy(out:find("ticks/2026-11-25.jsonl: " .. t.ticks .. " rows", 1, true))
    assert.is_nil(proc.read(fb .. "/ticks/2026-11-25.rejected.jsonl"))
    -- apply: good rows in, bad ones quarantined beside it with the reason, and
    -- the file finished (archived): a later run does not insert it again
    rc, out, err = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s", fb, server:dsn("bad"), arc))
    assert.are.equal(1, rc)
    assert.are.equal(t.rows, final_rows("bad"))
    local rejected = proc.read(fb .. "/ticks/2026-11-25.rejected.jsonl")
    local cjson = require "cjson"
    local lines = {}
    for l in rejected:gmatch("[^\n]+") do lines[#lines + 1] = cjson.decode(l) end
    assert.are.equal(3, #lines)
    assert.are.equal(t.ticks + 1, lines[1].line)
    assert.are.equal(path, lines[1].file)
    assert.truthy(lines[1].reason:find("column", 1, true))
    assert.are.equal('{"kind":"tick","code":"2330","close":58x.5}', lines[1].text)
    assert.truthy(lines[3].reason:find("truncated", 1, true))
    assert.truthy(out:find("3 line(s) quarantined in ticks/2026-11-25.rejected.jsonl", 1, true), out)
    assert.is_nil(proc.read(path)) -- finished: archived
    assert.are.same({ "bidasks/2026-11-25.jsonl", "ticks/2026-11-25.jsonl" }, ch.files(arc))
    rc, out, err = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s", fb, server:dsn("bad"), arc))
    assert.truthy((out .. err):find("nothing to do", 1, true), out .. err) -- nothing left to insert again
    assert.are.equal(t.rows, final_rows("bad"))
  end)

  it("a torn last line alone (a recorder cut off mid-line) is quarantined, the file finished, exit 0", function()
    local fb, arc = dir .. "/fb", dir .. "/archive"
    local t = ch.generate(fb, 500, 1)
    local path = fb .. "/ticks/2026-11-25.jsonl"
    local f = assert(io.open(path, "a"))
    f:write('{"kind":"bidas') -- issue 11 fault 5: the writer was killed mid-line
    f:close()
    local rc, out, err = restore(string.format("--fallback-dir %s --apply --dsn %s --archive-dir %s", fb, server:dsn("torn"), arc))
    assert.are.equal(0, rc, err)
    assert.truthy(err:find(path .. ":" .. (t.ticks + 1) .. ": truncated last line", 1, true), err)
    assert.truthy(err:find("1 torn last line(s)", 1, true), err)
    assert.truthy(out:find("torn last line", 1, true), out)
    assert.are.equal(t.rows, final_rows("torn"))
    assert.is_nil(proc.read(path))
    local q = proc.read(fb .. "/ticks/2026-11-25.rejected.jsonl")
    assert.are.equal('{"kind":"bidas', require("cjson").decode(q).text)
  end)

  it("draws a progress bar on a terminal and plain log lines otherwise", function()
    local fb = dir .. "/fb"
    ch.generate(fb, 3000, 1)
    local rc, _, err = restore("--fallback-dir " .. fb .. " --progress always --batch-size 500")
    assert.are.equal(0, rc)
    assert.truthy(err:find("\r[########################] files 2/2  rows 3000", 1, true), err)
    assert.truthy(err:find("rows/s  ETA 0s", 1, true))
    rc, _, err = restore("--fallback-dir " .. fb) -- stderr is a file here: no bar
    assert.are.equal(0, rc)
    assert.falsy(err:find("\r", 1, true))
    assert.truthy(err:find("restore: progress: files 2/2  rows 3000", 1, true))
  end)

  it("fails clearly on a bad DSN, a wrong password, an unreachable server", function()
    local fb = dir .. "/fb"
    ch.generate(fb, 100, 1)
    local rc, _, err = restore(string.format("--fallback-dir %s --apply --dsn 'clickhouse://u:hunter2@127.0.0.1:12x/db'", fb))
    assert.are.equal(1, rc)
    assert.truthy(err:find("not a number", 1, true))
    assert.falsy(err:find("hunter2", 1, true))
    rc, _, err = restore(string.format("--fallback-dir %s --apply --dsn %s", fb, server:dsn("pw", "shj:hunter2@")))
    assert.are.equal(1, rc)
    assert.truthy(err:find("Wrong password for user shj", 1, true))
    assert.falsy(err:find("hunter2", 1, true))
    rc, _, err = restore(string.format("--fallback-dir %s --apply --dsn %s", fb, server:dsn("pw", "shj:s3cret@")))
    assert.are.equal(0, rc, err)
    rc, _, err = restore(string.format("--fallback-dir %s --mode apply --dsn clickhouse://127.0.0.1:1/db", fb))
    assert.are.equal(1, rc)
    assert.truthy(err:find("cannot reach the server", 1, true))
    assert.are.equal(2, #ch.files(fb)) -- nothing moved or lost
  end)

  it("hands exact rows to a --client-factory client, and keeps files when it fails", function()
    local fb, arc = dir .. "/fb", dir .. "/archive"
    local t = ch.generate(fb, 500, 1)
    proc.write(dir .. "/myclient.lua", [[
      local M = {}
      function M.new(opts)
        local out = assert(io.open(os.getenv("CLIENT_OUT"), "w"))
        return {
          insert = function(self, kind, rows)
            if os.getenv("CLIENT_FAIL") then return nil, "store is read-only" end
            for _, r in ipairs(rows) do
              out:write(kind, " ", r.kind, " ", r.code, " ", r.seq, " ", r.ts, " ", r.close or r.bid_price[1], " ", r.json, "\n")
            end
            return true
          end,
          close = function() out:close() end,
        }
      end
      return M
    ]])
    local env = string.format("cd %s && CLIENT_FAIL=1 CLIENT_OUT=%s/rows", dir, dir)
    local rc, _, err = restore(string.format("--fallback-dir %s --apply --client-factory myclient:new --archive-dir %s", fb, arc), env)
    assert.are.equal(1, rc)
    assert.truthy(err:find("store is read-only", 1, true))
    assert.are.equal(2, #ch.files(fb))
    env = string.format("cd %s && CLIENT_OUT=%s/rows", dir, dir)
    rc, _, err = restore(string.format("--fallback-dir %s --apply --client-factory myclient:new --archive-dir %s", fb, arc), env)
    assert.are.equal(0, rc, err)
    local cjson = require "cjson"
    local n = 0
    for line in proc.read(dir .. "/rows"):gmatch("[^\n]+") do
      n = n + 1
      local kind, k, code, seq, ts, px, json = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (.*)$")
      local j = json:gsub('"close":([%-%d%.]+)', '"close":"%1"'):gsub('"bid_price":%[([%-%d%.]+)', '"bid_price":["%1"')
      local d = cjson.decode(j)
      assert.are.equal(d.kind, k)
      assert.are.equal(d.code, code)
      assert.are.equal(kind, k == "bidask" and "bidasks" or "ticks")
      assert.are.equal(tostring(d.seq), seq)
      assert.are.equal(json:match('"ts":(%d+)'), ts) -- 64-bit exact, as text
      assert.are.equal(d.close or d.bid_price[1], px) -- decimal exact, as text
    end
    assert.are.equal(t.rows, n)
    assert.are.equal(2, #ch.files(arc))
  end)
end)
