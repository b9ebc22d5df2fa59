#include "body_reader.h"

#include <array>

#include "crsp/protocol/cursor.h"
#include "record.h"

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
  if (count > max_items) {
    return Fail(Status::kTooLarge, what);
  }
  if (count < min_items) {
    return Fail(Status::kInvalidField, "item count 0");
  }
  return kOk;
}

// The next N bytes of `r` as a record. Past the end (which CheckLayout
// rules out) it reads as zeros and `r` keeps its sticky error, like Reader.
template <size_t N>
Record<N> Next(Reader& r) {
  static constexpr std::array<std::byte, N> kZeros{};
  std::span<const std::byte> bytes = r.Take(N);
  if (bytes.size() != N) {
    return Record<N>(std::span(kZeros));
  }
  return Record<N>(bytes.first<N>());
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
  auto rec = Next<wire::kPingAnswerBodySize>(r);
  PingAnswer answer;
  rec.Bytes<0>(answer.node_id);
  answer.offers = rec.U32<20>();
  answer.peers = rec.U32<24>();
  answer.uptime = rec.U32<28>();
  rec.Bytes<32>(answer.public_key);
  out = answer;
  return kOk;
}

// Resource entry, 32 bytes; flags (3) and reserved (12) are ignored.
ResourceEntry ReadResourceEntry(Reader& r) {
  auto rec = Next<wire::kResourceEntrySize>(r);
  ResourceEntry e;
  e.resource = rec.U16<wire::kOffEntryResource>();
  e.unit = rec.U8<wire::kOffEntryUnit>();
  e.quantity = rec.U32<wire::kOffEntryQuantity>();
  e.price = rec.U32<wire::kOffEntryPrice>();
  e.valid_from = rec.U64<wire::kOffEntryValidFrom>();
  e.valid_until = rec.U64<wire::kOffEntryValidUntil>();
  return e;
}

BodyStatus ReadRegisterRequest(const Header& header,
                               std::span<const std::byte> bytes,
                               const DecodeLimits& limits, Body& out) {
  BodyStatus layout =
      CheckLayout(bytes, header.count, wire::kResourceSetSize,
                  wire::kResourceEntrySize, wire::kMinRegisterEntries,
                  limits.max_register_entries, "too many register entries");
  if (layout.status != Status::kOk) {
    return layout;
  }
  Reader r(bytes);
  // Resource set descriptor, 40 bytes; reserved (38) is ignored.
  auto set = Next<wire::kResourceSetSize>(r);
  if (!wire::IsValidDeviceKind(set.U16<16>())) {
    return Fail(Status::kInvalidField, "unknown device kind");
  }
  // Built in place: a moved-in body would cost a second pass.
  RegisterRequest& request = out.emplace<RegisterRequest>();
  set.Bytes<0>(request.set.device);
  request.set.device_kind = set.U16<16>();
  request.set.currency = set.U16<18>();
  set.Bytes<20>(request.set.contact);
  request.set.contact_port = set.U16<36>();
  request.entries.reserve(header.count);
  BodyStatus result = kOk;
  for (uint16_t i = 0; i < header.count; ++i) {
    request.entries.push_back(ReadResourceEntry(r));
    if (result.status == Status::kOk &&
        ValidateEntry(request.entries.back()) != Status::kOk) {
      result = Fail(Status::kInvalidField, "invalid register entry");
    }
  }
  return result;
}

BodyStatus ReadEntryResults(const Header& header,
                            std::span<const std::byte> bytes,
                            EntryResults& results) {
  Reader r(bytes);
  Next<wire::kDeviceIdSize>(r).Bytes<0>(results.device);
  results.entries.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    // Entry result, 8 bytes; reserved (3, 6) ignored.
    auto rec = Next<wire::kEntryResultSize>(r);
    results.entries.push_back(
        {rec.U16<0>(), static_cast<Status>(rec.U8<2>()), rec.U16<4>()});
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
  if (bytes.size() !=
      wire::kDeviceIdSize + wire::kEntryResultSize * size_t{header.count}) {
    return Fail(Status::kMalformed, "body size does not match item count");
  }
  return ReadEntryResults(header, bytes, out.emplace<Answer>());
}

BodyStatus ReadWithdrawRequest(const Header& header,
                               std::span<const std::byte> bytes,
                               const DecodeLimits& limits, Body& out) {
  // Zero ids is allowed: it withdraws every offer of the device.
  BodyStatus layout = CheckLayout(
      bytes, header.count, wire::kDeviceIdSize, wire::kResourceIdSize, 0,
      limits.max_withdraw_ids, "too many withdraw ids");
  if (layout.status != Status::kOk) {
    return layout;
  }
  Reader r(bytes);
  WithdrawRequest request;
  Next<wire::kDeviceIdSize>(r).Bytes<0>(request.device);
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
  if (layout.status != Status::kOk) {
    return layout;
  }
  Reader r(bytes);
  auto desc = Next<wire::kQueryDescriptorSize>(r);
  QueryRequest request;
  request.wanted_from = desc.U64<0>();
  request.wanted_until = desc.U64<8>();
  request.currency = desc.U16<16>();
  request.max_results = desc.U16<18>();
  request.cursor = desc.U32<20>();
  // wanted_from 0 means "now", which the codec does not know: only a clock
  // can compare wanted_until with it.
  if (request.wanted_until != 0 && request.wanted_from != 0 &&
      request.wanted_until <= request.wanted_from) {
    return Fail(Status::kInvalidField, "wanted until not after wanted from");
  }
  request.entries.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    // Query entry, 12 bytes; reserved (3) ignored.
    auto rec = Next<wire::kQueryEntrySize>(r);
    QueryEntry e{rec.U16<0>(), rec.U8<2>(), rec.U32<4>(), rec.U32<8>()};
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

// Offer, 72 bytes; reserved (42, 52) ignored, flags read as they are.
Offer ReadOffer(Reader& r) {
  auto rec = Next<wire::kOfferSize>(r);
  Offer o;
  rec.Bytes<wire::kOffOfferDevice>(o.device);
  rec.Bytes<wire::kOffOfferContact>(o.contact);
  o.contact_port = rec.U16<wire::kOffOfferContactPort>();
  o.device_kind = rec.U16<wire::kOffOfferDeviceKind>();
  o.currency = rec.U16<wire::kOffOfferCurrency>();
  o.resource = rec.U16<wire::kOffOfferResource>();
  o.unit = rec.U8<wire::kOffOfferUnit>();
  o.flags = rec.U8<wire::kOffOfferFlags>();
  o.quantity = rec.U32<wire::kOffOfferQuantity>();
  o.price = rec.U32<wire::kOffOfferPrice>();
  o.valid_from = rec.U64<wire::kOffOfferValidFrom>();
  o.valid_until = rec.U64<wire::kOffOfferValidUntil>();
  return o;
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
  auto desc = Next<wire::kAnswerDescriptorSize>(r);
  QueryAnswer& answer = out.emplace<QueryAnswer>();
  answer.total = desc.U32<0>();
  answer.next_cursor = desc.U32<4>();
  answer.offers.reserve(header.count);
  for (uint16_t i = 0; i < header.count; ++i) {
    answer.offers.push_back(ReadOffer(r));
  }
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
