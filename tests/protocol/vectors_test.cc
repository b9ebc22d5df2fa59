// The shared test vectors: every decoder must read them, every encoder must
// reproduce the valid ones byte for byte.
#include "vectors.h"

#include <gtest/gtest.h>

#include <ctime>

#include "crsp/protocol/codec.h"

namespace crsp::protocol {
namespace {

using testing::LoadVectors;
using testing::Vector;

TEST(ProtocolVectors, ValidOnesDecodeToTheFieldsTheyList) {
  int seen = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid") {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    DecodeResult r = Decode(v.bytes);
    EXPECT_EQ(r.status, wire::Status::kOk) << r.detail;
    EXPECT_TRUE(r.check_ok);
    const Header& h = r.packet.header;
    EXPECT_EQ(h.version, wire::kVersion);
    EXPECT_EQ(h.total_length, v.bytes.size());
    if (v.protocol) {
      EXPECT_EQ(h.protocol, *v.protocol);
    }
    if (v.type) {
      EXPECT_EQ(h.type, *v.type);
    }
    if (v.txid) {
      EXPECT_EQ(h.txid, *v.txid);
    }
    if (v.check_type) {
      EXPECT_EQ(static_cast<int>(h.check), *v.check_type);
    }
    if (v.count) {
      EXPECT_EQ(h.count, *v.count);
    }
    if (v.status) {
      EXPECT_EQ(static_cast<int>(h.status), *v.status);
    }
    EXPECT_EQ(KindOf(r.packet.body), KindOf(h.protocol, h.type));
    // Requests are odd and answerable, answers are never answered.
    EXPECT_EQ(r.answerable, h.type % 2 == 1);
  }
  EXPECT_GE(seen, 14);
}

TEST(ProtocolVectors, ValidOnesReEncodeByteForByte) {
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid") {
      continue;
    }
    SCOPED_TRACE(v.name);
    DecodeResult r = Decode(v.bytes);
    ASSERT_EQ(r.status, wire::Status::kOk);
    std::optional<Ed25519Key> key;
    if (v.seed) {
      key = Ed25519Key::FromSeed(*v.seed);
      ASSERT_TRUE(key.has_value());
      ASSERT_TRUE(r.signer.has_value());
      EXPECT_EQ(*r.signer, key->public_key());
    }
    EXPECT_EQ(Encode(r.packet, key ? &*key : nullptr), v.bytes);
  }
}

TEST(ProtocolVectors, SignedOneCannotBeEncodedWithoutItsKey) {
  for (const Vector& v : LoadVectors()) {
    if (!v.seed) {
      continue;
    }
    DecodeResult r = Decode(v.bytes);
    EXPECT_TRUE(Encode(r.packet).empty());
  }
}

TEST(ProtocolVectors, BadOnesYieldTheirAnswerStatus) {
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  int seen = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "answer") {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    ASSERT_TRUE(v.answer_status.has_value());
    DecodeResult r = Decode(v.bytes);
    EXPECT_TRUE(r.answerable);
    if (v.txid) {
      EXPECT_EQ(r.packet.header.txid, *v.txid);
    }
    auto want = static_cast<wire::Status>(*v.answer_status);
    if (v.name == "validity_past") {
      // Only the clock shows it: the codec accepts it, the node does not.
      ASSERT_EQ(r.status, wire::Status::kOk);
      const auto& request = std::get<RegisterRequest>(r.packet.body);
      for (const ResourceEntry& e : request.entries) {
        EXPECT_EQ(ValidateEntry(e), wire::Status::kOk);
        EXPECT_EQ(ValidateEntryAt(e, now), want);
      }
      continue;
    }
    EXPECT_EQ(r.status, want) << r.detail;
    EXPECT_FALSE(r.detail.empty());
    // The error answer echoes the txid under a check type the node supports.
    Packet answer = ErrorAnswer(r.packet.header, r.status);
    EXPECT_EQ(answer.header.txid, r.packet.header.txid);
    EXPECT_EQ(answer.header.type, r.packet.header.type + 1);
    EXPECT_LE(static_cast<uint8_t>(answer.header.check),
              wire::kMaxKnownCheckType);
  }
  EXPECT_GE(seen, 8);
}

TEST(ProtocolVectors, NoAnswerOnesAreNotAnswerable) {
  int seen = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "no_answer") {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    DecodeResult r = Decode(v.bytes);
    EXPECT_NE(r.status, wire::Status::kOk);
    EXPECT_FALSE(r.answerable);
  }
  EXPECT_GE(seen, 1);
}

TEST(ProtocolVectors, RegisterVectorsCarryTheDescribedOffers) {
  for (const Vector& v : LoadVectors()) {
    if (v.name != "register_check5") {
      continue;
    }
    DecodeResult r = Decode(v.bytes);
    const auto& request = std::get<RegisterRequest>(r.packet.body);
    EXPECT_EQ(request.set.device_kind, 1);
    EXPECT_EQ(request.set.currency, 156);
    ASSERT_EQ(request.entries.size(), 2u);
    EXPECT_EQ(request.entries[0].resource, wire::kResourceCpu);
    EXPECT_EQ(request.entries[0].quantity, 8u);
    EXPECT_EQ(request.entries[0].price, 250u);
    EXPECT_EQ(request.entries[1].resource, wire::kResourceMemory);
    EXPECT_EQ(request.entries[1].unit, 3);
    EXPECT_EQ(request.entries[1].price, 12u);
    return;
  }
  FAIL() << "register_check5 missing";
}

}  // namespace
}  // namespace crsp::protocol
