// Answer byte budgets per source prefix (PROTOCOL.md "Abuse"): one token
// bucket per /64 (IPv4 /24), refilled at `bytes_per_sec` up to `burst`.
// Memory is bounded: idle buckets (full again) are evicted by Evict(), and
// at `max_sources` a new source evicts the least recently seen bucket.
// Not thread-safe: the node calls it under its lock.
#ifndef CRSP_NODE_RATE_LIMITER_H_
#define CRSP_NODE_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <map>

#include "crsp/protocol/packets.h"

namespace crsp::node {

class RateLimiter {
 public:
  RateLimiter(uint32_t bytes_per_sec, uint32_t burst, size_t max_sources);

  // Takes `bytes` from the bucket of `prefix` if it holds that many; false
  // (and nothing taken) otherwise. `now` in seconds.
  bool TryConsume(const protocol::Ipv6Address& prefix, uint64_t bytes,
                  uint64_t now);
  // True when the bucket of `prefix` is not empty.
  bool HasBudget(const protocol::Ipv6Address& prefix, uint64_t now);
  // Drops buckets that have refilled completely: they equal a fresh one.
  void Evict(uint64_t now);

  size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    uint64_t tokens = 0;
    uint64_t updated = 0;  // seconds
  };
  Bucket& Refilled(const protocol::Ipv6Address& prefix, uint64_t now);

  uint64_t rate_;
  uint64_t burst_;
  size_t max_sources_;
  std::map<protocol::Ipv6Address, Bucket> buckets_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_RATE_LIMITER_H_
