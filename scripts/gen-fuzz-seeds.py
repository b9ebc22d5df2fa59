#!/usr/bin/env python3
"""Writes the seed corpus of the decode_packet fuzz target: one binary file
per vector of ../shared/protocol-vectors/vectors.json, plus a few packets the
vectors lack (ping answer, withdraw answer, bare error answers, a header
longer than 16 bytes), built here with CRC-32 (check type 5).

Usage: scripts/gen-fuzz-seeds.py [VECTORS_JSON]
"""
import json
import pathlib
import struct
import sys
import zlib

root = pathlib.Path(__file__).resolve().parent.parent
vectors = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
    root.parent / "shared" / "protocol-vectors" / "vectors.json")
out = root / "tests" / "fuzz" / "corpus" / "decode_packet"
out.mkdir(parents=True, exist_ok=True)


def packet(protocol, ptype, txid, status, count, body, header_extra=b""):
    """A v1 packet under check type 5 (CRC-32)."""
    header_length = 16 + len(header_extra)
    total = header_length + len(body) + 4
    head = struct.pack(">HBBHHIBBH", 1, protocol, ptype, header_length, total,
                       txid, 5, status, count)
    covered = head + header_extra + body
    return covered + struct.pack(">I", zlib.crc32(covered))


device = bytes(range(0x00, 0x100, 0x11))
extra = {
    "ping_answer": packet(0, 2, 12, 0, 0, bytes(range(20)) +
                          struct.pack(">III", 5, 3, 3600) + bytes(32)),
    "withdraw_answer": packet(1, 4, 10, 0, 1, device +
                              struct.pack(">HBBHH", 1, 0, 0, 3, 0)),
    "error_answer_rate_limited": packet(2, 2, 11, 7, 0, b""),
    "error_answer_not_found": packet(1, 4, 10, 9, 0, b""),
    "withdraw_long_header": packet(1, 3, 10, 0, 1, device + b"\x00\x01",
                                   header_extra=b"\xee" * 4),
}

count = 0
for v in json.loads(vectors.read_text())["vectors"]:
    (out / (v["name"] + ".bin")).write_bytes(bytes.fromhex(v["hex"]))
    count += 1
for name, data in extra.items():
    (out / (name + ".bin")).write_bytes(data)
    count += 1
print(f"wrote {count} seeds to {out}")
