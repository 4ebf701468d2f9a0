-- spec/support/ch.lua — a real clickhouse-server for specs (tests/chserver.sh),
-- queried over HTTP with curl.
local proc = require "support.proc"

local M = {}
local src_dir = os.getenv("SHJ_SOURCE_DIR") or "."
local build_dir = os.getenv("SHJ_BUILD_DIR") or "build"
M.script = src_dir .. "/tests/chserver.sh"
M.gen = build_dir .. "/tool_ch_gen"

local Server = {}
Server.__index = Server

function M.start()
  local dir = proc.tmpdir() .. "/ch"
  local rc, out, err = proc.run(string.format("%s start %s", M.script, dir))
  assert(rc == 0, "clickhouse-server did not start: " .. tostring(err))
  local pid, port = out:match("(%d+) (%d+)")
  return setmetatable({ dir = dir, pid = tonumber(pid), port = tonumber(port) }, Server)
end

function Server:dsn(db, userpass)
  return string.format("clickhouse://%s127.0.0.1:%d/%s", userpass or "", self.port, db)
end

-- POST a query; returns the body with the trailing newline removed, and the HTTP code.
function Server:query(sql)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write(sql)
  f:close()
  local p = io.popen(string.format("env -u LD_PRELOAD curl -s -w '\\n%%{http_code}' --data-binary @%s 'http://127.0.0.1:%d/'", tmp, self.port))
  local out = p:read("*a")
  p:close()
  os.remove(tmp)
  local body, code = out:match("^(.*)\n(%d+)$")
  return (body or ""):gsub("\n$", ""), tonumber(code)
end

function Server:scalar(sql)
  local body, code = self:query(sql)
  assert(code == 200, "query failed: " .. sql .. " -> " .. tostring(body))
  return tonumber(body)
end

function Server:kill9() proc.run(string.format("%s kill9 %s", M.script, self.dir)) end

function Server:restart()
  local rc, _, err = proc.run(string.format("%s start %s", M.script, self.dir))
  assert(rc == 0, "restart failed: " .. tostring(err))
end

function Server:stop()
  proc.run(string.format("%s stop %s", M.script, self.dir))
  os.execute("rm -rf " .. self.dir:gsub("/ch$", ""))
end

-- Write synthetic fallback files; returns the totals the tool prints.
function M.generate(dir, count, days, first)
  local rc, out, err = proc.run(string.format("%s %s %d %d %d", M.gen, dir, count, days or 1, first or 0))
  assert(rc == 0, "tool_ch_gen failed: " .. tostring(err))
  local t = {}
  for k, v in out:gmatch("(%w+)=(%-?%d+)") do t[k] = tonumber(v) end
  return t
end

-- Files under dir (recursively), sorted, relative.
function M.files(dir)
  local list = {}
  local p = io.popen("cd " .. dir .. " 2>/dev/null && find . -type f | sort")
  for line in p:lines() do list[#list + 1] = line:gsub("^%./", "") end
  p:close()
  return list
end

return M
