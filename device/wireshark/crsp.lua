-- crsp.lua: a Wireshark dissector for the CRSP wire protocol, version 1
-- (PROTOCOL.md, document revision 1.1).
--
-- Every packet of the spec: the 16-byte header, each body layout (register
-- request and answer, withdraw request and answer, ping request and answer,
-- query request and answer with 72-byte offers), the node-to-node messages
-- CRSP uses (docs/scaling.md: control 0x40 forwarded query and 0x41
-- forwarded answer, dissected like the query request and answer they carry;
-- 0x42 record push, its records with their lengths; 0x43 push ack, a
-- header; the rest of 0x40-0x7F shown as bytes), and the check trailer,
-- recomputed and compared for check types 0-6 (MD5 and CRC-32 are computed
-- here in Lua because Wireshark 4.0's Lua API has no hash functions). The
-- Ed25519 trailer (type 7) is shown as public key and signature, marked
-- unverified. Expert info flags a wrong length, a bad check, a reserved value
-- that is not zero, and fields a node would refuse.
--
-- Registered on UDP port 7400 (the preference crsp.udp_port moves it),
-- available under "Decode As" (udp.port), and found on other ports by a
-- strict heuristic (preference crsp.heuristic). Load it from a source tree
-- with
--   tshark -X lua_script:device/wireshark/crsp.lua ...
-- or install it into a Lua plugin folder (`tshark -G folders`).
--
-- Decoding never reads past the datagram: every layout is checked against the
-- bytes present, and a short body is dissected as far as whole items go.

local crsp = Proto("crsp", "Cloud Resource Sales Protocol")

-- Wire constants (PROTOCOL.md) ---------------------------------------------

local HEADER_SIZE = 16
local DEVICE_ID_SIZE = 16
local RESOURCE_SET_SIZE = 40
local RESOURCE_ENTRY_SIZE = 32
local RESULT_ENTRY_SIZE = 8
local QUERY_DESCRIPTOR_SIZE = 24
local QUERY_ENTRY_SIZE = 12
local ANSWER_DESCRIPTOR_SIZE = 8
local OFFER_SIZE = 72
local PING_ANSWER_SIZE = 64
local MAX_REGISTER_ENTRIES = 64
local MAX_WITHDRAW_IDS = 64
local MAX_QUERY_ENTRIES = 16
-- Answers never exceed this (IPv6 minimum MTU less IPv6 and UDP headers).
local MAX_ANSWER = 1232

-- Node-to-node messages (docs/scaling.md), control types 0x40-0x7F.
local PEER_FIRST, PEER_LAST = 0x40, 0x7F
local FORWARDED_QUERY, FORWARDED_ANSWER = 0x40, 0x41
local RECORD_PUSH, PUSH_ACK = 0x42, 0x43
-- A record push: 1..64 records of 1..4,096 bytes, each after a 2-byte length.
local MAX_PUSH_RECORDS = 64
local MAX_PUSH_RECORD_SIZE = 4096

local PROTO_CONTROL, PROTO_REGISTRATION, PROTO_INQUIRY = 0, 1, 2
local STATUS_OK, STATUS_INCOMPLETE = 0, 12

local protocol_names = {
  [0] = "control",
  [1] = "registration",
  [2] = "inquiry",
}

-- Packet names by protocol and type; control 0x44-0x7F handled apart.
local packet_names = {
  [PROTO_CONTROL] = {
    [1] = "ping request",
    [2] = "ping answer",
    [FORWARDED_QUERY] = "forwarded query",
    [FORWARDED_ANSWER] = "forwarded answer",
    [RECORD_PUSH] = "record push",
    [PUSH_ACK] = "push ack",
  },
  [PROTO_REGISTRATION] = {
    [1] = "register request",
    [2] = "register answer",
    [3] = "withdraw request",
    [4] = "withdraw answer",
  },
  [PROTO_INQUIRY] = { [1] = "query request", [2] = "query answer" },
}

local check_names = {
  [0] = "none",
  [1] = "parity",
  [2] = "MD5",
  [3] = "sum",
  [4] = "BCC",
  [5] = "CRC-32",
  [6] = "LRC",
  [7] = "Ed25519",
}
for t = 8, 15 do check_names[t] = "reserved" end

-- Trailer sizes by check type; 8-15 have none (answered under type 0).
local trailer_sizes = { [0] = 0, 1, 16, 2, 1, 4, 1, 96 }

local status_names = {
  [0] = "OK",
  [1] = "MALFORMED",
  [2] = "BAD_CHECK",
  [3] = "UNSUPPORTED_VERSION",
  [4] = "UNSUPPORTED_CHECK",
  [5] = "INVALID_FIELD",
  [6] = "NOT_AUTHORIZED",
  [7] = "RATE_LIMITED",
  [8] = "STORAGE_FAILED",
  [9] = "NOT_FOUND",
  [10] = "TOO_LARGE",
  [11] = "INTERNAL",
  [12] = "INCOMPLETE",
}

local resource_names = {
  [0x0001] = "CPU",
  [0x0002] = "video",
  [0x0003] = "print",
  [0x0004] = "memory",
  [0x0005] = "software",
  [0x0006] = "copy",
  [0x0007] = "car rental",
  [0x0008] = "taxi ride",
  [0x0009] = "sightseeing",
  [0x000A] = "broadcast",
  [0x000B] = "storage",
  [0x000C] = "bandwidth",
}

local function resource_name(id)
  if resource_names[id] then return resource_names[id] end
  if id >= 0x8000 then return "private use" end
  return "reserved"
end

local kind_names = {
  [1] = "computer",
  [2] = "printer",
  [3] = "car",
  [4] = "radio",
  [0xFFFF] = "other",
}

local unit_names = {
  [0] = "per use",
  [1] = "per hour",
  [2] = "per page",
  [3] = "per GiB-hour",
  [4] = "per km",
  [5] = "per day",
}
local query_unit_names = {}
for k, v in pairs(unit_names) do query_unit_names[k] = v end
query_unit_names[0xFF] = "any"

-- ISO 4217 numeric codes the CLI knows by name (cli/src/names.cc).
local currency_names = {
  [156] = "CNY", [840] = "USD", [978] = "EUR", [826] = "GBP", [392] = "JPY",
  [344] = "HKD", [901] = "TWD", [410] = "KRW", [702] = "SGD", [356] = "INR",
  [36] = "AUD", [124] = "CAD", [756] = "CHF", [752] = "SEK", [578] = "NOK",
  [208] = "DKK", [554] = "NZD", [643] = "RUB", [986] = "BRL", [484] = "MXN",
  [710] = "ZAR", [985] = "PLN", [764] = "THB", [446] = "MOP",
}
local query_currency_names = { [0] = "any" }
for k, v in pairs(currency_names) do query_currency_names[k] = v end

local check_status_names = { [0] = "Bad", [1] = "Good", [2] = "Unverified" }
local CHECK_BAD, CHECK_GOOD, CHECK_UNVERIFIED = 0, 1, 2

-- Fields ---------------------------------------------------------------------

local f = {
  -- subtrees
  header = ProtoField.none("crsp.header", "Header"),
  resource_set = ProtoField.none("crsp.resource_set",
                                 "Resource set descriptor"),
  entry = ProtoField.none("crsp.entry", "Resource entry"),
  result = ProtoField.none("crsp.result", "Result entry"),
  query_descriptor = ProtoField.none("crsp.query_descriptor",
                                     "Query descriptor"),
  query_entry = ProtoField.none("crsp.query_entry", "Query entry"),
  answer_descriptor = ProtoField.none("crsp.answer_descriptor",
                                      "Answer descriptor"),
  offer = ProtoField.none("crsp.offer", "Offer"),
  node = ProtoField.none("crsp.node", "Node"),
  withdraw_all = ProtoField.none("crsp.withdraw_all",
                                 "Withdraw every offer of the device"),
  trailer = ProtoField.none("crsp.trailer", "Check trailer"),

  -- header
  version = ProtoField.uint16("crsp.version", "Version", base.DEC),
  protocol = ProtoField.uint8("crsp.protocol", "Protocol", base.HEX,
                              protocol_names),
  type = ProtoField.uint8("crsp.type", "Packet type", base.HEX),
  packet = ProtoField.string("crsp.packet", "Packet"),
  header_length = ProtoField.uint16("crsp.header_length", "Header length",
                                    base.DEC),
  header_extra = ProtoField.bytes("crsp.header_extra",
                                  "Header bytes past the v1 header"),
  total_length = ProtoField.uint16("crsp.total_length", "Total length",
                                   base.DEC),
  txid = ProtoField.uint32("crsp.txid", "Transaction id", base.DEC_HEX),
  check_byte = ProtoField.uint8("crsp.check_byte", "Check type byte",
                                base.HEX),
  check_reserved = ProtoField.uint8("crsp.check_reserved", "Reserved",
                                    base.HEX, nil, 0xF0),
  check_type = ProtoField.uint8("crsp.check_type", "Check type", base.DEC,
                                check_names, 0x0F),
  status = ProtoField.uint8("crsp.status", "Status", base.DEC, status_names),
  count = ProtoField.uint16("crsp.count", "Item count", base.DEC),

  -- shared body fields
  device_id = ProtoField.bytes("crsp.device_id", "Device id"),
  device_kind = ProtoField.uint16("crsp.device_kind", "Device kind",
                                  base.HEX, kind_names),
  currency = ProtoField.uint16("crsp.currency", "Currency", base.DEC,
                               currency_names),
  contact_address = ProtoField.ipv6("crsp.contact_address",
                                    "Contact address"),
  contact_port = ProtoField.uint16("crsp.contact_port", "Contact port",
                                   base.DEC),
  reserved = ProtoField.bytes("crsp.reserved", "Reserved"),
  resource_id = ProtoField.uint16("crsp.resource_id", "Resource id",
                                  base.HEX),
  resource = ProtoField.string("crsp.resource", "Resource"),
  billing_unit = ProtoField.uint8("crsp.billing_unit", "Billing unit",
                                  base.DEC, unit_names),
  flags = ProtoField.uint8("crsp.flags", "Flags", base.HEX),
  flag_signed = ProtoField.bool("crsp.flags.signed",
                                "Registered signed, signature verified", 8,
                                nil, 0x01),
  quantity = ProtoField.uint32("crsp.quantity", "Quantity", base.DEC),
  price = ProtoField.uint32("crsp.price", "Price (minor units per unit)",
                            base.DEC),
  valid_from = ProtoField.absolute_time("crsp.valid_from", "Valid from",
                                        base.UTC),
  valid_until = ProtoField.absolute_time("crsp.valid_until", "Valid until",
                                         base.UTC),

  -- register / withdraw answers
  entry_status = ProtoField.uint8("crsp.entry_status", "Entry status",
                                  base.DEC, status_names),
  replicas = ProtoField.uint16("crsp.replicas", "Replicas", base.DEC),

  -- ping answer
  node_id = ProtoField.bytes("crsp.node_id", "Node id"),
  offers_stored = ProtoField.uint32("crsp.offers_stored", "Offers stored",
                                    base.DEC),
  peers = ProtoField.uint32("crsp.peers", "Good DHT peers", base.DEC),
  uptime = ProtoField.uint32("crsp.uptime", "Uptime (seconds)", base.DEC),
  node_key = ProtoField.bytes("crsp.node_public_key",
                              "Node Ed25519 public key"),

  -- query request
  wanted_from = ProtoField.uint64("crsp.wanted_from", "Wanted from",
                                  base.DEC),
  wanted_until = ProtoField.uint64("crsp.wanted_until", "Wanted until",
                                   base.DEC),
  query_currency = ProtoField.uint16("crsp.query_currency", "Currency",
                                     base.DEC, query_currency_names),
  max_results = ProtoField.uint16("crsp.max_results", "Max results",
                                  base.DEC),
  cursor = ProtoField.uint32("crsp.cursor", "Cursor", base.DEC),
  query_unit = ProtoField.uint8("crsp.query_unit", "Billing unit", base.DEC,
                                query_unit_names),
  max_price = ProtoField.uint32("crsp.max_price", "Max price", base.DEC),
  min_quantity = ProtoField.uint32("crsp.min_quantity", "Min quantity",
                                   base.DEC),

  -- query answer
  total_matches = ProtoField.uint32("crsp.total_matches", "Total matches",
                                    base.DEC),
  next_cursor = ProtoField.uint32("crsp.next_cursor", "Next cursor",
                                  base.DEC),

  -- record push
  record = ProtoField.none("crsp.record", "Pushed record"),
  record_length = ProtoField.uint16("crsp.record_length", "Record length",
                                    base.DEC),
  record_data = ProtoField.bytes("crsp.record_data",
                                 "Record (DHT record, msgpack)"),

  -- node-to-node messages CRSP does not use (0x44-0x7F), unknown types
  node_message = ProtoField.bytes("crsp.node_message",
                                  "Node-to-node message body"),
  body = ProtoField.bytes("crsp.body", "Body"),
  extra = ProtoField.bytes("crsp.extra", "Bytes past the layout"),
  trailing = ProtoField.bytes("crsp.trailing",
                              "Datagram bytes past the total length"),

  -- request and answer linked by transaction id (PROTOCOL.md "Transport")
  answer_in = ProtoField.framenum("crsp.answer_in", "Answer in", base.NONE,
                                  frametype.RESPONSE),
  request_in = ProtoField.framenum("crsp.request_in", "Request in",
                                   base.NONE, frametype.REQUEST),
  answer_time = ProtoField.relative_time("crsp.answer_time",
                                         "Time since request"),
  resend_of = ProtoField.framenum("crsp.resend_of",
                                  "Resend of the request in", base.NONE,
                                  frametype.DUP_ACK),

  -- check trailer
  check = ProtoField.bytes("crsp.check", "Check bits"),
  check_computed = ProtoField.bytes("crsp.check.computed", "Computed check"),
  check_status = ProtoField.uint8("crsp.check.status", "Check status",
                                  base.DEC, check_status_names),
  signer_key = ProtoField.bytes("crsp.signer_public_key",
                                "Signer Ed25519 public key"),
  signature = ProtoField.bytes("crsp.signature", "Ed25519 signature"),
}

local field_list = {}
for _, v in pairs(f) do field_list[#field_list + 1] = v end
crsp.fields = field_list

local e = {
  short = ProtoExpert.new("crsp.expert.short",
                          "Datagram shorter than the 16-byte header",
                          expert.group.MALFORMED, expert.severity.ERROR),
  length = ProtoExpert.new("crsp.expert.length", "Wrong length",
                           expert.group.MALFORMED, expert.severity.ERROR),
  bad_check = ProtoExpert.new("crsp.expert.bad_check",
                              "Check bits do not match",
                              expert.group.CHECKSUM, expert.severity.ERROR),
  unverified = ProtoExpert.new("crsp.expert.unverified",
                               "Check not verified by this dissector",
                               expert.group.CHECKSUM, expert.severity.NOTE),
  reserved = ProtoExpert.new("crsp.expert.reserved",
                             "Reserved value is not zero",
                             expert.group.PROTOCOL, expert.severity.WARN),
  version = ProtoExpert.new("crsp.expert.version", "Unsupported version",
                            expert.group.PROTOCOL, expert.severity.ERROR),
  invalid = ProtoExpert.new("crsp.expert.invalid_field",
                            "Field out of range",
                            expert.group.PROTOCOL, expert.severity.WARN),
  error_status = ProtoExpert.new("crsp.expert.error_status",
                                 "Answer carries an error status",
                                 expert.group.RESPONSE_CODE,
                                 expert.severity.NOTE),
}
crsp.experts = { e.short, e.length, e.bad_check, e.unverified, e.reserved,
                 e.version, e.invalid, e.error_status }

-- Checks (PROTOCOL.md "Check trailer") ---------------------------------------

-- Lua BitOp (the global `bit`), which every Wireshark with Lua carries;
-- bit32 is gone from Lua 5.4. Its results are signed 32-bit numbers, so
-- sums below are reduced modulo 2^32 and digests taken byte by byte.
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rol, rshift = bit.rol, bit.rshift

local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if band(c, 1) ~= 0 then
      c = bxor(0xEDB88320, rshift(c, 1))
    else
      c = rshift(c, 1)
    end
  end
  crc_table[i] = c
end

-- CRC-32/ISO-HDLC: reflected 0x04C11DB7, init and xorout 0xFFFFFFFF.
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = bxor(crc_table[band(bxor(c, s:byte(i)), 0xFF)], rshift(c, 8))
  end
  return bxor(c, 0xFFFFFFFF) % 0x100000000
end

-- MD5 (RFC 1321) over a Lua string; returns the 16-byte digest as a string.
local md5_k = {
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
  0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
  0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
  0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
  0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
  0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
  0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
  0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
  0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
}
local md5_s = {
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
}

local function le32(x)
  return string.char(band(x, 0xFF), band(rshift(x, 8), 0xFF),
                     band(rshift(x, 16), 0xFF), band(rshift(x, 24), 0xFF))
end

local function md5(msg)
  local bitlen = #msg * 8
  -- Padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit LE.
  msg = msg .. "\128" .. string.rep("\0", (55 - #msg) % 64) ..
        le32(bitlen % 0x100000000) ..
        le32(math.floor(bitlen / 0x100000000))
  local a0, b0, c0, d0 = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
  local m = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      m[i] = b1 + b2 * 0x100 + b3 * 0x10000 + b4 * 0x1000000
    end
    local a, b, c, d = a0, b0, c0, d0
    for i = 0, 63 do
      local fv, g
      if i < 16 then
        fv = bor(band(b, c), band(bnot(b), d))
        g = i
      elseif i < 32 then
        fv = bor(band(d, b), band(bnot(d), c))
        g = (5 * i + 1) % 16
      elseif i < 48 then
        fv = bxor(b, c, d)
        g = (3 * i + 5) % 16
      else
        fv = bxor(c, bor(b, bnot(d)))
        g = (7 * i) % 16
      end
      local sum = (a + fv + md5_k[i + 1] + m[g]) % 0x100000000
      a, d, c = d, c, b
      b = (b + rol(sum, md5_s[i + 1])) % 0x100000000
    end
    a0 = (a0 + a) % 0x100000000
    b0 = (b0 + b) % 0x100000000
    c0 = (c0 + c) % 0x100000000
    d0 = (d0 + d) % 0x100000000
  end
  return le32(a0) .. le32(b0) .. le32(c0) .. le32(d0)
end

local function be(value, size)
  local out = {}
  for i = size, 1, -1 do
    out[i] = string.char(value % 256)
    value = math.floor(value / 256)
  end
  return table.concat(out)
end

-- The expected trailer bytes for check type `t` over string `s`, or nil for
-- a type this dissector does not compute (7: Ed25519, 8-15: reserved).
local function compute_check(t, s)
  if t == 0 then return "" end
  if t == 2 then return md5(s) end
  if t == 5 then return be(crc32(s), 4) end
  if t == 1 or t == 3 or t == 4 or t == 6 then
    local ones, sum, xor = 0, 0, 0
    for i = 1, #s do
      local byte = s:byte(i)
      sum = sum + byte
      xor = bxor(xor, byte)
      if t == 1 then
        while byte ~= 0 do
          ones = ones + band(byte, 1)
          byte = rshift(byte, 1)
        end
      end
    end
    if t == 1 then return be(ones % 2, 1) end
    if t == 3 then return be(sum % 65536, 2) end
    if t == 4 then return be(xor, 1) end
    return be((256 - sum % 256) % 256, 1)
  end
  return nil
end

-- Body helpers ---------------------------------------------------------------

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- Adds a reserved field and flags it when any byte is not zero.
local function add_reserved(tree, range)
  local item = tree:add(f.reserved, range)
  local s = range:raw()
  if s:find("[^%z]") then
    item:add_proto_expert_info(e.reserved, "Reserved bytes are not zero")
  end
  return item
end

-- os.date gives nil (or fails) for times it cannot represent.
local function format_date(secs)
  local ok, text = pcall(os.date, "!%Y-%m-%d %H:%M:%S UTC", secs)
  if ok and text then return text end
  return "not a representable date"
end

local function add_time(tree, field, range)
  local secs = range:uint64()
  local item = tree:add(field, range, NSTime.new(secs:tonumber(), 0))
  item:append_text(" (" .. tostring(secs) .. ")")
  return secs, item
end

local function add_resource_id(tree, range)
  local id = range:uint()
  local item = tree:add(f.resource_id, range)
  item:append_text(" (" .. resource_name(id) .. ")")
  tree:add(f.resource, range, resource_name(id)):set_generated()
  return id
end

-- Currencies without minor units (ISO 4217 exponent 0); the rest known
-- here have 2 (cli/src/names.cc).
local no_minor_units = { [392] = true, [410] = true }

-- A price in major units with the currency's code: "0.10 CNY".
local function money(price, currency)
  local code = currency_names[currency]
  if not code then
    return string.format("%u minor units of currency %u", price, currency)
  end
  if no_minor_units[currency] then
    return string.format("%u %s", price, code)
  end
  return string.format("%u.%02u %s", math.floor(price / 100), price % 100,
                       code)
end

-- Adds a price field, its major-unit amount appended.
local function add_price(tree, range, currency)
  local item = tree:add(f.price, range)
  item:append_text(" (" .. money(range:uint(), currency) .. ")")
end

-- Resource set descriptor (40 bytes) at `off`.
local function dissect_resource_set(tvb, tree, off)
  local t = tree:add(f.resource_set, tvb(off, RESOURCE_SET_SIZE))
  t:add(f.device_id, tvb(off, 16))
  t:add(f.device_kind, tvb(off + 16, 2))
  t:add(f.currency, tvb(off + 18, 2))
  local addr = t:add(f.contact_address, tvb(off + 20, 16))
  if not tvb(off + 20, 16):raw():find("[^%z]") then
    addr:append_text(" (the request's source address)")
  end
  local port = t:add(f.contact_port, tvb(off + 36, 2))
  if tvb(off + 36, 2):uint() == 0 then
    port:append_text(" (the request's source port)")
  end
  add_reserved(t, tvb(off + 38, 2))
  return tvb(off + 18, 2):uint()
end

-- Resource entry (32 bytes) of a register request.
local function dissect_resource_entry(tvb, tree, off, index, currency)
  local id = tvb(off, 2):uint()
  local unit = tvb(off + 2, 1):uint()
  local quantity = tvb(off + 4, 4):uint()
  local price = tvb(off + 8, 4):uint()
  local t = tree:add(f.entry, tvb(off, RESOURCE_ENTRY_SIZE))
  t:set_text(string.format("Entry %d: %s, %u at %s %s", index,
                                   resource_name(id), quantity,
                                   money(price, currency),
                                   unit_names[unit] or "unit ?"))
  add_resource_id(t, tvb(off, 2))
  local unit_item = t:add(f.billing_unit, tvb(off + 2, 1))
  if not unit_names[unit] then
    unit_item:add_proto_expert_info(e.invalid, "Unknown billing unit")
  end
  local flags = t:add(f.flags, tvb(off + 3, 1))
  if tvb(off + 3, 1):uint() ~= 0 then
    flags:add_proto_expert_info(e.reserved, "Entry flags are not zero")
  end
  local qty = t:add(f.quantity, tvb(off + 4, 4))
  if quantity == 0 then
    qty:add_proto_expert_info(e.invalid, "Quantity 0 (at least 1)")
  end
  add_price(t, tvb(off + 8, 4), currency)
  add_reserved(t, tvb(off + 12, 4))
  local from = add_time(t, f.valid_from, tvb(off + 16, 8))
  local until_, until_item = add_time(t, f.valid_until, tvb(off + 24, 8))
  if until_ <= from then
    until_item:add_proto_expert_info(e.invalid,
                                     "Validity ends before it starts")
  end
end

-- Result entry (8 bytes) of a register or withdraw answer.
local function dissect_result_entry(tvb, tree, off, index)
  local id = tvb(off, 2):uint()
  local status = tvb(off + 2, 1):uint()
  local t = tree:add(f.result, tvb(off, RESULT_ENTRY_SIZE))
  t:set_text(string.format("Entry %d: %s, %s, %u replica(s)", index,
                                   resource_name(id),
                                   status_names[status] or "status ?",
                                   tvb(off + 4, 2):uint()))
  add_resource_id(t, tvb(off, 2))
  local st = t:add(f.entry_status, tvb(off + 2, 1))
  if status ~= STATUS_OK then
    st:add_proto_expert_info(e.error_status, "Entry status " ..
                             (status_names[status] or tostring(status)))
  end
  add_reserved(t, tvb(off + 3, 1))
  t:add(f.replicas, tvb(off + 4, 2))
  add_reserved(t, tvb(off + 6, 2))
end

local function dissect_query_entry(tvb, tree, off, index)
  local id = tvb(off, 2):uint()
  local unit = tvb(off + 2, 1):uint()
  local max_price = tvb(off + 4, 4):uint()
  local t = tree:add(f.query_entry, tvb(off, QUERY_ENTRY_SIZE))
  t:set_text(string.format("Entry %d: %s, %s, max price %s, min %u",
                                   index, resource_name(id),
                                   query_unit_names[unit] or "unit ?",
                                   max_price == 0xFFFFFFFF and "any" or
                                       tostring(max_price),
                                   tvb(off + 8, 4):uint()))
  add_resource_id(t, tvb(off, 2))
  local unit_item = t:add(f.query_unit, tvb(off + 2, 1))
  if not query_unit_names[unit] then
    unit_item:add_proto_expert_info(e.invalid, "Unknown billing unit")
  end
  add_reserved(t, tvb(off + 3, 1))
  local mp = t:add(f.max_price, tvb(off + 4, 4))
  if max_price == 0xFFFFFFFF then mp:append_text(" (any)") end
  t:add(f.min_quantity, tvb(off + 8, 4))
  return id
end

local function dissect_offer(tvb, tree, off, index)
  local id = tvb(off + 38, 2):uint()
  local currency = tvb(off + 36, 2):uint()
  local unit = tvb(off + 40, 1):uint()
  local t = tree:add(f.offer, tvb(off, OFFER_SIZE))
  t:set_text(string.format("Offer %d: %s, %u at %s %s, device %s",
                                   index, resource_name(id),
                                   tvb(off + 44, 4):uint(),
                                   money(tvb(off + 48, 4):uint(), currency),
                                   unit_names[unit] or "unit ?",
                                   hex(tvb(off, 16):raw())))
  t:add(f.device_id, tvb(off, 16))
  t:add(f.contact_address, tvb(off + 16, 16))
  t:add(f.contact_port, tvb(off + 32, 2))
  t:add(f.device_kind, tvb(off + 34, 2))
  t:add(f.currency, tvb(off + 36, 2))
  add_resource_id(t, tvb(off + 38, 2))
  t:add(f.billing_unit, tvb(off + 40, 1))
  local flags = t:add(f.flags, tvb(off + 41, 1))
  flags:add(f.flag_signed, tvb(off + 41, 1))
  if band(tvb(off + 41, 1):uint(), 0xFE) ~= 0 then
    flags:add_proto_expert_info(e.reserved, "Offer flag bits 1-7 are not zero")
  end
  add_reserved(t, tvb(off + 42, 2))
  t:add(f.quantity, tvb(off + 44, 4))
  add_price(t, tvb(off + 48, 4), currency)
  add_reserved(t, tvb(off + 52, 4))
  add_time(t, f.valid_from, tvb(off + 56, 8))
  add_time(t, f.valid_until, tvb(off + 64, 8))
end

-- Layout checks shared by the body dissectors: `fixed` bytes, then `count`
-- items of `size`. Flags a wrong body length; returns how many whole items
-- the body holds (at most `count`).
local function items_present(tvb, tree, body_off, body_len, fixed, size,
                             count)
  local expected = fixed + size * count
  if body_len ~= expected then
    tree:add_proto_expert_info(e.length, string.format(
      "Body is %d bytes; %d expected for %d item(s)", body_len, expected,
      count))
  end
  if body_len < fixed then return -1 end
  return math.min(count, math.floor((body_len - fixed) / size))
end

local function check_count(tree, count, min, max, what)
  if count < min or count > max then
    tree:add_proto_expert_info(e.invalid, string.format(
      "%d %s; %d..%d allowed", count, what, min, max))
  end
end

-- Marks bytes of the body past its layout.
local function add_extra(tvb, tree, off, stop)
  if stop > off then tree:add(f.extra, tvb(off, stop - off)) end
end

-- Query request body [off, stop): the inquiry request, and the body of a
-- forwarded query. Returns the Info summary and the distinct resource ids
-- of the entries (nil when the body is too short for its descriptor).
local function dissect_query_request(tvb, tree, h, off, stop)
  local len = stop - off
  local count = h.count
  check_count(tree, count, 1, MAX_QUERY_ENTRIES, "entries")
  local n = items_present(tvb, tree, off, len, QUERY_DESCRIPTOR_SIZE,
                          QUERY_ENTRY_SIZE, count)
  if n < 0 then
    if len > 0 then tree:add(f.body, tvb(off, len)) end
    return ""
  end
  local d = tree:add(f.query_descriptor, tvb(off, QUERY_DESCRIPTOR_SIZE))
  local from = d:add(f.wanted_from, tvb(off, 8))
  local from_v = tvb(off, 8):uint64()
  if from_v == UInt64(0) then
    from:append_text(" (now)")
  else
    from:append_text(" (" .. format_date(from_v:tonumber()) .. ")")
  end
  local untl = d:add(f.wanted_until, tvb(off + 8, 8))
  local until_v = tvb(off + 8, 8):uint64()
  if until_v == UInt64(0) then
    untl:append_text(" (no end wanted)")
  else
    untl:append_text(" (" .. format_date(until_v:tonumber()) .. ")")
  end
  d:add(f.query_currency, tvb(off + 16, 2))
  local mr = d:add(f.max_results, tvb(off + 18, 2))
  if tvb(off + 18, 2):uint() == 0 then
    mr:append_text(" (as many as fit)")
  end
  d:add(f.cursor, tvb(off + 20, 4))
  local at = off + QUERY_DESCRIPTOR_SIZE
  local ids, seen = {}, {}
  for i = 1, n do
    local id = dissect_query_entry(tvb, tree, at, i)
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
    at = at + QUERY_ENTRY_SIZE
  end
  add_extra(tvb, tree, at, stop)
  return "", ids
end

-- Query answer body [off, stop): the inquiry answer, and the body of a
-- forwarded answer. Returns the Info summary.
local function dissect_query_answer(tvb, tree, h, off, stop)
  local len = stop - off
  local count = h.count
  local n = items_present(tvb, tree, off, len, ANSWER_DESCRIPTOR_SIZE,
                          OFFER_SIZE, count)
  if n < 0 then
    if len > 0 then tree:add(f.body, tvb(off, len)) end
    return ""
  end
  local d = tree:add(f.answer_descriptor, tvb(off, ANSWER_DESCRIPTOR_SIZE))
  d:add(f.total_matches, tvb(off, 4))
  local nc = d:add(f.next_cursor, tvb(off + 4, 4))
  if tvb(off + 4, 4):uint() == 0 then nc:append_text(" (last page)") end
  local at = off + ANSWER_DESCRIPTOR_SIZE
  for i = 1, n do
    dissect_offer(tvb, tree, at, i)
    at = at + OFFER_SIZE
  end
  add_extra(tvb, tree, at, stop)
  return string.format(", %u of %u matches", n, tvb(off, 4):uint())
end

-- Dissects the body [off, stop) of a v1 packet; returns a summary for Info.
local function dissect_body(tvb, tree, h, off, stop)
  local len = stop - off
  local count = h.count
  local p, t = h.protocol, h.type
  local is_answer = (t == 2 or t == 4) and p <= PROTO_INQUIRY and
                    packet_names[p][t] ~= nil
  -- An error answer has an empty body and count 0 (PROTOCOL.md "Status").
  if is_answer and h.status ~= STATUS_OK and len == 0 and count == 0 then
    return ""
  end

  -- Node-to-node messages CRSP does not use: their layout is unknown.
  if p == PROTO_CONTROL and t > PUSH_ACK and t <= PEER_LAST then
    if len > 0 then tree:add(f.node_message, tvb(off, len)) end
    return ""
  end

  if p == PROTO_CONTROL and t == 1 then
    items_present(tvb, tree, off, len, 0, 1, 0)
    if count ~= 0 then
      tree:add_proto_expert_info(e.invalid, "Ping request with items")
    end
    add_extra(tvb, tree, off, stop)
    return ""
  end

  if p == PROTO_CONTROL and t == 2 then
    if count ~= 0 then
      tree:add_proto_expert_info(e.invalid, "Ping answer with items")
    end
    if len ~= PING_ANSWER_SIZE then
      tree:add_proto_expert_info(e.length, string.format(
        "Ping answer body is %d bytes; 64 expected", len))
    end
    if len < PING_ANSWER_SIZE then
      if len > 0 then tree:add(f.body, tvb(off, len)) end
      return ""
    end
    local b = tree:add(f.node, tvb(off, PING_ANSWER_SIZE))
    b:add(f.node_id, tvb(off, 20))
    b:add(f.offers_stored, tvb(off + 20, 4))
    b:add(f.peers, tvb(off + 24, 4))
    b:add(f.uptime, tvb(off + 28, 4))
    b:add(f.node_key, tvb(off + 32, 32))
    add_extra(tvb, tree, off + PING_ANSWER_SIZE, stop)
    return string.format(", node %s, %u peers, %u offers",
                         hex(tvb(off, 20):raw()):sub(1, 8),
                         tvb(off + 24, 4):uint(), tvb(off + 20, 4):uint())
  end

  if p == PROTO_REGISTRATION and t == 1 then
    check_count(tree, count, 1, MAX_REGISTER_ENTRIES, "entries")
    local n = items_present(tvb, tree, off, len, RESOURCE_SET_SIZE,
                            RESOURCE_ENTRY_SIZE, count)
    if n < 0 then
      if len > 0 then tree:add(f.body, tvb(off, len)) end
      return ""
    end
    local currency = dissect_resource_set(tvb, tree, off)
    local at = off + RESOURCE_SET_SIZE
    for i = 1, n do
      dissect_resource_entry(tvb, tree, at, i, currency)
      at = at + RESOURCE_ENTRY_SIZE
    end
    add_extra(tvb, tree, at, stop)
    return ", device " .. hex(tvb(off, 16):raw())
  end

  if p == PROTO_REGISTRATION and (t == 2 or t == 4) then
    local n = items_present(tvb, tree, off, len, DEVICE_ID_SIZE,
                            RESULT_ENTRY_SIZE, count)
    if n < 0 then
      if len > 0 then tree:add(f.body, tvb(off, len)) end
      return ""
    end
    tree:add(f.device_id, tvb(off, 16))
    local at = off + DEVICE_ID_SIZE
    local failed = 0
    for i = 1, n do
      dissect_result_entry(tvb, tree, at, i)
      if tvb(at + 2, 1):uint() ~= STATUS_OK then failed = failed + 1 end
      at = at + RESULT_ENTRY_SIZE
    end
    -- "The header status is OK only when every entry is OK."
    if h.status == STATUS_OK and failed > 0 then
      tree:add_proto_expert_info(e.invalid, string.format(
        "Header status OK, but %d entry status(es) are not", failed))
    end
    add_extra(tvb, tree, at, stop)
    return ", device " .. hex(tvb(off, 16):raw())
  end

  if p == PROTO_REGISTRATION and t == 3 then
    check_count(tree, count, 0, MAX_WITHDRAW_IDS, "resource ids")
    local n = items_present(tvb, tree, off, len, DEVICE_ID_SIZE, 2, count)
    if n < 0 then
      if len > 0 then tree:add(f.body, tvb(off, len)) end
      return ""
    end
    tree:add(f.device_id, tvb(off, 16))
    local at = off + DEVICE_ID_SIZE
    if count == 0 then
      tree:add(f.withdraw_all, tvb(off, 16)):set_generated()
    end
    for _ = 1, n do
      add_resource_id(tree, tvb(at, 2))
      at = at + 2
    end
    add_extra(tvb, tree, at, stop)
    return ", device " .. hex(tvb(off, 16):raw())
  end

  if p == PROTO_INQUIRY and t == 1 then
    return dissect_query_request(tvb, tree, h, off, stop)
  end

  if p == PROTO_INQUIRY and t == 2 then
    return dissect_query_answer(tvb, tree, h, off, stop)
  end

  -- Forwarded query: a query request body naming one resource id
  -- (docs/scaling.md "Node-to-node messages").
  if p == PROTO_CONTROL and t == FORWARDED_QUERY then
    local summary, ids = dissect_query_request(tvb, tree, h, off, stop)
    if ids and #ids > 1 then
      tree:add_proto_expert_info(e.invalid, string.format(
        "Forwarded query names %d resource ids; one is forwarded (a node " ..
        "answers INVALID_FIELD)", #ids))
    elseif ids and #ids == 1 then
      summary = summary .. ", " .. resource_name(ids[1])
    end
    return summary
  end

  -- Forwarded answer: a query answer body, at most 1,232 bytes. OK and
  -- INCOMPLETE carry the body; any other status none.
  if p == PROTO_CONTROL and t == FORWARDED_ANSWER then
    local error_status = h.status ~= STATUS_OK and
                         h.status ~= STATUS_INCOMPLETE
    if error_status and len == 0 and count == 0 then return "" end
    if error_status then
      tree:add_proto_expert_info(e.length, string.format(
        "Error answer (status %d) with a %d-byte body; it has none",
        h.status, len))
      if len > 0 then tree:add(f.body, tvb(off, len)) end
      return ""
    end
    if h.total_length > MAX_ANSWER then
      tree:add_proto_expert_info(e.invalid, string.format(
        "Forwarded answer of %d bytes, over %d (a node refuses it: " ..
        "TOO_LARGE)", h.total_length, MAX_ANSWER))
    end
    return dissect_query_answer(tvb, tree, h, off, stop)
  end

  -- Record push: item count records, each a 2-byte length L (1..4,096)
  -- and L bytes, nothing after the last; several at most 1,232 bytes in
  -- all, one may be larger. The records are DHT records, shown as bytes.
  if p == PROTO_CONTROL and t == RECORD_PUSH then
    check_count(tree, count, 1, MAX_PUSH_RECORDS, "records")
    local at, n = off, 0
    while n < count and at + 2 <= stop do
      local rlen = tvb(at, 2):uint()
      if at + 2 + rlen > stop then
        tree:add_proto_expert_info(e.length, string.format(
          "Record %d of %d bytes runs %d bytes past the body", n + 1, rlen,
          at + 2 + rlen - stop))
        tree:add(f.body, tvb(at, stop - at))
        return string.format(", %d of %d records", n, count)
      end
      n = n + 1
      local rt = tree:add(f.record, tvb(at, 2 + rlen))
      rt:append_text(string.format(" %d, %d bytes", n, rlen))
      local li = rt:add(f.record_length, tvb(at, 2))
      if rlen == 0 or rlen > MAX_PUSH_RECORD_SIZE then
        li:add_proto_expert_info(e.invalid, string.format(
          "Record of %d bytes; 1..%d allowed (a node drops the push)", rlen,
          MAX_PUSH_RECORD_SIZE))
      end
      if rlen > 0 then rt:add(f.record_data, tvb(at + 2, rlen)) end
      at = at + 2 + rlen
    end
    if n < count then
      tree:add_proto_expert_info(e.length, string.format(
        "Body holds %d of %d records", n, count))
    elseif at < stop then
      tree:add_proto_expert_info(e.length, string.format(
        "%d bytes after the last record", stop - at))
    end
    add_extra(tvb, tree, at, stop)
    if count > 1 and h.total_length > MAX_ANSWER then
      tree:add_proto_expert_info(e.invalid, string.format(
        "Record push of %d records and %d bytes, over %d (a node drops " ..
        "it: TOO_LARGE)", count, h.total_length, MAX_ANSWER))
    end
    return string.format(", %d record%s", n, n == 1 and "" or "s")
  end

  -- Push ack: the header only.
  if p == PROTO_CONTROL and t == PUSH_ACK then
    if count ~= 0 or len > 0 then
      tree:add_proto_expert_info(e.length, string.format(
        "Push ack with item count %d and a %d-byte body; it has neither",
        count, len))
      if len > 0 then tree:add(f.body, tvb(off, len)) end
    end
    return ""
  end

  -- Unknown protocol or packet type: reserved, a node answers MALFORMED.
  if len > 0 then tree:add(f.body, tvb(off, len)) end
  return ""
end

-- Request/answer matching ---------------------------------------------------
--
-- An answer goes to the request's source address and port with the same
-- transaction id (PROTOCOL.md "Transport"); a resend repeats the request
-- with the same id. Filled on the first pass over the capture, read on
-- every pass; reset when a capture is (re)loaded.

local exchanges = {}

function crsp.init()
  exchanges = {}
end

-- Key of the exchange a packet belongs to, seen from the client's side.
local function exchange_key(pinfo, h, is_answer)
  local client, client_port, server, server_port
  if is_answer then
    client, client_port = tostring(pinfo.dst), pinfo.dst_port
    server, server_port = tostring(pinfo.src), pinfo.src_port
  else
    client, client_port = tostring(pinfo.src), pinfo.src_port
    server, server_port = tostring(pinfo.dst), pinfo.dst_port
  end
  local request_type = is_answer and h.type - 1 or h.type
  return string.format("%s|%d|%s|%d|%d|%d|%d", client, client_port, server,
                       server_port, h.protocol, request_type, h.txid)
end

-- Adds the links between a request, its resends and its first answer.
local function link_exchange(tree, tvb, pinfo, h, is_answer)
  local key = exchange_key(pinfo, h, is_answer)
  local x = exchanges[key]
  if not pinfo.visited then
    if not x then
      x = { requests = {}, answer = nil }
      exchanges[key] = x
    end
    if is_answer then
      if not x.answer then x.answer = pinfo.number end
    elseif #x.requests == 0 or
           x.requests[#x.requests].number < pinfo.number then
      x.requests[#x.requests + 1] = { number = pinfo.number,
                                      time = pinfo.abs_ts }
    end
  end
  if not x then return end
  local here = tvb(8, 4) -- the transaction id
  if is_answer then
    local first = x.requests[1]
    if first and first.number < pinfo.number then
      tree:add(f.request_in, here, first.number):set_generated()
      -- Time since the last request sent before this answer.
      local last = first
      for _, r in ipairs(x.requests) do
        if r.number < pinfo.number then last = r end
      end
      local delta = pinfo.abs_ts - last.time
      local secs = math.floor(delta)
      tree:add(f.answer_time, here,
               NSTime.new(secs, math.floor((delta - secs) * 1e9)))
          :set_generated()
    end
  else
    if x.answer then
      tree:add(f.answer_in, here, x.answer):set_generated()
    end
    local first = x.requests[1]
    if first and first.number < pinfo.number then
      tree:add(f.resend_of, here, first.number):set_generated()
    end
  end
end

-- Dissector --------------------------------------------------------------------

function crsp.dissector(tvb, pinfo, root)
  local dgram = tvb:len()
  pinfo.cols.protocol = "CRSP"
  local tree = root:add(crsp, tvb())

  if dgram < HEADER_SIZE then
    tree:add_proto_expert_info(e.short, string.format(
      "Datagram of %d bytes, shorter than the 16-byte header", dgram))
    if dgram > 0 then tree:add(f.body, tvb()) end
    pinfo.cols.info = string.format("CRSP short datagram (%d bytes)", dgram)
    return dgram
  end

  local h = {
    version = tvb(0, 2):uint(),
    protocol = tvb(2, 1):uint(),
    type = tvb(3, 1):uint(),
    header_length = tvb(4, 2):uint(),
    total_length = tvb(6, 2):uint(),
    txid = tvb(8, 4):uint(),
    check_byte = tvb(12, 1):uint(),
    status = tvb(13, 1):uint(),
    count = tvb(14, 2):uint(),
  }
  h.check_type = band(h.check_byte, 0x0F)

  local name
  if packet_names[h.protocol] and packet_names[h.protocol][h.type] then
    name = packet_names[h.protocol][h.type]
  elseif h.protocol == PROTO_CONTROL and h.type >= PEER_FIRST and
         h.type <= PEER_LAST then
    name = string.format("node-to-node message 0x%02x", h.type)
  else
    name = string.format("unknown packet (protocol %d, type 0x%02x)",
                         h.protocol, h.type)
  end
  local is_answer = name:find("answer") ~= nil or
                    (h.protocol == PROTO_CONTROL and h.type == PUSH_ACK)

  -- Header.
  local ht = tree:add(f.header, tvb(0, HEADER_SIZE))
  local vi = ht:add(f.version, tvb(0, 2))
  if h.version ~= 1 then
    vi:add_proto_expert_info(e.version, string.format(
      "Version %d; this dissector reads version 1 (a node answers " ..
      "UNSUPPORTED_VERSION)", h.version))
  end
  local pi = ht:add(f.protocol, tvb(2, 1))
  local ti = ht:add(f.type, tvb(3, 1))
  ti:append_text(" (" .. name .. ")")
  ht:add(f.packet, tvb(2, 2), name):set_generated()
  if not protocol_names[h.protocol] then
    pi:add_proto_expert_info(e.reserved, "Reserved protocol (a node " ..
                             "answers MALFORMED)")
  elseif name:find("^unknown") then
    ti:add_proto_expert_info(e.reserved, "Reserved packet type (a node " ..
                             "answers MALFORMED)")
  end
  local hli = ht:add(f.header_length, tvb(4, 2))
  local tli = ht:add(f.total_length, tvb(6, 2))
  ht:add(f.txid, tvb(8, 4))
  local cb = ht:add(f.check_byte, tvb(12, 1))
  local cr = cb:add(f.check_reserved, tvb(12, 1))
  local ct = cb:add(f.check_type, tvb(12, 1))
  if h.check_byte >= 0x10 then
    cr:add_proto_expert_info(e.reserved,
                             "High 4 bits of the check type byte are not 0")
  end
  if h.check_type >= 8 then
    ct:add_proto_expert_info(e.reserved, string.format(
      "Check type %d is reserved (a node answers UNSUPPORTED_CHECK)",
      h.check_type))
  end
  local si = ht:add(f.status, tvb(13, 1))
  if is_answer and h.status ~= STATUS_OK then
    si:add_proto_expert_info(e.error_status, "Status " ..
                             (status_names[h.status] or tostring(h.status)))
  elseif not is_answer and packet_names[h.protocol] and
         packet_names[h.protocol][h.type] and h.status ~= 0 then
    -- Node-to-node messages CRSP does not use (0x44-0x7F) lay out their
    -- own fields; a forwarded query or a record push is a request like any
    -- other.
    si:add_proto_expert_info(e.reserved, "Status is not 0 in a request")
  end
  if is_answer and not status_names[h.status] then
    si:add_proto_expert_info(e.reserved, "Unknown status code")
  end
  ht:add(f.count, tvb(14, 2))
  if packet_names[h.protocol] and packet_names[h.protocol][h.type] then
    link_exchange(tree, tvb, pinfo, h, is_answer)
  end

  local info = string.format("%s%s, txid %u, %s", name:sub(1, 1):upper(),
                             name:sub(2), h.txid, check_names[h.check_type])
  if is_answer then
    info = info .. ", " .. (status_names[h.status] or
                            ("status " .. h.status))
  end
  tree:append_text(", " .. name .. ", txid " .. h.txid)

  if h.version ~= 1 then
    pinfo.cols.info = info
    if dgram > HEADER_SIZE then
      tree:add(f.body, tvb(HEADER_SIZE, dgram - HEADER_SIZE))
    end
    return dgram
  end

  -- Lengths: the packet is [0, total_length) and must fill the datagram.
  local trailer_len = trailer_sizes[h.check_type] or 0
  local stop = h.total_length -- end of the packet, trailer included
  local truncated = false
  if h.total_length ~= dgram then
    tli:add_proto_expert_info(e.length, string.format(
      "Total length %d, datagram %d bytes", h.total_length, dgram))
    if h.total_length > dgram then
      truncated = true
      stop = dgram
    end
  end
  local min_total = math.max(h.header_length, HEADER_SIZE) + trailer_len
  local body_off = h.header_length
  if h.header_length < HEADER_SIZE then
    hli:add_proto_expert_info(e.length, string.format(
      "Header length %d, less than 16", h.header_length))
    body_off = HEADER_SIZE
  elseif h.header_length > HEADER_SIZE then
    if h.header_length + (truncated and 0 or trailer_len) > stop then
      hli:add_proto_expert_info(e.length, "Header length past the packet")
      body_off = HEADER_SIZE
    else
      ht:add(f.header_extra, tvb(HEADER_SIZE, h.header_length - HEADER_SIZE))
    end
  end
  if not truncated and h.total_length < min_total then
    tli:add_proto_expert_info(e.length, string.format(
      "Total length %d cannot hold the header and a %d-byte trailer",
      h.total_length, trailer_len))
    stop = body_off + trailer_len
    if stop > dgram then
      -- Nothing sensible to dissect past the header.
      pinfo.cols.info = info .. " [bad length]"
      return dgram
    end
  end

  -- Body, then the trailer (absent from a truncated datagram).
  local body_stop = truncated and stop or stop - trailer_len
  local summary = dissect_body(tvb, tree, h, body_off, body_stop)
  if body_stop > body_off then
    -- Shown on the top item so the summary is visible collapsed.
    tree:append_text(string.format(", %d-byte body", body_stop - body_off))
  end
  info = info .. summary

  local bad_check = false
  if truncated then
    tree:add_proto_expert_info(e.length, string.format(
      "Datagram ends %d bytes before its total length; the %s trailer " ..
      "is missing", h.total_length - dgram, check_names[h.check_type]))
    info = info .. " [truncated]"
  elseif h.check_type >= 1 and h.check_type <= 7 then
    local tr = tvb(body_stop, trailer_len)
    local tt = tree:add(f.trailer, tr)
    tt:append_text(": " .. check_names[h.check_type])
    if h.check_type == 7 then
      tt:add(f.signer_key, tvb(body_stop, 32))
      tt:add(f.signature, tvb(body_stop + 32, 64))
      local st = tt:add(f.check_status, tr, CHECK_UNVERIFIED)
      st:set_generated()
      st:add_proto_expert_info(e.unverified,
                               "Ed25519 signature not verified (shown only)")
      tt:append_text(" (signer " .. hex(tvb(body_stop, 32):raw()) ..
                     ", not verified)")
    else
      local got = tr:raw()
      local want = compute_check(h.check_type, tvb:raw(0, body_stop))
      local ci = tt:add(f.check, tr)
      local ca = tt:add(f.check_computed, tr, want)
      ca:set_generated()
      local good = got == want
      local st = tt:add(f.check_status, tr, good and CHECK_GOOD or CHECK_BAD)
      st:set_generated()
      if good then
        tt:append_text(" " .. hex(got) .. " [good]")
      else
        bad_check = true
        tt:append_text(" " .. hex(got) .. " [BAD, expected " .. hex(want) ..
                       "]")
        ci:add_proto_expert_info(e.bad_check, string.format(
          "%s check is %s, computed %s (a node answers BAD_CHECK)",
          check_names[h.check_type], hex(got), hex(want)))
      end
    end
  end
  if bad_check then info = info .. " [BAD CHECK]" end

  if not truncated and stop < dgram then
    tree:add(f.trailing, tvb(stop, dgram - stop))
  end
  pinfo.cols.info = info
  return dgram
end

-- Registration -----------------------------------------------------------------

crsp.prefs.udp_port = Pref.uint("UDP port", 7400,
                                "UDP port of CRSP nodes (default 7400)")

crsp.prefs.heuristic = Pref.bool(
  "Find CRSP on any UDP port", true,
  "Try CRSP on UDP datagrams no port dissector claimed: version 1, a " ..
  "16-byte header, the total length equal to the datagram's, a known " ..
  "packet type and check type, and (types 1-6) check bits that match")

-- Strict on purpose: a false positive hides another protocol.
local function looks_like_crsp(tvb)
  local len = tvb:len()
  if len < HEADER_SIZE or len > 65507 then return false end
  if tvb(0, 2):uint() ~= 1 or tvb(4, 2):uint() ~= HEADER_SIZE or
     tvb(6, 2):uint() ~= len then
    return false
  end
  local p, t, ct = tvb(2, 1):uint(), tvb(3, 1):uint(), tvb(12, 1):uint()
  if ct > 7 then return false end
  local known = packet_names[p] and packet_names[p][t]
  if not known and not (p == PROTO_CONTROL and t >= PEER_FIRST and
                        t <= PEER_LAST) then
    return false
  end
  local trailer_len = trailer_sizes[ct]
  if len < HEADER_SIZE + trailer_len then return false end
  if ct >= 1 and ct <= 6 then
    return compute_check(ct, tvb:raw(0, len - trailer_len)) ==
           tvb:raw(len - trailer_len, trailer_len)
  end
  return true
end

local function heuristic(tvb, pinfo, root)
  if not crsp.prefs.heuristic or not looks_like_crsp(tvb) then
    return false
  end
  crsp.dissector(tvb, pinfo, root)
  return true
end
crsp:register_heuristic("udp", heuristic)

local udp_table = DissectorTable.get("udp.port")
local registered_port = 7400
udp_table:add(registered_port, crsp)
udp_table:add_for_decode_as(crsp)

function crsp.prefs_changed()
  if crsp.prefs.udp_port ~= registered_port then
    udp_table:remove(registered_port, crsp)
    registered_port = crsp.prefs.udp_port
    if registered_port ~= 0 then udp_table:add(registered_port, crsp) end
  end
end
