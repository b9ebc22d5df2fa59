// Encode -> Decode of randomised valid packets of every kind under every
// check type gives the same packet back.
#include <gtest/gtest.h>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"
#include "packet_builder.h"

namespace crsp::protocol {
namespace {

using testing::EncodeForTest;
using testing::kAllKinds;
using testing::RandomPacket;
using testing::TestKey;

// What Decode must report for `sent` encoded as `bytes`.
Header ExpectedHeader(const Packet& sent, size_t size, size_t count) {
  Header h = sent.header;
  h.version = wire::kVersion;
  h.header_length = wire::kHeaderSize;
  h.total_length = static_cast<uint16_t>(size);
  h.count = static_cast<uint16_t>(count);
  return h;
}

size_t CountOf(const Body& body) {
  if (auto* r = std::get_if<RegisterRequest>(&body)) {
    return r->entries.size();
  }
  if (auto* r = std::get_if<RegisterAnswer>(&body)) {
    return r->entries.size();
  }
  if (auto* r = std::get_if<WithdrawAnswer>(&body)) {
    return r->entries.size();
  }
  if (auto* w = std::get_if<WithdrawRequest>(&body)) {
    return w->resources.size();
  }
  if (auto* q = std::get_if<QueryRequest>(&body)) {
    return q->entries.size();
  }
  if (auto* a = std::get_if<QueryAnswer>(&body)) {
    return a->offers.size();
  }
  return 0;
}

TEST(ProtocolRoundTrip, RandomPacketsOfEveryKindAndCheckTypeSurvive) {
  std::mt19937_64 rng(20260101);
  for (wire::PacketKind kind : kAllKinds) {
    for (uint8_t c = 0; c <= wire::kMaxKnownCheckType; ++c) {
      auto check = static_cast<wire::CheckType>(c);
      int rounds = check == wire::CheckType::kEd25519 ? 5 : 40;
      for (int i = 0; i < rounds; ++i) {
        Packet sent = RandomPacket(kind, check, rng);
        std::vector<std::byte> bytes = EncodeForTest(sent);
        ASSERT_FALSE(bytes.empty());
        DecodeResult r = Decode(bytes);
        ASSERT_EQ(r.status, wire::Status::kOk)
            << "kind " << int(kind) << " check " << int(c) << ": " << r.detail;
        EXPECT_TRUE(r.check_ok);
        EXPECT_EQ(r.packet.body, sent.body);
        EXPECT_EQ(r.packet.header,
                  ExpectedHeader(sent, bytes.size(), CountOf(sent.body)));
        EXPECT_EQ(r.signer.has_value(), check == wire::CheckType::kEd25519);
        if (r.signer) {
          EXPECT_EQ(*r.signer, TestKey().public_key());
        }
        EXPECT_EQ(Encode(r.packet, &TestKey()), bytes);
      }
    }
  }
}

TEST(ProtocolRoundTrip, ErrorAnswersOfEveryRequestDecodeAsBareStatus) {
  std::mt19937_64 rng(7);
  for (wire::PacketKind kind : kAllKinds) {
    if (static_cast<uint8_t>(kind) % 2 == 1) {
      continue;  // answers
    }
    for (uint8_t c = 0; c <= wire::kMaxKnownCheckType; ++c) {
      Packet request = RandomPacket(kind, static_cast<wire::CheckType>(c), rng);
      Packet answer = ErrorAnswer(request.header, wire::Status::kRateLimited);
      std::vector<std::byte> bytes = EncodeForTest(answer);
      ASSERT_FALSE(bytes.empty());
      DecodeResult r = Decode(bytes);
      ASSERT_EQ(r.status, wire::Status::kOk) << r.detail;
      EXPECT_FALSE(r.answerable);
      EXPECT_TRUE(std::holds_alternative<std::monostate>(r.packet.body));
      EXPECT_EQ(r.packet.header.status, wire::Status::kRateLimited);
      EXPECT_EQ(r.packet.header.txid, request.header.txid);
      EXPECT_EQ(r.packet.header.check, request.header.check);
      EXPECT_EQ(r.packet.header.type, request.header.type + 1);
    }
  }
}

TEST(ProtocolRoundTrip, AnswerHeaderForAReservedCheckTypeUsesCheckZero) {
  Header request = HeaderFor(wire::PacketKind::kQueryRequest, 99,
                             static_cast<wire::CheckType>(9));
  Header answer = AnswerHeaderFor(request, wire::Status::kUnsupportedCheck);
  EXPECT_EQ(answer.check, wire::CheckType::kNone);
  EXPECT_EQ(answer.protocol, request.protocol);
  EXPECT_EQ(answer.type, wire::kTypeQueryAnswer);
  EXPECT_EQ(answer.txid, 99u);
  EXPECT_EQ(answer.status, wire::Status::kUnsupportedCheck);
  EXPECT_FALSE(
      Encode(ErrorAnswer(request, wire::Status::kUnsupportedCheck)).empty());
}

TEST(ProtocolRoundTrip, EncodeRefusesEd25519WithoutASigner) {
  Packet p = testing::SamplePacket(wire::PacketKind::kPingRequest,
                                   wire::CheckType::kEd25519);
  EXPECT_TRUE(Encode(p).empty());
  EXPECT_EQ(Encode(p, &TestKey()).size(),
            wire::kHeaderSize + TrailerSize(wire::CheckType::kEd25519));
}

TEST(ProtocolRoundTrip, KindsMapToTheirProtocolAndTypeAndBack) {
  for (wire::PacketKind kind : kAllKinds) {
    Header h = HeaderFor(kind, 1, wire::CheckType::kNone);
    EXPECT_EQ(KindOf(h.protocol, h.type), kind);
    EXPECT_EQ(KindOf(testing::SamplePacket(kind).body), kind);
  }
  EXPECT_FALSE(KindOf(3, 1).has_value());
  EXPECT_FALSE(KindOf(0, 3).has_value());
  EXPECT_FALSE(KindOf(Body{}).has_value());
}

}  // namespace
}  // namespace crsp::protocol
