// The device library on every vector of ../shared/protocol-vectors/: valid
// requests come out of its encoders byte for byte, valid answers decode to
// the fields the vectors describe, and bad packets get the status their
// vector names wherever an answer decoder can tell (length, version, check
// type, check bits).
#include "vectors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "device_support.h"

namespace crsp::device::testing {
namespace {

using protocol::testing::LoadVectors;
using protocol::testing::Vector;

bool IsRequest(const Vector& v) { return v.type && (*v.type & 1) != 0; }

TEST(DeviceVectors, ValidRequestsEncodeByteForByte) {
  int checked = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid" || !IsRequest(v)) continue;
    SCOPED_TRACE(v.name);
    // The C++ codec (tested on the same vectors) supplies the fields.
    protocol::DecodeResult d = protocol::Decode(v.bytes);
    ASSERT_EQ(d.status, wire::Status::kOk);
    std::optional<protocol::Ed25519Key> key;
    if (v.seed) key = protocol::Ed25519Key::FromSeed(*v.seed);
    crsp_crypto hooks = HooksFor(key ? &*key : nullptr);
    std::vector<uint8_t> c = EncodeWithC(d.packet.header, d.packet.body, hooks);
    EXPECT_EQ(c, ToU8(v.bytes));
    ++checked;
  }
  EXPECT_GE(checked, 12);  // 8 registers, 2 withdraws, a query, a ping
}

TEST(DeviceVectors, ValidRequestsWithoutHooksNeedingThemAreRefused) {
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid" || !IsRequest(v)) continue;
    if (v.check_type != 2 && v.check_type != 7) continue;
    SCOPED_TRACE(v.name);
    protocol::DecodeResult d = protocol::Decode(v.bytes);
    crsp_crypto none{};
    EXPECT_TRUE(EncodeWithC(d.packet.header, d.packet.body, none).empty());
  }
}

TEST(DeviceVectors, ValidAnswersDecodeToTheirListedFields) {
  crsp_crypto hooks = HooksFor(nullptr);
  int checked = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid" || IsRequest(v)) continue;
    SCOPED_TRACE(v.name);
    CAnswer a = DecodeWithC(v.bytes, &hooks);
    ASSERT_EQ(a.status, CRSP_OK);
    EXPECT_EQ(a.answer.header.protocol, v.protocol);
    EXPECT_EQ(a.answer.header.type, v.type);
    EXPECT_EQ(a.answer.header.txid, v.txid);
    EXPECT_EQ(a.answer.header.check, v.check_type);
    EXPECT_EQ(a.answer.header.count, v.count);
    EXPECT_EQ(a.answer.header.status, v.status);
    EXPECT_TRUE(a.answer.has_body);
    EXPECT_EQ(a.answer.stored, v.count);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(DeviceVectors, RegisterAnswerCarriesEachEntrysStatusAndReplicas) {
  for (const Vector& v : LoadVectors()) {
    if (v.name != "register_answer") continue;
    CAnswer a = DecodeWithC(v.bytes, nullptr);
    ASSERT_EQ(a.status, CRSP_OK);
    EXPECT_EQ(a.answer.kind, CRSP_ANSWER_REGISTER);
    ASSERT_EQ(a.entries.size(), 2u);
    EXPECT_EQ(a.entries[0].resource, CRSP_RES_CPU);
    EXPECT_EQ(a.entries[0].status, CRSP_OK);
    EXPECT_EQ(a.entries[0].replicas, 3);
    EXPECT_EQ(a.entries[1].resource, CRSP_RES_MEMORY);
    EXPECT_EQ(a.entries[1].status, CRSP_INVALID_FIELD);
    return;
  }
  FAIL() << "no register_answer vector";
}

// query_answer: a signed CPU offer, 8 cores at 2.50/hour; the INCOMPLETE one
// an unsigned CPU offer, 4 cores at 3.00/hour.
TEST(DeviceVectors, QueryAnswersCarryTheirCpuOffer) {
  int checked = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.name != "query_answer" && v.name != "query_answer_incomplete") {
      continue;
    }
    SCOPED_TRACE(v.name);
    CAnswer a = DecodeWithC(v.bytes, nullptr);
    ASSERT_EQ(a.status, CRSP_OK);
    EXPECT_EQ(a.answer.kind, CRSP_ANSWER_QUERY);
    EXPECT_EQ(a.answer.header.status,
              v.name == "query_answer" ? CRSP_OK : CRSP_INCOMPLETE);
    EXPECT_EQ(a.answer.total, 1u);
    EXPECT_EQ(a.answer.next_cursor, 0u);
    ASSERT_EQ(a.offers.size(), 1u);
    const crsp_offer& o = a.offers[0];
    bool complete = v.name == "query_answer";
    const uint8_t contact[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 1};
    EXPECT_EQ(std::memcmp(o.contact, contact, 16), 0);
    EXPECT_EQ(o.contact_port, 7400);
    EXPECT_EQ(o.resource, CRSP_RES_CPU);
    EXPECT_EQ(o.unit, CRSP_UNIT_PER_HOUR);
    EXPECT_EQ(o.quantity, complete ? 8u : 4u);
    EXPECT_EQ(o.price, complete ? 250u : 300u);
    EXPECT_EQ(o.flags & CRSP_OFFER_FLAG_SIGNED,
              complete ? CRSP_OFFER_FLAG_SIGNED : 0);
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

// Requests are no answers: a device never takes one for a reply.
TEST(DeviceVectors, RequestsAreNotAnswers) {
  crsp_crypto hooks = HooksFor(nullptr);
  for (const Vector& v : LoadVectors()) {
    if (v.expect != "valid" || !IsRequest(v)) continue;
    SCOPED_TRACE(v.name);
    EXPECT_EQ(DecodeWithC(v.bytes, &hooks).status, CRSP_MALFORMED);
  }
}

// Length, version, check type and check bits are the same for every packet,
// so the answer decoder reports the status a node answers; faults in request
// fields it cannot see (it stops at "not an answer").
TEST(DeviceVectors, BadPacketsGetTheirStatusWhereAnAnswerDecoderCanTell) {
  crsp_crypto hooks = HooksFor(nullptr);
  int checked = 0;
  for (const Vector& v : LoadVectors()) {
    if (v.expect == "valid") continue;
    SCOPED_TRACE(v.name);
    crsp_status status = DecodeWithC(v.bytes, &hooks).status;
    int expected = v.answer_status.value_or(CRSP_MALFORMED);
    if (expected == CRSP_INVALID_FIELD) expected = CRSP_MALFORMED;
    EXPECT_EQ(status, expected);
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

TEST(DeviceVectors, SignedPacketsNeedTheVerifyHook) {
  for (const Vector& v : LoadVectors()) {
    if (v.name != "bad_signature") continue;
    crsp_crypto none{};
    EXPECT_EQ(DecodeWithC(v.bytes, &none).status, CRSP_UNSUPPORTED_CHECK);
    EXPECT_EQ(DecodeWithC(v.bytes, nullptr).status, CRSP_UNSUPPORTED_CHECK);
    crsp_crypto hooks = HooksFor(nullptr);
    EXPECT_EQ(DecodeWithC(v.bytes, &hooks).status, CRSP_BAD_CHECK);
    return;
  }
  FAIL() << "no bad_signature vector";
}

TEST(DeviceChecks, Crc32OfTheCheckString) {
  const char* text = "123456789";
  EXPECT_EQ(crsp_crc32(reinterpret_cast<const uint8_t*>(text), 9), 0xCBF43926u);
  EXPECT_EQ(crsp_crc32(nullptr, 0), 0u);
}

}  // namespace
}  // namespace crsp::device::testing
