#!/usr/bin/python3
"""test_archive.py — the Python reader (python/shijim_archive) against the C path.

Run by ctest as `python_archive` with Debian's /usr/bin/python3 (pandas,
lz4, xxhash from python3-* packages). The oracle is `shijim replay.lua`:
the C reader + parser as replay runs them.

 1. A simulated recording (main.lua, ClickHouse unreachable so the live rows
    land in the fallback JSONL): every event Python reads equals the
    replay.lua --jsonl line field by field (prices exact), in the same order.
 2. Replay keeps the recording's flags: the live rows' flags (ClickHouse
    fallback) equal the replayed rows' flags for every (seq, kind); with
    --mark-replay every row carries them | SHJ_FLAG_REPLAY.
 3. Sinopac's published samples (tests/fixtures/sinopac/sse, every tag, 1.7.x
    and 1.5.0 names, quotes) and hand-made edge payloads (lost fields, nulls,
    repeated keys, bad JSON, ...) in an archive: same events both ways, same
    number of malformed payloads.
 4. Damage: a flipped data byte (the block is reported at the offset C names,
    the rest read after resync, same events as C), a torn tail, a damaged file
    header (unreadable), and the CLI's exit code 1.
 5. CSV: replay.lua --csv and `python3 -m shijim_archive --csv` write the same
    bytes; every price cell is exact decimal text equal to the JSON value.
 6. DataFrames: one per kind, int64 × 10^6 price columns (never float),
    to_decimal exact.
"""
import decimal
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "python"))
sys.path.insert(0, HERE)

import arcwrite  # noqa: E402
import shijim_archive as sa  # noqa: E402

SHIJIM = os.environ.get("SHIJIM_BIN") or os.path.join(SRC, "build", "shijim")
ENV = dict(os.environ, PYTHONPATH=os.path.join(SRC, "python"))
EVENTS = 20000


def shijim(*args, check=True):
    p = subprocess.run([SHIJIM] + list(args), capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("shijim %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr[-3000:]))
    return p


def pycli(*args):
    return subprocess.run([sys.executable, "-m", "shijim_archive"] + list(args), capture_output=True,
                          text=True, env=ENV, timeout=300)


def put(path, data):
    with open(path, "wb") as f:
        f.write(data)


def c_lines(path):
    with open(path) as f:
        return [json.loads(l, parse_float=decimal.Decimal) for l in f if l.strip()]


def as_c(ev):
    """A Python event in the shape of a C JSON line parsed with Decimal floats."""
    return json.loads(sa.event_json(ev), parse_float=decimal.Decimal)


class Base(unittest.TestCase):
    maxDiff = 4000

    def assert_same_events(self, c_events, py_events, what):
        self.assertEqual(len(c_events), len(py_events), "%s: event counts differ" % what)
        for i, (c, p) in enumerate(zip(c_events, py_events)):
            c = dict(c)
            c.pop("source_id", None)  # the replay source's process-local id
            self.assertEqual(c, as_c(p), "%s: event %d differs" % (what, i))


class SimulatedRecording(Base):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="shj-pyarc-")
        cls.raw = os.path.join(cls.dir, "raw")
        cls.fb = os.path.join(cls.dir, "fb")
        # ClickHouse on a closed port: every live row goes to the fallback JSONL
        # (exactly the row ClickHouse would have got), main.lua still exits 0.
        shijim("run", "main.lua", "--events", str(EVENTS), "--rate", "0", "--date", "2026-11-25",
               "--dir", cls.raw, "--quiet", "--clickhouse", "clickhouse://default@127.0.0.1:9/market",
               "--fallback-dir", cls.fb, check=False)
        cls.files = sa.day_files(cls.raw, "sim")
        assert cls.files, "the recording made no archive file"
        cls.c_jsonl = os.path.join(cls.dir, "c.jsonl")
        cls.replay = shijim("replay.lua", "--archive-dir", cls.raw, "--jsonl", cls.c_jsonl)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_events_equal_replay_jsonl(self):
        evs, rep = sa.read_events(self.raw, source="sim")
        c = c_lines(self.c_jsonl)
        self.assertEqual(EVENTS, len(c))
        self.assert_same_events(c, evs, "simulated recording")
        self.assertEqual(rep.bad_files, 0)
        self.assertEqual(rep.records, EVENTS)
        self.assertEqual(rep.source, "sim")
        self.assertTrue(rep.events["tick"] > 0 and rep.events["bidask"] > 0)
        # the JSON line text itself is the C one (source_id aside)
        with open(self.c_jsonl) as f:
            first = re.sub(r',"source_id":\d+', "", f.readline().rstrip("\n"))
        self.assertEqual(first, sa.event_json(evs[0]))

    def test_live_rows_flags_equal_replayed(self):
        live = {}
        for kind_dir in ("ticks", "bidasks"):
            d = os.path.join(self.fb, kind_dir)
            for n in os.listdir(d):
                for row in c_lines(os.path.join(d, n)):
                    live[(row["seq"], row["kind"])] = row
        self.assertEqual(EVENTS, len(live), "every live row is in the fallback")
        replayed = {(r["seq"], r["kind"]): r for r in c_lines(self.c_jsonl)}
        self.assertEqual(set(live), set(replayed))
        flagged = 0
        for k, row in live.items():
            self.assertEqual(row["flags"], replayed[k]["flags"], "flags of %r" % (k,))
            self.assertEqual(row, replayed[k], "row %r" % (k,))  # and every other field
            flagged += row["flags"] != 0
        self.assertTrue(flagged > 0, "the recording should have flagged rows (simtrade before the open)")
        # Python reads the same flags from the archive
        py = {(e["seq"], e["kind"]): e["flags"] for e in sa.read_events(self.raw, source="sim")[0]}
        self.assertEqual(py, {k: r["flags"] for k, r in live.items()})
        # --mark-replay: the recording's flags plus SHJ_FLAG_REPLAY, on every row
        marked = os.path.join(self.dir, "marked.jsonl")
        shijim("replay.lua", "--archive-dir", self.raw, "--jsonl", marked, "--mark-replay")
        for r in c_lines(marked):
            self.assertEqual(r["flags"], live[(r["seq"], r["kind"])]["flags"] | sa.FLAG_REPLAY)

    def test_csv_same_bytes_and_exact(self):
        c_csv, p_csv = os.path.join(self.dir, "c.csv"), os.path.join(self.dir, "p.csv")
        shijim("replay.lua", "--archive-dir", self.raw, "--csv", c_csv)
        p = pycli("--dir", self.raw, "--source", "sim", "--csv", p_csv)
        self.assertEqual(0, p.returncode, p.stderr)
        with open(c_csv, "rb") as a, open(p_csv, "rb") as b:
            ca, cb = a.read(), b.read()
        self.assertEqual(ca, cb)
        lines = ca.decode().splitlines()
        self.assertEqual(EVENTS + 1, len(lines))
        header = lines[0].split(",")
        rows = c_lines(self.c_jsonl)
        for i in range(0, EVENTS, 499):
            cells = dict(zip(header, lines[i + 1].split(",")))
            j = rows[i]
            self.assertEqual(int(cells["seq"]), j["seq"])
            if j["kind"] == "bidask":
                for lv in range(5):
                    self.assertEqual(decimal.Decimal(cells["bid_price_%d" % lv]), j["bid_price"][lv])
                    self.assertEqual(int(cells["ask_volume_%d" % lv]), j["ask_volume"][lv])
                self.assertEqual(cells["close"], "")
            else:
                for f in ("open", "close", "avg_price", "amount_sum", "diff_rate"):
                    self.assertEqual(decimal.Decimal(cells[f]), j[f])
                    self.assertNotIn("e", cells[f])
                self.assertEqual(cells["bid_price_0"], "")

    def test_frames(self):
        dfs, rep = sa.read_frames(self.raw, source="sim", date=os.path.basename(self.files[0])[:10])
        c = c_lines(self.c_jsonl)
        ticks = [r for r in c if r["kind"] == "tick"]
        books = [r for r in c if r["kind"] == "bidask"]
        self.assertEqual(len(dfs["tick"]), len(ticks))
        self.assertEqual(len(dfs["bidask"]), len(books))
        for col in sa.price_columns(dfs["tick"]) + sa.price_columns(dfs["bidask"]):
            df = dfs["tick"] if col in dfs["tick"].columns else dfs["bidask"]
            self.assertEqual(str(df[col].dtype), "int64", col)
        self.assertEqual(list(sa.to_decimal(dfs["tick"]["close"])), [r["close"] for r in ticks])
        self.assertEqual(list(dfs["bidask"]["bid_price_0"]),
                         [int(r["bid_price"][0] * sa.PRICE_SCALE) for r in books])
        self.assertEqual(list(dfs["tick"]["seq"]), [r["seq"] for r in ticks])
        self.assertEqual(str(dfs["tick"]["time"].dt.tz), "UTC")
        self.assertEqual(list(dfs["tick"]["time"].astype("int64")), [r["ts"] for r in ticks])

    def test_damaged_files(self):
        src = self.files[0]
        with open(src, "rb") as f:
            data = bytearray(f.read())
        # the offset of the 3rd block (a header walk)
        import struct
        offs, off = [], 128
        while off < len(data):
            offs.append(off)
            off += 64 + struct.unpack_from("<I", data, off + 12)[0]
        self.assertTrue(len(offs) >= 5, "the recording should span several blocks")
        bad = os.path.join(self.dir, "flipped.shjraw")
        flipped = bytearray(data)
        flipped[offs[2] + 64 + 10] ^= 0x40  # a data byte of block 3
        put(bad, flipped)
        c_out = os.path.join(self.dir, "flipped.jsonl")
        p = shijim("replay.lua", "--files", bad, "--jsonl", c_out, check=False)
        self.assertEqual(1, p.returncode)
        m = re.search(r"torn/corrupt block at byte offset (\d+): ([^\n;]+)", p.stderr)
        self.assertTrue(m, p.stderr)
        self.assertEqual(int(m.group(1)), offs[2])
        evs, rep = sa.read_events(files=[bad])
        self.assertEqual(len(rep.damage), 1)
        d = rep.damage[0]
        self.assertEqual(d.offset, offs[2])
        self.assertEqual(d.reason, "data checksum (XXH64) mismatch")
        self.assertEqual(d.skip_to, offs[3])  # resynced on the next block
        self.assertIn(d.message(), p.stderr)
        self.assert_same_events(c_lines(c_out), evs, "flipped byte")
        self.assertTrue(0 < len(evs) < EVENTS)
        q = pycli(bad, "--check")
        self.assertEqual(1, q.returncode)
        self.assertIn("byte offset %d" % offs[2], q.stderr)

        # torn tail: cut inside the 4th block; nothing valid follows
        torn = os.path.join(self.dir, "torn.shjraw")
        put(torn, data[:offs[3] + 100])
        evs, rep = sa.read_events(files=[torn])
        self.assertEqual(len(rep.damage), 1)
        self.assertEqual(rep.damage[0].offset, offs[3])
        self.assertIsNone(rep.damage[0].skip_to)
        self.assertIn("stored bytes, file has", rep.damage[0].reason)
        c_out = os.path.join(self.dir, "torn.jsonl")
        shijim("replay.lua", "--files", torn, "--jsonl", c_out, check=False)
        self.assert_same_events(c_lines(c_out), evs, "torn tail")

        # a damaged file header: nothing is read, the file is named
        hdr = os.path.join(self.dir, "hdr.shjraw")
        h = bytearray(data)
        h[30] ^= 1
        put(hdr, h)
        evs, rep = sa.read_events(files=[hdr])
        self.assertEqual(evs, [])
        self.assertEqual(len(rep.unreadable), 1)
        self.assertIn("torn/corrupt file header at byte offset 0: file header checksum mismatch",
                      rep.unreadable[0][1])
        self.assertEqual(rep.bad_files, 1)

    def test_missing_day_lists_days(self):
        with self.assertRaises(sa.ArchiveError) as cm:
            sa.read_events(self.raw, source="sim", date="2001-01-01")
        self.assertIn(os.path.basename(self.files[0])[:10], str(cm.exception))


def fixture_payloads():
    d = os.path.join(SRC, "tests", "fixtures", "sinopac", "sse")
    tags = {v: k for k, v in sa.TAG_NAMES.items()}
    out, fixture = [], None
    with open(os.path.join(d, "MANIFEST")) as f:
        for line in f:
            if line.startswith("fixture "):
                fixture = line.split()[1]
            elif line.startswith("tag ") and fixture:
                with open(os.path.join(d, fixture), "rb") as pf:
                    out.append((tags[line.split()[1]], pf.read()))
                fixture = None
    return out


# Hand-made payloads: the parser's rules (runtime/parse/parse.h) at their edges.
T = '"code":"2330","date":"2026-05-21","time":"09:18:31.867798"'
EDGE = [
    (1, '{%s,"close":"29.9","avg_price":"1.1234567","pct_chg":33,"volume":"12"}' % T),  # lost; pct 0.33
    (1, '{%s,"close":"29.9","pct_chg":0.5,"price_chg":null,"chg_type":2}' % T),
    (3, '{"code":"TXFF6","date":"2026-05-21","time":"09:00:00","close":"40608","pct_chg":"1.206261"}'),
    (1, '{%s,"close":"1","close":"2.5","x":{"a":[1,{"b":null}]},"cl\\u006fse":"3"}' % T),
    (1, '{%s,"close":"abc"}' % T),                   # malformed: the trade price
    (1, '{"code":"2330","time":"09:00:00","close":"1"}'),  # malformed: no date
    (1, '{"code":"2330",'),                          # malformed JSON
    (7, '{}'), (7, 'x'),                             # control; malformed
    (2, '{%s,"bid_price":["1","2","3","4","5","6"],"bid_volume":[1,null,"3",4,5],'
        '"ask_price":["1.5"],"ask_volume":[]}' % T),  # six levels, null: lost
    (5, '{%s,"close":"10"}' % T),                    # quote without a book: one event
    (5, '{%s,"close":"10","bid_price":["9"]}' % T),  # quote + malformed book half
    (1, '{%s,"close":"5","volume":1.5,"vol_sum":99999999999,"tick_type":200}' % T),  # lost x3
    (1, '{%s,"close":"5","volume":3000000000}' % T),  # int32 overflow: lost
    (1, '{%s,"close":"5","simtrade":1}' % T),        # not a boolean: lost
    (1, '{"code":"2330","date":"2026-02-30","time":"09:00:00","close":"1"}'),  # no such day
    (1, '{"code":"23 30","date":"2026-05-21","time":"09:00:00","close":"1"}'),  # bad code
    (0, '{"anything":1}'), (9, '{"order":1}'),       # unknown tag, order_event: not market data
    (1, '{%s,"close":"5"} x' % T),                   # trailing bytes
    (1, '{%s,"close":585.5,"open":1e3}' % T),        # number price; exponent: lost
    (1, '{%s,"close":1e3}' % T),                     # exponent trade price: malformed
    (1, '[1]'),
    (1, '{%s,"close":"-1.5","backfill":true,"intraday_odd":true,"suspend":true}' % T),
    (1, '{%s,"close":"5","vol_sum":"9223372036854775807","amount_sum":"9223372036854.775807"}' % T),
    (1, '{%s,"close":"5","vol_sum":"9223372036854775808","amount_sum":"9223372036855"}' % T),
    (1, '{%s,"close":"5","time":"09:00:00.123456789","name":"\u53f0\u7a4d\u96fb"}' % T),
    (3, '{"code":"ZZZ1","date":"2026-05-21","time":"09:00:00","close":"7"}'),
    (1, '{"code":"ZZZ1","date":"2026-05-21","time":"09:00:00","close":"7"}'),  # keeps TAIFEX/FUT
    (8, '{"exchange":"TSE","code":"001","Date":"2026-05-21","Time":"09:00:00.000000","Open":"1",'
        '"Close":"23000.5","VolSum":"5","Volume":"1"}'),
    (1, '{%s,"close":"5","tick_type":"+1","chg_type":"007"}' % T),
    (1, '  {\n  %s ,\t"close" : "5.000000000"  }  ' % T),  # whitespace; zeros past 6 places
    (1, '{%s,"close":"5.0000001"}' % T),             # too precise trade price: malformed
]


class SinopacAndEdges(Base):
    def test_fixtures_and_edges_equal_replay(self):
        payloads = fixture_payloads()
        self.assertTrue(len(payloads) >= 45, "MANIFEST lists the samples")
        payloads += [(t, p.encode("utf-8")) for t, p in EDGE]
        payloads.append((1, b'{"code":"2330","date":"2026-05-21","time":"09:00:00","close":"1","n":"\xff"}'))
        d = tempfile.mkdtemp(prefix="shj-pyarc-fx-")
        try:
            path = os.path.join(d, "fixtures.shjraw")
            arcwrite.write(path, payloads)
            out = os.path.join(d, "c.jsonl")
            p = shijim("replay.lua", "--files", path, "--jsonl", out)
            evs, rep = sa.read_events(files=[path])
            self.assertEqual(rep.records, len(payloads))
            c = c_lines(out)
            self.assert_same_events(c, evs, "Sinopac samples + edge payloads")
            kinds = {e["kind"] for e in evs}
            self.assertEqual(kinds, {"tick", "bidask", "quote"})
            self.assertTrue(any(e["flags"] & sa.FLAG_FIELD_LOST for e in evs))
            self.assertTrue(any(e["payload_tag"] == 8 for e in evs))  # quote_idx
            m = re.search(r"malformed (\d+)", p.stderr)
            self.assertTrue(m, p.stderr)
            self.assertEqual(int(m.group(1)), rep.malformed)
            self.assertTrue(rep.malformed >= 10)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
