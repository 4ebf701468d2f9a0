-- ma_cross — dual moving-average crossover on TAIFEX TXF 5-minute bars.
--
-- Long when the fast SMA of bar closes crosses above the slow SMA, short when
-- it crosses below (always in the market after the first cross, `qty`
-- contracts). Orders are market orders: they fill on the first trade or book
-- after the bar that triggered them (shijim.broker_sim). Runs unchanged in
-- backtest and paper mode:
--   shijim backtest.lua --strategy scripts/strategies/ma_cross.lua --codes TXFR1 ...
local strategy = require "shijim.strategy"
local ind = require "shijim.indicators"

local px = strategy.px

local S = strategy.define {
  name = "ma_cross",
  codes = { "TXFR1" },
  bars = "5m",
  params = { fast = 5, slow = 20, qty = 1, period_s = 300 },
}

function S:init()
  assert(self.params.fast < self.params.slow, "ma_cross: fast must be < slow")
  self.fast = ind.sma(self.params.fast)
  self.slow = ind.sma(self.params.slow)
  self.prev_diff = nil
end

function S:on_bar(bar)
  if bar.period_s ~= self.params.period_s or self:code_of(bar) ~= self.code then return end
  local close = px(bar.close)
  local f, s = self.fast:update(close), self.slow:update(close)
  if not (f and s) then return end
  local diff = f - s
  local prev = self.prev_diff
  self.prev_diff = diff
  if prev == nil then return end
  local q, pos = self.params.qty, self:pos()
  if prev <= 0 and diff > 0 then          -- golden cross
    if pos < 0 then self:cover(-pos) end
    if pos <= 0 then self:buy(q) end
  elseif prev >= 0 and diff < 0 then      -- death cross
    if pos > 0 then self:sell(pos) end
    if pos >= 0 then self:short(q) end
  end
end

function S:on_trade(f)
  self:log(f.action, f.qty, f.code, "@", px(f.price), "pos", f.position)
end

return S
