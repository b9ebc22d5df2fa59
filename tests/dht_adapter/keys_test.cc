// The key scheme: deterministic, price buckets monotonic, and a query reads
// exactly the buckets that can hold prices <= its limit.
#include "crsp/dht_adapter/keys.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>

#include "record_builder.h"

namespace crsp::dht {
namespace {

TEST(Keys, NamesAreFixedStrings) {
  EXPECT_EQ(KeyName(0x0001, 7, 33), "crsp/1/0001/p07/s33");
  EXPECT_EQ(KeyName(0x8000, 0, 0), "crsp/1/8000/p00/s00");
  EXPECT_EQ(KeyName(0xABCD, 21, 63), "crsp/1/abcd/p21/s63");
  // The format docs/storage.md gives, for every bucket and shard.
  for (uint16_t resource : {0x0000, 0x0001, 0x00FF, 0x0F0A, 0xFFFF}) {
    for (uint32_t bucket = 0; bucket < kPriceBuckets; ++bucket) {
      for (uint32_t shard = 0; shard < kShards; ++shard) {
        char expected[40];
        std::snprintf(expected, sizeof expected, "crsp/1/%04x/p%02u/s%02u",
                      unsigned{resource}, bucket, shard);
        ASSERT_EQ(KeyName(resource, bucket, shard), expected);
      }
    }
  }
  // FNV-1a 32 modulo 64, pinned (computed independently) so that every
  // build and platform agrees.
  EXPECT_EQ(ShardOf(protocol::DeviceId{}), 5u);
  EXPECT_EQ(ShardOf({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}),
            21u);
}

TEST(Keys, ParseKeyNameInvertsKeyName) {
  uint16_t r = 0;
  uint32_t b = 0, s = 0;
  ASSERT_TRUE(ParseKeyName(KeyName(0xABCD, 21, 63), &r, &b, &s));
  EXPECT_EQ(r, 0xABCD);
  EXPECT_EQ(b, 21u);
  EXPECT_EQ(s, 63u);
  EXPECT_FALSE(ParseKeyName("crsp/1/0001/p22/s00", &r, &b, &s));
  EXPECT_FALSE(ParseKeyName("crsp/1/0001/p01/s64", &r, &b, &s));
  EXPECT_FALSE(ParseKeyName("crsp/1/0001/p01/s01x", &r, &b, &s));
  EXPECT_FALSE(ParseKeyName("crsp/2/0001/p01/s01", &r, &b, &s));
}

TEST(Keys, PriceBucketIsMonotonicAndCoversEveryPrice) {
  EXPECT_EQ(PriceBucket(0), 0u);
  EXPECT_EQ(PriceBucket(15), 0u);
  EXPECT_EQ(PriceBucket(16), 1u);
  EXPECT_EQ(PriceBucket(31), 1u);
  EXPECT_EQ(PriceBucket(32), 2u);
  EXPECT_EQ(PriceBucket((1u << 24) - 1), kPriceBuckets - 2);
  EXPECT_EQ(PriceBucket(1u << 24), kPriceBuckets - 1);
  EXPECT_EQ(PriceBucket(UINT32_MAX), kPriceBuckets - 1);
  uint32_t previous = 0;
  for (uint64_t p = 0; p <= UINT32_MAX; p = p * 3 / 2 + 1) {
    const uint32_t b = PriceBucket(static_cast<uint32_t>(p));
    EXPECT_GE(b, previous) << p;
    EXPECT_LE(b, previous + 1) << p;  // no bucket skipped
    previous = b;
  }
}

TEST(Keys, AnOfferIsStoredUnderAKeyEveryQueryAtOrAboveItsPriceReads) {
  std::mt19937 rng(1);
  for (int i = 0; i < 500; ++i) {
    protocol::Offer offer;
    for (auto& b : offer.device) b = static_cast<uint8_t>(rng());
    offer.resource = 1;
    offer.price = rng() >> (rng() % 32);
    const uint32_t max_price = offer.price + (rng() % 1000);
    const std::vector<std::string> keys =
        KeysFor(1, max_price < offer.price ? UINT32_MAX : max_price);
    EXPECT_NE(std::find(keys.begin(), keys.end(), KeyFor(offer)), keys.end());
  }
}

TEST(Keys, FetchReadsExactlyTheBucketsUpToTheLimit) {
  const std::vector<std::string> keys = KeysFor(1, 1000);  // bucket 6
  EXPECT_EQ(keys.size(), (PriceBucket(1000) + 1) * kShards);
  std::set<uint32_t> buckets;
  for (const std::string& k : keys) {
    uint16_t r = 0;
    uint32_t b = 0, s = 0;
    ASSERT_TRUE(ParseKeyName(k, &r, &b, &s));
    EXPECT_EQ(r, 1);
    buckets.insert(b);
  }
  EXPECT_EQ(buckets, (std::set<uint32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(),
            keys.size());
  EXPECT_EQ(KeysFor(1, wire::kAnyPrice).size(), kPriceBuckets * kShards);
}

TEST(Keys, ShardsSpreadDevicesEvenly) {
  // 64,000 random devices: every shard within 25% of the mean of 1,000.
  std::mt19937 rng(2);
  std::vector<int> count(kShards, 0);
  for (int i = 0; i < 64000; ++i) {
    protocol::DeviceId d;
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    ++count[ShardOf(d)];
  }
  for (int c : count) {
    EXPECT_GT(c, 750);
    EXPECT_LT(c, 1250);
  }
}

TEST(Keys, KeysOfDeviceHoldsTheOfferKeyAtEveryPrice) {
  protocol::Offer offer = testing::UnsignedRecord(5).offer;
  const std::vector<std::string> keys =
      KeysOfDevice(offer.resource, offer.device);
  EXPECT_EQ(keys.size(), kPriceBuckets);
  for (uint32_t price : {0u, 100u, 70000u, UINT32_MAX}) {
    offer.price = price;
    EXPECT_NE(std::find(keys.begin(), keys.end(), KeyFor(offer)), keys.end());
  }
}

}  // namespace
}  // namespace crsp::dht
