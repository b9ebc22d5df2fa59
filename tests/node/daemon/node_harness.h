// Packet builders and a request/answer helper for the daemon tests.
#ifndef CRSP_TESTS_NODE_DAEMON_NODE_HARNESS_H_
#define CRSP_TESTS_NODE_DAEMON_NODE_HARNESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crsp/protocol/codec.h"
#include "crsp/support/clock.h"
#include "node_process.h"

namespace crsp::testing {

protocol::DeviceId Device(uint8_t n);

protocol::ResourceEntry Entry(
    uint16_t resource, uint32_t price, uint32_t quantity = 4,
    uint64_t from = support::UnixSeconds() - 60,
    uint64_t until = support::UnixSeconds() + 3600,
    wire::BillingUnit unit = wire::BillingUnit::kPerHour);

protocol::Packet Register(const protocol::DeviceId& device,
                          std::vector<protocol::ResourceEntry> entries,
                          uint32_t txid,
                          wire::CheckType check = wire::CheckType::kCrc32);
protocol::Packet Withdraw(const protocol::DeviceId& device,
                          std::vector<uint16_t> resources, uint32_t txid,
                          wire::CheckType check = wire::CheckType::kCrc32);
protocol::Packet Query(std::vector<protocol::QueryEntry> entries, uint32_t txid,
                       uint32_t cursor = 0, uint16_t max_results = 0);
protocol::Packet Ping(uint32_t txid,
                      wire::CheckType check = wire::CheckType::kCrc32);

// Encodes (signing with `signer` for check type 7), exchanges with
// retries, and decodes the answer. nullopt when nothing (decodable) came
// back; the node's status is packet.header.status.
std::optional<protocol::DecodeResult> Ask(
    UdpClient& client, const protocol::Packet& request,
    const protocol::Ed25519Key* signer = nullptr);

// A node started from the crsp-node binary in a state dir under `root`.
std::unique_ptr<NodeProcess> StartNode(const std::string& state_dir,
                                       std::vector<std::string> bootstrap = {},
                                       std::vector<std::string> extra_args = {},
                                       uint16_t edge_port = 0,
                                       uint16_t dht_port = 0,
                                       const std::string& listen_host = "::1");

// Which query answers count. kExact: only OK ones. kWhatItHolds: INCOMPLETE
// ones too (PROTOCOL.md 1.1), whose offers are what the node has read so
// far: enough to see that an offer arrived, never that one is gone.
enum class Answers { kExact, kWhatItHolds };

// Every offer a query for `resource` (any price) returns at `port`,
// following cursors; nullopt if a page did not come back or did not count.
std::optional<std::vector<protocol::Offer>> QueryAll(
    UdpClient& client, uint16_t resource, Answers answers = Answers::kExact);

}  // namespace crsp::testing

#endif  // CRSP_TESTS_NODE_DAEMON_NODE_HARNESS_H_
