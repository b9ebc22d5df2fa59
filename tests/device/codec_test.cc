// Bounds of the device library's codec: encoders never write past the
// capacity they are given, the decoder refuses every truncation of a valid
// answer, and items past the caller's arrays are checked but not stored.
#include <gtest/gtest.h>

#include <vector>

#include "device_support.h"
#include "vectors.h"

namespace crsp::device::testing {
namespace {

constexpr uint8_t kCanary = 0xA5;

crsp_resource_set Set() {
  crsp_resource_set set{};
  set.device[0] = 1;
  set.device_kind = CRSP_KIND_PRINTER;
  set.currency = 156;
  return set;
}

// Encodes with `encode(out, cap)` at every capacity below the packet's
// size: each returns 0 and leaves the bytes past `cap` alone.
template <typename Encode>
void ExpectCapacityRespected(Encode encode) {
  std::vector<uint8_t> full(2048);
  size_t size = encode(full.data(), full.size());
  ASSERT_GT(size, 0u);
  for (size_t cap = 0; cap < size; ++cap) {
    std::vector<uint8_t> out(size + 8, kCanary);
    EXPECT_EQ(encode(out.data(), cap), 0u) << cap;
    for (size_t i = cap; i < out.size(); ++i) {
      ASSERT_EQ(out[i], kCanary) << "capacity " << cap << ", byte " << i;
    }
  }
  std::vector<uint8_t> exact(size);
  EXPECT_EQ(encode(exact.data(), size), size);
}

TEST(DeviceCodec, EncodersNeverWritePastTheirCapacity) {
  crsp_resource_set set = Set();
  crsp_resource_entry entries[3] = {};
  uint16_t ids[2] = {CRSP_RES_PRINT, CRSP_RES_COPY};
  crsp_query query{};
  crsp_query_entry q{CRSP_RES_PRINT, CRSP_UNIT_ANY, CRSP_ANY_PRICE, 1};
  for (uint8_t check : {0, 1, 3, 4, 5, 6}) {
    SCOPED_TRACE(int(check));
    ExpectCapacityRespected([&](uint8_t* out, size_t cap) {
      return crsp_encode_register(out, cap, 1, check, nullptr, &set, entries,
                                  3);
    });
    ExpectCapacityRespected([&](uint8_t* out, size_t cap) {
      return crsp_encode_withdraw(out, cap, 1, check, nullptr, set.device, ids,
                                  2);
    });
    ExpectCapacityRespected([&](uint8_t* out, size_t cap) {
      return crsp_encode_ping(out, cap, 1, check, nullptr);
    });
    ExpectCapacityRespected([&](uint8_t* out, size_t cap) {
      return crsp_encode_query(out, cap, 1, check, nullptr, &query, &q, 1);
    });
  }
}

TEST(DeviceCodec, EncodersRefuseCountsOutOfRangeAndReservedChecks) {
  uint8_t out[4096];
  crsp_resource_set set = Set();
  crsp_resource_entry entries[65] = {};
  uint16_t ids[65] = {};
  crsp_query query{};
  crsp_query_entry q[17] = {};
  EXPECT_EQ(
      crsp_encode_register(out, sizeof out, 1, 5, nullptr, &set, entries, 0),
      0u);
  EXPECT_EQ(
      crsp_encode_register(out, sizeof out, 1, 5, nullptr, &set, entries, 65),
      0u);
  EXPECT_GT(
      crsp_encode_register(out, sizeof out, 1, 5, nullptr, &set, entries, 64),
      0u);
  EXPECT_EQ(
      crsp_encode_withdraw(out, sizeof out, 1, 5, nullptr, set.device, ids, 65),
      0u);
  EXPECT_GT(crsp_encode_withdraw(out, sizeof out, 1, 5, nullptr, set.device,
                                 nullptr, 0),
            0u);  // every offer of the device
  EXPECT_EQ(crsp_encode_query(out, sizeof out, 1, 5, nullptr, &query, q, 17),
            0u);
  EXPECT_EQ(crsp_encode_query(out, sizeof out, 1, 5, nullptr, &query, q, 0),
            0u);
  for (uint8_t check = 8; check < 16; ++check) {
    EXPECT_EQ(crsp_encode_ping(out, sizeof out, 1, check, nullptr), 0u);
  }
  EXPECT_EQ(crsp_encode_ping(out, sizeof out, 1, CRSP_CHECK_MD5, nullptr), 0u);
}

TEST(DeviceCodec, EveryTruncationOfAnAnswerIsRefused) {
  for (const auto& v : protocol::testing::LoadVectors()) {
    if (v.expect != "valid" || !v.type || (*v.type & 1) != 0) continue;
    SCOPED_TRACE(v.name);
    for (size_t len = 0; len < v.bytes.size(); ++len) {
      // A copy of exactly `len` bytes, so ASan sees any read past it.
      std::vector<std::byte> cut(v.bytes.begin(), v.bytes.begin() + len);
      EXPECT_NE(DecodeWithC(cut, nullptr).status, CRSP_OK) << len;
    }
  }
}

TEST(DeviceCodec, ItemsPastTheCallersArrayAreCheckedButNotStored) {
  protocol::Packet p;
  p.header = protocol::HeaderFor(wire::PacketKind::kQueryAnswer, 9,
                                 wire::CheckType::kCrc32);
  protocol::QueryAnswer q;
  q.total = 5;
  for (uint32_t i = 0; i < 5; ++i) {
    protocol::Offer o;
    o.price = 10 + i;
    q.offers.push_back(o);
  }
  p.body = q;
  std::vector<uint8_t> bytes = ToU8(protocol::Encode(p));
  crsp_offer offers[3 + 1];
  offers[3].price = 0xDEAD;
  crsp_answer a{};
  a.offers = offers;
  a.offers_capacity = 3;
  ASSERT_EQ(crsp_decode_answer(bytes.data(), bytes.size(), nullptr, &a),
            CRSP_OK);
  EXPECT_EQ(a.header.count, 5);
  EXPECT_EQ(a.stored, 3);
  EXPECT_EQ(offers[2].price, 12u);
  EXPECT_EQ(offers[3].price, 0xDEADu);  // untouched
  EXPECT_EQ(a.total, 5u);

  a.offers = nullptr;  // no array at all: still checked
  EXPECT_EQ(crsp_decode_answer(bytes.data(), bytes.size(), nullptr, &a),
            CRSP_OK);
  EXPECT_EQ(a.stored, 0);
  bytes[20] ^= 1;
  EXPECT_EQ(crsp_decode_answer(bytes.data(), bytes.size(), nullptr, &a),
            CRSP_BAD_CHECK);
}

}  // namespace
}  // namespace crsp::device::testing
