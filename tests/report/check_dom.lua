-- tests/report/check_dom.lua — render tear sheets in headless Chromium and check
-- what the browser built.
--
--   shijim run tests/report/check_dom.lua DIR [CHROMIUM]
--
-- DIR is make_report.lua's output. For each page (full, idle) a copy with
-- tests/report/probe.js injected is loaded by `chromium --headless --dump-dom`;
-- the probe writes the laid-out size of every chart, the bounding box and
-- length of every <path>, the counts of bars / heatmap cells / trade markers /
-- gap markers, the x labels' boxes and the statistics table into the DOM, and
-- this script asserts them against facts.txt (the fixture's own numbers).
-- Exit 0 when every check passes, 1 with one line per failed check.
local cjson = require "cjson"

local dir = assert(arg[1], "usage: check_dom.lua DIR [CHROMIUM]")
local chromium = arg[2] or "chromium"
local here = arg[0]:match("^(.*)/[^/]*$") or "."

local function read(p)
  local f = assert(io.open(p, "rb"), "cannot read " .. p)
  local s = f:read("*a")
  f:close()
  return s
end
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local facts = {}
for k, v in read(dir .. "/facts.txt"):gmatch("(%w+)=([^\n]*)") do facts[k] = v end

local failures, checks = {}, 0
local function check(ok, what)
  checks = checks + 1
  if not ok then failures[#failures + 1] = what end
end

local probe_js = read(here .. "/probe.js")

local function render(page)
  local html = read(dir .. "/" .. page .. "/report.html")
  check(not html:find("<script", 1, true), page .. ": the report itself carries no script")
  check(not html:find("https?://[%w%.]+/[%w/%.%-]*%.js"), page .. ": no external script")
  local probe = html:gsub("</body>", function() return "<script>\n" .. probe_js .. "\n</script></body>" end)
  local probe_path = dir .. "/" .. page .. "/probe.html"
  local f = assert(io.open(probe_path, "wb"))
  f:write(probe)
  f:close()
  local cmd = string.format("timeout 120 %s --headless --disable-gpu --no-sandbox --user-data-dir=%s " ..
    "--window-size=1100,3000 --dump-dom file://%s 2>/dev/null", shq(chromium), shq(dir .. "/profile-" .. page),
    shq(probe_path))
  local p = assert(io.popen(cmd))
  local dom = p:read("*a")
  p:close()
  local json = dom:match('<pre id="probe">(.-)</pre>')
  if not json then
    io.stderr:write("check_dom: no probe output from chromium for ", page, " (", #dom, " bytes of DOM)\n")
    os.exit(1)
  end
  json = json:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&")
  return cjson.decode(json)
end

local function paths_of(c, cls)
  local out = {}
  for _, p in ipairs(c and c.paths or {}) do
    if p.cls == cls then out[#out + 1] = p end
  end
  return out
end

local function drawn(c, cls, page, min_w)
  local ps = paths_of(c, cls)
  check(#ps == 1, string.format("%s: one path.%s (got %d)", page, cls, #ps))
  local p = ps[1]
  if p then
    check(p.d > 10 and p.len > 0, string.format("%s: path.%s has a non-empty outline (d %d chars, length %.1f)",
                                                page, cls, p.d, p.len))
    check(p.w >= (min_w or 1), string.format("%s: path.%s spans %.1f px wide (want >= %d)", page, cls, p.w, min_w or 1))
  end
end

local function no_overlap(c, page, name)
  local ls = c and c.labels or {}
  for i = 2, #ls do
    check(ls[i].x >= ls[i - 1].x + ls[i - 1].w, string.format("%s: %s x labels '%s' and '%s' overlap", page, name,
                                                               ls[i - 1].text, ls[i].text))
  end
end

local CHARTS = { "chart-equity", "chart-underwater", "chart-daily", "chart-monthly", "chart-price" }

-- The full run -------------------------------------------------------------------------
local full = render("full")
for _, id in ipairs(CHARTS) do
  local c = full.charts[id]
  check(c ~= nil, "full: " .. id .. " is in the DOM")
  check(c and c.w > 300 and c.h >= 60, string.format("full: %s is laid out (%s x %s px)", id, c and c.w, c and c.h))
end
local eq, uw, daily, monthly, price = full.charts["chart-equity"], full.charts["chart-underwater"],
  full.charts["chart-daily"], full.charts["chart-monthly"], full.charts["chart-price"]
drawn(eq, "equity", "full", 500)
drawn(eq, "benchmark", "full", 500)
drawn(uw, "underwater", "full", 500)
drawn(price, "price", "full", 500)
local area = paths_of(uw, "underwater-area")[1]
check(area and area.h > 5, "full: the underwater area has a height (a drawdown is drawn)")
check(eq and eq.gaps == tonumber(facts.gaps), string.format("full: %s session breaks marked on the equity chart (got %s)",
                                                             facts.gaps, eq and eq.gaps))
check(eq and eq.weekends == tonumber(facts.longbreaks),
      string.format("full: the %s weekends/holidays are marked as long breaks (got %s)", facts.longbreaks, eq and eq.weekends))
check(eq and #eq.labels >= 5, "full: the equity chart has date labels")
no_overlap(eq, "full", "equity")
no_overlap(daily, "full", "daily")
check(daily and daily.bars == tonumber(facts.days), string.format("full: one daily PnL bar per trading day (%s, got %s)",
                                                                   facts.days, daily and daily.bars))
check(monthly and monthly.cells == tonumber(facts.months) + 1,
      string.format("full: %s month cells + the year (got %s)", facts.months, monthly and monthly.cells))
check(price and price.markers == tonumber(facts.fills), string.format("full: a marker per fill (%s, got %s)",
                                                                       facts.fills, price and price.markers))
local st = full.stats
check(st.pnl == facts.pnl, string.format("full: Net PnL shows %q (got %q)", facts.pnl, tostring(st.pnl)))
check(st.final == facts.final, string.format("full: Final equity shows %q (got %q)", facts.final, tostring(st.final)))
check(st.trades and st.trades:match("^" .. facts.trades .. " %("), "full: Trades shows " .. facts.trades)
check(st.sharpe and st.sharpe:match("^%-?%d+%.%d%d %*$"), "full: Sharpe is a number with the small-sample star: " ..
      tostring(st.sharpe))
for _, k in ipairs { "cagr", "vol", "sortino", "calmar", "max_drawdown", "win_rate", "avg_win", "expectancy",
                     "profit_factor", "exposure", "turnover", "costs", "commission", "benchmark_return" } do
  check(st[k] and st[k] ~= "" and not st[k]:find("n/a", 1, true), "full: statistic " .. k .. " has a value: " ..
        tostring(st[k]))
end
-- a drawdown is never "0.00%" next to a non-zero amount
check(st.max_drawdown and not st.max_drawdown:match("^%-?0%.00%% %(%-[%d,]*[1-9]"),
      "full: max drawdown % agrees with its amount: " .. tostring(st.max_drawdown))
check(st.initial == "10,000,000.00 TWD", "full: thousands separators in money: " .. tostring(st.initial))
check((full.noTrades == nil or full.noTrades == cjson.null) and full.tradeRows == tonumber(facts.trades) + 1,
      string.format("full: the trades table lists every round trip (%d rows + header, got %s, message %s)",
                    tonumber(facts.trades), tostring(full.tradeRows), tostring(full.noTrades)))

-- The idle run: no trades ----------------------------------------------------------------
local idle = render("idle")
for _, id in ipairs(CHARTS) do check(idle.charts[id] ~= nil, "idle: " .. id .. " is in the DOM") end
drawn(idle.charts["chart-equity"], "equity", "idle", 500)
check(idle.charts["chart-price"] and idle.charts["chart-price"].markers == 0, "idle: no trade markers")
check(idle.noTrades and idle.noTrades:find("No trades", 1, true), "idle: an explicit message instead of an empty table: " ..
      tostring(idle.noTrades))
check(idle.tradeRows == 0, "idle: no trades table")
check(idle.stats.max_drawdown == "0.00% (0.00 TWD)", "idle: zero drawdown reads 0.00% (0.00 TWD): " ..
      tostring(idle.stats.max_drawdown))
check(idle.stats.profit_factor == "n/a", "idle: profit factor n/a")

if #failures > 0 then
  for _, f in ipairs(failures) do io.stderr:write("FAIL ", f, "\n") end
  io.stderr:write(string.format("check_dom: %d of %d checks failed\n", #failures, checks))
  os.exit(1)
end
io.stdout:write(string.format("check_dom: %d checks passed (full, idle) in %s\n", checks, chromium))
