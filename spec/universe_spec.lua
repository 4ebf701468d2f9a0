-- shijim.universe against the stand-in's contract list (tests/standin_catalog.h):
-- counts, the ATM window, the scanner's top names, dedup, named and file universes.
-- Request/response shapes are Sinopac's: GET /api/v1/data/contracts?security_type=
-- (HTTP_API.md:460-472), /contracts/futures|options?root= (HTTP_API.md:494-506),
-- POST /api/v1/data/scanner (HTTP_API.md:421-434), all under
-- Sinotrade/Shioaji@046010c plugins/shioaji/skills/shioaji/references/.
local ffi = require "ffi"
local cjson = require "cjson"
local proc = require "support.proc"
local sffi = require "shijim.ffi"
local universe = require "shijim.universe"

local C = sffi.C
local build = os.getenv("SHJ_BUILD_DIR") or "build"
local DATE = "2026-11-25"

local function standin(dir)
  os.execute(string.format("%s/tool_standin --port 0 --date %s --seed 7 > %s/port 2> %s/err & echo $! > %s/pid",
                           build, DATE, dir, dir, dir))
  local port
  for _ = 1, 200 do
    port = (proc.read(dir .. "/port") or ""):match("listening 127%.0%.0%.1:(%d+)")
    if port then break end
    os.execute("sleep 0.02")
  end
  assert(port, "stand-in did not start: " .. tostring(proc.read(dir .. "/err")))
  return tonumber(port), proc.read(dir .. "/pid"):match("%d+")
end

-- The server's raw answer, independently of the module under test.
local function raw(srv, method, path, body)
  local st, out, len = ffi.new("int[1]"), ffi.new("char *[1]"), ffi.new("size_t[1]")
  assert(C.sj_query(srv.url, nil, method, path, body, 10, st, out, len, sffi.errbuf, sffi.ERRLEN) == 0, sffi.errtext())
  local text = ffi.string(out[0], len[0])
  C.sj_query_free(out[0])
  assert.are.equal(200, st[0])
  return cjson.decode(text)
end

describe("shijim.universe", function()
  local dir, pid, srv
  setup(function()
    dir = proc.tmpdir()
    local port
    port, pid = standin(dir)
    srv = { url = "http://127.0.0.1:" .. port }
    universe.set_server(srv)
  end)
  teardown(function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.execute("rm -rf " .. dir)
  end)

  it("lists every stock of an exchange, as many as the server's total says", function()
    local list = raw(srv, "GET", "/api/v1/data/contracts?security_type=STK")
    assert.are.equal(1800, list.total) -- the stand-in lists 1,000 TSE + 800 OTC
    local tse, otc, all = universe.stocks{ exchange = "TSE" }, universe.stocks{ exchange = "OTC" }, universe.stocks{}
    assert.are.equal(1000, tse:count())
    assert.are.equal(800, otc:count())
    assert.are.equal(list.total, all:count())
    for _, it in ipairs(tse:list()) do
      assert.are.equal("TSE", it.exchange)
      assert.is_false(otc:has(it.code))
      assert.are.equal(1, C.ctr_is_stock(it.code))
    end
    assert.is_true(otc:has("6488")) -- a TPEx listing
    -- paged answers carry page/page_size/max_page (HTTP_API.md:472)
    local page = raw(srv, "GET", "/api/v1/data/contracts?security_type=STK&page=4&page_size=500")
    assert.are.equal(300, #page.contracts)
    assert.are.equal(4, page.max_page)
    local ok, err = pcall(universe.stocks, { exchange = "NYSE" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("unknown exchange 'NYSE'", 1, true))
  end)

  it("takes the nearest futures months, never a continuous alias", function()
    local near = ffi.new("char[16]")
    local f = universe.futures{ roots = { "TXF", "MXF" }, months = 1 }
    local want = {}
    for _, alias in ipairs{ "MXFR1", "TXFR1" } do
      C.ctr_resolve_alias(DATE, alias, near)
      want[#want + 1] = ffi.string(near)
    end
    assert.are.same(want, f:codes())
    local f2 = universe.futures{ roots = { "TXF", "MXF" }, months = 2 }
    assert.are.equal(4, f2:count())
    for _, alias in ipairs{ "TXFR2", "MXFR2" } do
      C.ctr_resolve_alias(DATE, alias, near)
      assert.is_true(f2:has(ffi.string(near)))
    end
    for _, code in ipairs(f2:codes()) do assert.are.equal(0, C.ctr_is_alias(code)) end
    -- the server does list the aliases: they are left out on purpose
    local rows = raw(srv, "GET", "/api/v1/data/contracts/futures?root=TXF")
    local aliases = 0
    for _, r in ipairs(rows) do if C.ctr_is_alias(r.code) == 1 then aliases = aliases + 1 end end
    assert.are.equal(2, aliases)
  end)

  it("takes strikes_around_atm strikes either side of the money, calls and puts", function()
    local o = universe.options{ root = "TXO", strikes_around_atm = 10, months = 1 }
    assert.are.equal(42, o:count()) -- 21 strikes x 2 rights
    local month, atm = next(o.atm)
    -- the ATM strike of the near month is where |call - put| (references) is smallest
    local rows = raw(srv, "GET", "/api/v1/data/contracts/options?root=TXO&delivery_month=" .. month)
    local calls, puts, strikes = {}, {}, {}
    for _, r in ipairs(rows) do
      if r.option_right:sub(1, 1) == "C" then calls[r.strike_price] = r else puts[r.strike_price] = r end
    end
    for k in pairs(calls) do strikes[#strikes + 1] = k end
    table.sort(strikes)
    local best, bd
    for _, k in ipairs(strikes) do
      local d = math.abs(calls[k].reference - puts[k].reference)
      if not bd or d < bd then best, bd = k, d end
    end
    assert.are.equal(best, atm)
    local below, above, at = 0, 0, 0
    for _, r in ipairs(rows) do
      if o:has(r.code) then
        if r.strike_price < atm then below = below + 1 elseif r.strike_price > atm then above = above + 1 else at = at + 1 end
      end
    end
    assert.are.same({ 20, 20, 2 }, { below, above, at })
    -- an explicit atm price picks the nearest listed strike
    local o2 = universe.options{ root = "TXO", strikes_around_atm = 3, months = 1, atm = strikes[5] + 10 }
    assert.are.equal(strikes[5], o2.atm[month])
    assert.are.equal(2 * 7, o2:count()) -- 3 + 1 + 3 strikes
    local edge = universe.options{ root = "TXO", strikes_around_atm = 3, months = 1, atm = strikes[2] }
    assert.are.equal(2 * 5, edge:count()) -- clipped at the chain's lowest strike: 1 + 1 + 3
    local o3 = universe.options{ root = "TXO", strikes_around_atm = 2, months = 2 }
    assert.are.equal(2 * 5 * 2, o3:count())
  end)

  it("takes the scanner's top names in its order, n at most 200", function()
    local top = universe.top{ by = "volume", n = 150 }
    assert.are.equal(150, top:count())
    local rows = raw(srv, "POST", "/api/v1/data/scanner", cjson.encode{ scanner_type = "VolumeRank", ascending = true, count = 150 })
    local stocks = universe.stocks{}
    for i, r in ipairs(rows) do
      assert.is_true(top:has(r.code))
      assert.is_true(stocks:has(r.code))
      if i > 1 then assert.is_true(rows[i - 1].total_volume >= r.total_volume) end
    end
    assert.are.equal("2330", rows[1].code) -- the stand-in's busiest name
    local ok, err = pcall(universe.top, { n = 201 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("1..200", 1, true))
  end)

  it("combines sets, each code once, keeping the heavier weight", function()
    local tse, top, fut = universe.stocks{ exchange = "TSE" }, universe.top{ n = 150 }, universe.futures{ months = 1 }
    local u = tse + top + fut + tse
    local seen, n = {}, 0
    for _, set in ipairs{ tse, top, fut } do
      for _, c in ipairs(set:codes()) do if not seen[c] then seen[c] = true; n = n + 1 end end
    end
    assert.are.equal(n, u:count())
    assert.is_true(n < tse:count() + top:count() + fut:count()) -- top overlaps the TSE list
    local codes = u:codes()
    for i = 2, #codes do assert.is_true(codes[i - 1] < codes[i]) end
    local f = fut:codes()[1]
    assert.are.equal(universe.WEIGHT.future_near, (universe.codes{ stocks = { f } } + fut).by_code[f].weight)
    local sub = u:subscription{ kinds = { "tick" } }
    assert.are.equal(u:count(), #sub.stocks + #sub.futures + #sub.options)
    assert.are.equal("table", type(sub.stocks[1]))
    assert.truthy(sub.stocks[1].exchange == "TSE" or sub.stocks[1].exchange == "OTC")
  end)

  it("loads named universes and Lua files, and names what it cannot load", function()
    assert.are.equal(800, universe.load("otc"):count())
    local f = dir .. "/u.lua"
    local h = io.open(f, "w")
    h:write("local universe = ...\nreturn universe.futures{ roots = { 'TXF' }, months = 2 } + universe.codes{ stocks = { '2330' } }\n")
    h:close()
    local u = universe.load(f)
    assert.are.equal(3, u:count())
    local ok, err = pcall(universe.load, "nowhere")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("neither a builtin", 1, true))
  end)
end)
