#include "local_values.h"

#include <cstring>

namespace crsp::dht::internal {

LocalValues::Slot LocalValues::SlotOf(const ::dht::InfoHash& key, uint64_t id) {
  Slot slot{0, id};
  std::memcpy(&slot.key, key.data(), sizeof slot.key);
  return slot;
}

void LocalValues::Remember(const ::dht::InfoHash& key,
                           const std::shared_ptr<::dht::Value>& value) {
  if (!value) return;
  const Slot slot = SlotOf(key, value->id);
  std::lock_guard lock(mu_);
  auto it = values_.find(slot);
  if (it != values_.end()) {
    it->second = value;  // an edit, or a value stored again after it expired
    return;
  }
  // One prune when the bound is reached, not one per value after it: a
  // store that holds kMaxValues live values waits for the periodic Prune.
  if (values_.size() >= kMaxValues && !full_) {
    PruneLocked();
    full_ = values_.size() >= kMaxValues;
  }
  if (values_.size() < kMaxValues) values_.emplace(slot, value);
}

std::shared_ptr<::dht::Value> LocalValues::Find(const ::dht::InfoHash& key,
                                                uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(SlotOf(key, id));
  return it == values_.end() ? nullptr : it->second.lock();
}

void LocalValues::Prune() {
  std::lock_guard lock(mu_);
  PruneLocked();
  full_ = false;
}

void LocalValues::PruneLocked() {
  for (auto it = values_.begin(); it != values_.end();) {
    it = it->second.expired() ? values_.erase(it) : std::next(it);
  }
}

size_t LocalValues::size() const {
  std::lock_guard lock(mu_);
  return values_.size();
}

}  // namespace crsp::dht::internal
