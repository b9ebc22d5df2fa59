#!/usr/bin/env python3
"""Tests of device/wireshark/crsp.lua with Debian's tshark (stdlib only).

Subcommands, one ctest test each (tests/device/wireshark/CMakeLists.txt):

  vectors  every packet of ../shared/protocol-vectors/vectors.json, written
           to a pcap with text2pcap (IPv6, UDP to port 7400, so the port
           registration is what picks the dissector), read with
           `tshark -T json`: header fields against the vector's own fields,
           body fields against `crsp decode` of the same bytes, check status,
           and the expert info each bad vector must raise. The node-to-node
           vectors of tests/vectors/peer/ (0x40 forwarded query, 0x41
           forwarded answer, 0x42 record push, 0x43 push ack) the same way,
           their body fields read here from the layout tables (`crsp
           decode` reads client packets only).
           Then generated packets of every type under every check type
           (checks computed here with hashlib/zlib), corrupted copies, and
           layout faults.
  live     a real capture (dumpcap on lo) of `crsp` sessions against a real
           crsp-node on an ephemeral [::1] port, read through "Decode As"
           (`-d udp.port==P,crsp`): every packet against `crsp decode`,
           every check type seen and verified, answers OK, offers decoded,
           and a bad-check datagram flagged.
  install  `cmake --install --component wireshark` into a temporary prefix
           puts crsp.lua where tshark's global Lua plugin folder is under
           that prefix, and the installed file loads.

Exit 77 (ctest SKIP_RETURN_CODE) when tshark is missing; `live` also skips
when not root and dumpcap may not capture. Every wait is bounded; the node
and dumpcap are stopped by pid, also on failure.
"""

import argparse
import calendar
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77

STATUS = ["OK", "MALFORMED", "BAD_CHECK", "UNSUPPORTED_VERSION",
          "UNSUPPORTED_CHECK", "INVALID_FIELD", "NOT_AUTHORIZED",
          "RATE_LIMITED", "STORAGE_FAILED", "NOT_FOUND", "TOO_LARGE",
          "INTERNAL", "INCOMPLETE"]
PROTOCOLS = {"control": 0, "registration": 1, "inquiry": 2}
TYPES = {"ping_request": 1, "ping_answer": 2, "register_request": 1,
         "register_answer": 2, "withdraw_request": 3, "withdraw_answer": 4,
         "query_request": 1, "query_answer": 2}
TRAILER = {0: 0, 1: 1, 2: 16, 3: 2, 4: 1, 5: 4, 6: 1, 7: 96}
CHECK_BAD, CHECK_GOOD, CHECK_UNVERIFIED = 0, 1, 2

# Fields whose tshark JSON value is a number (decimal or 0x hex).
INT_FIELDS = {
    "crsp.version", "crsp.protocol", "crsp.type", "crsp.header_length",
    "crsp.total_length", "crsp.txid", "crsp.check_type", "crsp.status",
    "crsp.count", "crsp.device_kind", "crsp.currency", "crsp.contact_port",
    "crsp.resource_id", "crsp.billing_unit", "crsp.flags", "crsp.quantity",
    "crsp.price", "crsp.entry_status", "crsp.replicas", "crsp.offers_stored",
    "crsp.peers", "crsp.uptime", "crsp.wanted_from", "crsp.wanted_until",
    "crsp.query_currency", "crsp.max_results", "crsp.cursor",
    "crsp.query_unit", "crsp.max_price", "crsp.min_quantity",
    "crsp.total_matches", "crsp.next_cursor", "crsp.check.status",
    "crsp.check_reserved", "crsp.flags.signed", "crsp.request_in",
    "crsp.answer_in", "crsp.resend_of", "crsp.record_length",
}
BYTES_FIELDS = {
    "crsp.device_id", "crsp.node_id", "crsp.node_public_key",
    "crsp.signer_public_key", "crsp.signature", "crsp.check",
    "crsp.check.computed", "crsp.reserved", "crsp.node_message",
    "crsp.body", "crsp.extra", "crsp.trailing", "crsp.header_extra",
    "crsp.record_data",
}
TIME_FIELDS = {"crsp.valid_from", "crsp.valid_until"}
# Expert infos that mean "this packet is wrong" (not notes).
FAULT_EXPERTS = {"crsp.expert.short", "crsp.expert.length",
                 "crsp.expert.bad_check", "crsp.expert.reserved",
                 "crsp.expert.version", "crsp.expert.invalid_field"}


class Failure(Exception):
    pass


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


# --- tshark -------------------------------------------------------------------


def tshark_env():
    env = dict(os.environ)
    env["LC_ALL"] = "C"  # month names in absolute times
    return env


def pairs_hook(pairs):
    # Keeps duplicate keys (tshark -T json repeats a key per occurrence).
    return pairs


def flatten(node, out):
    """(key, value) leaves of a pairs tree, in document order."""
    for key, value in node:
        if isinstance(value, list) and (not value or
                                        isinstance(value[0], tuple)):
            out.append((key, ""))
            flatten(value, out)
        elif isinstance(value, list):
            for v in value:
                out.append((key, v))
        else:
            out.append((key, value))
    return out


def dissect(args, pcap, extra=()):
    """One list per frame: the crsp layer's (field, value) leaves."""
    cmd = ["tshark", "-n", "-X", "lua_script:" + args.lua, "-r", pcap,
           "-T", "json"] + list(extra)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                         env=tshark_env())
    if run.returncode != 0:
        raise Failure("tshark failed (%d): %s" % (run.returncode, run.stderr))
    for text in (run.stderr, run.stdout):
        at = text.find("Lua Error")
        if at >= 0:
            raise Failure("Lua error in the dissector: " +
                          text[at:at + 300].split("\n")[0])
    frames = []
    for frame in json.loads(run.stdout, object_pairs_hook=pairs_hook):
        layers = dict(dict(dict(frame)["_source"])["layers"])
        leaves = []
        if "crsp" in layers:
            flatten(layers["crsp"], leaves)
        payload = ""
        if "udp" in layers:
            for k, v in flatten(layers["udp"], []):
                if k == "udp.payload":
                    payload = v.replace(":", "")
        frames.append({"crsp": "crsp" in layers, "leaves": leaves,
                       "payload": payload})
    return frames


def parse_time(text):
    # "Jan  1, 2026 00:00:00.000000000 UTC"
    # Past year 9999 (a corrupted time) strptime cannot read it: kept as text.
    short = " ".join(text.split(".")[0].split())
    try:
        return calendar.timegm(time.strptime(short, "%b %d, %Y %H:%M:%S"))
    except ValueError:
        return text


def fields(frame):
    """Field -> list of normalized values; experts under their abbrev."""
    out = {}
    for key, value in frame["leaves"]:
        if key in INT_FIELDS:
            value = int(value, 0)
        elif key in BYTES_FIELDS:
            value = value.replace(":", "")
        elif key in TIME_FIELDS:
            value = parse_time(value)
        out.setdefault(key, []).append(value)
    return out


def experts(f):
    return {k for k in f if k.startswith("crsp.expert.")}


def text2pcap(hex_packets, pcap, tmp):
    """Writes UDP datagrams [2001:db8::2]:40000 -> [2001:db8::1]:7400."""
    path = os.path.join(tmp, "packets.txt")
    with open(path, "w") as out:
        for h in hex_packets:
            b = bytes.fromhex(h)
            if not b:
                raise Failure("text2pcap cannot write an empty datagram")
            for i in range(0, len(b), 16):
                out.write("%06x %s\n" % (i, " ".join("%02x" % x
                                                      for x in b[i:i + 16])))
            out.write("\n")
    run = subprocess.run(["text2pcap", "-q", "-6", "2001:db8::2,2001:db8::1",
                          "-u", "40000,7400", path, pcap],
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise Failure("text2pcap failed: " + run.stderr)


# --- expected fields from `crsp decode` ----------------------------------------


def crsp_decode(args, hex_packet):
    run = subprocess.run([args.crsp, "decode", hex_packet],
                         capture_output=True, text=True, timeout=30)
    return run.returncode, json.loads(run.stdout) if run.stdout else {}


def expected_from_decode(d):
    """Field -> values the dissector must show, from crsp decode's JSON."""
    e = {}

    def add(field, value):
        e.setdefault(field, []).append(value)

    add("crsp.version", d["version"])
    add("crsp.protocol", PROTOCOLS[d["protocol"]])
    add("crsp.type", TYPES[d["type"]])
    add("crsp.header_length", d["header_length"])
    add("crsp.total_length", d["total_length"])
    add("crsp.txid", d["txid"])
    add("crsp.check_type", d["check_type"])
    add("crsp.status", STATUS.index(d["status"]))
    add("crsp.count", d["count"])
    t = d["type"]
    ct = d["check_type"]
    if ct == 7:
        add("crsp.check.status", CHECK_UNVERIFIED)
        add("crsp.signer_public_key", d["signer_public_key"])
    elif ct != 0:
        add("crsp.check.status", CHECK_GOOD if d["check_ok"] else CHECK_BAD)
    if t == "register_request":
        add("crsp.device_id", d["device_id"])
        add("crsp.device_kind", d["device_kind"])
        add("crsp.currency", d["currency"])
        add("crsp.contact_address", d["contact_address"])
        add("crsp.contact_port", d["contact_port"])
        for en in d["entries"]:
            for k in ("resource_id", "billing_unit", "quantity", "price",
                      "valid_from", "valid_until"):
                add("crsp." + k, en[k])
    elif t in ("register_answer", "withdraw_answer") and "device_id" in d:
        add("crsp.device_id", d["device_id"])
        for en in d["entries"]:
            add("crsp.resource_id", en["resource_id"])
            add("crsp.entry_status", STATUS.index(en["status"]))
            add("crsp.replicas", en["replicas"])
    elif t == "withdraw_request":
        add("crsp.device_id", d["device_id"])
        for rid in d["resource_ids"]:
            add("crsp.resource_id", rid)
    elif t == "query_request":
        add("crsp.wanted_from", d["wanted_from"])
        add("crsp.wanted_until", d["wanted_until"])
        add("crsp.query_currency", d["currency"])
        add("crsp.max_results", d["max_results"])
        add("crsp.cursor", d["cursor"])
        for en in d["entries"]:
            add("crsp.resource_id", en["resource_id"])
            add("crsp.query_unit", en["billing_unit"])
            add("crsp.max_price", en["max_price"])
            add("crsp.min_quantity", en["min_quantity"])
    elif t == "query_answer" and "total_matches" in d:
        add("crsp.total_matches", d["total_matches"])
        add("crsp.next_cursor", d["next_cursor"])
        for o in d["offers"]:
            for k in ("device_id", "contact_address", "contact_port",
                      "device_kind", "currency", "resource_id",
                      "billing_unit", "flags", "quantity", "price",
                      "valid_from", "valid_until"):
                add("crsp." + k, o[k])
    elif t == "ping_answer" and "node_id" in d:
        add("crsp.node_id", d["node_id"])
        add("crsp.offers_stored", d["offers"])
        add("crsp.peers", d["peers"])
        add("crsp.uptime", d["uptime"])
        add("crsp.node_public_key", d["public_key"])
    return e


def expected_from_bytes(raw):
    """Field -> values the dissector must show for a node-to-node packet
    (docs/scaling.md: 0x40 carries a query request body, 0x41 a query
    answer body, 0x42 records after their 2-byte lengths, 0x43 nothing),
    read from PROTOCOL.md's tables."""
    ver, proto, ptype, hl, total, txid, ct, status, count = struct.unpack(
        ">HBBHHIBBH", raw[:16])
    e = {}

    def add(field, value):
        e.setdefault(field, []).append(value)

    for k, v in (("version", ver), ("protocol", proto), ("type", ptype),
                 ("header_length", hl), ("total_length", total),
                 ("txid", txid), ("check_type", ct), ("status", status),
                 ("count", count)):
        add("crsp." + k, v)
    if ct == 7:
        add("crsp.check.status", CHECK_UNVERIFIED)
        add("crsp.signer_public_key", raw[total - 96:total - 64].hex())
    elif ct:
        add("crsp.check.status", CHECK_GOOD)
    body = raw[hl:total - TRAILER[ct]]
    if ptype == 0x40:
        wf, wu, cur, mr, cursor = struct.unpack(">QQHHI", body[:24])
        for k, v in (("wanted_from", wf), ("wanted_until", wu),
                     ("query_currency", cur), ("max_results", mr),
                     ("cursor", cursor)):
            add("crsp." + k, v)
        for i in range(count):
            rid, unit, _, mp, mq = struct.unpack(
                ">HBBII", body[24 + 12 * i:36 + 12 * i])
            for k, v in (("resource_id", rid), ("query_unit", unit),
                         ("max_price", mp), ("min_quantity", mq)):
                add("crsp." + k, v)
    elif ptype == 0x41 and status in (0, 12):
        total_matches, next_cursor = struct.unpack(">II", body[:8])
        add("crsp.total_matches", total_matches)
        add("crsp.next_cursor", next_cursor)
        for i in range(count):
            o = body[8 + 72 * i:80 + 72 * i]
            values = (o[:16].hex(),
                      socket.inet_ntop(socket.AF_INET6, o[16:32])) + \
                struct.unpack(">HHHHBBHIIIQQ", o[32:72])
            # The unpacked tuple holds the two reserved fields (42, 52).
            values = values[:8] + values[9:11] + values[12:]
            for k, v in zip(OFFER_KEYS, values):
                add("crsp." + k, v)
    elif ptype == 0x42:
        at = 0
        for _ in range(count):
            (n,) = struct.unpack(">H", body[at:at + 2])
            add("crsp.record_length", n)
            add("crsp.record_data", body[at + 2:at + 2 + n].hex())
            at += 2 + n
    return e


def compare(name, got, want):
    ok = True
    for field, values in want.items():
        ok &= check(got.get(field) == values,
                    "%s: %s is %s, expected %s" % (name, field,
                                                   got.get(field), values))
    return ok


# --- generated packets -----------------------------------------------------------


def check_bits(t, covered, rng):
    if t == 0:
        return b""
    if t == 1:
        return bytes([sum(bin(b).count("1") for b in covered) % 2])
    if t == 2:
        return hashlib.md5(covered).digest()
    if t == 3:
        return struct.pack(">H", sum(covered) % 65536)
    if t == 4:
        x = 0
        for b in covered:
            x ^= b
        return bytes([x])
    if t == 5:
        return struct.pack(">I", zlib.crc32(covered))
    if t == 6:
        return bytes([(-sum(covered)) & 0xFF])
    return bytes(rng.getrandbits(8) for _ in range(96))


def packet(proto, ptype, txid, ct, status, count, body, rng):
    total = 16 + len(body) + TRAILER[ct]
    head = struct.pack(">HBBHHIBBH", 1, proto, ptype, 16, total, txid, ct,
                       status, count)
    covered = head + body
    return covered + check_bits(ct, covered, rng)


def rbytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


OFFER_KEYS = ("device_id", "contact_address", "contact_port", "device_kind",
              "currency", "resource_id", "billing_unit", "flags", "quantity",
              "price", "valid_from", "valid_until")


def gen_query_body(rng, one_id=False):
    """(count, body, expected fields) of a random query request body; with
    one_id every entry names the same resource id (a forwarded query)."""
    count = rng.randint(1, 4)
    wf, wu = rng.choice([0, rng.getrandbits(33)]), \
        rng.choice([0, rng.getrandbits(34)])
    cur, mr, cursor = rng.choice([0, 156, 978]), rng.getrandbits(16),\
        rng.getrandbits(32)
    body = struct.pack(">QQHHI", wf, wu, cur, mr, cursor)
    e = {"crsp.wanted_from": [wf], "crsp.wanted_until": [wu],
         "crsp.query_currency": [cur], "crsp.max_results": [mr],
         "crsp.cursor": [cursor]}
    first = rng.choice([1, 3, 4])
    for _ in range(count):
        rid = first if one_id else rng.choice([1, 3, 4])
        unit = rng.choice([0, 2, 5, 0xFF])
        mp, mq = rng.choice([0xFFFFFFFF, rng.getrandbits(32)]), \
            rng.getrandbits(32)
        body += struct.pack(">HBBII", rid, unit, 0, mp, mq)
        for k, v in (("resource_id", rid), ("query_unit", unit),
                     ("max_price", mp), ("min_quantity", mq)):
            e.setdefault("crsp." + k, []).append(v)
    return count, body, e


def gen_answer_body(rng):
    """(count, body, expected fields) of a random query answer body."""
    count = rng.randint(0, 3)
    total, nxt = rng.getrandbits(32), rng.getrandbits(32)
    body = struct.pack(">II", total, nxt)
    e = {"crsp.total_matches": [total], "crsp.next_cursor": [nxt]}
    for _ in range(count):
        dev, addr = rbytes(rng, 16), rbytes(rng, 16)
        vals = {"device_id": dev.hex(),
                "contact_address": socket.inet_ntop(socket.AF_INET6, addr),
                "contact_port": rng.getrandbits(16),
                "device_kind": rng.choice([1, 2, 0xFFFF]),
                "currency": rng.choice([156, 36, 0]),
                "resource_id": rng.choice([1, 7, 0x8000]),
                "billing_unit": rng.randint(0, 5),
                "flags": rng.randint(0, 1),
                "quantity": rng.getrandbits(32),
                "price": rng.getrandbits(32),
                "valid_from": rng.getrandbits(33)}
        vals["valid_until"] = vals["valid_from"] + rng.getrandbits(20)
        body += dev + addr + struct.pack(
            ">HHHHBBHIIIQQ", vals["contact_port"], vals["device_kind"],
            vals["currency"], vals["resource_id"], vals["billing_unit"],
            vals["flags"], 0, vals["quantity"], vals["price"], 0,
            vals["valid_from"], vals["valid_until"])
        for k in OFFER_KEYS:
            e.setdefault("crsp." + k, []).append(vals[k])
    return count, body, e


def generated_packets(rng):
    """(name, bytes, expected fields, expected experts) of every layout."""
    out = []
    ct_cycle = [0, 1, 2, 3, 4, 5, 6, 7]

    def header_fields(proto, ptype, txid, ct, status, count, total):
        e = {"crsp.protocol": [proto], "crsp.type": [ptype],
             "crsp.txid": [txid], "crsp.check_type": [ct],
             "crsp.status": [status], "crsp.count": [count],
             "crsp.total_length": [total]}
        if ct == 7:
            e["crsp.check.status"] = [CHECK_UNVERIFIED]
        elif ct:
            e["crsp.check.status"] = [CHECK_GOOD]
        return e

    for i in range(56):
        ct = ct_cycle[i % 8]
        kind = i // 8 % 7 * 2 + (i % 2)
        txid = rng.getrandbits(32)
        e = {}
        note = set()
        if kind == 0:  # ping request
            proto, ptype, status, count, body = 0, 1, 0, 0, b""
        elif kind == 1:  # ping answer
            node_id, key = rbytes(rng, 20), rbytes(rng, 32)
            offers, peers, up = (rng.getrandbits(32) for _ in range(3))
            proto, ptype, status, count = 0, 2, 0, 0
            body = node_id + struct.pack(">III", offers, peers, up) + key
            e = {"crsp.node_id": [node_id.hex()],
                 "crsp.offers_stored": [offers], "crsp.peers": [peers],
                 "crsp.uptime": [up], "crsp.node_public_key": [key.hex()]}
        elif kind == 2:  # register request
            proto, ptype, status = 1, 1, 0
            count = rng.randint(1, 5)
            dev, addr = rbytes(rng, 16), rbytes(rng, 16)
            kind_, cur, port = rng.choice([1, 2, 3, 4, 0xFFFF]), \
                rng.choice([156, 840, 978, 392]), rng.getrandbits(16)
            body = dev + struct.pack(">HH", kind_, cur) + addr + \
                struct.pack(">HH", port, 0)
            e = {"crsp.device_id": [dev.hex()], "crsp.device_kind": [kind_],
                 "crsp.currency": [cur],
                 "crsp.contact_address": [socket.inet_ntop(socket.AF_INET6,
                                                           addr)],
                 "crsp.contact_port": [port]}
            for _ in range(count):
                rid = rng.choice([1, 2, 3, 4, 0xC, 0x8001])
                unit, qty, price = rng.randint(0, 5), rng.randint(1, 2**32 - 1),\
                    rng.getrandbits(32)
                vf = rng.randint(1, 2**33)
                vu = vf + rng.randint(1, 2**20)
                body += struct.pack(">HBBIIIQQ", rid, unit, 0, qty, price, 0,
                                    vf, vu)
                for k, v in (("resource_id", rid), ("billing_unit", unit),
                             ("quantity", qty), ("price", price),
                             ("valid_from", vf), ("valid_until", vu)):
                    e.setdefault("crsp." + k, []).append(v)
        elif kind in (3, 5):  # register answer / withdraw answer
            proto, ptype = 1, 2 if kind == 3 else 4
            count = rng.randint(0 if kind == 5 else 1, 5)
            dev = rbytes(rng, 16)
            body = dev
            e = {"crsp.device_id": [dev.hex()]}
            statuses = []
            for _ in range(count):
                rid, st, rep = rng.choice([1, 3, 6, 0x9000]), \
                    rng.choice([0, 0, 5, 8, 9]), rng.getrandbits(16)
                statuses.append(st)
                body += struct.pack(">HBBHH", rid, st, 0, rep, 0)
                for k, v in (("resource_id", rid), ("entry_status", st),
                             ("replicas", rep)):
                    e.setdefault("crsp." + k, []).append(v)
            status = next((s for s in statuses if s), 0)
            if status:
                note.add("crsp.expert.error_status")
        elif kind == 4:  # withdraw request
            proto, ptype, status = 1, 3, 0
            count = rng.randint(0, 4)
            dev = rbytes(rng, 16)
            ids = [rng.choice([1, 2, 3, 0xB, 0xFFFF]) for _ in range(count)]
            body = dev + b"".join(struct.pack(">H", r) for r in ids)
            e = {"crsp.device_id": [dev.hex()]}
            if ids:
                e["crsp.resource_id"] = ids
        elif kind == 6:  # query request
            proto, ptype, status = 2, 1, 0
            count, body, e = gen_query_body(rng)
        elif kind == 7:  # query answer
            proto, ptype = 2, 2
            status = rng.choice([0, 12])
            if status:
                note.add("crsp.expert.error_status")
            count, body, e = gen_answer_body(rng)
        elif kind == 8:  # error answer, empty body
            proto, ptype = rng.choice([(1, 2), (1, 4), (2, 2), (0, 2)])
            status, count, body = rng.choice([1, 2, 4, 6, 7, 11]), 0, b""
            note.add("crsp.expert.error_status")
        elif kind == 9 and rng.getrandbits(1):  # forwarded query, one id
            proto, ptype, status = 0, 0x40, 0
            count, body, e = gen_query_body(rng, one_id=True)
        elif kind == 9:  # forwarded answer, with a body or an error
            proto, ptype = 0, 0x41
            status = rng.choice([0, 12, 7, 10])
            if status:
                note.add("crsp.expert.error_status")
            if status in (0, 12):
                count, body, e = gen_answer_body(rng)
            else:
                count, body = 0, b""
        elif kind == 10:  # node-to-node messages CRSP does not use
            proto, ptype = 0, rng.choice([0x44, 0x50, 0x7F])
            # Their fields are the implementation's: no status rule applies.
            status, count = rng.getrandbits(8), rng.getrandbits(16)
            body = rbytes(rng, rng.randint(0, 40))
            if body:
                e = {"crsp.node_message": [body.hex()]}
        elif kind == 11:  # a reserved packet type
            proto, ptype, status, count = 1, 9, 0, 0
            body = rbytes(rng, 5)
            e = {"crsp.body": [body.hex()]}
        elif kind == 12:  # record push: 1-4 records of 1-60 bytes
            proto, ptype, status = 0, 0x42, 0
            records = [rbytes(rng, rng.randint(1, 60))
                       for _ in range(rng.randint(1, 4))]
            count = len(records)
            body = b"".join(struct.pack(">H", len(r)) + r for r in records)
            e = {"crsp.record_length": [len(r) for r in records],
                 "crsp.record_data": [r.hex() for r in records]}
        else:  # kind 13: push ack, header only
            proto, ptype, count, body = 0, 0x43, 0, b""
            status = rng.choice([0, 12, 7, 1])
            if status:
                note.add("crsp.expert.error_status")
        if ct == 7:
            note.add("crsp.expert.unverified")
        raw = packet(proto, ptype, txid, ct, status, count, body, rng)
        want = header_fields(proto, ptype, txid, ct, status, count, len(raw))
        want.update(e)
        faults = {"crsp.expert.reserved"} if kind == 11 else set()
        out.append(("generated %d (kind %d, check %d)" % (i, kind, ct), raw,
                    want, faults | note))
    return out


def faulty_packets(rng):
    """Crafted packets: (name, bytes, expected experts, check status).
    Faults each raise their expert info; the check-length sweep raises none."""
    out = []
    # A valid register request under each check type, then one bit flipped
    # in the covered bytes (past the lengths): every check must notice.
    body = bytes(16) + struct.pack(">HH", 2, 156) + bytes(16) + bytes(4) + \
        struct.pack(">HBBIIIQQ", 3, 2, 0, 500, 10, 0, 1000, 2000)
    for ct in range(1, 7):
        raw = bytearray(packet(1, 1, 77, ct, 0, 1, body, rng))
        # Not byte 12: a flipped check type moves or drops the trailer.
        pos = rng.choice([p for p in range(8, 16 + len(body)) if p != 12])
        raw[pos] ^= 1 << rng.randint(0, 7)
        out.append(("bit flip, check %d" % ct, bytes(raw),
                    {"crsp.expert.bad_check"}, CHECK_BAD))
    good = packet(1, 1, 78, 5, 0, 1, body, rng)
    out.append(("datagram longer than its total length", good + b"\x00\x01",
                {"crsp.expert.length"}, CHECK_GOOD))
    out.append(("count says 2, body holds 1 entry",
                packet(1, 1, 79, 5, 0, 2, body, rng), {"crsp.expert.length"},
                CHECK_GOOD))
    bad_res = bytearray(body)
    bad_res[38] = 1  # resource set reserved
    out.append(("reserved bytes set", packet(1, 1, 80, 4, 0, 1,
                                             bytes(bad_res), rng),
                {"crsp.expert.reserved"}, CHECK_GOOD))
    # High bits of the check type byte, set by hand (packet() takes the
    # trailer size from the byte), CRC recomputed.
    raw = bytearray(packet(1, 1, 81, 5, 0, 1, body, rng))
    raw[12] = 0x35
    raw[-4:] = struct.pack(">I", zlib.crc32(bytes(raw[:-4])))
    out.append(("check byte high bits set", bytes(raw),
                {"crsp.expert.reserved"}, CHECK_GOOD))
    out.append(("request with a status", packet(2, 1, 82, 6, 3, 1,
                                                bytes(24) + bytes(12), rng),
                {"crsp.expert.reserved"}, CHECK_GOOD))
    out.append(("register answer OK over a failed entry",
                packet(1, 2, 86, 5, 0, 2, bytes(16) +
                       struct.pack(">HBBHH", 1, 0, 0, 2, 0) +
                       struct.pack(">HBBHH", 4, 8, 0, 0, 0), rng),
                {"crsp.expert.invalid_field"}, CHECK_GOOD))
    out.append(("query request with 17 entries",
                packet(2, 1, 83, 3, 0, 17, bytes(24) + bytes(12 * 17), rng),
                {"crsp.expert.invalid_field"}, CHECK_GOOD))
    raw = bytearray(packet(1, 1, 84, 1, 0, 1, body, rng))
    raw[4:6] = struct.pack(">H", 12)  # header length below 16
    raw[-1] = sum(bin(b).count("1") for b in raw[:-1]) % 2
    out.append(("header length 12", bytes(raw), {"crsp.expert.length"},
                CHECK_GOOD))
    # Every computed check over lengths at MD5's padding edges (55/56 bytes
    # fit one block or spill into two): node-to-node messages, random bodies.
    for ct in range(1, 7):
        for covered in (16, 17, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000):
            raw = packet(0, 0x50, 85, ct, 0, 0, rbytes(rng, covered - 16),
                         rng)
            out.append(("check %d over %d bytes" % (ct, covered), raw, set(),
                        CHECK_GOOD))
    return out


def hostile_packets(rng, generated):
    """Every prefix of a few packets, and packets with random bytes set
    (lengths and counts included): the dissector must read each without a
    Lua error (an out-of-bounds range raises one)."""
    out = []
    picks = [g[1] for g in generated if len(g[1]) > 40]
    for raw in rng.sample(picks, min(4, len(picks))):
        for n in range(1, len(raw)):
            out.append(("prefix %d of %s" % (n, raw[:4].hex()), raw[:n],
                        True))
    for i in range(300):
        raw = bytearray(rng.choice([g[1] for g in generated]))
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.getrandbits(8)
        out.append(("mutation %d" % i, bytes(raw), False))
    return out


# --- subcommands --------------------------------------------------------------------


def run_vectors(args, tmp):
    with open(args.vectors) as f:
        vectors = json.load(f)["vectors"]
    with open(args.peer_vectors) as f:
        peer_vectors = json.load(f)["vectors"]
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)
    generated = generated_packets(rng)
    faulty = faulty_packets(rng)
    hostile = hostile_packets(rng, generated)
    hexes = [v["hex"] for v in vectors] + \
        [v["hex"] for v in peer_vectors] + \
        [g[1].hex() for g in generated] + \
        [x[1].hex() for x in faulty] + [x[1].hex() for x in hostile]
    pcap = os.path.join(tmp, "vectors.pcap")
    text2pcap(hexes, pcap, tmp)
    frames = dissect(args, pcap)
    if len(frames) != len(hexes):
        raise Failure("%d frames for %d packets" % (len(frames), len(hexes)))

    # Expert infos each bad vector must raise (PROTOCOL.md's answer status).
    vector_faults = {
        "bad_check": {"crsp.expert.bad_check"},
        "too_short": {"crsp.expert.short"},
        "truncated": {"crsp.expert.length"},
        "version2": {"crsp.expert.version"},
        "check_type9": {"crsp.expert.reserved"},
        "validity_reversed": {"crsp.expert.invalid_field"},
        "zero_quantity": {"crsp.expert.invalid_field"},
        # Layout-valid; only a node's clock or signature check refuses them.
        "validity_past": set(),
        "bad_signature": set(),
    }
    for v, frame in zip(vectors, frames):
        name = "vector " + v["name"]
        if not check(frame["crsp"], name + ": not dissected as CRSP"):
            continue
        check(frame["payload"] == v["hex"], name + ": payload differs")
        got = fields(frame)
        ex = experts(got)
        if v["expect"] == "valid":
            want = {"crsp.protocol": [v["protocol"]], "crsp.type": [v["type"]],
                    "crsp.txid": [v["txid"]],
                    "crsp.check_type": [v["check_type"]],
                    "crsp.count": [v["count"]],
                    "crsp.status": [v.get("status", 0)]}
            compare(name, got, want)
            code, decoded = crsp_decode(args, v["hex"])
            if check(code == 0, "%s: crsp decode exit %d" % (name, code)):
                compare(name + " (vs crsp decode)", got,
                        expected_from_decode(decoded))
            check(not (ex & FAULT_EXPERTS),
                  "%s: unexpected expert info %s" % (name, ex))
            if v["check_type"] == 7:
                check("crsp.expert.unverified" in ex,
                      name + ": Ed25519 not marked unverified")
                check(len(got.get("crsp.signature", [""])[0]) == 128,
                      name + ": signature not shown")
        else:
            want_ex = vector_faults[v["name"]]
            check(want_ex <= ex, "%s: experts %s, expected %s" %
                  (name, sorted(ex), sorted(want_ex)))
            if not want_ex:
                check(not (ex & FAULT_EXPERTS), "%s: unexpected experts %s" %
                      (name, ex))
            if "txid" in v and v["name"] != "too_short":
                check(got.get("crsp.txid") == [v["txid"]],
                      name + ": txid %s" % got.get("crsp.txid"))
            if v["name"] == "bad_check":
                check(got.get("crsp.check.status") == [CHECK_BAD],
                      name + ": check status not Bad")
    # Node-to-node vectors: every field against the bytes; the bad ones
    # raise the expert info of DecodePeer's refusal (peer_codec.h).
    peer_faults = {
        "forwarded_query_multi_id": {"crsp.expert.invalid_field"},
        "peer_type_0x44": set(),  # unused type: shown as bytes, no fault
        "forwarded_query_truncated": {"crsp.expert.length"},
        "forwarded_answer_too_large": {"crsp.expert.invalid_field"},
        "record_push_zero_count": {"crsp.expert.invalid_field"},
        "record_push_too_many": {"crsp.expert.invalid_field"},
        "record_push_empty_record": {"crsp.expert.invalid_field"},
        "record_push_record_too_long": {"crsp.expert.invalid_field"},
        "record_push_truncated": {"crsp.expert.length"},
        "record_push_trailing_bytes": {"crsp.expert.length"},
        "record_push_too_large": {"crsp.expert.invalid_field"},
        "push_ack_with_body": {"crsp.expert.length"},
        "push_ack_unknown_status": {"crsp.expert.reserved"},
    }
    at = len(vectors)
    for v, frame in zip(peer_vectors, frames[at:at + len(peer_vectors)]):
        name = "peer vector " + v["name"]
        if not check(frame["crsp"], name + ": not dissected as CRSP"):
            continue
        check(frame["payload"] == v["hex"], name + ": payload differs")
        got = fields(frame)
        ex = experts(got)
        raw = bytes.fromhex(v["hex"])
        if v["expect"] == "valid":
            want = {"crsp.protocol": [v["protocol"]], "crsp.type": [v["type"]],
                    "crsp.txid": [v["txid"]],
                    "crsp.check_type": [v["check_type"]],
                    "crsp.count": [v["count"]],
                    "crsp.status": [v.get("status", 0)]}
            compare(name, got, want)
            compare(name + " (vs its bytes)", got, expected_from_bytes(raw))
            check(not (ex & FAULT_EXPERTS),
                  "%s: unexpected expert info %s" % (name, ex))
            if v["check_type"] == 7:
                check("crsp.expert.unverified" in ex,
                      name + ": Ed25519 not marked unverified")
            check(not got.get("crsp.node_message"),
                  name + ": body shown as bytes, not dissected")
        else:
            want_ex = peer_faults[v["name"]]
            check(want_ex <= ex and (want_ex or not ex & FAULT_EXPERTS),
                  "%s: experts %s, expected %s" % (name, sorted(ex),
                                                   sorted(want_ex)))
            check(got.get("crsp.txid") == [v["txid"]],
                  name + ": txid %s" % got.get("crsp.txid"))
            if v["name"] == "peer_type_0x44":
                check(got.get("crsp.node_message") ==
                      [raw[16:-4].hex()], name + ": body not shown as bytes")
            if v["name"] == "forwarded_answer_too_large":
                # Too large, yet dissected in full.
                check(len(got.get("crsp.price", [])) == 17,
                      name + ": offers not all dissected")
            # Bad pushes are dissected as far as their records go.
            records = {"record_push_too_many": [1] * 65,
                       "record_push_empty_record": [0],
                       "record_push_record_too_long": [4097],
                       "record_push_truncated": [86],
                       "record_push_trailing_bytes": [86],
                       "record_push_too_large": [700, 700]}
            if v["name"] in records:
                check(got.get("crsp.record_length") == records[v["name"]],
                      name + ": record lengths %s" % got.get(
                          "crsp.record_length"))
    # With port 7400 unregistered only the heuristic is left: it takes the
    # packets whose layout and check hold, and none of the broken ones.
    vector_pcap = os.path.join(tmp, "only-vectors.pcap")
    text2pcap([v["hex"] for v in vectors + peer_vectors], vector_pcap, tmp)
    heur = dissect(args, vector_pcap, ["-o", "crsp.udp_port:0"])
    # Every bad peer vector but the truncated datagram: the heuristic reads
    # the frame (lengths, type, check), not the records of a push.
    layout_ok = {"validity_reversed", "validity_past", "zero_quantity",
                 "bad_signature"} | \
        {v["name"] for v in peer_vectors if v["expect"] != "valid" and
         v["name"] != "forwarded_query_truncated"}
    check(len(heur) == len(vectors) + len(peer_vectors),
          "%d frames for %d vectors" % (len(heur),
                                        len(vectors) + len(peer_vectors)))
    for v, frame in zip(vectors + peer_vectors, heur):
        want = v["expect"] == "valid" or v["name"] in layout_ok
        check(frame["crsp"] == want, "vector %s: heuristic says %s" %
              (v["name"], frame["crsp"]))
    at = len(vectors) + len(peer_vectors)
    for (name, raw, want, want_ex), frame in zip(generated,
                                                 frames[at:at + len(generated)]):
        got = fields(frame)
        compare(name, got, want)
        ex = experts(got)
        check(ex & FAULT_EXPERTS == want_ex & FAULT_EXPERTS and
              want_ex <= ex, "%s: experts %s, expected %s" %
              (name, sorted(ex), sorted(want_ex)))
    at += len(generated)
    for (name, raw, want_ex, status), frame in zip(faulty,
                                                   frames[at:at + len(faulty)]):
        got = fields(frame)
        ex = experts(got)
        check(want_ex <= ex and (want_ex or not ex & FAULT_EXPERTS),
              "%s: experts %s, expected %s" % (name, sorted(ex),
                                               sorted(want_ex)))
        check(got.get("crsp.check.status") == [status],
              "%s: check status %s, expected %s" %
              (name, got.get("crsp.check.status"), status))
    at += len(faulty)
    # dissect() already failed on any Lua error; a prefix must be flagged.
    for (name, raw, is_prefix), frame in zip(hostile, frames[at:]):
        got = fields(frame)
        check(frame["crsp"], name + ": not dissected as CRSP")
        if is_prefix:
            check(experts(got) & {"crsp.expert.short", "crsp.expert.length"},
                  name + ": truncation not flagged")
    print("vectors: %d vectors, %d node-to-node vectors, %d generated, "
          "%d faulty, %d hostile packets dissected" %
          (len(vectors), len(peer_vectors), len(generated), len(faulty),
           len(hostile)))


def free_udp_port():
    """A free UDP port on ::1 below the kernel's ephemeral range: the
    capture filter is "udp port N", and a port from that range can be
    taken by any other process on lo as its source port meanwhile (seen
    once: 3 of 18 captured frames were another flow's, beside
    docker.compose_cluster). 100 tries, then the kernel's choice."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    candidates = [random.randrange(10000, low) for _ in range(100)
                  if low > 10000] + [0]
    for port in candidates:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s.bind(("::1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise Failure("no free UDP port on ::1")


def stop(proc, sig, wait_s):
    """Stops one child by its pid: `sig`, then SIGKILL after `wait_s`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def run_live(args, tmp):
    if not shutil.which("dumpcap"):
        raise Failure("dumpcap missing (Debian's wireshark-common has it)")
    edge, dht = free_udp_port(), free_udp_port()
    node_addr = "[::1]:%d" % edge
    pcap = os.path.join(tmp, "session.pcapng")
    env = {k: v for k, v in os.environ.items()
           if k not in ("CRSP_NODES", "CRSP_PASSPHRASE")}
    env["XDG_CONFIG_HOME"] = os.path.join(tmp, "no-config")

    def crsp(*argv, expect=0):
        run = subprocess.run([args.crsp, "--node", node_addr] + list(argv),
                             capture_output=True, text=True, timeout=30,
                             env=env)
        if expect is not None and run.returncode != expect:
            raise Failure("crsp %s: exit %d: %s" % (" ".join(argv),
                                                    run.returncode,
                                                    run.stderr))
        return run

    capture = node = None
    cap_err = open(os.path.join(tmp, "dumpcap.err"), "w+")
    node_log = open(os.path.join(tmp, "node.log"), "w")
    try:
        node = subprocess.Popen(
            [args.node, "--listen", node_addr, "--dht-port", str(dht),
             "--state-dir", os.path.join(tmp, "state"), "--log-level",
             "warn"], stdout=node_log, stderr=node_log)
        deadline = time.monotonic() + 30
        for _ in range(60):
            if crsp("--timeout-ms", "200", "--tries", "1", "ping",
                    expect=None).returncode == 0:
                break
            if node.poll() is not None or time.monotonic() > deadline:
                raise Failure("node did not answer a ping; log: " +
                              open(node_log.name).read())
            time.sleep(0.5)
        else:
            raise Failure("node did not answer a ping in 60 tries")

        capture = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", "udp port %d" % edge, "-w",
             pcap], stdout=subprocess.DEVNULL, stderr=cap_err)
        deadline = time.monotonic() + 15
        for _ in range(150):
            cap_err.seek(0)
            text = cap_err.read()
            # dumpcap names the file once its input is open and filtered
            # ("Capturing on" comes before): packets from then on are kept.
            if "File: " in text:
                break
            if capture.poll() is not None or time.monotonic() > deadline:
                if os.geteuid() != 0:
                    print("SKIP: dumpcap cannot capture on lo as this user: "
                          + text.strip())
                    return SKIP
                raise Failure("dumpcap did not start: " + text)
            time.sleep(0.1)
        else:
            raise Failure("dumpcap did not say it captures in 150 polls")
        # The session: one command per check type (7 by --key).
        ping = json.loads(crsp("ping", "--json").stdout)["nodes"][0]
        reg = json.loads(crsp("--check", "sum", "register", "--resource",
                              "cpu", "--price", "2.50/hour", "--quantity",
                              "8", "--until", "+8h", "--currency", "CNY",
                              "--json").stdout)
        device = reg["device_id"]
        crsp("--check", "md5", "query", "cpu", "--json")
        crsp("--check", "parity", "query", "cpu", "--max-price", "3",
             "--min-quantity", "4", "--json")
        with open(os.path.join(tmp, "pass"), "w") as f:
            f.write("wireshark test\n")
        key = os.path.join(tmp, "seller.key")
        subprocess.run([args.crsp, "keygen", "--out", key,
                        "--passphrase-file", f.name], capture_output=True,
                       timeout=60, check=True, env=env)
        signed = json.loads(crsp(
            "register", "--key", key, "--passphrase-file", f.name,
            "--resource", "print", "--price", "0.10/page", "--quantity",
            "500", "--until", "+8h", "--currency", "CNY", "--kind", "printer",
            "--json").stdout)
        crsp("--check", "bcc", "query", "print", "--json")
        crsp("--check", "lrc", "withdraw", "--device", device, "--resource",
             "cpu", "--json")
        crsp("--check", "none", "ping")
        # A datagram with a corrupted CRC: the node answers BAD_CHECK.
        with open(args.vectors) as vf:
            bad = next(v for v in json.load(vf)["vectors"]
                       if v["name"] == "bad_check")
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s.settimeout(3)
            s.sendto(bytes.fromhex(bad["hex"]), ("::1", edge))
            answer = s.recv(2048)
        finally:
            s.close()
        check(answer[13] == 2, "bad-check datagram answered status %d, "
              "expected BAD_CHECK" % answer[13])
        time.sleep(0.5)  # the last answer reaches the capture
    finally:
        stop(capture, signal.SIGINT, 10)
        stop(node, signal.SIGTERM, 10)
        cap_err.close()
        node_log.close()

    if args.keep_capture:
        shutil.copy(pcap, args.keep_capture)
    # Two passes, so requests also link to their answers.
    frames = dissect(args, pcap, ["-2", "-d", "udp.port==%d,crsp" % edge])
    # 9 requests and their answers; a resend on a slow machine adds more.
    check(len(frames) >= 18, "%d frames captured, 18 expected" % len(frames))
    seen_checks = set()
    requests, answers = {}, {}  # first of each transaction id
    resent = []  # every request frame
    cpu_offer_seen = False
    bad_check_flagged = False
    for n, frame in enumerate(frames, 1):
        name = "frame %d" % n
        if not check(frame["crsp"], name + ": not dissected as CRSP"):
            continue
        got = fields(frame)
        ex = experts(got)
        ct = got["crsp.check_type"][0]
        seen_checks.add(ct)
        txid = got["crsp.txid"][0]
        is_answer = got["crsp.type"][0] in (2, 4)
        # Links point at the first request and the first answer of a
        # transaction id (a slow node makes crsp resend).
        got["frame"] = n
        if is_answer:
            answers.setdefault(txid, got)
            check(got.get("crsp.request_in") == [requests.get(txid, {}).get(
                "frame")], name + ": request_in %s" % got.get(
                    "crsp.request_in"))
        else:
            requests.setdefault(txid, got)
            resent.append(got)
            first = requests[txid]["frame"]
            check(got.get("crsp.resend_of") == ([first] if first != n else
                                                None),
                  name + ": resend_of %s" % got.get("crsp.resend_of"))
        code, decoded = crsp_decode(args, frame["payload"])
        if frame["payload"] == bad["hex"]:
            check("crsp.expert.bad_check" in ex and
                  got["crsp.check.status"] == [CHECK_BAD],
                  name + ": bad check not flagged")
            check(code == 2 and decoded.get("error") == "BAD_CHECK",
                  name + ": crsp decode does not see the bad check")
            bad_check_flagged = True
            continue
        if not check(code == 0, "%s: crsp decode exit %d" % (name, code)):
            continue
        compare(name + " (vs crsp decode)", got, expected_from_decode(decoded))
        check(not (ex & FAULT_EXPERTS), "%s: expert info %s" % (name, ex))
        if ct == 7:
            check(got["crsp.check.status"] == [CHECK_UNVERIFIED],
                  name + ": Ed25519 trailer not unverified")
        elif ct:
            check(got["crsp.check.status"] == [CHECK_GOOD],
                  name + ": check not Good")
        if is_answer and txid == bad["txid"]:
            check(got["crsp.status"] == [2], "%s: bad-check answer status %s"
                  % (name, got["crsp.status"]))
            continue
        if is_answer:
            check(got["crsp.status"] == [0], "%s: answer status %s" %
                  (name, got["crsp.status"]))
        if got["crsp.protocol"] == [0] and got["crsp.type"] == [2]:
            check(got["crsp.node_id"] == [ping["node_id"]],
                  name + ": node id differs from crsp ping's")
            check(got["crsp.node_public_key"] == [ping["public_key"]],
                  name + ": node key differs from crsp ping's")
        if got["crsp.protocol"] == [2] and got["crsp.type"] == [2]:
            ids = got.get("crsp.device_id", [])
            if device in ids:
                i = ids.index(device)
                cpu_offer_seen = True
                check(got["crsp.resource_id"][i] == 1 and
                      got["crsp.price"][i] == 250 and
                      got["crsp.quantity"][i] == 8 and
                      got["crsp.currency"][i] == 156 and
                      got["crsp.billing_unit"][i] == 1,
                      name + ": the registered CPU offer decodes wrong")
        if got["crsp.protocol"] == [1] and got["crsp.type"] == [2]:
            check(got.get("crsp.entry_status") == [0] and
                  got["crsp.replicas"][0] >= 1,
                  name + ": register answer entry not OK with a replica")
    check(seen_checks >= set(range(8)),
          "check types seen %s, expected 0-7" % sorted(seen_checks))
    missing = [t for t in requests if t not in answers]
    check(not missing, "requests without an answer: %s" % missing)
    for req in resent:  # every request frame, resends included
        txid = req["crsp.txid"][0]
        check(req.get("crsp.answer_in") == [answers.get(txid, {}).get("frame")],
              "request %d: answer_in %s" % (txid, req.get("crsp.answer_in")))
    check(cpu_offer_seen, "no query answer carried the registered CPU offer")
    check(bad_check_flagged, "the bad-check datagram was not captured")
    check(signed["device_id"] in
          {d for a in answers.values() for d in a.get("crsp.device_id", [])},
          "signed register answer not captured")
    # Without Decode As, the heuristic finds every packet whose check holds
    # (so not the corrupted one); with it off, none.
    found = [f["crsp"] for f in dissect(args, pcap)]
    check(found == [f["payload"] != bad["hex"] for f in frames],
          "heuristic found CRSP in frames %s" % found)
    off = dissect(args, pcap, ["-o", "crsp.heuristic:FALSE"])
    check(not any(f["crsp"] for f in off), "heuristic off, CRSP still found")
    print("live: %d frames, check types %s, %d requests answered, %d resends"
          % (len(frames), sorted(seen_checks), len(requests),
             len(resent) - len(requests)))


def run_install(args, tmp):
    # Staged under DESTDIR with the prefix a Debian package uses, so nothing
    # is written outside the temporary folder even for an absolute folder.
    stage = os.path.join(tmp, "stage")
    env = dict(os.environ, DESTDIR=stage)
    run = subprocess.run(["cmake", "--install", args.build_dir, "--component",
                          "wireshark", "--prefix", "/usr"],
                         capture_output=True, text=True, timeout=120, env=env)
    if run.returncode != 0:
        raise Failure("cmake --install failed: " + run.stderr)
    folders = subprocess.run(["tshark", "-G", "folders"], capture_output=True,
                             text=True, timeout=60, env=tshark_env()).stdout
    global_lua = next(line.split("\t")[-1].strip()
                      for line in folders.splitlines()
                      if line.startswith("Global Lua Plugins:"))
    # The folder as configured (device/wireshark/CMakeLists.txt).
    with open(os.path.join(args.build_dir, "CMakeCache.txt")) as cache:
        target = next(line.split("=", 1)[1].strip() for line in cache
                      if line.startswith("CRSP_WIRESHARK_LUA_DIR:"))
    if not os.path.isabs(target):
        target = os.path.join("/usr", target)
        # The default folder is the one Wireshark loads Lua plugins from.
        check(os.path.normpath(target) == os.path.normpath(global_lua),
              "crsp.lua goes to %s, Wireshark loads Lua plugins from %s" %
              (target, global_lua))
    installed = stage + os.path.join(target, "crsp.lua")
    if not check(os.path.isfile(installed),
                 "crsp.lua not installed at %s (files: %s)" %
                 (installed, run.stdout.strip())):
        return
    with open(installed, "rb") as a, open(args.lua, "rb") as b:
        check(a.read() == b.read(), "installed crsp.lua differs from source")
    # The installed file dissects a ping vector on port 7400.
    with open(args.vectors) as f:
        ping = next(v for v in json.load(f)["vectors"] if v["name"] == "ping")
    pcap = os.path.join(tmp, "ping.pcap")
    text2pcap([ping["hex"]], pcap, tmp)
    args.lua = installed
    frames = dissect(args, pcap)
    check(len(frames) == 1 and fields(frames[0]).get("crsp.txid") ==
          [ping["txid"]], "the installed dissector does not read a ping")
    print("install: %s" % installed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["vectors", "live", "install"])
    ap.add_argument("--lua", required=True)
    ap.add_argument("--vectors")
    ap.add_argument("--peer-vectors", help="tests/vectors/peer/vectors.json")
    ap.add_argument("--crsp")
    ap.add_argument("--node")
    ap.add_argument("--build-dir")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep-capture", help="copy the live capture here")
    args = ap.parse_args()
    for tool in ("tshark", "text2pcap"):
        if not shutil.which(tool):
            print("SKIP: %s missing (apt-get install tshark)" % tool)
            return SKIP
    args.lua = os.path.abspath(args.lua)
    tmp = tempfile.mkdtemp(prefix="crsp-wireshark-")
    try:
        result = {"vectors": run_vectors, "live": run_live,
                  "install": run_install}[args.command](args, tmp)
        if result == SKIP:
            return SKIP
    except (Failure, subprocess.SubprocessError, OSError, KeyError,
            ValueError) as err:
        failures.append(str(err))
        print("FAIL: %s" % err, file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
