// `crsp decode [HEX]`: one packet from hex text to one JSON object.
#ifndef CRSP_CLI_DECODE_COMMAND_H_
#define CRSP_CLI_DECODE_COMMAND_H_

#include <string>
#include <string_view>

#include "crsp/support/status.h"

namespace crsp::cli {

struct DecodeOutput {
  // OK, or Corruption without a message (the JSON says why).
  support::Status status;
  std::string json;  // the packet, or {"error": ..., "detail": ...}
};

// Decodes `hex_text` (whitespace ignored). OK only when the packet
// decodes, its fields are valid and its check holds.
DecodeOutput DecodeHexPacket(std::string_view hex_text);

}  // namespace crsp::cli

#endif  // CRSP_CLI_DECODE_COMMAND_H_
