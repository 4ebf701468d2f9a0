-- cli_validate_spec — shijim.cli's typed validators in-process: what they accept
-- and convert, and that each refusal is one usage error (exit 2) naming the option.
local cli = require "shijim.cli"

-- Run cli.parse with os.exit and stderr captured: returns opts, or nil, code, message.
local function parse(argv, spec)
  local real_exit, real_stderr = os.exit, io.stderr
  local msg = {}
  io.stderr = { write = function(_, ...) for _, p in ipairs({ ... }) do msg[#msg + 1] = p end end, flush = function() end }
  os.exit = function(code) error({ exit = code }, 0) end
  local ok, res = pcall(cli.parse, argv, spec)
  os.exit, io.stderr = real_exit, real_stderr
  if ok then return res end
  assert(type(res) == "table", tostring(res))
  return nil, res.exit, table.concat(msg)
end

local SPEC = {
  { "--date", "date", "a day" },
  { "--from", "date", "first" },
  { "--to", "date", "last" },
  { "--rate", "number", "rate", default = 5, min = 0 },
  { "--jobs", "int", "jobs", min = 1, max = 8 },
  { "--codes", "codes", "codes" },
  { "--param", "kv", "params" },
  { "--kinds", "list", "kinds", choices = { "tick", "bidask" } },
  { "--apply", "flag", "apply" },
  ranges = { { "from", "to" } },
  exclusive = { { "date", "from" } },
}

describe("shijim.cli validators", function()
  it("accepts and converts good values, --name=value too", function()
    local o = assert(parse({ "--date=2028-02-29", "--rate", "0.5", "--jobs", "8", "--codes", "2330,TXFR1",
                             "--param", "fast=3,slow=10", "--kinds", "tick", "--apply" }, SPEC))
    assert.are.equal("2028-02-29", o.date) -- a leap day
    assert.are.equal(0.5, o.rate)
    assert.are.equal(8, o.jobs)
    assert.are.same({ "2330", "TXFR1" }, o.codes)
    assert.are.same({ "fast=3", "slow=10" }, o.param)
    assert.are.same({ "tick" }, o.kinds)
    assert.is_true(o.apply)
    o = assert(parse({ "--from", "2026-11-25", "--to", "2026-11-25" }, SPEC)) -- from == to is a range
    assert.are.equal(5, o.rate)
  end)

  it("refuses each bad value with exit 2 and one line naming the option", function()
    local bad = {
      { { "--date", "2026-11-31" }, "--date: 2026-11-31 does not exist (November 2026 has 30 days)" },
      { { "--date", "20261125" }, "--date expects a date YYYY-MM-DD, got '20261125'" },
      { { "--rate", "-0.1" }, "--rate expects a number >= 0, got '-0.1'" },
      { { "--rate", "0x10" }, "--rate expects a number" },
      { { "--rate", "nan" }, "--rate expects a number" },
      { { "--jobs", "9" }, "--jobs expects a whole number 1..8, got '9'" },
      { { "--jobs", "2.5" }, "--jobs expects a whole number" },
      { { "--codes", "2330,XYZ" }, "--codes: 'XYZ' is not an instrument code" },
      { { "--param", "fast" }, "--param expects key=value, got 'fast'" },
      { { "--kinds", "tick,bar" }, "--kinds must be one of tick, bidask, got 'bar'" },
      { { "--apply=yes" }, "--apply takes no value" },
      { { "--from", "2026-11-26", "--to", "2026-11-25" }, "--from 2026-11-26 is after --to 2026-11-25" },
      { { "--date", "2026-11-25", "--from", "2026-11-24" }, "--date and --from exclude each other" },
      { { "stray" }, "unexpected argument 'stray'" },
      { { "--jobs" }, "--jobs needs a value" },
    }
    for _, case in ipairs(bad) do
      local o, code, msg = parse(case[1], SPEC)
      assert.is_nil(o, table.concat(case[1], " "))
      assert.are.equal(2, code)
      assert.truthy(msg:find(case[2], 1, true), msg)
      assert.are.equal(1, select(2, msg:gsub("\n", "")), msg)
      assert.truthy(msg:match("^shijim: .* %(try %-%-help%)\n$"), msg)
    end
  end)

  it("allows positional arguments only when the spec says so", function()
    local spec = { { "--x", "string", "x" }, args = "*" }
    assert.are.same({ "a", "b" }, assert(parse({ "a", "--x", "1", "b" }, spec)).args)
    spec.args = 1
    local _, code, msg = parse({ "a", "b" }, spec)
    assert.are.equal(2, code)
    assert.truthy(msg:find("unexpected argument 'b'", 1, true), msg)
  end)

  it("check_date knows the calendar", function()
    assert.are.same({ 2024, 2, 29 }, { cli.check_date("2024-02-29") })
    assert.is_nil((cli.check_date("2100-02-29")))
    assert.is_nil((cli.check_date("2026-00-10")))
    assert.is_nil((cli.check_date("2026-04-31")))
  end)
end)
