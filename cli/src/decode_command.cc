#include "decode_command.h"

#include "crsp/protocol/codec.h"
#include "exit_codes.h"
#include "hex.h"
#include "packet_json.h"

namespace crsp::cli {

DecodeOutput DecodeHexPacket(std::string_view hex_text) {
  auto bytes = ParseHex(hex_text);
  if (!bytes) {
    return {kExitDecode,
            ErrorJson(wire::StatusName(wire::Status::kMalformed),
                      "input is not hex: an even number of digits 0-9a-f "
                      "expected (whitespace is ignored)")};
  }
  protocol::DecodeResult result = protocol::Decode(*bytes);
  if (result.status != wire::Status::kOk || !result.check_ok) {
    std::string_view detail = result.detail;
    if (detail.empty()) detail = "the packet does not decode";
    if (result.status == wire::Status::kOk) {
      return {kExitDecode,
              ErrorJson(wire::StatusName(wire::Status::kBadCheck), detail)};
    }
    return {kExitDecode, ErrorJson(wire::StatusName(result.status), detail)};
  }
  return {kExitOk, PacketToJson(result)};
}

}  // namespace crsp::cli
