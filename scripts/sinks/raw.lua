-- sinks.raw — the raw archive: every payload a source delivers, as delivered.
--
--   shijim.route(src, require("sinks.raw"){ dir = "data/raw", fsync_ms = 100 })
--
-- opts: dir ("data/raw"), fsync_ms (100: a record is fsynced at most this
-- long after it arrived), fsync_records (0 = no count limit), compress
-- (true = lz4 blocks). Files: <dir>/<source>/<YYYY-MM-DD>.shjraw
-- (format and durability promise: docs/raw-archive.md).
local sffi = require "shijim.ffi"

local C, errbuf, ERRLEN = sffi.C, sffi.errbuf, sffi.ERRLEN

return function(opts)
  opts = opts or {}
  local sink = {
    kind = "raw",
    dir = opts.dir or "data/raw",
    fsync_ms = opts.fsync_ms or 100,
    fsync_records = opts.fsync_records or 0,
    compress = opts.compress == false and 0 or 1,
  }
  function sink:attach(src)
    local rc = C.shj_route_raw(src.ptr, self.dir, self.fsync_ms, self.fsync_records, self.compress,
                               errbuf, ERRLEN)
    if rc ~= 0 then error("sinks.raw: " .. sffi.errtext(), 3) end
  end
  return sink
end
