// Talking to the platform: encodes a request once, picks the nearest of the
// configured nodes (parallel pings, lowest round-trip time) and fails over
// to the next when one does not answer. Resends (same bytes, same
// transaction id) follow the RetryPolicy. Sockets stay in UdpClient.
#ifndef CRSP_CLI_NODE_CLIENT_H_
#define CRSP_CLI_NODE_CLIENT_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "address.h"
#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"
#include "udp_client.h"

namespace crsp::cli {

struct NodeAnswer {
  protocol::Packet packet;  // header.status carries the node's status
  Endpoint node;
  std::chrono::microseconds rtt{0};
};

struct PingResult {
  Endpoint node;
  std::optional<protocol::PingAnswer> answer;  // empty: no answer
  std::chrono::microseconds rtt{0};
};

class NodeClient {
 public:
  // REQUIRES: `nodes` not empty.
  NodeClient(std::vector<Endpoint> nodes, RetryPolicy policy);

  // Sends `request` (its header's txid and check type as given; version,
  // lengths and count are computed) to the nearest node, failing over in
  // RTT order. `signer` is required for check type 7. Empty when no node
  // answered (or encoding failed: `encode_failed` tells).
  std::optional<NodeAnswer> Send(const protocol::Packet& request,
                                 const protocol::Ed25519Key* signer,
                                 bool* encode_failed = nullptr);

  // Pings every node in parallel with check type `check` and waits for all
  // (each gets the whole retry schedule).
  std::vector<PingResult> PingAll(wire::CheckType check);

  // The node order Send uses, nearest first (after the first Send).
  const std::vector<Endpoint>& order() const { return nodes_; }

 private:
  // With several nodes: pings them, nearest first, non-answering last.
  void SelectNearest();

  std::vector<Endpoint> nodes_;
  RetryPolicy policy_;
  bool selected_ = false;
};

// A random transaction id for unsigned requests (GnuTLS's nonce RNG).
uint32_t RandomTxid();

}  // namespace crsp::cli

#endif  // CRSP_CLI_NODE_CLIENT_H_
