"""shijim_archive.hftbacktest — export one instrument to hftbacktest's .npz event format.

    python3 -m shijim_archive.hftbacktest ARCHIVE... --code 2330 -o 2330.npz
    python3 -m shijim_archive.hftbacktest --dir data/raw --source sim --date 2026-11-25 --code TXFL6 -o txf.npz

hftbacktest (nkaz001/hftbacktest, py-hftbacktest/hftbacktest/types.py)
reads a structured array named "data" with event_dtype:
    ev u8, exch_ts i8, local_ts i8, px f8, qty f8, order_id u8, ival i8, fval f8 (aligned)
and np.savez_compressed(path, data=...) is how its own converters save it.

PRICES ARE FLOAT64 HERE, by that format's design: px is a binary double
(hftbacktest works in ticks of tick_size internally). This file is an export
for that tool only; Shijim's own data (the archive, ClickHouse, the
DataFrames of shijim_archive, CSV) keeps exact decimals. Every price we
write is the nearest double to the exact decimal (int / 10^6, correctly
rounded).

Mapping (an hftbacktest feed is one instrument, so --code picks it):
  tick / quote (a trade)  TRADE_EVENT | BUY_EVENT (tick_type 1, at the ask)
                          or SELL_EVENT (tick_type 2); px = close, qty = volume.
                          Trial matches (SHJ_FLAG_SIMTRADE) and odd-lot trades
                          (SHJ_FLAG_ODDLOT: shares, not lots) are left out.
  bidask (a 5-level snapshot, Shioaji sends whole books, not increments)
                          per side: DEPTH_CLEAR_EVENT (px = the deepest level
                          sent, clearing the book up to it) then one
                          DEPTH_SNAPSHOT_EVENT per non-empty level (px, qty =
                          volume), as hftbacktest's own converters do for
                          snapshots; odd-lot books are left out too.
  exch_ts = ts (exchange time), local_ts = recv_ts (our receive time), UTC ns.
  ival = the raw archive's seq (to find the payload again), order_id 0, fval 0.
Then, as hftbacktest's converters do: local_ts is shifted when any event
would have a negative feed latency (a simulated market's recv time may
precede its exchange time), and the events are put in both orders
(EXCH_EVENT by exch_ts, LOCAL_EVENT by local_ts; an event in the same place
in both carries both flags, others appear twice).
"""
import argparse
import sys

import numpy as np

from .archive import ArchiveError
from .parse import FLAG_ODDLOT, FLAG_SIMTRADE, LEVELS, PRICE_SCALE
from .reader import Report, iter_events, select_files

DEPTH_EVENT, TRADE_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT = 1, 2, 3, 4
EXCH_EVENT, LOCAL_EVENT, BUY_EVENT, SELL_EVENT = 1 << 31, 1 << 30, 1 << 29, 1 << 28

EVENT_DTYPE = np.dtype([("ev", "u8"), ("exch_ts", "i8"), ("local_ts", "i8"), ("px", "f8"),
                        ("qty", "f8"), ("order_id", "u8"), ("ival", "i8"), ("fval", "f8")], align=True)


def _px(v):
    # int / int in Python is correctly rounded: the nearest double to the decimal.
    return v / PRICE_SCALE


def rows(events, code):
    """The feed rows of code, in archive order (before the two-order merge)."""
    out = []
    for ev in events:
        if ev["code"] != code or ev["flags"] & FLAG_ODDLOT:
            continue
        t, r, seq = ev["ts"], ev["recv_ts"], ev["seq"]
        if ev["kind"] == "bidask":
            for side, pk, vk in ((BUY_EVENT, "bid_price", "bid_volume"), (SELL_EVENT, "ask_price", "ask_volume")):
                levels = [(p, q) for p, q in zip(ev[pk], ev[vk]) if p != 0 and q != 0]
                if not levels:
                    continue
                out.append((DEPTH_CLEAR_EVENT | side, t, r, _px(levels[-1][0]), 0.0, 0, seq, 0.0))
                for p, q in levels[:LEVELS]:
                    out.append((DEPTH_SNAPSHOT_EVENT | side, t, r, _px(p), float(q), 0, seq, 0.0))
        else:
            if ev["flags"] & FLAG_SIMTRADE or ev["volume"] <= 0:
                continue
            side = BUY_EVENT if ev["tick_type"] == 1 else SELL_EVENT if ev["tick_type"] == 2 else 0
            out.append((TRADE_EVENT | side, t, r, _px(ev["close"]), float(ev["volume"]), 0, seq, 0.0))
    return np.array(out, dtype=EVENT_DTYPE)


def correct_local_timestamp(data, base_latency=0):
    """Shift local_ts so that no feed latency (local_ts - exch_ts) is negative."""
    if len(data):
        lat = int((data["local_ts"] - data["exch_ts"]).min())
        if lat < 0:
            data["local_ts"] += -lat + base_latency
    return data


def correct_event_order(data):
    """Merge the rows sorted by exch_ts (EXCH_EVENT) and by local_ts
    (LOCAL_EVENT); a row at the same place in both gets both flags."""
    n = len(data)
    by_exch = np.argsort(data["exch_ts"], kind="mergesort")
    by_local = np.argsort(data["local_ts"], kind="mergesort")
    out = np.zeros(2 * n, dtype=EVENT_DTYPE)
    i = j = k = 0
    ex_ts, lo_ts = data["exch_ts"], data["local_ts"]
    while i < n or j < n:
        a = by_exch[i] if i < n else None
        b = by_local[j] if j < n else None
        if a is not None and b is not None and ex_ts[a] == ex_ts[b] and lo_ts[a] == lo_ts[b]:
            out[k] = data[a]
            out["ev"][k] = int(data["ev"][a]) | EXCH_EVENT | LOCAL_EVENT
            i += 1
            j += 1
        elif a is not None and (b is None or ex_ts[a] < ex_ts[b]
                                or (ex_ts[a] == ex_ts[b] and lo_ts[a] < lo_ts[b])):
            out[k] = data[a]
            out["ev"][k] = (int(data["ev"][a]) & ~LOCAL_EVENT) | EXCH_EVENT
            i += 1
        else:
            out[k] = data[b]
            out["ev"][k] = (int(data["ev"][b]) & ~EXCH_EVENT) | LOCAL_EVENT
            j += 1
        k += 1
    return out[:k]


def validate_event_order(data):
    ex = (data["ev"] & EXCH_EVENT) != 0
    lo = (data["ev"] & LOCAL_EVENT) != 0
    if np.any(np.diff(data["exch_ts"][ex]) < 0):
        raise ValueError("exchange events are out of order")
    if np.any(np.diff(data["local_ts"][lo]) < 0):
        raise ValueError("local events are out of order")


def convert(events, code, base_latency=0):
    """Events (dicts from shijim_archive) -> an hftbacktest event array for code."""
    data = correct_local_timestamp(rows(events, code), base_latency)
    data = correct_event_order(data)
    validate_event_order(data)
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m shijim_archive.hftbacktest",
                                 description="Export one instrument of the raw archive to hftbacktest's "
                                             ".npz event format (float64 prices: that format's choice).")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--dir")
    ap.add_argument("--source", default="sim")
    ap.add_argument("--date")
    ap.add_argument("--from", dest="date_from")
    ap.add_argument("--to", dest="date_to")
    ap.add_argument("--code", help="the instrument (required when the archive holds several)")
    ap.add_argument("--base-latency", type=int, default=0, help="ns added after the latency correction")
    ap.add_argument("-o", "--output", required=True, help="the .npz file to write")
    a = ap.parse_args(argv)
    if bool(a.files) == bool(a.dir):
        ap.error("give archive files or --dir (not both)")
    try:
        paths = select_files(a.dir, a.source, a.date, a.date_from, a.date_to, a.files or None)
    except (ArchiveError, OSError) as e:
        print("shijim_archive.hftbacktest: %s" % e, file=sys.stderr)
        return 1
    rep = Report()
    events = list(iter_events(paths, rep))
    codes = sorted({e["code"] for e in events})
    code = a.code
    if code is None:
        if len(codes) != 1:
            ap.error("--code: the archive holds %d instruments: %s" % (len(codes), ", ".join(codes)))
        code = codes[0]
    elif code not in codes:
        print("shijim_archive.hftbacktest: no events for %s (codes: %s)" % (code, ", ".join(codes) or "none"),
              file=sys.stderr)
        return 1
    data = convert(events, code, a.base_latency)
    np.savez_compressed(a.output, data=data)
    for d in rep.damage:
        print("shijim_archive.hftbacktest: %s" % d.message(), file=sys.stderr)
    for p, msg in rep.unreadable:
        print("shijim_archive.hftbacktest: %s" % msg, file=sys.stderr)
    print("shijim_archive.hftbacktest: %s: %d events written to %s (float64 prices); %s" % (
        code, len(data), a.output, rep.summary()), file=sys.stderr)
    return 1 if rep.bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
