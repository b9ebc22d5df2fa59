// VerifyRecordSignature: a signed record is served only if the seller's
// request verifies and says what the record says.
#include <gtest/gtest.h>

#include "crsp/dht_adapter/offer_record.h"
#include "crsp/protocol/codec.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

using testing::SignedRecord;
using testing::SignedTombstone;
using testing::TestKey;
using testing::UnsignedRecord;

class VerifyRecord : public ::testing::Test {
 protected:
  protocol::Ed25519Key key_ = TestKey();
  protocol::Offer offer_ = UnsignedRecord(9).offer;
};

TEST_F(VerifyRecord, AcceptsAnUnsignedRecord) {
  EXPECT_TRUE(VerifyRecordSignature(UnsignedRecord(1)));
}

TEST_F(VerifyRecord, AcceptsAGenuinelySignedRecord) {
  EXPECT_TRUE(VerifyRecordSignature(SignedRecord(offer_, 42, key_)));
}

TEST_F(VerifyRecord, RecordSignerIsTheKeyInTheTrailerOfAVerifiedRecord) {
  const OfferRecord record = SignedRecord(offer_, 42, key_);
  ASSERT_TRUE(VerifyRecordSignature(record));
  EXPECT_EQ(RecordSigner(record), key_.public_key());
  EXPECT_EQ(RecordSigner(SignedRecord(offer_, 43, TestKey(8))),
            TestKey(8).public_key());
  EXPECT_EQ(RecordSigner(UnsignedRecord(1)), std::nullopt);
}

TEST_F(VerifyRecord, RefusesAnOfferFieldTheSellerDidNotSign) {
  const OfferRecord good = SignedRecord(offer_, 42, key_);
  auto tampered = [&good](auto change) {
    OfferRecord r = good;
    change(r.offer);
    return VerifyRecordSignature(r);
  };
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.price -= 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.quantity += 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.unit = 2; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.valid_from += 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.valid_until += 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.resource = 2; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.device[3] ^= 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.currency = 840; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.device_kind = 2; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.contact[15] ^= 1; }));
  EXPECT_FALSE(tampered([](protocol::Offer& o) { o.contact_port += 1; }));
}

TEST_F(VerifyRecord, RefusesATamperedRequest) {
  const OfferRecord good = SignedRecord(offer_, 42, key_);
  for (size_t i = 0; i < good.signed_request.size(); ++i) {
    OfferRecord r = good;
    r.signed_request[i] ^= std::byte{0x01};
    EXPECT_FALSE(VerifyRecordSignature(r)) << "byte " << i;
  }
}

TEST_F(VerifyRecord, RefusesAVersionOtherThanTheTxid) {
  OfferRecord r = SignedRecord(offer_, 42, key_);
  r.version = 43;
  EXPECT_FALSE(VerifyRecordSignature(r));
}

TEST_F(VerifyRecord, RefusesARequestWithAnotherCheckType) {
  OfferRecord r = SignedRecord(offer_, 42, key_);
  protocol::DecodeResult d = protocol::Decode(r.signed_request);
  ASSERT_EQ(d.status, wire::Status::kOk);
  d.packet.header.check = wire::CheckType::kCrc32;
  r.signed_request = protocol::Encode(d.packet);
  ASSERT_FALSE(r.signed_request.empty());
  EXPECT_FALSE(VerifyRecordSignature(r));
}

TEST_F(VerifyRecord, AcceptsAnyContactWhenTheRequestLeftItToTheNode) {
  protocol::Offer signed_offer = offer_;
  signed_offer.contact = {};
  signed_offer.contact_port = 0;
  OfferRecord r = SignedRecord(signed_offer, 42, key_);
  r.offer.contact = offer_.contact;  // the source the node filled in
  r.offer.contact_port = 5555;
  EXPECT_TRUE(VerifyRecordSignature(r));
}

TEST_F(VerifyRecord, AcceptsATombstoneOfAWithdrawOfTheResourceOrOfAll) {
  EXPECT_TRUE(VerifyRecordSignature(
      SignedTombstone(offer_, 50, {offer_.resource}, key_)));
  EXPECT_TRUE(VerifyRecordSignature(SignedTombstone(offer_, 50, {}, key_)));
}

TEST_F(VerifyRecord, RefusesATombstoneOfAnotherResourceOrDevice) {
  EXPECT_FALSE(VerifyRecordSignature(SignedTombstone(
      offer_, 50, {static_cast<uint16_t>(offer_.resource + 1)}, key_)));
  OfferRecord r = SignedTombstone(offer_, 50, {}, key_);
  r.offer.device[0] ^= 1;
  EXPECT_FALSE(VerifyRecordSignature(r));
}

TEST_F(VerifyRecord, RefusesARegisterPassedOffAsATombstoneAndViceVersa) {
  OfferRecord reg = SignedRecord(offer_, 42, key_);
  reg.withdrawn = true;
  EXPECT_FALSE(VerifyRecordSignature(reg));
  OfferRecord tomb = SignedTombstone(offer_, 42, {}, key_);
  tomb.withdrawn = false;
  EXPECT_FALSE(VerifyRecordSignature(tomb));
}

TEST_F(VerifyRecord, RefusesGarbageAsTheRequest) {
  OfferRecord r = UnsignedRecord(1);
  r.signed_request.assign(100, std::byte{0x5A});
  EXPECT_FALSE(VerifyRecordSignature(r));
}

}  // namespace
}  // namespace crsp::dht
