// Which version of an offer wins (Supersedes) and how a node stamps a new
// one (StampVersion): every mix of signed and unsigned records of one offer.
#include "crsp/dht_adapter/version_order.h"

#include <gtest/gtest.h>

#include "record_builder.h"

namespace crsp::dht {
namespace {

using testing::Now;
using testing::SignedRecord;
using testing::SignedTombstone;
using testing::TestKey;
using testing::UnsignedRecord;

// An unsigned record as a node stamps it now, owned by `owner_byte`.
OfferRecord Unsigned(const protocol::Offer& offer, uint8_t owner_byte,
                     bool withdrawn = false) {
  OfferRecord record;
  record.offer = offer;
  record.owner_address[15] = owner_byte;
  record.version = StampVersion(std::nullopt, Now(), nullptr);
  record.withdrawn = withdrawn;
  return record;
}

TEST(Supersedes, AnUnsignedOfferTakesAHigherVersionOfItsOwnerOnly) {
  const OfferRecord stored = UnsignedRecord(1, 100);
  OfferRecord next = UnsignedRecord(1, 90);
  next.version = stored.version + 1;
  EXPECT_TRUE(Supersedes(stored, next, Now()));
  next.version = stored.version;
  EXPECT_FALSE(Supersedes(stored, next, Now()));
  EXPECT_FALSE(Supersedes(next, stored, Now()));
  // Another source address, even with a higher version, while it is valid.
  OfferRecord other = next;
  other.version = stored.version + 1;
  other.owner_address[0] ^= 0xFF;
  EXPECT_FALSE(Supersedes(stored, other, Now()));
}

TEST(Supersedes, AnEditMustBeOfTheSameOffer) {
  const OfferRecord stored = UnsignedRecord(1, 100);
  OfferRecord other_device = UnsignedRecord(2, 100);
  other_device.version = stored.version + 1;
  EXPECT_FALSE(Supersedes(stored, other_device, Now()));
  OfferRecord other_resource = UnsignedRecord(1, 100, 0x0002);
  other_resource.version = stored.version + 1;
  EXPECT_FALSE(Supersedes(stored, other_resource, Now()));
}

TEST(Supersedes, ASignedOfferStaysWithItsKeyWhileValid) {
  const OfferRecord base = UnsignedRecord(1, 100);
  const OfferRecord stored = SignedRecord(base.offer, 10, TestKey(7));
  EXPECT_TRUE(
      Supersedes(stored, SignedRecord(base.offer, 11, TestKey(7)), Now()));
  EXPECT_TRUE(Supersedes(
      stored,
      SignedTombstone(base.offer, 12, {base.offer.resource}, TestKey(7)),
      Now()));
  EXPECT_FALSE(
      Supersedes(stored, SignedRecord(base.offer, 9, TestKey(7)), Now()));
  // Another key, even with a higher txid; or no signature at all, even
  // with a clock version far above the txid.
  EXPECT_FALSE(
      Supersedes(stored, SignedRecord(base.offer, 11, TestKey(8)), Now()));
  EXPECT_FALSE(Supersedes(
      stored, SignedTombstone(base.offer, 12, {}, TestKey(8)), Now()));
  EXPECT_FALSE(Supersedes(stored, Unsigned(base.offer, 1), Now()));
}

TEST(Supersedes, ASignedRecordTakesOverAnUnsignedOne) {
  // Unsigned register, unsigned withdraw, then signed register of the same
  // device: the txid is far below the clock versions, and still wins.
  const OfferRecord base = UnsignedRecord(1, 100);
  const OfferRecord unsigned_offer = Unsigned(base.offer, 1);
  OfferRecord tombstone = unsigned_offer;
  tombstone.withdrawn = true;
  tombstone.version = StampVersion(std::nullopt, Now(), &unsigned_offer);
  const OfferRecord signed_offer = SignedRecord(base.offer, 5, TestKey(7));
  ASSERT_LT(signed_offer.version, tombstone.version);
  EXPECT_TRUE(Supersedes(tombstone, signed_offer, Now()));
  // Signed beats a valid unsigned record too: none can forge it.
  EXPECT_TRUE(Supersedes(unsigned_offer, signed_offer, Now()));
  // ... and the unsigned record never comes back over it.
  EXPECT_FALSE(Supersedes(signed_offer, tombstone, Now()));
  EXPECT_FALSE(Supersedes(signed_offer, unsigned_offer, Now()));
}

TEST(Supersedes, AWithdrawnOrExpiredSignedOfferFreesTheDeviceId) {
  const OfferRecord base = UnsignedRecord(1, 100);
  const OfferRecord tombstone =
      SignedTombstone(base.offer, 12, {base.offer.resource}, TestKey(7));
  const OfferRecord unsigned_offer = Unsigned(base.offer, 1);
  EXPECT_TRUE(Supersedes(tombstone, unsigned_offer, Now()));
  EXPECT_TRUE(
      Supersedes(tombstone, SignedRecord(base.offer, 1, TestKey(8)), Now()));
  // Its own key's older versions stay refused: no replay over a tombstone.
  EXPECT_FALSE(
      Supersedes(tombstone, SignedRecord(base.offer, 11, TestKey(7)), Now()));
  // Expired: past valid_until any owner may take the offer.
  const OfferRecord live = SignedRecord(base.offer, 10, TestKey(7));
  EXPECT_FALSE(Supersedes(live, unsigned_offer, Now()));
  EXPECT_TRUE(Supersedes(live, unsigned_offer, base.offer.valid_until));
}

TEST(StampVersion, SignedIsTheTxidUnsignedTheClockPastTheCurrentVersion) {
  const OfferRecord base = UnsignedRecord(1, 100);
  EXPECT_EQ(StampVersion(42, 1'700'000'000, nullptr), 42u);
  EXPECT_EQ(StampVersion(std::nullopt, 1'700'000'000, nullptr),
            1'700'000'000'000u);
  OfferRecord current = base;
  current.version = 1'700'000'000'000u;
  // Two writes within one clock step still order.
  EXPECT_EQ(StampVersion(std::nullopt, 1'700'000'000, &current),
            1'700'000'000'001u);
  // Past a signed record's txid (always: the clock is far above any u32).
  const OfferRecord signed_offer =
      SignedRecord(base.offer, 0xFFFFFFFF, TestKey(7));
  EXPECT_EQ(StampVersion(std::nullopt, 1'700'000'000, &signed_offer),
            1'700'000'000'000u);
}

}  // namespace
}  // namespace crsp::dht
