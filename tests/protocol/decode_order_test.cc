// Which status each bad input gets, and in which order Decode looks
// (codec.h; the table in docs/protocol.md). Each test edits a valid packet
// and reseals it, so only the intended fault remains.
#include <gtest/gtest.h>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"
#include "packet_builder.h"

namespace crsp::protocol {
namespace {

using testing::EncodeForTest;
using testing::PutU16;
using testing::Reseal;
using testing::SamplePacket;
using wire::PacketKind;
using wire::Status;

std::vector<std::byte> Sample(PacketKind kind,
                              wire::CheckType check = wire::CheckType::kCrc32) {
  return EncodeForTest(SamplePacket(kind, check));
}

// Offset of the first body byte of an encoded packet.
constexpr size_t kBody = wire::kHeaderSize;

TEST(ProtocolDecodeOrder, FewerThanTwelveBytesGetNoAnswer) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  bytes.resize(11);
  DecodeResult r = Decode(bytes);
  EXPECT_FALSE(r.answerable);
  EXPECT_EQ(r.status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, EmptyDatagramGetsNoAnswer) {
  // A default span has a null data(): UBSan builds check nothing copies it.
  DecodeResult r = Decode(std::span<const std::byte>{});
  EXPECT_FALSE(r.answerable);
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.packet.header.txid, 0u);
}

TEST(ProtocolDecodeOrder, TwelveToFifteenBytesAreMalformedButAnswered) {
  for (size_t n = 12; n < 16; ++n) {
    std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
    bytes.resize(n);
    DecodeResult r = Decode(bytes);
    EXPECT_TRUE(r.answerable);
    EXPECT_EQ(r.status, Status::kMalformed);
    EXPECT_EQ(r.packet.header.txid, 0x01020304u);
  }
}

TEST(ProtocolDecodeOrder, AnAnswerIsNeverAnswerableEvenWhenBroken) {
  std::vector<std::byte> bytes = Sample(PacketKind::kQueryAnswer);
  bytes.pop_back();
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_FALSE(r.answerable);
}

TEST(ProtocolDecodeOrder, VersionIsCheckedBeforeTotalLength) {
  std::vector<std::byte> bytes = Sample(PacketKind::kRegisterRequest);
  PutU16(bytes, wire::kOffVersion, 2);
  bytes.resize(40);  // another version may have another layout
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.status, Status::kUnsupportedVersion);
  EXPECT_TRUE(r.answerable);
  EXPECT_EQ(r.packet.header.version, 2);
  EXPECT_EQ(r.packet.header.txid, 0x01020304u);
}

TEST(ProtocolDecodeOrder, TotalLengthMustEqualDatagramLength) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  bytes.push_back(std::byte{0});
  EXPECT_EQ(Decode(bytes).status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, CheckTypeHighBitsAreMalformed) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  bytes[wire::kOffCheckType] |= std::byte{0x10};
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.status, Status::kMalformed);
  // The low four bits are still the check type an answer uses.
  EXPECT_EQ(r.packet.header.check, wire::CheckType::kCrc32);
}

TEST(ProtocolDecodeOrder, ReservedCheckTypeIsUnsupportedAndAnsweredUnchecked) {
  for (uint8_t c = 8; c <= 15; ++c) {
    std::vector<std::byte> bytes =
        Sample(PacketKind::kQueryRequest, wire::CheckType::kNone);
    bytes[wire::kOffCheckType] = static_cast<std::byte>(c);
    DecodeResult r = Decode(bytes);
    EXPECT_EQ(r.status, Status::kUnsupportedCheck);
    EXPECT_EQ(ErrorAnswer(r.packet.header, r.status).header.check,
              wire::CheckType::kNone);
  }
}

TEST(ProtocolDecodeOrder, HeaderLengthBelowSixteenIsMalformed) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  PutU16(bytes, wire::kOffHeaderLength, 15);
  Reseal(bytes);
  EXPECT_EQ(Decode(bytes).status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, HeaderLengthIntoTheTrailerIsMalformed) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  PutU16(bytes, wire::kOffHeaderLength, 17);  // trailer starts at 16
  Reseal(bytes);
  EXPECT_EQ(Decode(bytes).status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, ExtraHeaderBytesAreSkipped) {
  std::vector<std::byte> bytes = Sample(PacketKind::kWithdrawRequest);
  bytes.insert(bytes.begin() + kBody, 4, std::byte{0xEE});
  PutU16(bytes, wire::kOffHeaderLength, 20);
  Reseal(bytes);
  DecodeResult r = Decode(bytes);
  ASSERT_EQ(r.status, Status::kOk) << r.detail;
  EXPECT_EQ(r.packet.header.header_length, 20);
  EXPECT_EQ(r.packet.body, SamplePacket(PacketKind::kWithdrawRequest).body);
}

TEST(ProtocolDecodeOrder, BadCheckBitsComeBeforeLayout) {
  std::vector<std::byte> bytes = Sample(PacketKind::kRegisterRequest);
  PutU16(bytes, wire::kOffItemCount, 9);  // layout now wrong, and unsealed
  DecodeResult r = Decode(bytes);
  EXPECT_EQ(r.status, Status::kBadCheck);
  EXPECT_FALSE(r.check_ok);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.packet.body));
}

TEST(ProtocolDecodeOrder, UnknownProtocolOrTypeIsMalformed) {
  for (auto [protocol, type] : {std::pair{3, 1}, {0, 3}, {2, 5}, {1, 7}}) {
    std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
    bytes[wire::kOffProtocol] = static_cast<std::byte>(protocol);
    bytes[wire::kOffType] = static_cast<std::byte>(type);
    Reseal(bytes);
    DecodeResult r = Decode(bytes);
    EXPECT_EQ(r.status, Status::kMalformed);
    EXPECT_TRUE(r.check_ok);
    EXPECT_EQ(AnswerHeaderFor(r.packet.header, r.status).type, type + 1);
  }
}

TEST(ProtocolDecodeOrder, BodySizeMustMatchItemCount) {
  for (PacketKind kind : testing::kAllKinds) {
    std::vector<std::byte> bytes = Sample(kind);
    bytes.insert(bytes.begin() + kBody, std::byte{0});
    Reseal(bytes);
    EXPECT_EQ(Decode(bytes).status, Status::kMalformed) << int(kind);
  }
}

TEST(ProtocolDecodeOrder, PingRequestWithItemsIsMalformed) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingRequest);
  PutU16(bytes, wire::kOffItemCount, 1);
  Reseal(bytes);
  EXPECT_EQ(Decode(bytes).status, Status::kMalformed);
}

// Builds a register request with `n` copies of a valid entry.
std::vector<std::byte> RegisterWith(size_t n) {
  Packet p = SamplePacket(PacketKind::kRegisterRequest);
  auto& request = std::get<RegisterRequest>(p.body);
  request.entries.assign(n, request.entries.front());
  return EncodeForTest(p);
}

TEST(ProtocolDecodeOrder, RegisterCountZeroIsInvalidField) {
  DecodeResult r = Decode(RegisterWith(0));
  EXPECT_EQ(r.status, Status::kInvalidField);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.packet.body));
}

TEST(ProtocolDecodeOrder, RegisterCountOverTheLimitIsTooLarge) {
  EXPECT_EQ(Decode(RegisterWith(64)).status, Status::kOk);
  EXPECT_EQ(Decode(RegisterWith(65)).status, Status::kTooLarge);
  DecodeLimits limits;
  limits.max_register_entries = 4;
  EXPECT_EQ(Decode(RegisterWith(4), limits).status, Status::kOk);
  EXPECT_EQ(Decode(RegisterWith(5), limits).status, Status::kTooLarge);
}

TEST(ProtocolDecodeOrder, QueryCountOutOfRange) {
  Packet p = SamplePacket(PacketKind::kQueryRequest);
  auto& q = std::get<QueryRequest>(p.body);
  QueryEntry entry = q.entries.front();
  q.entries.clear();
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kInvalidField);
  q.entries.assign(16, entry);
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kOk);
  q.entries.assign(17, entry);
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kTooLarge);
}

TEST(ProtocolDecodeOrder, WithdrawOfZeroIdsIsEverythingAndTooManyIsTooLarge) {
  Packet p = SamplePacket(PacketKind::kWithdrawRequest);
  auto& w = std::get<WithdrawRequest>(p.body);
  w.resources.clear();
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kOk);
  w.resources.assign(65, wire::kResourceCpu);
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kTooLarge);
  w.resources.assign(1, 0x0000);
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kInvalidField);
}

TEST(ProtocolDecodeOrder, InvalidDeviceKindIsInvalidFieldWithoutBody) {
  Packet p = SamplePacket(PacketKind::kRegisterRequest);
  std::get<RegisterRequest>(p.body).set.device_kind = 5;
  DecodeResult r = Decode(EncodeForTest(p));
  EXPECT_EQ(r.status, Status::kInvalidField);
  // Not an entry's fault, so no per-entry answer: the node answers bare.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.packet.body));
}

TEST(ProtocolDecodeOrder, InvalidRegisterEntriesKeepTheBodyForPerEntryAnswers) {
  const auto make_bad = [](ResourceEntry& e, int which) {
    switch (which) {
      case 0:
        e.resource = 0x0000;
        break;
      case 1:
        e.resource = 0x000D;
        break;
      case 2:
        e.unit = 6;
        break;
      case 3:
        e.quantity = 0;
        break;
      case 4:
        e.valid_until = e.valid_from;
        break;
    }
  };
  for (int which = 0; which < 5; ++which) {
    Packet p = SamplePacket(PacketKind::kRegisterRequest);
    auto& request = std::get<RegisterRequest>(p.body);
    make_bad(request.entries[1], which);
    DecodeResult r = Decode(EncodeForTest(p));
    EXPECT_EQ(r.status, Status::kInvalidField) << which;
    ASSERT_TRUE(std::holds_alternative<RegisterRequest>(r.packet.body));
    const auto& got = std::get<RegisterRequest>(r.packet.body);
    EXPECT_EQ(got, request);
    EXPECT_EQ(ValidateEntry(got.entries[0]), Status::kOk);
    EXPECT_EQ(ValidateEntry(got.entries[1]), Status::kInvalidField);
  }
}

TEST(ProtocolDecodeOrder, QueryFieldsOutOfRangeAreInvalidField) {
  const auto status_with = [](auto edit) {
    Packet p = SamplePacket(PacketKind::kQueryRequest);
    edit(std::get<QueryRequest>(p.body));
    return Decode(EncodeForTest(p)).status;
  };
  EXPECT_EQ(
      status_with([](QueryRequest& q) { q.wanted_until = q.wanted_from; }),
      Status::kInvalidField);
  EXPECT_EQ(status_with([](QueryRequest& q) {
              q.wanted_from = 0;  // now: the codec cannot compare
              q.wanted_until = 1;
            }),
            Status::kOk);
  EXPECT_EQ(status_with([](QueryRequest& q) { q.entries[0].unit = 6; }),
            Status::kInvalidField);
  EXPECT_EQ(status_with([](QueryRequest& q) { q.entries[0].unit = 0xFF; }),
            Status::kOk);
  EXPECT_EQ(
      status_with([](QueryRequest& q) { q.entries[1].resource = 0x7FFF; }),
      Status::kInvalidField);
  EXPECT_EQ(
      status_with([](QueryRequest& q) { q.entries[1].resource = 0x8000; }),
      Status::kOk);
}

TEST(ProtocolDecodeOrder, ReservedBytesAndFlagsAreIgnoredAndWrittenAsZero) {
  std::vector<std::byte> clean = Sample(PacketKind::kRegisterRequest);
  std::vector<std::byte> dirty = clean;
  dirty[kBody + 38] = std::byte{0xAA};        // set descriptor reserved
  dirty[kBody + 40 + 3] = std::byte{0xBB};    // entry flags
  dirty[kBody + 40 + 12] = std::byte{0xCC};   // entry reserved
  dirty[wire::kOffStatus] = std::byte{0x07};  // status in a request
  Reseal(dirty);
  DecodeResult r = Decode(dirty);
  ASSERT_EQ(r.status, Status::kOk) << r.detail;
  r.packet.header.status = Status::kOk;
  EXPECT_EQ(EncodeForTest(r.packet), clean);
}

TEST(ProtocolDecodeOrder, PingAnswerBodyIsExactlySixtyFourBytes) {
  std::vector<std::byte> bytes = Sample(PacketKind::kPingAnswer);
  bytes.erase(bytes.begin() + kBody);
  Reseal(bytes);
  EXPECT_EQ(Decode(bytes).status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, OkAnswerWithoutBodyIsMalformed) {
  Packet p = SamplePacket(PacketKind::kRegisterAnswer);
  p.body = std::monostate{};
  p.header.status = Status::kOk;
  EXPECT_EQ(Decode(EncodeForTest(p)).status, Status::kMalformed);
}

TEST(ProtocolDecodeOrder, ErrorAnswerWithEntriesDecodesAsEntryResults) {
  Packet p = SamplePacket(PacketKind::kRegisterAnswer);
  p.header.status = Status::kInvalidField;
  DecodeResult r = Decode(EncodeForTest(p));
  ASSERT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.packet.body, p.body);
}

TEST(ProtocolDecodeOrder, ValidateEntryAtRejectsValidityInThePast) {
  ResourceEntry e{wire::kResourceCpu, 1, 8, 250, 100, 200};
  EXPECT_EQ(ValidateEntryAt(e, 199), Status::kOk);
  EXPECT_EQ(ValidateEntryAt(e, 200), Status::kInvalidField);
  e.quantity = 0;
  EXPECT_EQ(ValidateEntryAt(e, 0), Status::kInvalidField);
}

}  // namespace
}  // namespace crsp::protocol
