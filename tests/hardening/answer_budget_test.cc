// The answer budget against a real crsp-node (PROTOCOL.md "Abuse"): a source
// past its budget gets only RATE_LIMITED answers, empty and never larger
// than its requests (no amplification, unlike CVE-2023-29552), while
// another source prefix is still served; the budget refills.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <variant>

#include "node_harness.h"

namespace crsp::testing {
namespace {

using namespace std::chrono_literals;
using wire::Status;

constexpr uint32_t kBudget = 1000;  // answer bytes/s per prefix
constexpr uint32_t kBurst = 3000;
constexpr int kResources = 10;  // one query answer: 10 offers, ~750 bytes

// A query for every resource the device offers: a small request (164
// bytes) whose answer is 4.5 times larger.
protocol::Packet BigQuery(uint32_t txid) {
  std::vector<protocol::QueryEntry> entries;
  for (int r = 1; r <= kResources; ++r) {
    protocol::QueryEntry e;
    e.resource = static_cast<uint16_t>(r);
    // Up to bucket p06 only: fewer keys for the node to watch.
    e.max_price = 1000;
    entries.push_back(e);
  }
  return Query(std::move(entries), txid);
}

// A dual-stack node with a small budget, and one device offering
// kResources resources, registered from ::1.
class AnswerBudget : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartNode(dir_.path() + "/node", {},
                      {"--answer-budget", std::to_string(kBudget),
                       "--answer-burst", std::to_string(kBurst)},
                      0, 0, "::");
    ASSERT_NE(node_, nullptr);
    served_ = std::make_unique<UdpClient>(node_->edge_port());  // ::1
    // ::ffff:127.0.0.1: another prefix.
    flooder_ = std::make_unique<UdpClient>(node_->edge_port(), true);
    std::vector<protocol::ResourceEntry> entries;
    for (int r = 1; r <= kResources; ++r) {
      entries.push_back(Entry(static_cast<uint16_t>(r), 100 + r));
    }
    auto reg = Ask(*served_, Register(Device(21), entries, 1));
    ASSERT_TRUE(reg);
    ASSERT_EQ(reg->packet.header.status, Status::kOk) << node_->Log();
    // The first query for a resource is read from the DHT while the node
    // (alone: among the closest to every rendezvous key) becomes their
    // aggregator; once its index is warm, answers are immediate. Ask from
    // ::1 until one is (bounded).
    auto warm = Ask(*served_, BigQuery(2));
    ASSERT_TRUE(warm);
    ASSERT_EQ(warm->packet.header.status, Status::kOk);
    const auto warm_by = std::chrono::steady_clock::now() + 60s;
    for (int i = 0; i < 600 && std::chrono::steady_clock::now() < warm_by;
         ++i) {
      const std::string log = node_->Log();
      size_t warm_ids = 0;
      for (size_t at = log.find(" warm: advertising"); at != std::string::npos;
           at = log.find(" warm: advertising", at + 1)) {
        ++warm_ids;
      }
      if (warm_ids >= kResources) break;
      std::this_thread::sleep_for(100ms);
    }
    // Warming sets up thousands of DHT listens; while OpenDHT's thread is
    // busy with them a ping stalls the node's loop (Info() waits for that
    // thread). Start the flood once a ping is quick again.
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < end) {
      const auto sent = std::chrono::steady_clock::now();
      auto pong = Ask(*served_, Ping(3));
      if (pong && std::chrono::steady_clock::now() - sent < 50ms) break;
    }
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<UdpClient> served_, flooder_;
};

TEST_F(AnswerBudget, FloodingSourceGetsOnlySmallRateLimitedAnswers) {
  UdpClient& served = *served_;
  UdpClient& flooder = *flooder_;
  constexpr int kRequests = 300;
  // Mostly big queries (txid 7), every tenth a ping (txid 8, 20 bytes,
  // whose limited answer must be no larger either).
  const auto request = protocol::Encode(BigQuery(7));
  const auto ping = protocol::Encode(Ping(8));
  int ok = 0, limited = 0, other = 0;
  size_t ok_bytes = 0;
  auto drain = [&](std::chrono::milliseconds wait) {
    while (auto answer = flooder.Receive(wait)) {
      const auto decoded = protocol::Decode(*answer);
      ASSERT_EQ(decoded.status, Status::kOk);
      const uint32_t txid = decoded.packet.header.txid;
      ASSERT_TRUE(txid == 7 || txid == 8);
      if (decoded.packet.header.status == Status::kOk) {
        ++ok;
        ok_bytes += answer->size();
      } else if (decoded.packet.header.status == Status::kRateLimited) {
        ++limited;
        EXPECT_LE(answer->size(), (txid == 7 ? request : ping).size());
        EXPECT_TRUE(
            std::holds_alternative<std::monostate>(decoded.packet.body));
        EXPECT_EQ(decoded.packet.header.count, 0u);
        EXPECT_EQ(decoded.packet.header.check, wire::CheckType::kCrc32);
      } else {
        ++other;
      }
    }
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    flooder.Send(i % 10 == 9 ? ping : request);
    // Read as we go, so that our own socket buffer drops nothing.
    if (i % 50 == 49) drain(20ms);
  }
  drain(1000ms);
  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  EXPECT_EQ(other, 0);
  EXPECT_GE(ok, 1);  // the burst was served
  // The budget is counted in whole seconds: one more second of slack.
  EXPECT_LE(ok_bytes, kBurst + kBudget * static_cast<size_t>(elapsed + 2))
      << ok << " full answers in " << elapsed << " s";
  EXPECT_GE(limited, kRequests * 9 / 10) << "ok " << ok;
  EXPECT_EQ(ok + limited, kRequests);  // every request was answered

  // The other prefix is untouched by the flood.
  auto query = Ask(served, BigQuery(8));
  ASSERT_TRUE(query);
  EXPECT_EQ(query->packet.header.status, Status::kOk);
  const auto* body = std::get_if<protocol::QueryAnswer>(&query->packet.body);
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->offers.size(), static_cast<size_t>(kResources));
  auto pong = Ask(served, Ping(9));
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->packet.header.status, Status::kOk);
}

TEST_F(AnswerBudget, BudgetRefillsAfterTheFloodStops) {
  UdpClient& flooder = *flooder_;
  const auto request = protocol::Encode(BigQuery(3));
  for (int i = 0; i < 50; ++i) flooder.Send(request);
  int limited = 0;
  while (auto answer = flooder.Receive(300ms)) {
    limited +=
        protocol::Decode(*answer).packet.header.status == Status::kRateLimited;
  }
  ASSERT_GT(limited, 0);
  // 1000 bytes/s refill: one full answer (~750 bytes) fits again within
  // a second or two.
  std::this_thread::sleep_for(3500ms);
  auto answer = flooder.Exchange(request, 1000ms, 1);
  ASSERT_TRUE(answer);
  EXPECT_EQ(protocol::Decode(*answer).packet.header.status, Status::kOk);
}

}  // namespace
}  // namespace crsp::testing
