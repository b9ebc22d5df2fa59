// RunQuery over an OfferIndex: the merge of several resource ids' ranked
// arrays, paging across them, and agreement with a plain reference
// (collect every match, de-duplicate, sort) on random indexes that see
// inserts, replacements, withdrawals and expiry.
#include "query_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

dht::OfferRecord Record(uint8_t device, uint16_t resource, uint32_t price,
                        uint64_t version = 1, uint64_t from = kStart - 10,
                        uint64_t until = kStart + 3600) {
  dht::OfferRecord r;
  r.offer.device = Device(device);
  r.offer.resource = resource;
  r.offer.unit = 1;
  r.offer.quantity = 4;
  r.offer.currency = 156;
  r.offer.price = price;
  r.offer.valid_from = from;
  r.offer.valid_until = until;
  r.version = version;
  r.owner_address[0] = 1;
  return r;
}

protocol::QueryRequest Request(std::vector<protocol::QueryEntry> entries,
                               uint16_t max_results = 0, uint32_t cursor = 0) {
  protocol::QueryRequest q;
  q.entries = std::move(entries);
  q.max_results = max_results;
  q.cursor = cursor;
  return q;
}

using Id = std::pair<protocol::DeviceId, uint16_t>;
Id IdOf(const protocol::Offer& o) { return {o.device, o.resource}; }

// What the protocol asks for, computed the obvious way.
protocol::QueryAnswer Reference(const OfferIndex& index,
                                const std::vector<dht::OfferRecord>& known,
                                const protocol::QueryRequest& query,
                                uint64_t now, size_t per_answer) {
  std::set<Id> seen;
  std::vector<protocol::Offer> matches;
  for (const dht::OfferRecord& r : known) {
    const IndexedOffer* current = index.Find(r.offer.device, r.offer.resource);
    if (current == nullptr || !current->live(now) ||
        seen.count(IdOf(current->record.offer)) != 0) {
      continue;
    }
    for (const protocol::QueryEntry& entry : query.entries) {
      if (Matches(current->record.offer, entry, query, now)) {
        seen.insert(IdOf(current->record.offer));
        matches.push_back(current->record.offer);
        break;
      }
    }
  }
  std::sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) {
    return std::tie(a.price, a.valid_from, a.device, a.resource) <
           std::tie(b.price, b.valid_from, b.device, b.resource);
  });
  protocol::QueryAnswer answer;
  answer.total = static_cast<uint32_t>(matches.size());
  size_t limit = per_answer;
  if (query.max_results != 0) {
    limit = std::min<size_t>(limit, query.max_results);
  }
  const size_t start = std::min<size_t>(query.cursor, matches.size());
  const size_t end = std::min(matches.size(), start + limit);
  answer.offers.assign(matches.begin() + start, matches.begin() + end);
  answer.next_cursor = end < matches.size() ? static_cast<uint32_t>(end) : 0;
  return answer;
}

std::vector<Id> Ids(const protocol::QueryAnswer& answer) {
  std::vector<Id> ids;
  for (const protocol::Offer& o : answer.offers) ids.push_back(IdOf(o));
  return ids;
}

TEST(QueryEngine, MergesSeveralResourceIdsInAnswerOrderAcrossPages) {
  OfferIndex index;
  // Interleaved prices over three ids; ties on price broken by valid from,
  // then device, then resource id.
  index.Apply(Record(1, 10, 30), kStart);
  index.Apply(Record(2, 20, 10), kStart);
  index.Apply(Record(3, 30, 20), kStart);
  index.Apply(Record(4, 10, 20, 1, kStart - 20), kStart);
  index.Apply(Record(1, 20, 20), kStart);
  index.Apply(Record(1, 30, 20), kStart);
  index.Apply(Record(5, 30, 5), kStart);
  const std::vector<Id> order = {
      {Device(5), 30}, {Device(2), 20}, {Device(4), 10}, {Device(1), 20},
      {Device(1), 30}, {Device(3), 30}, {Device(1), 10}};
  std::vector<Id> paged;
  uint32_t cursor = 0;
  int pages = 0;
  do {
    const protocol::QueryAnswer page = RunQuery(
        index, Request({Want(30), Want(10), Want(20), Want(10, 25)}, 3, cursor),
        kStart, 16);
    EXPECT_EQ(page.total, order.size());
    const std::vector<Id> ids = Ids(page);
    paged.insert(paged.end(), ids.begin(), ids.end());
    cursor = page.next_cursor;
  } while (cursor != 0 && ++pages < 10);
  EXPECT_EQ(paged, order);
}

TEST(QueryEngine, CountsAnOfferMatchingTwoEntriesOfItsIdOnce) {
  OfferIndex index;
  index.Apply(Record(1, 7, 100), kStart);
  index.Apply(Record(2, 7, 300), kStart);
  const protocol::QueryAnswer a = RunQuery(
      index, Request({Want(7, 150), Want(7), Want(7, 100)}), kStart, 16);
  EXPECT_EQ(a.total, 2u);
  EXPECT_EQ(Ids(a), (std::vector<Id>{{Device(1), 7}, {Device(2), 7}}));
}

TEST(QueryEngine, NeverServesWithdrawnReplacedOrExpiredVersions) {
  OfferIndex index;
  index.Apply(Record(1, 7, 100, 1), kStart);
  index.Apply(Record(1, 7, 500, 2), kStart);  // replaced: moves in the order
  index.Apply(Record(2, 7, 200, 1), kStart);
  auto tombstone = Record(2, 7, 200, 2);
  tombstone.withdrawn = true;
  index.Apply(tombstone, kStart);
  index.Apply(Record(3, 7, 50, 1, kStart - 10, kStart + 5), kStart);
  // Expired between ticks: not served, though still indexed.
  const protocol::QueryAnswer a =
      RunQuery(index, Request({Want(7)}), kStart + 5, 16);
  EXPECT_EQ(a.total, 1u);
  ASSERT_EQ(a.offers.size(), 1u);
  EXPECT_EQ(a.offers[0].price, 500u);
  EXPECT_EQ(index.Expire(kStart + 5), 1u);
  EXPECT_EQ(index.Ranked(7).size(), 1u);
  EXPECT_EQ(index.Ranked(8).size(), 0u);
}

TEST(QueryEngine, PagesThroughThousandsOfOffersOfOneId) {
  OfferIndex index;
  std::vector<dht::OfferRecord> known;
  for (uint32_t d = 0; d < 3000; ++d) {
    auto r = Record(0, 9, 100 + (d * 7919) % 500);
    for (int i = 0; i < 4; ++i) {
      r.offer.device[i] = static_cast<uint8_t>(d >> (8 * i));
    }
    index.Apply(r, kStart);
    known.push_back(r);
  }
  protocol::QueryRequest query = Request({Want(9, 400), Want(3)}, 0, 0);
  for (uint32_t cursor : {0u, 15u, 1000u, 2390u, 2399u, 2400u, 5000u}) {
    query.cursor = cursor;
    const protocol::QueryAnswer want =
        Reference(index, known, query, kStart, 15);
    const protocol::QueryAnswer got = RunQuery(index, query, kStart, 15);
    EXPECT_EQ(got.total, want.total);
    EXPECT_EQ(got.next_cursor, want.next_cursor) << cursor;
    EXPECT_EQ(Ids(got), Ids(want)) << cursor;
  }
}

// Thousands of offers of one id span several blocks of RankedOffers, and
// the count takes a block whole only when its bounds show every offer
// matches: a few odd offers (not yet valid, another unit or currency, a
// small quantity, expiring soon) spoil their own block and no other; a
// page that ends inside a block counts the rest of it from its bounds too.
TEST(QueryEngine, CountsBlocksWholeOnlyWhenEveryOfferInThemMatches) {
  OfferIndex index;
  std::vector<dht::OfferRecord> known;
  std::mt19937 rng(777);
  for (uint32_t d = 0; d < 3000; ++d) {
    auto r = Record(0, 9, 100 + d % 700, 1, kStart - 60, kStart + 3600);
    r.offer.device[0] = static_cast<uint8_t>(d >> 8);
    r.offer.device[1] = static_cast<uint8_t>(d);
    switch (rng() % 40) {
      case 0:
        r.offer.valid_from = kStart + 100;
        break;  // not yet valid
      case 1:
        r.offer.unit = 2;
        break;
      case 2:
        r.offer.currency = 840;
        break;
      case 3:
        r.offer.quantity = 1;
        break;
      case 4:
        r.offer.valid_until = kStart + 20;
        break;  // expires soon
      default:
        break;
    }
    index.Apply(r, kStart);
    known.push_back(r);
  }
  // Withdraw some, so blocks are re-summarized after erases.
  for (size_t i = 0; i < known.size(); i += 97) {
    dht::OfferRecord w = known[i];
    w.version = 2;
    w.withdrawn = true;
    index.Apply(w, kStart);
    known.push_back(w);
  }
  const std::vector<protocol::QueryEntry> wants[] = {
      {Want(9)},
      {Want(9, wire::kAnyPrice, 1)},
      {Want(9, wire::kAnyPrice, wire::kAnyBillingUnit, 2)},
      {Want(9, 500)},
      {Want(9, 500), Want(9, wire::kAnyPrice, 2)},
  };
  // At kStart + 30 the soon-expiring offers are past but not yet expired
  // from the index; at kStart + 200 the late ones have become valid.
  for (const uint64_t now : {kStart, kStart + 30, kStart + 200}) {
    for (const auto& entries : wants) {
      for (const uint16_t currency : {0, 156, 840}) {
        // Later pages start the count inside a block.
        for (const uint32_t cursor : {0u, 300u, 1234u}) {
          protocol::QueryRequest query = Request(entries, 10);
          query.currency = currency;
          query.cursor = cursor;
          const protocol::QueryAnswer want =
              Reference(index, known, query, now, 15);
          const protocol::QueryAnswer got = RunQuery(index, query, now, 15);
          ASSERT_EQ(got.total, want.total)
              << now << " " << currency << " " << cursor;
          ASSERT_EQ(Ids(got), Ids(want))
              << now << " " << currency << " " << cursor;
        }
      }
    }
  }
}

TEST(QueryEngine, AgreesWithAPlainMergeAndSortOnRandomIndexes) {
  std::mt19937 rng(12345);
  auto uniform = [&rng](uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
  };
  for (int round = 0; round < 30; ++round) {
    OfferIndex index;
    std::vector<dht::OfferRecord> known;
    uint64_t now = kStart;
    for (int op = 0; op < 300; ++op) {
      // Few prices and windows, so ties are common.
      auto r = Record(static_cast<uint8_t>(uniform(1, 40)),
                      static_cast<uint16_t>(uniform(1, 4)), uniform(1, 6) * 10,
                      static_cast<uint64_t>(op) + 1, now - uniform(0, 3) * 5,
                      now + uniform(1, 60));
      r.offer.unit = static_cast<uint8_t>(uniform(1, 2));
      r.offer.quantity = uniform(1, 8);
      r.offer.currency = static_cast<uint16_t>(uniform(1, 2));
      r.withdrawn = uniform(0, 9) == 0;
      index.Apply(r, now);
      known.push_back(r);
      if (uniform(0, 49) == 0) {
        now += uniform(1, 10);
        if (uniform(0, 1) == 0) index.Expire(now);
      }
    }
    protocol::QueryRequest query;
    const uint32_t entries = uniform(1, 5);
    for (uint32_t e = 0; e < entries; ++e) {
      query.entries.push_back(
          Want(static_cast<uint16_t>(uniform(1, 5)),
               uniform(0, 1) ? wire::kAnyPrice : uniform(1, 7) * 10,
               uniform(0, 1) ? wire::kAnyBillingUnit : 1, uniform(0, 4)));
    }
    query.currency = static_cast<uint16_t>(uniform(0, 2));
    query.wanted_from = uniform(0, 1) ? 0 : now + uniform(0, 20);
    query.max_results = static_cast<uint16_t>(uniform(0, 7));
    for (uint32_t cursor = 0; cursor < 60; cursor += uniform(1, 9)) {
      query.cursor = cursor;
      const protocol::QueryAnswer want =
          Reference(index, known, query, now, 15);
      const protocol::QueryAnswer got = RunQuery(index, query, now, 15);
      ASSERT_EQ(got.total, want.total) << "round " << round;
      ASSERT_EQ(got.next_cursor, want.next_cursor) << "round " << round;
      ASSERT_EQ(Ids(got), Ids(want)) << "round " << round;
      ASSERT_EQ(got.offers, want.offers) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace crsp::node::testing
