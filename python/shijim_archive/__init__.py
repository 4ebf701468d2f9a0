"""shijim_archive — read Shijim's raw archive (.shjraw) from Python.

    import shijim_archive as sa
    dfs, report = sa.read_frames("data/raw", source="sim", date="2026-11-25")
    ticks = dfs["tick"]                       # prices: int64 x 10^6 (sa.PRICE_SCALE)
    ticks["close_dec"] = sa.to_decimal(ticks["close"])   # exact Decimal
    print(report.summary(), report.damage)

The events are the ones `shijim replay.lua --jsonl` publishes (same parser
rules, same fields, same order; docs/data.md). Needs Debian's python3-lz4,
python3-xxhash and (for DataFrames) python3-pandas.
"""
from .archive import (ArchiveError, ArchiveFile, Damage, FileHeader, TAG_NAMES, day_files,
                      decode_file_header)
from .parse import (FLAG_BACKFILL, FLAG_FIELD_LOST, FLAG_ODDLOT, FLAG_REPLAY, FLAG_SIMTRADE,
                    FLAG_SIMULATED, FLAG_SUSPENDED, PRICE_DECIMALS, PRICE_SCALE, Parser, dec_format,
                    dec_parse)
from .reader import (Report, event_json, frames, iter_events, price_columns, price_text,
                     read_events, read_frames, select_files, to_decimal, utc_iso)

FLAG_NAMES = {FLAG_SIMTRADE: "simtrade", FLAG_SUSPENDED: "suspended", FLAG_ODDLOT: "oddlot",
              FLAG_BACKFILL: "backfill", FLAG_REPLAY: "replay", FLAG_SIMULATED: "simulated",
              FLAG_FIELD_LOST: "field_lost"}
