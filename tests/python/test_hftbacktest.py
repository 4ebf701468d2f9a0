#!/usr/bin/python3
"""test_hftbacktest.py — the export to hftbacktest's .npz event format.

A simulated recording is exported per instrument with
`python3 -m shijim_archive.hftbacktest`; the file must load as hftbacktest
loads it (np.load(...)["data"] with its event_dtype: nkaz001/hftbacktest
py-hftbacktest/hftbacktest/types.py) and hold exactly the instrument's
trades (trial matches left out) and book snapshots (a DEPTH_CLEAR per side,
then one DEPTH_SNAPSHOT per level), prices the nearest doubles of the exact
decimals, sides from tick_type, both time orders valid, no negative latency.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "python"))

import shijim_archive as sa  # noqa: E402
from shijim_archive import hftbacktest as hb  # noqa: E402

SHIJIM = os.environ.get("SHIJIM_BIN") or os.path.join(SRC, "build", "shijim")
ENV = dict(os.environ, PYTHONPATH=os.path.join(SRC, "python"))

# hftbacktest's event_dtype, written out here as the reference (types.py)
REF_DTYPE = np.dtype([("ev", "u8"), ("exch_ts", "i8"), ("local_ts", "i8"), ("px", "f8"), ("qty", "f8"),
                      ("order_id", "u8"), ("ival", "i8"), ("fval", "f8")], align=True)


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="shj-hbt-")
        # A simulated day opens with the TAIFEX night session (15:00 the day
        # before), so stocks and futures are recorded apart: a few thousand
        # events of each instead of the whole night first.
        cls.raw_stk = os.path.join(cls.dir, "raw-stk")
        cls.raw_fut = os.path.join(cls.dir, "raw-fut")
        cls.events = []
        for raw, which in ((cls.raw_stk, ["--futures", ""]), (cls.raw_fut, ["--stocks", ""])):
            p = subprocess.run([SHIJIM, "run", "main.lua", "--events", "6000", "--rate", "0", "--date",
                                "2026-11-25", "--dir", raw, "--quiet"] + which, capture_output=True, text=True)
            assert p.returncode == 0, p.stderr[-2000:]
            cls.events += sa.read_events(raw, source="sim")[0]
        cls.raw = cls.raw_stk

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def export(self, *args):
        return subprocess.run([sys.executable, "-m", "shijim_archive.hftbacktest"] + list(args),
                              capture_output=True, text=True, env=ENV)

    def check_code(self, code, raw):
        out = os.path.join(self.dir, code + ".npz")
        p = self.export("--dir", raw, "--source", "sim", "--code", code, "-o", out)
        self.assertEqual(0, p.returncode, p.stderr)
        with np.load(out) as z:
            self.assertEqual(list(z.keys()), ["data"])
            data = z["data"]
        self.assertEqual(data.dtype, REF_DTYPE)
        self.assertEqual(data.dtype.itemsize, 64)
        ev = data["ev"]
        exch = (ev & hb.EXCH_EVENT) != 0
        local = (ev & hb.LOCAL_EVENT) != 0
        self.assertTrue(np.all(exch | local))
        self.assertTrue(np.all(np.diff(data["exch_ts"][exch]) >= 0))
        self.assertTrue(np.all(np.diff(data["local_ts"][local]) >= 0))
        self.assertTrue(np.all(data["local_ts"] >= data["exch_ts"]))
        # every feed row once in each order: the exchange-ordered rows are the feed
        rows = data[exch]
        base = rows["ev"] & ~np.uint64(hb.EXCH_EVENT | hb.LOCAL_EVENT)
        self.assertEqual(int(local.sum()), len(rows))

        mine = [e for e in self.events if e["code"] == code]
        trades = [e for e in mine if e["kind"] != "bidask" and not e["flags"] & sa.FLAG_SIMTRADE
                  and e["volume"] > 0]
        books = [e for e in mine if e["kind"] == "bidask"]
        self.assertTrue(trades or books)
        is_trade = (base & np.uint64(0xFF)) == hb.TRADE_EVENT
        t = rows[is_trade]
        self.assertEqual(len(t), len(trades))
        want = sorted((e["ts"], e["seq"], e["close"] / sa.PRICE_SCALE, float(e["volume"]),
                       hb.BUY_EVENT if e["tick_type"] == 1 else hb.SELL_EVENT if e["tick_type"] == 2 else 0)
                      for e in trades)
        got = sorted((int(r["exch_ts"]), int(r["ival"]), float(r["px"]), float(r["qty"]),
                      int(r["ev"]) & (hb.BUY_EVENT | hb.SELL_EVENT)) for r in t)
        self.assertEqual(got, want)
        # books: per snapshot and side one clear then the non-empty levels
        kinds = Counter(int(b) & 0xFF for b in base)
        n_levels = sum(sum(1 for p, q in zip(e[pk], e[vk]) if p and q)
                       for e in books for pk, vk in (("bid_price", "bid_volume"), ("ask_price", "ask_volume")))
        n_sides = sum(1 for e in books for pk in ("bid_price", "ask_price") if any(e[pk]))
        self.assertEqual(kinds[hb.DEPTH_SNAPSHOT_EVENT], n_levels)
        self.assertEqual(kinds[hb.DEPTH_CLEAR_EVENT], n_sides)
        if books:
            b = books[0]
            snap = rows[(rows["ival"] == b["seq"]) & ((base & np.uint64(0xFF)) == hb.DEPTH_SNAPSHOT_EVENT)
                        & ((rows["ev"] & np.uint64(hb.BUY_EVENT)) != 0)]
            self.assertEqual(list(snap["px"]), [p / sa.PRICE_SCALE for p in b["bid_price"] if p])
            self.assertEqual(list(snap["qty"]), [float(q) for p, q in zip(b["bid_price"], b["bid_volume"]) if p])
        return len(data)

    def test_stock_and_future(self):
        codes = Counter(e["code"] for e in self.events)
        self.assertIn("2330", codes)
        fut = [c for c in codes if c.startswith("TXF")]
        self.assertTrue(fut, codes)
        self.assertTrue(self.check_code("2330", self.raw_stk) > 0)
        self.assertTrue(self.check_code(fut[0], self.raw_fut) > 0)

    def test_code_required_when_several(self):
        p = self.export("--dir", self.raw, "--source", "sim", "-o", os.path.join(self.dir, "x.npz"))
        self.assertEqual(2, p.returncode)
        self.assertIn("2330", p.stderr)
        p = self.export("--dir", self.raw, "--source", "sim", "--code", "NOPE", "-o", os.path.join(self.dir, "y.npz"))
        self.assertEqual(1, p.returncode)
        self.assertIn("no events for NOPE", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
