#include "decode_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>
#include <memory>
#include <vector>

#include "commands.h"
#include "crsp/protocol/codec.h"
#include "crsp/support/hex.h"
#include "packet_json.h"

namespace crsp::cli {

DecodeOutput DecodeHexPacket(std::string_view hex_text) {
  auto bytes = support::ParseHex(hex_text);
  if (!bytes) {
    return {support::Status::Corruption(""),
            ErrorJson(wire::StatusName(wire::Status::kMalformed),
                      "input is not hex: an even number of digits 0-9a-f "
                      "expected (whitespace is ignored)")};
  }
  protocol::DecodeResult result = protocol::Decode(*bytes);
  if (result.status != wire::Status::kOk || !result.check_ok) {
    std::string_view detail = result.detail;
    if (detail.empty()) detail = "the packet does not decode";
    if (result.status == wire::Status::kOk) {
      return {support::Status::Corruption(""),
              ErrorJson(wire::StatusName(wire::Status::kBadCheck), detail)};
    }
    return {support::Status::Corruption(""),
            ErrorJson(wire::StatusName(result.status), detail)};
  }
  return {support::Status::Ok(), PacketToJson(result)};
}

void AddDecodeCommand(CLI::App& app, support::Status& outcome) {
  auto hex_args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "decode",
      "Decode one packet given as hex (arguments or standard input; "
      "whitespace ignored) and print it as one JSON object. Exit 0 when it "
      "decodes and its check holds, 2 otherwise.");
  cmd->add_option("HEX", *hex_args, "The packet's bytes as hex");
  cmd->callback([hex_args, &outcome] {
    std::string text;
    if (hex_args->empty()) {
      text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      for (const auto& a : *hex_args) text += a;
    }
    DecodeOutput out = DecodeHexPacket(text);
    std::cout << out.json << "\n";
    outcome = out.status;
  });
}

}  // namespace crsp::cli
