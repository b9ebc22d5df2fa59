// The node-to-node codec (peer_codec.h): round trips under every check
// type, truncations, the order of checks (as decode_order_test.cc does for
// Decode), the body rules of 0x40, 0x41, 0x42 and 0x43, forwarding helpers,
// and the vectors of tests/vectors/peer/ byte for byte.
#include "crsp/protocol/peer_codec.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "crsp/protocol/check.h"
#include "crsp/protocol/codec.h"
#include "packet_builder.h"
#include "vectors.h"

namespace crsp::protocol {
namespace {

using testing::PutU16;
using testing::Reseal;
using testing::TestKey;
using testing::Vector;
using wire::CheckType;
using wire::PacketKind;
using wire::Status;

constexpr CheckType kAllChecks[] = {
    CheckType::kNone, CheckType::kParity, CheckType::kMd5, CheckType::kSum,
    CheckType::kBcc,  CheckType::kCrc32,  CheckType::kLrc, CheckType::kEd25519,
};

// Offset of the first body byte of an encoded packet.
constexpr size_t kBody = wire::kHeaderSize;

using PeerBody = decltype(PeerPacket::body);

// A key other than TestKey: the forwarder's, where the buyer signed with
// TestKey.
const Ed25519Key& ForwarderKey() {
  static const Ed25519Key key = [] {
    Ed25519Seed seed;
    seed.fill(0x77);
    return *Ed25519Key::FromSeed(seed);
  }();
  return key;
}

Header PeerHeader(uint8_t type, CheckType check, Status status = Status::kOk) {
  Header h;
  h.protocol = static_cast<uint8_t>(wire::Protocol::kControl);
  h.type = type;
  h.txid = 0x0A0B0C0D;
  h.check = check;
  h.status = status;
  return h;
}

// The sample query request with both entries on CPU.
QueryRequest OneIdQuery() {
  auto q = std::get<QueryRequest>(
      testing::SamplePacket(PacketKind::kQueryRequest).body);
  for (QueryEntry& e : q.entries) {
    e.resource = wire::kResourceCpu;
  }
  return q;
}

QueryAnswer SampleAnswer(size_t offers = 1) {
  auto a = std::get<QueryAnswer>(
      testing::SamplePacket(PacketKind::kQueryAnswer).body);
  a.offers.assign(offers, a.offers.front());
  a.total = static_cast<uint32_t>(offers);
  return a;
}

PeerPacket ForwardedQuery(CheckType check = CheckType::kCrc32) {
  return {PeerHeader(wire::kTypeForwardedQuery, check), OneIdQuery()};
}

PeerPacket ForwardedAnswer(CheckType check = CheckType::kCrc32,
                           Status status = Status::kOk, size_t offers = 1) {
  bool has_body = status == Status::kOk || status == Status::kIncomplete;
  return {PeerHeader(wire::kTypeForwardedAnswer, check, status),
          has_body ? SampleAnswer(offers) : QueryAnswer{}};
}

// `size` record bytes, distinct per `seed` (the codec reads them opaque).
std::vector<std::byte> Record(size_t size, uint8_t seed = 0) {
  std::vector<std::byte> record(size);
  for (size_t i = 0; i < size; ++i) {
    record[i] = static_cast<std::byte>(seed + i * 7);
  }
  return record;
}

// A push of records of the given sizes.
PeerPacket Push(std::vector<size_t> sizes, CheckType check = CheckType::kCrc32,
                Status status = Status::kOk) {
  RecordPush push;
  for (size_t i = 0; i < sizes.size(); ++i) {
    push.records.push_back(Record(sizes[i], static_cast<uint8_t>(i)));
  }
  return {PeerHeader(wire::kTypeRecordPush, check, status), std::move(push)};
}

PeerPacket Ack(CheckType check = CheckType::kCrc32,
               Status status = Status::kOk) {
  return {PeerHeader(wire::kTypePushAck, check, status), PushAck{}};
}

std::vector<std::byte> Bytes(const PeerPacket& p) {
  return EncodePeer(p, &TestKey());
}

// The header fields a round trip keeps (lengths are recomputed).
void ExpectSameHeader(const Header& got, const Header& want) {
  EXPECT_EQ(got.protocol, 0);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.txid, want.txid);
  EXPECT_EQ(got.check, want.check);
  EXPECT_EQ(got.status, want.status);
}

size_t ItemCount(const PeerPacket& p) {
  if (const auto* q = std::get_if<QueryRequest>(&p.body)) {
    return q->entries.size();
  }
  if (const auto* push = std::get_if<RecordPush>(&p.body)) {
    return push->records.size();
  }
  if (std::holds_alternative<PushAck>(p.body)) {
    return 0;
  }
  return std::get<QueryAnswer>(p.body).offers.size();
}

void ExpectRoundTrip(const PeerPacket& p) {
  std::vector<std::byte> bytes = Bytes(p);
  ASSERT_FALSE(bytes.empty());
  PeerDecodeResult r = DecodePeer(bytes);
  ASSERT_EQ(r.status, Status::kOk) << r.detail;
  EXPECT_EQ(r.detail, "");
  EXPECT_EQ(r.packet.body, p.body);
  ExpectSameHeader(r.packet.header, p.header);
  EXPECT_EQ(r.packet.header.count, ItemCount(p));
  EXPECT_EQ(r.packet.header.total_length, bytes.size());
  EXPECT_EQ(r.signer.has_value(), p.header.check == CheckType::kEd25519);
  if (r.signer) {
    EXPECT_EQ(*r.signer, TestKey().public_key());
  }
  // Encoding is a function of the packet: the decoded one gives the bytes.
  EXPECT_EQ(Bytes(r.packet), bytes);
}

// --- Round trips
// ---------------------------------------------------------------

TEST(PeerCodec, EveryPacketRoundTripsUnderEveryCheckType) {
  for (CheckType check : kAllChecks) {
    SCOPED_TRACE(static_cast<int>(check));
    ExpectRoundTrip(ForwardedQuery(check));
    ExpectRoundTrip(ForwardedAnswer(check, Status::kOk, 3));
    ExpectRoundTrip(ForwardedAnswer(check, Status::kIncomplete, 0));
    ExpectRoundTrip(ForwardedAnswer(check, Status::kIncomplete, 2));
    ExpectRoundTrip(ForwardedAnswer(check, Status::kRateLimited));
    ExpectRoundTrip(ForwardedAnswer(check, Status::kMalformed));
    ExpectRoundTrip(Push({86}, check));
    ExpectRoundTrip(Push({86, 96}, check));
    ExpectRoundTrip(Ack(check, Status::kOk));
    ExpectRoundTrip(Ack(check, Status::kIncomplete));
  }
}

TEST(PeerCodec, RecordPushesRoundTripAtTheirBounds) {
  for (CheckType check : kAllChecks) {
    SCOPED_TRACE(static_cast<int>(check));
    ExpectRoundTrip(Push({1}, check));
    ExpectRoundTrip(Push({wire::kMaxPushRecordSize}, check));
    // 64 records of 1..15 bytes fit 1,232 bytes under every check type.
    std::vector<size_t> sizes;
    for (size_t i = 0; i < wire::kMaxPushRecords; ++i) {
      sizes.push_back(1 + i % 15);
    }
    PeerPacket p = Push(sizes, check);
    ASSERT_LE(Bytes(p).size(), wire::kMaxAnswer);
    ExpectRoundTrip(p);
  }
}

TEST(PeerCodec, RecordPushKeepsEachRecordAndItsOrder) {
  PeerPacket p = Push({3, 1, 200});
  std::vector<std::byte> bytes = Bytes(p);
  // Each record is its 2-byte length, then its bytes.
  EXPECT_EQ(bytes.size(), wire::kHeaderSize + PushedRecordSize(3) +
                              PushedRecordSize(1) + PushedRecordSize(200) +
                              TrailerSize(CheckType::kCrc32));
  EXPECT_EQ(bytes[kBody], std::byte{0});
  EXPECT_EQ(bytes[kBody + 1], std::byte{3});
  EXPECT_EQ(bytes[kBody + 5], std::byte{0});
  EXPECT_EQ(bytes[kBody + 6], std::byte{1});
  PeerDecodeResult r = DecodePeer(bytes);
  ASSERT_EQ(r.status, Status::kOk) << r.detail;
  const auto& records = std::get<RecordPush>(r.packet.body).records;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], Record(3, 0));
  EXPECT_EQ(records[1], Record(1, 1));
  EXPECT_EQ(records[2], Record(200, 2));
  EXPECT_EQ(r.packet.header.count, 3);
}

TEST(PeerCodec, PushAckRoundTripsWithEveryKnownStatus) {
  for (uint8_t status = 0; status <= wire::kMaxKnownStatus; ++status) {
    SCOPED_TRACE(static_cast<int>(status));
    PeerPacket p = Ack(CheckType::kCrc32, static_cast<Status>(status));
    EXPECT_EQ(Bytes(p).size(),
              wire::kHeaderSize + TrailerSize(CheckType::kCrc32));
    ExpectRoundTrip(p);
  }
}

TEST(PeerCodec, RandomPacketsRoundTripUnderEveryCheckType) {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 400; ++round) {
    CheckType check = kAllChecks[round % 8];
    SCOPED_TRACE(round);
    Packet query = testing::RandomPacket(PacketKind::kQueryRequest, check, rng);
    PeerPacket p = ForwardedQueryFor(query, static_cast<uint32_t>(rng()));
    auto& entries = std::get<QueryRequest>(p.body).entries;
    for (QueryEntry& e : entries) {
      e.resource = entries.front().resource;
    }
    ExpectRoundTrip(p);
    // Random answers hold at most kMaxOffersPerAnswer offers, which fit
    // 1,232 bytes under every check type.
    Packet answer = testing::RandomPacket(PacketKind::kQueryAnswer, check, rng);
    Status status = rng() % 2 ? Status::kOk : Status::kIncomplete;
    ExpectRoundTrip({PeerHeader(wire::kTypeForwardedAnswer, check, status),
                     std::get<QueryAnswer>(answer.body)});
    // 1..8 records of 1..100 bytes fit 1,232 bytes; one up to 4,096.
    std::vector<size_t> sizes(1 + rng() % 8);
    for (size_t& size : sizes) {
      size = 1 + rng() % 100;
    }
    if (round % 10 == 0) {
      sizes = {1 + rng() % wire::kMaxPushRecordSize};
    }
    PeerPacket push = Push(sizes, check, static_cast<Status>(rng() % 256));
    push.header.txid = static_cast<uint32_t>(rng());
    ExpectRoundTrip(push);
    ExpectRoundTrip(
        Ack(check, static_cast<Status>(rng() % (wire::kMaxKnownStatus + 1))));
  }
}

TEST(PeerCodec, EncodeRefusesWhatCannotBeSent) {
  // Type 7 without a signer, a reserved check type, an error with offers.
  EXPECT_TRUE(EncodePeer(ForwardedQuery(CheckType::kEd25519)).empty());
  EXPECT_FALSE(EncodePeer(ForwardedQuery(CheckType::kCrc32)).empty());
  EXPECT_TRUE(EncodePeer(ForwardedQuery(static_cast<CheckType>(9))).empty());
  PeerPacket error = ForwardedAnswer(CheckType::kCrc32, Status::kRateLimited);
  std::get<QueryAnswer>(error.body).offers.push_back({});
  EXPECT_TRUE(Bytes(error).empty());
  std::get<QueryAnswer>(error.body).offers.clear();
  std::get<QueryAnswer>(error.body).total = 3;
  EXPECT_TRUE(Bytes(error).empty());
  EXPECT_TRUE(EncodePeer(Push({10}, CheckType::kEd25519)).empty());
  EXPECT_TRUE(EncodePeer(Ack(CheckType::kEd25519)).empty());
  EXPECT_TRUE(Bytes(Ack(static_cast<CheckType>(8))).empty());
}

TEST(PeerCodec, EncodeRefusesPushesTheWireCannotHold) {
  // The largest record that fits 65,535 bytes under CRC-32: it encodes
  // (the encoder does not check 4,096), and DecodePeer refuses it.
  const size_t largest = UINT16_MAX - wire::kHeaderSize - PushedRecordSize(0) -
                         TrailerSize(CheckType::kCrc32);
  std::vector<std::byte> bytes = Bytes(Push({largest}));
  ASSERT_EQ(bytes.size(), size_t{UINT16_MAX});
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  EXPECT_TRUE(Bytes(Push({largest + 1})).empty());
  // A record whose length does not fit 2 bytes.
  EXPECT_TRUE(Bytes(Push({size_t{UINT16_MAX} + 1})).empty());
  // More records than the item count holds (their lengths alone are over
  // 65,535 bytes too).
  PeerPacket many = Push({});
  auto& records = std::get<RecordPush>(many.body).records;
  records.assign(UINT16_MAX + 1, {});
  EXPECT_TRUE(Bytes(many).empty());
  // What DecodePeer refuses still encodes: no records, 65, an empty one.
  for (const PeerPacket& p :
       {Push({}), Push(std::vector<size_t>(65, 1)), Push({0})}) {
    std::vector<std::byte> refused = Bytes(p);
    ASSERT_FALSE(refused.empty());
    EXPECT_EQ(DecodePeer(refused).status, Status::kMalformed);
  }
}

TEST(PeerCodec, EncodeTakesTheTypeFromTheBody) {
  PeerPacket p = ForwardedQuery();
  p.header.protocol = 2;
  p.header.type = 0x41;
  std::vector<std::byte> bytes = Bytes(p);
  EXPECT_EQ(bytes[wire::kOffProtocol], std::byte{0});
  EXPECT_EQ(bytes[wire::kOffType], std::byte{wire::kTypeForwardedQuery});
  p.body = SampleAnswer();
  EXPECT_EQ(Bytes(p)[wire::kOffType], std::byte{wire::kTypeForwardedAnswer});
  p.body = RecordPush{{Record(5)}};
  bytes = Bytes(p);
  EXPECT_EQ(bytes[wire::kOffType], std::byte{wire::kTypeRecordPush});
  EXPECT_EQ(bytes[wire::kOffItemCount + 1], std::byte{1});
  p.header.count = 9;  // computed, not copied
  p.body = PushAck{};
  bytes = Bytes(p);
  EXPECT_EQ(bytes[wire::kOffType], std::byte{wire::kTypePushAck});
  EXPECT_EQ(bytes[wire::kOffItemCount + 1], std::byte{0});
}

TEST(PeerCodec, IsPeerTypeIsTheControlImplementationRange) {
  EXPECT_TRUE(IsPeerType(0, 0x40));
  EXPECT_TRUE(IsPeerType(0, 0x41));
  EXPECT_TRUE(IsPeerType(0, 0x42));
  EXPECT_TRUE(IsPeerType(0, 0x7F));
  EXPECT_FALSE(IsPeerType(0, 0x3F));
  EXPECT_FALSE(IsPeerType(0, 0x80));
  EXPECT_FALSE(IsPeerType(0, 0x01));
  EXPECT_FALSE(IsPeerType(1, 0x40));
  EXPECT_FALSE(IsPeerType(2, 0x41));
}

// --- Truncation
// ------------------------------------------------------------------

TEST(PeerCodec, EveryTruncationIsRefused) {
  for (CheckType check : kAllChecks) {
    for (const PeerPacket& p :
         {ForwardedQuery(check), ForwardedAnswer(check, Status::kOk, 2),
          ForwardedAnswer(check, Status::kIncomplete, 0),
          ForwardedAnswer(check, Status::kInternal), Push({1}, check),
          Push({20, 3}, check), Ack(check, Status::kRateLimited)}) {
      std::vector<std::byte> bytes = Bytes(p);
      for (size_t n = 0; n < bytes.size(); ++n) {
        std::span<const std::byte> cut(bytes.data(), n);
        PeerDecodeResult r = DecodePeer(cut);
        EXPECT_NE(r.status, Status::kOk)
            << "check " << int(check) << " type " << int(p.header.type)
            << " length " << n;
      }
    }
  }
}

// --- Order of checks (codec.h; decode_order_test.cc for Decode)
// --------------------

TEST(PeerDecodeOrder, FewerThanSixteenBytesAreMalformed) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  EXPECT_EQ(DecodePeer(std::span<const std::byte>{}).status,
            Status::kMalformed);
  for (size_t n = 1; n < wire::kHeaderSize; ++n) {
    PeerDecodeResult r = DecodePeer(std::span(bytes).first(n));
    EXPECT_EQ(r.status, Status::kMalformed) << n;
    // From 12 bytes on the txid is there for an error answer.
    if (n >= wire::kTxidReadable) {
      EXPECT_EQ(r.packet.header.txid, 0x0A0B0C0Du) << n;
    }
  }
}

TEST(PeerDecodeOrder, VersionIsCheckedBeforeTotalLength) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  PutU16(bytes, wire::kOffVersion, 2);
  bytes.resize(30);
  PeerDecodeResult r = DecodePeer(bytes);
  EXPECT_EQ(r.status, Status::kUnsupportedVersion);
  EXPECT_EQ(r.packet.header.txid, 0x0A0B0C0Du);
}

TEST(PeerDecodeOrder, TotalLengthMustEqualDatagramLength) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  bytes.push_back(std::byte{0});
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
}

TEST(PeerDecodeOrder, CheckTypeHighBitsAreMalformedAndReservedUnsupported) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  bytes[wire::kOffCheckType] |= std::byte{0x10};
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  for (uint8_t c = 8; c <= 15; ++c) {
    std::vector<std::byte> reserved = Bytes(ForwardedQuery(CheckType::kNone));
    reserved[wire::kOffCheckType] = static_cast<std::byte>(c);
    PeerDecodeResult r = DecodePeer(reserved);
    EXPECT_EQ(r.status, Status::kUnsupportedCheck);
    EXPECT_EQ(AnswerHeaderFor(r.packet.header, r.status).check,
              CheckType::kNone);
  }
}

TEST(PeerDecodeOrder, HeaderLengthOutOfRangeIsMalformed) {
  for (uint16_t length : {15, 17}) {  // below 16; into a 4-byte trailer
    std::vector<std::byte> bytes =
        Bytes(ForwardedAnswer(CheckType::kCrc32, Status::kNotAuthorized));
    PutU16(bytes, wire::kOffHeaderLength, length);
    Reseal(bytes);
    EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed) << length;
  }
}

TEST(PeerDecodeOrder, ExtraHeaderBytesAreSkipped) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  bytes.insert(bytes.begin() + kBody, 6, std::byte{0xEE});
  PutU16(bytes, wire::kOffHeaderLength, 22);
  Reseal(bytes);
  PeerDecodeResult r = DecodePeer(bytes);
  ASSERT_EQ(r.status, Status::kOk) << r.detail;
  EXPECT_EQ(r.packet.header.header_length, 22);
  EXPECT_EQ(r.packet.body, ForwardedQuery().body);
}

TEST(PeerDecodeOrder, BadCheckBitsComeBeforeTypeLayoutAndFields) {
  // Each edit would fail a later step; unsealed, the check fails first.
  std::vector<std::byte> type = Bytes(ForwardedQuery());
  type[wire::kOffType] = std::byte{0x44};
  std::vector<std::byte> count = Bytes(ForwardedQuery());
  PutU16(count, wire::kOffItemCount, 5);
  PeerPacket multi = ForwardedQuery();
  std::get<QueryRequest>(multi.body).entries[1].resource = wire::kResourcePrint;
  std::vector<std::byte> fields = Bytes(multi);
  fields.back() ^= std::byte{0x01};
  for (const auto& bytes : {type, count, fields}) {
    PeerDecodeResult r = DecodePeer(bytes);
    EXPECT_EQ(r.status, Status::kBadCheck) << r.detail;
  }
  // Resealed, each meets its own step.
  Reseal(type);
  EXPECT_EQ(DecodePeer(type).status, Status::kMalformed);
  Reseal(count);
  EXPECT_EQ(DecodePeer(count).status, Status::kMalformed);
  Reseal(fields);
  EXPECT_EQ(DecodePeer(fields).status, Status::kInvalidField);
}

TEST(PeerDecodeOrder, BadSignatureIsBadCheck) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery(CheckType::kEd25519));
  bytes[bytes.size() - 1] ^= std::byte{0x80};
  PeerDecodeResult r = DecodePeer(bytes);
  EXPECT_EQ(r.status, Status::kBadCheck);
  EXPECT_FALSE(r.signer.has_value());
}

TEST(PeerDecodeOrder, OnlyTypes0x40To0x43AreKnown) {
  for (int type = 0; type <= 0xFF; ++type) {
    if (type >= wire::kTypeForwardedQuery && type <= wire::kTypePushAck) {
      continue;
    }
    std::vector<std::byte> bytes = Bytes(ForwardedQuery());
    bytes[wire::kOffType] = static_cast<std::byte>(type);
    Reseal(bytes);
    PeerDecodeResult r = DecodePeer(bytes);
    EXPECT_EQ(r.status, Status::kMalformed) << type;
    EXPECT_EQ(r.packet.header.type, type);
  }
  // The four types under another protocol are not peer packets either.
  for (uint8_t protocol : {1, 2, 3}) {
    for (const PeerPacket& p :
         {ForwardedQuery(), ForwardedAnswer(), Push({4}), Ack()}) {
      std::vector<std::byte> bytes = Bytes(p);
      ASSERT_EQ(DecodePeer(bytes).status, Status::kOk);
      bytes[wire::kOffProtocol] = static_cast<std::byte>(protocol);
      Reseal(bytes);
      EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed)
          << int(protocol) << "/" << int(p.header.type);
    }
  }
}

TEST(PeerDecodeOrder, ClientPacketsAreNotPeerPackets) {
  for (PacketKind kind : testing::kAllKinds) {
    std::vector<std::byte> bytes =
        testing::EncodeForTest(testing::SamplePacket(kind));
    EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed) << int(kind);
  }
}

TEST(PeerDecodeOrder, ForwardedQueryLayoutComesBeforeItsCount) {
  std::vector<std::byte> bytes = Bytes(ForwardedQuery());
  bytes.insert(bytes.begin() + kBody, std::byte{0});
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  // 17 entries that do not fill the body: layout first, MALFORMED.
  bytes = Bytes(ForwardedQuery());
  PutU16(bytes, wire::kOffItemCount, 17);
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
}

TEST(PeerDecodeOrder, ForwardedQueryCountOutOfRange) {
  PeerPacket p = ForwardedQuery();
  auto& entries = std::get<QueryRequest>(p.body).entries;
  QueryEntry entry = entries.front();
  entries.clear();
  EXPECT_EQ(DecodePeer(Bytes(p)).status, Status::kInvalidField);
  entries.assign(16, entry);
  EXPECT_EQ(DecodePeer(Bytes(p)).status, Status::kOk);
  entries.assign(17, entry);
  EXPECT_EQ(DecodePeer(Bytes(p)).status, Status::kTooLarge);
  DecodeLimits limits;
  limits.max_query_entries = 3;
  entries.assign(3, entry);
  EXPECT_EQ(DecodePeer(Bytes(p), limits).status, Status::kOk);
  entries.assign(4, entry);
  EXPECT_EQ(DecodePeer(Bytes(p), limits).status, Status::kTooLarge);
}

TEST(PeerDecodeOrder, ForwardedQueryNamingSeveralIdsIsInvalidField) {
  for (size_t at = 0; at < 4; ++at) {
    PeerPacket p = ForwardedQuery();
    auto& entries = std::get<QueryRequest>(p.body).entries;
    entries.assign(4, entries.front());
    entries[at].resource = 0x8001;
    PeerDecodeResult r = DecodePeer(Bytes(p));
    EXPECT_EQ(r.status, Status::kInvalidField) << at;
    EXPECT_FALSE(r.detail.empty());
    // The header is there for the error answer (a 0x41).
    Header answer = AnswerHeaderFor(r.packet.header, r.status);
    EXPECT_EQ(answer.type, wire::kTypeForwardedAnswer);
    EXPECT_EQ(answer.txid, p.header.txid);
  }
  // The same id in every entry, whatever their other fields: OK.
  PeerPacket p = ForwardedQuery();
  std::get<QueryRequest>(p.body).entries[1].unit = 3;
  EXPECT_EQ(DecodePeer(Bytes(p)).status, Status::kOk);
}

TEST(PeerDecodeOrder, ForwardedQueryFieldsAreTheQueryRequestRules) {
  const auto status_with = [](auto edit) {
    PeerPacket p = ForwardedQuery();
    edit(std::get<QueryRequest>(p.body));
    return DecodePeer(Bytes(p)).status;
  };
  EXPECT_EQ(status_with([](QueryRequest& q) { q.entries[0].unit = 6; }),
            Status::kInvalidField);
  EXPECT_EQ(status_with([](QueryRequest& q) {
              for (QueryEntry& e : q.entries) e.resource = 0x000D;
            }),
            Status::kInvalidField);
  EXPECT_EQ(
      status_with([](QueryRequest& q) { q.wanted_until = q.wanted_from; }),
      Status::kInvalidField);
}

TEST(PeerDecodeOrder, ForwardedQueryStatusByteIsIgnoredLikeAnyRequest) {
  PeerPacket p = ForwardedQuery();
  p.header.status = Status::kInternal;
  PeerDecodeResult r = DecodePeer(Bytes(p));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.packet.header.status, Status::kInternal);
}

TEST(PeerDecodeOrder, ForwardedAnswerStatusDecidesItsLayout) {
  // OK and INCOMPLETE need the descriptor; errors need an empty body.
  for (Status status : {Status::kOk, Status::kIncomplete}) {
    std::vector<std::byte> bytes =
        EncodePeer(ForwardedAnswer(CheckType::kCrc32, Status::kInternal));
    bytes[wire::kOffStatus] = static_cast<std::byte>(status);
    Reseal(bytes);
    EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed) << int(status);
  }
  for (uint8_t status = 1; status <= wire::kMaxKnownStatus; ++status) {
    std::vector<std::byte> bytes = Bytes(ForwardedAnswer());
    bytes[wire::kOffStatus] = static_cast<std::byte>(status);
    Reseal(bytes);
    Status want = static_cast<Status>(status) == Status::kIncomplete
                      ? Status::kOk
                      : Status::kMalformed;
    EXPECT_EQ(DecodePeer(bytes).status, want) << int(status);
  }
  for (int status = wire::kMaxKnownStatus + 1; status <= 0xFF; ++status) {
    std::vector<std::byte> bytes =
        EncodePeer(ForwardedAnswer(CheckType::kCrc32, Status::kInternal));
    bytes[wire::kOffStatus] = static_cast<std::byte>(status);
    Reseal(bytes);
    EXPECT_EQ(DecodePeer(bytes).status, Status::kInvalidField) << status;
  }
}

TEST(PeerDecodeOrder, ForwardedAnswerBodySizeMustMatchItemCount) {
  std::vector<std::byte> bytes =
      Bytes(ForwardedAnswer(CheckType::kCrc32, Status::kOk, 2));
  PutU16(bytes, wire::kOffItemCount, 3);
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  bytes = Bytes(ForwardedAnswer(CheckType::kCrc32, Status::kRateLimited));
  PutU16(bytes, wire::kOffItemCount, 1);
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
}

// Offers that fit 1,232 bytes with a 16-byte header and this trailer.
size_t OffersThatFit(CheckType check) {
  return (wire::kMaxAnswer - wire::kHeaderSize - wire::kAnswerDescriptorSize -
          TrailerSize(check)) /
         wire::kOfferSize;
}

TEST(PeerDecodeOrder, ForwardedAnswerOverTheAnswerSizeIsTooLarge) {
  EXPECT_EQ(OffersThatFit(CheckType::kCrc32), 16u);
  EXPECT_EQ(OffersThatFit(CheckType::kEd25519), wire::kMaxOffersPerAnswer);
  for (CheckType check : kAllChecks) {
    SCOPED_TRACE(static_cast<int>(check));
    size_t fit = OffersThatFit(check);
    std::vector<std::byte> full =
        Bytes(ForwardedAnswer(check, Status::kOk, fit));
    EXPECT_LE(full.size(), wire::kMaxAnswer);
    EXPECT_EQ(DecodePeer(full).status, Status::kOk);
    std::vector<std::byte> over =
        Bytes(ForwardedAnswer(check, Status::kIncomplete, fit + 1));
    EXPECT_GT(over.size(), wire::kMaxAnswer);
    PeerDecodeResult r = DecodePeer(over);
    EXPECT_EQ(r.status, Status::kTooLarge);
    // Layout first: an oversized answer whose count is wrong is MALFORMED.
    PutU16(over, wire::kOffItemCount, static_cast<uint16_t>(fit));
    Reseal(over);
    EXPECT_EQ(DecodePeer(over).status, Status::kMalformed);
  }
  // Header bytes past 16 count too: the datagram is what must fit.
  std::vector<std::byte> bytes =
      Bytes(ForwardedAnswer(CheckType::kCrc32, Status::kOk, 16));
  bytes.insert(bytes.begin() + kBody, 60, std::byte{0});
  PutU16(bytes, wire::kOffHeaderLength, 16 + 60);
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kTooLarge);
}

// Bytes of a push of records of `sizes` with item count `count` instead,
// resealed.
std::vector<std::byte> EditedPush(const std::vector<size_t>& sizes,
                                  uint16_t count) {
  std::vector<std::byte> bytes = Bytes(Push(sizes));
  PutU16(bytes, wire::kOffItemCount, count);
  Reseal(bytes);
  return bytes;
}

TEST(PeerDecodeOrder, RecordPushCountMustBeOneToSixtyFour) {
  EXPECT_EQ(DecodePeer(Bytes(Push({}))).status, Status::kMalformed);
  EXPECT_EQ(DecodePeer(Bytes(Push(std::vector<size_t>(64, 1)))).status,
            Status::kOk);
  PeerDecodeResult r = DecodePeer(Bytes(Push(std::vector<size_t>(65, 1))));
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.detail, "record push count not 1..64");
  // The count comes before the size rule: 65 records over 1,232 bytes.
  r = DecodePeer(Bytes(Push(std::vector<size_t>(65, 30))));
  EXPECT_EQ(r.status, Status::kMalformed);
  // And before the body: count 0 with records, 65 over 64 records.
  EXPECT_EQ(DecodePeer(EditedPush({5}, 0)).status, Status::kMalformed);
  EXPECT_EQ(DecodePeer(EditedPush(std::vector<size_t>(64, 1), 65)).status,
            Status::kMalformed);
}

TEST(PeerDecodeOrder, RecordLengthMustBeOneTo4096) {
  EXPECT_EQ(DecodePeer(Bytes(Push({0}))).status, Status::kMalformed);
  EXPECT_EQ(DecodePeer(Bytes(Push({4096}))).status, Status::kOk);
  PeerDecodeResult r = DecodePeer(Bytes(Push({4097})));
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.detail, "pushed record length not 1..4096");
  // Also a bad length after good records.
  EXPECT_EQ(DecodePeer(Bytes(Push({3, 4, 0}))).status, Status::kMalformed);
}

TEST(PeerDecodeOrder, RecordPushBodyHoldsExactlyItsRecords) {
  // Count 2 over one record: the body ends where a length should be.
  PeerDecodeResult r = DecodePeer(EditedPush({5}, 2));
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.detail, "record push body ends inside a length");
  // Count 1 over two records: bytes after the last.
  r = DecodePeer(EditedPush({5, 6}, 1));
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.detail, "bytes after the last pushed record");
  // A length one past the body, and one short of it.
  for (int delta : {+1, -1}) {
    std::vector<std::byte> bytes = Bytes(Push({5, 6}));
    PutU16(bytes, kBody + PushedRecordSize(5),
           static_cast<uint16_t>(6 + delta));
    Reseal(bytes);
    r = DecodePeer(bytes);
    EXPECT_EQ(r.status, Status::kMalformed) << delta;
    EXPECT_EQ(r.detail, delta > 0 ? "pushed record runs past the body"
                                  : "bytes after the last pushed record");
  }
  // One stray byte after the last record.
  std::vector<std::byte> bytes = Bytes(Push({5}));
  bytes.insert(bytes.end() - TrailerSize(CheckType::kCrc32), std::byte{0});
  PutU16(bytes, wire::kOffTotalLength, static_cast<uint16_t>(bytes.size()));
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
}

TEST(PeerDecodeOrder, SeveralRecordsOverTheAnswerSizeAreTooLarge) {
  for (CheckType check : kAllChecks) {
    SCOPED_TRACE(static_cast<int>(check));
    // Two records that fill 1,232 bytes exactly, then one byte more.
    const size_t fill = wire::kMaxAnswer - wire::kHeaderSize -
                        TrailerSize(check) - 2 * PushedRecordSize(0);
    std::vector<std::byte> full =
        Bytes(Push({fill / 2, fill - fill / 2}, check));
    ASSERT_EQ(full.size(), wire::kMaxAnswer);
    EXPECT_EQ(DecodePeer(full).status, Status::kOk);
    std::vector<std::byte> over =
        Bytes(Push({fill / 2, fill - fill / 2 + 1}, check));
    ASSERT_EQ(over.size(), wire::kMaxAnswer + 1);
    PeerDecodeResult r = DecodePeer(over);
    EXPECT_EQ(r.status, Status::kTooLarge);
    EXPECT_FALSE(r.detail.empty());
    // One record may be larger: up to 4,096 bytes of it.
    std::vector<std::byte> one =
        Bytes(Push({fill + PushedRecordSize(0) + 1}, check));
    ASSERT_EQ(one.size(), wire::kMaxAnswer + 1);
    EXPECT_EQ(DecodePeer(one).status, Status::kOk);
    EXPECT_EQ(DecodePeer(Bytes(Push({4096}, check))).status, Status::kOk);
  }
  // Layout first: an oversized push whose count is wrong is MALFORMED.
  std::vector<std::byte> bytes = EditedPush({700, 700}, 3);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  bytes = EditedPush({700, 700}, 1);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
  // Header bytes past 16 count too: the datagram is what must fit.
  bytes = Bytes(Push({600, 600}));
  ASSERT_LE(bytes.size(), wire::kMaxAnswer);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kOk);
  bytes.insert(bytes.begin() + kBody, 40, std::byte{0});
  PutU16(bytes, wire::kOffHeaderLength, 16 + 40);
  Reseal(bytes);
  ASSERT_GT(bytes.size(), wire::kMaxAnswer);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kTooLarge);
}

TEST(PeerDecodeOrder, RecordPushStatusByteIsIgnoredLikeAnyRequest) {
  for (Status status : {Status::kInternal, static_cast<Status>(0xFF)}) {
    PeerDecodeResult r =
        DecodePeer(Bytes(Push({7}, CheckType::kCrc32, status)));
    EXPECT_EQ(r.status, Status::kOk);
    EXPECT_EQ(r.packet.header.status, status);
  }
}

TEST(PeerDecodeOrder, RecordPushRecordsComeAfterTheCheckBits) {
  // A record length past the body, unsealed: the check fails first.
  std::vector<std::byte> bytes = Bytes(Push({5}));
  PutU16(bytes, kBody, 9);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kBadCheck);
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
}

TEST(PeerDecodeOrder, PushAckStatusMustBeKnown) {
  for (int status = wire::kMaxKnownStatus + 1; status <= 0xFF; ++status) {
    PeerDecodeResult r =
        DecodePeer(Bytes(Ack(CheckType::kCrc32, static_cast<Status>(status))));
    EXPECT_EQ(r.status, Status::kInvalidField) << status;
    EXPECT_EQ(r.detail, "unknown push ack status");
  }
  // The status is checked before the body.
  std::vector<std::byte> bytes = Bytes(Ack());
  PutU16(bytes, wire::kOffItemCount, 1);
  bytes[wire::kOffStatus] = std::byte{13};
  Reseal(bytes);
  EXPECT_EQ(DecodePeer(bytes).status, Status::kInvalidField);
}

TEST(PeerDecodeOrder, PushAckHasNoBodyAndNoItems) {
  std::vector<std::byte> count = Bytes(Ack());
  PutU16(count, wire::kOffItemCount, 1);
  Reseal(count);
  PeerDecodeResult r = DecodePeer(count);
  EXPECT_EQ(r.status, Status::kMalformed);
  EXPECT_EQ(r.detail, "push ack with a body");
  // A record push's body under type 0x43, count 0 and 1.
  for (uint16_t n : {0, 1}) {
    std::vector<std::byte> body = Bytes(Push({4}));
    body[wire::kOffType] = std::byte{wire::kTypePushAck};
    PutU16(body, wire::kOffItemCount, n);
    Reseal(body);
    EXPECT_EQ(DecodePeer(body).status, Status::kMalformed) << n;
  }
}

TEST(PeerDecodeOrder, ClientDecodeStillAnswersPeerTypesAsUnknown) {
  // Decode is what clients reach: 0x40..0x43 stay unknown types there.
  for (const PeerPacket& p :
       {ForwardedQuery(), ForwardedAnswer(), Push({9}), Ack()}) {
    DecodeResult r = Decode(Bytes(p));
    EXPECT_EQ(r.status, Status::kMalformed);
    EXPECT_EQ(r.detail, "unknown protocol or packet type");
    EXPECT_TRUE(r.check_ok);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.packet.body));
  }
  // PROTOCOL.md: from a non-peer a node-to-node request is an unknown type,
  // answered MALFORMED; an answer is never answered. In this range requests
  // are even and answers odd (0x40 / 0x41), the reverse of types 0x01-0x3F.
  EXPECT_TRUE(Decode(Bytes(ForwardedQuery())).answerable);
  EXPECT_FALSE(Decode(Bytes(ForwardedAnswer())).answerable);
  EXPECT_TRUE(Decode(Bytes(Push({9}))).answerable);
  EXPECT_FALSE(Decode(Bytes(Ack())).answerable);
  for (uint8_t type : {0x42, 0x43, 0x7E, 0x7F}) {
    std::vector<std::byte> bytes = Bytes(ForwardedQuery());
    bytes[wire::kOffType] = std::byte{type};
    Reseal(bytes);
    EXPECT_EQ(Decode(bytes).answerable, (type & 1) == 0) << int(type);
  }
}

// Found by the decode_packet fuzz target: the error answer to an unknown
// type is type + 1, so a 0x68 got a 0x69 and a 0x3F got a 0x40 back; each
// must be an answer, or two nodes could answer each other. Every protocol
// and type, both ends of each range included.
TEST(PeerCodec, NoErrorAnswerIsEverAnswerable) {
  for (int protocol = 0; protocol < 4; ++protocol) {
    for (int type = 0; type < 256; ++type) {
      std::vector<std::byte> bytes = Bytes(ForwardedQuery());
      bytes[wire::kOffProtocol] = std::byte{static_cast<uint8_t>(protocol)};
      bytes[wire::kOffType] = std::byte{static_cast<uint8_t>(type)};
      Reseal(bytes);
      DecodeResult request = Decode(bytes);
      if (!request.answerable || request.status == Status::kOk) continue;
      DecodeResult answer =
          Decode(Encode(ErrorAnswer(request.packet.header, request.status)));
      EXPECT_FALSE(answer.answerable) << protocol << "/" << type;
      EXPECT_EQ(answer.packet.header.status, request.status);
    }
  }
}

// --- Forwarding
// --------------------------------------------------------------------

TEST(PeerForwarding, ForwardedQueryCarriesTheBuyersQuery) {
  Packet buyer =
      testing::SamplePacket(PacketKind::kQueryRequest, CheckType::kMd5);
  buyer.body = OneIdQuery();
  PeerPacket p = ForwardedQueryFor(buyer, 77);
  EXPECT_EQ(p.header.protocol, 0);
  EXPECT_EQ(p.header.type, wire::kTypeForwardedQuery);
  EXPECT_EQ(p.header.txid, 77u);
  EXPECT_EQ(p.header.check, CheckType::kMd5);
  EXPECT_EQ(p.header.status, Status::kOk);
  EXPECT_EQ(p.body, PeerBody(OneIdQuery()));
  ExpectRoundTrip(p);
}

TEST(PeerForwarding, ForwardedQueryOfTheWrongBuyerPacketIsRefusedByThePeer) {
  // Several ids are copied, and the aggregator refuses them.
  Packet buyer = testing::SamplePacket(PacketKind::kQueryRequest);
  EXPECT_FALSE(NamesOneResource(std::get<QueryRequest>(buyer.body)));
  EXPECT_EQ(DecodePeer(Bytes(ForwardedQueryFor(buyer, 1))).status,
            Status::kInvalidField);
  // Not a query at all: an empty query, refused too.
  Packet ping = testing::SamplePacket(PacketKind::kPingRequest);
  PeerPacket p = ForwardedQueryFor(ping, 1);
  EXPECT_TRUE(std::get<QueryRequest>(p.body).entries.empty());
  EXPECT_EQ(DecodePeer(Bytes(p)).status, Status::kInvalidField);
  EXPECT_FALSE(NamesOneResource(QueryRequest{}));
}

TEST(PeerForwarding, ForwardedQueryIsNeverLongerThanTheBuyersQuery) {
  std::mt19937_64 rng(7400);
  int one_id = 0;
  for (int round = 0; round < 1000; ++round) {
    SCOPED_TRACE(round);
    CheckType check = kAllChecks[rng() % 8];
    Packet buyer = testing::RandomPacket(PacketKind::kQueryRequest, check, rng);
    auto& entries = std::get<QueryRequest>(buyer.body).entries;
    // Mostly one id, as buyers send; a few with several.
    if (rng() % 8 != 0) {
      for (QueryEntry& e : entries) {
        e.resource = entries.front().resource;
      }
    }
    std::vector<std::byte> sent = testing::EncodeForTest(buyer);
    // Some buyers send header bytes past 16, which the forward drops.
    if (rng() % 4 == 0) {
      size_t extra = rng() % 64;
      sent.insert(sent.begin() + kBody, extra, std::byte{0xAB});
      PutU16(sent, wire::kOffHeaderLength,
             static_cast<uint16_t>(kBody + extra));
      Reseal(sent);
    }
    // The node forwards what its Decode read.
    DecodeResult decoded = Decode(sent);
    ASSERT_EQ(decoded.status, Status::kOk) << decoded.detail;
    auto txid = static_cast<uint32_t>(rng());
    PeerPacket forwarded = ForwardedQueryFor(decoded.packet, txid);
    std::vector<std::byte> bytes = EncodePeer(forwarded, &ForwarderKey());
    ASSERT_FALSE(bytes.empty());
    EXPECT_LE(bytes.size(), sent.size());
    PeerDecodeResult r = DecodePeer(bytes);
    EXPECT_EQ(r.packet.header.txid, txid);
    EXPECT_EQ(r.packet.header.check, check);
    if (NamesOneResource(std::get<QueryRequest>(decoded.packet.body))) {
      ++one_id;
      ASSERT_EQ(r.status, Status::kOk) << r.detail;
      EXPECT_EQ(std::get<QueryRequest>(r.packet.body),
                std::get<QueryRequest>(decoded.packet.body));
      if (check == CheckType::kEd25519) {
        EXPECT_EQ(r.signer, ForwarderKey().public_key());
      }
    } else {
      EXPECT_EQ(r.status, Status::kInvalidField);
    }
  }
  EXPECT_GT(one_id, 800);
}

TEST(PeerForwarding, BuyerAnswerCarriesTheForwardedAnswer) {
  for (CheckType check : kAllChecks) {
    SCOPED_TRACE(static_cast<int>(check));
    Packet buyer = testing::SamplePacket(PacketKind::kQueryRequest, check);
    for (Status status : {Status::kOk, Status::kIncomplete}) {
      PeerPacket forwarded = ForwardedAnswer(check, status, 2);
      forwarded.header.txid = 999;  // the forwarder's, not the buyer's
      std::vector<std::byte> peer_bytes = Bytes(forwarded);
      PeerDecodeResult got = DecodePeer(peer_bytes);
      ASSERT_EQ(got.status, Status::kOk);
      Packet answer = BuyerAnswerFrom(got.packet, buyer.header);
      EXPECT_EQ(answer.header.protocol, 2);
      EXPECT_EQ(answer.header.type, wire::kTypeQueryAnswer);
      EXPECT_EQ(answer.header.txid, buyer.header.txid);
      EXPECT_EQ(answer.header.check, check);
      EXPECT_EQ(answer.header.status, status);
      std::vector<std::byte> bytes = testing::EncodeForTest(answer);
      // Same check type, same body: the same length as the 0x41.
      EXPECT_EQ(bytes.size(), peer_bytes.size());
      DecodeResult r = Decode(bytes);
      ASSERT_EQ(r.status, Status::kOk) << r.detail;
      EXPECT_EQ(r.packet.header.status, status);
      EXPECT_EQ(r.packet.body, Body(std::get<QueryAnswer>(forwarded.body)));
    }
    PeerPacket error = ForwardedAnswer(check, Status::kRateLimited);
    Packet answer = BuyerAnswerFrom(error, buyer.header);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(answer.body));
    DecodeResult r = Decode(testing::EncodeForTest(answer));
    ASSERT_EQ(r.status, Status::kOk);
    EXPECT_EQ(r.packet.header.status, Status::kRateLimited);
    EXPECT_EQ(r.packet.header.type, wire::kTypeQueryAnswer);
  }
}

TEST(PeerForwarding, BuyerAnswerFromAForwardedQueryIsInternal) {
  Packet buyer = testing::SamplePacket(PacketKind::kQueryRequest);
  Packet answer = BuyerAnswerFrom(ForwardedQuery(), buyer.header);
  EXPECT_EQ(answer.header.status, Status::kInternal);
  EXPECT_EQ(answer.header.txid, buyer.header.txid);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(answer.body));
}

TEST(PeerForwarding, BuyerAnswerUnderAReservedCheckTypeIsUnchecked) {
  Header buyer = testing::SamplePacket(PacketKind::kQueryRequest).header;
  buyer.check = static_cast<CheckType>(12);
  Packet answer = BuyerAnswerFrom(ForwardedAnswer(), buyer);
  EXPECT_EQ(answer.header.check, CheckType::kNone);
}

// --- Vectors (tests/vectors/peer/, scripts/gen-peer-vectors.py)
// ---------------------

std::vector<Vector> PeerVectors() {
  return testing::LoadVectors(CRSP_PEER_VECTORS_PATH);
}

TEST(PeerVectors, ValidOnesDecodeToTheFieldsTheyList) {
  int seen = 0;
  for (const Vector& v : PeerVectors()) {
    if (v.expect != "valid") {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    PeerDecodeResult r = DecodePeer(v.bytes);
    ASSERT_EQ(r.status, Status::kOk) << r.detail;
    const Header& h = r.packet.header;
    EXPECT_EQ(h.total_length, v.bytes.size());
    EXPECT_EQ(h.protocol, v.protocol.value_or(-1));
    EXPECT_EQ(h.type, v.type.value_or(-1));
    EXPECT_EQ(h.txid, v.txid.value_or(-1));
    EXPECT_EQ(static_cast<int>(h.check), v.check_type.value_or(-1));
    EXPECT_EQ(h.count, v.count.value_or(-1));
    EXPECT_EQ(static_cast<int>(h.status), v.status.value_or(0));
    EXPECT_TRUE(IsPeerType(h.protocol, h.type));
    // The body's alternative follows the type: 0x40..0x43 in order.
    EXPECT_EQ(r.packet.body.index(), size_t{h.type} - wire::kFirstPeerType);
    // Clients cannot reach the peer path: Decode refuses every one.
    EXPECT_EQ(Decode(v.bytes).status, Status::kMalformed);
  }
  EXPECT_EQ(seen, 12);
}

TEST(PeerVectors, ValidOnesReEncodeByteForByte) {
  for (const Vector& v : PeerVectors()) {
    if (v.expect != "valid") {
      continue;
    }
    SCOPED_TRACE(v.name);
    PeerDecodeResult r = DecodePeer(v.bytes);
    ASSERT_EQ(r.status, Status::kOk);
    std::optional<Ed25519Key> key;
    if (v.seed) {
      key = Ed25519Key::FromSeed(*v.seed);
      ASSERT_TRUE(key.has_value());
      EXPECT_EQ(r.signer, key->public_key());
      EXPECT_TRUE(EncodePeer(r.packet).empty());
    }
    EXPECT_EQ(EncodePeer(r.packet, key ? &*key : nullptr), v.bytes);
  }
}

TEST(PeerVectors, BadOnesYieldTheirStatus) {
  int seen = 0;
  for (const Vector& v : PeerVectors()) {
    if (v.expect == "valid") {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    std::optional<int64_t> want =
        v.expect == "answer" ? v.answer_status : v.decode_status;
    ASSERT_TRUE(want.has_value());
    PeerDecodeResult r = DecodePeer(v.bytes);
    EXPECT_EQ(static_cast<int>(r.status), *want) << r.detail;
    EXPECT_FALSE(r.detail.empty());
    EXPECT_EQ(r.packet.header.txid, v.txid.value_or(-1));
  }
  EXPECT_EQ(seen, 13);
}

TEST(PeerVectors, TheForwardedQueryVectorsCarryOneId) {
  for (const Vector& v : PeerVectors()) {
    if (v.name != "forwarded_query_crc") {
      continue;
    }
    PeerDecodeResult r = DecodePeer(v.bytes);
    const auto& q = std::get<QueryRequest>(r.packet.body);
    ASSERT_EQ(q.entries.size(), 2u);
    EXPECT_TRUE(NamesOneResource(q));
    EXPECT_EQ(q.entries[0].resource, wire::kResourceCpu);
    EXPECT_EQ(q.entries[0].max_price, 300u);
    EXPECT_EQ(q.currency, 156);
    return;
  }
  FAIL() << "forwarded_query_crc missing";
}

TEST(PeerVectors, TheRecordPushVectorsCarryTheirRecords) {
  // The records' sizes as the generator wrote them. The real ones start as
  // a DHT record does: a msgpack array of 17 (0xdc 0x00 0x11).
  const std::map<std::string, std::vector<size_t>> sizes = {
      {"record_push_one", {86}},
      {"record_push_two", {86, 96}},
      {"record_push_signed", {86}},
      {"record_push_one_large", {2000}},
  };
  int seen = 0;
  for (const Vector& v : PeerVectors()) {
    auto want = sizes.find(v.name);
    if (want == sizes.end()) {
      continue;
    }
    ++seen;
    SCOPED_TRACE(v.name);
    PeerDecodeResult r = DecodePeer(v.bytes);
    ASSERT_EQ(r.status, Status::kOk) << r.detail;
    const auto& records = std::get<RecordPush>(r.packet.body).records;
    ASSERT_EQ(records.size(), want->second.size());
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].size(), want->second[i]) << i;
    }
    if (v.name != "record_push_one_large") {
      EXPECT_EQ(records[0][0], std::byte{0xdc});
      EXPECT_EQ(records[0][2], std::byte{0x11});
    }
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace crsp::protocol
