-- shijim.source_shioaji — the live Shioaji source: Shioaji's own HTTP + SSE server,
-- reached by the C runtime (libcurl on the libev loop). Loaded by shijim.source.shioaji.
--
--   local src = shijim.source.shioaji{ url = "http://127.0.0.1:8080" }
--   local src = shijim.source.shioaji{ socket = os.getenv("HOME") .. "/.shioaji/sessions/server-8080.sock",
--                                      stream = "per_kind" }
--   src:subscribe{ stocks = {"2330", "6488"}, futures = {"TXFR1"}, kinds = {"tick", "bidask"} }
--   shijim.on("status", function(ev) shijim.log(ev:status_name(), ev:symbol(), ffi.string(ev.detail)) end)
--
-- opts:
--   url                  server base URL (default http://127.0.0.1:8080; http://localhost with a socket)
--   socket               Unix socket path of the server (then url only names the host)
--   stream               "combined" (one /stream/data) or "per_kind" (one stream per event kind)
--   heartbeat_timeout_s  no byte for this long = dead stream, reconnect (default 75; Shioaji beats every 30 s)
--   name                 source name (archive sub-directory, logs; default "shioaji")
--   backoff_initial_s, backoff_max_s   reconnect backoff (0.5 s doubling to 30 s, jittered)
--   rate_limit, rate_window_s          REST pacing (45 calls per 5 s, under Shioaji's ~50 per 5 s)
--   backfill, backfill_delay_s         fill stream gaps from /api/v1/data/ticks (off by default)
--   backfill_defer       true (default): no backfill query while the market is open (Sinopac allows 10
--                        intraday ticks queries); jobs wait for backfill_retry_at
--   backfill_intraday_max  ticks queries per trading day in session when not deferred (10)
--   usage_poll_s         poll /api/v1/auth/usage this often (300) for the status line and quota checks
--   backfill_max_queries, backfill_window_s   backfill query budget (50 per 10 s); jobs over it are
--                        queued and retried as the window frees
--   backfill_retry_at    "HH:MM" Taipei (default "13:50", after the day close): when jobs the server
--                        refused for a usage/quota limit are retried
--   send_auth            accepted for old scripts; credentials are sent whenever they are set
--   auth_retry_s         0 (default): a 401/403 stops the run with an error (non-zero exit);
--                        > 0: retry that slowly instead
--   ban_wait_s           after a 503 "操作異常，請1分鐘後再重新登入" ban, send nothing for this long (60)
--   health_poll_s        poll /api/v1/health this often (60); a moved last_maintenance resubscribes all
--   silence_s            heartbeats only for a subscription this long on an open market = resubscribe (120)
--   market_hours         false: count silence at any hour (tests)
--   connect_timeout_s, request_timeout_s, max_retries
-- Credentials come only from the environment (SHIOAJI_API_KEY / SHIOAJI_SECRET_KEY, or SJ_API_KEY /
-- SJ_SEC_KEY), read by the C runtime and never logged; a script that passes them is refused.
--
-- Besides the common source methods (subscribe, unsubscribe, counter), the object has
--   src:resolve(code)      real month code of an alias once the server answered ("TXFL6"), else nil
--   src:connection()       one line: streams open, subscriptions, errors, reconnects, gaps
--   src:stats()            table of the connection counters (reconnects, gaps, subscribe_errors, ...)
--   src:server()           version, simulation (true/false/nil) from /api/v1/info
local ffi = require "ffi"
local sffi = require "shijim.ffi"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN
local ffi_string, type, pairs, tonumber = ffi.string, type, pairs, tonumber

-- Numeric/boolean tuning options handed to sj_set.
local TUNING = {
  backoff_initial_s = true, backoff_max_s = true, rate_limit = true, rate_window_s = true,
  send_auth = true, backfill = true, backfill_delay_s = true, connect_timeout_s = true,
  request_timeout_s = true, max_retries = true,
  backfill_max_queries = true, backfill_window_s = true, backfill_retry_at = true,
  auth_retry_s = true, ban_wait_s = true, health_poll_s = true, silence_s = true, market_hours = true,
  backfill_defer = true, backfill_intraday_max = true, usage_poll_s = true,
}
local KNOWN = { url = true, socket = true, stream = true, heartbeat_timeout_s = true, name = true }
local SECRET_KEYS = { "api_key", "secret_key", "sec_key", "key", "secret", "password", "token" }
local COUNTERS = { "reconnects", "gaps", "subscribe_errors", "subscribed", "requests", "rate_waits",
                   "bytes", "unknown_names", "backfilled", "backfill_requests", "streams_open",
                   "resubscribed", "backfill_queued", "backfill_deferred", "backfill_refusals",
                   "bans", "auth_refusals", "maintenances", "silences", "alias_changes",
                   "quota_exhausted", "empty_answers" }

local code_buf = ffi.new("char[16]")
local line_buf = ffi.new("char[256]")

local methods = {}

function methods.resolve(self, code)
  if C.sj_resolved(self.ptr, code, code_buf) == 1 then return ffi_string(code_buf) end
  return nil
end

function methods.connection(self)
  local n = C.sj_status_line(self.ptr, line_buf, 256)
  return ffi_string(line_buf, n)
end

function methods.stats(self)
  local t = {}
  for _, name in ipairs(COUNTERS) do t[name] = tonumber(C.sj_counter(self.ptr, name)) end
  return t
end

function methods.server(self)
  local sim = C.sj_simulation(self.ptr)
  return { version = ffi_string(C.sj_server_version(self.ptr)),
           simulation = sim == 1 and true or (sim == 0 and false or nil) }
end

return function(opts, shijim)
  shijim = shijim or require "shijim"
  if type(opts) ~= "table" then error("shijim.source.shioaji: expected an options table", 3) end
  for _, k in ipairs(SECRET_KEYS) do
    if opts[k] ~= nil then
      error("shijim.source.shioaji: credentials come only from the environment " ..
            "(SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY or SJ_API_KEY/SJ_SEC_KEY), never from a script", 3)
    end
  end
  for k in pairs(opts) do
    if not KNOWN[k] and not TUNING[k] then
      error("shijim.source.shioaji: unknown option '" .. tostring(k) .. "'", 3)
    end
  end
  local stream = opts.stream or "combined"
  if stream ~= "combined" and stream ~= "per_kind" then
    error("shijim.source.shioaji: stream must be \"combined\" or \"per_kind\", not \"" .. tostring(stream) .. "\"", 3)
  end
  if opts.url ~= nil and type(opts.url) ~= "string" then error("shijim.source.shioaji: url must be a string", 3) end
  if opts.socket ~= nil and type(opts.socket) ~= "string" then
    error("shijim.source.shioaji: socket must be a string", 3)
  end
  local hb = opts.heartbeat_timeout_s or 0
  if type(hb) ~= "number" then error("shijim.source.shioaji: heartbeat_timeout_s must be a number", 3) end

  local ptr = C.sj_new(opts.name or "shioaji", opts.url, opts.socket, stream, hb, errbuf, ERRLEN)
  if ptr == nil then error("shijim.source.shioaji: " .. sffi.errtext(), 3) end
  for key in pairs(TUNING) do
    local v = opts[key]
    if v ~= nil then
      if type(v) == "boolean" then v = v and 1 or 0 end
      if key == "backfill_retry_at" and type(v) == "string" then
        -- "13:50" -> 1350, the form the C side takes
        local h, m = v:match("^(%d%d?):(%d%d)$")
        v = h and tonumber(h) * 100 + tonumber(m) or v
      end
      if type(v) ~= "number" or C.sj_set(ptr, key, v, errbuf, ERRLEN) ~= 0 then
        local why = type(v) ~= "number" and ("must be a number or boolean") or sffi.errtext()
        C.shj_src_free(ptr)
        error("shijim.source.shioaji: option " .. key .. ": " .. why, 3)
      end
    end
  end
  local extra = { kind = "shioaji" }
  for name, fn in pairs(methods) do extra[name] = fn end
  return shijim.wrap_source(ptr, extra)
end
