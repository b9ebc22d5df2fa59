#include "offer_index.h"

#include <algorithm>
#include <cstring>

#include "crsp/dht_adapter/version_order.h"
#include "crsp/protocol/wire.h"

namespace crsp::node {
namespace {

RankedOffer RankOf(const IndexedOffer& indexed) {
  const protocol::Offer& o = indexed.record.offer;
  return RankedOffer{o.price,    o.quantity, o.valid_from, o.valid_until,
                     o.currency, o.unit,     &indexed};
}

}  // namespace

Owner OwnerOf(const dht::OfferRecord& record) {
  Owner owner;
  owner.key = dht::RecordSigner(record);
  if (!owner.key) owner.address = record.owner_address;
  return owner;
}

OfferIndex::Applied OfferIndex::Apply(const dht::OfferRecord& record,
                                      uint64_t now) {
  if (record.offer.valid_until <= now || !dht::VerifyRecordSignature(record)) {
    return Applied::kRefused;
  }
  IndexedOffer incoming{record};
  const Owner incoming_owner = OwnerOf(record);
  // The flag is never trusted from a record: set it from what verified.
  incoming.record.offer.flags =
      incoming_owner.key ? wire::kOfferFlagSigned : uint8_t{0};

  const Key key{record.offer.resource, record.offer.device};
  next_expiry_ = std::min(next_expiry_, record.offer.valid_until);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    it = by_key_.emplace(key, std::move(incoming)).first;
    std::vector<uint16_t>& ids = by_device_[key.second];
    ids.insert(std::lower_bound(ids.begin(), ids.end(), key.first), key.first);
    Rank(it->second);
    return Applied::kInserted;
  }
  if (!dht::Supersedes(it->second.record, record, now)) {
    return Applied::kStale;
  }
  Unrank(it->second);
  it->second = std::move(incoming);
  Rank(it->second);
  return Applied::kReplaced;
}

const IndexedOffer* OfferIndex::Find(const protocol::DeviceId& device,
                                     uint16_t resource) const {
  auto it = by_key_.find({resource, device});
  return it == by_key_.end() ? nullptr : &it->second;
}

std::vector<const IndexedOffer*> OfferIndex::OfDevice(
    const protocol::DeviceId& device, uint64_t now) const {
  std::vector<const IndexedOffer*> out;
  auto dev = by_device_.find(device);
  if (dev == by_device_.end()) return out;
  for (uint16_t resource : dev->second) {
    const IndexedOffer* offer = Find(device, resource);
    if (offer && offer->record.offer.valid_until > now) out.push_back(offer);
  }
  return out;
}

const RankedOffers& OfferIndex::Ranked(uint16_t resource) const {
  static const RankedOffers kNone;
  auto it = ranked_.find(resource);
  return it == ranked_.end() ? kNone : it->second;
}

void OfferIndex::Rank(const IndexedOffer& offer) {
  if (offer.record.withdrawn) return;
  ranked_[offer.record.offer.resource].Insert(RankOf(offer));
}

void OfferIndex::Unrank(const IndexedOffer& offer) {
  if (offer.record.withdrawn) return;
  auto list = ranked_.find(offer.record.offer.resource);
  if (list == ranked_.end()) return;
  list->second.Erase(RankOf(offer));
  if (list->second.empty()) ranked_.erase(list);
}

void OfferIndex::Erase(std::map<Key, IndexedOffer>::iterator it) {
  auto dev = by_device_.find(it->first.second);
  if (dev != by_device_.end()) {
    std::vector<uint16_t>& ids = dev->second;
    ids.erase(std::remove(ids.begin(), ids.end(), it->first.first), ids.end());
    if (ids.empty()) by_device_.erase(dev);
  }
  by_key_.erase(it);
}

size_t OfferIndex::Expire(uint64_t now) {
  if (now < next_expiry_) return 0;  // nothing is due: no walk
  // One pass per resource id (erasing one at a time would move a block
  // once per expired offer), before by_key_ frees what the entries point to.
  for (auto list = ranked_.begin(); list != ranked_.end();) {
    list->second.EraseIf(
        [now](const RankedOffer& r) { return r.valid_until <= now; });
    list = list->second.empty() ? ranked_.erase(list) : std::next(list);
  }
  size_t dropped = 0;
  next_expiry_ = UINT64_MAX;
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    auto next = std::next(it);
    const uint64_t until = it->second.record.offer.valid_until;
    if (until <= now) {
      Erase(it);
      ++dropped;
    } else {
      next_expiry_ = std::min(next_expiry_, until);
    }
    it = next;
  }
  return dropped;
}

size_t OfferIndex::DropResource(uint16_t resource) {
  ranked_.erase(resource);
  size_t dropped = 0;
  for (auto it = by_key_.lower_bound({resource, protocol::DeviceId{}});
       it != by_key_.end() && it->first.first == resource;) {
    auto next = std::next(it);
    Erase(it);
    ++dropped;
    it = next;
  }
  return dropped;
}

}  // namespace crsp::node
