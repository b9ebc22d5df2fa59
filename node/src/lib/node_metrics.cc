#include "node_metrics.h"

namespace crsp::node {

RequestType RequestTypeOf(uint8_t protocol, uint8_t type) {
  const std::optional<wire::PacketKind> kind = protocol::KindOf(protocol, type);
  if (!kind) return RequestType::kOther;
  switch (*kind) {
    case wire::PacketKind::kPingRequest:
      return RequestType::kPing;
    case wire::PacketKind::kRegisterRequest:
      return RequestType::kRegister;
    case wire::PacketKind::kWithdrawRequest:
      return RequestType::kWithdraw;
    case wire::PacketKind::kQueryRequest:
      return RequestType::kQuery;
    default:
      return RequestType::kOther;
  }
}

const std::shared_ptr<NodeMetrics>& NoMetrics() {
  static const auto* const none = new std::shared_ptr<NodeMetrics>(
      std::make_shared<NodeMetrics>());  // never destroyed: used at exit
  return *none;
}

}  // namespace crsp::node
