// The JSON form of a decoded packet, as `crsp decode` prints it: header
// fields, then the body's fields in snake_case of PROTOCOL.md's field
// names. Times are numbers, device/node ids and keys are hex strings,
// addresses are RFC 5952 text.
#ifndef CRSP_CLI_PACKET_JSON_H_
#define CRSP_CLI_PACKET_JSON_H_

#include <string>
#include <string_view>

#include "crsp/protocol/codec.h"
#include "json_writer.h"

namespace crsp::cli {

// One JSON object for a packet that decoded (status kOk).
std::string PacketToJson(const protocol::DecodeResult& result);

// {"error": "<STATUS NAME>", "detail": "..."}.
std::string ErrorJson(std::string_view status_name, std::string_view detail);

// An offer as a JSON object (shared by decode and `crsp query --json`).
void WriteOfferJson(JsonWriter& w, const protocol::Offer& offer);

}  // namespace crsp::cli

#endif  // CRSP_CLI_PACKET_JSON_H_
