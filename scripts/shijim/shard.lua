-- shijim.shard — split a universe across K gateways (one Shioaji session each).
--
--   local shard = require "shijim.shard"
--   local i, k = shard.parse("0/2")            -- or shard.from_env() (SHARD_ID / TOTAL_SHARDS)
--   local mine = shard.pick(u, i, k)           -- a universe (shijim.universe set)
--
-- Deterministic and stable: rendezvous (highest-random-weight) hashing with
-- bounded loads. Every code ranks the K shards by a hash of (shard, code) and
-- goes to the best-ranked shard that still has room; codes are placed
-- heaviest first, then by code, so the result depends only on the set. Room
-- is weight (expected message rate, shijim.universe's weights) up to
-- (1 + slack) times the fair share, and at most `cap` codes (200: Sinopac's
-- subscriptions per session, tutor_limit.md). Adding or removing one code
-- moves only codes whose first choice was full, a handful at most (the spec
-- measures it). A universe that does not fit K x cap is an error naming how
-- many codes are left over and the shard asked for.
local bit = require "bit"

local M = { CAP = 200, SLACK = 0.10 }

-- FNV-1a over "shard:code" in 64-bit integers, then murmur3's fmix64, top
-- 32 bits: stable across platforms and runs, no floating point.
local ffi = require "ffi"
local u64 = ffi.typeof("uint64_t")
local FNV_OFF, FNV_PRIME = u64(0xcbf29ce4) * 0x100000000ULL + 0x84222325ULL, 0x100000001b3ULL
local function score(shard_i, code)
  local h = FNV_OFF
  local s = shard_i .. ":" .. code
  for i = 1, #s do h = bit.bxor(h, u64(s:byte(i))) * FNV_PRIME end
  h = bit.bxor(h, bit.rshift(h, 33)) * 0xff51afd7ed558ccdULL
  h = bit.bxor(h, bit.rshift(h, 33)) * 0xc4ceb9fe1a85ec53ULL
  h = bit.bxor(h, bit.rshift(h, 33))
  return tonumber(bit.rshift(h, 32))
end
M.score = score

-- "I/K" -> I, K (0 <= I < K).
function M.parse(text)
  local i, k = tostring(text or ""):match("^(%d+)/(%d+)$")
  i, k = tonumber(i), tonumber(k)
  if not i or k < 1 or i >= k then
    error("shard: expected I/K with 0 <= I < K (e.g. 0/2), got '" .. tostring(text) .. "'", 2)
  end
  return i, k
end

-- SHARD_ID / TOTAL_SHARDS as the original project had; nil when unset.
function M.from_env(getenv)
  getenv = getenv or os.getenv
  local id, total = getenv("SHARD_ID"), getenv("TOTAL_SHARDS")
  if not id and not total then return nil end
  if not id or not total then error("shard: set both SHARD_ID and TOTAL_SHARDS (or neither)", 2) end
  return M.parse(id .. "/" .. total)
end

-- Assign every member of u: returns { [code] = shard (0-based) }, loads
-- { weight = {...}, count = {...} } and the codes that fit nowhere.
function M.assign(u, k, opts)
  opts = opts or {}
  local cap, slack = opts.cap or M.CAP, opts.slack or M.SLACK
  local items = u:list()
  local total = 0
  for _, it in ipairs(items) do total = total + it.weight end
  local maxw = 0
  for _, it in ipairs(items) do if it.weight > maxw then maxw = it.weight end end
  local room = total / k * (1 + slack) + maxw
  table.sort(items, function(a, b)
    if a.weight ~= b.weight then return a.weight > b.weight end
    return a.code < b.code
  end)
  local where, wload, count, left = {}, {}, {}, {}
  for s = 0, k - 1 do wload[s], count[s] = 0, 0 end
  for _, it in ipairs(items) do
    local order = {}
    for s = 0, k - 1 do order[#order + 1] = { s, score(s, it.code) } end
    table.sort(order, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
    local placed
    for _, o in ipairs(order) do
      local s = o[1]
      if count[s] < cap and wload[s] + it.weight <= room then placed = s; break end
    end
    if not placed then -- weight room exhausted everywhere: the least loaded shard with a free slot
      for _, o in ipairs(order) do
        local s = o[1]
        if count[s] < cap and (not placed or wload[s] < wload[placed]) then placed = s end
      end
    end
    if placed then
      where[it.code] = placed
      wload[placed] = wload[placed] + it.weight
      count[placed] = count[placed] + 1
    else
      left[#left + 1] = it.code
    end
  end
  return where, { weight = wload, count = count, total_weight = total }, left
end

-- The part of u for shard i of k (a universe). Errors when codes do not fit.
function M.pick(u, i, k, opts)
  opts = opts or {}
  local cap = opts.cap or M.CAP
  local where, loads, left = M.assign(u, k, opts)
  if #left > 0 then
    error(string.format("shard %d/%d: %d of the universe's %d codes do not fit in %d shards of %d subscriptions "
                        .. "(shard %d/%d holds %d); use more shards (at least %d)",
                        i, k, #left, u:count(), k, cap, i, k, loads.count[i], math.ceil(u:count() / cap)), 2)
  end
  local codes = {}
  for code, s in pairs(where) do if s == i then codes[#codes + 1] = code end end
  table.sort(codes)
  return u:only(codes), loads
end

return M
