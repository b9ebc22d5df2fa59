// The frame every CRSP packet shares: the 16-byte header and the check
// trailer (PROTOCOL.md "Header", "Check trailer"). Decode (codec.cc) and
// DecodePeer (peer_codec.cc) read it with ReadFrame and then each parses
// its own bodies; Encode and EncodePeer write it with EncodeFrame. Private
// to crsp_protocol.
#ifndef CRSP_PROTOCOL_SRC_FRAME_H_
#define CRSP_PROTOCOL_SRC_FRAME_H_

#include <cstddef>
#include <cstdint>
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
  // False when no answer may be sent: fewer than 12 bytes, or an even
  // packet type (an answer).
  bool answerable = false;
  // True once the trailer verified (also for check type 0).
  bool check_ok = false;
  // Check type 7: the trailer's key, once its signature verified.
  std::optional<PublicKey> signer;
  // The body: from the header length to the trailer. Set when kOk.
  std::span<const std::byte> body;
};

// Reads `header` (every field the datagram has, even on failure; fields
// past its end read as zero) and checks the frame in codec.h's order,
// steps 1 and 2. Never reads outside `datagram`.
Frame ReadFrame(std::span<const std::byte> datagram, Header& header);

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
