// A Node over an in-memory DHT with a clock the test moves, in a fresh
// temporary state directory; and a test-only packet builder. Every DHT
// callback runs inline, so an answer is there when Send returns (unless
// the test holds the DHT's confirmations back).
#ifndef CRSP_TESTS_NODE_NODE_HARNESS_H_
#define CRSP_TESTS_NODE_NODE_HARNESS_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "crsp/dht_adapter/memory_dht.h"
#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"

namespace crsp::node::testing {

// 2027-01-15, so the vectors' January 2026 windows are in the past.
inline constexpr uint64_t kStart = 1'800'000'000;

// The DHT several test nodes share, and the clock every part reads.
struct World {
  World();
  std::shared_ptr<std::atomic<uint64_t>> now;
  std::shared_ptr<dht::InMemoryDht> dht;
  // While true, Publish confirmations are held in `held` instead of being
  // delivered.
  bool hold_puts = false;
  // What the nodes report their metrics to (empty: nothing).
  std::shared_ptr<NodeMetrics> metrics;
  std::vector<std::function<void()>> held;
  // Fetch and Watch calls the nodes made.
  size_t fetches = 0;
  size_t watches = 0;
  // StopListening calls the nodes made: (node id, resource).
  std::vector<std::pair<protocol::NodeId, uint16_t>> stopped_listening;
  // While true, fetches report that not every key answered in time.
  bool fetches_incomplete = false;
  // While true, Fetch calls are held in `held_fetches` (a DHT slower than
  // the test) until ReleaseFetches.
  bool hold_fetches = false;
  std::vector<std::function<void()>> held_fetches;
  void ReleaseFetches();
  void ReleaseHeld(bool ok);
  Clock clock() const;
};

Sender SourceA();  // 2001:db8:a::1 port 5000
Sender SourceB();  // 2001:db8:b::1 port 5001 (another /64)
Sender FromV4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

class TestNode {
 public:
  // `env`: the state directory's file system (null: the real one); not
  // owned, outlives the node.
  explicit TestNode(World& world, NodeConfig config = {},
                    protocol::NodeId id = {}, Env* env = nullptr);
  ~TestNode();

  // Destroys the Node and creates another on the same state directory.
  void Restart();

  // Every answer the node sent for this datagram (0 or 1; 2 would be a bug).
  std::vector<std::vector<std::byte>> SendRaw(
      std::span<const std::byte> datagram, const Sender& from = SourceA());
  // The one answer, decoded; fails the test when there is none.
  protocol::DecodeResult Send(const protocol::Packet& request,
                              const Sender& from = SourceA(),
                              const protocol::Ed25519Key* signer = nullptr);

  Node& node() { return *node_; }
  const std::filesystem::path& dir() const { return dir_; }
  NodeConfig& config() { return config_; }

 private:
  World& world_;
  NodeConfig config_;
  protocol::NodeId id_;
  Env* env_;
  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

// Packet builders.
protocol::DeviceId Device(uint8_t n);
protocol::ResourceEntry Entry(uint16_t resource, uint32_t price,
                              uint64_t from = kStart - 60,
                              uint64_t until = kStart + 3600, uint8_t unit = 1,
                              uint32_t quantity = 8);
protocol::Packet Register(uint32_t txid, const protocol::DeviceId& device,
                          std::vector<protocol::ResourceEntry> entries,
                          wire::CheckType check = wire::CheckType::kCrc32,
                          uint16_t currency = 156);
protocol::Packet Withdraw(uint32_t txid, const protocol::DeviceId& device,
                          std::vector<uint16_t> resources,
                          wire::CheckType check = wire::CheckType::kCrc32);
protocol::Packet Query(uint32_t txid, std::vector<protocol::QueryEntry> entries,
                       wire::CheckType check = wire::CheckType::kCrc32);
protocol::Packet Ping(uint32_t txid,
                      wire::CheckType check = wire::CheckType::kCrc32);
protocol::QueryEntry Want(uint16_t resource,
                          uint32_t max_price = wire::kAnyPrice,
                          uint8_t unit = wire::kAnyBillingUnit,
                          uint32_t min_quantity = 0);

std::vector<std::byte> Bytes(const protocol::Packet& packet,
                             const protocol::Ed25519Key* signer = nullptr);
protocol::Ed25519Key KeyFromByte(uint8_t b);

const protocol::EntryResults& Results(const protocol::DecodeResult& answer);
const protocol::QueryAnswer& Offers(const protocol::DecodeResult& answer);

}  // namespace crsp::node::testing

#endif  // CRSP_TESTS_NODE_NODE_HARNESS_H_
