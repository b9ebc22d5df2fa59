// The not-withdrawn offers of one resource id, in answer order (price,
// valid from, device bytes), with the fields a query filters on copied in:
// a query walks them from the front, nearly contiguously, and stops early.
// Stored as a list of sorted blocks of at most kMaxBlock entries, so an
// insert or erase moves at most one block (a flat array would move half of
// 100,000 entries on every insert) while a walk stays a few cache misses per
// block. Not thread-safe.
#ifndef CRSP_NODE_RANKED_OFFERS_H_
#define CRSP_NODE_RANKED_OFFERS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "crsp/protocol/packets.h"

namespace crsp::node {

struct IndexedOffer;

// One offer in answer order. The filtered fields are copies (same names as
// protocol::Offer's); `indexed` gives the device (to break ties) and the
// offer to answer with, and must outlive the entry. Expired offers stay
// until removed: a reader checks valid_until.
struct RankedOffer {
  uint32_t price;
  uint32_t quantity;
  uint64_t valid_from;
  uint64_t valid_until;
  uint16_t currency;
  uint8_t unit;
  const IndexedOffer* indexed;
  const protocol::DeviceId& device() const;
};

// Answer order within one resource id. Devices are unique per resource id,
// so the order is total.
bool RankedBefore(const RankedOffer& a, const RankedOffer& b);

class RankedOffers {
 public:
  static constexpr size_t kMaxBlock = 512;

  class Iterator {
   public:
    const RankedOffer& operator*() const { return (*blocks_)[block_][at_]; }
    const RankedOffer* operator->() const { return &**this; }
    Iterator& operator++() {
      if (++at_ == (*blocks_)[block_].size()) {
        ++block_;
        at_ = 0;
      }
      return *this;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.block_ == b.block_ && a.at_ == b.at_;
    }

   private:
    friend class RankedOffers;
    Iterator(const std::vector<std::vector<RankedOffer>>* blocks, size_t block)
        : blocks_(blocks), block_(block) {}
    const std::vector<std::vector<RankedOffer>>* blocks_;
    size_t block_;
    size_t at_ = 0;
  };

  void Insert(const RankedOffer& offer);
  // Removes the entry equal in order to `offer` if it points to the same
  // IndexedOffer; false when there is none.
  bool Erase(const RankedOffer& offer);
  // Removes every entry `drop` selects; returns how many.
  size_t EraseIf(const std::function<bool(const RankedOffer&)>& drop);

  // Calls f(const RankedOffer&) from `from` on, block by block (a tighter
  // loop than the iterator's), until f returns false.
  template <typename F>
  void Walk(Iterator from, F&& f) const {
    for (size_t b = from.block_, at = from.at_; b < blocks_.size();
         ++b, at = 0) {
      const std::vector<RankedOffer>& block = blocks_[b];
      for (; at < block.size(); ++at) {
        if (!f(block[at])) return;
      }
    }
  }

  Iterator begin() const { return Iterator(&blocks_, 0); }
  Iterator end() const { return Iterator(&blocks_, blocks_.size()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  // The block where `offer` belongs: the first whose last entry is not
  // before it (else the last block).
  size_t BlockOf(const RankedOffer& offer) const;

  std::vector<std::vector<RankedOffer>> blocks_;  // never an empty block
  size_t size_ = 0;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_RANKED_OFFERS_H_
