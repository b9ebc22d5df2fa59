// RankedOffers: stays in answer order through inserts, erases and mass
// expiry across many blocks.
#include "ranked_offers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <random>
#include <vector>

#include "node_harness.h"
#include "offer_index.h"

namespace crsp::node::testing {
namespace {

// Owns the IndexedOffers the entries point to.
struct Pool {
  std::list<IndexedOffer> offers;
  RankedOffer Make(uint32_t device, uint32_t price, uint64_t from,
                   uint64_t until) {
    IndexedOffer& o = offers.emplace_back();
    for (int i = 0; i < 4; ++i) {
      o.record.offer.device[i] = static_cast<uint8_t>(device >> (8 * i));
    }
    return RankedOffer{price, 1, from, until, 0, 1, &o};
  }
};

std::vector<const IndexedOffer*> Walk(const RankedOffers& ranked) {
  std::vector<const IndexedOffer*> out;
  for (const RankedOffer& r : ranked) out.push_back(r.indexed);
  return out;
}

std::vector<const IndexedOffer*> Sorted(std::vector<RankedOffer> entries) {
  std::sort(entries.begin(), entries.end(), RankedBefore);
  std::vector<const IndexedOffer*> out;
  for (const RankedOffer& r : entries) out.push_back(r.indexed);
  return out;
}

TEST(RankedOffers, KeepsAnswerOrderThroughInsertsErasesAndExpiry) {
  std::mt19937 rng(7);
  Pool pool;
  RankedOffers ranked;
  std::vector<RankedOffer> reference;
  // Few prices and start times: most order decisions fall to the device.
  for (uint32_t d = 0; d < 5000; ++d) {
    const RankedOffer r =
        pool.Make(d, 100 + rng() % 50, kStart - rng() % 4, kStart + rng() % 9);
    ranked.Insert(r);
    reference.push_back(r);
  }
  ASSERT_EQ(ranked.size(), reference.size());
  EXPECT_EQ(Walk(ranked), Sorted(reference));

  std::shuffle(reference.begin(), reference.end(), rng);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(ranked.Erase(reference.back()));
    EXPECT_FALSE(ranked.Erase(reference.back()));  // gone
    reference.pop_back();
  }
  EXPECT_EQ(Walk(ranked), Sorted(reference));

  const auto expired = [](const RankedOffer& r) {
    return r.valid_until <= kStart + 4;
  };
  const size_t before = reference.size();
  std::erase_if(reference, expired);
  EXPECT_EQ(ranked.EraseIf(expired), before - reference.size());
  EXPECT_EQ(ranked.size(), reference.size());
  EXPECT_EQ(Walk(ranked), Sorted(reference));
  // Still consistent for later inserts.
  for (uint32_t d = 9000; d < 9600; ++d) {
    const RankedOffer r = pool.Make(d, 100 + rng() % 50, kStart, kStart + 50);
    ranked.Insert(r);
    reference.push_back(r);
  }
  EXPECT_EQ(Walk(ranked), Sorted(reference));
}

TEST(RankedOffers, RefusesToEraseAnEntryOfAnotherOffer) {
  Pool pool;
  RankedOffers ranked;
  const RankedOffer a = pool.Make(1, 10, kStart, kStart + 5);
  RankedOffer impostor = a;
  impostor.indexed = &pool.offers.emplace_back(*a.indexed);
  ranked.Insert(a);
  EXPECT_FALSE(ranked.Erase(impostor));
  EXPECT_TRUE(ranked.Erase(a));
  EXPECT_TRUE(ranked.empty());
  EXPECT_TRUE(ranked.begin() == ranked.end());
}

}  // namespace
}  // namespace crsp::node::testing
