#include "body_reader.h"

#include "crsp/protocol/cursor.h"

namespace crsp::protocol::internal {
namespace {

using wire::Status;

constexpr BodyStatus kOk{};

BodyStatus Fail(Status status, std::string_view detail) {
  return BodyStatus{status, detail};
}

// An answer carrying only an error status: PROTOCOL.md "body then empty and
// its item count 0".
bool IsBareError(const Header& header, std::span<const std::byte> bytes) {
  return header.status != Status::kOk && header.count == 0 && bytes.empty();
}

// Checks the body size the item count implies, then the count's range.
BodyStatus CheckLayout(std::span<const std::byte> bytes, uint16_t count,
                       size_t fixed, size_t item, uint16_t min_items,
                       uint16_t max_items, std::string_view what) {
  if (bytes.size() != fixed + item * size_t{count}) {
    return Fail(Status::kMalformed, "body size does not match item count");
  }
  if (count > max_items) return Fail(Status::kTooLarge, what);
  if (count < min_items) return Fail(Status::kInvalidField, "item count 0");
  return kOk;
}

BodyStatus ReadPingRequest(const Header& header,
                           std::span<const std::byte> bytes, Body& out) {
  if (header.count != 0 || !bytes.empty()) {
    return Fail(Status::kMalformed, "ping request body not empty");
  }
  out = PingRequest{};
  return kOk;
}

BodyStatus ReadPingAnswer(const Header& header,
                          std::span<const std::byte> bytes, Body& out) {
  if (IsBareError(header, bytes)) {
    out = std::monostate{};
    return kOk;
  }
  if (header.count != 0 || bytes.size() != wire::kPingAnswerBodySize) {
    return Fail(Status::kMalformed, "ping answer body not 64 bytes");
  }
  Reader r(bytes);
  PingAnswer answer;
  r.Bytes(answer.node_id);
  answer.offers = r.U32();
  answer.peers = r.U32();
  answer.uptime = r.U32();
  r.Bytes(answer.public_key);
  out = answer;
  return kOk;
}

ResourceEntry ReadResourceEntry(Reader& r) {
  ResourceEntry e;
  e.resource = r.U16();
  e.unit = r.U8();
  r.Skip(1);  // flags
  e.quantity = r.U32();
  e.price = r.U32();
  r.Skip(4);  // reserved
  e.valid_from = r.U64();
  e.valid_until = r.U64();
  return e;
}

BodyStatus ReadRegisterRequest(const Header& header,
                               std::span<const std::byte> bytes,
                               const DecodeLimits& limits, Body& out) {
  BodyStatus layout =
      CheckLayout(bytes, header.count, wire::kResourceSetSize,
                  wire::kResourceEntrySize, wire::kMinRegisterEntries,
                  limits.max_register_entries, "too many register entries");
  if (layout.status != Status::kOk) return layout;
  Reader r(bytes);
  RegisterRequest request;
  r.Bytes(request.set.device);
  request.set.device_kind = r.U16();
  request.set.currency = r.U16();
  r.Bytes(request.set.contact);
  request.set.contact_port = r.U16();
  r.Skip(2);  // reserved
  if (!wire::IsValidDeviceKind(request.set.device_kind)) {
    return Fail(Status::kInvalidField, "unknown device kind");
  }
  request.entries.reserve(header.count);
  BodyStatus result = kOk;
  for (uint16_t i = 0; i < header.count; ++i) {
    request.entries.push_back(ReadResourceEntry(r));
    if (result.status == Status::kOk &&
        ValidateEntry(request.entries.back()) != Status::kOk) {
      result = Fail(Status::kInvalidField, "invalid register entry");
    }
  }
  out = std::move(request);
  return result;
}

BodyStatus ReadEntryResults(const Header& header,
                            std::span<const std::byte> bytes,
                            EntryResults& results) {
  if (bytes.size() !=
      wire::kDeviceIdSize + wire::kEntryResultSize * size_t{header.count}) {
    return Fail(Status::kMalformed, "body size does not match item count");
  }
  Reader r(bytes);
  r.Bytes(results.device);
  results.entries.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    EntryResult e;
    e.resource = r.U16();
    e.status = static_cast<Status>(r.U8());
    r.Skip(1);  // reserved
    e.replicas = r.U16();
    r.Skip(2);  // reserved
    results.entries.push_back(e);
  }
  return kOk;
}

template <typename Answer>
BodyStatus ReadEntryAnswer(const Header& header,
                           std::span<const std::byte> bytes, Body& out) {
  if (IsBareError(header, bytes)) {
    out = std::monostate{};
    return kOk;
  }
  Answer answer;
  BodyStatus status = ReadEntryResults(header, bytes, answer);
  if (status.status == Status::kOk) out = std::move(answer);
  return status;
}

BodyStatus ReadWithdrawRequest(const Header& header,
                               std::span<const std::byte> bytes,
                               const DecodeLimits& limits, Body& out) {
  // Zero ids is allowed: it withdraws every offer of the device.
  BodyStatus layout = CheckLayout(
      bytes, header.count, wire::kDeviceIdSize, wire::kResourceIdSize, 0,
      limits.max_withdraw_ids, "too many withdraw ids");
  if (layout.status != Status::kOk) return layout;
  Reader r(bytes);
  WithdrawRequest request;
  r.Bytes(request.device);
  request.resources.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    uint16_t id = r.U16();
    if (!wire::IsValidResourceId(id)) {
      return Fail(Status::kInvalidField, "unknown resource id");
    }
    request.resources.push_back(id);
  }
  out = std::move(request);
  return kOk;
}

BodyStatus ReadQueryRequest(const Header& header,
                            std::span<const std::byte> bytes,
                            const DecodeLimits& limits, Body& out) {
  BodyStatus layout =
      CheckLayout(bytes, header.count, wire::kQueryDescriptorSize,
                  wire::kQueryEntrySize, wire::kMinQueryEntries,
                  limits.max_query_entries, "too many query entries");
  if (layout.status != Status::kOk) return layout;
  Reader r(bytes);
  QueryRequest request;
  request.wanted_from = r.U64();
  request.wanted_until = r.U64();
  request.currency = r.U16();
  request.max_results = r.U16();
  request.cursor = r.U32();
  // wanted_from 0 means "now", which the codec does not know: only a clock
  // can compare wanted_until with it.
  if (request.wanted_until != 0 && request.wanted_from != 0 &&
      request.wanted_until <= request.wanted_from) {
    return Fail(Status::kInvalidField, "wanted until not after wanted from");
  }
  request.entries.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    QueryEntry e;
    e.resource = r.U16();
    e.unit = r.U8();
    r.Skip(1);  // reserved
    e.max_price = r.U32();
    e.min_quantity = r.U32();
    if (!wire::IsValidResourceId(e.resource)) {
      return Fail(Status::kInvalidField, "unknown resource id");
    }
    if (e.unit > wire::kMaxBillingUnit && e.unit != wire::kAnyBillingUnit) {
      return Fail(Status::kInvalidField, "unknown billing unit");
    }
    request.entries.push_back(e);
  }
  out = std::move(request);
  return kOk;
}

BodyStatus ReadQueryAnswer(const Header& header,
                           std::span<const std::byte> bytes, Body& out) {
  if (IsBareError(header, bytes)) {
    out = std::monostate{};
    return kOk;
  }
  if (bytes.size() !=
      wire::kAnswerDescriptorSize + wire::kOfferSize * size_t{header.count}) {
    return Fail(Status::kMalformed, "body size does not match item count");
  }
  Reader r(bytes);
  QueryAnswer answer;
  answer.total = r.U32();
  answer.next_cursor = r.U32();
  answer.offers.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    Offer o;
    r.Bytes(o.device);
    r.Bytes(o.contact);
    o.contact_port = r.U16();
    o.device_kind = r.U16();
    o.currency = r.U16();
    o.resource = r.U16();
    o.unit = r.U8();
    o.flags = r.U8();
    r.Skip(2);  // reserved
    o.quantity = r.U32();
    o.price = r.U32();
    r.Skip(4);  // reserved
    o.valid_from = r.U64();
    o.valid_until = r.U64();
    answer.offers.push_back(o);
  }
  out = std::move(answer);
  return kOk;
}

}  // namespace

BodyStatus ReadBody(wire::PacketKind kind, const Header& header,
                    std::span<const std::byte> bytes,
                    const DecodeLimits& limits, Body& out) {
  using wire::PacketKind;
  switch (kind) {
    case PacketKind::kPingRequest:
      return ReadPingRequest(header, bytes, out);
    case PacketKind::kPingAnswer:
      return ReadPingAnswer(header, bytes, out);
    case PacketKind::kRegisterRequest:
      return ReadRegisterRequest(header, bytes, limits, out);
    case PacketKind::kRegisterAnswer:
      return ReadEntryAnswer<RegisterAnswer>(header, bytes, out);
    case PacketKind::kWithdrawRequest:
      return ReadWithdrawRequest(header, bytes, limits, out);
    case PacketKind::kWithdrawAnswer:
      return ReadEntryAnswer<WithdrawAnswer>(header, bytes, out);
    case PacketKind::kQueryRequest:
      return ReadQueryRequest(header, bytes, limits, out);
    case PacketKind::kQueryAnswer:
      return ReadQueryAnswer(header, bytes, out);
  }
  return Fail(Status::kMalformed, "unknown packet kind");
}

}  // namespace crsp::protocol::internal
