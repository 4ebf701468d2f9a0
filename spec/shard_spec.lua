-- shijim.shard: deterministic, stable, balanced by weight, under the cap.
local universe = require "shijim.universe"
local shard = require "shijim.shard"

-- A synthetic universe: n stocks + a few heavy futures (weights as shijim.universe's).
local function make(n, extra)
  local stocks = {}
  for i = 1, n do stocks[i] = tostring(1100 + i) end
  for _, c in ipairs(extra or {}) do stocks[#stocks + 1] = c end
  return universe.codes{ stocks = stocks, futures = { "TXFL6", "MXFL6", "TXFA7", "MXFA7" } }
end

local function moved(a, b)
  local n = 0
  for code, s in pairs(a) do if b[code] ~= nil and b[code] ~= s then n = n + 1 end end
  return n
end

describe("shijim.shard", function()
  it("parses I/K and SHARD_ID/TOTAL_SHARDS", function()
    assert.are.same({ 1, 4 }, { shard.parse("1/4") })
    for _, bad in ipairs{ "4/4", "x", "1/0", "-1/2", "1/" } do
      local ok, err = pcall(shard.parse, bad)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("I/K", 1, true))
    end
    local env = { SHARD_ID = "2", TOTAL_SHARDS = "3" }
    assert.are.same({ 2, 3 }, { shard.from_env(function(k) return env[k] end) })
    assert.is_nil(shard.from_env(function() return nil end))
    assert.has_error(function() shard.from_env(function(k) return k == "SHARD_ID" and "1" or nil end) end)
  end)

  it("puts every code in exactly one shard, the same way every time", function()
    local u = make(700)
    local a, loads = shard.assign(u, 4)
    local b = shard.assign(make(700), 4)
    assert.are.same(a, b)
    local total = 0
    for s = 0, 3 do
      local part = shard.pick(u, s, 4)
      total = total + part:count()
      assert.is_true(part:count() <= 200)
      assert.are.equal(loads.count[s], part:count())
      for _, c in ipairs(part:codes()) do assert.are.equal(s, a[c]) end
    end
    assert.are.equal(u:count(), total)
  end)

  it("balances by expected message rate, not by count", function()
    local u = make(700)
    local _, loads = shard.assign(u, 4)
    local fair = loads.total_weight / 4
    for s = 0, 3 do
      assert.is_true(loads.weight[s] <= fair * (1 + shard.SLACK) + universe.WEIGHT.future_near,
                     "shard " .. s .. " weight " .. loads.weight[s] .. " fair " .. fair)
      assert.is_true(loads.weight[s] >= fair * (1 - 2 * shard.SLACK) - universe.WEIGHT.future_near)
    end
    -- the heavy futures do not all land on one shard
    local where = shard.assign(u, 4)
    local used = {}
    for _, f in ipairs{ "TXFL6", "MXFL6", "TXFA7", "MXFA7" } do used[where[f]] = true end
    local n = 0
    for _ in pairs(used) do n = n + 1 end
    assert.is_true(n >= 2)
  end)

  it("moves few codes when one code is added or removed", function()
    local base = shard.assign(make(700), 4)
    local added = shard.assign(make(700, { "9999" }), 4)
    local removed = shard.assign(make(699), 4)
    local m_add, m_rem = moved(base, added), moved(base, removed)
    print(string.format("\n  shard stability over 704 codes in 4 shards: +1 code moves %d, -1 code moves %d", m_add, m_rem))
    assert.is_true(m_add <= 7, "adding one code moved " .. m_add)
    assert.is_true(m_rem <= 7, "removing one code moved " .. m_rem)
    -- and a naive modulo split would move most of them
    local k4 = shard.assign(make(700), 5)
    assert.is_true(moved(base, k4) < 704 * 0.5) -- a fifth shard takes about a fifth
  end)

  it("refuses a universe over K x 200, naming how many codes do not fit and the shard", function()
    local u = make(446) -- 450 codes
    local ok, err = pcall(shard.pick, u, 1, 2)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("shard 1/2: 50 of the universe's 450 codes do not fit in 2 shards of 200", 1, true),
                  tostring(err))
    assert.truthy(tostring(err):find("at least 3", 1, true))
    local sum = 0
    for s = 0, 2 do
      local part = shard.pick(u, s, 3)
      assert.is_true(part:count() <= 200)
      sum = sum + part:count()
    end
    assert.are.equal(450, sum)
  end)
end)
