#include "crsp/protocol/peer_codec.h"

#include <algorithm>
#include <utility>

#include "body_reader.h"
#include "body_writer.h"
#include "crsp/protocol/cursor.h"
#include "frame.h"

namespace crsp::protocol {
namespace {

using wire::Status;

// Records the outcome in the caller's result, which is built in place and
// never copied.
void Set(PeerDecodeResult& result, Status status, std::string_view detail) {
  result.status = status;
  result.detail = detail;
}

// Statuses whose query answer carries a body: OK (exact) and INCOMPLETE
// (what the node read). Every other one is an error with an empty body
// (PROTOCOL.md "Status codes").
bool CarriesBody(Status status) {
  return status == Status::kOk || status == Status::kIncomplete;
}

// 0x40: exactly a query request, through the client codec's reader, and
// one resource id (docs/scaling.md: only those are forwarded).
void ReadForwardedQuery(const Header& h, std::span<const std::byte> bytes,
                        const DecodeLimits& limits, PeerDecodeResult& result) {
  Body body;
  internal::BodyStatus read = internal::ReadBody(
      wire::PacketKind::kQueryRequest, h, bytes, limits, body);
  if (read.status != Status::kOk) {
    Set(result, read.status, read.detail);
    return;
  }
  auto& query = std::get<QueryRequest>(body);
  if (!NamesOneResource(query)) {
    Set(result, Status::kInvalidField,
        "forwarded query names more than one resource id");
    return;
  }
  result.packet.body = std::move(query);
  Set(result, Status::kOk, "");
}

// 0x41: the status decides the layout, so it is the first field checked.
void ReadForwardedAnswer(const Header& h, std::span<const std::byte> datagram,
                         std::span<const std::byte> bytes,
                         PeerDecodeResult& result) {
  if (static_cast<uint8_t>(h.status) > wire::kMaxKnownStatus) {
    Set(result, Status::kInvalidField, "unknown answer status");
    return;
  }
  if (!CarriesBody(h.status)) {
    if (h.count != 0 || !bytes.empty()) {
      Set(result, Status::kMalformed, "error answer with a body");
      return;
    }
  } else if (bytes.size() !=
             wire::kAnswerDescriptorSize + wire::kOfferSize * size_t{h.count}) {
    // Also an OK or INCOMPLETE answer without its descriptor.
    Set(result, Status::kMalformed, "body size does not match item count");
    return;
  }
  // Layout before size, as for request counts; checked before the offers
  // are read, so an oversized answer costs nothing more.
  if (datagram.size() > wire::kMaxAnswer) {
    Set(result, Status::kTooLarge, "forwarded answer over 1232 bytes");
    return;
  }
  if (!CarriesBody(h.status)) {
    result.packet.body = QueryAnswer{};
    Set(result, Status::kOk, "");
    return;
  }
  Body body;
  internal::BodyStatus read = internal::ReadBody(
      wire::PacketKind::kQueryAnswer, h, bytes, DecodeLimits{}, body);
  if (read.status != Status::kOk ||
      !std::holds_alternative<QueryAnswer>(body)) {
    // Not reached: the layout was checked above.
    Set(result, Status::kMalformed, "body size does not match item count");
    return;
  }
  result.packet.body = std::move(std::get<QueryAnswer>(body));
  Set(result, Status::kOk, "");
}

// 0x42: the framing only (count, lengths, no trailing bytes); the records
// are opaque here. Checked in full before anything is copied, so a refused
// push costs no allocation.
void ReadRecordPush(const Header& h, std::span<const std::byte> datagram,
                    std::span<const std::byte> bytes,
                    PeerDecodeResult& result) {
  if (h.count == 0 || h.count > wire::kMaxPushRecords) {
    Set(result, Status::kMalformed, "record push count not 1..64");
    return;
  }
  Reader r(bytes);
  for (uint16_t i = 0; i < h.count; ++i) {
    size_t length = r.U16();
    if (!r.ok()) {
      Set(result, Status::kMalformed, "record push body ends inside a length");
      return;
    }
    if (length == 0 || length > wire::kMaxPushRecordSize) {
      Set(result, Status::kMalformed, "pushed record length not 1..4096");
      return;
    }
    r.Skip(length);
    if (!r.ok()) {
      Set(result, Status::kMalformed, "pushed record runs past the body");
      return;
    }
  }
  if (r.remaining() != 0) {
    Set(result, Status::kMalformed, "bytes after the last pushed record");
    return;
  }
  // Layout before size, as for 0x41. One record may exceed a page.
  if (h.count > 1 && datagram.size() > wire::kMaxAnswer) {
    Set(result, Status::kTooLarge, "push of several records over 1232 bytes");
    return;
  }
  RecordPush push;
  push.records.reserve(h.count);
  Reader records(bytes);
  for (uint16_t i = 0; i < h.count; ++i) {
    std::span<const std::byte> record = records.Take(records.U16());
    push.records.emplace_back(record.begin(), record.end());
  }
  result.packet.body = std::move(push);
  Set(result, Status::kOk, "");
}

// 0x43: everything is in the header. Status first, as for 0x41.
void ReadPushAck(const Header& h, std::span<const std::byte> bytes,
                 PeerDecodeResult& result) {
  if (static_cast<uint8_t>(h.status) > wire::kMaxKnownStatus) {
    Set(result, Status::kInvalidField, "unknown push ack status");
    return;
  }
  if (h.count != 0 || !bytes.empty()) {
    Set(result, Status::kMalformed, "push ack with a body");
    return;
  }
  result.packet.body = PushAck{};
  Set(result, Status::kOk, "");
}

}  // namespace

bool IsPeerType(uint8_t protocol, uint8_t type) {
  return wire::IsPeerType(protocol, type);
}

PeerDecodeResult DecodePeer(std::span<const std::byte> datagram,
                            const DecodeLimits& limits) {
  PeerDecodeResult result;
  Header& h = result.packet.header;
  internal::Frame frame = internal::ReadFrame(datagram, h);
  result.signer = frame.signer;
  if (frame.status != Status::kOk) {
    Set(result, frame.status, frame.detail);
    return result;
  }
  if (h.protocol != static_cast<uint8_t>(wire::Protocol::kControl)) {
    Set(result, Status::kMalformed, "not a node-to-node packet");
    return result;
  }
  if (h.type == wire::kTypeForwardedQuery) {
    ReadForwardedQuery(h, frame.body, limits, result);
  } else if (h.type == wire::kTypeForwardedAnswer) {
    ReadForwardedAnswer(h, datagram, frame.body, result);
  } else if (h.type == wire::kTypeRecordPush) {
    ReadRecordPush(h, datagram, frame.body, result);
  } else if (h.type == wire::kTypePushAck) {
    ReadPushAck(h, frame.body, result);
  } else {
    Set(result, Status::kMalformed, "unknown node-to-node packet type");
  }
  return result;
}

std::vector<std::byte> EncodePeer(const PeerPacket& packet,
                                  const Ed25519Key* signer) {
  Header h = packet.header;
  h.protocol = static_cast<uint8_t>(wire::Protocol::kControl);
  if (const auto* query = std::get_if<QueryRequest>(&packet.body)) {
    h.type = wire::kTypeForwardedQuery;
    return internal::EncodeFrame(
        h, query->entries.size(), internal::QueryRequestSize(*query), signer,
        [query](Writer& w) { internal::WriteQueryRequest(*query, w); });
  }
  if (const auto* push = std::get_if<RecordPush>(&packet.body)) {
    h.type = wire::kTypeRecordPush;
    size_t body_size = 0;
    for (const std::vector<std::byte>& record : push->records) {
      body_size += PushedRecordSize(record.size());
    }
    // A record over 65,535 bytes (its length would not fit 2 bytes) makes
    // the total exceed 65,535 too: EncodeFrame refuses that, as it refuses
    // over 65,535 records, before anything is written.
    return internal::EncodeFrame(
        h, push->records.size(), body_size, signer, [push](Writer& w) {
          for (const std::vector<std::byte>& record : push->records) {
            w.U16(static_cast<uint16_t>(record.size()));
            w.Bytes(std::span<const std::byte>(record));
          }
        });
  }
  if (std::holds_alternative<PushAck>(packet.body)) {
    h.type = wire::kTypePushAck;
    return internal::EncodeFrame(h, 0, 0, signer, [](Writer&) {});
  }
  const auto& answer = std::get<QueryAnswer>(packet.body);
  h.type = wire::kTypeForwardedAnswer;
  if (!CarriesBody(h.status)) {
    if (answer != QueryAnswer{}) {
      return {};
    }
    return internal::EncodeFrame(h, 0, 0, signer, [](Writer&) {});
  }
  return internal::EncodeFrame(
      h, answer.offers.size(), internal::QueryAnswerSize(answer), signer,
      [&answer](Writer& w) { internal::WriteQueryAnswer(answer, w); });
}

bool NamesOneResource(const QueryRequest& query) {
  return !query.entries.empty() &&
         std::all_of(query.entries.begin(), query.entries.end(),
                     [&query](const QueryEntry& e) {
                       return e.resource == query.entries.front().resource;
                     });
}

PeerPacket ForwardedQueryFor(const Packet& buyer, uint32_t txid) {
  PeerPacket forwarded;
  Header& h = forwarded.header;
  h.protocol = static_cast<uint8_t>(wire::Protocol::kControl);
  h.type = wire::kTypeForwardedQuery;
  h.txid = txid;
  h.check = buyer.header.check;
  h.status = Status::kOk;
  const auto* query = std::get_if<QueryRequest>(&buyer.body);
  if (query != nullptr) {
    forwarded.body = *query;
    h.count = static_cast<uint16_t>(query->entries.size());
  }
  return forwarded;
}

Packet BuyerAnswerFrom(const PeerPacket& forwarded, const Header& buyer) {
  const auto* answer = std::get_if<QueryAnswer>(&forwarded.body);
  Header h = AnswerHeaderFor(
      buyer, answer != nullptr ? forwarded.header.status : Status::kInternal);
  h.protocol = static_cast<uint8_t>(wire::Protocol::kInquiry);
  h.type = wire::kTypeQueryAnswer;
  Packet packet{h, std::monostate{}};
  if (answer != nullptr && CarriesBody(h.status)) {
    packet.body = *answer;
    packet.header.count = static_cast<uint16_t>(answer->offers.size());
  }
  return packet;
}

}  // namespace crsp::protocol
