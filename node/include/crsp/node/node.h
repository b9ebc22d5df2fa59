// One platform replica: the DHT, the offer journal, the warm index and the
// request handler, wired together. The daemon (node/src/main.cc) builds a
// Node from a NodeConfig, feeds it datagrams from its UDP socket and sends
// what it answers; tests do the same with an in-memory DHT.
#ifndef CRSP_NODE_NODE_H_
#define CRSP_NODE_NODE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "crsp/dht_adapter/dht.h"
#include "crsp/node/config.h"
#include "crsp/node/env.h"
#include "crsp/node/metrics.h"
#include "crsp/protocol/packets.h"

namespace crsp::node {

// Where a datagram came from. IPv4 sources are IPv4-mapped IPv6 addresses.
struct Sender {
  protocol::Ipv6Address address{};
  uint16_t port = 0;
};

// Called at most once per datagram with the answer's bytes, possibly later
// and from a DHT thread (a register is answered once the DHT confirmed it).
using ReplyFn = std::function<void(std::vector<std::byte> answer)>;

// Sends a datagram from the node's edge socket to `to` (forwarded queries,
// docs/scaling.md).
using SendFn =
    std::function<void(const Sender& to, std::vector<std::byte> datagram)>;
// Seconds since the Unix epoch; injected so tests can move time.
using Clock = std::function<uint64_t()>;

// What the node is built from besides its config: the DHT (OpenDHT in the
// daemon, InMemoryDht in tests), the clock, and the file system of its
// state directory.
struct NodeContext {
  std::unique_ptr<dht::Dht> dht;
  Clock clock;                           // empty: the system clock
  std::shared_ptr<NodeMetrics> metrics;  // empty: nothing counted
  Env* env = nullptr;  // not owned, outlives the node; null: Env::Default()
  // How the node reaches other nodes' edge ports, and its own edge port
  // (advertised to them). Empty / 0: it never forwards nor advertises,
  // and answers ids it does not aggregate by reading the DHT directly.
  SendFn send_to;
  uint16_t edge_port = 0;
};

class Node {
 public:
  // Opens (or creates) the state directory: the node's Ed25519 key and its
  // offer journal, whose offers still valid are re-published. Throws
  // std::runtime_error on a state directory it cannot use.
  static std::unique_ptr<Node> Create(const NodeConfig& config,
                                      NodeContext context);
  virtual ~Node() = default;

  // Handles one datagram (PROTOCOL.md): replies through `reply`, or never
  // for datagrams that get no answer. Thread-safe.
  virtual void HandleDatagram(std::span<const std::byte> datagram,
                              const Sender& from, ReplyFn reply) = 0;

  // Periodic work (expiry of the index and journal, re-publication); the
  // daemon calls it about once a second.
  virtual void Tick() = 0;

  // Stops accepting work, waits for pending DHT calls up to `timeout`, and
  // closes the journal.
  virtual void Shutdown(std::chrono::milliseconds timeout) = 0;

  virtual protocol::PublicKey public_key() const = 0;
  virtual size_t offer_count() const = 0;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_NODE_H_
