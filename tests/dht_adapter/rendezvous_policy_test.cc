// The store and read policies of the two kinds of values, side by side:
// rendezvous values only under their own resource's rendezvous key, offers
// only under their own keys, and neither type's value taken by the other's
// policy (OpenDHT picks the policy by the value's type, so each must refuse
// what the other kind looks like). Plain OpenDHT values, no network.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <opendht.h>

#include <cstring>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/keys.h"
#include "opendht_impl.h"
#include "record_builder.h"
#include "value_types.h"

namespace crsp::dht {
namespace {

using aggregator::RendezvousValue;
using ::dht::InfoHash;
using internal::AcceptRendezvous;
using internal::AcceptValue;

::dht::Blob BlobOf(const std::vector<std::byte>& b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return ::dht::Blob(p, p + b.size());
}

std::shared_ptr<::dht::Value> ValueOf(uint16_t type,
                                      const std::vector<std::byte>& data) {
  return std::make_shared<::dht::Value>(type, BlobOf(data));
}

InfoHash RendezvousKey(uint16_t resource) {
  return InfoHash::get(aggregator::RendezvousKeyName(resource));
}

std::vector<std::byte> Advert(uint16_t resource) {
  protocol::NodeId node{};
  node.fill(0x5A);
  return aggregator::EncodeAdvert({resource, node, 7400, testing::Now()});
}

TEST(RendezvousPolicy, TakesAnAdvertOrDemandUnderItsOwnResourcesKeyOnly) {
  const uint16_t type = kRendezvousValueType.id;
  auto advert = AcceptRendezvous(RendezvousKey(7), ValueOf(type, Advert(7)));
  ASSERT_TRUE(advert.has_value());
  EXPECT_EQ(advert->kind, RendezvousValue::Kind::kAdvert);
  EXPECT_EQ(advert->advert.resource, 7);
  auto demand = AcceptRendezvous(
      RendezvousKey(7), ValueOf(type, aggregator::EncodeDemand({7, {}})));
  ASSERT_TRUE(demand.has_value());
  EXPECT_EQ(demand->kind, RendezvousValue::Kind::kDemand);

  // Another resource's key, an offer key, an unrelated key.
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(8), ValueOf(type, Advert(7))));
  const OfferRecord record = testing::UnsignedRecord(1, 500, 7);
  const InfoHash offer_key = InfoHash::get(KeyFor(record.offer));
  EXPECT_FALSE(AcceptRendezvous(offer_key, ValueOf(type, Advert(7))));
  EXPECT_FALSE(AcceptRendezvous(InfoHash::get("x"), ValueOf(type, Advert(7))));
  // Garbage, an offer record, trailing bytes: none decodes.
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(7),
                                ValueOf(type, std::vector<std::byte>(40))));
  EXPECT_FALSE(
      AcceptRendezvous(RendezvousKey(7), ValueOf(type, EncodeRecord(record))));
  std::vector<std::byte> trailing = Advert(7);
  trailing.push_back(std::byte{0});
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(7), ValueOf(type, trailing)));
  // Not of the rendezvous type.
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(7), ValueOf(0x4301, Advert(7))));
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(7), nullptr));
}

TEST(RendezvousPolicy, ASignedValueMustVerify) {
  const auto identity = ::dht::crypto::generateIdentity("policy", {}, 2048);
  auto good = ValueOf(kRendezvousValueType.id, Advert(7));
  good->sign(*identity.first);
  EXPECT_TRUE(AcceptRendezvous(RendezvousKey(7), good));
  auto broken = ValueOf(kRendezvousValueType.id, Advert(7));
  broken->sign(*identity.first);
  broken->data.back() ^= 1;  // another warm_since: not what was signed
  ASSERT_TRUE(aggregator::DecodeRendezvousValue(
      std::as_bytes(std::span(broken->data))));
  EXPECT_FALSE(AcceptRendezvous(RendezvousKey(7), broken));
}

TEST(OfferPolicy, RefusesRendezvousValuesAndOffersUnderARendezvousKey) {
  const uint64_t now = testing::Now();
  const OfferRecord record = testing::UnsignedRecord(1, 500, 7);
  const InfoHash offer_key = InfoHash::get(KeyFor(record.offer));
  // The control: an offer value under its key.
  EXPECT_TRUE(
      AcceptValue(offer_key, ValueOf(0x4301, EncodeRecord(record)), now));
  // A valid record, but of the rendezvous type.
  EXPECT_FALSE(AcceptValue(
      offer_key, ValueOf(kRendezvousValueType.id, EncodeRecord(record)), now));
  // An advert of an offer type.
  EXPECT_FALSE(AcceptValue(offer_key, ValueOf(0x4301, Advert(7)), now));
  // An offer of its own type under the rendezvous key of its resource.
  EXPECT_FALSE(AcceptValue(RendezvousKey(7),
                           ValueOf(0x4301, EncodeRecord(record)), now));
}

TEST(RendezvousValueType, IsNoOfferTypeAndLivesAnAdvertsLifetime) {
  EXPECT_FALSE(IsOfferType(kRendezvousValueType.id));
  EXPECT_EQ(kRendezvousValueType.id, 0x4A00);
  EXPECT_EQ(kRendezvousValueType.expiration, aggregator::kAdvertLifetime);
  EXPECT_GT(kRendezvousValueType.expiration, std::chrono::seconds(10));
}

TEST(AddressBytes, IPv4IsMappedAndIPv6KeptAsIs) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
  const auto v4 = internal::AddressBytes(
      ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)));
  const protocol::Ipv6Address mapped = {0, 0, 0,    0,    0,   0, 0, 0,
                                        0, 0, 0xFF, 0xFF, 192, 0, 2, 7};
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(*v4, mapped);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr), 1);
  const auto v6 = internal::AddressBytes(
      ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6)));
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(std::memcmp(v6->data(), &sin6.sin6_addr, 16), 0);
  EXPECT_FALSE(internal::AddressBytes(::dht::SockAddr()).has_value());
}

}  // namespace
}  // namespace crsp::dht
