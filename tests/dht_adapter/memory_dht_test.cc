// InMemoryDht: the same key scheme and filtering as OpenDhtDht, synchronous,
// with an injected clock.
#include "crsp/dht_adapter/memory_dht.h"

#include <gtest/gtest.h>

#include "crsp/dht_adapter/keys.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

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
  dht_.Watch(1, 1000, [&](const OfferRecord& r) { seen.push_back(r); });
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
  dht_.Watch(1, wire::kAnyPrice, [&](const OfferRecord&) { ++seen; });
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

}  // namespace
}  // namespace crsp::dht
