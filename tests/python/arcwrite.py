"""arcwrite.py — a minimal .shjraw writer for tests (docs/raw-archive.md, format 1).

Lets a test put any payload (Sinopac's samples, hand-made edge cases) into
an archive that both readers then read: `replay.lua --files` (C) and
shijim_archive (Python). Blocks alternate codecs so both paths are used.
Not a product: the runtime's writer is runtime/archive/archive.c.
"""
import struct

import lz4.block
import xxhash


def _varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _zigzag(d):
    d &= (1 << 64) - 1
    return ((d << 1) ^ (-(d >> 63) & ((1 << 64) - 1))) & ((1 << 64) - 1)


def file_header(day, source, created_ns=0):
    h = bytearray(128)
    h[0:8] = b"\x89SHJRAW\n"
    struct.pack_into("<HHIq", h, 8, 1, 128, 0, created_ns)
    h[24:24 + len(day)] = day.encode()
    h[40:40 + len(source)] = source.encode()
    struct.pack_into("<I", h, 124, xxhash.xxh32_intdigest(bytes(h[:124]), 0))
    return bytes(h)


def block(records, codec):
    """records: [(seq, recv_ns, tag, payload bytes)] -> header + stored bytes."""
    raw = bytearray()
    ps = pr = 0
    for seq, recv, tag, payload in records:
        raw += _varint(len(payload)) + _varint(_zigzag(seq - ps)) + _varint(_zigzag(recv - pr))
        raw.append(tag)
        raw += payload
        ps, pr = seq, recv
    raw = bytes(raw)
    stored = lz4.block.compress(raw, store_size=False) if codec == 1 else raw
    h = bytearray(64)
    struct.pack_into("<4sBBHIIIQQqqQ", h, 0, b"SHJB", codec, 0, 0, len(raw), len(stored), len(records),
                     records[0][0], records[-1][0], min(r[1] for r in records),
                     max(r[1] for r in records), xxhash.xxh64_intdigest(stored, 0))
    struct.pack_into("<I", h, 60, xxhash.xxh32_intdigest(bytes(h[:60]), 0))
    return bytes(h) + stored


def write(path, payloads, day="2026-05-21", source="sinopac", per_block=7, t0=1779326311000000000):
    """payloads: [(tag, bytes)] -> an archive file; seq from 1, recv 1 ms apart."""
    recs = [(i + 1, t0 + i * 1000000, tag, p) for i, (tag, p) in enumerate(payloads)]
    with open(path, "wb") as f:
        f.write(file_header(day, source))
        for k, i in enumerate(range(0, len(recs), per_block)):
            f.write(block(recs[i:i + per_block], k % 2))
