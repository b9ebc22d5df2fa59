#include "local_offers.h"

#include <algorithm>

#include "source_prefix.h"

namespace crsp::node {
namespace {

template <typename Map, typename K>
void Adjust(Map& map, const K& key, int delta) {
  auto [it, inserted] = map.try_emplace(key, 0);
  it->second += delta;
  if (it->second == 0) map.erase(it);
}

}  // namespace

void LocalOffers::Count(const JournalEntry& entry, int delta) {
  Adjust(by_prefix_, SourcePrefix(entry.source), delta);
  Adjust(by_device_, entry.record.offer.device, delta);
  if (!entry.record.withdrawn) live_ += delta;
}

void LocalOffers::Put(const JournalEntry& entry) {
  const Key key{entry.record.offer.device, entry.record.offer.resource};
  next_expiry_ = std::min(next_expiry_, entry.record.offer.valid_until);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Count(it->second, -1);
    it->second = entry;
  } else {
    entries_.emplace(key, entry);
  }
  unconfirmed_.insert(key);
  Count(entry, +1);
}

const JournalEntry* LocalOffers::Find(const protocol::DeviceId& device,
                                      uint16_t resource) const {
  auto it = entries_.find({device, resource});
  return it == entries_.end() ? nullptr : &it->second;
}

uint32_t LocalOffers::HeldFromPrefix(
    const protocol::Ipv6Address& prefix) const {
  auto it = by_prefix_.find(prefix);
  return it == by_prefix_.end() ? 0 : it->second;
}

uint32_t LocalOffers::HeldOfDevice(const protocol::DeviceId& device) const {
  auto it = by_device_.find(device);
  return it == by_device_.end() ? 0 : it->second;
}

size_t LocalOffers::Expire(uint64_t now) {
  if (now < next_expiry_) return 0;  // nothing is due: no walk
  size_t dropped = 0;
  next_expiry_ = UINT64_MAX;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const uint64_t until = it->second.record.offer.valid_until;
    if (until <= now) {
      Count(it->second, -1);
      unconfirmed_.erase(it->first);
      it = entries_.erase(it);
      ++dropped;
    } else {
      next_expiry_ = std::min(next_expiry_, until);
      ++it;
    }
  }
  return dropped;
}

std::vector<JournalEntry> LocalOffers::All() const {
  std::vector<JournalEntry> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) out.push_back(entry);
  return out;
}

void LocalOffers::SetConfirmed(const dht::OfferRecord& record, bool confirmed) {
  const Key key{record.offer.device, record.offer.resource};
  auto it = entries_.find(key);
  // Only the current version: a late callback for an older one is moot.
  if (it == entries_.end() || it->second.record.version != record.version) {
    return;
  }
  if (confirmed) {
    unconfirmed_.erase(key);
  } else {
    unconfirmed_.insert(key);
  }
}

std::vector<dht::OfferRecord> LocalOffers::Unconfirmed() const {
  std::vector<dht::OfferRecord> out;
  out.reserve(unconfirmed_.size());
  for (const Key& key : unconfirmed_) {
    out.push_back(entries_.at(key).record);
  }
  return out;
}

}  // namespace crsp::node
