-- spec/support/proc.lua — run the shijim binary from specs and capture its output.
local M = {}

M.bin = os.getenv("SHIJIM_BIN") or "build/shijim"

function M.tmpdir()
  local p = io.popen("mktemp -d /tmp/shijim-spec.XXXXXX")
  local dir = p:read("*l")
  p:close()
  return dir
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

function M.read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Run a shell command line; returns exit code, stdout, stderr.
function M.run(cmdline)
  local dir = M.tmpdir()
  local rc = os.execute(string.format("(%s) >%s/out 2>%s/err", cmdline, dir, dir))
  -- LuaJIT 2.1 os.execute returns the raw wait status (exit code << 8).
  if type(rc) == "number" and rc > 255 then rc = math.floor(rc / 256) end
  if rc == true then rc = 0 end
  local out, err = M.read(dir .. "/out"), M.read(dir .. "/err")
  os.execute("rm -rf " .. dir)
  return rc, out, err
end

-- The pid of a child of pid, or nil. pgrep runs without LD_PRELOAD: under
-- ASan the specs preload libasan, and procps' pgrep hangs with it loaded.
function M.child_pid(pid)
  local _, out = M.run("env -u LD_PRELOAD pgrep -P " .. tostring(pid))
  return out and out:match("%d+")
end

function M.shijim(args)
  return M.run(M.bin .. " " .. args)
end

return M
