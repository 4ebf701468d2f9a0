"""shijim_archive.parse — one archived payload (tag + JSON bytes) -> normalized events.

Owns: the Python twin of runtime/parse/parse.c (psr_parse_payload,
psr_parse_book, psr_resolve) as replay runs it: same field mapping (Shioaji
1.7.x and 1.5.0 names, quote_idx PascalCase), same required fields, same
"a value we cannot hold is left 0 and flagged SHJ_FLAG_FIELD_LOST" rule,
same percent rule, same instrument defaults (the first payload of a code
fixes its exchange / security type, like inst_intern in a replay process).
tests/python/test_archive.py checks it field by field against
`shijim replay.lua --jsonl` on a simulated recording and Sinopac's samples.

Guarantees: prices and amounts are exact int64 × PRICE_SCALE (10^6), parsed
from the decimal text (no float anywhere); an event is a dict whose keys
are the JSON-lines names of core/event_json.c (without source_id, a
process-local id). A quote payload gives two events with the same seq, the
QUOTE then its BIDASK, as parse.h says.
"""
import json
import re

PRICE_SCALE = 1000000       # SHJ_PRICE_SCALE (core/shj_event.h)
PRICE_DECIMALS = 6
PRICE_MAX_UNITS = (2 ** 63 - 1) // PRICE_SCALE
LEVELS = 5

# shj_flag bits (core/shj_event.h; docs/data.md explains each)
FLAG_SIMTRADE, FLAG_SUSPENDED, FLAG_ODDLOT, FLAG_BACKFILL = 1, 2, 4, 8
FLAG_SIMULATED = 32  # runtime/core/shj_event.h SHJ_FLAG_SIMULATED: the simulator's "simulated":true
FLAG_REPLAY, FLAG_SIMULATED, FLAG_FIELD_LOST = 16, 32, 64

KINDS = {1: "tick", 2: "bidask", 5: "quote"}
EXCHANGES = ["UNKNOWN", "TSE", "OTC", "OES", "TAIFEX"]
SEC_TYPES = ["UNKNOWN", "STK", "FUT", "OPT", "IND"]

TAG_HEARTBEAT = 7
MAP_TRADE, MAP_BOOK, MAP_INDEX = 0, 1, 2
TAIPEI_OFFSET_NS = 8 * 3600 * 10 ** 9

# tag -> (kind, map, exchange, sec_type, pct in hundredths for JSON numbers)
TAG_DEFS = {
    1: ("tick", MAP_TRADE, "TSE", "STK", True),      # tick_stk
    5: ("quote", MAP_TRADE, "TSE", "STK", True),     # quote_stk
    2: ("bidask", MAP_BOOK, "TSE", "STK", True),     # bidask_stk
    3: ("tick", MAP_TRADE, "TAIFEX", "FUT", False),  # tick_fop
    6: ("quote", MAP_TRADE, "TAIFEX", "FUT", False), # quote_fop
    4: ("bidask", MAP_BOOK, "TAIFEX", "FUT", False), # bidask_fop
    8: ("quote", MAP_INDEX, "TSE", "IND", False),    # quote_idx
}

# Field slots: (output name, type). Types: code date time flag dec pct i64 i32 i8 adec ai32.
_F = {
    "code": ("code", "code"), "date": ("date", "date"), "time": ("time", "time"),
    "simtrade": (FLAG_SIMTRADE, "flag"), "suspend": (FLAG_SUSPENDED, "flag"),
    "intraday_odd": (FLAG_ODDLOT, "flag"), "backfill": (FLAG_BACKFILL, "flag"),
    "simulated": (FLAG_SIMULATED, "flag"),
}
_TRADE = {
    "open": ("open", "dec"), "high": ("high", "dec"), "low": ("low", "dec"),
    "close": ("close", "dec"), "avg_price": ("avg_price", "dec"),
    "price_chg": ("diff_price", "dec"), "diff_price": ("diff_price", "dec"),
    "pct_chg": ("diff_rate", "pct"), "diff_rate": ("diff_rate", "pct"),
    "amount": ("amount", "dec"), "total_amount": ("amount_sum", "dec"),
    "amount_sum": ("amount_sum", "dec"), "underlying_price": ("underlying_price", "dec"),
    "target_kind_price": ("underlying_price", "dec"), "volume": ("volume", "i32"),
    "total_volume": ("vol_sum", "i64"), "vol_sum": ("vol_sum", "i64"),
    "bid_side_total_vol": ("bid_side_vol_sum", "i64"), "trade_bid_vol_sum": ("bid_side_vol_sum", "i64"),
    "ask_side_total_vol": ("ask_side_vol_sum", "i64"), "trade_ask_vol_sum": ("ask_side_vol_sum", "i64"),
    "tick_type": ("tick_type", "i8"), "chg_type": ("chg_type", "i8"), "diff_type": ("chg_type", "i8"),
}
_BOOK = {
    "bid_price": ("bid_price", "adec"), "ask_price": ("ask_price", "adec"),
    "bid_volume": ("bid_volume", "ai32"), "ask_volume": ("ask_volume", "ai32"),
    "diff_bid_vol": ("diff_bid_vol", "ai32"), "diff_ask_vol": ("diff_ask_vol", "ai32"),
}
_INDEX = {"code": ("code", "code")}
for _names, _slot in ((("Low", "low"), ("low", "dec")), (("Date", "date"), ("date", "date")),
                      (("Time", "time"), ("time", "time")), (("Open", "open"), ("open", "dec")),
                      (("High", "high"), ("high", "dec")), (("Close", "close"), ("close", "dec")),
                      (("Amount", "amount"), ("amount", "dec")), (("Volume", "volume"), ("volume", "i32")),
                      (("VolSum", "vol_sum"), ("vol_sum", "i64")),
                      (("AmountSum", "amount_sum"), ("amount_sum", "dec"))):
    for _n in _names:
        _INDEX[_n] = _slot
MAPS = {MAP_TRADE: dict(_F, **_TRADE), MAP_BOOK: dict(_F, **_BOOK), MAP_INDEX: _INDEX}

TRADE_FIELDS = ["open", "high", "low", "close", "avg_price", "diff_price", "diff_rate", "amount",
                "amount_sum", "underlying_price", "volume", "vol_sum", "bid_side_vol_sum",
                "ask_side_vol_sum", "tick_type", "chg_type"]
BOOK_FIELDS = ["bid_price", "ask_price", "bid_volume", "ask_volume", "diff_bid_vol", "diff_ask_vol"]
PRICE_FIELDS = {"open", "high", "low", "close", "avg_price", "diff_price", "diff_rate", "amount",
                "amount_sum", "underlying_price"}
_ESSENTIAL = {"code", "date", "time", "close"}
_REQ = {MAP_TRADE: ("code", "date", "time", "close"), MAP_INDEX: ("code", "date", "time", "close"),
        MAP_BOOK: ("code", "date", "time", "bid_price", "bid_volume", "ask_price", "ask_volume")}
_RANGES = {"i64": (-2 ** 63, 2 ** 63 - 1), "i32": (-2 ** 31, 2 ** 31 - 1), "i8": (-128, 127)}


class Malformed(Exception):
    """The payload does not give an event; the text names the field or the JSON problem."""


class _Num(str):
    """A JSON number, kept as its text (prices never pass through float)."""


class _Obj(list):
    """A JSON object, kept as its (key, value) pairs in order (a repeated key
    replaces the earlier value, as in the C parser, by being read later)."""


class _Bad(Exception):
    pass


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


_decoder = json.JSONDecoder(parse_float=_Num, parse_int=_Num, parse_constant=_reject_constant,
                            object_pairs_hook=_Obj)


# Fast shapes (ASCII digits only): at most 12 integer digits can never overflow
# int64 once scaled; anything else takes the full rules below.
_DEC_FAST = re.compile(r"(-?)([0-9]{1,12})(?:\.([0-9]{1,6}))?\Z", re.ASCII)
_INT_FAST = re.compile(r"[+-]?[0-9]+\Z", re.ASCII)
_TIME_FAST = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?\Z", re.ASCII)
_FRAC_PAD = ["", "00000", "0000", "000", "00", "0", ""]


def dec_parse(s):
    """js_dec_parse: "[+-]digits[.digits]" -> int × 10^6; extra fraction digits only if zeros."""
    m = _DEC_FAST.match(s)
    if m is not None:
        neg, ip, fr = m.groups()
        mag = int(ip) * PRICE_SCALE + (int(fr + _FRAC_PAD[len(fr)]) if fr else 0)
        return -mag if neg else mag
    return _dec_parse_full(s)


def _dec_parse_full(s):
    i, n, neg = 0, len(s), False
    if i < n and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    j = i
    while j < n and "0" <= s[j] <= "9":
        j += 1
    if j == i:
        raise _Bad("decimal")
    ip = int(s[i:j])
    if ip > PRICE_MAX_UNITS:
        raise _Bad("decimal")
    frac = ""
    if j < n and s[j] == ".":
        k = j + 1
        j = k
        while j < n and "0" <= s[j] <= "9":
            j += 1
        if j == k:
            raise _Bad("decimal")
        frac = s[k:j]
        if len(frac) > PRICE_DECIMALS:
            if frac[PRICE_DECIMALS:].strip("0"):
                raise _Bad("decimal")
            frac = frac[:PRICE_DECIMALS]
    if j != n:
        raise _Bad("decimal")
    mag = ip * PRICE_SCALE + (int(frac.ljust(PRICE_DECIMALS, "0")) if frac else 0)
    if neg:
        if mag > 2 ** 63:
            raise _Bad("decimal")
        return -mag
    if mag > 2 ** 63 - 1:
        raise _Bad("decimal")
    return mag


def _int_parse(s):
    """js_int_parse: "[+-]digits" -> int (range checked by the caller)."""
    if len(s) > 40 or _INT_FAST.match(s) is None:  # 40: beyond any int64, below int()'s limit
        raise _Bad("integer")
    return int(s)


def dec_format(v):
    """dec_format (core/decimal.c): the shortest exact text of a scaled int."""
    mag = -v if v < 0 else v
    ip, frac = divmod(mag, PRICE_SCALE)
    t = str(ip)
    if frac:
        t += "." + ("%06d" % frac).rstrip("0")
    return "-" + t if v < 0 else t


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_date_memo = {}


def _date_ns(v):
    """parse_date, memoized (a session repeats one date): Taipei midnight as UTC ns."""
    r = _date_memo.get(v)
    if r is None:
        r = _date_ns_full(v)
        if len(_date_memo) > 4096:
            _date_memo.clear()
        _date_memo[v] = r
    return r


def _date_ns_full(v):
    """parse_date: "YYYY-MM-DD" in 1970..2261 -> its Taipei midnight as UTC ns."""
    if len(v) != 10 or v[4] != "-" or v[7] != "-":
        raise _Bad("date")
    parts = (v[0:2], v[2:4], v[5:7], v[8:10])
    if not all(len(p) == 2 and "0" <= p[0] <= "9" and "0" <= p[1] <= "9" for p in parts):
        raise _Bad("date")
    y, m, d = int(v[0:4]), int(v[5:7]), int(v[8:10])
    if y < 1970 or y > 2261 or m < 1 or m > 12 or d < 1:
        raise _Bad("date")
    dim = [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30, 31, 30, 31,
           31, 30, 31, 30, 31][m - 1]
    if d > dim:
        raise _Bad("date")
    return _days_from_civil(y, m, d) * 86400 * 10 ** 9 - TAIPEI_OFFSET_NS


def _time_ns(v):
    """parse_time: "HH:MM:SS[.f{1,9}]" -> ns since local midnight."""
    m = _TIME_FAST.match(v)
    if m is None:
        raise _Bad("time")
    h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if h > 23 or mi > 59 or se > 59:
        raise _Bad("time")
    f = m.group(4)
    return (h * 3600 + mi * 60 + se) * 10 ** 9 + (int(f.ljust(9, "0")) if f else 0)


def _scalar(v):
    """A string or number's text (scalar_text); _Bad for anything else."""
    if isinstance(v, str):  # _Num is a str too
        return v
    raise _Bad("not a string or a number")


def _read_array(v, is_dec):
    """read_array: at most 5 entries; an entry we cannot hold is 0 and lost."""
    if type(v) is list and len(v) <= LEVELS:  # the usual shape: every entry readable
        try:
            if is_dec:
                out = [dec_parse(e) for e in v]
            else:
                out = [int(e) for e in v if len(e) < 12 and _INT_FAST.match(e)]
                if len(out) != len(v) or not all(-2 ** 31 <= x < 2 ** 31 for x in out):
                    raise _Bad("entry")
            return out + [0] * (LEVELS - len(out)), False
        except (_Bad, TypeError, ValueError):
            pass  # the rules entry by entry below
    if not isinstance(v, list) or isinstance(v, _Obj):
        raise _Bad("expected an array")
    out = [0] * LEVELS
    lost = False
    for i, e in enumerate(v):
        if i >= LEVELS or e is None:
            lost = True
            continue
        try:
            t = _scalar(e)
            if is_dec:
                out[i] = dec_parse(t)
            else:
                x = _int_parse(t)
                if not -2 ** 31 <= x <= 2 ** 31 - 1:
                    raise _Bad("integer (out of range)")
                out[i] = x
        except _Bad:
            lost = True
    return out, lost


def _parse_half(pairs, tag, mp, hundredths):
    """One pass over the top-level members with map mp (parse_object + parse_market).
    Returns the event fields (without kind/exchange) or raises Malformed; None
    when a quote's book half has no book at all."""
    fmap = MAPS[mp]
    ev = {}
    seen = set()
    flags = 0
    lost = False
    day_ns = ns_of_day = 0
    for key, val in pairs:
        slot = fmap.get(key)
        if slot is None:
            continue
        name, typ = slot
        fname = key if typ == "flag" else name  # what "seen" is kept under (one per slot)
        present = True
        try:
            if typ == "flag":
                if val is True:
                    flags |= name
                elif val is False:
                    flags &= ~name
                elif val is None:
                    present = False
                else:
                    raise _Bad("expected true or false")
            elif typ in ("adec", "ai32"):
                arr, l2 = _read_array(val, typ == "adec")
                ev[name] = arr
                lost = lost or l2
            elif val is None:
                present = False
            elif typ in ("code", "date", "time"):
                if isinstance(val, _Num) or not isinstance(val, str):
                    raise _Bad("string")
                if typ == "code":
                    if not 1 <= len(val) <= 15 or not all(0x20 < ord(c) < 0x7F for c in val):
                        raise _Bad("code")
                    ev["code"] = val
                elif typ == "date":
                    day_ns = _date_ns(val)
                else:
                    ns_of_day = _time_ns(val)
            elif typ == "dec":
                ev[name] = dec_parse(_scalar(val))
            elif typ == "pct":
                t = _scalar(val)
                d = dec_parse(t)
                if isinstance(t, _Num) and hundredths:
                    if d % 100:
                        raise _Bad("percent (finer than the scale)")
                    d //= 100
                ev[name] = d
            else:
                x = _int_parse(_scalar(val))
                lo, hi = _RANGES[typ]
                if not lo <= x <= hi:
                    raise _Bad("integer (out of range)")
                ev[name] = x
        except _Bad as e:
            if fname in _ESSENTIAL:
                raise Malformed('%s: field "%s": bad %s' % (_tagname(tag), key, e))
            # a value we cannot hold: 0 and flagged (parse.h)
            if typ == "flag":
                flags &= ~name
            elif typ in ("adec", "ai32"):
                ev[name] = [0] * LEVELS
            else:
                ev[name] = 0
            lost = True
            present = True
        if present:
            seen.add(fname)
        else:
            seen.discard(fname)
    req = _REQ[mp]
    missing = [r for r in req if r not in seen]
    if missing:
        if mp == MAP_BOOK and TAG_DEFS[tag][1] != MAP_BOOK and not (seen & set(req[3:])) \
                and not (set(missing) & _ESSENTIAL):
            return None  # a quote without a book
        raise Malformed('%s: missing required field "%s"' % (_tagname(tag), missing[0]))
    ev["ts"] = day_ns + ns_of_day
    ev["flags"] = flags | (FLAG_FIELD_LOST if lost else 0)
    return ev


def _tagname(tag):
    from .archive import TAG_NAMES
    return TAG_NAMES.get(tag, "unknown")


def _complete(ev, kind):
    fields = BOOK_FIELDS if kind == "bidask" else TRADE_FIELDS
    for f in fields:
        if f not in ev:
            ev[f] = [0] * LEVELS if f in BOOK_FIELDS else 0
    return ev


class Parser:
    """Payloads -> events, keeping the instrument table of one replay process
    (code -> exchange, security type of its first payload)."""

    def __init__(self):
        self.instruments = {}
        self.malformed = 0
        self.control = 0
        self.other = 0
        self.first_errors = {}  # tag -> the first error message (logged once per kind, like C)

    def parse(self, tag, payload, seq=0, recv_ns=0):
        """The events of one payload (a list of dicts: 0, 1 or 2 of them)."""
        td = TAG_DEFS.get(tag)
        if tag == TAG_HEARTBEAT or td is None:
            if tag == TAG_HEARTBEAT:
                try:
                    obj = self._json(payload)
                    if not isinstance(obj, _Obj):
                        raise ValueError("not an object")
                    self.control += 1
                except ValueError as e:
                    self._bad(tag, "heartbeat: %s" % e)
            else:
                self.other += 1
            return []
        try:
            pairs = self._json(payload)
            if not isinstance(pairs, _Obj):
                raise Malformed("%s: expected '{'" % _tagname(tag))
            ev = _parse_half(pairs, tag, td[1], td[4])
        except (ValueError, RecursionError) as e:
            self._bad(tag, "%s: %s" % (_tagname(tag), e))
            return []
        except Malformed as e:
            self._bad(tag, str(e))
            return []
        out = [self._finish(ev, td[0], tag, td, seq, recv_ns)]
        if tag in (5, 6):  # quote: its book half
            try:
                book = _parse_half(pairs, tag, MAP_BOOK, td[4])
            except Malformed as e:
                self._bad(tag, str(e))
                book = None
            if book is not None:
                out.append(self._finish(book, "bidask", tag, td, seq, recv_ns))
        return out

    def _json(self, payload):
        if isinstance(payload, (bytes, bytearray, memoryview)):
            payload = bytes(payload).decode("utf-8", "surrogateescape")
        return _decoder.decode(payload)

    def _bad(self, tag, msg):
        self.malformed += 1
        self.first_errors.setdefault(tag, msg)

    def _finish(self, ev, kind, tag, td, seq, recv_ns):
        inst = self.instruments.get(ev["code"])
        if inst is None:
            inst = self.instruments[ev["code"]] = (td[2], td[3])
        ev["kind"] = kind
        ev["exchange"], ev["sec_type"] = inst
        ev["payload_tag"] = tag
        ev["seq"] = seq
        ev["recv_ts"] = recv_ns
        return _complete(ev, kind)
