#!/usr/bin/env python3
"""Writes tests/vectors/peer/vectors.json: the node-to-node packets of
docs/scaling.md ("Node-to-node messages": 0x40 forwarded query, 0x41
forwarded answer, 0x42 record push, 0x43 push ack), in the format of
../shared/protocol-vectors/vectors.json (tests/vectors/peer/README.md says
what each field means).

The packets are built here, from the layout tables of PROTOCOL.md, and not
with the C++ codec, so the vectors test (tests/protocol/peer_codec_test.cc)
compares two independent encoders. Ed25519 is RFC 8032's reference
algorithm (section 6) in plain Python, checked first against the shared
register_signed vector, so no crypto package is needed. Run it after
changing a vector; the output is deterministic.

Usage: scripts/gen-peer-vectors.py [SHARED_VECTORS_JSON]
"""
import hashlib
import json
import pathlib
import struct
import sys
import zlib

root = pathlib.Path(__file__).resolve().parent.parent
shared = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
    root.parent / "shared" / "protocol-vectors" / "vectors.json")
out = root / "tests" / "vectors" / "peer" / "vectors.json"

# --- Ed25519 (RFC 8032 section 6) --------------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    # Extended homogeneous coordinates (X, Y, Z, T).
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(pt):
    zinv = pow(pt[2], P - 2, P)
    x, y = pt[0] * zinv % P, pt[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _hash_int(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % Q


def ed25519_sign(seed, msg):
    """(public key, signature) of `msg` under the 32-byte `seed`."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    public = _compress(_mul(a, G))
    r = _hash_int(h[32:] + msg)
    big_r = _compress(_mul(r, G))
    s = (r + _hash_int(big_r + public + msg) * a) % Q
    return public, big_r + int.to_bytes(s, 32, "little")


# --- packets (PROTOCOL.md "Header", "Check trailer", "Inquiry protocol") --------

SEED = bytes(range(32))  # the shared vectors' ed25519_seed
CONTROL = 0
FORWARDED_QUERY, FORWARDED_ANSWER = 0x40, 0x41
RECORD_PUSH, PUSH_ACK = 0x42, 0x43
CRC, ED25519 = 5, 7
OK, MALFORMED, INVALID_FIELD, RATE_LIMITED, TOO_LARGE, INCOMPLETE = \
    0, 1, 5, 7, 10, 12
TRAILER = {CRC: 4, ED25519: 96}


def packet(ptype, txid, check, status, count, body):
    total = 16 + len(body) + TRAILER[check]
    head = struct.pack(">HBBHHIBBH", 1, CONTROL, ptype, 16, total, txid,
                       check, status, count)
    covered = head + body
    if check == CRC:
        return covered + struct.pack(">I", zlib.crc32(covered))
    public, signature = ed25519_sign(SEED, covered)
    return covered + public + signature


def query_body(entries, wanted_from=1767225600, wanted_until=0,
               currency=156, max_results=10, cursor=0):
    """Query descriptor and entries (resource, unit, max price, min qty)."""
    body = struct.pack(">QQHHI", wanted_from, wanted_until, currency,
                       max_results, cursor)
    for resource, unit, max_price, min_quantity in entries:
        body += struct.pack(">HBBII", resource, unit, 0, max_price,
                            min_quantity)
    return body


DEVICE = bytes.fromhex("00112233445566778899aabbccddeeff")
CONTACT = bytes.fromhex("20010db8000000000000000000000001")


def offer(device, quantity, price, flags, unit=1, resource=1):
    """A 72-byte offer: contact 2001:db8::1 port 7400, computer, CNY,
    valid 2026-01-01 00:00 to 2026-01-02 00:00 UTC."""
    return device + CONTACT + struct.pack(
        ">HHHHBBHIIIQQ", 7400, 1, 156, resource, unit, flags, 0, quantity,
        price, 0, 1767225600, 1767312000)


def answer_body(total, next_cursor, offers):
    return struct.pack(">II", total, next_cursor) + b"".join(offers)


def push_body(records, lengths=None):
    """Records of a 0x42, each after its 2-byte length (`lengths` overrides
    the true ones, for bad vectors)."""
    lengths = lengths or [len(r) for r in records]
    return b"".join(struct.pack(">H", n) + r for n, r in zip(lengths, records))


# DHT records as docs/storage.md encodes them (msgpack), copied from
# tests/fuzz/corpus/decode_record/: unsigned_offer (86 bytes) and
# unsigned_tombstone_extremes (96 bytes). The codec treats them as opaque.
OFFER_RECORD = bytes.fromhex(
    "dc001101c41001111111111111111111111111111111c41020010db800000000000000"
    "0000000001cd1b5801cd03d201010004cd03e8ce6955b900ce6955c71001c2c4102001"
    "0db8000000000000000000000001c400")
TOMBSTONE_RECORD = bytes.fromhex(
    "dc001101c41001111111111111111111111111111111c41020010db800000000000000"
    "0000000001cd1b5801cd03d201010004ceffffffffce6955b900ce6955c710cfffffff"
    "ffffffffffc3c41020010db8000000000000000000000001c400")


def filler(n, start=0):
    """`n` arbitrary record bytes (a counter), for size-bound vectors."""
    return bytes((start + i) % 251 for i in range(n))


CPU_ENTRIES = [(1, 0xFF, 300, 4), (1, 1, 0xFFFFFFFF, 16)]
TWO_OFFERS = [offer(DEVICE, 8, 250, 1),
              offer(bytes(reversed(DEVICE)), 16, 280, 0)]


def valid(name, note, raw, ptype, txid, check, count, status=None):
    v = {"name": name, "hex": raw.hex(), "note": note, "expect": "valid",
         "protocol": CONTROL, "type": ptype, "txid": txid,
         "check_type": check, "count": count}
    if status is not None:
        v["status"] = status
    if check == ED25519:
        v["ed25519_seed"] = SEED.hex()
    return v


def refused(name, note, raw, txid, status, answered=True):
    v = {"name": name, "hex": raw.hex(), "note": note}
    if answered:
        v.update({"expect": "answer", "answer_status": status, "txid": txid})
    else:
        v.update({"expect": "no_answer", "decode_status": status,
                  "txid": txid})
    return v


def vectors():
    query = query_body(CPU_ENTRIES)
    crc_query = packet(FORWARDED_QUERY, 0x101, CRC, OK, 2, query)
    too_many = [offer(bytes([i]) * 16, i + 1, 100 + i, 0) for i in range(17)]
    return [
        valid("forwarded_query_crc",
              "forwarded query 0x40: CPU any unit at most 3.00 with >= 4 "
              "cores, or per hour any price with >= 16; from 2026-01-01, "
              "CNY, 10 results; CRC-32", crc_query, FORWARDED_QUERY, 0x101,
              CRC, 2),
        valid("forwarded_query_signed",
              "the same forwarded query signed with Ed25519 by the "
              "forwarder; private key seed = bytes 0x00..0x1f",
              packet(FORWARDED_QUERY, 0x102, ED25519, OK, 2, query),
              FORWARDED_QUERY, 0x102, ED25519, 2),
        valid("forwarded_answer_ok",
              "forwarded answer 0x41 to forwarded_query_crc, OK: two CPU "
              "offers from 2001:db8::1 port 7400 (8 cores at 2.50/hour, "
              "signed; 16 cores at 2.80/hour)",
              packet(FORWARDED_ANSWER, 0x101, CRC, OK, 2,
                     answer_body(2, 0, TWO_OFFERS)),
              FORWARDED_ANSWER, 0x101, CRC, 2, OK),
        valid("forwarded_answer_incomplete",
              "forwarded answer, INCOMPLETE with nothing (an aggregator not "
              "warm for the id): total 0, no offers",
              packet(FORWARDED_ANSWER, 0x103, CRC, INCOMPLETE, 0,
                     answer_body(0, 0, [])),
              FORWARDED_ANSWER, 0x103, CRC, 0, INCOMPLETE),
        valid("forwarded_answer_rate_limited",
              "forwarded answer with an error status: empty body, count 0",
              packet(FORWARDED_ANSWER, 0x104, CRC, RATE_LIMITED, 0, b""),
              FORWARDED_ANSWER, 0x104, CRC, 0, RATE_LIMITED),
        refused("forwarded_query_multi_id",
                "forwarded query naming CPU and print: only one-id queries "
                "are forwarded",
                packet(FORWARDED_QUERY, 0x105, CRC, OK, 2,
                       query_body([(1, 0xFF, 300, 4),
                                   (3, 2, 0xFFFFFFFF, 0)])),
                0x105, INVALID_FIELD),
        refused("peer_type_0x44",
                "control type 0x44 (implementation range, unused) with a "
                "query body",
                packet(0x44, 0x106, CRC, OK, 2, query), 0x106, MALFORMED),
        refused("forwarded_query_truncated",
                "forwarded_query_crc less its last 10 bytes: shorter than "
                "its total length", crc_query[:-10], 0x101, MALFORMED),
        refused("forwarded_answer_too_large",
                "forwarded answer with 17 offers: 1252 bytes, over 1232; "
                "an answer is never answered",
                packet(FORWARDED_ANSWER, 0x107, CRC, OK, 17,
                       answer_body(17, 0, too_many)),
                0x107, TOO_LARGE, answered=False),
    ] + push_vectors()


def push_vectors():
    """0x42 record push and 0x43 push ack. A refused push is not answered
    (docs/scaling.md), nor is an ack (an answer): all `no_answer`."""
    one = push_body([OFFER_RECORD])
    two = push_body([OFFER_RECORD, TOMBSTONE_RECORD])
    return [
        valid("record_push_one",
              "record push 0x42: one DHT record (msgpack, 86 bytes: a CPU "
              "offer, unsigned); CRC-32",
              packet(RECORD_PUSH, 0x110, CRC, OK, 1, one), RECORD_PUSH,
              0x110, CRC, 1),
        valid("record_push_two",
              "record push of two records: the offer and a tombstone (96 "
              "bytes); CRC-32", packet(RECORD_PUSH, 0x111, CRC, OK, 2, two),
              RECORD_PUSH, 0x111, CRC, 2),
        valid("record_push_signed",
              "record_push_one signed with Ed25519 by the pusher; private "
              "key seed = bytes 0x00..0x1f",
              packet(RECORD_PUSH, 0x112, ED25519, OK, 1, one), RECORD_PUSH,
              0x112, ED25519, 1),
        valid("record_push_one_large",
              "record push of one 2000-byte record (arbitrary bytes): 2022 "
              "bytes, over 1232, which one record may be",
              packet(RECORD_PUSH, 0x113, CRC, OK, 1,
                     push_body([filler(2000)])),
              RECORD_PUSH, 0x113, CRC, 1),
        valid("push_ack_ok",
              "push ack 0x43 to record_push_one, OK: every record handled",
              packet(PUSH_ACK, 0x110, CRC, OK, 0, b""), PUSH_ACK, 0x110, CRC,
              0, OK),
        valid("push_ack_incomplete",
              "push ack to record_push_two, INCOMPLETE: an id not "
              "aggregated here", packet(PUSH_ACK, 0x111, CRC, INCOMPLETE, 0,
                                        b""),
              PUSH_ACK, 0x111, CRC, 0, INCOMPLETE),
        valid("push_ack_rate_limited",
              "push ack, RATE_LIMITED: over the peer budget, nothing taken",
              packet(PUSH_ACK, 0x114, CRC, RATE_LIMITED, 0, b""), PUSH_ACK,
              0x114, CRC, 0, RATE_LIMITED),
        refused("record_push_zero_count",
                "record push with item count 0 and no body",
                packet(RECORD_PUSH, 0x120, CRC, OK, 0, b""), 0x120,
                MALFORMED, answered=False),
        refused("record_push_too_many",
                "record push of 65 one-byte records: over 64",
                packet(RECORD_PUSH, 0x121, CRC, OK, 65,
                       push_body([bytes([i]) for i in range(65)])),
                0x121, MALFORMED, answered=False),
        refused("record_push_empty_record",
                "record push whose one record has length 0",
                packet(RECORD_PUSH, 0x122, CRC, OK, 1, b"\x00\x00"), 0x122,
                MALFORMED, answered=False),
        refused("record_push_record_too_long",
                "record push of one record of 4097 bytes: over 4096",
                packet(RECORD_PUSH, 0x123, CRC, OK, 1,
                       push_body([filler(4097)])),
                0x123, MALFORMED, answered=False),
        refused("record_push_truncated",
                "record push of two records whose second length (96) runs "
                "past the body: the tombstone less its last 10 bytes",
                packet(RECORD_PUSH, 0x124, CRC, OK, 2,
                       push_body([OFFER_RECORD, TOMBSTONE_RECORD[:-10]],
                                 [len(OFFER_RECORD), len(TOMBSTONE_RECORD)])),
                0x124, MALFORMED, answered=False),
        refused("record_push_trailing_bytes",
                "record_push_one with 3 bytes after its one record",
                packet(RECORD_PUSH, 0x125, CRC, OK, 1, one + b"\x00\x01\x02"),
                0x125, MALFORMED, answered=False),
        refused("record_push_too_large",
                "record push of two 700-byte records: 1424 bytes, over 1232 "
                "for more than one record",
                packet(RECORD_PUSH, 0x126, CRC, OK, 2,
                       push_body([filler(700), filler(700, 7)])),
                0x126, TOO_LARGE, answered=False),
        refused("push_ack_with_body",
                "push ack, OK, item count 0 but a 4-byte body",
                packet(PUSH_ACK, 0x127, CRC, OK, 0, b"\x00\x00\x00\x01"),
                0x127, MALFORMED, answered=False),
        refused("push_ack_unknown_status",
                "push ack with status 13 (unknown)",
                packet(PUSH_ACK, 0x128, CRC, 13, 0, b""), 0x128,
                INVALID_FIELD, answered=False),
    ]


def main():
    # The Python Ed25519 must reproduce the shared signed vector first.
    reference = next(v for v in json.loads(shared.read_text())["vectors"]
                     if v["name"] == "register_signed")
    raw = bytes.fromhex(reference["hex"])
    public, signature = ed25519_sign(
        bytes.fromhex(reference["ed25519_seed"]), raw[:-96])
    if public + signature != raw[-96:]:
        sys.exit("Ed25519 here does not reproduce register_signed")
    doc = {"spec": "docs/scaling.md \"Node-to-node messages\" (control "
                   "types 0x40-0x43 of PROTOCOL.md v1, revision 1.1)",
           "vectors": vectors()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(doc['vectors'])} vectors to {out}")


if __name__ == "__main__":
    main()
