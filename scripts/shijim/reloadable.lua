-- shijim/reloadable.lua — the reloadable part of main.lua (issue 12, part 7).
--
-- Owns: the subscription set and the script handlers that come from a config
-- file (main.lua --config FILE), and swapping them on SIGHUP or
-- shijim.reload(). The raw archive and the ClickHouse route are main.lua's
-- and are never touched here, so a reload never reopens the archive.
--
-- Guarantees (the bridge calls the reload hook between two bus batches, so
-- everything below happens at one point of the event stream):
--   * the new file loads in a fresh environment; a syntax or runtime error,
--     a bad field, or a handler that fails to register raises with file:line
--     and leaves the old config, handlers and subscriptions exactly as they were;
--   * subscriptions are diffed: new codes subscribed, removed codes
--     unsubscribed, unchanged ones untouched (their events keep flowing);
--   * new handlers are registered before the old ones are removed, both in
--     the same gap between batches: every event reaches exactly one version.
--
-- Config file: a Lua chunk returning
--   { stocks = {"2330", ...}, futures = {"TXFR1", ...}, kinds = {"tick", "bidask"},
--     handlers = function(shijim, src) shijim.on(...); shijim.every(...) end }
-- every field optional (missing lists: main.lua's command-line values).
-- Groups: "stocks" and "futures" (shijim/schedule.lua opens/closes them).
local M = {}

local GROUP_KEY = { stocks = "stocks", futures = "futures" }
M.GROUPS = { "stocks", "futures" }

local function is_list_of_strings(v)
  if type(v) ~= "table" then return false end
  for k, x in pairs(v) do
    if type(k) ~= "number" or type(x) ~= "string" then return false end
  end
  return true
end

-- Load and check a config file. Returns the table, or nil and "file:line: why".
function M.load(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  -- a fresh environment: globals the file sets do not leak into the next version
  setfenv(chunk, setmetatable({}, { __index = _G }))
  local ok, cfg = pcall(chunk)
  if not ok then return nil, tostring(cfg) end
  if type(cfg) ~= "table" then return nil, path .. ": must return a table {stocks = ..., futures = ...}" end
  for _, f in ipairs({ "stocks", "futures", "kinds" }) do
    if cfg[f] ~= nil and not is_list_of_strings(cfg[f]) then
      return nil, path .. ": field '" .. f .. "' must be a list of strings"
    end
  end
  if cfg.handlers ~= nil and type(cfg.handlers) ~= "function" then
    return nil, path .. ": field 'handlers' must be a function(shijim, src)"
  end
  return cfg
end

local R = {}
R.__index = R

-- opts: path (config file or nil), defaults { stocks, futures, kinds }, log(text).
-- Raises (file:line) when the first load fails: a bad config at start is fatal.
function M.new(shijim, src, opts)
  local self = setmetatable({
    shijim = shijim, src = src, path = opts.path, defaults = opts.defaults or {},
    log = opts.log or shijim.log,
    applied = { stocks = {}, futures = {} },  -- group -> code -> kinds text, as subscribed
    opened = {},                              -- group -> true while its market is scheduled
    handler_ids = {}, timer_ids = {},
    refused = {},  -- "code: why" of every subscribe the source refused
    version = 0,
  }, R)
  local cfg = {}
  if self.path then
    local err
    cfg, err = M.load(self.path)
    if not cfg then error(err, 0) end
  end
  local ids, tids, err = self:register(cfg)
  if not ids then error(err, 0) end
  self.cfg, self.handler_ids, self.timer_ids, self.version = cfg, ids, tids, 1
  return self
end

-- The subscription set a config wants for group: code -> kinds text.
function R:wanted(cfg, group)
  local codes = cfg[GROUP_KEY[group]] or self.defaults[GROUP_KEY[group]] or {}
  local kinds = cfg.kinds or self.defaults.kinds or { "tick", "bidask" }
  local k = table.concat(kinds, ",")
  local out = {}
  for _, c in ipairs(codes) do out[c] = k end
  return out
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

local function split(kinds)
  local out = {}
  for k in kinds:gmatch("[^,]+") do out[#out + 1] = k end
  return out
end

-- Make the source's subscriptions of group match the config (none when the
-- group is closed). A code the source refuses is logged and skipped; the
-- others still apply. Returns lists of codes added and removed.
function R:sync(group)
  local want = self.opened[group] and self:wanted(self.cfg, group) or {}
  local have = self.applied[group]
  local added, removed = {}, {}
  local function sub(code, kinds)
    local ok, err = pcall(self.src.subscribe, self.src, { [GROUP_KEY[group]] = { code }, kinds = split(kinds) })
    if ok then
      have[code] = kinds
      added[#added + 1] = code
    else
      self.refused[#self.refused + 1] = code .. ": " .. tostring(err)
      self.log("subscribe " .. code .. " failed: " .. tostring(err))
    end
  end
  local function unsub(code)
    local ok, err = pcall(self.src.unsubscribe, self.src, { [GROUP_KEY[group]] = { code }, kinds = split(have[code]) })
    if not ok then self.log("unsubscribe " .. code .. " failed: " .. tostring(err)) end
    have[code] = nil
    removed[#removed + 1] = code
  end
  for _, code in ipairs(sorted_keys(want)) do
    if have[code] ~= want[code] then
      if have[code] then unsub(code) end -- kinds changed: resubscribe
      sub(code, want[code])
    end
  end
  for _, code in ipairs(sorted_keys(have)) do
    if not want[code] then unsub(code) end
  end
  return added, removed
end

function R:open(group)
  self.opened[group] = true
  return self:sync(group)
end

function R:close(group)
  self.opened[group] = nil
  return self:sync(group)
end

-- Register cfg's handlers through a proxy that remembers their ids. On an
-- error the ones already registered are removed: returns nil, "why".
function R:register(cfg)
  local ids, tids = {}, {}
  if not cfg.handlers then return ids, tids end
  local sh = self.shijim
  local proxy = setmetatable({
    on = function(f, fn) local id = sh.on(f, fn); ids[#ids + 1] = id; return id end,
    every = function(ms, fn) local id = sh.every(ms, fn); tids[#tids + 1] = id; return id end,
    after = function(ms, fn) local id = sh.after(ms, fn); tids[#tids + 1] = id; return id end,
  }, { __index = sh })
  local ok, err = pcall(cfg.handlers, proxy, self.src)
  if not ok then
    for _, id in ipairs(ids) do sh.off(id) end
    for _, id in ipairs(tids) do pcall(sh.cancel, id) end
    return nil, nil, tostring(err)
  end
  return ids, tids
end

-- The reload hook (shijim.on_reload): raises "file:line: why" (the bridge
-- logs "reload failed, old script kept") or swaps everything in one step.
function R:reload()
  if not self.path then
    self.log("reload: no --config file; nothing to reload")
    return
  end
  local cfg, err = M.load(self.path)
  if not cfg then error(err, 0) end
  local ids, tids, rerr = self:register(cfg)
  if not ids then error(rerr, 0) end
  for _, id in ipairs(self.handler_ids) do self.shijim.off(id) end
  for _, id in ipairs(self.timer_ids) do pcall(self.shijim.cancel, id) end
  self.cfg, self.handler_ids, self.timer_ids = cfg, ids, tids
  self.version = self.version + 1
  local parts = {}
  for _, g in ipairs(M.GROUPS) do
    local added, removed = self:sync(g)
    parts[#parts + 1] = string.format("%s +%s -%s", g, table.concat(added, ","), table.concat(removed, ","))
  end
  self.log(string.format("reload: %s version %d applied (%d handlers; %s)", self.path, self.version, #ids,
    table.concat(parts, "; ")))
end

function R:attach()
  self.shijim.on_reload(function() self:reload() end)
end

return M
