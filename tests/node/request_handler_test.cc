// The request handler against the shared vectors and every check type:
// every answer carries its request's check type and verifies; type-7
// answers are signed with the node's key.
#include <gtest/gtest.h>
#include <json/json.h>

#include <fstream>
#include <string>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

std::vector<std::byte> FromHex(const std::string& hex) {
  std::vector<std::byte> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Json::Value Vectors() {
  std::ifstream in(CRSP_VECTORS_PATH);
  Json::Value root;
  in >> root;
  return root["vectors"];
}

TEST(RequestHandler, AnswersEveryBadInputVectorAsTheVectorSays) {
  World world;
  TestNode node(world);
  int checked = 0;
  for (const Json::Value& v : Vectors()) {
    if (v["expect"].asString() == "valid") continue;
    const auto answers = node.SendRaw(FromHex(v["hex"].asString()));
    SCOPED_TRACE(v["name"].asString());
    if (v["expect"].asString() == "no_answer") {
      EXPECT_TRUE(answers.empty());
    } else {
      ASSERT_EQ(answers.size(), 1u);
      const protocol::DecodeResult a = protocol::Decode(answers[0]);
      EXPECT_TRUE(a.check_ok);
      EXPECT_EQ(static_cast<int>(a.packet.header.status),
                v["answer_status"].asInt());
      if (v.isMember("txid")) {
        EXPECT_EQ(a.packet.header.txid, v["txid"].asUInt());
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

TEST(RequestHandler,
     AnswersTheJanuary2026RegistersWithInvalidFieldUnderTheirCheckType) {
  World world;
  TestNode node(world);
  int checked = 0;
  for (const Json::Value& v : Vectors()) {
    const std::string name = v["name"].asString();
    if (name.rfind("register_check", 0) != 0 && name != "register_signed") {
      continue;
    }
    SCOPED_TRACE(name);
    const auto answers = node.SendRaw(FromHex(v["hex"].asString()));
    ASSERT_EQ(answers.size(), 1u);
    const protocol::DecodeResult a = protocol::Decode(answers[0]);
    EXPECT_TRUE(a.check_ok);
    EXPECT_EQ(static_cast<int>(a.packet.header.check), v["check_type"].asInt());
    EXPECT_EQ(a.packet.header.status, wire::Status::kInvalidField);
    const auto& results = Results(a);
    ASSERT_EQ(results.entries.size(), 2u);
    EXPECT_EQ(results.entries[0].status, wire::Status::kInvalidField);
    if (name == "register_signed") {
      ASSERT_TRUE(a.signer.has_value());
      EXPECT_EQ(*a.signer, node.node().public_key());
    }
    ++checked;
  }
  EXPECT_EQ(checked, 8);
  EXPECT_EQ(node.node().offer_count(), 0u);
}

TEST(RequestHandler, NeverAnswersAnAnswer) {
  World world;
  TestNode node(world);
  for (const Json::Value& v : Vectors()) {
    const std::string name = v["name"].asString();
    if (name != "register_answer" && name != "query_answer") continue;
    EXPECT_TRUE(node.SendRaw(FromHex(v["hex"].asString())).empty()) << name;
  }
}

TEST(RequestHandler, AnswersThePingVector) {
  World world;
  TestNode node(world, {}, protocol::NodeId{7, 7, 7});
  for (const Json::Value& v : Vectors()) {
    if (v["name"].asString() != "ping") continue;
    const auto answers = node.SendRaw(FromHex(v["hex"].asString()));
    ASSERT_EQ(answers.size(), 1u);
    const protocol::DecodeResult a = protocol::Decode(answers[0]);
    EXPECT_EQ(a.packet.header.status, wire::Status::kOk);
    const auto& ping = std::get<protocol::PingAnswer>(a.packet.body);
    EXPECT_EQ(ping.node_id[0], 7);
    EXPECT_EQ(ping.peers, 3u);
    EXPECT_EQ(ping.public_key, node.node().public_key());
  }
}

class EveryCheckType : public ::testing::TestWithParam<int> {};

TEST_P(EveryCheckType,
       AnswersPingRegisterQueryAndWithdrawUnderTheRequestsCheckType) {
  World world;
  TestNode node(world);
  const auto check = static_cast<wire::CheckType>(GetParam());
  const protocol::Ed25519Key device_key = KeyFromByte(0x42);
  const protocol::Ed25519Key* signer =
      check == wire::CheckType::kEd25519 ? &device_key : nullptr;

  const std::vector<protocol::DecodeResult> answers = {
      node.Send(Ping(1, check), SourceA(), signer),
      node.Send(Register(2, Device(1), {Entry(1, 250)}, check), SourceA(),
                signer),
      node.Send(Query(3, {Want(1)}, check), SourceA(), signer),
      node.Send(Withdraw(4, Device(1), {1}, check), SourceA(), signer),
  };
  for (const protocol::DecodeResult& a : answers) {
    EXPECT_EQ(a.packet.header.status, wire::Status::kOk);
    EXPECT_EQ(a.packet.header.check, check);
    if (check == wire::CheckType::kEd25519) {
      ASSERT_TRUE(a.signer.has_value());
      EXPECT_EQ(*a.signer, node.node().public_key());
    }
  }
  ASSERT_EQ(Offers(answers[2]).offers.size(), 1u);
  EXPECT_EQ(Offers(answers[2]).offers[0].flags,
            check == wire::CheckType::kEd25519 ? wire::kOfferFlagSigned : 0);
}

INSTANTIATE_TEST_SUITE_P(CheckTypes, EveryCheckType, ::testing::Range(0, 8));

TEST(RequestHandler,
     AnswersAReservedCheckTypeWithUnsupportedCheckUnderTypeZero) {
  World world;
  TestNode node(world);
  std::vector<std::byte> ping = Bytes(Ping(9, wire::CheckType::kNone));
  ping[wire::kOffCheckType] = std::byte{9};
  const auto answers = node.SendRaw(ping);
  ASSERT_EQ(answers.size(), 1u);
  const protocol::DecodeResult a = protocol::Decode(answers[0]);
  EXPECT_EQ(a.packet.header.status, wire::Status::kUnsupportedCheck);
  EXPECT_EQ(a.packet.header.check, wire::CheckType::kNone);
}

TEST(RequestHandler, AnswersTooManyItemsWithTooLarge) {
  World world;
  TestNode node(world);
  std::vector<uint16_t> ids(wire::kMaxWithdrawIds + 1, 1);
  const protocol::DecodeResult a = node.Send(Withdraw(5, Device(1), ids));
  EXPECT_EQ(a.packet.header.status, wire::Status::kTooLarge);
}

TEST(RequestHandler, IgnoresDatagramsTooShortForATransactionId) {
  World world;
  TestNode node(world);
  const std::vector<std::byte> bytes = Bytes(Ping(1));
  for (size_t n = 0; n < wire::kTxidReadable; ++n) {
    EXPECT_TRUE(node.SendRaw(std::span(bytes).first(n)).empty()) << n;
  }
}

}  // namespace
}  // namespace crsp::node::testing
