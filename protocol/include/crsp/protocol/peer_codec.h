// The node-to-node packets of docs/scaling.md ("Node-to-node messages"):
// control types 0x40 (forwarded query), 0x41 (forwarded answer), 0x42
// (record push) and 0x43 (push ack), in PROTOCOL.md's implementation range
// 0x40-0x7F. They use the header and check trailer of every packet. 0x40 and
// 0x41 carry a query request body and a query answer body unchanged, so a
// forwarding node passes the buyer's query on and the aggregator's answer
// back without re-shaping either; 0x42 carries DHT records as opaque bytes,
// and 0x43 only its header.
//
// This is a codec of its own, beside codec.h: Decode (what clients reach)
// keeps answering every control type above 0x02 as MALFORMED, and only the
// node's peer path, for datagrams from its DHT peers, calls DecodePeer.
// Both share the frame checks (src/frame.h). Never throws, never reads past
// the end of its input.
#ifndef CRSP_PROTOCOL_PEER_CODEC_H_
#define CRSP_PROTOCOL_PEER_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"

namespace crsp::protocol {

// 0x42: records an accepting node pushes to an id's aggregators
// (docs/scaling.md "Pushed records"). Each is one DHT record's bytes
// (docs/storage.md), opaque here: the receiver decodes and verifies them.
struct RecordPush {
  std::vector<std::vector<std::byte>> records;

  friend bool operator==(const RecordPush&, const RecordPush&) = default;
};

// 0x43: the aggregator's acknowledgement of a push; all it says is in the
// header's status and txid.
struct PushAck {
  friend bool operator==(const PushAck&, const PushAck&) = default;
};

// Bytes a record of `record_size` bytes adds to a push's body.
inline constexpr size_t PushedRecordSize(size_t record_size) {
  return wire::kPushRecordLengthSize + record_size;
}

// Node-to-node packets (docs/scaling.md): 0x40 forwarded query, 0x41
// forwarded answer, 0x42 record push, 0x43 push ack, all under protocol
// 0x00 (control).
struct PeerPacket {
  Header header;  // protocol kControl, type 0x40..0x43
  // 0x40 / 0x41 / 0x42 / 0x43, in that order. A 0x41 whose status is an
  // error (neither OK nor INCOMPLETE) has an empty body on the wire and an
  // empty QueryAnswer here.
  std::variant<QueryRequest, QueryAnswer, RecordPush, PushAck> body;

  friend bool operator==(const PeerPacket&, const PeerPacket&) = default;
};

// True for protocol 0x00 with type in 0x40..0x7F (the implementation
// range): the edge server hands such datagrams to the peer path.
bool IsPeerType(uint8_t protocol, uint8_t type);

struct PeerDecodeResult {
  wire::Status status = wire::Status::kMalformed;
  std::string_view detail;  // static, "" when kOk
  // The body is valid when kOk. The header holds every field the datagram
  // had, also on failure, so an aggregator can answer a refused 0x40 with
  // AnswerHeaderFor(header, status) (type 0x41), and a 0x42 likewise (0x43).
  PeerPacket packet;
  std::optional<PublicKey> signer;  // check type 7, once verified
};

// Checks in Decode's order (codec.h): length, check bits, then layout and
// fields, with the same statuses for the same faults. Then:
//  - protocol 0x00 with type 0x40..0x43, else MALFORMED (types 0x44..0x7F
//    are unknown, like any other);
//  - 0x40: exactly a query request body (descriptor and 1..16 entries, item
//    count = entries; limits.max_query_entries), with the query request's
//    field checks, and every entry naming ONE resource id (else
//    INVALID_FIELD). Its status byte is ignored, as in any request;
//  - 0x41: a known status (else INVALID_FIELD). OK and INCOMPLETE carry
//    exactly a query answer body (descriptor and item count offers); any
//    other status an empty body and item count 0 (else MALFORMED); and the
//    datagram is at most 1,232 bytes (wire::kMaxAnswer), else TOO_LARGE;
//  - 0x42: item count n, 1..64 (wire::kMaxPushRecords), and a body of
//    exactly n records, each a 2-byte big-endian length L, 1..4,096
//    (wire::kMaxPushRecordSize), then L bytes; anything else is MALFORMED
//    (a record past the body, bytes after the last). Then, for n > 1, the
//    datagram is at most 1,232 bytes, else TOO_LARGE; one record may make it
//    larger. The records are not decoded. The status byte is ignored;
//  - 0x43: a known status (else INVALID_FIELD), item count 0 and an empty
//    body (else MALFORMED).
PeerDecodeResult DecodePeer(std::span<const std::byte> datagram,
                            const DecodeLimits& limits = {});

// Bytes of a peer packet: protocol 0x00, type from the body (0x40
// QueryRequest, 0x41 QueryAnswer, 0x42 RecordPush, 0x43 PushAck); version,
// header length (16), total length and item count (entries, offers,
// records, 0) computed; txid, check type and status from packet.header.
// Empty when check type 7 and no signer (or signing fails), for a reserved
// check type, for a 0x41 with an error status whose QueryAnswer is not
// empty (an error answer has no body), and for what the wire cannot hold: a
// record over 65,535 bytes, over 65,535 items, over 65,535 bytes in all.
// Fields are not validated: what DecodePeer refuses (several ids, an answer
// over 1,232 bytes, a push of 0 or 65 records, an empty record or one over
// 4,096 bytes) still encodes, so tests can build it; the caller keeps
// answers within a page and pushes within the limits.
std::vector<std::byte> EncodePeer(const PeerPacket& packet,
                                  const Ed25519Key* signer = nullptr);

// True when `query` has entries and they all name one resource id: the
// queries a node forwards (docs/scaling.md "Querying node").
bool NamesOneResource(const QueryRequest& query);

// The forwarded query for a buyer's decoded query `buyer` (header and
// body): type 0x40, txid `txid`, status 0, the buyer's check type and body.
// Its encoding is never longer than the buyer's datagram (same header size
// or less, same body, same trailer size; type 7 is signed with the
// forwarder's key, given to EncodePeer).
// REQUIRES: buyer.body holds a QueryRequest for which NamesOneResource
// holds. Otherwise the aggregator's DecodePeer refuses the result with
// INVALID_FIELD (several ids are copied as they are; no QueryRequest gives
// an empty one).
PeerPacket ForwardedQueryFor(const Packet& buyer, uint32_t txid);

// The buyer's answer from a forwarded answer: inquiry/0x02, the buyer's
// txid and check type (check type 0 when the buyer's is reserved, as
// AnswerHeaderFor does), the forwarded answer's status and body (no body
// for an error status). Offers are copied as they are: clearing flag bit 0
// of offers the forwarder has not verified itself (docs/scaling.md
// "Security") is the caller's. Its encoding has the forwarded answer's
// length when both use one check type, as ForwardedQueryFor arranges, so an
// answer that fit 1,232 bytes still does. When `forwarded` holds no
// QueryAnswer (a 0x40, 0x42 or 0x43), the answer is INTERNAL with no body.
Packet BuyerAnswerFrom(const PeerPacket& forwarded, const Header& buyer);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_PEER_CODEC_H_
