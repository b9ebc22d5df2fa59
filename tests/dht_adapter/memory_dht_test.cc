// InMemoryDht: the same key scheme and filtering as OpenDhtDht, synchronous,
// with an injected clock; and the aggregator primitives' contract
// (rendezvous values, demands, Unwatch, FetchKeyOf, IsPeer) in one process.
#include "crsp/dht_adapter/memory_dht.h"

#include <gtest/gtest.h>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/keys.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

constexpr Dht::WatchMode kListen = Dht::WatchMode::kListen;

using testing::SignedRecord;
using testing::TestKey;
using testing::UnsignedRecord;

class MemoryDht : public ::testing::Test {
 protected:
  std::vector<OfferRecord> FetchAll(uint16_t resource, uint32_t max_price) {
    std::vector<OfferRecord> out;
    bool called = false;
    bool finished = false;
    dht_.Fetch(
        resource, max_price, {},
        [&](std::vector<OfferRecord> r, bool complete) {
          out = std::move(r);
          called = true;
          EXPECT_TRUE(complete);  // nothing in memory is late
        },
        [&](std::vector<OfferRecord> r, Dht::FetchProgress progress) {
          EXPECT_TRUE(called);  // after the answer
          EXPECT_TRUE(r.empty());
          EXPECT_EQ(progress, Dht::FetchProgress::kComplete);
          finished = true;
        });
    EXPECT_TRUE(called);
    EXPECT_TRUE(finished);
    return out;
  }
  std::pair<bool, uint16_t> Publish(const OfferRecord& r) {
    std::pair<bool, uint16_t> result{false, 99};
    dht_.Publish(r, [&](bool ok, uint16_t n) { result = {ok, n}; });
    return result;
  }

  uint64_t now_ = testing::Now();
  InMemoryDht dht_{[this] { return now_; }};
};

TEST_F(MemoryDht, PublishedRecordsAreFetchedWithTheSignedFlagSetOnlyIfSigned) {
  EXPECT_EQ(Publish(UnsignedRecord(1)), std::make_pair(true, uint16_t{1}));
  OfferRecord s = SignedRecord(UnsignedRecord(2).offer, 9, TestKey());
  EXPECT_EQ(Publish(s), std::make_pair(true, uint16_t{1}));
  std::vector<OfferRecord> got = FetchAll(1, wire::kAnyPrice);
  ASSERT_EQ(got.size(), 2u);
  for (const OfferRecord& r : got) {
    EXPECT_EQ(r.offer.flags & wire::kOfferFlagSigned,
              r.signed_request.empty() ? 0 : 1);
  }
}

TEST_F(MemoryDht, UnsignedRecordClaimingTheSignedFlagLosesIt) {
  OfferRecord r = UnsignedRecord(1);
  r.offer.flags = wire::kOfferFlagSigned;
  ASSERT_TRUE(Publish(r).first);
  std::vector<OfferRecord> got = FetchAll(1, wire::kAnyPrice);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offer.flags, 0);
}

TEST_F(MemoryDht, FetchReadsOnlyBucketsUpToTheMaxPrice) {
  ASSERT_TRUE(Publish(UnsignedRecord(1, 100)).first);
  ASSERT_TRUE(Publish(UnsignedRecord(2, 100000)).first);
  EXPECT_EQ(FetchAll(1, 127).size(), 1u);  // same bucket as 100
  EXPECT_EQ(FetchAll(1, wire::kAnyPrice).size(), 2u);
  EXPECT_EQ(FetchAll(2, wire::kAnyPrice).size(), 0u);  // other resource
}

TEST_F(MemoryDht, ARepublishIsAnEditAndTheOldPriceKeyGetsTheNewVersion) {
  OfferRecord r = UnsignedRecord(1, 100);
  ASSERT_TRUE(Publish(r).first);
  r.offer.price = 100000;
  r.version = 2;
  ASSERT_TRUE(Publish(r).first);
  // A cheap query still learns that version 1 is outdated.
  std::vector<OfferRecord> cheap = FetchAll(1, 127);
  ASSERT_EQ(cheap.size(), 1u);
  EXPECT_EQ(cheap[0].version, 2u);
  EXPECT_EQ(FetchAll(1, wire::kAnyPrice).size(), 1u);
}

TEST_F(MemoryDht, RecordsAreGoneFromValidUntil) {
  OfferRecord r = UnsignedRecord(1);
  ASSERT_TRUE(Publish(r).first);
  now_ = r.offer.valid_until - 1;
  EXPECT_EQ(FetchAll(1, wire::kAnyPrice).size(), 1u);
  now_ = r.offer.valid_until;
  EXPECT_EQ(FetchAll(1, wire::kAnyPrice).size(), 0u);
  EXPECT_EQ(dht_.StoredValues(), 0u);
}

TEST_F(MemoryDht, RefusedRecordsFailThePublishAndAreNeverStored) {
  OfferRecord expired = UnsignedRecord(1);
  expired.offer.valid_until = now_;
  EXPECT_EQ(Publish(expired), std::make_pair(false, uint16_t{0}));
  OfferRecord forged = SignedRecord(UnsignedRecord(2).offer, 9, TestKey());
  forged.offer.price = 1;
  EXPECT_EQ(Publish(forged), std::make_pair(false, uint16_t{0}));
  EXPECT_EQ(dht_.StoredValues(), 0u);
}

TEST_F(MemoryDht, HostileRawValuesAreRefused) {
  const OfferRecord r = UnsignedRecord(1);
  const std::string key = KeyFor(r.offer);
  const std::vector<std::byte> garbage(50, std::byte{0xC1});
  EXPECT_FALSE(dht_.StoreRaw(key, garbage));
  OfferRecord expired = r;
  expired.offer.valid_until = now_ - 1;
  EXPECT_FALSE(dht_.StoreRaw(key, EncodeRecord(expired)));
  // A valid record under a key it does not belong to (other shard).
  EXPECT_FALSE(dht_.StoreRaw(KeyName(1, PriceBucket(r.offer.price),
                                     (ShardOf(r.offer.device) + 1) % kShards),
                             EncodeRecord(r)));
  EXPECT_TRUE(dht_.StoreRaw(key, EncodeRecord(r)));
  EXPECT_EQ(FetchAll(1, wire::kAnyPrice).size(), 1u);
}

TEST_F(MemoryDht, WatchSeesStoredAndNewRecordsOfItsResourceAndPrices) {
  ASSERT_TRUE(Publish(UnsignedRecord(1, 50)).first);
  std::vector<OfferRecord> seen;
  dht_.Watch(
      1, 1000, [&](const OfferRecord& r) { seen.push_back(r); }, kListen);
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(Publish(UnsignedRecord(2, 60)).first);
  ASSERT_TRUE(Publish(UnsignedRecord(3, 1000000)).first);     // above the limit
  ASSERT_TRUE(Publish(UnsignedRecord(4, 60, 0x0002)).first);  // other resource
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].offer.device[0], 2);
}

TEST_F(MemoryDht, AWatcherSeesARepublishUnderTwoKeysOnce) {
  OfferRecord r = UnsignedRecord(1, 100);
  ASSERT_TRUE(Publish(r).first);
  int seen = 0;
  dht_.Watch(
      1, wire::kAnyPrice, [&](const OfferRecord&) { ++seen; }, kListen);
  ASSERT_EQ(seen, 1);
  r.offer.price = 100000;  // another bucket: stored under both keys
  r.version = 2;
  ASSERT_TRUE(Publish(r).first);
  EXPECT_EQ(seen, 2);
}

TEST_F(MemoryDht, FailPutsAndShutdownRefusePublishes) {
  dht_.SetFailPuts(true);
  EXPECT_FALSE(Publish(UnsignedRecord(1)).first);
  dht_.SetFailPuts(false);
  EXPECT_TRUE(Publish(UnsignedRecord(1)).first);
  dht_.Shutdown(std::chrono::milliseconds(0));
  EXPECT_FALSE(Publish(UnsignedRecord(2)).first);
  EXPECT_EQ(dht_.Info().stored_values, 1u);
}

using aggregator::Demand;
using aggregator::RendezvousValue;
using aggregator::SearchNode;

protocol::NodeId IdOf(uint8_t byte) {
  protocol::NodeId id{};
  id.fill(byte);
  return id;
}

class MemoryRendezvous : public MemoryDht {
 protected:
  std::vector<RendezvousValue> Get(uint16_t resource) {
    std::vector<RendezvousValue> out;
    bool called = false;
    dht_.GetRendezvous(resource, [&](std::vector<RendezvousValue> values,
                                     std::vector<SearchNode> searched) {
      EXPECT_FALSE(called);
      called = true;
      EXPECT_TRUE(searched.empty());  // no search in one process
      out = std::move(values);
    });
    EXPECT_TRUE(called);
    return out;
  }
  bool Put(uint16_t resource, std::vector<std::byte> value) {
    int calls = 0;
    bool result = false;
    dht_.PutRendezvous(resource, std::move(value), [&](bool ok) {
      ++calls;
      result = ok;
    });
    EXPECT_EQ(calls, 1);
    return result;
  }
  std::vector<std::byte> AdvertOf(uint16_t resource, uint8_t node) {
    return aggregator::EncodeAdvert({resource, IdOf(node), 7400, now_});
  }
};

TEST_F(MemoryRendezvous, ValuesPutAreReadPerResourceUntilTheirLifetimeEnds) {
  ASSERT_TRUE(Put(7, AdvertOf(7, 1)));
  ASSERT_TRUE(Put(7, aggregator::EncodeDemand({7, {IdOf(9)}})));
  ASSERT_TRUE(Put(8, AdvertOf(8, 2)));
  std::vector<RendezvousValue> seven = Get(7);
  ASSERT_EQ(seven.size(), 2u);
  EXPECT_EQ(seven[0].kind, RendezvousValue::Kind::kAdvert);
  EXPECT_EQ(seven[0].advert.node, IdOf(1));
  EXPECT_EQ(seven[1].kind, RendezvousValue::Kind::kDemand);
  EXPECT_EQ(seven[1].demand, (Demand{7, {IdOf(9)}}));
  EXPECT_EQ(Get(8).size(), 1u);
  EXPECT_TRUE(Get(9).empty());
  // The same advert again is another value (a fresh id each put).
  ASSERT_TRUE(Put(7, AdvertOf(7, 1)));
  EXPECT_EQ(Get(7).size(), 3u);
  EXPECT_EQ(dht_.StoredValues(), 4u);

  now_ += aggregator::kAdvertLifetime.count() - 1;
  EXPECT_EQ(Get(7).size(), 3u);
  now_ += 1;
  EXPECT_TRUE(Get(7).empty());
  EXPECT_EQ(dht_.StoredValues(), 0u);
}

TEST_F(MemoryRendezvous, ValuesThatDoNotDecodeAsOneOfTheResourceAreRefused) {
  EXPECT_FALSE(Put(7, std::vector<std::byte>(20)));
  EXPECT_FALSE(Put(7, AdvertOf(8, 1)));  // names another resource
  EXPECT_FALSE(Put(7, EncodeRecord(UnsignedRecord(1))));
  dht_.SetFailPuts(true);
  EXPECT_FALSE(Put(7, AdvertOf(7, 1)));
  dht_.SetFailPuts(false);
  dht_.Shutdown(std::chrono::milliseconds(0));
  EXPECT_FALSE(Put(7, AdvertOf(7, 1)));
  EXPECT_TRUE(Get(7).empty());
}

TEST_F(MemoryRendezvous, DemandsPutOrStoredRawRunTheHookAndAdvertsDoNot) {
  std::vector<Demand> demands;
  dht_.OnDemand([&](const Demand& d) { demands.push_back(d); });
  ASSERT_TRUE(Put(7, AdvertOf(7, 1)));
  EXPECT_TRUE(demands.empty());
  ASSERT_TRUE(Put(7, aggregator::EncodeDemand({7, {IdOf(3), IdOf(4)}})));
  ASSERT_EQ(demands.size(), 1u);
  EXPECT_EQ(demands[0], (Demand{7, {IdOf(3), IdOf(4)}}));
  EXPECT_TRUE(dht_.StoreRaw(aggregator::RendezvousKeyName(5),
                            aggregator::EncodeDemand({5, {}})));
  ASSERT_EQ(demands.size(), 2u);
  EXPECT_EQ(demands[1].resource, 5);
  // Refused: no hook.
  EXPECT_FALSE(Put(7, aggregator::EncodeDemand({6, {}})));
  EXPECT_EQ(demands.size(), 2u);
}

// Raw values get the policy of what they are: rendezvous values only under
// their resource's rendezvous key, offers only under their own keys.
TEST_F(MemoryRendezvous, RawValuesUnderTheWrongKindOfKeyAreRefused) {
  const OfferRecord r = UnsignedRecord(1, 500, 7);
  const std::string rendezvous = aggregator::RendezvousKeyName(7);
  EXPECT_FALSE(dht_.StoreRaw(rendezvous, std::vector<std::byte>(40)));
  EXPECT_FALSE(dht_.StoreRaw(rendezvous, EncodeRecord(r)));
  EXPECT_FALSE(dht_.StoreRaw(rendezvous, AdvertOf(8, 1)));
  EXPECT_FALSE(dht_.StoreRaw(KeyFor(r.offer), AdvertOf(7, 1)));
  EXPECT_EQ(dht_.StoredValues(), 0u);
  EXPECT_TRUE(dht_.StoreRaw(rendezvous, AdvertOf(7, 1)));  // the control
  EXPECT_EQ(Get(7).size(), 1u);
  EXPECT_TRUE(FetchAll(7, wire::kAnyPrice).empty());
}

TEST_F(MemoryRendezvous, UnwatchStopsTheWatchesOfItsResourceOnly) {
  int seven = 0, eight = 0;
  dht_.Watch(
      7, wire::kAnyPrice, [&](const OfferRecord&) { ++seven; }, kListen);
  dht_.Watch(
      7, 1000, [&](const OfferRecord&) { ++seven; }, kListen);
  dht_.Watch(
      8, wire::kAnyPrice, [&](const OfferRecord&) { ++eight; }, kListen);
  ASSERT_TRUE(Publish(UnsignedRecord(1, 500, 7)).first);
  EXPECT_EQ(seven, 2);
  dht_.Unwatch(7);
  ASSERT_TRUE(Publish(UnsignedRecord(2, 500, 7)).first);
  ASSERT_TRUE(Publish(UnsignedRecord(3, 500, 8)).first);
  EXPECT_EQ(seven, 2);
  EXPECT_EQ(eight, 1);
  // Watch again: what is stored, then what comes.
  int again = 0;
  dht_.Watch(
      7, wire::kAnyPrice, [&](const OfferRecord&) { ++again; }, kListen);
  EXPECT_EQ(again, 2);
  ASSERT_TRUE(Publish(UnsignedRecord(4, 500, 7)).first);
  EXPECT_EQ(again, 3);
  EXPECT_EQ(seven, 2);
}

TEST_F(MemoryRendezvous, FetchKeyOfReadsTheOffersKeyOnly) {
  const OfferRecord r = UnsignedRecord(1, 500, 7);
  ASSERT_TRUE(Publish(r).first);
  OfferRecord elsewhere = UnsignedRecord(2, 100000, 7);  // another bucket
  ASSERT_NE(KeyFor(elsewhere.offer), KeyFor(r.offer));
  ASSERT_TRUE(Publish(elsewhere).first);
  int calls = 0;
  dht_.FetchKeyOf(r.offer, std::chrono::milliseconds(0),
                  [&](std::vector<OfferRecord> records, bool complete) {
                    ++calls;
                    EXPECT_TRUE(complete);
                    ASSERT_EQ(records.size(), 1u);
                    EXPECT_EQ(records[0].offer, r.offer);
                  });
  EXPECT_EQ(calls, 1);
  // Gone from valid_until on, as Fetch.
  now_ = r.offer.valid_until;
  dht_.FetchKeyOf(r.offer, std::chrono::milliseconds(0),
                  [&](std::vector<OfferRecord> records, bool complete) {
                    ++calls;
                    EXPECT_TRUE(complete);
                    EXPECT_TRUE(records.empty());
                  });
  EXPECT_EQ(calls, 2);
}

TEST_F(MemoryRendezvous, IsPeerOnlyForAddressesATestAdded) {
  const protocol::Ipv6Address peer = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                      0,    0,    0,    0,    0, 0, 0, 1};
  const protocol::Ipv6Address other = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                       0,    0, 0, 0, 0, 0, 0, 1};
  EXPECT_FALSE(dht_.IsPeer(peer));
  dht_.AddPeer(peer);
  EXPECT_TRUE(dht_.IsPeer(peer));
  EXPECT_FALSE(dht_.IsPeer(other));
}

}  // namespace
}  // namespace crsp::dht
