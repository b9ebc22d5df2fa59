#include "ranked_offers.h"

#include <algorithm>
#include <iterator>

#include "offer_index.h"

namespace crsp::node {

const protocol::DeviceId& RankedOffer::device() const {
  return indexed->record.offer.device;
}

bool RankedBefore(const RankedOffer& a, const RankedOffer& b) {
  if (a.price != b.price) return a.price < b.price;
  if (a.valid_from != b.valid_from) return a.valid_from < b.valid_from;
  return a.device() < b.device();
}

size_t RankedOffers::BlockOf(const RankedOffer& offer) const {
  // REQUIRES: !blocks_.empty().
  auto it = std::partition_point(blocks_.begin(), blocks_.end(),
                                 [&](const std::vector<RankedOffer>& b) {
                                   return RankedBefore(b.back(), offer);
                                 });
  if (it == blocks_.end()) return blocks_.size() - 1;
  return static_cast<size_t>(it - blocks_.begin());
}

void RankedOffers::Insert(const RankedOffer& offer) {
  if (blocks_.empty()) {
    blocks_.push_back({offer});
    size_ = 1;
    return;
  }
  const size_t b = BlockOf(offer);
  std::vector<RankedOffer>& block = blocks_[b];
  block.insert(
      std::upper_bound(block.begin(), block.end(), offer, RankedBefore), offer);
  ++size_;
  if (block.size() > kMaxBlock) {
    // Split in halves: the next inserts here move half as much.
    std::vector<RankedOffer> upper(block.begin() + kMaxBlock / 2, block.end());
    block.resize(kMaxBlock / 2);
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b) + 1,
                   std::move(upper));
  }
}

bool RankedOffers::Erase(const RankedOffer& offer) {
  if (blocks_.empty()) return false;
  const size_t b = BlockOf(offer);
  std::vector<RankedOffer>& block = blocks_[b];
  auto at = std::lower_bound(block.begin(), block.end(), offer, RankedBefore);
  if (at == block.end() || at->indexed != offer.indexed) return false;
  block.erase(at);
  --size_;
  if (block.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(b));
  }
  return true;
}

size_t RankedOffers::EraseIf(
    const std::function<bool(const RankedOffer&)>& drop) {
  size_t dropped = 0;
  for (std::vector<RankedOffer>& block : blocks_) {
    dropped += std::erase_if(block, drop);
  }
  if (dropped == 0) return 0;
  // Re-cut into full half blocks, so mass expiry leaves no crumbs.
  std::vector<RankedOffer> all;
  all.reserve(size_ - dropped);
  for (const std::vector<RankedOffer>& block : blocks_) {
    all.insert(all.end(), block.begin(), block.end());
  }
  blocks_.clear();
  for (size_t i = 0; i < all.size(); i += kMaxBlock / 2) {
    const size_t end = std::min(all.size(), i + kMaxBlock / 2);
    blocks_.emplace_back(all.begin() + static_cast<ptrdiff_t>(i),
                         all.begin() + static_cast<ptrdiff_t>(end));
  }
  size_ -= dropped;
  return dropped;
}

}  // namespace crsp::node
