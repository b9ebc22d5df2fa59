// The aggregator role's pure parts (docs/scaling.md): rendezvous key
// names, advert and demand records, the election and demand rules, and
// the closeness rules, the latter checked against a reference that sorts
// by XOR distance.
#include "crsp/dht_adapter/aggregator_role.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "crsp/dht_adapter/keys.h"
#include "crsp/dht_adapter/offer_record.h"

namespace crsp::dht::aggregator {
namespace {

protocol::NodeId RandomId(std::mt19937_64& rng) {
  protocol::NodeId id;
  for (auto& b : id) b = static_cast<uint8_t>(rng());
  return id;
}

// The XOR distance as a big-endian byte string: compared bytewise, the
// same order as the distance's value.
protocol::NodeId Distance(const protocol::NodeId& key,
                          const protocol::NodeId& id) {
  protocol::NodeId d;
  for (size_t i = 0; i < d.size(); ++i) d[i] = key[i] ^ id[i];
  return d;
}

Advert SomeAdvert() {
  Advert a;
  a.resource = 0x8B01;
  for (size_t i = 0; i < a.node.size(); ++i) a.node[i] = uint8_t(i * 7 + 1);
  a.port = 7400;
  a.warm_since = 1'800'000'000;
  return a;
}

TEST(RendezvousKeyName, IsTheIdsPrefixWithAggAndNoOfferKey) {
  EXPECT_EQ(RendezvousKeyName(0x0001), "crsp/1/0001/agg");
  EXPECT_EQ(RendezvousKeyName(0xABCD), "crsp/1/abcd/agg");
  uint16_t r;
  uint32_t b, s;
  EXPECT_FALSE(ParseKeyName(RendezvousKeyName(0x0001), &r, &b, &s));
}

TEST(RendezvousValue, AnAdvertRoundTrips) {
  const Advert a = SomeAdvert();
  auto decoded = DecodeRendezvousValue(EncodeAdvert(a));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->kind, RendezvousValue::Kind::kAdvert);
  EXPECT_EQ(decoded->advert, a);
}

TEST(RendezvousValue, ADemandRoundTripsWithItsSuspects) {
  Demand demand{0x0042, {SomeAdvert().node, {}}};
  auto decoded = DecodeRendezvousValue(EncodeDemand(demand));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->kind, RendezvousValue::Kind::kDemand);
  EXPECT_EQ(decoded->demand, demand);
  demand.suspects.clear();
  decoded = DecodeRendezvousValue(EncodeDemand(demand));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->demand, demand);
}

TEST(RendezvousValue, ADemandNamesAtMostKAggregatorsSuspects) {
  Demand demand{7, std::vector<protocol::NodeId>(kAggregators + 2)};
  for (size_t i = 0; i < demand.suspects.size(); ++i) {
    demand.suspects[i][0] = static_cast<uint8_t>(i);
  }
  auto decoded = DecodeRendezvousValue(EncodeDemand(demand));
  ASSERT_TRUE(decoded.has_value());
  demand.suspects.resize(kAggregators);
  EXPECT_EQ(decoded->demand, demand);
}

TEST(RendezvousValue, EveryTruncationAndAnyTrailingByteIsRefused) {
  for (const auto& bytes :
       {EncodeAdvert(SomeAdvert()), EncodeDemand({7, {SomeAdvert().node}})}) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(DecodeRendezvousValue({bytes.data(), n}).has_value())
          << "prefix of " << n << " bytes";
    }
    auto longer = bytes;
    longer.push_back(std::byte{0xC0});
    EXPECT_FALSE(DecodeRendezvousValue(longer).has_value());
  }
}

TEST(RendezvousValue, WrongFieldsAreRefused) {
  Advert no_port = SomeAdvert();
  no_port.port = 0;
  EXPECT_FALSE(DecodeRendezvousValue(EncodeAdvert(no_port)).has_value());
  // An offer record is not a rendezvous value.
  OfferRecord record;
  record.offer.resource = 1;
  EXPECT_FALSE(DecodeRendezvousValue(EncodeRecord(record)).has_value());
  // Hand-made msgpack: format 2; a 19-byte node id; a resource of 2^16;
  // a demand whose tag is another string.
  const std::vector<std::vector<uint8_t>> bad = {
      {0x95, 0x02, 0x01, 0xC4, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
       13, 14, 15, 16, 17, 18, 19, 20, 0xCD, 0x1C, 0xE8, 0x00},
      {0x95, 0x01, 0x01, 0xC4, 0x13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
       13, 14, 15, 16, 17, 18, 19, 0xCD, 0x1C, 0xE8, 0x00},
      {0x94, 0x01, 0xCE, 0x00, 0x01, 0x00, 0x00, 0xA6, 'd', 'e', 'm', 'a', 'n',
       'd', 0x90},
      {0x94, 0x01, 0x01, 0xA6, 'd', 'e', 'm', 'a', 'n', 'e', 0x90},
      // Four suspects, one more than kAggregators (bins shortened: the
      // count alone must refuse it).
      {0x94, 0x01, 0x01, 0xA6, 'd', 'e', 'm', 'a', 'n', 'd', 0x94, 0xC0, 0xC0,
       0xC0, 0xC0},
  };
  for (const auto& b : bad) {
    EXPECT_FALSE(DecodeRendezvousValue(
                     {reinterpret_cast<const std::byte*>(b.data()), b.size()})
                     .has_value());
  }
  // The good twin of the demands above decodes, so the refusals above are not
  // an artefact of the hand-made encoding.
  const std::vector<uint8_t> good = {0x94, 0x01, 0x01, 0xA6, 'd', 'e',
                                     'm',  'a',  'n',  'd',  0x90};
  EXPECT_TRUE(
      DecodeRendezvousValue(
          {reinterpret_cast<const std::byte*>(good.data()), good.size()})
          .has_value());
}

TEST(AmongClosest, AgreesWithSortingByXorDistance) {
  std::mt19937_64 rng(14);
  for (int round = 0; round < 2000; ++round) {
    const protocol::NodeId key = RandomId(rng);
    const protocol::NodeId self = RandomId(rng);
    std::vector<protocol::NodeId> others(rng() % 12);
    for (auto& id : others) id = RandomId(rng);
    if (!others.empty() && rng() % 4 == 0) others.push_back(others[0]);
    if (rng() % 4 == 0) others.push_back(self);
    const size_t k = 1 + rng() % 4;

    std::vector<protocol::NodeId> all = others;
    all.push_back(self);
    std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      return Distance(key, a) < Distance(key, b);
    });
    all.erase(std::unique(all.begin(), all.end()), all.end());
    const size_t rank = std::find(all.begin(), all.end(), self) - all.begin();
    EXPECT_EQ(AmongClosest(key, self, others, k), rank < k)
        << "round " << round << " rank " << rank << " k " << k;
  }
}

// The election leaves suspects out of the ranking, and a search that met
// nobody elects only a node without peers.
TEST(Elected, SuspectsAreLeftOutAndAnEmptySearchElectsOnlyALoneNode) {
  protocol::NodeId key{};
  auto at = [&key](uint8_t distance) {
    protocol::NodeId id = key;
    id[19] ^= distance;
    return id;
  };
  const protocol::NodeId self = at(4);
  const std::vector<protocol::NodeId> closer = {at(1), at(2), at(3)};
  EXPECT_FALSE(Elected(key, self, closer, {}, true));
  const std::vector<protocol::NodeId> dead = {at(2)};
  EXPECT_TRUE(Elected(key, self, closer, dead, true));
  EXPECT_TRUE(Elected(key, self, closer, closer, true));
  EXPECT_FALSE(Elected(key, self, {}, {}, /*has_peers=*/true));
  EXPECT_TRUE(Elected(key, self, {}, {}, /*has_peers=*/false));
  // Nobody closer among what the search met: elected.
  const std::vector<protocol::NodeId> farther = {at(5), at(6), at(7)};
  EXPECT_TRUE(Elected(key, self, farther, {}, true));
}

// An aggregator resigns only when k closer nodes serve the id: being
// outranked by nodes that do not (yet) serve it is not enough.
TEST(Resigns, OnlyWhenKCloserNodesServeTheId) {
  protocol::NodeId key{};
  auto at = [&key](uint8_t distance) {
    ForwardTarget target;
    target.node = key;
    target.node[19] ^= distance;
    return target;
  };
  const protocol::NodeId self = at(4).node;
  EXPECT_FALSE(Resigns(key, self, {}));
  const std::vector<ForwardTarget> two = {at(1), at(2)};
  EXPECT_FALSE(Resigns(key, self, two));
  const std::vector<ForwardTarget> three = {at(1), at(2), at(3)};
  EXPECT_TRUE(Resigns(key, self, three));
  // Itself and farther ones do not count.
  const std::vector<ForwardTarget> mixed = {at(1), at(4), at(5), at(2)};
  EXPECT_FALSE(Resigns(key, self, mixed));
  // Nor do closer ones still warming up: they serve nothing yet.
  std::vector<ForwardTarget> warming = three;
  warming[2].warm = false;
  EXPECT_FALSE(Resigns(key, self, warming));
}

TEST(DemandDue, OncePerIntervalUnlessItNamesSuspects) {
  using std::chrono::seconds;
  EXPECT_TRUE(DemandDue(std::nullopt, false));
  EXPECT_FALSE(DemandDue(seconds(0), false));
  EXPECT_FALSE(DemandDue(kDemandInterval - seconds(1), false));
  EXPECT_TRUE(DemandDue(kDemandInterval, false));
  EXPECT_TRUE(DemandDue(seconds(0), true));
  EXPECT_TRUE(TooFewAggregators(kAggregators - 1));
  EXPECT_FALSE(TooFewAggregators(kAggregators));
}

TEST(UsableAdverts, OnlySearchedNodesAtTheSearchedAddressClosestFirst) {
  std::mt19937_64 rng(7);
  const protocol::NodeId key = RandomId(rng);
  std::vector<SearchNode> searched(5);
  for (size_t i = 0; i < searched.size(); ++i) {
    searched[i].id = RandomId(rng);
    searched[i].address[15] = static_cast<uint8_t>(i + 1);
  }
  std::vector<Advert> adverts;
  for (size_t i : {3u, 0u, 4u}) {
    Advert a;
    a.resource = 9;
    a.node = searched[i].id;
    a.port = static_cast<uint16_t>(7400 + i);
    a.warm_since = 100;
    adverts.push_back(a);
  }
  Advert forged = adverts[0];
  forged.node = RandomId(rng);  // no search met it
  adverts.push_back(forged);
  Advert other_id = adverts[1];
  other_id.resource = 10;
  other_id.port = 1;
  adverts.push_back(other_id);
  Advert newer = adverts[2];  // node 4 again, newer, another port
  newer.port = 9000;
  newer.warm_since = 200;
  adverts.push_back(newer);

  const auto targets = UsableAdverts(key, 9, adverts, searched);
  ASSERT_EQ(targets.size(), 3u);
  for (size_t i = 0; i + 1 < targets.size(); ++i) {
    EXPECT_TRUE(Closer(key, targets[i].node, targets[i + 1].node));
  }
  for (const ForwardTarget& t : targets) {
    auto s = std::find_if(searched.begin(), searched.end(),
                          [&](const SearchNode& n) { return n.id == t.node; });
    ASSERT_NE(s, searched.end());
    EXPECT_EQ(t.address, s->address);
    EXPECT_NE(t.node, forged.node);
    if (t.node == searched[4].id) {
      EXPECT_EQ(t.port, 9000);
    }
  }
  // A node that did not answer the search (slow, ranked in elections only)
  // is never forwarded to.
  searched[0].answering = false;
  const auto answering = UsableAdverts(key, 9, adverts, searched);
  EXPECT_EQ(answering.size(), 2u);
  for (const ForwardTarget& t : answering) EXPECT_NE(t.node, searched[0].id);
}

TEST(Advertisers, CountsEachNodeOnceAndOnlyThisId) {
  Advert a{9, {}, 7400, 100};
  Advert warming = a;
  warming.warm_since = kWarming;  // the same node, before it was warm
  Advert b = a;
  b.node[19] = 1;
  Advert other_id = a;
  other_id.resource = 10;
  other_id.node[19] = 2;
  EXPECT_EQ(Advertisers(9, std::vector{a, warming, b, other_id}), 2u);
  EXPECT_EQ(Advertisers(9, std::vector<Advert>{}), 0u);
}

// A warming advert (warm_since kWarming) makes a target that is not warm;
// the same node's warm advert, which follows it, wins.
TEST(UsableAdverts, AWarmingAdvertIsAWarmingTargetUntilTheWarmOneCame) {
  const protocol::NodeId key{};
  std::vector<SearchNode> searched(1);
  searched[0].id[19] = 1;
  Advert warming{9, searched[0].id, 7400, kWarming};
  auto targets = UsableAdverts(key, 9, std::vector{warming}, searched);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_FALSE(targets[0].warm);
  Advert warm = warming;
  warm.warm_since = 100;
  targets = UsableAdverts(key, 9, std::vector{warming, warm}, searched);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_TRUE(targets[0].warm);
}

TEST(RankedInElections, ExpiredNodesCountOnlyWhileTheyRepliedLately) {
  using std::chrono::seconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  const TimePoint now = std::chrono::steady_clock::now();
  EXPECT_TRUE(RankedInElections(false, TimePoint::min(), now));
  EXPECT_TRUE(RankedInElections(true, now, now));
  EXPECT_TRUE(RankedInElections(true, now - kRecentReply + seconds(1), now));
  EXPECT_FALSE(RankedInElections(true, now - kRecentReply, now));
  EXPECT_FALSE(RankedInElections(true, TimePoint::min(), now));
  EXPECT_FALSE(RankedInElections(true, now + seconds(1), now));
}

}  // namespace
}  // namespace crsp::dht::aggregator
