#include "crsp/protocol/packets.h"

#include <type_traits>

namespace crsp::protocol {
namespace {

using wire::PacketKind;

struct KindCode {
  PacketKind kind;
  wire::Protocol protocol;
  uint8_t type;
};

// The packet table of PROTOCOL.md "Header".
constexpr KindCode kKinds[] = {
    {PacketKind::kPingRequest, wire::Protocol::kControl,
     wire::kTypePingRequest},
    {PacketKind::kPingAnswer, wire::Protocol::kControl, wire::kTypePingAnswer},
    {PacketKind::kRegisterRequest, wire::Protocol::kRegistration,
     wire::kTypeRegisterRequest},
    {PacketKind::kRegisterAnswer, wire::Protocol::kRegistration,
     wire::kTypeRegisterAnswer},
    {PacketKind::kWithdrawRequest, wire::Protocol::kRegistration,
     wire::kTypeWithdrawRequest},
    {PacketKind::kWithdrawAnswer, wire::Protocol::kRegistration,
     wire::kTypeWithdrawAnswer},
    {PacketKind::kQueryRequest, wire::Protocol::kInquiry,
     wire::kTypeQueryRequest},
    {PacketKind::kQueryAnswer, wire::Protocol::kInquiry,
     wire::kTypeQueryAnswer},
};

}  // namespace

Header HeaderFor(wire::PacketKind kind, uint32_t txid, wire::CheckType check) {
  Header header;
  for (const KindCode& code : kKinds) {
    if (code.kind == kind) {
      header.protocol = static_cast<uint8_t>(code.protocol);
      header.type = code.type;
    }
  }
  header.txid = txid;
  header.check = check;
  return header;
}

std::optional<wire::PacketKind> KindOf(uint8_t protocol, uint8_t type) {
  for (const KindCode& code : kKinds) {
    if (static_cast<uint8_t>(code.protocol) == protocol && code.type == type) {
      return code.kind;
    }
  }
  return std::nullopt;
}

std::optional<wire::PacketKind> KindOf(const Body& body) {
  return std::visit(
      [](const auto& b) -> std::optional<PacketKind> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, PingRequest>) {
          return PacketKind::kPingRequest;
        } else if constexpr (std::is_same_v<T, PingAnswer>) {
          return PacketKind::kPingAnswer;
        } else if constexpr (std::is_same_v<T, RegisterRequest>) {
          return PacketKind::kRegisterRequest;
        } else if constexpr (std::is_same_v<T, RegisterAnswer>) {
          return PacketKind::kRegisterAnswer;
        } else if constexpr (std::is_same_v<T, WithdrawRequest>) {
          return PacketKind::kWithdrawRequest;
        } else if constexpr (std::is_same_v<T, WithdrawAnswer>) {
          return PacketKind::kWithdrawAnswer;
        } else if constexpr (std::is_same_v<T, QueryRequest>) {
          return PacketKind::kQueryRequest;
        } else if constexpr (std::is_same_v<T, QueryAnswer>) {
          return PacketKind::kQueryAnswer;
        } else {
          return std::nullopt;
        }
      },
      body);
}

}  // namespace crsp::protocol
