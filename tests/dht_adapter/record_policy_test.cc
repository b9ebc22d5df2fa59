// EditAllowed: which new version of an offer may replace the stored one
// under the same value id (the OpenDHT edit policy of our value types).
#include "record_policy.h"

#include <gtest/gtest.h>

#include "record_builder.h"

namespace crsp::dht {
namespace {

using testing::SignedRecord;
using testing::SignedTombstone;
using testing::TestKey;
using testing::UnsignedRecord;

TEST(EditAllowed, AnUnsignedOfferTakesAHigherVersionOnly) {
  const OfferRecord stored = UnsignedRecord(1, 100);
  OfferRecord next = UnsignedRecord(1, 90);
  next.version = stored.version + 1;
  EXPECT_TRUE(EditAllowed(stored, next));
  next.version = stored.version;
  EXPECT_FALSE(EditAllowed(stored, next));
  EXPECT_FALSE(EditAllowed(next, stored));
  OfferRecord older = UnsignedRecord(1, 90);
  older.version = stored.version + 1;
  EXPECT_FALSE(EditAllowed(older, stored));
}

TEST(EditAllowed, AnEditMustBeOfTheSameOffer) {
  const OfferRecord stored = UnsignedRecord(1, 100);
  OfferRecord other_device = UnsignedRecord(2, 100);
  other_device.version = stored.version + 1;
  EXPECT_FALSE(EditAllowed(stored, other_device));
  OfferRecord other_resource = UnsignedRecord(1, 100, 0x0002);
  other_resource.version = stored.version + 1;
  EXPECT_FALSE(EditAllowed(stored, other_resource));
}

TEST(EditAllowed, ASignedOfferStaysWithItsKey) {
  const OfferRecord base = UnsignedRecord(1, 100);
  const OfferRecord stored = SignedRecord(base.offer, 10, TestKey(7));
  EXPECT_TRUE(EditAllowed(stored, SignedRecord(base.offer, 11, TestKey(7))));
  EXPECT_TRUE(EditAllowed(
      stored,
      SignedTombstone(base.offer, 12, {base.offer.resource}, TestKey(7))));
  EXPECT_FALSE(EditAllowed(stored, SignedRecord(base.offer, 9, TestKey(7))));
  // Another key, even with a higher txid; or no signature at all.
  EXPECT_FALSE(EditAllowed(stored, SignedRecord(base.offer, 11, TestKey(8))));
  EXPECT_FALSE(
      EditAllowed(stored, SignedTombstone(base.offer, 12, {}, TestKey(8))));
  OfferRecord unsigned_claim = base;
  unsigned_claim.version = 1000;
  EXPECT_FALSE(EditAllowed(stored, unsigned_claim));
}

}  // namespace
}  // namespace crsp::dht
