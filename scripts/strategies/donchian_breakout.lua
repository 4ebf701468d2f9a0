-- donchian_breakout — Donchian channel breakout on 2330 (TSMC), long only.
--
-- Buy `qty` lots when a bar closes above the highest high of the previous
-- `entry_n` bars; sell when a bar closes below the lowest low of the previous
-- `exit_n` bars, or below entry - `atr_stop` x ATR(atr_n). The channels are
-- those of the bars BEFORE the current one (a close cannot break its own
-- high). Runs unchanged in backtest and paper mode:
--   shijim backtest.lua --strategy scripts/strategies/donchian_breakout.lua --codes 2330 ...
local strategy = require "shijim.strategy"
local ind = require "shijim.indicators"

local px = strategy.px

local S = strategy.define {
  name = "donchian_breakout",
  codes = { "2330" },
  bars = "5m",
  params = { entry_n = 20, exit_n = 10, atr_n = 14, atr_stop = 2, qty = 1, period_s = 300 },
}

function S:init()
  local p = self.params
  self.entry = ind.donchian(p.entry_n)
  self.exit = ind.donchian(p.exit_n)
  self.atr = ind.atr(p.atr_n)
  self.entry_price = nil
end

function S:on_bar(bar)
  local p = self.params
  if bar.period_s ~= p.period_s or self:code_of(bar) ~= self.code then return end
  local h, l, c = px(bar.high), px(bar.low), px(bar.close)
  local upper = self.entry.upper   -- channels of the previous bars
  local lower = self.exit.lower
  local atr = self.atr.value
  local pos = self:pos()
  if pos == 0 and upper and c > upper then
    self:buy(p.qty)
    self.entry_price = c
  elseif pos > 0 then
    local stop = atr and self.entry_price and self.entry_price - p.atr_stop * atr
    if (lower and c < lower) or (stop and c < stop) then self:sell(pos) end
  end
  self.entry:update(h, l)
  self.exit:update(h, l)
  self.atr:update(h, l, c)
end

function S:on_trade(f)
  self:log(f.action, f.qty, f.code, "@", px(f.price), "pos", f.position)
end

return S
