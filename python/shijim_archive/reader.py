"""shijim_archive.reader — archive files -> normalized events -> pandas DataFrames.

Owns: choosing the files (explicit paths, or <root>/<source>/<day>.shjraw
by date range), walking them in order through ArchiveFile and Parser, the
per-run report (files, records, damaged ranges, malformed payloads), and
the DataFrame / JSON-lines shapes of the events.

Guarantees: events come out in file order, record order, and for a quote
QUOTE before its BIDASK — the order replay publishes them; every price
column is int64 × PRICE_SCALE (10^6) and never a float (`to_decimal` turns
one into Decimal objects, `dec_format` into the exact text); a damaged
block is reported (Report.damage) and the rest of the file still read.
"""
import decimal
import os

from .archive import ArchiveError, ArchiveFile, TAG_NAMES, day_files
from .parse import (BOOK_FIELDS, LEVELS, PRICE_FIELDS, PRICE_SCALE, TRADE_FIELDS, Parser,
                    dec_format)

KIND_NAMES = ("tick", "quote", "bidask")


class Report:
    """What a read found: files, records, events per kind, damage, bad payloads."""

    def __init__(self):
        self.files = []            # paths read (or tried)
        self.unreadable = []       # (path, message): no record could be read
        self.damage = []           # archive.Damage, in file order
        self.records = 0
        self.events = {k: 0 for k in KIND_NAMES}
        self.filtered = 0
        self.malformed = 0
        self.first_errors = {}     # tag name -> first malformed-payload message
        self.source = None         # the file header's source name (of the last file)

    @property
    def bad_files(self):
        bad = {p for p, _ in self.unreadable} | {d.path for d in self.damage}
        return len(bad)

    def summary(self):
        kinds = ", ".join("%s %d" % (k, n) for k, n in sorted(self.events.items()) if n) or "no events"
        return ("%d file(s), %d damaged/unreadable (%d damaged range(s)); %d records read, "
                "%d filtered out, %d malformed; %s" % (
                    len(self.files), self.bad_files, len(self.damage), self.records, self.filtered,
                    self.malformed, kinds))


def select_files(root=None, source=None, date=None, date_from=None, date_to=None, files=None):
    """Explicit files in the order given, else the day files of root/source in date order."""
    if files:
        return [files] if isinstance(files, (str, os.PathLike)) else list(files)
    if root is None:
        raise ValueError("give files or an archive root")
    if date:
        date_from = date_to = date
    found = day_files(root, source, date_from, date_to)
    if not found:
        d = os.path.join(root, source) if source else root
        have = day_files(root, source)
        raise ArchiveError("no archive file in %s for %s .. %s (days there: %s)" % (
            d, date_from or "(start)", date_to or "(end)",
            ", ".join(os.path.basename(p)[:10] for p in have) or "none"))
    return found


def iter_events(paths, report=None, codes=None, kinds=KIND_NAMES, resync=True, parser=None):
    """Yields every normalized event (a dict) of the files, in replay order.
    codes: a set of instrument codes to keep (None = all; continuous aliases
    such as TXFR1 are not resolved here). Damage and bad payloads go to report."""
    report = report if report is not None else Report()
    parser = parser or Parser()
    codes = set(codes) if codes else None
    kinds = set(kinds)
    for path in paths:
        report.files.append(path)
        try:
            f = ArchiveFile(path, resync=resync)
        except (ArchiveError, OSError) as e:
            report.unreadable.append((path, str(e)))
            continue
        report.source = f.header.source
        with f:
            for recs in f.blocks_iter():
                report.records += len(recs)
                for seq, recv_ns, tag, payload in recs:
                    for ev in parser.parse(tag, payload, seq, recv_ns):
                        if (codes is not None and ev["code"] not in codes) or ev["kind"] not in kinds:
                            report.filtered += 1
                            continue
                        report.events[ev["kind"]] += 1
                        yield ev
            report.damage.extend(f.damage)
    report.malformed = parser.malformed
    report.first_errors = {TAG_NAMES.get(t, str(t)): m for t, m in parser.first_errors.items()}


def read_events(root=None, source=None, date=None, date_from=None, date_to=None, files=None,
                codes=None, kinds=KIND_NAMES, resync=True):
    """(list of event dicts, Report) — see iter_events."""
    rep = Report()
    paths = select_files(root, source, date, date_from, date_to, files)
    return list(iter_events(paths, rep, codes, kinds, resync)), rep


# ---- DataFrames -------------------------------------------------------------

COMMON_COLUMNS = ["code", "exchange", "sec_type", "payload_tag", "ts", "recv_ts", "seq", "flags"]
_TRADE_INTS = {"volume": "int32", "tick_type": "int8", "chg_type": "int8"}


def _columns(kind):
    if kind == "bidask":
        return COMMON_COLUMNS + ["%s_%d" % (f, i) for f in BOOK_FIELDS for i in range(LEVELS)]
    return COMMON_COLUMNS + TRADE_FIELDS


def frames(events, kinds=KIND_NAMES):
    """Event dicts -> {kind: DataFrame}, one frame per kind (tick, quote, bidask).

    Columns: code, exchange, sec_type, payload_tag (the SSE event name),
    ts / recv_ts (int64 UTC ns: exchange and local receive time), time
    (datetime64[ns, UTC] of ts), seq (uint64), flags (uint32, SHJ_FLAG_* bits:
    docs/data.md); tick/quote: the trade fields, prices int64 × 10^6;
    bidask: bid_price_0..4 (level 0 = best, × 10^6), ask_price_*, bid_volume_*,
    ask_volume_*, diff_bid_vol_*, diff_ask_vol_*."""
    import numpy as np
    import pandas as pd

    cols = {k: {c: [] for c in _columns(k)} for k in kinds}
    for ev in events:
        c = cols.get(ev["kind"])
        if c is None:
            continue
        for f in COMMON_COLUMNS:
            c[f].append(ev[f] if f != "payload_tag" else TAG_NAMES.get(ev[f], "unknown"))
        if ev["kind"] == "bidask":
            for f in BOOK_FIELDS:
                arr = ev[f]
                for i in range(LEVELS):
                    c["%s_%d" % (f, i)].append(arr[i])
        else:
            for f in TRADE_FIELDS:
                c[f].append(ev[f])
    out = {}
    for k, c in cols.items():
        data = {}
        for name, vals in c.items():
            if name in ("code", "exchange", "sec_type", "payload_tag"):
                data[name] = pd.Series(vals, dtype="object")
            elif name == "seq":
                data[name] = np.array(vals, dtype=np.uint64)
            elif name == "flags":
                data[name] = np.array(vals, dtype=np.uint32)
            elif name in _TRADE_INTS:
                data[name] = np.array(vals, dtype=_TRADE_INTS[name])
            elif name.startswith(("bid_volume", "ask_volume", "diff_bid", "diff_ask")):
                data[name] = np.array(vals, dtype=np.int32)
            else:
                data[name] = np.array(vals, dtype=np.int64)
        df = pd.DataFrame(data)
        df.insert(df.columns.get_loc("recv_ts") + 1, "time", pd.to_datetime(df["ts"], unit="ns", utc=True))
        out[k] = df
    return out


def read_frames(root=None, source=None, date=None, date_from=None, date_to=None, files=None,
                codes=None, kinds=KIND_NAMES, resync=True):
    """({kind: DataFrame}, Report): the archive as pandas frames (see frames())."""
    rep = Report()
    paths = select_files(root, source, date, date_from, date_to, files)
    return frames(iter_events(paths, rep, codes, kinds, resync), kinds), rep


def price_columns(df):
    """The columns of df that hold scaled prices (int64 × 10^6)."""
    return [c for c in df.columns if c in PRICE_FIELDS or c.startswith(("bid_price_", "ask_price_"))]


def to_decimal(values):
    """Scaled int64 prices (a Series, array or int) -> exact decimal.Decimal values."""
    q = decimal.Decimal(PRICE_SCALE)
    if isinstance(values, int):
        return decimal.Decimal(values) / q
    import pandas as pd
    if isinstance(values, pd.Series):
        return values.map(lambda v: decimal.Decimal(int(v)) / q)
    return [decimal.Decimal(int(v)) / q for v in values]


def price_text(v):
    """A scaled int -> its exact shortest decimal text ("585.5")."""
    return dec_format(int(v))


# ---- JSON lines (the shape of core/event_json.c) ----------------------------

def utc_iso(ns):
    """clk_utc_iso: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"."""
    import datetime
    s, frac = divmod(ns, 10 ** 9)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=s)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (t.year, t.month, t.day, t.hour, t.minute,
                                                    t.second, frac)


def event_json(ev, source_id=None):
    """One event as the JSON line replay.lua --jsonl writes (source_id only when given)."""
    import json
    parts = ['{"kind":%s,"code":%s,"exchange":"%s","sec_type":"%s","ts":%d,"recv_ts":%d,"time":"%s","seq":%d'
             % (json.dumps(ev["kind"]), json.dumps(ev["code"]), ev["exchange"], ev["sec_type"], ev["ts"],
                ev["recv_ts"], utc_iso(ev["ts"]), ev["seq"])]
    if source_id is not None:
        parts.append(',"source_id":%d' % source_id)
    parts.append(',"flags":%d' % ev["flags"])
    if ev["kind"] == "bidask":
        for f in BOOK_FIELDS:
            vals = ev[f]
            txt = ",".join(dec_format(v) if "price" in f else str(v) for v in vals)
            parts.append(',"%s":[%s]' % (f, txt))
    else:
        for f in TRADE_FIELDS:
            v = ev[f]
            parts.append(',"%s":%s' % (f, dec_format(v) if f in PRICE_FIELDS else str(v)))
    parts.append("}")
    return "".join(parts)
