-- verify.lua — check a day of the raw archive and compare it with ClickHouse.
--
--   shijim verify.lua --date 2026-11-25                          archive only
--   shijim verify.lua --date 2026-11-25 --dir data/raw --dsn clickhouse://default@127.0.0.1:8123/market
--   shijim verify.lua --date 2026-11-25 --dsn DSN --reconcile    replay what is missing first
--
-- The archive day file <dir>/<source>/<date>.shjraw is read block by block
-- (every checksum), damaged ranges are passed over and reported, and the
-- sequence is checked for gaps (each with its reason). With --dsn the rows
-- its payloads make (parsed exactly as live) are compared, per kind and by a
-- digest of every stored field, with what ClickHouse holds under FINAL for
-- the same source and sequence range (C: runtime/clickhouse/ch_verify.h).
-- Exit codes: 0 the archive is whole and ClickHouse agrees with it; 1 they
-- differ or the archive is damaged (what differs is printed); 2 bad usage.
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local cli = require "shijim.cli"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN

local opts = cli.parse(arg, {
  usage = "shijim verify.lua --date YYYY-MM-DD [--dir DIR] [--source NAME] [--dsn DSN] [--reconcile]",
  description = "Check a day of the raw archive (blocks, checksums, sequence continuity, gaps with reasons) and "
    .. "compare its rows per kind and by a content digest with ClickHouse (FINAL).\n"
    .. "Exit code 0: they agree (and the archive is whole); 1: they differ or the archive is damaged; 2: bad usage.",
  { "--date", "string", "the trading day (the archive's day file name)", metavar = "YYYY-MM-DD", required = true },
  { "--dir", "string", "raw archive root", default = "data/raw" },
  { "--source", "string", "recording source (sub-directory of the archive)", default = "sim" },
  { "--source-id", "number", "the source's id in the tables' `source` column (1 for a recorder's first source)",
    default = 1 },
  { "--dsn", "string", "compare with ClickHouse at this DSN (default $SHIJIM_CLICKHOUSE_DSN; none: archive only)" },
  { "--reconcile", "flag", "first replay into ClickHouse what the watermarks say is missing (as a recorder start does)" },
})

local function usage_error(msg)
  io.stderr:write("shijim: ", msg, " (see --help)\n")
  os.exit(2)
end

if not opts.date:match("^%d%d%d%d%-%d%d%-%d%d$") then
  usage_error("--date expects YYYY-MM-DD, got '" .. opts.date .. "'")
end
local sid = opts.source_id
if sid < 1 or sid > 65535 or sid % 1 ~= 0 then usage_error("--source-id expects 1..65535") end
local dsn = opts.dsn or os.getenv("SHIJIM_CLICKHOUSE_DSN")
if opts.reconcile and not dsn then usage_error("--reconcile needs --dsn (or SHIJIM_CLICKHOUSE_DSN)") end
local dir = opts.dir:gsub("/+$", "")
local path = string.format("%s/%s/%s.shjraw", dir, opts.source, opts.date)
local fh = io.open(path, "rb")
if not fh then usage_error("no archive file " .. path) end
fh:close()

local function out(fmt, ...) io.stdout:write(string.format(fmt, ...), "\n") end
local n = tonumber

if opts.reconcile then
  local replayed = ffi.new("uint64_t[1]")
  local rc = C.chv_reconcile(dir, opts.source, sid, dsn, replayed, errbuf, ERRLEN)
  if rc < 0 then
    io.stderr:write("verify: reconcile: ", sffi.errtext(), "\n")
    os.exit(1)
  end
  out("reconcile: %d record(s) replayed into ClickHouse%s", n(replayed[0]),
    rc == 1 and (", more still waiting: " .. sffi.errtext()) or "")
end

local rep = ffi.new("chv_report")
if C.chv_archive(path, sid, rep, errbuf, ERRLEN) ~= 0 then
  io.stderr:write("verify: ", sffi.errtext(), "\n")
  os.exit(1)
end

local KINDS = { [0] = "tick", "quote", "bidask" }
local bad = {}
out("archive %s: %d records, seq %d..%d%s", path, n(rep.records), n(rep.first_seq), n(rep.last_seq),
  rep.being_written == 1 and " (being recorded now: checked as far as it is on disk)" or "")
if rep.damaged_ranges > 0 then
  bad[#bad + 1] = string.format("%d damaged range(s), %d bytes passed over", n(rep.damaged_ranges), n(rep.damaged_bytes))
end
if rep.torn == 1 and rep.being_written == 0 then
  bad[#bad + 1] = "torn tail: " .. ffi.string(rep.detail)
end
if rep.seq_gaps > 0 or rep.seq_restarts > 0 then
  out("sequence: %d gap(s), %d number(s) missing, %d restart(s): %s", n(rep.seq_gaps), n(rep.seq_missing),
    n(rep.seq_restarts), ffi.string(rep.gaps))
  if rep.seq_gaps > 0 then bad[#bad + 1] = string.format("%d sequence gap(s)", n(rep.seq_gaps)) end
  if rep.seq_restarts > 0 then
    bad[#bad + 1] = "the sequence restarts inside the file (recorded before sequences continued across "
      .. "restarts): ClickHouse rows cannot be told apart by sequence"
  end
else
  out("sequence: continuous")
end
local parts = {}
for k = 0, 2 do parts[#parts + 1] = string.format("%s %d", KINDS[k], n(rep.rows[k])) end
out("archive rows: %s, digest %s", table.concat(parts, ", "), bit.tohex(rep.digest, 16))

if dsn and rep.records > 0 then
  if C.chv_clickhouse(dsn, sid, rep, errbuf, ERRLEN) ~= 0 then
    io.stderr:write("verify: ", sffi.errtext(), "\n")
    os.exit(1)
  end
  parts = {}
  for k = 0, 2 do parts[#parts + 1] = string.format("%s %d", KINDS[k], n(rep.ch_rows[k])) end
  out("clickhouse rows (FINAL, source %d, seq %d..%d): %s, digest %s", sid, n(rep.first_seq), n(rep.last_seq),
    table.concat(parts, ", "), bit.tohex(rep.ch_digest, 16))
  for k = 0, 2 do
    local a, c = n(rep.rows[k]), n(rep.ch_rows[k])
    if a ~= c then
      bad[#bad + 1] = string.format("%s: archive %d rows, clickhouse %d (%s %d)", KINDS[k], a, c,
        c < a and "missing" or "extra", math.abs(a - c))
    end
  end
  if rep.digest ~= rep.ch_digest then bad[#bad + 1] = "content digest differs" end
elseif not dsn then
  out("clickhouse: not compared (no --dsn)")
end

if #bad > 0 then
  for _, b in ipairs(bad) do io.stdout:write("DIFFERS: ", b, "\n") end
  out("verify: %s: NOT OK", opts.date)
  os.exit(1)
end
out("verify: %s: OK%s", opts.date, dsn and " (archive and ClickHouse agree)" or " (archive whole)")
os.exit(0)
