-- replay.lua — play the raw archive back through the parser and bus, into
-- ClickHouse, a JSON-lines file, or just a summary.
--
--   shijim replay.lua --from 2026-11-24 --to 2026-11-25            check + summarize
--   shijim replay.lua --date 2026-11-25 --codes 2330,TXFR1 --jsonl - | head
--   shijim replay.lua --date 2026-11-25 --csv ticks.csv --kinds tick
--   shijim replay.lua --date 2026-11-25 --clickhouse clickhouse://default@127.0.0.1:8123/market
--
-- The events are the ones the live run published (same fields, order,
-- sequence numbers and flags; docs/data.md): a replayed row equals the live
-- row, so re-loading a day into ClickHouse replaces rows with equal ones.
-- --mark-replay sets SHJ_FLAG_REPLAY (16) on every event instead, for when
-- replayed rows must be told apart. Exit codes: 0 every file played to its
-- end (and every row reached ClickHouse), 1 something was skipped (a damaged or
-- unreadable file: each one is reported with its byte offset), the ClickHouse
-- writer failed or rows went to the fallback files, 2 bad usage.
local shijim = require "shijim"
local cli = require "shijim.cli"
local ffi = require "ffi"
local C = require("shijim.ffi").C

local opts = cli.parse(arg, {
  usage = "shijim replay.lua [--date D | --from D --to D | --files F1,F2] [options]",
  description = "Play the raw archive back as a live feed (same parser, same bus, same events) into\n" ..
    "ClickHouse (--clickhouse), JSON lines (--jsonl), or only a per-kind summary.\n" ..
    "Exit code 0: everything played; 1: a file was damaged/unreadable (reported), or the ClickHouse\n" ..
    "writer failed or left rows in the fallback files (restore.lua loads them).",
  { "--archive-dir", "string", "raw archive root", default = "data/raw" },
  { "--source", "string", "recording source (sub-directory of the archive)", default = "sim" },
  { "--date", "date", "one trading day YYYY-MM-DD" },
  { "--from", "date", "first day YYYY-MM-DD (default: the oldest file)" },
  { "--to", "date", "last day YYYY-MM-DD (default: the newest file)" },
  { "--files", "list", "explicit archive files, played in this order" },
  { "--codes", "codes", "only these instruments (aliases like TXFR1 allowed; default: all)" },
  { "--kinds", "list", "event kinds to output", default = { "tick", "bidask", "quote" },
    choices = { "tick", "bidask", "quote", "status" } },
  { "--speed", "string", "max, or N x real time (1 = as recorded)", default = "max",
    check = function(v)
      if v ~= "max" and not ((cli.number(v) or 0) > 0) then return "expects max or a positive number, got '" .. v .. "'" end
    end },
  { "--events", "number", "stop after N events played, any kind (0 = no limit)", default = 0, min = 0, integer = true },
  { "--jsonl", "string", "write events as JSON lines to this file (- = stdout)" },
  { "--csv", "string", "write events as CSV to this file (- = stdout; exact decimal prices, docs/data.md)" },
  { "--mark-replay", "flag", "set the replay flag (16) on every event (default: the recording's flags, unchanged)" },
  { "--clickhouse", "string", "insert the events into ClickHouse at this DSN" },
  { "--gateway-id", "string", "the gateway that recorded the archive (main.lua --gateway-id): rows get its ClickHouse source number" },
  { "--fallback-dir", "string", "where ClickHouse batches go when it is down", default = "data/fallback" },
  { "--workers", "int", "threads that read and parse ahead, 1..4 (default: by core count; 0 = parse on the loop)",
    min = 0, max = 4 },
  { "--progress", "flag", "draw the progress line even when stderr is not a terminal" },
  exclusive = { { "date", "from" }, { "date", "to" }, { "files", "date" }, { "files", "from" }, { "files", "to" } },
  ranges = { { "from", "to" } },
  check = function(o)
    if o.jsonl and o.csv and o.jsonl == o.csv then return "--jsonl and --csv name the same file" end
    if o.gateway_id and not o.gateway_id:match("^[%w_.-]+$") then
      return "--gateway-id: letters, digits, '_', '.', '-' only, got '" .. o.gateway_id .. "'"
    end
    if o.gateway_id and not o.clickhouse then return "--gateway-id only matters with --clickhouse" end
  end,
})

local speed = opts.speed == "max" and "max" or tonumber(opts.speed)
local workers = opts.workers
if workers == 0 then workers = false end
local ok, src = pcall(shijim.source.replay, {
  dir = opts.archive_dir, source = opts.source, date = opts.date, from = opts.from, to = opts.to,
  files = opts.files, codes = opts.codes, speed = speed,
  progress = opts.progress or nil, mark = opts.mark_replay == true, workers = workers,
})
if not ok then -- nothing to play (no such directory, no file in the range, a missing file)
  io.stderr:write("shijim: ", tostring(src):gsub("^.-source: ", ""), "\n")
  os.exit(1)
end

local ch
if opts.clickhouse then
  -- A replay can wait for a healthy server: it never outruns it into the
  -- fallback (issue 11, fault 10); a server that goes down still spills.
  ch = require("sinks.clickhouse") { dsn = opts.clickhouse, fallback_dir = opts.fallback_dir,
                                     wait_when_slow = true, gateway = opts.gateway_id }
  shijim.route(src, ch)
end

local function open_out(name, path)
  if not path then return nil end
  local f, err = io.stdout, nil
  if path ~= "-" then f, err = io.open(path, "w") end
  if not f then
    io.stderr:write("shijim: --", name, ": ", err, "\n")
    os.exit(1)
  end
  f:setvbuf("full", 65536)
  return f
end
local out = open_out("jsonl", opts.jsonl)
local csv = open_out("csv", opts.csv)

-- CSV: one wide table for every kind (docs/data.md, "CSV"; python/
-- shijim_archive/csvout.py writes the same bytes): the common columns, the
-- trade fields (empty on bidask rows), then the book levels flattened as
-- bid_price_0..4 (level 0 = best) ... diff_ask_vol_0..4 (empty on trade rows).
-- Prices are exact decimal text (shijim.decimal), never a Lua number.
local TRADE = { "open", "high", "low", "close", "avg_price", "diff_price", "diff_rate", "amount",
                "amount_sum", "underlying_price", "volume", "vol_sum", "bid_side_vol_sum",
                "ask_side_vol_sum", "tick_type", "chg_type" }
local TRADE_DEC = { open = true, high = true, low = true, close = true, avg_price = true, diff_price = true,
                    diff_rate = true, amount = true, amount_sum = true, underlying_price = true }
local BOOK = { "bid_price", "ask_price", "bid_volume", "ask_volume", "diff_bid_vol", "diff_ask_vol" }
local LEVELS
do -- the book depth from the struct itself (SHJ_LEVELS is a macro, not in the cdef)
  LEVELS = ffi.sizeof(ffi.new("shj_event").bid_price) / ffi.sizeof("int64_t")
end

local function csv_writer(f)
  local header = { "kind", "code", "exchange", "sec_type", "ts", "recv_ts", "time", "seq", "flags" }
  for _, k in ipairs(TRADE) do header[#header + 1] = k end
  for _, k in ipairs(BOOK) do
    for i = 0, LEVELS - 1 do header[#header + 1] = k .. "_" .. i end
  end
  f:write(table.concat(header, ","), "\n")
  local names = { exchange = {}, sec_type = {} }
  local row = {}
  local last_s, last_iso = nil, nil
  local function iso(ns) -- clk_utc_iso's shape: 2026-11-25T00:30:00.000000000Z
    local s, frac = ns / 1000000000LL, ns % 1000000000LL
    if frac < 0 then s, frac = s - 1, frac + 1000000000LL end
    if s ~= last_s then last_s, last_iso = s, os.date("!%Y-%m-%dT%H:%M:%S.", tonumber(s)) end
    return string.format("%s%09dZ", last_iso, tonumber(frac))
  end
  local dec, i64 = shijim.decimal, function(v) return (tostring(v):gsub("[LUI]+$", "")) end
  return function(ev)
    local n = 0
    local function put(v) n = n + 1; row[n] = v end
    put(ev:kind_name()); put(ev:symbol())
    local ex = names.exchange[ev.exchange]
    if not ex then ex = ffi.string(C.nm_exchange(ev.exchange)); names.exchange[ev.exchange] = ex end
    local st = names.sec_type[ev.sec_type]
    if not st then st = ffi.string(C.nm_sec_type(ev.sec_type)); names.sec_type[ev.sec_type] = st end
    put(ex); put(st); put(i64(ev.ts_exch_ns)); put(i64(ev.ts_recv_ns)); put(iso(ev.ts_exch_ns))
    put(i64(ev.seq)); put(tostring(tonumber(ev.flags)))
    if ev.kind == C.SHJ_KIND_BIDASK then
      for i = 1, #TRADE do put("") end
      for _, k in ipairs(BOOK) do
        local a, is_dec = ev[k], k == "bid_price" or k == "ask_price"
        for i = 0, LEVELS - 1 do put(is_dec and dec(a[i]) or tostring(tonumber(a[i]))) end
      end
    else
      for _, k in ipairs(TRADE) do
        local v = ev[k]
        put(TRADE_DEC[k] and dec(v) or i64(v))
      end
      for i = 1, #BOOK * LEVELS do put("") end
    end
    f:write(table.concat(row, ",", 1, n), "\n")
  end
end
local csv_row = csv and csv_writer(csv)

-- Counts per kind, and the JSON lines when asked. One handler: the bus
-- hands it batches of events already filtered by kind in C.
local counts, first_ns, last_ns = {}, nil, nil
shijim.on(opts.kinds, function(ev)
  local k = ev:kind_name()
  counts[k] = (counts[k] or 0) + 1
  local t = ev.ts_exch_ns
  if first_ns == nil or t < first_ns then first_ns = t end
  if last_ns == nil or t > last_ns then last_ns = t end
  if out then out:write(ev:json(), "\n") end
  if csv_row then csv_row(ev) end
end)

-- On a terminal the replay draws its own progress line; the runtime's
-- status line would garble it.
local tty = C.shj_isatty(2) == 1
local started = C.clk_now_ns()
shijim.run { events = opts.events, status_ms = (tty or opts.progress) and 0 or nil }
local wall_s = tonumber(C.clk_now_ns() - started) / 1e9

for _, f in ipairs({ out or false, csv or false }) do
  if f and f ~= io.stdout then f:close() elseif f then f:flush() end
end

local st = src:stats()
local parts = {}
for k, n in pairs(counts) do parts[#parts + 1] = string.format("%s %d", k, n) end
table.sort(parts)
local textbuf = ffi.new("char[32]")
local function taipei(ns)
  if not ns then return "-" end
  return ffi.string(C.clk_taipei_text(ns, textbuf), 19)
end
io.stderr:write(string.format(
  "replay: %d file(s), %d damaged/unreadable (%d damaged range(s), %d bytes, passed over), " ..
  "%d still being recorded; %d records read, %d filtered out, " ..
  "%d delivered; output: %s; exchange time %s .. %s (Taipei); %.2f s, %.2fM events/s\n",
  st.files, st.bad_files, st.damaged_ranges, st.damaged_bytes, st.live_files, st.records, st.filtered, st.delivered,
  #parts > 0 and table.concat(parts, ", ") or "no events", taipei(first_ns), taipei(last_ns), wall_s,
  wall_s > 0 and st.delivered / wall_s / 1e6 or 0))

local code = 0
if st.bad_files > 0 then code = 1 end
if ch then
  local cs = ch:stats()
  io.stderr:write(string.format("clickhouse: %d rows in, %d inserted, %d to the fallback files (%s)\n",
    cs.rows_in, cs.rows_inserted, cs.rows_fallback, opts.fallback_dir))
  for _, state in pairs(cs.states) do
    if state == "failed" then code = 1 end
  end
  if cs.rows_fallback > 0 then
    -- kept, not lost; but the job (everything into ClickHouse) is not done
    io.stderr:write(string.format("clickhouse: %d rows wait in %s: shijim restore.lua --fallback-dir %s --apply\n",
      cs.rows_fallback, opts.fallback_dir, opts.fallback_dir))
    code = 1
  end
end
os.exit(code)
