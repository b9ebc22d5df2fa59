#include "node_harness.h"

#include <atomic>
#include <chrono>

namespace crsp::testing {

using protocol::Packet;

protocol::DeviceId Device(uint8_t n) {
  protocol::DeviceId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(n + i);
  return id;
}

protocol::ResourceEntry Entry(uint16_t resource, uint32_t price,
                              uint32_t quantity, uint64_t from, uint64_t until,
                              wire::BillingUnit unit) {
  protocol::ResourceEntry e;
  e.resource = resource;
  e.unit = static_cast<uint8_t>(unit);
  e.quantity = quantity;
  e.price = price;
  e.valid_from = from;
  e.valid_until = until;
  return e;
}

Packet Register(const protocol::DeviceId& device,
                std::vector<protocol::ResourceEntry> entries, uint32_t txid,
                wire::CheckType check) {
  protocol::RegisterRequest body;
  body.set.device = device;
  body.set.device_kind = static_cast<uint16_t>(wire::DeviceKind::kComputer);
  body.set.currency = 156;
  body.entries = std::move(entries);
  return {protocol::HeaderFor(wire::PacketKind::kRegisterRequest, txid, check),
          std::move(body)};
}

Packet Withdraw(const protocol::DeviceId& device,
                std::vector<uint16_t> resources, uint32_t txid,
                wire::CheckType check) {
  protocol::WithdrawRequest body{device, std::move(resources)};
  return {protocol::HeaderFor(wire::PacketKind::kWithdrawRequest, txid, check),
          std::move(body)};
}

Packet Query(std::vector<protocol::QueryEntry> entries, uint32_t txid,
             uint32_t cursor, uint16_t max_results) {
  protocol::QueryRequest body;
  body.entries = std::move(entries);
  body.cursor = cursor;
  body.max_results = max_results;
  return {protocol::HeaderFor(wire::PacketKind::kQueryRequest, txid,
                              wire::CheckType::kCrc32),
          std::move(body)};
}

Packet Ping(uint32_t txid, wire::CheckType check) {
  return {protocol::HeaderFor(wire::PacketKind::kPingRequest, txid, check),
          protocol::PingRequest{}};
}

std::optional<protocol::DecodeResult> Ask(UdpClient& client,
                                          const Packet& request,
                                          const protocol::Ed25519Key* signer) {
  std::vector<std::byte> bytes = protocol::Encode(request, signer);
  // Registers wait for the DHT: give them time before resending.
  auto answer = client.Exchange(bytes, std::chrono::milliseconds(3000), 3);
  if (!answer) return std::nullopt;
  protocol::DecodeResult decoded = protocol::Decode(*answer);
  // Answers from a node always decode; the node's verdict is in the
  // header's status.
  if (decoded.status != wire::Status::kOk) return std::nullopt;
  return decoded;
}

std::unique_ptr<NodeProcess> StartNode(const std::string& state_dir,
                                       std::vector<std::string> bootstrap,
                                       std::vector<std::string> extra_args,
                                       uint16_t edge_port, uint16_t dht_port,
                                       const std::string& listen_host) {
  NodeProcess::Options options;
  options.binary = CRSP_NODE_BINARY;
  options.state_dir = state_dir;
  options.bootstrap = std::move(bootstrap);
  options.extra_args = std::move(extra_args);
  options.edge_port = edge_port;
  options.dht_port = dht_port;
  options.listen_host = listen_host;
  return NodeProcess::Start(std::move(options));
}

std::optional<std::vector<protocol::Offer>> QueryAll(UdpClient& client,
                                                     uint16_t resource,
                                                     Answers answers) {
  std::vector<protocol::Offer> offers;
  uint32_t cursor = 0;
  for (int page = 0; page < 1000; ++page) {
    protocol::QueryEntry entry;
    entry.resource = resource;
    // A fresh transaction id per page: a late answer to an earlier
    // query can never be taken for this one.
    static std::atomic<uint32_t> next_txid{0x40000000};
    auto answer = Ask(client, Query({entry}, next_txid++, cursor));
    if (!answer || answer->status != wire::Status::kOk) return std::nullopt;
    const wire::Status status = answer->packet.header.status;
    if (status != wire::Status::kOk && !(status == wire::Status::kIncomplete &&
                                         answers == Answers::kWhatItHolds)) {
      return std::nullopt;
    }
    const auto* body = std::get_if<protocol::QueryAnswer>(&answer->packet.body);
    if (body == nullptr) return std::nullopt;
    offers.insert(offers.end(), body->offers.begin(), body->offers.end());
    if (body->next_cursor == 0) return offers;
    cursor = body->next_cursor;
  }
  return std::nullopt;
}

}  // namespace crsp::testing
