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

void BlockSummary::Add(const RankedOffer& offer) {
  max_price = std::max(max_price, offer.price);
  min_quantity = std::min(min_quantity, offer.quantity);
  max_valid_from = std::max(max_valid_from, offer.valid_from);
  min_valid_until = std::min(min_valid_until, offer.valid_until);
  one_unit = one_unit && offer.unit == unit;
  one_currency = one_currency && offer.currency == currency;
}

void RankedOffers::Block::Summarize() {
  summary = BlockSummary{};
  summary.unit = entries.front().unit;
  summary.currency = entries.front().currency;
  for (const RankedOffer& entry : entries) summary.Add(entry);
}

size_t RankedOffers::BlockOf(const RankedOffer& offer) const {
  // REQUIRES: !blocks_.empty().
  auto it = std::partition_point(
      blocks_.begin(), blocks_.end(),
      [&](const Block& b) { return RankedBefore(b.entries.back(), offer); });
  if (it == blocks_.end()) return blocks_.size() - 1;
  return static_cast<size_t>(it - blocks_.begin());
}

void RankedOffers::Insert(const RankedOffer& offer) {
  if (blocks_.empty()) {
    blocks_.push_back({{offer}, {}});
    blocks_.back().Summarize();
    size_ = 1;
    return;
  }
  size_t b = BlockOf(offer);
  if (blocks_[b].entries.size() == kMaxBlock) {
    // Split a full block in halves first: the next inserts here move half
    // as much, and neither half ever grows past kMaxBlock (a vector that
    // did would double its capacity to twice what it holds).
    Block& full = blocks_[b];
    Block upper;
    upper.entries.reserve(kMaxBlock);
    upper.entries.assign(full.entries.begin() + kMaxBlock / 2,
                         full.entries.end());
    full.entries.resize(kMaxBlock / 2);
    full.Summarize();
    upper.Summarize();
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b) + 1,
                   std::move(upper));
    b = BlockOf(offer);
  }
  Block& block = blocks_[b];
  block.entries.insert(
      std::upper_bound(block.entries.begin(), block.entries.end(), offer,
                       RankedBefore),
      offer);
  block.summary.Add(offer);
  ++size_;
}

bool RankedOffers::Erase(const RankedOffer& offer) {
  if (blocks_.empty()) return false;
  const size_t b = BlockOf(offer);
  Block& block = blocks_[b];
  auto at = std::lower_bound(block.entries.begin(), block.entries.end(), offer,
                             RankedBefore);
  if (at == block.entries.end() || at->indexed != offer.indexed) return false;
  block.entries.erase(at);
  --size_;
  if (block.entries.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(b));
  } else {
    block.Summarize();  // bounds cannot be narrowed incrementally
  }
  return true;
}

size_t RankedOffers::EraseIf(
    const std::function<bool(const RankedOffer&)>& drop) {
  size_t dropped = 0;
  for (Block& block : blocks_) dropped += std::erase_if(block.entries, drop);
  if (dropped == 0) return 0;
  // Re-cut into full half blocks, so mass expiry leaves no crumbs.
  std::vector<RankedOffer> all;
  all.reserve(size_ - dropped);
  for (const Block& block : blocks_) {
    all.insert(all.end(), block.entries.begin(), block.entries.end());
  }
  blocks_.clear();
  for (size_t i = 0; i < all.size(); i += kMaxBlock / 2) {
    const size_t end = std::min(all.size(), i + kMaxBlock / 2);
    blocks_.push_back({{all.begin() + static_cast<ptrdiff_t>(i),
                        all.begin() + static_cast<ptrdiff_t>(end)},
                       {}});
    blocks_.back().Summarize();
  }
  size_ -= dropped;
  return dropped;
}

}  // namespace crsp::node
