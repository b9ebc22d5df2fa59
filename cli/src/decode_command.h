// `crsp decode [HEX]`: one packet from hex text to one JSON object.
#ifndef CRSP_CLI_DECODE_COMMAND_H_
#define CRSP_CLI_DECODE_COMMAND_H_

#include <string>
#include <string_view>

namespace crsp::cli {

struct DecodeOutput {
  int exit_code;     // kExitOk or kExitDecode
  std::string json;  // the packet, or {"error": ..., "detail": ...}
};

// Decodes `hex_text` (whitespace ignored). Exit kExitOk only when the packet
// decodes, its fields are valid and its check holds.
DecodeOutput DecodeHexPacket(std::string_view hex_text);

}  // namespace crsp::cli

#endif  // CRSP_CLI_DECODE_COMMAND_H_
