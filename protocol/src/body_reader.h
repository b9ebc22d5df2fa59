// Reading of packet bodies (PROTOCOL.md "Registration", "Inquiry",
// "Control"), one function per layout. Private to crsp_protocol: Decode
// calls ReadBody once the header and the check trailer are known good.
#ifndef CRSP_PROTOCOL_SRC_BODY_READER_H_
#define CRSP_PROTOCOL_SRC_BODY_READER_H_

#include <span>
#include <string_view>

#include "crsp/protocol/codec.h"
#include "crsp/protocol/packets.h"
#include "crsp/protocol/wire.h"

namespace crsp::protocol::internal {

struct BodyStatus {
  wire::Status status = wire::Status::kOk;
  std::string_view detail;
};

// Parses `bytes` (the body: from header length to the trailer) as `kind`
// with the header's item count. Sets `out` when the status is kOk, and for
// kInvalidField only when the failure lies inside register entries (so a
// node answers per entry); otherwise leaves `out` untouched.
BodyStatus ReadBody(wire::PacketKind kind, const Header& header,
                    std::span<const std::byte> bytes,
                    const DecodeLimits& limits, Body& out);

}  // namespace crsp::protocol::internal

#endif  // CRSP_PROTOCOL_SRC_BODY_READER_H_
