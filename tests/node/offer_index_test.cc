// OfferIndex: which version wins, tombstones, expiry, refused records.
#include "offer_index.h"

#include <gtest/gtest.h>

#include "node_harness.h"
#include "ownership.h"

namespace crsp::node::testing {
namespace {

dht::OfferRecord Unsigned(uint64_t version, uint8_t owner,
                          bool withdrawn = false,
                          uint64_t until = kStart + 100) {
  dht::OfferRecord r;
  r.offer.device = Device(1);
  r.offer.resource = 1;
  r.offer.unit = 1;
  r.offer.quantity = 1;
  r.offer.valid_from = kStart - 1;
  r.offer.valid_until = until;
  r.offer.flags = wire::kOfferFlagSigned;  // must not be trusted
  r.version = version;
  r.withdrawn = withdrawn;
  r.owner_address[0] = owner;
  return r;
}

TEST(OfferIndex, KeepsTheHigherVersionOfTheSameOwner) {
  OfferIndex index;
  EXPECT_EQ(index.Apply(Unsigned(5, 1), kStart),
            OfferIndex::Applied::kInserted);
  EXPECT_EQ(index.Apply(Unsigned(4, 1), kStart), OfferIndex::Applied::kStale);
  EXPECT_EQ(index.Apply(Unsigned(5, 1), kStart), OfferIndex::Applied::kStale);
  EXPECT_EQ(index.Apply(Unsigned(6, 1), kStart),
            OfferIndex::Applied::kReplaced);
  EXPECT_EQ(index.Find(Device(1), 1)->record.version, 6u);
  EXPECT_EQ(index.Find(Device(1), 1)->record.offer.flags, 0);
}

TEST(OfferIndex, LetsATombstoneHideOlderVersions) {
  OfferIndex index;
  index.Apply(Unsigned(5, 1), kStart);
  index.Apply(Unsigned(6, 1, true), kStart);
  EXPECT_EQ(index.Apply(Unsigned(5, 1), kStart), OfferIndex::Applied::kStale);
  int live = 0;
  index.ForEachLive(1, kStart, [&](const IndexedOffer&) { ++live; });
  EXPECT_EQ(live, 0);
}

TEST(OfferIndex, KeepsALiveOfferAgainstAnotherOwnerUntilItIsFree) {
  OfferIndex index;
  index.Apply(Unsigned(5, 1), kStart);
  EXPECT_EQ(index.Apply(Unsigned(9, 2), kStart), OfferIndex::Applied::kStale);
  index.Apply(Unsigned(6, 1, true), kStart);
  // Withdrawn: the device is free, any version of a new owner wins.
  EXPECT_EQ(index.Apply(Unsigned(1, 2), kStart),
            OfferIndex::Applied::kReplaced);
}

TEST(OfferIndex, RefusesExpiredRecordsAndExpiresOldOnes) {
  OfferIndex index;
  EXPECT_EQ(index.Apply(Unsigned(1, 1, false, kStart), kStart),
            OfferIndex::Applied::kRefused);
  index.Apply(Unsigned(1, 1, false, kStart + 10), kStart);
  EXPECT_EQ(index.Expire(kStart + 9), 0u);
  EXPECT_EQ(index.Expire(kStart + 10), 1u);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.OfDevice(Device(1), kStart).empty());
}

TEST(OfferIndex, RefusesASignedRecordWhoseSignatureDoesNotCarryIt) {
  OfferIndex index;
  dht::OfferRecord forged = Unsigned(1, 1);
  forged.signed_request = std::vector<std::byte>(120, std::byte{1});
  EXPECT_EQ(index.Apply(forged, kStart), OfferIndex::Applied::kRefused);
}

TEST(Ownership, IsADecisionOverTheDevicesRecords) {
  OfferIndex index;
  index.Apply(Unsigned(5, 1), kStart);
  const auto records = index.OfDevice(Device(1), kStart);
  Owner mine;
  mine.address[0] = 1;
  Owner other;
  other.address[0] = 2;
  EXPECT_EQ(CheckOwnership(records, mine, 1, kStart), Verdict::kAllowed);
  EXPECT_EQ(CheckOwnership(records, other, 1, kStart), Verdict::kRefused);
  Owner key;
  key.key = protocol::PublicKey{};
  EXPECT_EQ(CheckOwnership(records, key, 1, kStart), Verdict::kRefused);
}

}  // namespace
}  // namespace crsp::node::testing
