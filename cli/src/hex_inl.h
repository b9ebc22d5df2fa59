// Template part of hex.h.
#ifndef CRSP_CLI_HEX_INL_H_
#define CRSP_CLI_HEX_INL_H_

#include <array>
#include <string>

namespace crsp::cli {

template <size_t N>
std::optional<std::array<uint8_t, N>> ParseHexArray(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != '-') compact += c;
  }
  auto bytes = ParseHex(compact);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<uint8_t>((*bytes)[i]);
  return out;
}

}  // namespace crsp::cli

#endif  // CRSP_CLI_HEX_INL_H_
