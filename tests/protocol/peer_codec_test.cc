// The node-to-node codec (peer_codec.h): round trips under every check
// type, truncations, the order of checks (as decode_order_test.cc does for
// Decode), the 0x40 and 0x41 body rules, forwarding helpers, and the
// vectors of tests/vectors/peer/ byte for byte.
#include "crsp/protocol/peer_codec.h"

#include <gtest/gtest.h>

#include <random>

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
          ForwardedAnswer(check, Status::kInternal)}) {
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
  type[wire::kOffType] = std::byte{0x42};
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

TEST(PeerDecodeOrder, OnlyTypes0x40And0x41AreKnown) {
  for (int type = 0; type <= 0xFF; ++type) {
    if (type == wire::kTypeForwardedQuery ||
        type == wire::kTypeForwardedAnswer) {
      continue;
    }
    std::vector<std::byte> bytes = Bytes(ForwardedQuery());
    bytes[wire::kOffType] = static_cast<std::byte>(type);
    Reseal(bytes);
    PeerDecodeResult r = DecodePeer(bytes);
    EXPECT_EQ(r.status, Status::kMalformed) << type;
    EXPECT_EQ(r.packet.header.type, type);
  }
  // The two types under another protocol are not peer packets either.
  for (uint8_t protocol : {1, 2, 3}) {
    std::vector<std::byte> bytes = Bytes(ForwardedAnswer());
    bytes[wire::kOffProtocol] = static_cast<std::byte>(protocol);
    Reseal(bytes);
    EXPECT_EQ(DecodePeer(bytes).status, Status::kMalformed);
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

TEST(PeerDecodeOrder, ClientDecodeStillAnswersPeerTypesAsUnknown) {
  // Decode is what clients reach: 0x40 and 0x41 stay unknown types there.
  for (const PeerPacket& p : {ForwardedQuery(), ForwardedAnswer()}) {
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
    EXPECT_EQ(r.packet.body.index(),
              h.type == wire::kTypeForwardedQuery ? 0u : 1u);
    // Clients cannot reach the peer path: Decode refuses every one.
    EXPECT_EQ(Decode(v.bytes).status, Status::kMalformed);
  }
  EXPECT_EQ(seen, 5);
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
  EXPECT_EQ(seen, 4);
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

}  // namespace
}  // namespace crsp::protocol
