// The frame every CRSP packet shares: the 16-byte header and the check
// trailer (PROTOCOL.md "Header", "Check trailer"). Decode (codec.cc) and
// DecodePeer (peer_codec.cc) read it with ReadFrame and then each parses
// its own bodies; Encode and EncodePeer write it with EncodeFrame. Private
// to crsp_protocol; header-only, so the hot path inlines it.
#ifndef CRSP_PROTOCOL_SRC_FRAME_H_
#define CRSP_PROTOCOL_SRC_FRAME_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crsp/protocol/check.h"
#include "crsp/protocol/cursor.h"
#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"
#include "record.h"

namespace crsp::protocol::internal {

struct Frame {
  // kOk when steps 1 and 2 of codec.h's order passed: lengths, version,
  // check type, header length, then the check bits. Otherwise the first
  // failure, with a short static description.
  wire::Status status = wire::Status::kMalformed;
  std::string_view detail;
  // False when no answer may be sent: fewer than 12 bytes, or an answer
  // (an even packet type, or an odd one in the node-to-node range).
  bool answerable = false;
  // True once the trailer verified (also for check type 0).
  bool check_ok = false;
  // Check type 7: the trailer's key, once its signature verified.
  std::optional<PublicKey> signer;
  // The body: from the header length to the trailer. Set when kOk.
  std::span<const std::byte> body;
};

namespace frame_detail {

// Reads the 16 header bytes as far as `datagram` has them; fields past its
// end read as zero.
inline Header ReadHeader(std::span<const std::byte> datagram,
                         uint8_t& check_byte) {
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
  h.status = static_cast<wire::Status>(rec.U8<wire::kOffStatus>());
  h.count = rec.U16<wire::kOffItemCount>();
  return h;
}

// Records a failure; callers then `return frame;`.
inline void Fail(Frame& frame, wire::Status status, std::string_view detail) {
  frame.status = status;
  frame.detail = detail;
}

}  // namespace frame_detail

// Reads `h` (every field the datagram has, even on failure; fields past
// its end read as zero) and checks the frame in codec.h's order, steps 1
// and 2. Never reads outside `datagram`. Inline, like EncodeFrame: it
// starts every decode, and a call per packet shows in bench/codec_bench.
inline Frame ReadFrame(std::span<const std::byte> datagram, Header& h) {
  Frame frame;
  uint8_t check_byte = 0;
  h = frame_detail::ReadHeader(datagram, check_byte);
  if (datagram.size() < wire::kTxidReadable) {
    frame_detail::Fail(frame, wire::Status::kMalformed,
                       "shorter than 12 bytes");
    return frame;
  }
  // Requests are odd; an answer is never answered. The node-to-node range
  // (control 0x40..0x7F) turns this round: there requests are even (0x40,
  // 0x42) and answers odd (0x41, 0x43), and a request also has status 0,
  // because an error answer to the request just below the range (control
  // 0x3F) is a 0x40 that carries its error status. The client codec answers
  // every peer request MALFORMED (PROTOCOL.md: from non-peers it is an
  // unknown type); no answer it sends is ever answerable.
  frame.answerable = wire::IsPeerType(h.protocol, h.type)
                         ? (h.type & 1) == 0 && h.status == wire::Status::kOk
                         : (h.type & 1) != 0;
  if (datagram.size() < wire::kHeaderSize) {
    frame_detail::Fail(frame, wire::Status::kMalformed,
                       "shorter than the header");
    return frame;
  }
  // Another version's layout is unknown, so nothing past the header's first
  // field is trusted.
  if (h.version != wire::kVersion) {
    frame_detail::Fail(frame, wire::Status::kUnsupportedVersion,
                       "version is not 1");
    return frame;
  }
  if (h.total_length != datagram.size()) {
    frame_detail::Fail(frame, wire::Status::kMalformed,
                       "total length differs from datagram length");
    return frame;
  }
  if ((check_byte & ~wire::kCheckTypeMask) != 0) {
    frame_detail::Fail(frame, wire::Status::kMalformed,
                       "check type high bits set");
    return frame;
  }
  if (!IsKnownCheck(check_byte)) {
    frame_detail::Fail(frame, wire::Status::kUnsupportedCheck,
                       "reserved check type");
    return frame;
  }
  size_t trailer = TrailerSize(h.check);
  if (h.header_length < wire::kHeaderSize ||
      size_t{h.header_length} + trailer > h.total_length) {
    frame_detail::Fail(frame, wire::Status::kMalformed,
                       "header length out of range");
    return frame;
  }
  size_t covered = h.total_length - trailer;
  PublicKey signer;
  if (!VerifyCheck(h.check, datagram.first(covered),
                   datagram.subspan(covered, trailer), &signer)) {
    frame_detail::Fail(frame, wire::Status::kBadCheck,
                       "check bits do not match");
    return frame;
  }
  frame.check_ok = true;
  if (h.check == wire::CheckType::kEd25519) {
    frame.signer = signer;
  }
  frame.body = datagram.subspan(h.header_length, covered - h.header_length);
  frame.status = wire::Status::kOk;
  return frame;
}

// Bytes of one packet: a 16-byte header from `h` (protocol, type, txid,
// check type and status as given; version, header length 16, total length
// and `count` computed), then the `body_size` bytes `write_body(Writer&)`
// appends, then the trailer of h.check. Empty when count or total length
// do not fit 16 bits, when h.check is reserved, or when it is kEd25519
// and `signer` is null or signing fails.
template <typename WriteBody>
std::vector<std::byte> EncodeFrame(const Header& h, size_t count,
                                   size_t body_size, const Ed25519Key* signer,
                                   WriteBody&& write_body) {
  size_t total = wire::kHeaderSize + body_size + TrailerSize(h.check);
  if (count > UINT16_MAX || total > UINT16_MAX) {
    return {};
  }
  std::vector<std::byte> out;
  out.reserve(total);
  Writer w(out);
  auto rec = AppendRecord<wire::kHeaderSize>(w);
  rec.U16<wire::kOffVersion>(wire::kVersion);
  rec.U8<wire::kOffProtocol>(h.protocol);
  rec.U8<wire::kOffType>(h.type);
  rec.U16<wire::kOffHeaderLength>(wire::kHeaderSize);
  rec.U16<wire::kOffTotalLength>(static_cast<uint16_t>(total));
  rec.U32<wire::kOffTxid>(h.txid);
  rec.U8<wire::kOffCheckType>(static_cast<uint8_t>(h.check));
  rec.U8<wire::kOffStatus>(static_cast<uint8_t>(h.status));
  rec.U16<wire::kOffItemCount>(static_cast<uint16_t>(count));
  write_body(w);
  if (!AppendCheck(h.check, out, signer)) {
    return {};
  }
  return out;
}

}  // namespace crsp::protocol::internal

#endif  // CRSP_PROTOCOL_SRC_FRAME_H_
