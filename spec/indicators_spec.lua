-- indicators_spec — hand-computed values, plus agreement with naive O(n)
-- recomputation over long random series (catches drift in the incremental sums).
local ind = require "shijim.indicators"

local function near(a, b, tol)
  return a ~= nil and b ~= nil and math.abs(a - b) <= (tol or 1e-9) * math.max(1, math.abs(b))
end

describe("indicators", function()
  it("SMA: hand values and warm-up", function()
    local s = ind.sma(3)
    assert.is_nil(s:update(1))
    assert.is_nil(s:update(2))
    assert.is_false(s.ready)
    assert.are.equal(2, s:update(3))      -- (1+2+3)/3
    assert.are.equal(3, s:update(4))      -- (2+3+4)/3
    assert.are.equal(5, s:update(8))      -- (3+4+8)/3
    assert.is_true(s.ready)
  end)

  it("EMA: seeded with the SMA, alpha = 2/(n+1)", function()
    local e = ind.ema(3) -- alpha 0.5
    assert.is_nil(e:update(2))
    assert.is_nil(e:update(4))
    assert.are.equal(4, e:update(6))       -- seed (2+4+6)/3
    assert.are.equal(6, e:update(8))       -- 4 + 0.5*(8-4)
    assert.are.equal(5, e:update(4))       -- 6 + 0.5*(4-6)
  end)

  it("ATR: Wilder smoothing of true range", function()
    local a = ind.atr(2)
    -- bar1 h10 l8 c9: TR 2; bar2 h11 l9 c10: TR max(2,|11-9|,|9-9|)=2 -> ATR (2+2)/2 = 2
    assert.is_nil(a:update(10, 8, 9))
    assert.are.equal(2, a:update(11, 9, 10))
    -- bar3 h15 l12 c14: TR max(3, |15-10|=5, |12-10|=2) = 5 -> (2*1 + 5)/2 = 3.5
    assert.are.equal(3.5, a:update(15, 12, 14))
    -- bar4 gap down h11 l10: TR max(1, |11-14|=3, |10-14|=4) = 4 -> (3.5 + 4)/2 = 3.75
    assert.are.equal(3.75, a:update(11, 10, 10.5))
  end)

  it("RSI: Wilder, 100 without losses, 50 when flat", function()
    local r = ind.rsi(2)
    assert.is_nil(r:update(10))
    assert.is_nil(r:update(11))             -- one change only
    -- changes +1, -0.5: avg gain 0.5, avg loss 0.25 -> RS 2 -> 100 - 100/3
    assert.is_true(near(r:update(10.5), 100 - 100 / 3))
    -- change +1.5: gain (0.5*1 + 1.5)/2 = 1, loss (0.25*1 + 0)/2 = 0.125 -> RS 8 -> 100 - 100/9
    assert.is_true(near(r:update(12), 100 - 100 / 9))
    local up = ind.rsi(3)
    for _, x in ipairs { 1, 2, 3, 4 } do up:update(x) end
    assert.are.equal(100, up.value)
    local flat = ind.rsi(3)
    for _ = 1, 5 do flat:update(7) end
    assert.are.equal(50, flat.value)
  end)

  it("Bollinger: mean +- k population stddev", function()
    local b = ind.bollinger(4, 2)
    b:update(2); b:update(4); b:update(4)
    -- 2,4,4,6: mean 4, var (4+0+0+4)/4 = 2
    local m, u, l = b:update(6)
    assert.are.equal(4, m)
    assert.is_true(near(u, 4 + 2 * math.sqrt(2)))
    assert.is_true(near(l, 4 - 2 * math.sqrt(2)))
    -- window 4,4,6,10: mean 6, var (4+4+0+16)/4 = 6
    m, u = b:update(10)
    assert.are.equal(6, m)
    assert.is_true(near(u, 6 + 2 * math.sqrt(6)))
  end)

  it("Donchian: highest high / lowest low of the last n", function()
    local d = ind.donchian(3)
    assert.is_nil(d:update(5, 3))
    assert.is_nil(d:update(7, 4))
    local u, l, m = d:update(6, 2)
    assert.are.same({ 7, 2, 4.5 }, { u, l, m })
    u, l = d:update(4, 3)           -- window (7,4) (6,2) (4,3)
    assert.are.same({ 7, 2 }, { u, l })
    u, l = d:update(5, 4)           -- window (6,2) (4,3) (5,4)
    assert.are.same({ 6, 2 }, { u, l })
    u, l = d:update(3, 3)           -- window (4,3) (5,4) (3,3)
    assert.are.same({ 5, 3 }, { u, l })
    local one = ind.donchian(2)
    one:update(10)
    u, l = one:update(9)
    assert.are.same({ 10, 9 }, { u, l })
  end)

  it("rejects bad periods", function()
    assert.has_error(function() ind.sma(0) end)
    assert.has_error(function() ind.ema(2.5) end)
    assert.has_error(function() ind.donchian("x") end)
  end)

  it("agrees with naive recomputation over 20000 random prices", function()
    local seed = 42
    local function rnd()
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    end
    local n = 20
    local sma, bb, dc = ind.sma(n), ind.bollinger(n, 2), ind.donchian(n)
    local xs, hs, ls = {}, {}, {}
    local p = 23000
    local worst = 0
    for i = 1, 20000 do
      p = p + math.floor((rnd() - 0.5) * 20) -- integer index points, like TXF
      local h, l = p + math.floor(rnd() * 5), p - math.floor(rnd() * 5)
      xs[i], hs[i], ls[i] = p, h, l
      local s = sma:update(p)
      local mid, up = bb:update(p)
      local du, dl = dc:update(h, l)
      if i >= n then
        local sum, hi, lo = 0, -math.huge, math.huge
        for j = i - n + 1, i do
          sum = sum + xs[j]
          if hs[j] > hi then hi = hs[j] end
          if ls[j] < lo then lo = ls[j] end
        end
        local mean = sum / n
        local var = 0
        for j = i - n + 1, i do var = var + (xs[j] - mean) ^ 2 end
        local sd = math.sqrt(var / n)
        worst = math.max(worst, math.abs(s - mean), math.abs(mid - mean), math.abs(up - (mean + 2 * sd)))
        assert.are.equal(hi, du)
        assert.are.equal(lo, dl)
      end
    end
    assert.is_true(worst < 1e-6, "drift " .. worst)
  end)
end)
