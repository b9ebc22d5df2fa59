#!/usr/bin/env python3
"""Writes the seed corpus of the decode_packet fuzz target: one binary file
per vector of ../shared/protocol-vectors/vectors.json, plus a few packets the
vectors lack (ping answer, withdraw answer, bare error answers, a header
longer than 16 bytes), built here with CRC-32 (check type 5).

Then the corpus of the peer_packet target: one file per vector of
tests/vectors/peer/vectors.json (scripts/gen-peer-vectors.py), plus
node-to-node packets those lack (error answers, a header longer than 16
bytes, the largest answer that fits, pushes at their bounds, an ack with an
error status, unused type 0x7F), CRC-32 too. Delete a seed by hand when
its vector or extra goes.

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
peer_vectors = root / "tests" / "vectors" / "peer" / "vectors.json"
peer_out = root / "tests" / "fuzz" / "corpus" / "peer_packet"
peer_out.mkdir(parents=True, exist_ok=True)


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

# Node-to-node packets (docs/scaling.md): control 0x40 - 0x43.
cpu_query = struct.pack(">QQHHI", 0, 0, 0, 0, 0) + \
    struct.pack(">HBBII", 1, 0xFF, 0, 0xFFFFFFFF, 1)
offer = device + bytes(16) + struct.pack(">HHHHBBHIIIQQ", 7400, 1, 156, 1, 1,
                                         0, 0, 8, 250, 0, 1000, 2000)
peer_extra = {
    "forwarded_answer_not_authorized": packet(0, 0x41, 0x201, 6, 0, b""),
    "forwarded_answer_malformed": packet(0, 0x41, 0x202, 1, 0, b""),
    "forwarded_query_long_header": packet(0, 0x40, 0x203, 0, 1, cpu_query,
                                          header_extra=b"\xee" * 4),
    "forwarded_answer_16_offers": packet(
        0, 0x41, 0x204, 0, 16, struct.pack(">II", 16, 0) + offer * 16),
    "peer_type_0x7f": packet(0, 0x7F, 0x205, 0, 1, cpu_query),
    # 0x42: 64 records of 13 bytes (980 bytes, under 1,232); one record
    # of 4,096 bytes; a header longer than 16 bytes.
    "record_push_64_records": packet(
        0, 0x42, 0x206, 0, 64,
        b"".join(struct.pack(">H", 13) + bytes([i]) * 13 for i in range(64))),
    "record_push_4096_bytes": packet(
        0, 0x42, 0x207, 0, 1,
        struct.pack(">H", 4096) + bytes(i % 256 for i in range(4096))),
    "record_push_long_header": packet(0, 0x42, 0x208, 0, 1,
                                      struct.pack(">H", 3) + b"\x91\x01\x02",
                                      header_extra=b"\xee" * 4),
    "push_ack_not_authorized": packet(0, 0x43, 0x209, 6, 0, b""),
}


def write(directory, named_vectors, extras):
    count = 0
    for v in named_vectors:
        (directory / (v["name"] + ".bin")).write_bytes(bytes.fromhex(v["hex"]))
        count += 1
    for name, data in extras.items():
        (directory / (name + ".bin")).write_bytes(data)
        count += 1
    print(f"wrote {count} seeds to {directory}")


write(out, json.loads(vectors.read_text())["vectors"], extra)
write(peer_out, json.loads(peer_vectors.read_text())["vectors"], peer_extra)
