-- replay.lua: the raw archive played back from the command line — JSON lines
-- equal to a second replay's, the recording's flags kept (--mark-replay adds
-- the replay bit), CSV with exact decimal prices, filters, damaged files and
-- usage errors.
local proc = require "support.proc"
local cjson = require "cjson"

describe("shijim replay.lua", function()
  local dir, raw, file
  setup(function()
    dir = proc.tmpdir()
    raw = dir .. "/raw"
    -- Stocks only: with futures, a simulated trading day opens with TAIFEX's
    -- night session (15:00 the day before), and 30000 events would hold no 2330.
    local rc, _, err = proc.shijim(string.format(
      "run main.lua --events 30000 --rate 0 --date 2026-11-25 --futures '' --dir %s --quiet", raw))
    assert.are.equal(0, rc, err)
    local p = io.popen("ls " .. raw .. "/sim/*.shjraw")
    file = p:read("*l")
    p:close()
    assert.truthy(file, "the recording made no archive file")
  end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  local function lines(path)
    local out = {}
    for l in io.lines(path) do out[#out + 1] = l end
    return out
  end

  it("writes every recorded market event as JSON lines, identically twice, in sequence order", function()
    local rc, _, err = proc.shijim(string.format("replay.lua --archive-dir %s --jsonl %s/a.jsonl", raw, dir))
    assert.are.equal(0, rc, err)
    rc, _, err = proc.shijim(string.format("replay.lua --files %s --jsonl %s/b.jsonl --workers 0", file, dir))
    assert.are.equal(0, rc, err)
    local a, b = lines(dir .. "/a.jsonl"), lines(dir .. "/b.jsonl")
    assert.are.equal(30000, #a) -- every event the recording run published
    assert.are.same(a, b)
    local prev = 0
    for i = 1, #a, 997 do
      local ev = cjson.decode(a[i])
      assert.is_true(ev.seq > prev)
      prev = ev.seq
      assert.truthy(ev.kind == "tick" or ev.kind == "bidask")
    end
    assert.truthy(err:find("0 damaged/unreadable", 1, true), err)
    assert.truthy(err:find("30000 delivered", 1, true), err)
  end)

  it("filters by code and kind", function()
    local rc, out, err = proc.shijim(string.format(
      "replay.lua --archive-dir %s --codes 2330 --kinds tick --jsonl -", raw))
    assert.are.equal(0, rc, err)
    local n = 0
    for l in out:gmatch("[^\n]+") do
      local ev = cjson.decode(l)
      assert.are.equal("2330", ev.code)
      assert.are.equal("tick", ev.kind)
      n = n + 1
    end
    assert.is_true(n > 0)
    assert.truthy(err:find("filtered out", 1, true), err)
  end)

  it("plays a torn file up to the damage, names the byte offset and exits 1", function()
    local torn = dir .. "/torn.shjraw"
    local size = io.open(file):seek("end")
    os.execute(string.format("head -c %d %s > %s", math.floor(size * 0.6), file, torn))
    local rc, _, err = proc.shijim(string.format("replay.lua --files %s --jsonl %s/t.jsonl", torn, dir))
    assert.are.equal(1, rc, err)
    assert.truthy(err:find("torn/corrupt block at byte offset %d+"), err)
    assert.truthy(err:find("1 damaged/unreadable", 1, true), err)
    local n = #lines(dir .. "/t.jsonl")
    assert.is_true(n > 0 and n < 30000)
  end)

  it("says what is wrong with the arguments or the archive", function()
    local rc, _, err = proc.shijim("replay.lua --speed fast")
    assert.are.equal(2, rc)
    assert.truthy(err:find("--speed", 1, true), err)
    rc, _, err = proc.shijim("replay.lua --workers 9")
    assert.are.equal(2, rc)
    assert.truthy(err:find("--workers", 1, true), err)
    rc, _, err = proc.shijim("replay.lua --date 25-11-2026")
    assert.are.equal(2, rc)
    assert.truthy(err:find("YYYY-MM-DD", 1, true), err)
    rc, _, err = proc.shijim(string.format("replay.lua --archive-dir %s/nowhere", dir))
    assert.are.equal(1, rc)
    assert.truthy(err:find(dir .. "/nowhere", 1, true), err)
    assert.falsy(err:find("traceback", 1, true), err)
    rc, _, err = proc.shijim(string.format("replay.lua --archive-dir %s --jsonl %s/x --csv %s/x", raw, dir, dir))
    assert.are.equal(2, rc)
    assert.truthy(err:find("same file", 1, true), err)
  end)

  it("keeps the recording's flags; --mark-replay adds the replay bit to every event", function()
    local rc, _, err = proc.shijim(string.format("replay.lua --archive-dir %s --jsonl %s/f.jsonl", raw, dir))
    assert.are.equal(0, rc, err)
    rc, _, err = proc.shijim(string.format("replay.lua --archive-dir %s --jsonl %s/m.jsonl --mark-replay", raw, dir))
    assert.are.equal(0, rc, err)
    local plain, marked = lines(dir .. "/f.jsonl"), lines(dir .. "/m.jsonl")
    assert.are.equal(#plain, #marked)
    local simtrade = 0
    for i = 1, #plain, 7 do
      local a, b = cjson.decode(plain[i]), cjson.decode(marked[i])
      assert.are.equal(0, bit.band(a.flags, 16)) -- a recording never carries the replay bit
      assert.are.equal(bit.bor(a.flags, 16), b.flags)
      if bit.band(a.flags, 1) ~= 0 then simtrade = simtrade + 1 end
    end
    assert.is_true(simtrade > 0) -- the trial matches before the open kept their flag
  end)

  it("writes CSV: a header, one row per event, prices as exact decimal text", function()
    local rc, _, err = proc.shijim(string.format(
      "replay.lua --archive-dir %s --csv %s/e.csv --jsonl %s/e.jsonl --kinds tick,bidask", raw, dir, dir))
    assert.are.equal(0, rc, err)
    local rows, js = lines(dir .. "/e.csv"), lines(dir .. "/e.jsonl")
    assert.are.equal(#js + 1, #rows)
    local header = {}
    for h in rows[1]:gmatch("[^,]+") do header[#header + 1] = h end
    assert.are.equal("kind", header[1])
    assert.are.equal(55, #header) -- 9 common + 16 trade + 6 x 5 book columns
    for i = 1, #js, 101 do
      local ev, cells, k = cjson.decode(js[i]), {}, 0
      for c in (rows[i + 1] .. ","):gmatch("([^,]*),") do k = k + 1; cells[header[k]] = c end
      assert.are.equal(#header, k)
      assert.are.equal(ev.kind, cells.kind)
      assert.are.equal(tostring(ev.seq), cells.seq)
      assert.are.equal(ev.time, cells.time)
      if ev.kind == "tick" then
        -- the JSON number's text and the CSV cell are the same decimal
        local close_text = js[i]:match('"close":([%d%.%-]+)')
        assert.are.equal(close_text, cells.close)
        assert.are.equal("", cells.bid_price_0)
      else
        local bid0 = js[i]:match('"bid_price":%[([%d%.%-]+)')
        assert.are.equal(bid0, cells.bid_price_0)
        assert.are.equal("", cells.close)
      end
    end
  end)
end)
