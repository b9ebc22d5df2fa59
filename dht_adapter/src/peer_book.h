// PeerBook: the addresses that spoke OpenDHT's protocol to this node
// lately, which is what OpenDhtDht::IsPeer answers from. Every DHT packet
// received is Heard (PeerSocket); node-to-node messages are taken only from
// addresses the book Knows (docs/scaling.md "Security").
//
// Why not the routing table: Kademlia keeps at most 8 nodes per bucket, so
// a node's table lists a few dozen of a large network's nodes, and already
// in a 20-node cluster 2-3 live peers that query and push to it are left
// out (seen: an aggregator answered three nodes' forwarded queries
// MALFORMED for minutes, and those nodes served the id INCOMPLETE).
//
// Two generations: an address heard in the current or the previous one is
// known, so an address is known for `generation` to 2 x `generation` after
// its last packet. Each generation holds at most `capacity` addresses; past
// that, new ones wait for the next rotation (a flood of packets from made-up
// sources cannot grow memory, and the previous generation keeps the peers
// heard before it). Thread-safe.
#ifndef CRSP_DHT_ADAPTER_SRC_PEER_BOOK_H_
#define CRSP_DHT_ADAPTER_SRC_PEER_BOOK_H_

#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>

#include "crsp/protocol/packets.h"

namespace crsp::dht::internal {

class PeerBook {
 public:
  using Clock = std::chrono::steady_clock;

  PeerBook(size_t capacity, Clock::duration generation)
      : capacity_(capacity), generation_(generation) {}

  void Heard(const protocol::Ipv6Address& address, Clock::time_point now);
  bool Knows(const protocol::Ipv6Address& address, Clock::time_point now);
  // Forgets every address (the DHT was shut down).
  void Clear();

 private:
  void RotateLocked(Clock::time_point now);

  const size_t capacity_;
  const Clock::duration generation_;
  std::mutex mu_;
  Clock::time_point rotated_{};
  std::set<protocol::Ipv6Address> current_, previous_;
};

}  // namespace crsp::dht::internal

#endif  // CRSP_DHT_ADAPTER_SRC_PEER_BOOK_H_
