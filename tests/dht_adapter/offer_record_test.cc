// The msgpack record codec: round trips, and refusal of every malformed
// input without throwing.
#include "crsp/dht_adapter/offer_record.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <string>

#include "record_builder.h"

namespace crsp::dht {
namespace {

using testing::SignedRecord;
using testing::TestKey;
using testing::UnsignedRecord;

std::vector<std::byte> Pack(const msgpack::sbuffer& buffer) {
  const auto* p = reinterpret_cast<const std::byte*>(buffer.data());
  return std::vector<std::byte>(p, p + buffer.size());
}

// The valid encoding of `record` with array element `index` replaced by
// `replacement` (a packed msgpack object), or removed when empty.
std::vector<std::byte> WithField(const OfferRecord& record, uint32_t index,
                                 const msgpack::object* replacement) {
  const std::vector<std::byte> good = EncodeRecord(record);
  msgpack::object_handle h =
      msgpack::unpack(reinterpret_cast<const char*>(good.data()), good.size());
  const msgpack::object_array& fields = h.get().via.array;
  msgpack::sbuffer out;
  msgpack::packer<msgpack::sbuffer> pk(&out);
  pk.pack_array(replacement ? fields.size : fields.size - 1);
  for (uint32_t i = 0; i < fields.size; ++i) {
    if (i != index) {
      pk.pack(fields.ptr[i]);
    } else if (replacement) {
      pk.pack(*replacement);
    }
  }
  return Pack(out);
}

// The bytes other nodes read (docs/storage.md "Record layout"), pinned: a
// change of encoder must not change them.
TEST(OfferRecord, EncodingIsPinned) {
  OfferRecord r;
  for (uint8_t i = 0; i < 16; ++i) {
    r.offer.device[i] = i;
    r.offer.contact[i] = static_cast<uint8_t>(0xF0 | i);
  }
  r.offer.contact_port = 7401;
  r.offer.device_kind = 1;
  r.offer.currency = 978;
  r.offer.resource = 0x0001;
  r.offer.unit = 1;
  r.offer.quantity = 8;
  r.offer.price = 250;
  r.offer.valid_from = 1'800'000'000;
  r.offer.valid_until = 1'800'086'400;
  r.version = 1'800'000'000'123;
  r.owner_address[15] = 1;
  r.signed_request = {std::byte{0xAB}, std::byte{0xCD}};
  const std::vector<std::byte> bytes = EncodeRecord(r);
  std::string hex;
  for (std::byte b : bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[std::to_integer<int>(b) >> 4];
    hex += kHex[std::to_integer<int>(b) & 0xF];
  }
  EXPECT_EQ(hex,
            "dc001101c410000102030405060708090a0b0c0d0e0fc410f0f1f2f3f4f5f6f7f8"
            "f9fafbfcfdfeffcd1ce901cd03d201010008ccface6b49d200ce6b4b2380cf0000"
            "01a3185c507bc2c41000000000000000000000000000000001c402abcd");
}

TEST(OfferRecord, UnsignedRecordRoundTrips) {
  const OfferRecord r = UnsignedRecord(1);
  EXPECT_EQ(DecodeRecord(EncodeRecord(r)), r);
}

TEST(OfferRecord, SignedTombstoneWithExtremeFieldsRoundTrips) {
  OfferRecord r = SignedRecord(UnsignedRecord(2).offer, 77, TestKey());
  r.withdrawn = true;
  r.version = UINT64_MAX;
  r.offer.price = UINT32_MAX;
  r.offer.valid_until = UINT64_MAX;
  r.offer.flags = 0xFF;
  const std::vector<std::byte> bytes = EncodeRecord(r);
  EXPECT_LE(bytes.size(), kMaxRecordSize);
  EXPECT_EQ(DecodeRecord(bytes), r);
}

TEST(OfferRecord, IsCompact) {
  // 72 bytes of offer plus version, flags and owner: well under 200 bytes.
  EXPECT_LT(EncodeRecord(UnsignedRecord(1)).size(), 200u);
}

TEST(OfferRecord, EveryTruncationIsRefused) {
  const std::vector<std::byte> bytes =
      EncodeRecord(SignedRecord(UnsignedRecord(3).offer, 5, TestKey()));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeRecord(std::span(bytes.data(), n))) << "length " << n;
  }
}

TEST(OfferRecord, TrailingBytesAreRefused) {
  std::vector<std::byte> bytes = EncodeRecord(UnsignedRecord(1));
  bytes.push_back(std::byte{0xC0});  // msgpack nil
  EXPECT_FALSE(DecodeRecord(bytes));
}

TEST(OfferRecord, OversizedInputIsRefused) {
  OfferRecord r = UnsignedRecord(1);
  r.signed_request.assign(kMaxRecordSize, std::byte{1});
  const std::vector<std::byte> bytes = EncodeRecord(r);
  ASSERT_GT(bytes.size(), kMaxRecordSize);
  EXPECT_FALSE(DecodeRecord(bytes));
}

TEST(OfferRecord, WrongFieldTypesAreRefused) {
  msgpack::zone zone;
  const msgpack::object text(std::string("x"), zone);
  const msgpack::object negative(-1);
  const msgpack::object too_big(uint64_t{1} << 40);
  const OfferRecord r = UnsignedRecord(1);
  for (uint32_t i = 0; i < 17; ++i) {
    EXPECT_FALSE(DecodeRecord(WithField(r, i, &text))) << "field " << i;
    EXPECT_FALSE(DecodeRecord(WithField(r, i, &negative))) << "field " << i;
    EXPECT_FALSE(DecodeRecord(WithField(r, i, nullptr))) << "field " << i;
  }
  // u16 and u32 fields refuse values that do not fit.
  for (uint32_t i : {3u, 4u, 5u, 6u, 7u, 8u, 9u, 10u}) {
    EXPECT_FALSE(DecodeRecord(WithField(r, i, &too_big))) << "field " << i;
  }
}

TEST(OfferRecord, WrongBinLengthsAreRefused) {
  const std::vector<char> fifteen(15, 'a');
  msgpack::object bin;
  bin.type = msgpack::type::BIN;
  bin.via.bin.size = 15;
  bin.via.bin.ptr = fifteen.data();
  const OfferRecord r = UnsignedRecord(1);
  for (uint32_t i : {1u, 2u, 15u}) {  // device, contact, owner address
    EXPECT_FALSE(DecodeRecord(WithField(r, i, &bin))) << "field " << i;
  }
}

TEST(OfferRecord, UnknownFormatVersionIsRefused) {
  const msgpack::object two(2);
  EXPECT_FALSE(DecodeRecord(WithField(UnsignedRecord(1), 0, &two)));
}

TEST(OfferRecord, NonArrayRootsAreRefused) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(&buffer);
  pk.pack_map(1);
  pk.pack(1);
  pk.pack(2);
  EXPECT_FALSE(DecodeRecord(Pack(buffer)));
  // An array claiming 2^32-1 elements in 5 bytes must not allocate for them.
  const std::vector<std::byte> huge = {std::byte{0xDD}, std::byte{0xFF},
                                       std::byte{0xFF}, std::byte{0xFF},
                                       std::byte{0xFF}};
  EXPECT_FALSE(DecodeRecord(huge));
}

}  // namespace
}  // namespace crsp::dht
