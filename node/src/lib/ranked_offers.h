// The not-withdrawn offers of one resource id, in answer order (price,
// valid from, device bytes), with the fields a query filters on copied in:
// a query walks them from the front, nearly contiguously, and stops early.
// Stored as a list of sorted blocks of at most kMaxBlock entries, so an
// insert or erase moves at most one block (a flat array would move half of
// 100,000 entries on every insert) while a walk stays a few cache misses per
// block. Each block also keeps a summary of its entries (price, quantity
// and validity bounds, and whether it holds one unit and one currency), so
// that counting the matches of a broad query takes whole blocks at once
// instead of visiting every entry. Not thread-safe.
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

// Exact bounds over the entries of one block (never an empty one): a
// filter that accepts these bounds accepts every entry of the block.
struct BlockSummary {
  uint32_t max_price = 0;
  uint32_t min_quantity = UINT32_MAX;
  uint64_t max_valid_from = 0;
  uint64_t min_valid_until = UINT64_MAX;
  uint16_t currency = 0;  // the block's one currency, if one_currency
  uint8_t unit = 0;       // the block's one unit, if one_unit
  bool one_currency = true;
  bool one_unit = true;

  // REQUIRES: unit and currency set from the block's first entry.
  void Add(const RankedOffer& offer);
};

class RankedOffers {
  struct Block {
    std::vector<RankedOffer> entries;  // sorted, never empty
    BlockSummary summary;
    void Summarize();
  };

 public:
  static constexpr size_t kMaxBlock = 512;

  class Iterator {
   public:
    const RankedOffer& operator*() const {
      return (*blocks_)[block_].entries[at_];
    }
    const RankedOffer* operator->() const { return &**this; }
    Iterator& operator++() {
      if (++at_ == (*blocks_)[block_].entries.size()) {
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
    Iterator(const std::vector<Block>* blocks, size_t block)
        : blocks_(blocks), block_(block) {}
    const std::vector<Block>* blocks_;
    size_t block_;
    size_t at_ = 0;
  };

  void Insert(const RankedOffer& offer);
  // Removes the entry equal in order to `offer` if it points to the same
  // IndexedOffer; false when there is none.
  bool Erase(const RankedOffer& offer);
  // Removes every entry `drop` selects; returns how many.
  size_t EraseIf(const std::function<bool(const RankedOffer&)>& drop);

  // Counts the entries from `from` on that match(entry) accepts, stopping
  // at the first one past(entry) says is beyond every match. A block whose
  // summary covers(summary) accepts is counted unvisited, whole or (the
  // block `from` is in) from `from` on: covers must only accept summaries
  // of blocks whose every entry matches and none is past.
  template <typename Covers, typename Past, typename Match>
  size_t Count(Iterator from, Covers&& covers, Past&& past,
               Match&& match) const {
    size_t n = 0;
    for (size_t b = from.block_, at = from.at_; b < blocks_.size();
         ++b, at = 0) {
      const Block& block = blocks_[b];
      if (covers(block.summary)) {
        n += block.entries.size() - at;
        continue;
      }
      for (; at < block.entries.size(); ++at) {
        const RankedOffer& entry = block.entries[at];
        if (past(entry)) return n;
        n += match(entry) ? 1 : 0;
      }
    }
    return n;
  }

  Iterator begin() const { return Iterator(&blocks_, 0); }
  Iterator end() const { return Iterator(&blocks_, blocks_.size()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  // The block where `offer` belongs: the first whose last entry is not
  // before it (else the last block).
  size_t BlockOf(const RankedOffer& offer) const;

  std::vector<Block> blocks_;
  size_t size_ = 0;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_RANKED_OFFERS_H_
