-- shijim.source_replay — the replay source for Lua (shijim.source.replay{...}).
--
--   local src = shijim.source.replay{ dir = "data/raw", source = "sim",
--                                     from = "2026-11-23", to = "2026-11-25",
--                                     codes = {"2330", "TXFR1"}, speed = "max" }
--   shijim.on("tick", function(ev) ... end)
--   shijim.run()            -- returns when the archive is played to the end
--
-- opts:
--   dir       archive root (default "data/raw")
--   source    the recording source's sub-directory (default "sim")
--   date      one trading day "YYYY-MM-DD" (same as from = to = date)
--   from, to  inclusive date range (default: every file of the source)
--   files     explicit archive files (a list or a comma-separated string),
--             played in the order given; dir/source/dates are then ignored
--   codes     filter (list or "2330,TXFR1"; aliases resolve for the payloads' trading date);
--             src:subscribe{...} adds codes too; none = everything
--   speed     "max" (default) or a number: 1 = real time, 10 = 10x
--   progress  true/false; default: only when stderr is a terminal
--   mark      set the replay flag on events (default true)
--   name      source name (default "replay")
--   workers   threads that read and parse ahead: 1..4, default by core count
--             (2..4), false = parse on the loop thread (same events either way)
-- The source object is a normal shijim source plus src:stats() (files,
-- records, filtered, delivered, bad_files, live_files (still being recorded:
-- played up to the block being written), bytes_total, bytes_done, done).
local ffi = require "ffi"

local function list_text(v)
  if v == nil then return "" end
  if type(v) == "table" then return table.concat(v, ",") end
  return tostring(v)
end

return function(opts, shijim)
  opts = opts or {}
  shijim = shijim or require "shijim"
  local sffi = shijim.ffi or require "shijim.ffi"
  local C = sffi.C
  local speed = opts.speed
  if speed == nil or speed == "max" then speed = 0 end
  if type(speed) ~= "number" then error("replay: speed must be \"max\" or a number", 3) end
  local from, to = opts.from, opts.to
  if opts.date then from, to = opts.date, opts.date end
  local workers = opts.workers or 0
  if workers == false then workers = -1 end
  if type(workers) ~= "number" or workers < -1 or workers > 4 or workers % 1 ~= 0 then
    error("replay: workers must be 1..4, 0 (by core count) or false (parse on the loop)", 3)
  end
  local progress = -1
  if opts.progress == true then progress = 1 elseif opts.progress == false then progress = 0 end
  local ptr = C.rpl_new_text(opts.name or "replay", list_text(opts.files), opts.dir or "data/raw",
                             opts.source or "sim", from, to, list_text(opts.codes), speed, progress,
                             opts.mark == false and 0 or 1, workers, sffi.errbuf, sffi.ERRLEN)
  local src = shijim.wrap_source(ptr)
  local st = ffi.new("rpl_stats")
  function src:stats()
    C.rpl_get_stats(self.ptr, st)
    return {
      files = tonumber(st.files), files_done = tonumber(st.files_done),
      bad_files = tonumber(st.bad_files), live_files = tonumber(st.live_files),
      damaged_ranges = tonumber(st.damaged_ranges), damaged_bytes = tonumber(st.damaged_bytes),
      records = tonumber(st.records),
      filtered = tonumber(st.filtered), delivered = tonumber(st.delivered),
      bytes_total = tonumber(st.bytes_total), bytes_done = tonumber(st.bytes_done),
      done = st.done ~= 0,
    }
  end
  return src
end
