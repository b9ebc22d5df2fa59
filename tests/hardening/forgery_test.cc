// Forgery and replay over real UDP against a real crsp-node: a signed offer
// cannot be changed or withdrawn by another key, by an unsigned request or
// by replaying an older signed request; an exact resend gets the identical
// answer; an unsigned offer cannot be withdrawn from another address.
#include <gtest/gtest.h>

#include <variant>

#include "node_harness.h"

namespace crsp::testing {
namespace {

using protocol::Ed25519Key;
using wire::CheckType;
using wire::Status;

class ForgeryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartNode(dir_.path() + "/node", {}, {}, 0, 0, "::");
    ASSERT_NE(node_, nullptr);
    owner_ = Ed25519Key::Generate();
    thief_ = Ed25519Key::Generate();
    ASSERT_TRUE(owner_ && thief_);
  }

  // The node's verdict on `request` (signed by `signer` when given).
  Status Verdict(UdpClient& client, const protocol::Packet& request,
                 const Ed25519Key* signer = nullptr) {
    auto answer = Ask(client, request, signer);
    if (!answer) return Status::kInternal;  // no answer: fails every EXPECT
    return answer->packet.header.status;
  }

  // Every CPU offer the node serves.
  std::vector<protocol::Offer> CpuOffers(UdpClient& client) {
    auto offers = QueryAll(client, wire::kResourceCpu);
    EXPECT_TRUE(offers.has_value());
    return offers.value_or(std::vector<protocol::Offer>{});
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::optional<Ed25519Key> owner_, thief_;
};

constexpr CheckType kSigned = CheckType::kEd25519;

TEST_F(ForgeryTest, SignedOfferCannotBeChangedOrWithdrawnByAnotherKey) {
  UdpClient client(node_->edge_port());
  const auto device = Device(11);
  ASSERT_EQ(
      Verdict(client,
              Register(device, {Entry(wire::kResourceCpu, 500)}, 100, kSigned),
              &*owner_),
      Status::kOk);
  // Another key, a higher txid: still not the owner.
  EXPECT_EQ(
      Verdict(client,
              Register(device, {Entry(wire::kResourceCpu, 1)}, 200, kSigned),
              &*thief_),
      Status::kNotAuthorized);
  EXPECT_EQ(Verdict(client, Withdraw(device, {}, 201, kSigned), &*thief_),
            Status::kNotAuthorized);
  EXPECT_EQ(
      Verdict(client, Withdraw(device, {wire::kResourceCpu}, 202, kSigned),
              &*thief_),
      Status::kNotAuthorized);
  auto offers = CpuOffers(client);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 500u);
  EXPECT_EQ(offers[0].flags & wire::kOfferFlagSigned, wire::kOfferFlagSigned);
}

TEST_F(ForgeryTest, SignedOfferCannotBeChangedOrWithdrawnUnsigned) {
  UdpClient client(node_->edge_port());
  const auto device = Device(12);
  ASSERT_EQ(
      Verdict(client,
              Register(device, {Entry(wire::kResourceCpu, 500)}, 100, kSigned),
              &*owner_),
      Status::kOk);
  // From the very address that registered it, but without the key.
  for (CheckType check :
       {CheckType::kNone, CheckType::kCrc32, CheckType::kMd5}) {
    EXPECT_EQ(Verdict(client, Register(device, {Entry(wire::kResourceCpu, 1)},
                                       300, check)),
              Status::kNotAuthorized);
    EXPECT_EQ(Verdict(client, Withdraw(device, {}, 301, check)),
              Status::kNotAuthorized);
  }
  auto offers = CpuOffers(client);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 500u);
}

TEST_F(ForgeryTest, ReplayedOlderSignedRequestIsRefused) {
  UdpClient client(node_->edge_port());
  const auto device = Device(13);
  const auto old_register = protocol::Encode(
      Register(device, {Entry(wire::kResourceCpu, 500)}, 100, kSigned),
      &*owner_);
  const auto old_withdraw =
      protocol::Encode(Withdraw(device, {}, 150, kSigned), &*owner_);
  auto first = client.Exchange(old_register, std::chrono::seconds(3));
  ASSERT_TRUE(first);
  ASSERT_EQ(protocol::Decode(*first).packet.header.status, Status::kOk);
  auto withdrawn = client.Exchange(old_withdraw, std::chrono::seconds(3));
  ASSERT_TRUE(withdrawn);
  ASSERT_EQ(protocol::Decode(*withdrawn).packet.header.status, Status::kOk);
  ASSERT_EQ(
      Verdict(client,
              Register(device, {Entry(wire::kResourceCpu, 600)}, 200, kSigned),
              &*owner_),
      Status::kOk);

  // The recorded old register and withdraw, byte for byte: lower txids.
  auto replayed = client.Exchange(old_register, std::chrono::seconds(3));
  ASSERT_TRUE(replayed);
  EXPECT_EQ(protocol::Decode(*replayed).packet.header.status,
            Status::kNotAuthorized);
  replayed = client.Exchange(old_withdraw, std::chrono::seconds(3));
  ASSERT_TRUE(replayed);
  EXPECT_EQ(protocol::Decode(*replayed).packet.header.status,
            Status::kNotAuthorized);

  auto offers = CpuOffers(client);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 600u);
}

TEST_F(ForgeryTest, ExactResendGetsTheIdenticalAnswerAndOtherBytesDoNot) {
  UdpClient client(node_->edge_port());
  const auto device = Device(14);
  const auto request = protocol::Encode(
      Register(device, {Entry(wire::kResourceCpu, 500)}, 100, kSigned),
      &*owner_);
  auto first = client.Exchange(request, std::chrono::seconds(3));
  ASSERT_TRUE(first);
  ASSERT_EQ(protocol::Decode(*first).packet.header.status, Status::kOk);
  auto again = client.Exchange(request, std::chrono::seconds(3));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);  // the cached answer, byte for byte

  // Same txid, other content, validly signed by the owner: not a resend.
  EXPECT_EQ(
      Verdict(client,
              Register(device, {Entry(wire::kResourceCpu, 1)}, 100, kSigned),
              &*owner_),
      Status::kNotAuthorized);
  auto offers = CpuOffers(client);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 500u);
}

TEST_F(ForgeryTest, TamperedSignedRequestIsRefusedAsBadCheck) {
  UdpClient client(node_->edge_port());
  auto bytes = protocol::Encode(
      Register(Device(15), {Entry(wire::kResourceCpu, 500)}, 100, kSigned),
      &*owner_);
  // The first entry's price (offset 8 in the entry).
  bytes[wire::kHeaderSize + wire::kResourceSetSize + 8] ^= std::byte{0x01};
  auto answer = client.Exchange(bytes, std::chrono::seconds(3));
  ASSERT_TRUE(answer);
  EXPECT_EQ(protocol::Decode(*answer).packet.header.status, Status::kBadCheck);
  EXPECT_TRUE(CpuOffers(client).empty());
}

// Dual stack: 127.0.0.1 arrives as ::ffff:127.0.0.1, another owner than ::1.
TEST_F(ForgeryTest, UnsignedOfferCannotBeWithdrawnFromAnotherAddress) {
  UdpClient owner(node_->edge_port());
  UdpClient other(node_->edge_port(), /*ipv4=*/true);
  const auto device = Device(16);
  ASSERT_EQ(Verdict(owner, Register(device,
                                    {Entry(wire::kResourceCpu, 700),
                                     Entry(wire::kResourceMemory, 70)},
                                    1)),
            Status::kOk);
  EXPECT_EQ(Verdict(other, Withdraw(device, {wire::kResourceCpu}, 2)),
            Status::kNotAuthorized);
  EXPECT_EQ(Verdict(other, Withdraw(device, {}, 3)), Status::kNotAuthorized);
  EXPECT_EQ(Verdict(other, Register(device, {Entry(wire::kResourceCpu, 1)}, 4)),
            Status::kNotAuthorized);
  // Signing does not help a stranger take over an unsigned device.
  EXPECT_EQ(Verdict(other, Withdraw(device, {}, 5, kSigned), &*thief_),
            Status::kNotAuthorized);
  auto offers = CpuOffers(other);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 700u);
  // The owner still can.
  EXPECT_EQ(Verdict(owner, Withdraw(device, {}, 6)), Status::kOk);
  EXPECT_TRUE(CpuOffers(other).empty());
}

}  // namespace
}  // namespace crsp::testing
