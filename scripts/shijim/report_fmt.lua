-- shijim.report_fmt — number and time text for the backtest report (people, not machines).
--
-- Owns: how the tear sheet writes money, counts, percentages, ratios and
-- durations. Money arrives as exact integers of 1 / SHJ_PRICE_SCALE TWD
-- (shijim.broker_sim) and is turned into text digit by digit from the
-- integer: no double ever rounds an amount. Ratios are doubles.
--
-- Guarantees:
--   * money(u)  exact decimal, no separators ("1234567.50"): CSV and JSON;
--   * twd(u)    exact decimal with thousands separators ("1,234,567.50");
--   * a non-zero percentage never prints as "0.00%": below 0.01% it keeps two
--     significant digits ("0.0034%"); NaN/inf/nil print "n/a".
local M = {}

local floor, abs = math.floor, math.abs
local sffi = require "shijim.ffi"
local SCALE, DECIMALS = sffi.PRICE_SCALE, sffi.PRICE_DECIMALS -- owned by C (SHJ_PRICE_SCALE)
local CENT = SCALE / 100
local FRAC_FMT = "%d.%0" .. DECIMALS .. "d"

M.SCALE = SCALE

-- Exact decimal TWD text of an integer of money units (1 / SCALE TWD):
-- 1234567800 -> "1234.5678", 123450000 -> "123.45" (cents keep 2 decimals;
-- finer amounts show their digits, trailing zeros dropped).
function M.money(units)
  if units == nil then return "" end
  units = tonumber(units)
  local neg = units < 0
  local a = neg and -units or units
  local whole = floor(a / SCALE)
  local frac = a - whole * SCALE
  local s
  if frac % CENT == 0 then s = string.format("%d.%02d", whole, frac / CENT)
  else s = (string.format(FRAC_FMT, whole, frac):gsub("0+$", "")) end
  return neg and "-" .. s or s
end

-- "1234567" -> "1,234,567" (the integer part of a decimal text; sign kept).
local function group(text)
  local sign, int, rest = text:match("^([%-+]?)(%d+)(.*)$")
  if not int then return text end
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. rest
end
M.group = group

-- Money for people: exact, thousands separators, "-" sign. "1,234,567.50".
function M.twd(units)
  if units == nil then return "n/a" end
  return group(M.money(units))
end

-- Money with an explicit sign: "+1,234.00", "-342.00", "0.00".
function M.signed_twd(units)
  if units == nil then return "n/a" end
  local s = M.twd(units)
  if tonumber(units) > 0 then s = "+" .. s end
  return s
end

-- Whole money for axis labels: "1,234,568" (rounded; labels only).
function M.twd_round(units)
  if units == nil then return "n/a" end
  local v = tonumber(units) / SCALE
  local r = v < 0 and -floor(-v + 0.5) or floor(v + 0.5)
  return group(string.format("%d", r))
end

-- Compact money for axis ticks: 12.3M, 450k, 980.
function M.twd_short(units)
  local v = tonumber(units) / SCALE
  local a = abs(v)
  if a >= 1e9 then return string.format("%.3gB", v / 1e9) end
  if a >= 1e6 then return string.format("%.3gM", v / 1e6) end
  if a >= 1e4 then return string.format("%.3gk", v / 1e3) end
  return group(string.format("%.0f", v))
end

local function bad(x) return x == nil or x ~= x or x == math.huge or x == -math.huge end

-- Integer counts with separators: 1234567 -> "1,234,567".
function M.int(n)
  if bad(n) then return "n/a" end
  return group(string.format("%d", n))
end

-- A fraction as a percentage: 0.1234 -> "12.34%"; 0.0000342 -> "0.0034%";
-- dp decimals (default 2) while that shows a non-zero digit.
function M.pct(x, dp)
  if bad(x) then return "n/a" end
  dp = dp or 2
  local p = x * 100
  if p == 0 then return string.format("%." .. dp .. "f%%", 0) end
  if abs(p) >= 10 ^ -dp then return group(string.format("%." .. dp .. "f", p)) .. "%" end
  -- tiny: two significant digits
  local digits = -floor(math.log10(abs(p))) + 1
  return string.format("%." .. digits .. "f%%", p)
end

-- Signed percentage: "+1.20%", "-0.35%".
function M.signed_pct(x, dp)
  if bad(x) then return "n/a" end
  local s = M.pct(x, dp)
  if x > 0 then s = "+" .. s end
  return s
end

-- A ratio with dp decimals (default 2): 1.23456 -> "1.23".
function M.num(x, dp)
  if bad(x) then return "n/a" end
  return group(string.format("%." .. (dp or 2) .. "f", x))
end

-- Seconds -> "3d 4h 5m", "2h 30m", "4m 10s", "0s".
function M.duration(s)
  if bad(s) or s <= 0 then return "0s" end
  local d = floor(s / 86400); s = s - d * 86400
  local h = floor(s / 3600); s = s - h * 3600
  local m = floor(s / 60)
  if d > 0 then return string.format("%dd %dh %dm", d, h, m) end
  if h > 0 then return string.format("%dh %dm", h, m) end
  return string.format("%dm %ds", m, floor(s - m * 60))
end

-- HTML text escape.
function M.esc(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

return M
