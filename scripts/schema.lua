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
--   shijim schema.lua --print --cluster NAME [--replicated]
--   shijim schema.lua --dsn clickhouse://shard1/market --cluster NAME   (run once per server)
--        a cluster: the same local tables on every shard plus Distributed
--        tables <t>_all over them (Distributed(NAME, db, <t>, cityHash64(code)));
--        --replicated prints Replicated*MergeTree engines for shards with
--        replicas (ZooKeeper and the {shard}/{replica} macros configured).
--        Without ZooKeeper 18.16 has no ON CLUSTER DDL: apply on each server.
--
-- Tables (rationale in docs/clickhouse.md): <db>.ticks and <db>.bidasks,
-- ReplacingMergeTree ORDER BY (code, ts, source, seq). Newer servers get
-- LowCardinality, codecs and a DateTime64 alias; the insert format is the
-- same on every version. For analysts: <db>.aliases (continuous alias ->
-- code per trading day), <db>.instruments and <db>.bars_1m, the last two
-- filled by materialized views over ticks; --migrate adds them to an
-- existing database and backfills them from the rows already stored.
local ffi = require "ffi"
local sffi = require "shijim.ffi"
local cli = require "shijim.cli"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN

local opts = cli.parse(arg, {
  usage = "shijim schema.lua [--print] [--version V] [--db NAME] [--dsn DSN] [--migrate] [--cluster NAME [--replicated]]",
  description = "Print or create the ClickHouse schema (tables ticks and bidasks).",
  { "--print", "flag", "print the DDL instead of running it" },
  { "--version", "string", "server version to write DDL for (default: asked from --dsn, else 18.16)" },
  { "--db", "string", "database name (default: the DSN's, else 'default')" },
  { "--dsn", "string", "clickhouse://user:pass@host:port/db or http(s)://..." },
  { "--migrate", "flag", "bring an existing database to this schema: decimal scale, trading_day, analyst tables and views (needs --dsn)" },
  { "--cluster", "string", "also Distributed tables <t>_all over the cluster NAME (remote_servers)" },
  { "--replicated", "flag", "with --cluster: Replicated*MergeTree engines (ZooKeeper, {shard}/{replica} macros)" },
  check = function(o)
    if o.migrate and not o.dsn then return "--migrate needs --dsn (it reads the tables' column types)" end
    if not o.print and not o.dsn then return "nothing to do: give --print, or --dsn to create the tables" end
    if o.db and not o.db:match("^[%a_][%w_]*$") then return "--db must match [A-Za-z_][A-Za-z0-9_]*" end
    if o.version and not o.version:match("^%d+%.%d+") then return "--version expects a server version like 24.8, got '" .. o.version .. "'" end
    if o.cluster and not o.cluster:match("^[%a_][%w_]*$") then return "--cluster must match [A-Za-z_][A-Za-z0-9_]*" end
    if o.replicated and not o.cluster then return "--replicated needs --cluster NAME" end
    if o.cluster and o.migrate then return "--cluster and --migrate: migrate each server first, then add the cluster tables" end
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
  -- then the analyst tables and views, and their backfill from the rows
  -- already stored (after the ALTERs: the views read trading_day)
  local an = ffi.string(buf, C.chr_analyst_sql(db or "default", buf, cap))
  if opts.print then
    io.stdout:write(sql, an)
    finish(0)
  end
  if sql ~= "" then
    run_statements(sql)
    local left = pending()
    if left ~= "" then die("columns still to migrate after the ALTERs:\n" .. left, 1) end
    io.stdout:write("schema: migrated; prices are stored with the scale Shijim writes, trading_day present\n")
  else
    io.stdout:write("schema: the columns already are as Shijim writes them; nothing to migrate there\n")
  end
  run_statements(an)
  io.stdout:write("schema: analyst tables and views present (aliases, instruments, bars_1m), backfilled\n")
  finish(0)
end
local n = C.chr_schema_sql(version, db, buf, cap)
local sql = ffi.string(buf, n)

-- The Distributed tables over the local ones, and (with --replicated) the
-- local engines made Replicated: the shard's path in ZooKeeper is per table.
local DIST = { ticks = "cityHash64(code)", bidasks = "cityHash64(code)", aliases = "cityHash64(alias)",
               instruments = "cityHash64(code)", bars_1m = "cityHash64(code)" }
local DIST_ORDER = { "ticks", "bidasks", "aliases", "instruments", "bars_1m" }
if opts.cluster then
  local dbn = db or "default"
  if opts.replicated then
    sql = sql:gsub("(CREATE TABLE IF NOT EXISTS [%w_]+%.([%w_]+).-ENGINE = )(%w-)MergeTree%((.-)%)",
      function(head, name, kind, args)
        return string.format("%sReplicated%sMergeTree('/clickhouse/tables/{shard}/%s/%s', '{replica}'%s)", head, kind,
          dbn, name, args ~= "" and (", " .. args) or "")
      end)
  end
  local parts = { sql }
  for _, t in ipairs(DIST_ORDER) do
    parts[#parts + 1] = string.format(
      "CREATE TABLE IF NOT EXISTS %s.%s_all AS %s.%s\nENGINE = Distributed(%s, %s, %s, %s);\n\n", dbn, t, dbn, t,
      opts.cluster, dbn, t, DIST[t])
  end
  sql = table.concat(parts)
end

if opts.print then
  io.stdout:write(string.format("-- Shijim ClickHouse schema for server %s, database %s\n\n", version or "18.16 (oldest supported)",
    db or "default"))
  io.stdout:write(sql)
  finish(0)
end

run_statements(sql)
finish(0)
