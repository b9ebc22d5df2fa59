#include "node_metrics.h"

#include <utility>
#include <vector>

namespace crsp::node {

RequestType RequestTypeOf(const protocol::Header& request) {
  const std::optional<wire::PacketKind> kind =
      protocol::KindOf(request.protocol, request.type);
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

ReplyFn CountAnswers(const std::shared_ptr<NodeMetrics>& metrics,
                     RequestType type, ReplyFn reply) {
  if (metrics == NoMetrics()) return reply;
  // A raw pointer: the Node holds `metrics` while any reply can run.
  return [counter = metrics.get(), type,
          reply = std::move(reply)](std::vector<std::byte> answer) {
    const wire::Status status =
        answer.size() > wire::kOffStatus
            ? static_cast<wire::Status>(answer[wire::kOffStatus])
            : wire::Status::kMalformed;
    counter->Answered(type, status, answer.size());
    reply(std::move(answer));
  };
}

}  // namespace crsp::node
