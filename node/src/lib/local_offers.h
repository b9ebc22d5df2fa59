// The records this node accepted itself (the journal's live content): what
// it re-publishes, what its quotas count, and whether the DHT confirmed
// each one. Not thread-safe: the node calls it under its lock.
#ifndef CRSP_NODE_LOCAL_OFFERS_H_
#define CRSP_NODE_LOCAL_OFFERS_H_

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "crsp/protocol/packets.h"
#include "journal.h"

namespace crsp::node {

class LocalOffers {
 public:
  // Makes `entry` the current version of its (device, resource).
  void Put(const JournalEntry& entry);
  const JournalEntry* Find(const protocol::DeviceId& device,
                           uint16_t resource) const;

  // Live (not withdrawn, not expired) offers, for ping.
  uint32_t live() const { return live_; }
  // Entries held until their valid_until, tombstones included: what the
  // quotas count. A withdrawn offer's tombstone is stored, journalled and
  // announced as long as the offer would have been, so it keeps its slot
  // (else register, withdraw, repeat would grow the node without bound).
  uint32_t held() const { return static_cast<uint32_t>(entries_.size()); }
  uint32_t HeldFromPrefix(const protocol::Ipv6Address& prefix) const;
  uint32_t HeldOfDevice(const protocol::DeviceId& device) const;

  // Drops every entry past valid_until; returns how many.
  size_t Expire(uint64_t now);
  // Every current entry, tombstones included (for compaction and
  // re-publication).
  std::vector<JournalEntry> All() const;
  size_t size() const { return entries_.size(); }

  // DHT confirmation of the current version; unconfirmed ones are retried.
  void SetConfirmed(const dht::OfferRecord& record, bool confirmed);
  std::vector<dht::OfferRecord> Unconfirmed() const;

 private:
  using Key = std::pair<protocol::DeviceId, uint16_t>;
  void Count(const JournalEntry& entry, int delta);

  std::map<Key, JournalEntry> entries_;
  // Keys of entries whose current version the DHT has not confirmed: few,
  // and apart, so that a confirmed entry costs no flag (padded to 8 bytes).
  std::set<Key> unconfirmed_;
  // No entry expires before this (a lower bound), so that Expire, called
  // every tick, walks the entries only when something is due.
  uint64_t next_expiry_ = UINT64_MAX;
  std::map<protocol::Ipv6Address, uint32_t> by_prefix_;
  std::map<protocol::DeviceId, uint32_t> by_device_;
  uint32_t live_ = 0;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_LOCAL_OFFERS_H_
