-- broker_spec — the simulated broker against hand calculations, to the cent.
--
-- Money in the broker is integer units of 1 / SHJ_PRICE_SCALE TWD; T(x) below turns a TWD
-- amount worked out by hand into those units. Each scenario shows its
-- arithmetic in comments.
local ev = require "support.ev"
local broker_sim = require "shijim.broker_sim"

local T = ev.units -- TWD -> money units (x SHJ_PRICE_SCALE, from C)

local ts = ev.tpe(2026, 11, 25, 9, 30, 0)
local n = 0
local function feed(b, e)
  n = n + 1
  b:on_event(e, require("ffi").string(e.code), n)
end

local function submit(b, code, action, qty, price)
  return b:submit { code = code, action = action, qty = qty, price = price, born = n }
end

describe("broker_sim", function()
  it("stock round trip: market buy at the next trade, market sell at the bid", function()
    local b = broker_sim.new { cash = 2000000 }
    local id = submit(b, "2330", "buy", 1)
    assert.are.equal("submitted", b.orders[id].status)
    feed(b, ev.tick("2330", ts, 1030, 5))
    -- value 1030 x 1000 = 1,030,000; commission floor(1467.75) = 1467; no buy tax
    assert.are.equal("filled", b.orders[id].status)
    assert.are.equal(1, b:position("2330"))
    assert.are.equal(T(1030), b.fills[1].price)
    assert.are.equal(T(1467), b.fills[1].commission)
    assert.are.equal(0, b.fills[1].tax)
    assert.are.equal(T(2000000 - 1030000 - 1467), b.cash)        -- 968,533
    feed(b, ev.tick("2330", ts + 1e9, 1040, 1))
    assert.are.equal(T(10000), b:unrealised("2330"))             -- (1040-1030) x 1000
    assert.are.equal(T(968533 + 1040000), b:equity())            -- 2,008,533
    submit(b, "2330", "sell", 1)
    feed(b, ev.bidask("2330", ts + 2e9, 1035, 1040))
    -- sells at the bid 1035: value 1,035,000; commission floor(1474.875) = 1474;
    -- tax floor(1,035,000 x 0.3%) = 3105; realised (1035-1030) x 1000 = 5000
    local f = b.fills[2]
    assert.are.equal(T(1035), f.price)
    assert.are.equal(T(1474), f.commission)
    assert.are.equal(T(3105), f.tax)
    assert.are.equal(T(5000), f.realised)
    assert.are.equal(T(968533 + 1035000 - 1474 - 3105), b.cash) -- 1,998,954
    assert.are.equal(T(1998954), b:equity())
    assert.are.equal(T(1467 + 1474), b.commission)
    assert.are.equal(T(3105), b.tax)
    assert.are.equal(1, #b.roundtrips)
    assert.are.equal(T(5000 - 6046), b.roundtrips[1].net)      -- -1046
    assert.are.equal(T(2065000), b.turnover)
  end)

  it("commission minimum, broker discount, ETF tax and the day-trade option", function()
    local b = broker_sim.new { cash = 100000 }
    submit(b, "2888", "buy", 1)
    feed(b, ev.tick("2888", ts, 10, 1))
    -- 10,000 x 0.1425% = 14.25 -> below the 20 TWD minimum
    assert.are.equal(T(20), b.fills[1].commission)
    submit(b, "2888", "sell", 1)
    feed(b, ev.tick("2888", ts, 10.5, 1))
    -- 10,500: commission 14.96 -> 20; tax floor(31.5) = 31; realised 500
    assert.are.equal(T(20), b.fills[2].commission)
    assert.are.equal(T(31), b.fills[2].tax)
    assert.are.equal(T(500 - 71), b.roundtrips[1].net)
    assert.are.equal(T(100000 + 429), b:equity())

    local d = broker_sim.new { cash = 2000000, commission_discount = 0.6 }
    submit(d, "2330", "buy", 1)
    feed(d, ev.tick("2330", ts, 1030, 1))
    -- 1,030,000 x 0.1425% x 0.6 = 880.65 -> 880
    assert.are.equal(T(880), d.fills[1].commission)

    local e = broker_sim.new { cash = 2000000 }
    submit(e, "0050", "short", 1)
    feed(e, ev.tick("0050", ts, 150.35, 1))
    -- ETF: 150,350 x 0.1% = 150.35 -> 150; commission floor(214.24875) = 214
    assert.are.equal(T(150), e.fills[1].tax)
    assert.are.equal(T(214), e.fills[1].commission)
    assert.are.equal(-1, e:position("0050"))

    local dt = broker_sim.new { cash = 2000000, day_trade = true }
    submit(dt, "2330", "buy", 1)
    feed(dt, ev.tick("2330", ts, 1030, 1))
    submit(dt, "2330", "sell", 1)
    feed(dt, ev.tick("2330", ts, 1035, 1))
    -- day-trade tax 0.15%: 1,035,000 x 0.0015 = 1552.5 -> 1552
    assert.are.equal(T(1552), dt.fills[2].tax)
  end)

  it("TXF: multiplier 200, slippage, per-contract fee, 0.002% tax, limit cover", function()
    local b = broker_sim.new { cash = 2000000, slippage = { TXF = 1 } }
    submit(b, "TXFL6", "short", 2)
    feed(b, ev.bidask("TXFL6", ts, 23000, 23001))
    -- sells at bid 23000 - 1 slippage = 22999; value 22999 x 200 x 2 = 9,199,600
    -- fee 50 x 2 = 100; tax 9,199,600 x 0.002% = 183.992 -> 184 (half up)
    local f = b.fills[1]
    assert.are.equal(T(22999), f.price)
    assert.are.equal(T(9199600), f.value)
    assert.are.equal(T(100), f.fee)
    assert.are.equal(T(184), f.tax)
    assert.are.equal(0, f.commission)
    assert.are.equal(-2, b:position("TXFL6"))
    assert.are.equal(T(2000000 - 284), b.cash) -- futures: no notional cash flow
    feed(b, ev.tick("TXFL6", ts, 22950, 1))
    -- unrealised (22950 - 22999) x (-2) x 200 = 19,600
    assert.are.equal(T(19600), b:unrealised("TXFL6"))
    assert.are.equal(T(1999716 + 19600), b:equity())
    local id = submit(b, "TXFL6", "cover", 2, 22900)
    feed(b, ev.tick("TXFL6", ts, 22950, 1))  -- above the limit
    feed(b, ev.tick("TXFL6", ts, 22900, 1))  -- at the limit: resting order, no fill
    assert.are.equal("submitted", b.orders[id].status)
    feed(b, ev.tick("TXFL6", ts, 22899, 1))  -- through: fills at the limit 22900
    f = b.fills[2]
    assert.are.equal(T(22900), f.price)
    -- realised (22900 - 22999) x 2 x 200 x (-1) = 39,600; fee 100; tax 183.2 -> 183
    assert.are.equal(T(39600), f.realised)
    assert.are.equal(T(183), f.tax)
    assert.are.equal(T(2000000 - 284 + 39600 - 283), b.cash) -- 2,039,033
    assert.are.equal(b.cash, b:equity())
    assert.are.equal(T(39600 - 567), b.roundtrips[1].net)
    assert.are.equal("short", b.roundtrips[1].side)
  end)

  it("MXF: multiplier 50, marketable limit fills at the better ask", function()
    local b = broker_sim.new { cash = 500000 }
    submit(b, "MXFL6", "buy", 1, 23000)
    feed(b, ev.bidask("MXFL6", ts, 22997, 22998))
    -- fresh limit 23000 vs ask 22998: fills at 22998; value 1,149,900; fee 25; tax 22.998 -> 23
    assert.are.equal(T(22998), b.fills[1].price)
    assert.are.equal(T(25), b.fills[1].fee)
    assert.are.equal(T(23), b.fills[1].tax)
    submit(b, "MXFL6", "sell", 1)
    feed(b, ev.tick("MXFL6", ts, 23010, 1))
    -- value 1,150,500; tax 23.01 -> 23; realised 12 x 50 = 600; costs 96
    assert.are.equal(T(600), b.fills[2].realised)
    assert.are.equal(T(500000 + 600 - 96), b:equity())
  end)

  it("TXO: multiplier 50, premium paid and received in cash, per-contract fee, 0.1% tax", function()
    local b = broker_sim.new { cash = 100000 }
    assert.is_true(b:is_option("TXO23000L6"))
    assert.is_true(b:is_option("TXO22000X6")) -- a put (M-X)
    assert.are.equal("TXO", broker_sim.product_of("TXO23000L6"))
    submit(b, "TXO23000L6", "buy", 3)
    feed(b, ev.bidask("TXO23000L6", ts, 152, 153.5))
    -- buys at the ask 153.5: premium 153.5 x 50 x 3 = 23,025 paid in cash
    -- fee 25 x 3 = 75; tax 23,025 x 0.1% = 23.025 -> 23 (half up); no commission
    local f = b.fills[1]
    assert.are.equal(T(153.5), f.price)
    assert.are.equal(T(23025), f.value)
    assert.are.equal(T(75), f.fee)
    assert.are.equal(T(23), f.tax)
    assert.are.equal(0, f.commission)
    assert.are.equal(T(100000 - 23025 - 98), b.cash) -- 76,877
    feed(b, ev.tick("TXO23000L6", ts, 160, 1))
    -- marked at 160: 160 x 50 x 3 = 24,000 of options
    assert.are.equal(T(76877 + 24000), b:equity())
    assert.are.equal(T((160 - 153.5) * 50 * 3), b:unrealised("TXO23000L6")) -- 975
    submit(b, "TXO23000L6", "sell", 3, 170)
    feed(b, ev.tick("TXO23000L6", ts, 171, 1)) -- marketable limit: the trade at 171 is better
    -- sells at 171: premium received 25,650; realised (171 - 153.5) x 50 x 3 = 2,625
    -- fee 75; tax 25.65 -> 26 (half up)
    f = b.fills[2]
    assert.are.equal(T(171), f.price)
    assert.are.equal(T(2625), f.realised)
    assert.are.equal(T(26), f.tax)
    assert.are.equal(T(76877 + 25650 - 101), b.cash) -- 102,426
    assert.are.equal(b.cash, b:equity())
    assert.are.equal(T(2625 - 98 - 101), b.roundtrips[1].net) -- 2,426: cash gain exactly
    assert.are.equal(T(199), b:costs_total())
  end)

  it("partial fills: a market order walks the book, a resting limit takes what trades show", function()
    local b = broker_sim.new { cash = 11000000, partial = true }
    local id = submit(b, "2330", "buy", 10)
    feed(b, ev.book("2330", ts, { { 999, 5 } }, { { 1000, 3 }, { 1005, 4 }, { 1010, 10 } }))
    -- 3 lots at 1000, 4 at 1005, 3 at 1010 (each lot 1000 shares):
    --   values 3,000,000 / 4,020,000 / 3,030,000; commission 0.1425% each:
    --   4275 / 5728.5 -> 5728 / 4317.75 -> 4317 (floor)
    assert.are.equal(3, #b.fills)
    assert.are.same({ 3, 4, 3 }, { b.fills[1].qty, b.fills[2].qty, b.fills[3].qty })
    assert.are.same({ T(1000), T(1005), T(1010) }, { b.fills[1].price, b.fills[2].price, b.fills[3].price })
    assert.are.same({ T(4275), T(5728), T(4317) },
                    { b.fills[1].commission, b.fills[2].commission, b.fills[3].commission })
    assert.are.equal("filled", b.orders[id].status)
    assert.are.equal(10, b:position("2330"))
    assert.are.equal(T(11000000 - 10050000 - 14320), b.cash)
    -- two resting sells share one trade's volume in submission order
    local s1 = submit(b, "2330", "sell", 6, 1020)
    local s2 = submit(b, "2330", "sell", 4, 1020)
    feed(b, ev.tick("2330", ts, 1015, 50))   -- below the limits: nothing
    feed(b, ev.tick("2330", ts, 1021, 2))    -- through: 2 lots for s1 at 1020
    assert.are.equal("partial", b.orders[s1].status)
    assert.are.equal(2, b.orders[s1].filled)
    assert.are.equal("submitted", b.orders[s2].status)
    feed(b, ev.tick("2330", ts, 1025, 7))    -- 4 more for s1 (done), 3 for s2
    assert.are.equal("filled", b.orders[s1].status)
    assert.are.equal("partial", b.orders[s2].status)
    assert.are.equal(3, b.orders[s2].filled)
    assert.are.equal(1, b:position("2330"))
    assert.is_true(b:cancel(s2))             -- the rest of a partial order can be cancelled
    assert.are.equal("cancelled", b.orders[s2].status)
    assert.are.equal(6, #b.fills)
    -- sells: 2, 4, 3 lots at 1020 = 2,040,000 / 4,080,000 / 3,060,000
    --   commission 2907 / 5814 / 4360.5 -> 4360; tax 0.3%: 6120 / 12240 / 9180
    --   realised vs the FIFO lots bought at 1000 (3), 1005 (4), 1010 (3):
    --   2 x (1020-1000) + [1 x (1020-1000) + 3 x (1020-1005)] + [1 x (1020-1005) + 2 x (1020-1010)] lots x 1000
    assert.are.equal(T((40 + 20 + 45 + 15 + 20) * 1000), b.realised)
    assert.are.equal(T(4275 + 5728 + 4317 + 2907 + 5814 + 4360), b.commission)
    assert.are.equal(T(6120 + 12240 + 9180), b.tax)
  end)

  it("buying power: stock buys need the cash, futures the margin when it is configured", function()
    local b = broker_sim.new { cash = 1000000 }
    local id = submit(b, "2330", "buy", 1)
    feed(b, ev.tick("2330", ts, 1000, 1))
    -- 1,000,000 + commission 1425 > 1,000,000 cash
    assert.are.equal("rejected", b.orders[id].status)
    assert.matches("insufficient cash: 1001425 TWD needed, 1000000 available", b.orders[id].reason, 1, true)
    assert.are.equal(T(1000000), b.cash)
    id = submit(b, "2330", "buy", 1)
    feed(b, ev.tick("2330", ts, 998, 1))   -- 998,000 + 1422 fits
    assert.are.equal("filled", b.orders[id].status)
    local free = broker_sim.new { cash = 1000000, check_cash = false }
    submit(free, "2330", "buy", 2)
    feed(free, ev.tick("2330", ts, 1000, 1))
    assert.is_true(free.cash < 0)           -- allowed when asked for

    local f = broker_sim.new { cash = 500000, margin = { TXF = 300000 } }
    local s1 = submit(f, "TXFL6", "short", 1)
    feed(f, ev.tick("TXFL6", ts, 23000, 1))
    assert.are.equal("filled", f.orders[s1].status)
    assert.are.equal(T(300000), f:margin_in_use())
    local s2 = submit(f, "TXFL6", "short", 1)
    feed(f, ev.tick("TXFL6", ts, 23000, 1))
    -- equity 500,000 - 50 fee - 92 tax = 499,858; free 199,858 < 300,000
    assert.are.equal("rejected", f.orders[s2].status)
    assert.matches("insufficient margin: 1 x 300000 TWD needed, 199858 free", f.orders[s2].reason, 1, true)
    local c = submit(f, "TXFL6", "cover", 1)   -- closing never needs margin
    feed(f, ev.tick("TXFL6", ts, 23000, 1))
    assert.are.equal("filled", f.orders[c].status)
    assert.are.equal(0, f:margin_in_use())
    -- without a configured margin, futures are not limited
    local u = broker_sim.new { cash = 100000 }
    submit(u, "TXFL6", "buy", 3)
    feed(u, ev.tick("TXFL6", ts, 23000, 1))
    assert.are.equal(3, u:position("TXFL6"))
  end)

  it("FIFO lots: realised PnL per lot, one round trip flat to flat", function()
    local b = broker_sim.new { cash = 1000000 }
    submit(b, "2317", "buy", 1); feed(b, ev.tick("2317", ts, 100, 1))
    submit(b, "2317", "buy", 1); feed(b, ev.tick("2317", ts, 110, 1))
    submit(b, "2317", "sell", 1); feed(b, ev.tick("2317", ts, 120, 1))
    assert.are.equal(T(20000), b.fills[3].realised) -- vs the first lot at 100
    assert.are.equal(T(10000), b:unrealised("2317")) -- second lot 110 -> 120
    submit(b, "2317", "sell", 1); feed(b, ev.tick("2317", ts, 105, 1))
    assert.are.equal(T(-5000), b.fills[4].realised)
    -- costs: 142 + 156 + (171 + 360) + (149 + 315) = 1293
    assert.are.equal(T(1293), b:costs_total())
    assert.are.equal(1, #b.roundtrips)
    assert.are.equal(T(15000 - 1293), b.roundtrips[1].net)
    assert.are.equal(T(1000000 + 13707), b:equity())
  end)

  it("never fills on the event it was placed in, nor on simtrade ticks", function()
    local b = broker_sim.new { cash = 5000000 }
    n = n + 1
    local id = b:submit { code = "2330", action = "buy", qty = 1, born = n }
    b:on_event(ev.tick("2330", ts, 1000, 1), "2330", n)      -- same event: not eligible
    assert.are.equal("submitted", b.orders[id].status)
    feed(b, ev.tick("2330", ts, 1000, 1, 1))                  -- simtrade: no
    assert.are.equal("submitted", b.orders[id].status)
    feed(b, ev.tick("2317", ts, 100, 1))                      -- other instrument: no
    assert.are.equal("submitted", b.orders[id].status)
    feed(b, ev.tick("2330", ts, 1001, 1))
    assert.are.equal("filled", b.orders[id].status)
    assert.are.equal(T(1001), b.fills[1].price)
  end)

  it("rejects flips and over-closes, cancels resting orders", function()
    local seen = {}
    local b = broker_sim.new { cash = 5000000 }
    b.on_order = function(o) seen[#seen + 1] = o.id .. ":" .. o.status end
    local s = submit(b, "2330", "sell", 1)
    feed(b, ev.tick("2330", ts, 1000, 1))
    assert.are.equal("rejected", b.orders[s].status)
    assert.matches("long 0", b.orders[s].reason)
    submit(b, "2330", "buy", 2); feed(b, ev.tick("2330", ts, 1000, 1))
    local sh = submit(b, "2330", "short", 1); feed(b, ev.tick("2330", ts, 1000, 1))
    assert.are.equal("rejected", b.orders[sh].status)
    local c = submit(b, "2330", "cover", 1); feed(b, ev.tick("2330", ts, 1000, 1))
    assert.are.equal("rejected", b.orders[c].status)
    local l = submit(b, "2330", "sell", 1, 1100)
    feed(b, ev.tick("2330", ts, 1050, 1))
    assert.is_true(b:cancel(l))
    assert.is_false(b:cancel(l))
    feed(b, ev.tick("2330", ts, 1200, 1))
    assert.are.equal("cancelled", b.orders[l].status)
    assert.are.equal(2, b:position("2330"))
    assert.are.equal(0, b.npending)
    assert.are.same({ "1:submitted", "1:rejected", "2:submitted", "2:filled", "3:submitted",
                      "3:rejected", "4:submitted", "4:rejected", "5:submitted", "5:cancelled" }, seen)
  end)

  it("validates orders", function()
    local b = broker_sim.new {}
    assert.has_error(function() b:submit { code = "2330", action = "hold", qty = 1 } end)
    assert.has_error(function() b:submit { code = "2330", action = "buy", qty = 0 } end)
    assert.has_error(function() b:submit { code = "2330", action = "buy", qty = 1.5 } end)
    assert.has_error(function() b:submit { action = "buy", qty = 1 } end)
    assert.has_error(function() b:multiplier("ZZZL6") end) -- unknown futures product
  end)

  -- Money at SHJ_PRICE_SCALE = 10^6: a 100 M TWD fill's costs need value x rate
  -- ~ 3e19 > INT64_MAX if multiplied naively; cost_twd splits the product.
  it("computes costs of large fills exactly, without int64 overflow", function()
    assert.are.equal(300000, broker_sim.cost_twd(T(100000000), 300000))       -- 0.3% of 1e8
    assert.are.equal(142500, broker_sim.cost_twd(T(100000000), 142500))       -- 0.1425% of 1e8
    assert.are.equal(2565, broker_sim.cost_twd(T(1800000.01), 142500))        -- floor(2565.00001425)
    assert.are.equal(1, broker_sim.cost_twd(T(25000), 2000, true))            -- 0.5 -> 1 (half up)
    assert.are.equal(0, broker_sim.cost_twd(T(24999.99), 2000, true))         -- 0.4999998 -> 0
    assert.are.equal(0, broker_sim.cost_twd(T(25000), 2000))                  -- floor
    local b = broker_sim.new { cash = 200000000 }
    local id = b:submit { code = "2330", action = "buy", qty = 100, type = "market" }
    feed(b, ev.tick("2330", ts, 1000, 500))
    assert.are.equal("filled", b.orders[id].status)
    -- 100 lots x 1000 shares x 1000 TWD = 1e8; commission floor(1e8 x 0.1425%) = 142,500
    assert.are.equal(T(200000000 - 100000000 - 142500), b.cash)
  end)

  it("refuses amounts beyond the exact range instead of rounding them", function()
    assert.is_true(broker_sim.MAX_TWD > 9e9 and broker_sim.MAX_TWD < 9.1e9) -- 2^53 / 10^6
    assert.has_error(function() broker_sim.new { cash = 1e10 } end,
                     "broker_sim: cash 10000000000 TWD is beyond the exact range (|amount| < 9007199254 TWD)")
  end)
end)
