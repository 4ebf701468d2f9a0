"""shijim_archive.csvout — events as CSV, the same columns as `replay.lua --csv`.

One wide table for every kind (docs/data.md, "CSV"): the common columns,
then the trade fields (empty on bidask rows), then the book levels
flattened as bid_price_0..4 (level 0 = best) ... diff_ask_vol_0..4 (empty on
tick/quote rows). Prices are exact decimal text (dec_format: "585.5"),
never a float; times are int64 UTC ns plus the ISO text of ts.
"""
from .parse import BOOK_FIELDS, LEVELS, PRICE_FIELDS, TRADE_FIELDS, dec_format
from .reader import utc_iso

COMMON = ["kind", "code", "exchange", "sec_type", "ts", "recv_ts", "time", "seq", "flags"]
BOOK_COLUMNS = ["%s_%d" % (f, i) for f in BOOK_FIELDS for i in range(LEVELS)]
HEADER = COMMON + TRADE_FIELDS + BOOK_COLUMNS


def csv_row(ev):
    # Codes are printable ASCII without ',' or '"' in practice; quote anyway if not.
    code = ev["code"]
    if any(c in code for c in ',"'):
        code = '"%s"' % code.replace('"', '""')
    row = [ev["kind"], code, ev["exchange"], ev["sec_type"], str(ev["ts"]), str(ev["recv_ts"]),
           utc_iso(ev["ts"]), str(ev["seq"]), str(ev["flags"])]
    if ev["kind"] == "bidask":
        row += [""] * len(TRADE_FIELDS)
        for f in BOOK_FIELDS:
            fmt = dec_format if "price" in f else str
            row += [fmt(v) for v in ev[f]]
    else:
        row += [dec_format(ev[f]) if f in PRICE_FIELDS else str(ev[f]) for f in TRADE_FIELDS]
        row += [""] * len(BOOK_COLUMNS)
    return ",".join(row)


def write_csv(events, out):
    out.write(",".join(HEADER) + "\n")
    for ev in events:
        out.write(csv_row(ev))
        out.write("\n")
