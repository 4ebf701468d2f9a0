-- cli_usage_spec — every usage mistake exits 2 with ONE line and writes nothing
-- (issue 13, "Usage errors inside scripts"; shijim.cli and runtime/main.c).
--
-- Each case runs the real binary from an empty working directory (so that any
-- default output — data/raw, out/ — would show up there) and asserts: exit
-- code 2, nothing on stdout, exactly one line on stderr, that line starts with
-- "shijim", names the argument at fault (and the expected words), has no
-- traceback, and the working directory is still empty afterwards.
local proc = require "support.proc"

local STRAT = "scripts/strategies/ma_cross.lua"

-- { arguments (%A = a recorded archive root, %F = one of its day files), words the line must hold }
local CASES = {
  -- main.lua (the recorder)
  { "main.lua --date 2026/11/25", { "--date", "YYYY-MM-DD", "2026/11/25" } },
  { "main.lua --date 2026-13-45", { "--date", "2026-13-45 does not exist" } },
  { "main.lua --date 2026-02-29", { "--date", "does not exist", "February 2026 has 28 days" } },
  { "main.lua --rate -5", { "--rate", ">= 0", "-5" } },
  { "main.lua --duration 10 extra", { "unexpected argument 'extra'" } },
  { "main.lua --stocks 2330,FOO", { "--stocks", "'FOO' is not an instrument code" } },
  { "main.lua --kinds tick,trade", { "--kinds", "trade" } },
  { "main.lua --events 1e3x", { "--events", "1e3x" } },
  { "main.lua --nonsense", { "unknown option --nonsense" } },
  { "main.lua --rate", { "--rate needs a value" } },
  { "run main.lua --seed 1.5", { "--seed", "whole number" } },
  -- backtest.lua
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --from 25/11/2026", { "--from", "25/11/2026" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --param fast=abc", { "--param fast", "abc" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --param fast", { "--param", "key=value" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --param nope=1", { "--param", "nope" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --param fast=30", { "ma_cross", "fast must be < slow" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --bars 7q", { "--bars", "7q" } },
  { "backtest.lua --strategy nosuch.lua --archive-dir %A", { "--strategy", "nosuch.lua" } },
  { "backtest.lua --strategy " .. STRAT .. " --paper --rate -5", { "--rate", "-5" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A stray", { "unexpected argument 'stray'" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --from 2026-11-26 --to 2026-11-25",
    { "--from 2026-11-26 is after --to 2026-11-25" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --codes FOO", { "--codes", "'FOO'" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --events 1.5", { "--events", "whole number" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --speed fast", { "--speed", "fast" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --cash 0", { "--cash", "0" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --margin TXF=lots", { "--margin", "TXF=lots" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --files %A/nosuch.shjraw", { "--files", "nosuch.shjraw" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --sweep fast=3..4 --jobs 0", { "--jobs", "0" } },
  { "backtest.lua --strategy " .. STRAT .. " --archive-dir %A --sweep fast=3..4 --metric luck", { "--metric", "luck" } },
  { "backtest.lua --strategy " .. STRAT .. " --paper --sweep fast=3..4", { "--paper", "--sweep" } },
  { "backtest.lua --archive-dir %A", { "--strategy is required" } },
  -- replay.lua
  { "replay.lua --archive-dir %A --date 2026-11-31", { "--date", "2026-11-31 does not exist" } },
  { "replay.lua --archive-dir %A --date 2026-11-25 --from 2026-11-24", { "--date", "--from", "exclude" } },
  { "replay.lua --archive-dir %A --from 2026-11-26 --to 2026-11-25", { "--from", "after --to" } },
  { "replay.lua --archive-dir %A --workers 9", { "--workers", "9" } },
  { "replay.lua --archive-dir %A --kinds tick,bar", { "--kinds", "bar" } },
  { "replay.lua --archive-dir %A 2026-11-25", { "unexpected argument '2026-11-25'" } },
  -- verify.lua, simulate.lua, restore.lua, schema.lua
  { "verify.lua --dir %A --date 2026/11/25", { "--date", "2026/11/25" } },
  { "verify.lua --dir %A --date 2026-11-25 --source-id 0", { "--source-id", "0" } },
  { "simulate.lua --dir %A --days 0", { "--days", "0" } },
  { "simulate.lua --dir %A --from 2026-02-30", { "--from", "does not exist" } },
  { "simulate.lua --dir %A --codes 2330,FOO", { "--codes", "FOO" } },
  { "simulate.lua --dir %A --days 2 more", { "unexpected argument 'more'" } },
  { "restore.lua --fallback-dir %A --batch-size 0", { "--batch-size", "0" } },
  { "restore.lua --fallback-dir %A --seed-offset-h 30", { "--seed-offset-h", "30" } },
  { "schema.lua --print --db bad-name", { "--db" } },
  -- the C subcommands
  { "dump %F --codes 2330", { "shijim dump", "--codes" } },
  { "dump %A/nosuch.shjraw", { "shijim dump", "nosuch.shjraw" } },
  { "dump", { "shijim dump", "FILE" } },
  { "days --bogus", { "shijim days", "--bogus" } },
  { "days %A %A", { "shijim days", "one DIR" } },
  { "run nosuch.lua", { "script not found", "nosuch.lua" } },
  { "run", { "shijim run", "SCRIPT" } },
  { "--bogus", { "unknown option --bogus" } },
}

describe("usage errors", function()
  local archive, file, bin

  setup(function()
    archive = proc.tmpdir()
    local rc, _, err = proc.shijim(string.format(
      "run main.lua --events 3000 --rate 0 --seed 7 --date 2026-11-25 --stocks 2330 --futures TXFR1 --dir %s --quiet",
      archive))
    assert.are.equal(0, rc, err)
    local p = io.popen("ls " .. archive .. "/sim/*.shjraw")
    file = p:read("*l")
    p:close()
    assert.truthy(file, "no day file recorded")
    -- the old `dump FILE --codes X` printed this file's records before complaining
    local drc, out = proc.shijim("dump " .. file)
    assert.are.equal(0, drc)
    assert.is_true(#out > 0)
    bin = proc.bin:sub(1, 1) == "/" and proc.bin or (os.getenv("PWD") .. "/" .. proc.bin)
  end)

  teardown(function() os.execute("rm -rf " .. archive) end)

  for _, case in ipairs(CASES) do
    local args, words = case[1], case[2]
    it("shijim " .. args, function()
      local cwd = proc.tmpdir()
      local line = args:gsub("%%A", archive):gsub("%%F", file)
      -- one shell per case (the machine is shared): the run, then what it left
      os.execute(string.format("ls -lR %s > %s/.before; cd %s/w 2>/dev/null || { mkdir %s/w && cd %s/w; }; "
        .. "%s %s >../.out 2>../.err; echo $? >../.rc; ls -A >../.left; ls -lR %s >../.after",
        archive, cwd, cwd, cwd, cwd, bin, line, archive))
      local rc = tonumber(proc.read(cwd .. "/.rc"))
      local out, err, left = proc.read(cwd .. "/.out"), proc.read(cwd .. "/.err"), proc.read(cwd .. "/.left")
      local sum_before, sum_after = proc.read(cwd .. "/.before"), proc.read(cwd .. "/.after")
      os.execute("rm -rf " .. cwd)
      assert.are.equal(2, rc, "exit code; stderr: " .. err)
      assert.are.equal("", out, "stdout")
      local n = select(2, err:gsub("\n", ""))
      assert.are.equal(1, n, "stderr lines:\n" .. err)
      assert.truthy(err:match("^shijim[ :]"), err)
      assert.falsy(err:find("traceback", 1, true), err)
      assert.truthy(err:find("try --help", 1, true), err)
      for _, w in ipairs(words) do
        assert.truthy(err:find(w, 1, true), "'" .. w .. "' not in: " .. err)
      end
      assert.are.equal("", left, "written into the working directory")
      assert.are.equal(sum_before, sum_after, "the archive directory changed")
    end)
  end
end)
