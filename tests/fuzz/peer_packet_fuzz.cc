// Fuzz target for the node-to-node decoder (peer_codec.h): DecodePeer must
// never crash; what it accepts must keep its promises (one resource id in a
// 0x40, at most 1,232 bytes for a 0x41, 1..64 records of 1..4,096 bytes in a
// 0x42 and at most 1,232 bytes for several, a known status and nothing else
// in a 0x43) and survive EncodePeer -> DecodePeer unchanged. Also: the
// client codec never accepts a peer packet, the error answer to a refused
// 0x40 and an ack to any 0x42 encode and decode, and a buyer's answer built
// from an accepted 0x41 is a valid query answer of the same length.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"
#include "crsp/protocol/peer_codec.h"
#include "packet_fuzz_support.h"

namespace {

using crsp::protocol::AnswerHeaderFor;
using crsp::protocol::BuyerAnswerFrom;
using crsp::protocol::Decode;
using crsp::protocol::DecodePeer;
using crsp::protocol::DecodeResult;
using crsp::protocol::Ed25519Key;
using crsp::protocol::Ed25519Seed;
using crsp::protocol::Encode;
using crsp::protocol::EncodePeer;
using crsp::protocol::Header;
using crsp::protocol::HeaderFor;
using crsp::protocol::IsPeerType;
using crsp::protocol::NamesOneResource;
using crsp::protocol::PeerDecodeResult;
using crsp::protocol::PeerPacket;
using crsp::protocol::PushAck;
using crsp::protocol::PushedRecordSize;
using crsp::protocol::QueryAnswer;
using crsp::protocol::QueryRequest;
using crsp::protocol::RecordPush;
using crsp::protocol::TrailerSize;
using crsp::wire::CheckType;
using crsp::wire::Status;

using crsp::fuzz::FuzzKey;
using crsp::fuzz::SameHeaderButLengths;

void CheckAccepted(const PeerDecodeResult& first, size_t size) {
  const Header& h = first.packet.header;
  FUZZ_CHECK(h.protocol == 0);
  if (const auto* query = std::get_if<QueryRequest>(&first.packet.body)) {
    FUZZ_CHECK(h.type == crsp::wire::kTypeForwardedQuery);
    FUZZ_CHECK(NamesOneResource(*query));
  } else if (const auto* push = std::get_if<RecordPush>(&first.packet.body)) {
    FUZZ_CHECK(h.type == crsp::wire::kTypeRecordPush);
    FUZZ_CHECK(h.count == push->records.size());
    FUZZ_CHECK(h.count >= 1 && h.count <= crsp::wire::kMaxPushRecords);
    size_t body = 0;
    for (const auto& record : push->records) {
      FUZZ_CHECK(!record.empty());
      FUZZ_CHECK(record.size() <= crsp::wire::kMaxPushRecordSize);
      body += PushedRecordSize(record.size());
    }
    FUZZ_CHECK(body + h.header_length + TrailerSize(h.check) == size);
    FUZZ_CHECK(h.count == 1 || size <= crsp::wire::kMaxAnswer);
  } else if (std::holds_alternative<PushAck>(first.packet.body)) {
    FUZZ_CHECK(h.type == crsp::wire::kTypePushAck);
    FUZZ_CHECK(static_cast<uint8_t>(h.status) <= crsp::wire::kMaxKnownStatus);
    FUZZ_CHECK(h.count == 0);
    FUZZ_CHECK(size == h.header_length + TrailerSize(h.check));
  } else {
    FUZZ_CHECK(h.type == crsp::wire::kTypeForwardedAnswer);
    FUZZ_CHECK(size <= crsp::wire::kMaxAnswer);
  }
  FUZZ_CHECK(first.signer.has_value() == (h.check == CheckType::kEd25519));

  std::vector<std::byte> again = EncodePeer(first.packet, &FuzzKey());
  FUZZ_CHECK(!again.empty());
  FUZZ_CHECK(again.size() <= size);  // only extra header bytes go
  PeerDecodeResult second = DecodePeer(again);
  FUZZ_CHECK(second.status == Status::kOk);
  FUZZ_CHECK(second.packet.body == first.packet.body);
  FUZZ_CHECK(SameHeaderButLengths(second.packet.header, h));
  FUZZ_CHECK(second.packet.header.header_length == 16);
  FUZZ_CHECK(second.packet.header.total_length == again.size());

  if (std::holds_alternative<QueryAnswer>(first.packet.body)) {
    // The buyer's answer under the same check type has the same length.
    Header buyer = HeaderFor(crsp::wire::PacketKind::kQueryRequest, 7, h.check);
    std::vector<std::byte> bytes =
        Encode(BuyerAnswerFrom(first.packet, buyer), &FuzzKey());
    FUZZ_CHECK(bytes.size() == again.size());
    DecodeResult answer = Decode(bytes);
    FUZZ_CHECK(answer.status == Status::kOk);
    FUZZ_CHECK(answer.packet.header.status == h.status);
    FUZZ_CHECK(answer.packet.header.txid == 7);
  }
}

// The answer AnswerHeaderFor builds for a forwarded query (the error
// answer to a refused one) or a record push (a 0x43; a node acks only the
// pushes it takes, but every status must encode): type + 1, the same txid
// and status, and it decodes.
void CheckAnswer(const PeerDecodeResult& request) {
  PeerPacket answer{AnswerHeaderFor(request.packet.header, request.status),
                    QueryAnswer{}};
  uint8_t type = crsp::wire::kTypeForwardedAnswer;
  if (request.packet.header.type == crsp::wire::kTypeRecordPush) {
    answer.body = PushAck{};
    type = crsp::wire::kTypePushAck;
  }
  std::vector<std::byte> bytes = EncodePeer(answer, &FuzzKey());
  FUZZ_CHECK(!bytes.empty());
  PeerDecodeResult r = DecodePeer(bytes);
  FUZZ_CHECK(r.status == Status::kOk);
  FUZZ_CHECK(r.packet.header.type == type);
  FUZZ_CHECK(r.packet.header.status == request.status);
  FUZZ_CHECK(r.packet.header.txid == request.packet.header.txid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                   size);
  PeerDecodeResult r = DecodePeer(bytes);
  if (r.status == Status::kOk) {
    FUZZ_CHECK(r.detail.empty());
    CheckAccepted(r, size);
    if (r.packet.header.type == crsp::wire::kTypeRecordPush) {
      CheckAnswer(r);
    }
  } else {
    FUZZ_CHECK(!r.detail.empty());
    if (size >= crsp::wire::kTxidReadable &&
        (r.packet.header.type == crsp::wire::kTypeForwardedQuery ||
         r.packet.header.type == crsp::wire::kTypeRecordPush)) {
      CheckAnswer(r);
    }
  }
  // Clients reach Decode only, which never accepts a node-to-node packet.
  DecodeResult client = Decode(bytes);
  if (size >= crsp::wire::kHeaderSize &&
      IsPeerType(client.packet.header.protocol, client.packet.header.type)) {
    FUZZ_CHECK(client.status != Status::kOk);
  }
  return 0;
}
