-- restore.lua — put the ClickHouse writer's fallback files back into ClickHouse.
--
--   shijim restore.lua --fallback-dir data/raw/fallback            (dry run)
--   shijim restore.lua --fallback-dir data/raw/fallback --apply \
--       --dsn clickhouse://default@127.0.0.1:8123/market --archive-dir data/restored
--
-- Reads <dir>/ticks/*.jsonl and <dir>/bidasks/*.jsonl (and *.jsonl at the
-- top), checks every line exactly (C: runtime/ch_restore.h), and with --apply
-- inserts them in batches. It also reads the fallback of the Python shijim
-- that users migrate from (its ticks/ and books/; line format and the 8 h
-- time correction in runtime/clickhouse/ch_jsonl.h and docs/clickhouse.md).
-- Any other sub-directory is reported by name with the files it holds, never
-- skipped silently; if it holds files, the exit code is 1. Safe to run again, and to kill and re-run: the
-- tables are ReplacingMergeTree keyed by (code, ts, source, seq), so a row
-- inserted twice counts once under FINAL. A file moves to --archive-dir only
-- after its last batch was acknowledged. Malformed lines are reported as
-- file:line and quarantined, with the reason, in <name>.rejected.jsonl beside
-- the file (apply mode), and the file is finished all the same; the exit code
-- is then 1. A torn last line (a writer cut off mid-line) is quarantined the
-- same way but is not an error. A dry run writes nothing anywhere.
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local cli = require "shijim.cli"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN
local ffi_string, tonumber = ffi.string, tonumber

-- Custom client modules (--client-factory) may live in the current directory.
package.path = "./?.lua;./?/init.lua;" .. package.path

local opts = cli.parse(arg, {
  usage = "shijim restore.lua --fallback-dir DIR [--apply] [--dsn DSN | --client-factory module:function] [options]",
  description = "Replay the ClickHouse writer's JSONL fallback files into ClickHouse. Without --apply it only "
    .. "counts and checks (per file, per kind, time range, malformed lines) and writes nothing.",
  { "--fallback-dir", "string", "the writer's fallback_dir (holds ticks/ and bidasks/; the Python shijim's: ticks/ and books/)",
    metavar = "DIR", required = true },
  { "--mode", "string", "dry-run or apply", default = "dry-run", choices = { "dry-run", "apply" } },
  { "--apply", "flag", "short for --mode apply", sets = { mode = "apply" } },
  { "--dsn", "string", "clickhouse://user:pass@host:port/db or http(s)://... (default $SHIJIM_CLICKHOUSE_DSN)" },
  { "--client-factory", "string", "MODULE:FUNCTION returning a client with :insert(kind, rows) instead of --dsn",
    metavar = "MOD:FN" },
  { "--batch-size", "number", "rows per insert", default = 10000 },
  { "--archive-dir", "string", "move each fully restored file here (same filesystem)", metavar = "DIR" },
  { "--no-create-schema", "flag", "do not CREATE DATABASE/TABLE IF NOT EXISTS before inserting" },
  { "--seed-offset-h", "number", "hours the Python shijim's ts_ns are ahead of UTC (it stored Taipei time "
    .. "labelled UTC: 8; 0 if yours stored true UTC)", default = 8, metavar = "H" },
  { "--progress", "string", "progress bar: auto (on a terminal), always, never", default = "auto",
    choices = { "auto", "always", "never" } },
})

-- Everything C holds is released before exit: os.exit does not run the
-- ffi.gc finalizers, and a leak checker would rightly complain.
local ch, current_file
local function cleanup()
  if current_file ~= nil then
    C.chr_close(current_file, errbuf, ERRLEN)
    current_file = nil
  end
  if ch ~= nil then
    C.chr_client_free(ffi.gc(ch, nil))
    ch = nil
  end
end

local function die(msg, code)
  cleanup()
  io.stderr:write("restore: ", msg, "\n")
  os.exit(code or 1)
end

local apply = opts.mode == "apply"
local dsn = opts.dsn or os.getenv("SHIJIM_CLICKHOUSE_DSN")
if opts.dsn and opts.client_factory then die("--dsn and --client-factory exclude each other", 2) end
if opts.client_factory then dsn = opts.dsn end
if apply and not dsn and not opts.client_factory then
  die("--apply needs --dsn (or SHIJIM_CLICKHOUSE_DSN) or --client-factory", 2)
end
local batch_size = opts.batch_size
if batch_size < 1 or batch_size ~= math.floor(batch_size) or batch_size > 1000000 then
  die("--batch-size must be an integer from 1 to 1000000", 2)
end
local dir = opts.fallback_dir:gsub("/+$", "")
if dir == "" then dir = "/" end
local seed_offset_h = opts.seed_offset_h
if seed_offset_h ~= math.floor(seed_offset_h) or seed_offset_h < -24 or seed_offset_h > 24 then
  die("--seed-offset-h must be a whole number of hours from -24 to 24", 2)
end

------------------------------------------------------------------------------
-- Files
------------------------------------------------------------------------------
local LIST_CAP = 4 * 1024 * 1024
local listbuf = ffi.new("char[?]", LIST_CAP)
local nfiles = C.chr_list(dir, listbuf, LIST_CAP, errbuf, ERRLEN)
if nfiles < 0 then die(sffi.errtext(), 1) end
local files, total_bytes = {}, 0
for rel in ffi_string(listbuf):gmatch("[^\n]+") do
  files[#files + 1] = rel
  local size = tonumber(C.chr_file_size(dir .. "/" .. rel))
  if size and size > 0 then total_bytes = total_bytes + size end
end
-- What restore does not read is named, never skipped silently.
local nunknown = C.chr_list_unknown(dir, listbuf, LIST_CAP, errbuf, ERRLEN)
if nunknown < 0 then die(sffi.errtext(), 1) end
local unknown_files, unknown_names = 0, {}
for name, n in ffi_string(listbuf):gmatch("([^\t\n]+)\t(%d+)\n") do
  n = tonumber(n)
  unknown_files = unknown_files + n
  if n > 0 then unknown_names[#unknown_names + 1] = name end
  io.stderr:write(string.format("restore: %s/%s: unknown sub-directory (%d file(s)): restore reads *.jsonl in "
    .. "ticks/, bidasks/ and books/ only; %s\n", dir, name, n,
    n > 0 and "its files are NOT restored" or "empty, nothing lost"))
end
-- true (and says so) when unknown sub-directories hold files: exit 1 at the end.
local function unknown_verdict()
  if unknown_files == 0 then return false end
  io.stderr:write(string.format("restore: %d file(s) in unknown sub-directories were not restored: %s (move "
    .. ".jsonl files of Shijim or the Python shijim into ticks/, bidasks/ or books/ and run again)\n", unknown_files,
    table.concat(unknown_names, ", ")))
  return true
end
if #files == 0 then
  if unknown_verdict() then die("no fallback files restored under " .. dir, 1) end
  io.stdout:write(string.format("restore: no fallback files under %s: nothing to do\n", dir))
  os.exit(0)
end

------------------------------------------------------------------------------
-- Where rows go
------------------------------------------------------------------------------
local client
if apply and opts.client_factory then
  local mod, fname = opts.client_factory:match("^([%w_%.%-]+):([%w_]+)$")
  if not mod then die("--client-factory must look like module:function, got '" .. opts.client_factory .. "'", 2) end
  local ok, m = pcall(require, mod)
  if not ok then die("cannot load client module '" .. mod .. "': " .. tostring(m), 1) end
  if type(m) ~= "table" or type(m[fname]) ~= "function" then die("module '" .. mod .. "' has no function '" .. fname .. "'", 1) end
  local ok2, c = pcall(m[fname], { dsn = dsn, batch_size = batch_size })
  if not ok2 then die(opts.client_factory .. " failed: " .. tostring(c), 1) end
  if type(c) ~= "table" or type(c.insert) ~= "function" then
    die(opts.client_factory .. " did not return a client with an insert(kind, rows) method", 1)
  end
  client = c
elseif apply then
  ch = C.chr_client_new(dsn, opts.no_create_schema and 0 or 1, errbuf, ERRLEN)
  if ch == nil then die(sffi.errtext(), 1) end
  ch = ffi.gc(ch, C.chr_client_free)
  io.stdout:write(string.format("restore: inserting into %s (ClickHouse %s)\n",
    ffi_string(C.chr_client_redacted(ch)), ffi_string(C.chr_client_version(ch))))
end

-- Rows for a Lua client: every field as exact text (decimals via the C
-- formatter, 64-bit integers as strings), plus the original JSON line.
-- Names are core/names.h's (C.nm_*), enum values C.SHJ_*.
local KIND_BIDASK = C.SHJ_KIND_BIDASK
local function name(fn, v) return ffi_string(fn(v)) end
local TICK_DEC = { "open", "high", "low", "close", "avg_price", "diff_price", "diff_rate", "amount",
                   "amount_sum", "underlying_price" }
local TICK_INT = { "volume", "vol_sum", "bid_side_vol_sum", "ask_side_vol_sum", "tick_type", "chg_type" }
local event_ptr_t = ffi.typeof("const shj_event *")
local decbuf, lenbuf = ffi.new("char[32]"), ffi.new("size_t[1]")

local function i64(v) return (tostring(v):gsub("U?LL$", "")) end
local function dec(v) return ffi_string(C.shj_decimal(v, decbuf)) end

local function row_of(f, i, rel)
  local ev = ffi.cast(event_ptr_t, C.chr_batch_event(f, i))
  local text = C.chr_batch_text(f, i, lenbuf)
  local row = {
    file = rel, line = tonumber(C.chr_batch_line_no(f, i)), json = ffi_string(text, lenbuf[0]),
    kind = name(C.nm_kind, ev.kind), code = ffi_string(ev.code), exchange = name(C.nm_exchange, ev.exchange),
    sec_type = name(C.nm_sec_type, ev.sec_type), ts = i64(ev.ts_exch_ns), recv_ts = i64(ev.ts_recv_ns),
    seq = i64(ev.seq), source_id = tonumber(ev.source_id), flags = tonumber(ev.flags),
  }
  if ev.kind == KIND_BIDASK then
    for _, name in ipairs({ "bid_price", "ask_price" }) do
      local t = {}
      for l = 0, 4 do t[l + 1] = dec(ev[name][l]) end
      row[name] = t
    end
    for _, name in ipairs({ "bid_volume", "ask_volume", "diff_bid_vol", "diff_ask_vol" }) do
      local t = {}
      for l = 0, 4 do t[l + 1] = tonumber(ev[name][l]) end
      row[name] = t
    end
  else
    for _, name in ipairs(TICK_DEC) do row[name] = dec(ev[name]) end
    for _, name in ipairs(TICK_INT) do row[name] = i64(ev[name]) end
  end
  return row
end

local function insert_with_client(f, n, rel)
  local by_table = { ticks = {}, bidasks = {} }
  for i = 0, n - 1 do
    local row = row_of(f, i, rel)
    local t = row.kind == "bidask" and by_table.bidasks or by_table.ticks
    t[#t + 1] = row
  end
  for _, kind in ipairs({ "ticks", "bidasks" }) do
    local rows = by_table[kind]
    if #rows > 0 then
      local ok, res, why = pcall(client.insert, client, kind, rows)
      if not ok then return nil, tostring(res) end
      if not res then return nil, tostring(why or "insert returned false") end
    end
  end
  return true
end

------------------------------------------------------------------------------
-- Progress
------------------------------------------------------------------------------
local tty = opts.progress == "always" or (opts.progress == "auto" and C.shj_isatty(2) == 1)
local started = tonumber(C.clk_now_ns()) / 1e9
local last_log = started
local done_bytes, done_rows = 0, 0

local function human(n)
  if n >= 1e7 then return string.format("%.1fM", n / 1e6) end
  if n >= 1e4 then return string.format("%.1fk", n / 1e3) end
  return tostring(math.floor(n))
end

local function progress(file_index, file_bytes_read, final)
  local now = tonumber(C.clk_now_ns()) / 1e9
  local elapsed = math.max(now - started, 1e-3)
  local bytes = done_bytes + file_bytes_read
  local frac = total_bytes > 0 and math.min(bytes / total_bytes, 1) or 1
  local rate = done_rows / elapsed
  local eta = frac > 0 and elapsed * (1 - frac) / frac or 0
  local text = string.format("files %d/%d  rows %s  %s rows/s  ETA %ds", file_index, #files, human(done_rows),
    human(rate), math.floor(eta + 0.5))
  if tty then
    local width = 24
    local filled = math.floor(frac * width + 0.5)
    io.stderr:write("\r[", string.rep("#", filled), string.rep("-", width - filled), "] ", text, "\27[K")
    if final then io.stderr:write("\n") end
  elseif final or now - last_log >= 5 then
    last_log = now
    io.stderr:write("restore: progress: ", text, "\n")
  end
end

local function clear_progress()
  if tty then io.stderr:write("\r\27[K") end
end

------------------------------------------------------------------------------
-- Main loop
------------------------------------------------------------------------------
local tsbuf = ffi.new("char[32]")
local function taipei(ns) return ffi_string(C.clk_taipei_text(ns, tsbuf)) end

local counts = ffi.new("chr_counts")
local destbuf = ffi.new("char[2200]")
local total = { rows = 0, ticks = 0, bidasks = 0, tick = 0, quote = 0, bidask = 0, rejected = 0, torn = 0,
                inserted = 0, archived = 0, kept = 0, seed = 0, rounded = 0 }
local tmin, tmax

io.stdout:write(string.format("restore: %s, %d file(s) under %s, batches of %d rows\n",
  apply and "apply" or "dry run (nothing will be written)", #files, dir, batch_size))

for index, rel in ipairs(files) do
  local path = dir .. "/" .. rel
  local f = C.chr_open(path, apply and 1 or 0, errbuf, ERRLEN)
  if f == nil then die(sffi.errtext(), 1) end
  current_file = f
  C.chr_set_seed_offset_h(f, seed_offset_h)
  local file_inserted = 0
  while true do
    local got = C.chr_next_batch(f, batch_size, errbuf, ERRLEN)
    local nrej = C.chr_reject_count(f)
    if nrej > 0 then
      clear_progress()
      for i = 0, nrej - 1 do
        io.stderr:write(string.format("%s:%d: %s\n", path, tonumber(C.chr_reject_line_no(f, i)),
          ffi_string(C.chr_reject_reason(f, i))))
      end
    end
    if got < 0 then die(sffi.errtext(), 1) end
    if got == 0 then break end
    if apply then
      local ok, why
      if ch ~= nil then
        ok = C.chr_insert_batch(f, ch, errbuf, ERRLEN) == 0
        why = not ok and sffi.errtext()
      else
        ok, why = insert_with_client(f, got, rel)
      end
      if not ok then
        clear_progress()
        die(string.format("%s: insert failed: %s\nrestore stopped. Nothing is lost: files not archived yet are "
          .. "still in %s, and restoring them again is safe (rows already inserted collapse under FINAL).",
          path, why, dir), 1)
      end
      file_inserted = file_inserted + got
    end
    done_rows = done_rows + got
    C.chr_get_counts(f, counts)
    progress(index, tonumber(counts.bytes_read), false)
  end
  C.chr_get_counts(f, counts)
  local rows = tonumber(counts.rows_ticks + counts.rows_bidasks)
  local line = string.format("%s: %d rows (tick %d, quote %d, bidask %d), %d rejected", rel, rows,
    tonumber(counts.rows_tick_kind), tonumber(counts.rows_quote_kind), tonumber(counts.rows_bidask_kind),
    tonumber(counts.rejected))
  if rows > 0 then
    line = line .. string.format(", %s .. %s", taipei(counts.ts_min), taipei(counts.ts_max))
    tmin = (tmin == nil or counts.ts_min < tmin) and counts.ts_min or tmin
    tmax = (tmax == nil or counts.ts_max > tmax) and counts.ts_max or tmax
  end
  if counts.rows_seed > 0 then
    line = line .. string.format(", %d in the Python shijim's format (times %+d h", tonumber(counts.rows_seed),
      -seed_offset_h)
    if counts.rounded > 0 then line = line .. string.format(", %d value(s) rounded to 6 places", tonumber(counts.rounded)) end
    line = line .. ")"
  end
  if counts.torn_tail > 0 then line = line .. ", torn last line" end
  if apply then line = line .. string.format(", inserted %d", file_inserted) end
  if apply and counts.rejected + counts.torn_tail > 0 then
    line = line .. string.format(", %d line(s) quarantined in %s", tonumber(counts.rejected + counts.torn_tail),
      rel:gsub("%.jsonl$", ".rejected.jsonl"))
  end
  local archive_failure
  if apply and opts.archive_dir then
    -- Bad lines are quarantined (with the reason) in <name>.rejected.jsonl
    -- beside it, so the file is finished: kept, every later run would insert
    -- its good rows again (issue 11, fault 5).
    if C.chr_archive(f, opts.archive_dir, rel, destbuf, 2200, errbuf, ERRLEN) == 0 then
      line = line .. ", archived to " .. ffi_string(destbuf)
      total.archived = total.archived + 1
    else
      archive_failure = sffi.errtext()
    end
  end
  local close_rc = C.chr_close(f, errbuf, ERRLEN)
  current_file = nil
  clear_progress()
  io.stdout:write(line, "\n")
  if archive_failure then die(archive_failure, 1) end
  if close_rc ~= 0 then die(sffi.errtext(), 1) end
  done_bytes = done_bytes + tonumber(counts.file_bytes)
  total.rows = total.rows + rows
  total.ticks = total.ticks + tonumber(counts.rows_ticks)
  total.bidasks = total.bidasks + tonumber(counts.rows_bidasks)
  total.tick = total.tick + tonumber(counts.rows_tick_kind)
  total.quote = total.quote + tonumber(counts.rows_quote_kind)
  total.bidask = total.bidask + tonumber(counts.rows_bidask_kind)
  total.rejected = total.rejected + tonumber(counts.rejected)
  total.torn = total.torn + tonumber(counts.torn_tail)
  total.seed = total.seed + tonumber(counts.rows_seed)
  total.rounded = total.rounded + tonumber(counts.rounded)
  total.inserted = total.inserted + file_inserted
end
progress(#files, 0, true)

if client and type(client.close) == "function" then pcall(client.close, client) end
cleanup()

local elapsed = tonumber(C.clk_now_ns()) / 1e9 - started
io.stdout:write(string.format("total: %d file(s), %d rows (ticks %d, bidasks %d; tick %d, quote %d, bidask %d), %d rejected\n",
  #files, total.rows, total.ticks, total.bidasks, total.tick, total.quote, total.bidask, total.rejected))
if tmin then io.stdout:write(string.format("time range: %s .. %s (Asia/Taipei)\n", taipei(tmin), taipei(tmax))) end
if total.seed > 0 then
  io.stdout:write(string.format("python shijim format: %d rows; their ts_ns (Taipei time labelled UTC) shifted by %+d h "
    .. "and rounded to the microsecond; prices read exactly from the JSON text, %d value(s) rounded to 6 places; "
    .. "source %d, seq = line number\n", total.seed, -seed_offset_h, total.rounded, C.CHR_SEED_SOURCE_ID))
end
if apply then
  io.stdout:write(string.format("inserted %d rows in %.2f s (%s rows/s)", total.inserted, elapsed,
    human(total.inserted / math.max(elapsed, 1e-3))))
  if opts.archive_dir then
    io.stdout:write(string.format("; archived %d file(s), kept %d", total.archived, total.kept))
  end
  io.stdout:write("\n")
else
  io.stdout:write("dry run: nothing was written; run again with --apply to insert\n")
end
if total.torn > 0 then
  -- A recorder cut off mid-line (kill -9, full disk): not bad data. The
  -- event is in the raw archive (replay.lua can put it back).
  io.stderr:write(string.format("restore: %d torn last line(s) (a writer cut off mid-line; listed above)%s; " ..
    "their events are in the raw archive (replay.lua --clickhouse restores them)\n", total.torn,
    apply and ", quarantined in the *.rejected.jsonl beside each file" or ""))
end
local unrestored = unknown_verdict()
if total.rejected > 0 then
  die(string.format("%d malformed line(s) rejected (listed above%s)", total.rejected,
    apply and "; quarantined with the reason in the *.rejected.jsonl beside each file, the rest restored" or ""), 1)
end
os.exit(unrestored and 1 or 0)
