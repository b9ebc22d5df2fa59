#include "answer_cache.h"

namespace crsp::node {

std::shared_ptr<CachedAnswer> AnswerCache::Find(
    const protocol::DeviceId& device, uint32_t txid) const {
  auto it = entries_.find({device, txid});
  return it == entries_.end() ? nullptr : it->second;
}

std::shared_ptr<CachedAnswer> AnswerCache::Start(
    const protocol::DeviceId& device, uint32_t txid,
    std::span<const std::byte> request) {
  const Key key{device, txid};
  auto entry = std::make_shared<CachedAnswer>();
  entry->request.assign(request.begin(), request.end());
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second = entry;
    return entry;
  }
  entries_.emplace(key, entry);
  order_.push_back(key);
  while (entries_.size() > capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  return entry;
}

}  // namespace crsp::node
