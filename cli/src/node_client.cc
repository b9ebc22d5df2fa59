#include "node_client.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <algorithm>
#include <numeric>
#include <variant>

namespace crsp::cli {
namespace {

// Accepts a datagram that decodes with a holding check and answers
// `request`: same transaction id, same protocol, type one above.
UdpClient::Accept AnswerTo(const protocol::Header& request) {
  return [request](std::span<const std::byte> bytes) {
    protocol::DecodeResult r = protocol::Decode(bytes);
    const protocol::Header& h = r.packet.header;
    return r.status == wire::Status::kOk && r.check_ok &&
           h.txid == request.txid && h.protocol == request.protocol &&
           h.type == request.type + 1;
  };
}

protocol::Packet PingPacket(uint32_t txid, wire::CheckType check) {
  protocol::Packet p;
  p.header = protocol::HeaderFor(wire::PacketKind::kPingRequest, txid, check);
  p.body = protocol::PingRequest{};
  return p;
}

}  // namespace

uint32_t RandomTxid() {
  uint32_t v = 0;
  gnutls_rnd(GNUTLS_RND_NONCE, &v, sizeof v);
  return v;
}

NodeClient::NodeClient(std::vector<Endpoint> nodes, RetryPolicy policy)
    : nodes_(std::move(nodes)), policy_(policy) {}

void NodeClient::SelectNearest() {
  selected_ = true;
  if (nodes_.size() < 2) return;
  protocol::Packet ping = PingPacket(RandomTxid(), wire::CheckType::kCrc32);
  std::vector<std::byte> bytes = protocol::Encode(ping);
  RetryPolicy p = policy_;
  p.stop_after_first = true;
  auto replies = UdpClient::Exchange(nodes_, bytes, AnswerTo(ping.header), p);
  std::vector<size_t> idx(nodes_.size());
  std::iota(idx.begin(), idx.end(), 0);
  // Answering nodes by RTT first; the others keep their configured order.
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (replies[a].has_value() != replies[b].has_value()) {
      return replies[a].has_value();
    }
    return replies[a] && replies[a]->rtt < replies[b]->rtt;
  });
  std::vector<Endpoint> sorted;
  for (size_t i : idx) sorted.push_back(nodes_[i]);
  nodes_ = std::move(sorted);
}

std::optional<NodeAnswer> NodeClient::Send(const protocol::Packet& request,
                                           const protocol::Ed25519Key* signer,
                                           bool* encode_failed) {
  std::vector<std::byte> bytes = protocol::Encode(request, signer);
  if (encode_failed) *encode_failed = bytes.empty();
  if (bytes.empty()) return std::nullopt;
  if (!selected_) SelectNearest();
  // The header as Decode will compare it: protocol and type from the body.
  protocol::Header sent = protocol::Decode(bytes).packet.header;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto replies = UdpClient::Exchange(std::span(&nodes_[i], 1), bytes,
                                       AnswerTo(sent), policy_);
    if (!replies[0]) continue;
    NodeAnswer answer;
    answer.packet = protocol::Decode(replies[0]->bytes).packet;
    answer.node = nodes_[i];
    answer.rtt = replies[0]->rtt;
    // Keep talking to the node that answered (paging, later requests).
    std::rotate(nodes_.begin(), nodes_.begin() + static_cast<ptrdiff_t>(i),
                nodes_.begin() + static_cast<ptrdiff_t>(i) + 1);
    return answer;
  }
  return std::nullopt;
}

std::vector<PingResult> NodeClient::PingAll(wire::CheckType check) {
  protocol::Packet ping = PingPacket(RandomTxid(), check);
  std::vector<std::byte> bytes = protocol::Encode(ping);
  auto replies =
      UdpClient::Exchange(nodes_, bytes, AnswerTo(ping.header), policy_);
  std::vector<PingResult> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    PingResult r{nodes_[i], std::nullopt, {}};
    if (replies[i]) {
      auto d = protocol::Decode(replies[i]->bytes);
      if (auto* a = std::get_if<protocol::PingAnswer>(&d.packet.body)) {
        r.answer = *a;
      }
      r.rtt = replies[i]->rtt;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace crsp::cli
