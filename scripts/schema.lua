-- schema.lua — the ClickHouse tables Shijim writes, for a DBA.
--
--   shijim schema.lua --print                          DDL for the oldest supported server (18.16)
--   shijim schema.lua --print --version 24.8 --db md   DDL for a given version and database
--   shijim schema.lua --dsn clickhouse://.../market --print   ask the server its version, print
--   shijim schema.lua --dsn clickhouse://.../market    create what is missing (IF NOT EXISTS)
--   shijim schema.lua --dsn clickhouse://.../market --migrate [--print]
--        bring tables an older Shijim created (Decimal64(4) prices) to the
--        decimal scale written now (Decimal64(SHJ_PRICE_DECIMALS)), in place
--        (ALTER TABLE ... MODIFY COLUMN; --print only shows the statements)
--
-- Tables (rationale in docs/clickhouse.md): <db>.ticks and <db>.bidasks,
-- ReplacingMergeTree ORDER BY (code, ts, source, seq). Newer servers get
-- LowCardinality, codecs and a DateTime64 alias; the insert format is the
-- same on every version.
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local cli = require "shijim.cli"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN

local opts = cli.parse(arg, {
  usage = "shijim schema.lua [--print] [--version V] [--db NAME] [--dsn DSN]",
  description = "Print or create the ClickHouse schema (tables ticks and bidasks).",
  { "--print", "flag", "print the DDL instead of running it" },
  { "--version", "string", "server version to write DDL for (default: asked from --dsn, else 18.16)" },
  { "--db", "string", "database name (default: the DSN's, else 'default')" },
  { "--dsn", "string", "clickhouse://user:pass@host:port/db or http(s)://..." },
  { "--migrate", "flag", "convert existing decimal columns to the scale Shijim writes (needs --dsn)" },
  check = function(o)
    if o.migrate and not o.dsn then return "--migrate needs --dsn (it reads the tables' column types)" end
    if not o.print and not o.dsn then return "nothing to do: give --print, or --dsn to create the tables" end
    if o.db and not o.db:match("^[%a_][%w_]*$") then return "--db must match [A-Za-z_][A-Za-z0-9_]*" end
    if o.version and not o.version:match("^%d+%.%d+") then return "--version expects a server version like 24.8, got '" .. o.version .. "'" end
  end,
})

local client
-- os.exit skips ffi.gc finalizers: release the client by hand
local function finish(code)
  if client ~= nil then
    C.chr_client_free(ffi.gc(client, nil))
    client = nil
  end
  os.exit(code)
end

local function die(msg, code)
  io.stderr:write("schema: ", msg, "\n")
  finish(code or 1)
end


local version, db = opts.version, opts.db
if opts.dsn then
  -- connect without creating anything: the version decides the DDL
  client = C.chr_client_new(opts.dsn, 0, errbuf, ERRLEN)
  if client == nil then die(sffi.errtext(), 1) end
  client = ffi.gc(client, C.chr_client_free)
  version = version or ffi.string(C.chr_client_version(client))
  local redacted = ffi.string(C.chr_client_redacted(client))
  db = db or redacted:match("/([%w_]+)$")
end
if db and not db:match("^[%a_][%w_]*$") then die("--db must match [A-Za-z_][A-Za-z0-9_]*", 2) end

local cap = 65536
local buf = ffi.new("char[?]", cap)

local function run_statements(sql)
  local out = ffi.new("char[4096]")
  for stmt in sql:gmatch("(.-);\n") do
    stmt = stmt:gsub("^%s+", "")
    if stmt ~= "" then
      if C.chr_client_exec(client, stmt, out, 4096, errbuf, ERRLEN) ~= 0 then die(sffi.errtext(), 1) end
      io.stdout:write("ok: ", stmt:match("^[^\n(]*"), "\n")
    end
  end
end

if opts.migrate then
  if not opts.dsn then die("--migrate needs --dsn (it reads the tables' column types)", 2) end
  local function pending()
    local n = C.chr_client_migrate_sql(client, buf, cap, errbuf, ERRLEN)
    if n < 0 then die(sffi.errtext(), 1) end
    return ffi.string(buf, n)
  end
  local sql = pending()
  if sql == "" then
    io.stdout:write("schema: the decimal columns already have the scale Shijim writes; nothing to migrate\n")
    finish(0)
  end
  if opts.print then
    io.stdout:write(sql)
    finish(0)
  end
  run_statements(sql)
  local left = pending()
  if left ~= "" then die("columns still to migrate after the ALTERs:\n" .. left, 1) end
  io.stdout:write("schema: migrated; prices are now stored with the scale Shijim writes\n")
  finish(0)
end
local n = C.chr_schema_sql(version, db, buf, cap)
local sql = ffi.string(buf, n)

if opts.print then
  io.stdout:write(string.format("-- Shijim ClickHouse schema for server %s, database %s\n\n", version or "18.16 (oldest supported)",
    db or "default"))
  io.stdout:write(sql)
  finish(0)
end

run_statements(sql)
finish(0)
