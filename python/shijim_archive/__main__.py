"""python3 -m shijim_archive — the archive as JSON lines or CSV, or a check.

    python3 -m shijim_archive FILE... [--jsonl OUT | --csv OUT] [--codes 2330,TXFL6]
    python3 -m shijim_archive --dir data/raw --source sim --date 2026-11-25 --check

Exit codes: 0 everything read, 1 a file was damaged or unreadable (each
damaged place is printed with its byte offset), 2 bad usage.
"""
import argparse
import sys

from . import csvout
from .archive import ArchiveError
from .reader import KIND_NAMES, Report, event_json, iter_events, select_files


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m shijim_archive",
                                 description="Read Shijim raw archive files (normalized events).")
    ap.add_argument("files", nargs="*", help="archive files, read in this order")
    ap.add_argument("--dir", help="archive root (with --source and --date/--from/--to)")
    ap.add_argument("--source", default="sim")
    ap.add_argument("--date")
    ap.add_argument("--from", dest="date_from")
    ap.add_argument("--to", dest="date_to")
    ap.add_argument("--codes", help="comma-separated codes (default: all)")
    ap.add_argument("--kinds", default=",".join(KIND_NAMES), help="tick,quote,bidask")
    ap.add_argument("--jsonl", help="write events as JSON lines (- = stdout)")
    ap.add_argument("--csv", help="write events as CSV (- = stdout; exact decimal prices)")
    ap.add_argument("--no-resync", action="store_true", help="stop a file at its first damaged block")
    ap.add_argument("--check", action="store_true", help="only read and verify; print the summary")
    a = ap.parse_args(argv)
    if bool(a.files) == bool(a.dir):
        ap.error("give archive files or --dir (not both)")
    if a.jsonl and a.csv:
        ap.error("--jsonl and --csv exclude each other")
    kinds = [k for k in a.kinds.split(",") if k]
    for k in kinds:
        if k not in KIND_NAMES:
            ap.error("--kinds: unknown kind %r (tick, quote, bidask)" % k)
    try:
        paths = select_files(a.dir, a.source, a.date, a.date_from, a.date_to, a.files or None)
    except (ArchiveError, OSError) as e:
        print("shijim_archive: %s" % e, file=sys.stderr)
        return 1
    rep = Report()
    codes = [c for c in a.codes.split(",") if c] if a.codes else None
    events = iter_events(paths, rep, codes, kinds, resync=not a.no_resync)
    target = a.jsonl or a.csv
    out = None
    if target:
        out = sys.stdout if target == "-" else open(target, "w", newline="")
    try:
        if a.jsonl:
            w = out.write
            for ev in events:
                w(event_json(ev))
                w("\n")
        elif a.csv:
            csvout.write_csv(events, out)
        else:
            for _ in events:
                pass
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
        elif out is not None:
            out.flush()
    for p, msg in rep.unreadable:
        print("shijim_archive: %s" % msg, file=sys.stderr)
    for d in rep.damage:
        skip = ("passed over bytes [%d, %d)" % (d.skip_from, d.skip_to) if d.skip_to is not None
                else "nothing valid after it")
        print("shijim_archive: %s (%s)" % (d.message(), skip), file=sys.stderr)
    for tag, msg in rep.first_errors.items():
        print("shijim_archive: malformed payload (first of its kind): %s" % msg, file=sys.stderr)
    print("shijim_archive: " + rep.summary(), file=sys.stderr)
    return 1 if rep.bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
