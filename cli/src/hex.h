// Hex text <-> bytes, for packets on the command line, device ids and keys.
#ifndef CRSP_CLI_HEX_H_
#define CRSP_CLI_HEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crsp::cli {

// Lower-case hex of `bytes`.
std::string ToHex(std::span<const uint8_t> bytes);
std::string ToHex(std::span<const std::byte> bytes);

// Bytes of hex text; ASCII whitespace anywhere is ignored (so a hexdump
// pasted over several lines works). Empty on an odd digit count or a
// non-hex character.
std::optional<std::vector<std::byte>> ParseHex(std::string_view text);

// Exactly N bytes of hex; '-' separators are also ignored so a UUID
// ("0011...-...") reads as a 16-byte id.
template <size_t N>
std::optional<std::array<uint8_t, N>> ParseHexArray(std::string_view text);

}  // namespace crsp::cli

#include "hex_inl.h"

#endif  // CRSP_CLI_HEX_H_
