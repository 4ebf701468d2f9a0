-- shijim.cli — command-line options for Shijim's scripts (main, restore, backtest ...).
--
--   local opts = cli.parse(arg, {
--     usage = "shijim run main.lua [options]",
--     { "--duration", "number", "stop after N seconds (0 = run until Ctrl-C)", default = 0 },
--     { "--apply", "flag", "really write (default: dry run)" },
--   })
--
-- Accepts --name value and --name=value; --help prints the generated help and
-- exits 0; an unknown option or a bad value prints one line and exits 2.
local M = {}

local function fail(msg)
  io.stderr:write("shijim: ", msg, " (try --help)\n")
  os.exit(2)
end

-- A default as the user would type it: lists comma-separated.
local function shown_default(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return table.concat(parts, ",")
  end
  return tostring(v)
end

function M.help_text(spec)
  local lines = { "usage: " .. (spec.usage or "shijim SCRIPT.lua [options]") }
  if spec.description then lines[#lines + 1] = "" ; lines[#lines + 1] = spec.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  for _, o in ipairs(spec) do
    local left = o[1] .. (o[2] == "flag" and "" or (" " .. (o.metavar or o[2]:upper())))
    local default = o.default ~= nil and o[2] ~= "flag" and ("  (default: " .. shown_default(o.default) .. ")") or ""
    lines[#lines + 1] = string.format("  %-28s %s%s", left, o[3] or "", default)
  end
  lines[#lines + 1] = string.format("  %-28s %s", "--help", "show this help")
  return table.concat(lines, "\n") .. "\n"
end

local function convert(o, raw)
  if o[2] == "number" then
    local v = tonumber(raw)
    if not v then fail(o[1] .. " expects a number, got '" .. tostring(raw) .. "'") end
    return v
  elseif o[2] == "list" then
    local out = {}
    for item in tostring(raw):gmatch("[^,%s]+") do out[#out + 1] = item end
    return out
  end
  return raw
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
  local i = 1
  argv = argv or {}
  while i <= #argv do
    local a = argv[i]
    if a == "--help" or a == "-h" then
      io.stdout:write(M.help_text(spec))
      os.exit(0)
    end
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
        if o.choices then
          local ok = false
          for _, c in ipairs(o.choices) do if c == raw then ok = true end end
          if not ok then fail(name .. " must be one of " .. table.concat(o.choices, ", ") .. ", got '" .. raw .. "'") end
        end
        opts[o.key] = convert(o, raw)
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      fail("unknown option " .. a)
    else
      opts.args[#opts.args + 1] = a
    end
    i = i + 1
  end
  for _, o in ipairs(spec) do
    if o.required and opts[o.key] == nil then fail(o[1] .. " is required") end
  end
  return opts
end

return M
