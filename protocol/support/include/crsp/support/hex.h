// Hex text <-> bytes: device ids, keys, packets on the command line, node
// ids in log lines.
#ifndef CRSP_SUPPORT_HEX_H_
#define CRSP_SUPPORT_HEX_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crsp::support {

// Lower-case hex of `bytes`, two digits a byte.
std::string ToHex(std::span<const uint8_t> bytes);
std::string ToHex(std::span<const std::byte> bytes);

// Bytes of hex text; ASCII whitespace anywhere is ignored (so a hexdump
// pasted over several lines works). Empty on an odd digit count or a
// non-hex character.
std::optional<std::vector<std::byte>> ParseHex(std::string_view text);

// Exactly N bytes of hex; '-' separators are also ignored so a UUID
// ("0011...-...") reads as a 16-byte id.
template <size_t N>
std::optional<std::array<uint8_t, N>> ParseHexArray(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != '-') compact += c;
  }
  std::optional<std::vector<std::byte>> bytes = ParseHex(compact);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<uint8_t>((*bytes)[i]);
  return out;
}

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_HEX_H_
