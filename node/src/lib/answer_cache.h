// Answers to recent signed register and withdraw requests, by (device id,
// transaction id), so that a resend (same txid, same bytes) gets the same
// answer (PROTOCOL.md "Ownership"), also while the first is still waiting
// for the DHT. Bounded: the oldest entries are forgotten first. Not
// thread-safe: the node calls it under its lock.
#ifndef CRSP_NODE_ANSWER_CACHE_H_
#define CRSP_NODE_ANSWER_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "crsp/node/node.h"
#include "crsp/protocol/packets.h"

namespace crsp::node {

struct CachedAnswer {
  std::vector<std::byte> request;
  // Empty while the request is still pending; then `waiters` collects the
  // replies of resends that arrive meanwhile.
  std::vector<std::byte> answer;
  std::vector<ReplyFn> waiters;
};

class AnswerCache {
 public:
  explicit AnswerCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<CachedAnswer> Find(const protocol::DeviceId& device,
                                     uint32_t txid) const;
  // Starts a pending entry for a request (replacing any older one).
  std::shared_ptr<CachedAnswer> Start(const protocol::DeviceId& device,
                                      uint32_t txid,
                                      std::span<const std::byte> request);
  size_t size() const { return entries_.size(); }

 private:
  using Key = std::pair<protocol::DeviceId, uint32_t>;
  size_t capacity_;
  std::map<Key, std::shared_ptr<CachedAnswer>> entries_;
  std::deque<Key> order_;  // insertion order, for eviction
};

}  // namespace crsp::node

#endif  // CRSP_NODE_ANSWER_CACHE_H_
