#include "crsp/protocol/codec.h"

#include "body_reader.h"
#include "body_writer.h"
#include "crsp/protocol/check.h"
#include "crsp/protocol/cursor.h"

namespace crsp::protocol {
namespace {

using wire::Status;

DecodeResult& Fail(DecodeResult& result, Status status,
                   std::string_view detail) {
  result.status = status;
  result.detail = detail;
  return result;
}

// Reads the 16 header bytes as far as `datagram` has them; fields past its
// end stay zero (the Reader's sticky error).
Header ReadHeader(std::span<const std::byte> datagram, uint8_t& check_byte) {
  Reader r(datagram);
  Header h;
  h.version = r.U16();
  h.protocol = r.U8();
  h.type = r.U8();
  h.header_length = r.U16();
  h.total_length = r.U16();
  h.txid = r.U32();
  check_byte = r.U8();
  h.check = static_cast<wire::CheckType>(check_byte & wire::kCheckTypeMask);
  h.status = static_cast<Status>(r.U8());
  h.count = r.U16();
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
    return Fail(result, Status::kMalformed, "shorter than 12 bytes");
  }
  // Requests are odd; an answer is never answered.
  result.answerable = (h.type & 1) != 0;
  if (datagram.size() < wire::kHeaderSize) {
    return Fail(result, Status::kMalformed, "shorter than the header");
  }
  // Another version's layout is unknown, so nothing past the header's first
  // field is trusted.
  if (h.version != wire::kVersion) {
    return Fail(result, Status::kUnsupportedVersion, "version is not 1");
  }
  if (h.total_length != datagram.size()) {
    return Fail(result, Status::kMalformed,
                "total length differs from datagram length");
  }
  if ((check_byte & ~wire::kCheckTypeMask) != 0) {
    return Fail(result, Status::kMalformed, "check type high bits set");
  }
  if (!IsKnownCheck(check_byte)) {
    return Fail(result, Status::kUnsupportedCheck, "reserved check type");
  }
  size_t trailer = TrailerSize(h.check);
  if (h.header_length < wire::kHeaderSize ||
      size_t{h.header_length} + trailer > h.total_length) {
    return Fail(result, Status::kMalformed, "header length out of range");
  }
  size_t covered = h.total_length - trailer;
  PublicKey signer;
  if (!VerifyCheck(h.check, datagram.first(covered),
                   datagram.subspan(covered, trailer), &signer)) {
    return Fail(result, Status::kBadCheck, "check bits do not match");
  }
  result.check_ok = true;
  if (h.check == wire::CheckType::kEd25519) result.signer = signer;

  std::optional<wire::PacketKind> kind = KindOf(h.protocol, h.type);
  if (!kind) {
    return Fail(result, Status::kMalformed, "unknown protocol or packet type");
  }
  internal::BodyStatus body = internal::ReadBody(
      *kind, h, datagram.subspan(h.header_length, covered - h.header_length),
      limits, result.packet.body);
  return Fail(result, body.status, body.detail);
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
  if (count > UINT16_MAX || total > UINT16_MAX) return {};

  std::vector<std::byte> out;
  out.reserve(total);
  Writer w(out);
  w.U16(wire::kVersion);
  w.U8(h.protocol);
  w.U8(h.type);
  w.U16(wire::kHeaderSize);
  w.U16(static_cast<uint16_t>(total));
  w.U32(h.txid);
  w.U8(static_cast<uint8_t>(h.check));
  w.U8(static_cast<uint8_t>(h.status));
  w.U16(static_cast<uint16_t>(count));
  internal::WriteBody(packet.body, w);
  if (!AppendCheck(h.check, out, signer)) return {};
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
