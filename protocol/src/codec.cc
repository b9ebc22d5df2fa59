#include "crsp/protocol/codec.h"

#include "body_reader.h"
#include "body_writer.h"
#include "crsp/protocol/check.h"
#include "crsp/protocol/cursor.h"
#include "frame.h"

namespace crsp::protocol {
namespace {

using wire::Status;

// Records the outcome; callers then `return result;` so the result is
// built in place (returning this reference would copy the packet).
void Set(DecodeResult& result, Status status, std::string_view detail) {
  result.status = status;
  result.detail = detail;
}

}  // namespace

DecodeResult Decode(std::span<const std::byte> datagram,
                    const DecodeLimits& limits) {
  DecodeResult result;
  Header& h = result.packet.header;
  internal::Frame frame = internal::ReadFrame(datagram, h);
  result.answerable = frame.answerable;
  result.check_ok = frame.check_ok;
  result.signer = frame.signer;
  if (frame.status != Status::kOk) {
    Set(result, frame.status, frame.detail);
    return result;
  }

  std::optional<wire::PacketKind> kind = KindOf(h.protocol, h.type);
  if (!kind) {
    Set(result, Status::kMalformed, "unknown protocol or packet type");
    return result;
  }
  internal::BodyStatus body =
      internal::ReadBody(*kind, h, frame.body, limits, result.packet.body);
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
  return internal::EncodeFrame(
      h, internal::ItemCount(packet.body), internal::BodySize(packet.body),
      signer, [&packet](Writer& w) { internal::WriteBody(packet.body, w); });
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
