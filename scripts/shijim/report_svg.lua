-- shijim.report_svg — the tear sheet's charts as inline SVG text, drawn in Lua.
--
-- Owns: the trading-time axis and every chart of the report (equity with its
-- benchmark, underwater, daily PnL bars, monthly returns heatmap, price with
-- trade markers, the parameter-sweep heatmap). No script, no external file:
-- each chart is one <svg class="chart" id="chart-NAME"> element whose data
-- are <path>/<rect> elements with a class naming the series, so that a
-- browser test can find them.
--
-- TRADING-TIME AXIS. The x axis is not wall-clock: sample times are joined
-- session to session. A pause between two consecutive samples longer than
-- gap_s (30 min: the engine samples every 60 s of exchange time while its
-- instruments trade) is a market break (lunch-less TWSE close, TAIFEX 13:45 ->
-- 15:00, overnight, a weekend); it is drawn as a narrow fixed width (1.5% of
-- the session time) with a dashed marker line (darker for breaks over 36 h:
-- weekends, holidays), and the first session of each
-- trading day gets a date label when there is room (labels never overlap).
local fmt = require "shijim.report_fmt"
local stats = require "shijim.report_stats"

local M = {}

local floor, max, min, abs = math.floor, math.max, math.min, math.abs
local format, concat = string.format, table.concat
local esc = fmt.esc

local W = 960                    -- every chart's width (px)
local L, R, T, B = 78, 16, 22, 30 -- margins (px)
M.W = W

local COLOR = { equity = "#1565c0", bench = "#8d8d8d", pos = "#2e7d32", neg = "#c62828",
                grid = "#e6e6e6", gap = "#b0b0b0", text = "#444" }

local function ns_s(t) return tonumber(t) / 1e9 end

-- Axis ----------------------------------------------------------------------------

local Axis = {}
Axis.__index = Axis

-- ts: ascending UTC ns times (numbers or int64). Returns the axis object.
function M.axis(ts, gap_s)
  gap_s = gap_s or stats.GAP_S
  local n = #ts
  local s, x, isgap = {}, {}, {}
  for i = 1, n do s[i] = ns_s(ts[i]) end
  local session = 0
  for i = 2, n do
    local dt = s[i] - s[i - 1]
    if dt > gap_s then isgap[i] = true elseif dt > 0 then session = session + dt end
  end
  local gap_w = session > 0 and session * 0.015 or 1
  x[1] = 0
  local gaps = {}
  for i = 2, n do
    local dt = s[i] - s[i - 1]
    if isgap[i] then
      x[i] = x[i - 1] + gap_w
      gaps[#gaps + 1] = { i = i, x0 = x[i - 1], x1 = x[i], t0 = ts[i - 1], t1 = ts[i] }
    else
      x[i] = x[i - 1] + (session > 0 and max(dt, 0) or 1)
    end
  end
  return setmetatable({ ts = ts, s = s, x = x, n = n, total = n > 0 and x[n] or 0, gaps = gaps,
                        session_s = session }, Axis)
end

-- Trading-time position of a UTC ns time (interpolated between samples, clamped).
function Axis:at(t)
  local s, x, n = self.s, self.x, self.n
  if n == 0 then return 0 end
  local v = ns_s(t)
  if v <= s[1] then return x[1] end
  if v >= s[n] then return x[n] end
  local lo, hi = 1, n
  while hi - lo > 1 do
    local mid = floor((lo + hi) / 2)
    if s[mid] <= v then lo = mid else hi = mid end
  end
  local span = s[hi] - s[lo]
  if span <= 0 then return x[lo] end
  return x[lo] + (v - s[lo]) / span * (x[hi] - x[lo])
end

-- Frame helpers ---------------------------------------------------------------------

local function open_svg(id, h, title)
  return {
    format('<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-%s" width="%d" height="%d" ' ..
           'viewBox="0 0 %d %d" font-family="sans-serif" font-size="11" role="img" aria-label="%s">',
           id, W, h, W, h, esc(title)),
    '<rect class="bg" width="100%" height="100%" fill="#fff"/>',
  }
end

-- Nice y ticks between lo and hi (about n of them).
local function ticks(lo, hi, n)
  local span = hi - lo
  if span <= 0 then return { lo } end
  local raw = span / (n or 5)
  local mag = 10 ^ floor(math.log10(raw))
  local step
  for _, m in ipairs { 1, 2, 2.5, 5, 10 } do
    step = m * mag
    if step >= raw then break end
  end
  local out = {}
  local v = math.ceil(lo / step) * step
  while v <= hi + step * 1e-9 do out[#out + 1] = v; v = v + step end
  return out
end
M.ticks = ticks

-- Keep at most ~2 points per pixel column (first/min/max/last), in order.
local function thin(xs, ys, px_per_unit)
  local n = #xs
  if n <= 2 * W then return xs, ys end
  local ox, oy = {}, {}
  local i = 1
  while i <= n do
    local col = floor(xs[i] * px_per_unit)
    local j = i
    local imin, imax = i, i
    while j + 1 <= n and floor(xs[j + 1] * px_per_unit) == col do
      j = j + 1
      if ys[j] < ys[imin] then imin = j end
      if ys[j] > ys[imax] then imax = j end
    end
    local keep = { i, imin, imax, j }
    table.sort(keep)
    local last
    for _, k in ipairs(keep) do
      if k ~= last then ox[#ox + 1], oy[#oy + 1] = xs[k], ys[k]; last = k end
    end
    i = j + 1
  end
  return ox, oy
end

-- "M x,y L x,y ..." of a series in pixel space.
local function path_d(px, py)
  local parts = {}
  for i = 1, #px do parts[i] = format("%s%.1f,%.1f", i == 1 and "M" or "L", px[i], py[i]) end
  return concat(parts, " ")
end

-- Gap markers and date labels along the bottom of a plot [y0, y1].
local function time_marks(out, ax, X, y0, y1)
  for _, g in ipairs(ax.gaps) do
    -- a break of more than 36 h (a weekend, a holiday) is drawn darker than a night
    local long = ns_s(g.t1) - ns_s(g.t0) > 36 * 3600
    local xm = X((g.x0 + g.x1) / 2)
    out[#out + 1] = format('<line class="gap%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" ' ..
                           'stroke-dasharray="%s"><title>market closed %s .. %s</title></line>',
                           long and " weekend" or "", xm, y0, xm, y1, long and "#777" or COLOR.gap,
                           long and "6,2" or "3,3", esc(stats.taipei(g.t0)), esc(stats.taipei(g.t1)))
  end
  -- a label at the first sample and at each new trading day after a gap
  local last_px, last_day = -1e9, nil
  local function label(i, full)
    local day = stats.trading_day(ax.ts[i])
    if day == last_day then return end
    local xp = X(ax.x[i])
    if xp - last_px < 72 then return end
    last_day, last_px = day, xp
    local text = stats.day_text(day)
    if not full then text = text:sub(6) end
    out[#out + 1] = format('<text class="xlabel" x="%.1f" y="%d" fill="%s">%s</text>', xp, y1 + 14,
                           COLOR.text, esc(text))
  end
  if ax.n > 0 then label(1, true) end
  for _, g in ipairs(ax.gaps) do label(g.i, false) end
end

-- y grid and labels; fmt_y(v) -> text.
local function y_grid(out, lo, hi, Y, fmt_y, n)
  for _, v in ipairs(ticks(lo, hi, n)) do
    local y = Y(v)
    out[#out + 1] = format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>', L, y, W - R, y, COLOR.grid)
    out[#out + 1] = format('<text class="ylabel" x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>',
                           L - 6, y + 4, COLOR.text, esc(fmt_y(v)))
  end
end

local function empty_chart(id, h, title, message)
  local out = open_svg(id, h, title)
  out[#out + 1] = format('<text class="empty" x="%d" y="%d" text-anchor="middle" fill="%s">%s</text>',
                         W / 2, h / 2, COLOR.text, esc(message))
  out[#out + 1] = "</svg>"
  return concat(out, "\n")
end

-- A line chart of several series on the trading-time axis.
-- series = { { class =, color =, dash =, points = { {t =, v =}, ... } }, ... };
-- opts: id, title, height, fmt_y, markers = { {t =, v =, up = bool, title =} }, zero (fill to 0).
local function line_chart(ax, series, opts)
  local h = opts.height or 280
  local lo, hi = math.huge, -math.huge
  for _, s in ipairs(series) do
    for _, p in ipairs(s.points) do
      if p.v < lo then lo = p.v end
      if p.v > hi then hi = p.v end
    end
  end
  for _, m in ipairs(opts.markers or {}) do
    if m.v < lo then lo = m.v end
    if m.v > hi then hi = m.v end
  end
  if opts.zero then hi = max(hi, 0); lo = min(lo, 0) end
  if lo == math.huge then return empty_chart(opts.id, h, opts.title, "no data") end
  if hi <= lo then local pad = abs(hi) * 0.001 + 1e-9; hi, lo = hi + pad, lo - pad end
  local padv = (hi - lo) * 0.05
  if not opts.zero then lo, hi = lo - padv, hi + padv else lo = lo - padv end
  local total = ax.total > 0 and ax.total or 1
  local pw, ph = W - L - R, h - T - B
  local function X(u) return L + u / total * pw end
  local function Y(v) return T + (hi - v) / (hi - lo) * ph end
  local out = open_svg(opts.id, h, opts.title)
  out[#out + 1] = format('<text class="title" x="%d" y="14" font-weight="bold">%s</text>', L, esc(opts.title))
  y_grid(out, lo, hi, Y, opts.fmt_y, 5)
  time_marks(out, ax, X, T, h - B)
  for _, s in ipairs(series) do
    local xs, ys = {}, {}
    for i, p in ipairs(s.points) do xs[i], ys[i] = ax:at(p.t), p.v end
    xs, ys = thin(xs, ys, pw / total)
    local px, py = {}, {}
    for i = 1, #xs do px[i], py[i] = X(xs[i]), Y(ys[i]) end
    if #px > 0 then
      local d = path_d(px, py)
      if s.fill then
        local z = Y(0)
        out[#out + 1] = format('<path class="%s-area" d="%s L%.1f,%.1f L%.1f,%.1f Z" fill="%s" stroke="none"/>',
                               s.class, d, px[#px], z, px[1], z, s.fill)
      end
      out[#out + 1] = format('<path class="%s" d="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>',
                             s.class, d, s.color, s.dash and (' stroke-dasharray="' .. s.dash .. '"') or "")
    end
  end
  for _, m in ipairs(opts.markers or {}) do
    local x, y = X(ax:at(m.t)), Y(m.v)
    local d = m.up and format("M%.1f,%.1f l-5,9 h10 Z", x, y + 1) or format("M%.1f,%.1f l-5,-9 h10 Z", x, y - 1)
    out[#out + 1] = format('<path class="marker %s" d="%s" fill="%s"><title>%s</title></path>',
                           m.up and "buy" or "sell", d, m.up and COLOR.pos or COLOR.neg, esc(m.title or ""))
  end
  if opts.legend then
    local x = W - R - 8
    for i = #opts.legend, 1, -1 do
      local lg = opts.legend[i]
      out[#out + 1] = format('<text x="%d" y="14" text-anchor="end" fill="%s">%s</text>', x, lg[2], esc(lg[1]))
      x = x - 8 - 6.5 * #lg[1]
    end
  end
  out[#out + 1] = "</svg>"
  return concat(out, "\n")
end

-- Charts ------------------------------------------------------------------------------

local SCALE = fmt.SCALE

-- The axis of a result: its equity samples (initial capital first).
function M.result_axis(r, gap_s)
  local pts = stats.curve_of(r)
  local ts = {}
  for i, p in ipairs(pts) do ts[i] = p.t end
  return M.axis(ts, gap_s), pts
end

function M.equity(ax, pts, st)
  local eq = {}
  for i, p in ipairs(pts) do eq[i] = { t = p.t, v = p.e } end
  local series = { { class = "equity", color = COLOR.equity, points = eq } }
  local legend = { { "strategy", COLOR.equity } }
  local b = st.benchmark
  if b then
    local bp = {}
    for i, p in ipairs(b.points) do bp[i] = { t = p.t, v = p.e } end
    series[2] = { class = "benchmark", color = COLOR.bench, dash = "5,3", points = bp }
    legend[2] = { "buy & hold " .. b.code, COLOR.bench }
  end
  return line_chart(ax, series, { id = "equity", title = "Equity (TWD)", height = 300,
                                  fmt_y = fmt.twd_round, legend = legend })
end

function M.underwater(ax, pts)
  local peak, uw = -math.huge, {}
  for i, p in ipairs(pts) do
    if p.e > peak then peak = p.e end
    uw[i] = { t = p.t, v = peak > 0 and (p.e - peak) / peak or 0 }
  end
  return line_chart(ax, { { class = "underwater", color = COLOR.neg, fill = "#f5c6c6", points = uw } },
                    { id = "underwater", title = "Underwater (drawdown from the running peak)", height = 170,
                      zero = true, fmt_y = function(v) return fmt.pct(v, 1) end })
end

-- Trade markers on the traded code's price (r.price); fills of its real contracts.
function M.price(ax, r)
  local pr = r.price
  if not pr or not pr.points or #pr.points == 0 then
    return empty_chart("price", 120, "Price", "no price series recorded for the traded code")
  end
  local pts = {}
  for _, q in ipairs(pr.points) do
    if q.p and q.p > 0 then pts[#pts + 1] = { t = q.t, v = q.p / SCALE } end
  end
  local marks = {}
  for _, f in ipairs(r.fills or {}) do
    if (pr.real and pr.real[f.code]) or f.code == pr.code then
      local up = f.action == "buy" or f.action == "cover"
      marks[#marks + 1] = { t = f.ts, v = f.price / SCALE, up = up,
                            title = format("%s %d %s @ %s (%s)", f.action, f.qty, f.code, fmt.money(f.price),
                                           stats.taipei(f.ts)) }
    end
  end
  return line_chart(ax, { { class = "price", color = "#37474f", points = pts } },
                    { id = "price", title = "Price of " .. pr.code .. " with fills (\226\150\178 buy/cover, \226\150\188 sell/short)",
                      height = 280, markers = marks, fmt_y = function(v) return fmt.num(v, v >= 1000 and 0 or 2) end })
end

-- Daily PnL bars (exact TWD per trading day).
function M.daily(st)
  local days, h = st.daily, 220
  if #days == 0 then return empty_chart("daily", 120, "Daily PnL", "no trading day in this run") end
  local lo, hi = 0, 0
  for _, d in ipairs(days) do
    if d.pnl < lo then lo = d.pnl end
    if d.pnl > hi then hi = d.pnl end
  end
  if hi == lo then hi = lo + SCALE end
  local pad = (hi - lo) * 0.05
  lo, hi = lo - (lo < 0 and pad or 0), hi + (hi > 0 and pad or 0)
  local pw, ph = W - L - R, h - T - B
  local function Y(v) return T + (hi - v) / (hi - lo) * ph end
  local out = open_svg("daily", h, "Daily PnL")
  out[#out + 1] = format('<text class="title" x="%d" y="14" font-weight="bold">Daily PnL (TWD, by trading day)</text>', L)
  y_grid(out, lo, hi, Y, fmt.twd_short, 4)
  local slot = pw / #days
  local bw = max(1, min(40, slot * 0.8))
  local z = Y(0)
  local last_px = -1e9
  for i, d in ipairs(days) do
    local x = L + (i - 0.5) * slot
    local y = Y(d.pnl)
    local top, ht = min(y, z), max(abs(z - y), 0.5)
    out[#out + 1] = format('<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">' ..
                           '<title>%s: %s TWD (%s)</title></rect>',
                           d.pnl >= 0 and "pos" or "neg", x - bw / 2, top, bw, ht,
                           d.pnl >= 0 and COLOR.pos or COLOR.neg, d.text, fmt.signed_twd(d.pnl), fmt.signed_pct(d.ret))
    if x - last_px >= 72 then
      out[#out + 1] = format('<text class="xlabel" x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>',
                             x, h - B + 14, COLOR.text, i == 1 and d.text or d.text:sub(6))
      last_px = x
    end
  end
  out[#out + 1] = format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>', L, z, W - R, z)
  out[#out + 1] = "</svg>"
  return concat(out, "\n")
end

-- Diverging colour of a value in [-m, m]: red (negative) .. white .. green (positive).
local function heat(v, m)
  if v == nil then return "#f4f4f4" end
  local a = m > 0 and min(abs(v) / m, 1) or 0
  local r1, g1, b1
  if v >= 0 then r1, g1, b1 = 46, 125, 50 else r1, g1, b1 = 198, 40, 40 end
  local function mix(c) return floor(255 + (c - 255) * (0.15 + 0.85 * a) + 0.5) end
  if v == 0 then return "#ffffff" end
  return format("#%02x%02x%02x", mix(r1), mix(g1), mix(b1))
end
M.heat = heat

-- A grid heatmap. rows/cols: label lists; cell(ri, ci) -> value or nil, text.
local function grid(id, title, rows, cols, cell, opts)
  opts = opts or {}
  local cw = min(64, (W - L - R) / #cols)
  local chh = 24
  local h = T + 18 + #rows * chh + 16
  local m = 0
  for ri = 1, #rows do
    for ci = 1, #cols do
      local v = cell(ri, ci)
      if v and abs(v) > m then m = abs(v) end
    end
  end
  local out = open_svg(id, h, title)
  out[#out + 1] = format('<text class="title" x="%d" y="14" font-weight="bold">%s</text>', L, esc(title))
  for ci, c in ipairs(cols) do
    out[#out + 1] = format('<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>',
                           L + (ci - 0.5) * cw, T + 12, COLOR.text, esc(c))
  end
  for ri, rl in ipairs(rows) do
    local y = T + 18 + (ri - 1) * chh
    out[#out + 1] = format('<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>', L - 6, y + 16,
                           COLOR.text, esc(rl))
    for ci = 1, #cols do
      local v, text, tip = cell(ri, ci)
      local x = L + (ci - 1) * cw
      out[#out + 1] = format('<rect class="cell%s" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" stroke="#fff">' ..
                             '<title>%s</title></rect>', v and "" or " empty", x, y, cw, chh,
                             opts.color and opts.color(v, m) or heat(v, m), esc(tip or text or ""))
      if text then
        out[#out + 1] = format('<text class="cell-text" x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>',
                               x + cw / 2, y + 16, esc(text))
      end
    end
  end
  out[#out + 1] = "</svg>"
  return concat(out, "\n")
end
M.grid = grid

local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- Monthly returns: one row per year, Jan..Dec and the year's compounded return.
function M.monthly(st)
  if #st.monthly == 0 then return empty_chart("monthly", 120, "Monthly returns", "no trading day in this run") end
  local years, byym, yret = {}, {}, {}
  for _, m in ipairs(st.monthly) do
    local y, mo = m.month:match("^(%d+)-(%d+)$")
    if not byym[y] then byym[y] = {}; years[#years + 1] = y; yret[y] = 1 end
    byym[y][tonumber(mo)] = m
    yret[y] = yret[y] * (1 + m.ret)
  end
  local cols = {}
  for i, n in ipairs(MONTHS) do cols[i] = n end
  cols[13] = "Year"
  return grid("monthly", "Monthly returns", years, cols, function(ri, ci)
    local y = years[ri]
    if ci == 13 then
      local v = yret[y] - 1
      return v, fmt.signed_pct(v, 1), y .. ": " .. fmt.signed_pct(v)
    end
    local m = byym[y][ci]
    if not m then return nil end
    return m.ret, fmt.signed_pct(m.ret, 1), m.month .. ": " .. fmt.signed_pct(m.ret) .. ", " ..
           fmt.signed_twd(m.pnl) .. " TWD"
  end)
end

return M
