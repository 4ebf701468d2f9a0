-- replay.lua — play the raw archive back through the parser and bus, into
-- ClickHouse, a JSON-lines file, or just a summary.
--
--   shijim replay.lua --from 2026-11-24 --to 2026-11-25            check + summarize
--   shijim replay.lua --date 2026-11-25 --codes 2330,TXFR1 --jsonl - | head
--   shijim replay.lua --date 2026-11-25 --clickhouse clickhouse://default@127.0.0.1:8123/market
--
-- The events are the ones the live run published (same fields, order and
-- sequence numbers; docs/backtest.md). Exit codes: 0 every file played to its
-- end (and every row reached ClickHouse), 1 something was skipped (a damaged or
-- unreadable file: each one is reported with its byte offset), the ClickHouse
-- writer failed or rows went to the fallback files, 2 bad usage.
local shijim = require "shijim"
local cli = require "shijim.cli"

local opts = cli.parse(arg, {
  usage = "shijim replay.lua [--date D | --from D --to D | --files F1,F2] [options]",
  description = "Play the raw archive back as a live feed (same parser, same bus, same events) into\n" ..
    "ClickHouse (--clickhouse), JSON lines (--jsonl), or only a per-kind summary.\n" ..
    "Exit code 0: everything played; 1: a file was damaged/unreadable (reported), or the ClickHouse\n" ..
    "writer failed or left rows in the fallback files (restore.lua loads them).",
  { "--archive-dir", "string", "raw archive root", default = "data/raw" },
  { "--source", "string", "recording source (sub-directory of the archive)", default = "sim" },
  { "--date", "string", "one trading day YYYY-MM-DD" },
  { "--from", "string", "first day YYYY-MM-DD (default: the oldest file)" },
  { "--to", "string", "last day YYYY-MM-DD (default: the newest file)" },
  { "--files", "list", "explicit archive files, played in this order" },
  { "--codes", "list", "only these instruments (aliases like TXFR1 allowed; default: all)" },
  { "--kinds", "list", "event kinds to output", default = { "tick", "bidask", "quote" } },
  { "--speed", "string", "max, or N x real time (1 = as recorded)", default = "max" },
  { "--events", "number", "stop after N events played, any kind (0 = no limit)", default = 0 },
  { "--jsonl", "string", "write events as JSON lines to this file (- = stdout)" },
  { "--clickhouse", "string", "insert the events into ClickHouse at this DSN" },
  { "--fallback-dir", "string", "where ClickHouse batches go when it is down", default = "data/fallback" },
  { "--workers", "number", "threads that read and parse ahead, 1..4 (default: by core count; 0 = parse on the loop)" },
  { "--progress", "flag", "draw the progress line even when stderr is not a terminal" },
})

local function usage_error(msg)
  io.stderr:write("shijim: ", msg, " (see --help)\n")
  os.exit(2)
end

local function check_date(name, v)
  if v ~= nil and not v:match("^%d%d%d%d%-%d%d%-%d%d$") then
    usage_error(string.format("--%s expects YYYY-MM-DD, got '%s'", name, v))
  end
end
check_date("date", opts.date)
check_date("from", opts.from)
check_date("to", opts.to)
if opts.date and (opts.from or opts.to) then usage_error("--date and --from/--to exclude each other") end

local speed = opts.speed
if speed ~= "max" then
  speed = tonumber(speed)
  if not speed or speed <= 0 then usage_error("--speed expects max or a positive number, got '" .. opts.speed .. "'") end
end

if opts.workers and (opts.workers < 0 or opts.workers > 4 or opts.workers % 1 ~= 0) then
  usage_error("--workers expects 0..4, got " .. opts.workers)
end
local workers = opts.workers
if workers == 0 then workers = false end
local ok, src = pcall(shijim.source.replay, {
  dir = opts.archive_dir, source = opts.source, date = opts.date, from = opts.from, to = opts.to,
  files = opts.files, codes = opts.codes, speed = speed,
  progress = opts.progress or nil, mark = true, workers = workers,
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
                                     wait_when_slow = true }
  shijim.route(src, ch)
end

local out
if opts.jsonl then
  if opts.jsonl == "-" then
    out = io.stdout
  else
    local err
    out, err = io.open(opts.jsonl, "w")
    if not out then
      io.stderr:write("shijim: --jsonl: ", err, "\n")
      os.exit(1)
    end
  end
  out:setvbuf("full", 65536)
end

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
end)

-- On a terminal the replay draws its own progress line; the runtime's
-- status line would garble it.
local C = require("shijim.ffi").C
local tty = C.shj_isatty(2) == 1
local started = C.clk_now_ns()
shijim.run { events = opts.events, status_ms = (tty or opts.progress) and 0 or nil }
local wall_s = tonumber(C.clk_now_ns() - started) / 1e9

if out and out ~= io.stdout then out:close() elseif out then out:flush() end

local st = src:stats()
local parts = {}
for k, n in pairs(counts) do parts[#parts + 1] = string.format("%s %d", k, n) end
table.sort(parts)
local textbuf = require("ffi").new("char[32]")
local function taipei(ns)
  if not ns then return "-" end
  return require("ffi").string(C.clk_taipei_text(ns, textbuf), 19)
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
