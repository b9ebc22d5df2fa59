#include "crsp/protocol/codec.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "body_reader.h"
#include "body_writer.h"
#include "crsp/protocol/check.h"
#include "crsp/protocol/cursor.h"
#include "record.h"

namespace crsp::protocol {
namespace {

using wire::Status;

// Records the outcome; callers then `return result;` so the result is
// built in place (returning this reference would copy the packet).
void Set(DecodeResult& result, Status status, std::string_view detail) {
  result.status = status;
  result.detail = detail;
}

// Reads the 16 header bytes as far as `datagram` has them; fields past its
// end read as zero.
Header ReadHeader(std::span<const std::byte> datagram, uint8_t& check_byte) {
  std::array<std::byte, wire::kHeaderSize> bytes{};
  // An empty span may have a null data(), which memcpy must not see.
  if (!datagram.empty()) {
    std::memcpy(bytes.data(), datagram.data(),
                std::min(datagram.size(), bytes.size()));
  }
  internal::Record<wire::kHeaderSize> rec(bytes);
  Header h;
  h.version = rec.U16<wire::kOffVersion>();
  h.protocol = rec.U8<wire::kOffProtocol>();
  h.type = rec.U8<wire::kOffType>();
  h.header_length = rec.U16<wire::kOffHeaderLength>();
  h.total_length = rec.U16<wire::kOffTotalLength>();
  h.txid = rec.U32<wire::kOffTxid>();
  check_byte = rec.U8<wire::kOffCheckType>();
  h.check = static_cast<wire::CheckType>(check_byte & wire::kCheckTypeMask);
  h.status = static_cast<Status>(rec.U8<wire::kOffStatus>());
  h.count = rec.U16<wire::kOffItemCount>();
  return h;
}

}  // namespace

DecodeResult Decode(std::span<const std::byte> datagram,
                    const DecodeLimits& limits) {
  DecodeResult result;
  uint8_t check_byte = 0;
  Header& h = result.packet.header;
  h = ReadHeader(datagram, check_byte);
  if (datagram.size() < wire::kTxidReadable) {
    Set(result, Status::kMalformed, "shorter than 12 bytes");
    return result;
  }
  // Requests are odd; an answer is never answered.
  result.answerable = (h.type & 1) != 0;
  if (datagram.size() < wire::kHeaderSize) {
    Set(result, Status::kMalformed, "shorter than the header");
    return result;
  }
  // Another version's layout is unknown, so nothing past the header's first
  // field is trusted.
  if (h.version != wire::kVersion) {
    Set(result, Status::kUnsupportedVersion, "version is not 1");
    return result;
  }
  if (h.total_length != datagram.size()) {
    Set(result, Status::kMalformed,
        "total length differs from datagram length");
    return result;
  }
  if ((check_byte & ~wire::kCheckTypeMask) != 0) {
    Set(result, Status::kMalformed, "check type high bits set");
    return result;
  }
  if (!IsKnownCheck(check_byte)) {
    Set(result, Status::kUnsupportedCheck, "reserved check type");
    return result;
  }
  size_t trailer = TrailerSize(h.check);
  if (h.header_length < wire::kHeaderSize ||
      size_t{h.header_length} + trailer > h.total_length) {
    Set(result, Status::kMalformed, "header length out of range");
    return result;
  }
  size_t covered = h.total_length - trailer;
  PublicKey signer;
  if (!VerifyCheck(h.check, datagram.first(covered),
                   datagram.subspan(covered, trailer), &signer)) {
    Set(result, Status::kBadCheck, "check bits do not match");
    return result;
  }
  result.check_ok = true;
  if (h.check == wire::CheckType::kEd25519) {
    result.signer = signer;
  }

  std::optional<wire::PacketKind> kind = KindOf(h.protocol, h.type);
  if (!kind) {
    Set(result, Status::kMalformed, "unknown protocol or packet type");
    return result;
  }
  internal::BodyStatus body = internal::ReadBody(
      *kind, h, datagram.subspan(h.header_length, covered - h.header_length),
      limits, result.packet.body);
  Set(result, body.status, body.detail);
  return result;
}

std::vector<std::byte> Encode(const Packet& packet, const Ed25519Key* signer) {
  Header h = packet.header;
  if (std::optional<wire::PacketKind> kind = KindOf(packet.body)) {
    Header code = HeaderFor(*kind, h.txid, h.check);
    h.protocol = code.protocol;
    h.type = code.type;
  }
  size_t count = internal::ItemCount(packet.body);
  size_t total = wire::kHeaderSize + internal::BodySize(packet.body) +
                 TrailerSize(h.check);
  if (count > UINT16_MAX || total > UINT16_MAX) {
    return {};
  }

  std::vector<std::byte> out;
  out.reserve(total);
  Writer w(out);
  auto rec = internal::AppendRecord<wire::kHeaderSize>(w);
  rec.U16<wire::kOffVersion>(wire::kVersion);
  rec.U8<wire::kOffProtocol>(h.protocol);
  rec.U8<wire::kOffType>(h.type);
  rec.U16<wire::kOffHeaderLength>(wire::kHeaderSize);
  rec.U16<wire::kOffTotalLength>(static_cast<uint16_t>(total));
  rec.U32<wire::kOffTxid>(h.txid);
  rec.U8<wire::kOffCheckType>(static_cast<uint8_t>(h.check));
  rec.U8<wire::kOffStatus>(static_cast<uint8_t>(h.status));
  rec.U16<wire::kOffItemCount>(static_cast<uint16_t>(count));
  internal::WriteBody(packet.body, w);
  if (!AppendCheck(h.check, out, signer)) {
    return {};
  }
  return out;
}

Header AnswerHeaderFor(const Header& request, wire::Status status) {
  Header h;
  h.protocol = request.protocol;
  h.type = static_cast<uint8_t>(request.type + 1);
  h.txid = request.txid;
  h.check = IsKnownCheck(static_cast<uint8_t>(request.check))
                ? request.check
                : wire::CheckType::kNone;
  h.status = status;
  return h;
}

Packet ErrorAnswer(const Header& request, wire::Status status) {
  return Packet{AnswerHeaderFor(request, status), std::monostate{}};
}

}  // namespace crsp::protocol
