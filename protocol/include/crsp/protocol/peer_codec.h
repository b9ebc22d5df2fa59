// The node-to-node packets of docs/scaling.md ("Node-to-node messages"):
// control types 0x40 (forwarded query) and 0x41 (forwarded answer), in
// PROTOCOL.md's implementation range 0x40-0x7F. They use the header and
// check trailer of every packet, and carry a query request body and a query
// answer body unchanged, so a forwarding node passes the buyer's query on
// and the aggregator's answer back without re-shaping either.
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

// Node-to-node packets (docs/scaling.md): 0x40 forwarded query, 0x41
// forwarded answer, both under protocol 0x00 (control).
struct PeerPacket {
  Header header;  // protocol kControl, type 0x40 or 0x41
  // 0x40 / 0x41. A 0x41 whose status is an error (neither OK nor
  // INCOMPLETE) has an empty body on the wire and an empty QueryAnswer
  // here.
  std::variant<QueryRequest, QueryAnswer> body;

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
  // AnswerHeaderFor(header, status) (type 0x41).
  PeerPacket packet;
  std::optional<PublicKey> signer;  // check type 7, once verified
};

// Checks in Decode's order (codec.h): length, check bits, then layout and
// fields, with the same statuses for the same faults. Then:
//  - protocol 0x00 with type 0x40 or 0x41, else MALFORMED (types
//    0x42..0x7F are unknown, like any other);
//  - 0x40: exactly a query request body (descriptor and 1..16 entries, item
//    count = entries; limits.max_query_entries), with the query request's
//    field checks, and every entry naming ONE resource id (else
//    INVALID_FIELD). Its status byte is ignored, as in any request;
//  - 0x41: a known status (else INVALID_FIELD). OK and INCOMPLETE carry
//    exactly a query answer body (descriptor and item count offers); any
//    other status an empty body and item count 0 (else MALFORMED); and the
//    datagram is at most 1,232 bytes (wire::kMaxAnswer), else TOO_LARGE.
PeerDecodeResult DecodePeer(std::span<const std::byte> datagram,
                            const DecodeLimits& limits = {});

// Bytes of a peer packet: protocol 0x00, type 0x40 for a QueryRequest body
// and 0x41 for a QueryAnswer; version, header length (16), total length and
// item count computed; txid, check type and status from packet.header.
// Empty when check type 7 and no signer (or signing fails), for a reserved
// check type, and for a 0x41 with an error status whose QueryAnswer is not
// empty (an error answer has no body). Fields are not validated: what
// DecodePeer refuses (several ids, an answer over 1,232 bytes) still
// encodes, so tests can build it; the caller keeps answers within a page.
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
// QueryAnswer (a 0x40), the answer is INTERNAL with no body.
Packet BuyerAnswerFrom(const PeerPacket& forwarded, const Header& buyer);

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_PEER_CODEC_H_
