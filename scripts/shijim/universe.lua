-- shijim.universe — sets of instruments from Shioaji's contract endpoints.
--
--   local universe = require "shijim.universe"
--   local srv = { url = "http://127.0.0.1:8080" }          -- or { socket = PATH }
--   local u = universe.stocks{ exchange = "TSE", server = srv }
--           + universe.futures{ roots = { "TXF", "MXF" }, months = 1, server = srv }
--           + universe.options{ root = "TXO", strikes_around_atm = 10, months = 1, server = srv }
--           + universe.top{ by = "volume", n = 150, server = srv }
--   src:subscribe(u:subscription{ kinds = { "tick", "bidask" } })
--
-- Sources (Sinopac's HTTP API, /work/sinopac/HTTP_API.md): stocks from
-- GET /api/v1/data/contracts?security_type=STK (:460-472, Base records);
-- futures and options from GET /api/v1/data/contracts/futures|options?root=R
-- (:494-506, flat Info arrays with delivery_month, strike_price, option_right,
-- reference); top names from POST /api/v1/data/scanner (:421-434). Sets
-- combine with + (or universe.union) and hold each code once. Continuous
-- aliases (TXFR1) are left out of chains: their target month is in the set.
--
-- Each member carries a weight, its expected message rate relative to an
-- ordinary stock (shijim.shard balances shards by it; docs/universe.md):
--   stock 1; futures: nearest listed month 20, later months 2;
--   options: within 2 strikes of the money 4, further out 2.
-- Exchange and security-type names are core/names.h's (via the FFI), alias
-- detection core/contract.h's; no code is ever built here, only read from
-- the server's answers.
local ffi = require "ffi"
local cjson = require "cjson"
local sffi = require "shijim.ffi"

local C = sffi.C
local ffi_string = ffi.string

local M = {}
M.WEIGHT = { stock = 1, future_near = 20, future_far = 2, option_atm = 4, option = 2, option_atm_strikes = 2 }

local STK, FUT, OPT = ffi_string(C.nm_sec_type(C.SHJ_SEC_STK)), ffi_string(C.nm_sec_type(C.SHJ_SEC_FUT)),
                      ffi_string(C.nm_sec_type(C.SHJ_SEC_OPT))
local TAIFEX = ffi_string(C.nm_exchange(C.SHJ_EX_TAIFEX))
M.SEC = { stock = STK, future = FUT, option = OPT }

------------------------------------------------------------------------------
-- Sets
------------------------------------------------------------------------------
local Set = {}
Set.__index = Set

local function new_set() return setmetatable({ items = {}, by_code = {} }, Set) end

-- Add { code, exchange, sec_type, weight }; a code already present keeps the
-- larger weight (the same contract reached twice, e.g. stocks + top).
function Set:add(item)
  local old = self.by_code[item.code]
  if old then
    if (item.weight or 1) > (old.weight or 1) then old.weight = item.weight end
    return self
  end
  local it = { code = item.code, exchange = item.exchange, sec_type = item.sec_type, weight = item.weight or 1 }
  self.items[#self.items + 1] = it
  self.by_code[it.code] = it
  return self
end

function Set:count() return #self.items end
function Set:has(code) return self.by_code[code] ~= nil end

-- Codes, sorted (a stable order whatever the order of construction).
function Set:codes()
  local out = {}
  for i, it in ipairs(self.items) do out[i] = it.code end
  table.sort(out)
  return out
end

-- Members sorted by code.
function Set:list()
  local out = {}
  for i, it in ipairs(self.items) do out[i] = it end
  table.sort(out, function(a, b) return a.code < b.code end)
  return out
end

-- A subset with the given codes (shijim.shard's output).
function Set:only(codes)
  local s = new_set()
  for _, code in ipairs(codes) do
    local it = self.by_code[code]
    if it then s:add(it) end
  end
  return s
end

-- The table Source:subscribe takes: stocks with their exchange, futures, options.
function Set:subscription(extra)
  local spec = { stocks = {}, futures = {}, options = {} }
  for _, it in ipairs(self:list()) do
    local group = it.sec_type == FUT and spec.futures or it.sec_type == OPT and spec.options or spec.stocks
    group[#group + 1] = it.sec_type == STK and { code = it.code, exchange = it.exchange } or it.code
  end
  for k, v in pairs(extra or {}) do spec[k] = v end
  return spec
end

function M.union(...)
  local s = new_set()
  for i = 1, select("#", ...) do
    local part = select(i, ...)
    if getmetatable(part) ~= Set then error("universe.union: argument " .. i .. " is not a universe", 2) end
    for _, it in ipairs(part.items) do s:add(it) end
  end
  return s
end
Set.__add = function(a, b) return M.union(a, b) end
M.is_universe = function(v) return getmetatable(v) == Set end

------------------------------------------------------------------------------
-- The server
------------------------------------------------------------------------------
local default_server = {}
-- Where builders ask when they are not given server = {url=, socket=}.
function M.set_server(srv) default_server = srv or {} end

local status_p = ffi.new("int[1]")
local out_p = ffi.new("char *[1]")
local len_p = ffi.new("size_t[1]")

local function query(srv, method, path, body, what)
  srv = srv or default_server
  local rc = C.sj_query(srv.url, srv.socket, method, path, body, srv.timeout_s or 30, status_p, out_p, len_p,
                        sffi.errbuf, sffi.ERRLEN)
  if rc ~= 0 then error(what .. ": " .. sffi.errtext(), 3) end
  local text = ffi_string(out_p[0], len_p[0])
  C.sj_query_free(out_p[0])
  if status_p[0] ~= 200 then
    error(string.format("%s: %s %s answered HTTP %d: %s", what, method, path, status_p[0], text:sub(1, 300)), 3)
  end
  local ok, doc = pcall(cjson.decode, text)
  if not ok then error(what .. ": " .. method .. " " .. path .. ": not JSON: " .. tostring(doc), 3) end
  return doc
end

local function str(v) return type(v) == "string" and v or nil end

------------------------------------------------------------------------------
-- Builders
------------------------------------------------------------------------------
-- Every listed stock, or those of one exchange ("TSE", "OTC").
function M.stocks(opts)
  opts = opts or {}
  local want = opts.exchange
  if want and C.nm_exchange_of(want, #want) <= 0 then error("universe.stocks: unknown exchange '" .. want .. "'", 2) end
  local doc = query(opts.server, "GET", "/api/v1/data/contracts?security_type=" .. STK .. "&region=TW", nil,
                    "universe.stocks")
  if type(doc.contracts) ~= "table" then error("universe.stocks: the answer has no contracts array", 2) end
  local s = new_set()
  for _, c in ipairs(doc.contracts) do
    local code, ex = str(c.code), str(c.exchange)
    if code and (c.security_type == nil or c.security_type == STK) and (not want or (ex and ex:upper() == want:upper())) then
      s:add{ code = code, exchange = ex, sec_type = STK, weight = M.WEIGHT.stock }
    end
  end
  return s
end

-- Months sorted ascending from rows' delivery_month ("202612").
local function nearest_months(rows, n)
  local seen, months = {}, {}
  for _, r in ipairs(rows) do
    local m = str(r.delivery_month)
    if m and m ~= "" and not seen[m] then seen[m] = true; months[#months + 1] = m end
  end
  table.sort(months)
  local keep, rank = {}, {}
  for i = 1, math.min(n, #months) do keep[months[i]] = true; rank[months[i]] = i end
  return keep, rank
end

local function is_alias(row)
  local code = str(row.code) or ""
  return C.ctr_is_alias(code) == 1 or (str(row.target_code) ~= nil and row.target_code ~= "")
end

-- Real month contracts of the nearest `months` months of each root.
function M.futures(opts)
  opts = opts or {}
  local roots = opts.roots or { opts.root or "TXF" }
  local months = opts.months or 1
  local s = new_set()
  for _, root in ipairs(roots) do
    local rows = query(opts.server, "GET", "/api/v1/data/contracts/futures?root=" .. root .. "&region=TW", nil,
                       "universe.futures")
    local real = {}
    for _, r in ipairs(rows) do if not is_alias(r) then real[#real + 1] = r end end
    if #real == 0 then error("universe.futures: the server lists no contract for root " .. root, 2) end
    local keep, rank = nearest_months(real, months)
    for _, r in ipairs(real) do
      if keep[r.delivery_month] then
        s:add{ code = r.code, exchange = str(r.exchange) or TAIFEX, sec_type = FUT,
               weight = rank[r.delivery_month] == 1 and M.WEIGHT.future_near or M.WEIGHT.future_far }
      end
    end
  end
  return s
end

local function is_call(r)
  local right = str(r.option_right) or ""
  return right:sub(1, 1):upper() == "C"
end

-- The at-the-money strike of one month's rows: given `atm` (a price), the
-- listed strike nearest to it; otherwise the strike where call and put
-- references are closest (put-call parity: C - P = F - K, so |C - P| is
-- smallest at the strike nearest the forward). Ties: the lower strike.
local function atm_strike(rows, atm)
  local calls, puts, strikes = {}, {}, {}
  for _, r in ipairs(rows) do
    local k = tonumber(r.strike_price)
    if k then
      if not calls[k] and not puts[k] then strikes[#strikes + 1] = k end
      if is_call(r) then calls[k] = r else puts[k] = r end
    end
  end
  table.sort(strikes)
  local best, best_d
  for _, k in ipairs(strikes) do
    local d
    if atm then
      d = math.abs(k - atm)
    elseif calls[k] and puts[k] and tonumber(calls[k].reference) and tonumber(puts[k].reference) then
      d = math.abs(tonumber(calls[k].reference) - tonumber(puts[k].reference))
    end
    if d and (not best_d or d < best_d) then best, best_d = k, d end
  end
  return best, strikes
end

-- Calls and puts of the nearest `months` expiries, strikes_around_atm strikes
-- either side of the at-the-money strike (so 2n+1 strikes, 2 rights each).
function M.options(opts)
  opts = opts or {}
  local root = opts.root or error("universe.options: root is required (e.g. root = \"TXO\")", 2)
  local n = opts.strikes_around_atm or 10
  local rows = query(opts.server, "GET", "/api/v1/data/contracts/options?root=" .. root .. "&region=TW", nil,
                     "universe.options")
  local keep = nearest_months(rows, opts.months or 1)
  local by_month = {}
  for _, r in ipairs(rows) do
    if keep[r.delivery_month] then
      by_month[r.delivery_month] = by_month[r.delivery_month] or {}
      table.insert(by_month[r.delivery_month], r)
    end
  end
  local s = new_set()
  local months = {}
  for m in pairs(by_month) do months[#months + 1] = m end
  table.sort(months)
  for _, m in ipairs(months) do
    local mrows = by_month[m]
    local centre, strikes = atm_strike(mrows, opts.atm)
    if not centre then error("universe.options: no at-the-money strike for " .. root .. " " .. m, 2) end
    local ci
    for i, k in ipairs(strikes) do if k == centre then ci = i end end
    local lo, hi = strikes[math.max(1, ci - n)], strikes[math.min(#strikes, ci + n)]
    for _, r in ipairs(mrows) do
      local k = tonumber(r.strike_price)
      if k and k >= lo and k <= hi then
        local dist = 0
        for i, sk in ipairs(strikes) do if sk == k then dist = math.abs(i - ci) end end
        s:add{ code = r.code, exchange = str(r.exchange) or TAIFEX, sec_type = OPT,
               weight = dist <= M.WEIGHT.option_atm_strikes and M.WEIGHT.option_atm or M.WEIGHT.option }
      end
    end
    s.atm = s.atm or {}
    s.atm[m] = centre
  end
  return s
end

local SCANNER = { volume = "VolumeRank", amount = "AmountRank", ticks = "TickCountRank",
                  change_percent = "ChangePercentRank", change_price = "ChangePriceRank", day_range = "DayRangeRank" }

-- The n most active stocks by the scanner (n <= 200, Sinopac's range,
-- tutor_market_data_scanners.md). Exchanges come from the stock list.
function M.top(opts)
  opts = opts or {}
  local by, n = opts.by or "volume", opts.n or 100
  local stype = SCANNER[by] or error("universe.top: by must be one of volume, amount, ticks, change_percent, "
                                     .. "change_price, day_range; got '" .. tostring(by) .. "'", 2)
  if n < 1 or n > 200 then error("universe.top: n must be 1..200 (the scanner's range), got " .. n, 2) end
  -- ascending = true is largest first (tutor_market_data_scanners.md; shioaji-pro-app
  -- src/components/scanner-panel.tsx:17: "the server's ascending flag is inverted").
  local body = cjson.encode{ scanner_type = stype, ascending = opts.largest_first ~= false, count = n,
                             date = opts.date or nil }
  local rows = query(opts.server, "POST", "/api/v1/data/scanner", body, "universe.top")
  local listed = opts.stocks or M.stocks{ server = opts.server }
  local s = new_set()
  for _, r in ipairs(rows) do
    local code = str(r.code)
    if code and s:count() < n then
      local it = listed.by_code[code]
      s:add{ code = code, exchange = it and it.exchange, sec_type = STK, weight = M.WEIGHT.stock }
    end
  end
  return s
end

-- Explicit codes: { stocks = {...}, futures = {...}, options = {...} }.
function M.codes(spec)
  local s = new_set()
  for _, c in ipairs(spec.stocks or {}) do s:add{ code = c, sec_type = STK, weight = M.WEIGHT.stock } end
  for _, c in ipairs(spec.futures or {}) do s:add{ code = c, sec_type = FUT, exchange = TAIFEX, weight = M.WEIGHT.future_near } end
  for _, c in ipairs(spec.options or {}) do s:add{ code = c, sec_type = OPT, exchange = TAIFEX, weight = M.WEIGHT.option } end
  return s
end

------------------------------------------------------------------------------
-- Named universes and files (main.lua --universe NAME|FILE)
------------------------------------------------------------------------------
M.builtin = {
  tse = function(srv) return M.stocks{ exchange = "TSE", server = srv } end,
  otc = function(srv) return M.stocks{ exchange = "OTC", server = srv } end,
  stocks = function(srv) return M.stocks{ server = srv } end,
  futures = function(srv) return M.futures{ roots = { "TXF", "MXF" }, months = 1, server = srv } end,
  txo = function(srv) return M.options{ root = "TXO", strikes_around_atm = 10, months = 1, server = srv } end,
  top150 = function(srv) return M.top{ by = "volume", n = 150, server = srv } end,
  -- everything: every stock, TXF/MXF near month, TXO near month +-10 strikes
  market = function(srv)
    return M.stocks{ server = srv } + M.builtin.futures(srv) + M.builtin.txo(srv)
  end,
}

-- A builtin name, or a Lua file returning a universe; the file is called as
-- a chunk with (universe_module, server).
function M.load(name, srv)
  if srv then M.set_server(srv) end
  local b = M.builtin[name]
  if b then return b(srv) end
  local chunk, err = loadfile(name)
  if not chunk then
    local names = {}
    for k in pairs(M.builtin) do names[#names + 1] = k end
    table.sort(names)
    error("universe: '" .. name .. "' is neither a builtin (" .. table.concat(names, ", ") ..
          ") nor a readable Lua file: " .. tostring(err), 2)
  end
  local u = chunk(M, srv)
  if not M.is_universe(u) then error("universe: " .. name .. " did not return a universe", 2) end
  return u
end

return M
