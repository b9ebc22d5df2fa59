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

// A record of Device(1) as its key's owner registered it: txid = version.
dht::OfferRecord Signed(uint32_t txid, uint8_t key_byte) {
  dht::OfferRecord r = Unsigned(txid, 0);
  const protocol::Ed25519Key key = KeyFromByte(key_byte);
  protocol::ResourceEntry e =
      Entry(1, 0, r.offer.valid_from, r.offer.valid_until, 1, 1);
  const protocol::Packet request =
      Register(txid, Device(1), {e}, wire::CheckType::kEd25519, 0);
  r.signed_request = Bytes(request, &key);
  const auto& set = std::get<protocol::RegisterRequest>(request.body).set;
  r.offer.contact = set.contact;
  r.offer.contact_port = set.contact_port;
  r.offer.device_kind = set.device_kind;
  r.offer.currency = set.currency;
  r.offer.price = 0;
  return r;
}

TEST(OfferIndex, ASignedVersionBeatsAnotherOwnersUnsignedOne) {
  OfferIndex index;
  ASSERT_TRUE(dht::VerifyRecordSignature(Signed(3, 1)));
  // Unsigned first (any DHT peer could have written it), then signed.
  EXPECT_EQ(index.Apply(Unsigned(9000, 2), kStart),
            OfferIndex::Applied::kInserted);
  EXPECT_EQ(index.Apply(Signed(3, 1), kStart), OfferIndex::Applied::kReplaced);
  // Not the other way round, whatever the version.
  EXPECT_EQ(index.Apply(Unsigned(9001, 2), kStart),
            OfferIndex::Applied::kStale);
  // Between two keys, the first seen keeps the device while it is live.
  EXPECT_EQ(index.Apply(Signed(50, 2), kStart), OfferIndex::Applied::kStale);
  EXPECT_NE(index.Find(Device(1), 1)->record.signed_request.size(), 0u);
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
