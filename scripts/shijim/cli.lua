-- shijim.cli — the one argument-checking path of Shijim's scripts (main,
-- restore, backtest, replay, schema, simulate, verify).
--
--   local opts = cli.parse(arg, {
--     usage = "shijim run main.lua [options]",
--     { "--duration", "number", "stop after N seconds (0 = run until Ctrl-C)", default = 0, min = 0 },
--     { "--date", "date", "trading date" },
--     { "--apply", "flag", "really write (default: dry run)" },
--     ranges = { { "from", "to" } },            -- --from <= --to
--     exclusive = { { "date", "from" } },       -- not both
--     check = function(opts) return nil end,    -- any other rule: return a message to refuse
--   })
--
-- Types: flag, string, number (min/max/integer), int (a whole number), date
-- (YYYY-MM-DD that exists), list (comma-separated), codes (list of instrument
-- codes: stock 2330, future TXFL6 / alias TXFR1, option TXO23000L6), kv (list
-- of key=value), file (must exist; resolve = fn(path) -> found path or nil).
-- An option may add choices (every value, list items too) and check = fn(value)
-- -> nil or a message. Positional arguments are refused unless the spec says
-- args = N (at most N) or args = "*".
--
-- Accepts --name value and --name=value; --help prints the generated help and
-- exits 0. EVERY argument is checked before the script does any work: an
-- unknown option or a bad value prints exactly one line on stderr,
-- "shijim: <what> (try --help)", and exits 2 (no traceback).
local M = {}

local function fail(msg)
  io.stderr:write("shijim: ", (tostring(msg):gsub("[\r\n]+", " ")), " (try --help)\n")
  io.stderr:flush()
  os.exit(2)
end
-- For the rules a script checks itself after parse: the same one line, exit 2.
M.usage_error = fail

-- A default as the user would type it: lists comma-separated.
local function shown_default(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return table.concat(parts, ",")
  end
  return tostring(v)
end

local METAVAR = { date = "YYYY-MM-DD", codes = "A,B", kv = "K=V,...", file = "FILE", int = "N", number = "N" }

function M.help_text(spec)
  local lines = { "usage: " .. (spec.usage or "shijim SCRIPT.lua [options]") }
  if spec.description then lines[#lines + 1] = "" ; lines[#lines + 1] = spec.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  for _, o in ipairs(spec) do
    local left = o[1] .. (o[2] == "flag" and "" or (" " .. (o.metavar or METAVAR[o[2]] or o[2]:upper())))
    local default = o.default ~= nil and o[2] ~= "flag" and ("  (default: " .. shown_default(o.default) .. ")") or ""
    lines[#lines + 1] = string.format("  %-28s %s%s", left, o[3] or "", default)
  end
  lines[#lines + 1] = string.format("  %-28s %s", "--help", "show this help")
  return table.concat(lines, "\n") .. "\n"
end

-- Validators -------------------------------------------------------------------------------

local MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December" }

local function days_in(y, m)
  if m == 2 then return (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28 end
  return ({ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
end

-- "YYYY-MM-DD" naming a real day -> y, m, d; else nil and why.
function M.check_date(text)
  local y, m, d = tostring(text):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil, "expects a date YYYY-MM-DD, got '" .. tostring(text) .. "'" end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 then return nil, string.format("%s does not exist (there is no month %d)", text, m) end
  if d < 1 or d > days_in(y, m) then
    return nil, string.format("%s does not exist (%s %d has %d days)", text, MONTHS[m], y, days_in(y, m))
  end
  if y < 1970 then return nil, text .. " is before 1970" end
  return y, m, d
end

-- A plain decimal number (no hex, inf or nan) -> number, else nil.
local function decimal(raw)
  raw = tostring(raw)
  if not (raw:match("^[+-]?%d+%.?%d*$") or raw:match("^[+-]?%.%d+$") or
          raw:match("^[+-]?%d+%.?%d*[eE][+-]?%d+$")) then return nil end
  return tonumber(raw)
end
M.number = decimal

local function number_rule(o)
  local parts = {}
  if o[2] == "int" or o.integer then parts[#parts + 1] = "a whole number" else parts[#parts + 1] = "a number" end
  if o.min and o.max then parts[#parts + 1] = string.format("%s..%s", o.min, o.max)
  elseif o.min then parts[#parts + 1] = (o.min == 0 and ">= 0") or (">= " .. o.min)
  elseif o.max then parts[#parts + 1] = "<= " .. o.max end
  return table.concat(parts, " ")
end

-- 1 when code has the shape of an instrument Shijim knows (core/contract.h).
function M.is_code(code)
  local C = require("shijim.ffi").C
  return C.ctr_is_stock(code) == 1 or C.ctr_is_future(code) == 1 or C.ctr_is_option(code) == 1
      or code:match("^%u[%u%d][%u%d]%d%d%d+%u?$") ~= nil -- an option's long symbol (TXO20260526900C)
end

local function split_list(raw)
  local out = {}
  for item in tostring(raw):gmatch("[^,%s]+") do out[#out + 1] = item end
  return out
end

local function convert(o, name, raw)
  local t = o[2]
  if t == "number" or t == "int" then
    local v = decimal(raw)
    local bad = not v or ((t == "int" or o.integer) and v ~= math.floor(v)) or (o.min and v < o.min)
                or (o.max and v > o.max)
    if bad then fail(string.format("%s expects %s, got '%s'", name, number_rule(o), tostring(raw))) end
    return v
  elseif t == "date" then
    local y, why = M.check_date(raw)
    if not y then fail(name .. (why:match("^expects") and " " or ": ") .. why) end
    return raw
  elseif t == "list" or t == "codes" or t == "kv" then
    local out = split_list(raw)
    if #out == 0 and o.nonempty then fail(name .. " expects a comma-separated list, got '" .. tostring(raw) .. "'") end
    for _, item in ipairs(out) do
      if t == "codes" and not M.is_code(item) then
        fail(string.format("%s: '%s' is not an instrument code (stock 2330, future TXFL6 or alias TXFR1, " ..
                           "option TXO23000L6)", name, item))
      elseif t == "kv" and not item:match("^[%w_%.]+=.") then
        fail(string.format("%s expects key=value, got '%s'", name, item))
      end
    end
    return out
  elseif t == "file" then
    local found = raw
    if o.resolve then
      found = o.resolve(raw)
    else
      local f = io.open(raw, "r")
      if f then f:close() else found = nil end
    end
    if not found then fail(string.format("%s: no such file '%s'", name, raw)) end
    return found
  end
  return raw
end

local function check_choices(o, name, v)
  if not o.choices then return end
  local items = type(v) == "table" and v or { v }
  for _, x in ipairs(items) do
    local ok = false
    for _, c in ipairs(o.choices) do if c == x then ok = true end end
    if not ok then fail(name .. " must be one of " .. table.concat(o.choices, ", ") .. ", got '" .. x .. "'") end
  end
end

-- Returns a table keyed by option name without dashes ("--batch-size" -> batch_size),
-- plus positional arguments in .args.
function M.parse(argv, spec)
  local byname, opts = {}, { args = {} }
  for _, o in ipairs(spec) do
    byname[o[1]] = o
    local key = o[1]:gsub("^%-%-", ""):gsub("%-", "_")
    o.key = key
    if o.default ~= nil then opts[key] = o.default elseif o[2] == "flag" then opts[key] = false end
  end
  argv = argv or {}
  for _, a in ipairs(argv) do -- --help wins wherever it is, even after a bad value
    if a == "--help" or a == "-h" then
      io.stdout:write(M.help_text(spec))
      os.exit(0)
    end
  end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w%-]+)=(.*)$")
    name = name or a
    local o = byname[name]
    if o then
      if o[2] == "flag" then
        if inline then fail(name .. " takes no value") end
        opts[o.key] = true
        if o.sets then for k, v in pairs(o.sets) do opts[k] = v end end
      else
        local raw = inline
        if not raw then
          i = i + 1
          raw = argv[i]
          if raw == nil then fail(name .. " needs a value") end
        end
        local v = convert(o, name, raw)
        check_choices(o, name, v)
        if o.check then
          local why = o.check(v)
          if why then fail(name .. ": " .. why) end
        end
        opts[o.key] = v
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      fail("unknown option " .. a)
    else
      opts.args[#opts.args + 1] = a
    end
    i = i + 1
  end
  local max_args = spec.args or 0
  if max_args ~= "*" and #opts.args > max_args then
    fail("unexpected argument '" .. opts.args[max_args + 1] .. "'")
  end
  for _, o in ipairs(spec) do
    if o.required and opts[o.key] == nil then fail(o[1] .. " is required") end
  end
  for _, pair in ipairs(spec.exclusive or {}) do
    local a, b = pair[1], pair[2]
    if opts[a] ~= nil and opts[a] ~= false and opts[b] ~= nil and opts[b] ~= false then
      fail(string.format("--%s and --%s exclude each other", (a:gsub("_", "-")), (b:gsub("_", "-"))))
    end
  end
  for _, pair in ipairs(spec.ranges or {}) do
    local a, b = opts[pair[1]], opts[pair[2]]
    if a ~= nil and b ~= nil and a > b then
      fail(string.format("--%s %s is after --%s %s", (pair[1]:gsub("_", "-")), tostring(a),
                         (pair[2]:gsub("_", "-")), tostring(b)))
    end
  end
  if spec.check then
    local why = spec.check(opts)
    if why then fail(why) end
  end
  return opts
end

return M
