#include "frame.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace crsp::protocol::internal {
namespace {

using wire::Status;

// Reads the 16 header bytes as far as `datagram` has them; fields past its
// end read as zero.
Header ReadHeader(std::span<const std::byte> datagram, uint8_t& check_byte) {
  std::array<std::byte, wire::kHeaderSize> bytes{};
  // An empty span may have a null data(), which memcpy must not see.
  if (!datagram.empty()) {
    std::memcpy(bytes.data(), datagram.data(),
                std::min(datagram.size(), bytes.size()));
  }
  Record<wire::kHeaderSize> rec(bytes);
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

// Records a failure; callers then `return frame;`.
void Fail(Frame& frame, Status status, std::string_view detail) {
  frame.status = status;
  frame.detail = detail;
}

}  // namespace

Frame ReadFrame(std::span<const std::byte> datagram, Header& h) {
  Frame frame;
  uint8_t check_byte = 0;
  h = ReadHeader(datagram, check_byte);
  if (datagram.size() < wire::kTxidReadable) {
    Fail(frame, Status::kMalformed, "shorter than 12 bytes");
    return frame;
  }
  // Requests are odd; an answer is never answered.
  frame.answerable = (h.type & 1) != 0;
  if (datagram.size() < wire::kHeaderSize) {
    Fail(frame, Status::kMalformed, "shorter than the header");
    return frame;
  }
  // Another version's layout is unknown, so nothing past the header's first
  // field is trusted.
  if (h.version != wire::kVersion) {
    Fail(frame, Status::kUnsupportedVersion, "version is not 1");
    return frame;
  }
  if (h.total_length != datagram.size()) {
    Fail(frame, Status::kMalformed,
         "total length differs from datagram length");
    return frame;
  }
  if ((check_byte & ~wire::kCheckTypeMask) != 0) {
    Fail(frame, Status::kMalformed, "check type high bits set");
    return frame;
  }
  if (!IsKnownCheck(check_byte)) {
    Fail(frame, Status::kUnsupportedCheck, "reserved check type");
    return frame;
  }
  size_t trailer = TrailerSize(h.check);
  if (h.header_length < wire::kHeaderSize ||
      size_t{h.header_length} + trailer > h.total_length) {
    Fail(frame, Status::kMalformed, "header length out of range");
    return frame;
  }
  size_t covered = h.total_length - trailer;
  PublicKey signer;
  if (!VerifyCheck(h.check, datagram.first(covered),
                   datagram.subspan(covered, trailer), &signer)) {
    Fail(frame, Status::kBadCheck, "check bits do not match");
    return frame;
  }
  frame.check_ok = true;
  if (h.check == wire::CheckType::kEd25519) {
    frame.signer = signer;
  }
  frame.body = datagram.subspan(h.header_length, covered - h.header_length);
  frame.status = Status::kOk;
  return frame;
}

}  // namespace crsp::protocol::internal
