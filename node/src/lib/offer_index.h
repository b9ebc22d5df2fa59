// The warm index: the newest known version of every offer, keyed by
// (resource, device), fed by this node's accepted records, its journal at
// start-up and the DHT (fetches and watches). Queries, ownership checks and
// withdraws read it; nothing here touches the DHT. Not thread-safe: the
// node calls it under its lock.
//
// Besides the versions by key, the index keeps per resource id its offers
// (tombstones excluded) already in answer order (RankedOffers): a query
// walks them from the front and stops early, instead of walking a tree and
// sorting every match.
//
// Which version wins (every node applies the same rule, docs/node.md):
//  - a record that is expired or fails dht::VerifyRecordSignature is
//    refused;
//  - against a version of the same owner (same signing key, or both
//    unsigned from the same owner address), the higher version wins;
//  - against another owner's version, the newcomer wins only when the
//    existing version is a tombstone or expired (the device was free), or
//    when the newcomer is signed and the existing version is not.
#ifndef CRSP_NODE_OFFER_INDEX_H_
#define CRSP_NODE_OFFER_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "crsp/dht_adapter/offer_record.h"
#include "crsp/protocol/packets.h"
#include "ranked_offers.h"

namespace crsp::node {

// Who owns an offer: a signing key, or (unsigned) a source address.
struct Owner {
  std::optional<protocol::PublicKey> key;
  protocol::Ipv6Address address{};  // meaningful only without a key

  friend bool operator==(const Owner& a, const Owner& b) {
    if (a.key.has_value() != b.key.has_value()) return false;
    return a.key ? *a.key == *b.key : a.address == b.address;
  }
};

// The owner a record names: the key in its signed request's trailer, or its
// owner address.
Owner OwnerOf(const dht::OfferRecord& record);

struct IndexedOffer {
  // offer.flags bit 0 is set here iff the record is signed (and verified:
  // unverified records are never indexed).
  dht::OfferRecord record;

  // Derived, not stored: a copy of a key is cheap, and 56 bytes more per
  // indexed offer are not (docs/node.md "Memory per offer").
  Owner owner() const { return OwnerOf(record); }
  bool live(uint64_t now) const {
    return !record.withdrawn && record.offer.valid_until > now;
  }
};

class OfferIndex {
 public:
  enum class Applied { kInserted, kReplaced, kStale, kRefused };

  Applied Apply(const dht::OfferRecord& record, uint64_t now);

  const IndexedOffer* Find(const protocol::DeviceId& device,
                           uint16_t resource) const;
  // Every unexpired version (tombstones included) of the device's offers,
  // by resource id.
  std::vector<const IndexedOffer*> OfDevice(const protocol::DeviceId& device,
                                            uint64_t now) const;
  // Calls f(const IndexedOffer&) for each live offer of `resource`.
  template <typename F>
  void ForEachLive(uint16_t resource, uint64_t now, F&& f) const {
    for (auto it = by_key_.lower_bound({resource, protocol::DeviceId{}});
         it != by_key_.end() && it->first.first == resource; ++it) {
      if (it->second.live(now)) f(it->second);
    }
  }

  // The not-withdrawn offers of `resource` in answer order (possibly
  // empty). Valid until the next Apply or Expire.
  const RankedOffers& Ranked(uint16_t resource) const;

  // Drops every version past its valid_until; returns how many.
  size_t Expire(uint64_t now);
  // Drops every version of `resource` (an aggregator giving the id up);
  // returns how many.
  size_t DropResource(uint16_t resource);
  size_t size() const { return by_key_.size(); }

 private:
  using Key = std::pair<uint16_t, protocol::DeviceId>;
  // Only for versions already out of ranked_ (Expire, DropResource).
  void Erase(std::map<Key, IndexedOffer>::iterator it);
  // Keep ranked_ in step with one entry of by_key_ (no-ops for tombstones).
  void Rank(const IndexedOffer& offer);
  void Unrank(const IndexedOffer& offer);

  std::map<Key, IndexedOffer> by_key_;  // nodes never move: ranked_ points in
  // Each device's resource ids, sorted: a device offers a few.
  std::map<protocol::DeviceId, std::vector<uint16_t>> by_device_;
  std::map<uint16_t, RankedOffers> ranked_;
  // No entry expires before this (a lower bound: an entry replaced or
  // erased may have set it), so that Expire, called every tick, walks the
  // index only when something is due.
  uint64_t next_expiry_ = UINT64_MAX;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_OFFER_INDEX_H_
