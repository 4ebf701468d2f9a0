"""shijim_archive.archive — the .shjraw container: files, blocks, records.

Owns: reading one raw archive file (docs/raw-archive.md, the layout of
runtime/archive/archive_format.h) into records (seq, recv_ns, tag, payload).

Guarantees (the same as the C reader, runtime/archive/archive_read.c):
  - a block's records are returned only after the whole block passed every
    check: header XXH32, sane lengths, stored-bytes XXH64, exact LZ4 size,
    record framing that agrees with the header (count, first/last seq, every
    recv_ns within min/max, no bytes left over);
  - the first failing block is reported as a Damage naming the file and
    byte offset, with the C reader's wording ("torn/corrupt block at byte
    offset N: reason"); with resync (the default, like replay and
    `shijim dump --resync`) reading goes on at the next block that passes
    every check, and the skipped byte range is reported too;
  - nothing is ever decoded from bytes that failed a check.
Pure Python plus python3-lz4 and python3-xxhash (Debian packages).
"""
import mmap
import os
import struct

import lz4.block
import xxhash

FILE_MAGIC = b"\x89SHJRAW\n"
FILE_HDR_BYTES = 128
FORMAT_VERSION = 1
BLOCK_MAGIC = b"SHJB"
BLOCK_HDR_BYTES = 64
CODEC_NONE = 0
CODEC_LZ4 = 1
MAX_RECORD_BYTES = 32 << 20
MAX_BLOCK_BYTES = 32 << 20
MAX_BLOCK_RAW = MAX_BLOCK_BYTES + MAX_RECORD_BYTES + 64
REC_MIN_BYTES = 4

# psr_tag (runtime/parse/parse.h): stable values, stored as one byte.
TAG_NAMES = {
    0: "unknown", 1: "tick_stk", 2: "bidask_stk", 3: "tick_fop", 4: "bidask_fop",
    5: "quote_stk", 6: "quote_fop", 7: "heartbeat", 8: "quote_idx", 9: "order_event",
    10: "contract_event",
}

_BH = struct.Struct("<4sBBHIII QQqqQI")  # the 64-byte block header
_U64 = (1 << 64) - 1


class ArchiveError(Exception):
    """A file that cannot be read at all (missing, not an archive, newer format)."""


class Damage:
    """One damaged place in a file: where, why, and (after a resync) which
    byte range [skip_from, skip_to) was passed over (skip_to None: nothing
    valid follows, i.e. a torn tail)."""

    __slots__ = ("path", "offset", "reason", "skip_from", "skip_to")

    def __init__(self, path, offset, reason):
        self.path, self.offset, self.reason = path, offset, reason
        self.skip_from, self.skip_to = offset, None

    def message(self):
        return "file %s: torn/corrupt block at byte offset %d: %s" % (self.path, self.offset, self.reason)

    def __repr__(self):
        return "Damage(%r)" % self.message()


class FileHeader:
    __slots__ = ("version", "created_ns", "day", "source")

    def __init__(self, version, created_ns, day, source):
        self.version, self.created_ns, self.day, self.source = version, created_ns, day, source


def _lz4_bound(n):
    return n + n // 255 + 16  # LZ4_compressBound


def _unzigzag(z):
    return (z >> 1) ^ -(z & 1)


def decode_file_header(b, path):
    """The 128-byte file header -> FileHeader; ArchiveError with the C reader's wording."""
    if len(b) < FILE_HDR_BYTES:
        raise ArchiveError("file %s: torn/corrupt file header at byte offset 0: only %d of %d bytes"
                           % (path, len(b), FILE_HDR_BYTES))
    why = None
    if b[:8] != FILE_MAGIC:
        why = "bad magic: not a Shijim raw archive"
    elif xxhash.xxh32_intdigest(bytes(b[:124]), 0) != struct.unpack_from("<I", b, 124)[0]:
        why = "file header checksum mismatch"
    else:
        version, hdr_len = struct.unpack_from("<HH", b, 8)
        if version != FORMAT_VERSION:
            msg = "format version %d, this build reads version %d" % (version, FORMAT_VERSION)
            if version > FORMAT_VERSION:
                raise ArchiveError("file %s: %s" % (path, msg))
            why = msg
        elif hdr_len != FILE_HDR_BYTES:
            why = "file header size %d, expected %d" % (hdr_len, FILE_HDR_BYTES)
    if why:
        raise ArchiveError("file %s: torn/corrupt file header at byte offset 0: %s" % (path, why))
    created = struct.unpack_from("<q", b, 16)[0]
    day = bytes(b[24:40]).split(b"\0", 1)[0].decode("ascii", "replace")
    source = bytes(b[40:119]).split(b"\0", 1)[0].decode("utf-8", "replace")
    return FileHeader(version, created, day, source)


def _check_block_header(h):
    """Field checks after the checksum (arc__block_hdr_decode). None or the reason."""
    magic, codec, flags, reserved, raw_len, stored_len, n_rec, first, last, rmin, rmax, dh, check = h
    if codec not in (CODEC_NONE, CODEC_LZ4):
        return "unknown codec %d" % codec
    if flags != 0 or reserved != 0:
        return "unknown block flags"
    if raw_len == 0 or raw_len > MAX_BLOCK_RAW:
        return "raw length %d out of range" % raw_len
    if n_rec == 0 or n_rec > raw_len // REC_MIN_BYTES:
        return "%d records cannot fit in %d bytes" % (n_rec, raw_len)
    if (stored_len != raw_len) if codec == CODEC_NONE else (stored_len == 0 or stored_len > _lz4_bound(raw_len)):
        return "stored length %d impossible for raw length %d" % (stored_len, raw_len)
    if rmin > rmax:
        return "min recv_ns after max recv_ns"
    return None


def _varint(raw, p, end):
    """(value, next position) or None when truncated / longer than 10 bytes."""
    v = 0
    for i in range(10):
        if p + i >= end:
            return None
        b = raw[p + i]
        if i == 9 and b > 1:
            return None
        v |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            return v, p + i + 1
    return None


def _frame(raw, h):
    """Decodes every record of a block, checking framing against the header.
    Returns (records, None) or (None, reason)."""
    n_rec, first, last, rmin, rmax = h[6], h[7], h[8], h[9], h[10]
    end = len(raw)
    p = 0
    seq = 0
    recv = 0
    out = []
    for i in range(n_rec):
        a = _varint(raw, p, end)
        b = a and _varint(raw, a[1], end)
        c = b and _varint(raw, b[1], end)
        if not c:
            return None, "record %d of %d overruns the block (framing)" % (i, n_rec)
        ln, ds, dr, p = a[0], b[0], c[0], c[1]
        seq = (seq + _unzigzag(ds)) & _U64
        recv = (recv + _unzigzag(dr)) & _U64
        if p >= end or ln > end - p - 1:
            return None, "record %d of %d overruns the block (framing)" % (i, n_rec)
        tag = raw[p]
        payload = raw[p + 1:p + 1 + ln]
        p += 1 + ln
        if i == 0 and seq != first:
            return None, "first record seq %d != header first_seq %d" % (seq, first)
        srecv = recv - (1 << 64) if recv >> 63 else recv
        if srecv < rmin or srecv > rmax:
            return None, "record %d recv_ns outside the header's range" % i
        out.append((seq, srecv, tag, payload))
    if p != end:
        return None, "%d bytes left after the last record (framing)" % (end - p)
    if seq != last:
        return None, "last record seq %d != header last_seq %d" % (seq, last)
    return out, None


class ArchiveFile:
    """One .shjraw file, read with every check.

        f = ArchiveFile(path)
        for seq, recv_ns, tag, payload in f.records():   # payload: bytes
            ...
        f.damage      # list of Damage (empty: the file read cleanly)

    resync=True (default) passes over damaged blocks to the next valid one,
    as replay does; resync=False stops at the first damage like
    `shijim dump` without --resync."""

    def __init__(self, path, resync=True):
        self.path = path
        self.resync = resync
        self.damage = []
        self.blocks = 0
        self.records_read = 0
        with open(path, "rb") as fh:
            self.size = os.fstat(fh.fileno()).st_size
            self._buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        self.header = decode_file_header(self._buf[:FILE_HDR_BYTES], path)

    def close(self):
        if isinstance(self._buf, mmap.mmap):
            self._buf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _load(self, off):
        """The block at off: (records, end offset) or (None, reason)."""
        buf, size = self._buf, self.size
        if size - off < BLOCK_HDR_BYTES:
            return None, "only %d of %d block header bytes" % (size - off, BLOCK_HDR_BYTES)
        hb = buf[off:off + BLOCK_HDR_BYTES]
        if hb[:4] != BLOCK_MAGIC:
            return None, "bad block magic"
        if xxhash.xxh32_intdigest(hb[:60], 0) != struct.unpack_from("<I", hb, 60)[0]:
            return None, "block header checksum mismatch"
        h = _BH.unpack(hb)
        why = _check_block_header(h)
        if why:
            return None, why
        codec, raw_len, stored_len = h[1], h[4], h[5]
        body = off + BLOCK_HDR_BYTES
        if size - body < stored_len:
            return None, "block needs %d stored bytes, file has %d" % (stored_len, size - body)
        stored = buf[body:body + stored_len]
        if xxhash.xxh64_intdigest(stored, 0) != h[11]:
            return None, "data checksum (XXH64) mismatch"
        raw = stored
        if codec == CODEC_LZ4:
            try:
                raw = lz4.block.decompress(stored, uncompressed_size=raw_len)
            except Exception:  # lz4 says only "corrupt input": report the size like C does
                raw = b""
            if len(raw) != raw_len:
                return None, "lz4 decompression gave %d bytes, header says %d" % (
                    len(raw) if raw else -1, raw_len)
        recs, why = _frame(raw, h)
        if why:
            return None, why
        return recs, body + stored_len

    def blocks_iter(self):
        """Yields each verified block's records (a list of (seq, recv_ns, tag, payload))."""
        off = FILE_HDR_BYTES
        while off < self.size:
            recs, nxt = self._load(off)
            if recs is not None:
                self.blocks += 1
                self.records_read += len(recs)
                yield recs
                off = nxt
                continue
            dmg = Damage(self.path, off, nxt)
            self.damage.append(dmg)
            if not self.resync:
                return
            # Resync: the next "SHJB" that starts a block passing every check.
            pos = off + 1
            found = None
            while True:
                pos = self._buf.find(BLOCK_MAGIC, pos)
                if pos < 0:
                    break
                recs, nxt = self._load(pos)
                if recs is not None:
                    found = pos
                    break
                pos += 1
            if found is None:
                return  # a torn tail: nothing valid after the damage
            dmg.skip_to = found
            off = found

    def records(self):
        for recs in self.blocks_iter():
            yield from recs


def day_files(root, source, date_from=None, date_to=None):
    """The day files <root>/<source>/<YYYY-MM-DD>.shjraw within [date_from,
    date_to] (inclusive, "YYYY-MM-DD" or None), in date order. Only the
    documented name is assumed; which records a day holds is the writer's
    business (docs/raw-archive.md, "Trading day")."""
    d = os.path.join(root, source) if source else root
    names = []
    for n in os.listdir(d):
        if len(n) == 17 and n.endswith(".shjraw") and _is_date(n[:10]):
            if date_from and n[:10] < date_from:
                continue
            if date_to and n[:10] > date_to:
                continue
            names.append(n)
    names.sort()
    return [os.path.join(d, n) for n in names]


def _is_date(s):
    return (len(s) == 10 and s[4] == "-" and s[7] == "-" and s[:4].isdigit() and s[5:7].isdigit()
            and s[8:].isdigit())
