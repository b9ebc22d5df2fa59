// The client state machine with an injected clock: every datagram it sends
// is recorded, answers are real packets from the C++ codec, and time moves
// only when a test says so.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "device_support.h"

namespace crsp::device::testing {
namespace {

using protocol::Packet;
using wire::Status;

constexpr uint64_t kStart = 1'800'000'000'000;  // ms since the epoch

struct Sent {
  uint8_t node;
  std::vector<uint8_t> bytes;
  uint64_t at_ms;
};

struct Event {
  crsp_client_event event;
  uint8_t node;
  uint32_t value;
};

class ClientTest : public ::testing::Test {
 protected:
  void Init(uint8_t nodes) {
    entries_[0] = {CRSP_RES_PRINT, CRSP_UNIT_PER_PAGE, 500, 12, 0, 0};
    entries_[1] = {CRSP_RES_COPY, CRSP_UNIT_PER_PAGE, 500, 8, 0, 0};
    crsp_client_config config{};
    config.node_count = nodes;
    config.send = [](void* ctx, uint8_t node, const uint8_t* data, size_t len) {
      auto* self = static_cast<ClientTest*>(ctx);
      self->sent_.push_back({node, {data, data + len}, self->now_});
      return 0;
    };
    config.on_event = [](void* ctx, crsp_client_event event, uint8_t node,
                         uint32_t value, const crsp_answer*) {
      static_cast<ClientTest*>(ctx)->events_.push_back({event, node, value});
    };
    config.ctx = this;
    config.set.device[0] = 0xD7;
    config.set.device_kind = CRSP_KIND_PRINTER;
    config.set.currency = 156;
    config.entries = entries_;
    config.entry_count = 2;
    config.check = CRSP_CHECK_CRC32;
    config.first_txid = 100;
    config.lease_s = 3600;
    config.buffer = buffer_;
    config.buffer_size = sizeof buffer_;
    ASSERT_EQ(crsp_client_init(&client_, &config), 0);
  }

  // Moves the clock to `ms` after the start, polling at every due time on
  // the way, as a main loop would.
  void RunUntil(uint64_t ms) {
    for (int i = 0; i < 1000; ++i) {
      uint64_t next = crsp_client_next_ms(&client_);
      if (next > kStart + ms) break;
      now_ = std::max(now_, next);
      crsp_client_poll(&client_, now_);
    }
    now_ = kStart + ms;
    crsp_client_poll(&client_, now_);
  }

  // The C++ decode of the last datagram sent.
  protocol::DecodeResult Last() {
    return protocol::Decode(AsBytes(sent_.back().bytes));
  }

  // Answers the last datagram, as node `node`, with `status`.
  void Answer(uint8_t node, Status status, uint64_t after_ms = 0) {
    now_ += after_ms;
    protocol::DecodeResult request = Last();
    ASSERT_EQ(request.status, Status::kOk);
    Packet answer = protocol::ErrorAnswer(request.packet.header, status);
    const auto& body = request.packet.body;
    if (std::holds_alternative<protocol::PingRequest>(body)) {
      answer.body = protocol::PingAnswer{};
    } else if (const auto* r = std::get_if<protocol::RegisterRequest>(&body)) {
      protocol::RegisterAnswer a;
      a.device = r->set.device;
      for (const auto& e : r->entries)
        a.entries.push_back({e.resource, status, 3});
      answer.body = a;
    } else if (const auto* w = std::get_if<protocol::WithdrawRequest>(&body)) {
      protocol::WithdrawAnswer a;
      a.device = w->device;
      for (uint16_t id : w->resources) a.entries.push_back({id, status, 3});
      answer.body = a;
    }
    std::vector<uint8_t> bytes = ToU8(protocol::Encode(answer));
    crsp_client_receive(&client_, now_, node, bytes.data(), bytes.size());
  }

  std::vector<uint64_t> SendTimesTo(uint8_t node) const {
    std::vector<uint64_t> at;
    for (const Sent& s : sent_) {
      if (s.node == node) at.push_back(s.at_ms - kStart);
    }
    return at;
  }

  crsp_client client_{};
  crsp_resource_entry entries_[2]{};
  uint8_t buffer_[CRSP_MAX_ANSWER]{};
  uint64_t now_ = kStart;
  std::vector<Sent> sent_;
  std::vector<Event> events_;
};

TEST_F(ClientTest, PingsEveryNodeThenRegistersWithTheFastest) {
  Init(3);
  crsp_client_start(&client_, now_);
  ASSERT_EQ(sent_.size(), 3u);
  for (const Sent& s : sent_) {
    EXPECT_EQ(protocol::Decode(AsBytes(s.bytes)).packet.header.type,
              wire::kTypePingRequest);
  }
  Answer(2, Status::kOk, 20);  // node 2 at 20 ms
  Answer(0, Status::kOk, 30);  // node 0 at 50 ms
  Answer(1, Status::kOk, 10);  // node 1 at 60 ms: every node has answered
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERING);
  EXPECT_EQ(crsp_client_node(&client_), 2);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].event, CRSP_EVENT_NODE_CHOSEN);
  EXPECT_EQ(events_[0].value, 20u);
  ASSERT_EQ(sent_.size(), 4u);
  EXPECT_EQ(sent_.back().node, 2);

  protocol::DecodeResult reg = Last();
  ASSERT_EQ(reg.status, Status::kOk);
  const auto& r = std::get<protocol::RegisterRequest>(reg.packet.body);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].resource, CRSP_RES_PRINT);
  EXPECT_EQ(r.entries[1].resource, CRSP_RES_COPY);
  EXPECT_EQ(r.entries[0].valid_from, now_ / 1000);
  EXPECT_EQ(r.entries[0].valid_until, now_ / 1000 + 3600);
  EXPECT_EQ(reg.packet.header.check, wire::CheckType::kCrc32);

  Answer(2, Status::kOk, 5);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERED);
  EXPECT_EQ(events_.back().event, CRSP_EVENT_REGISTERED);
}

TEST_F(ClientTest, SilentNodesAreTriedAfterTheOnesThatAnswered) {
  Init(3);
  crsp_client_start(&client_, now_);
  Answer(1, Status::kOk, 40);
  RunUntil(499);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_PINGING);
  RunUntil(500);  // the first timeout ends the round
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERING);
  EXPECT_EQ(crsp_client_node(&client_), 1);
  EXPECT_EQ(client_.order[1], 0);
  EXPECT_EQ(client_.order[2], 2);
}

TEST_F(ClientTest, ResendsTheSameBytesWithDoublingTimeoutsThenFailsOver) {
  Init(2);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk, 1);
  Answer(1, Status::kOk, 1);  // node 0 nearest (1 ms), then node 1 (2 ms)
  uint64_t t0 = now_ - kStart;
  RunUntil(t0 + 7499);
  std::vector<uint64_t> at = SendTimesTo(0);
  ASSERT_EQ(at.size(), 5u);  // a ping, then 4 tries of the register
  EXPECT_EQ(at[1], t0);
  EXPECT_EQ(at[2], t0 + 500);
  EXPECT_EQ(at[3], t0 + 1500);
  EXPECT_EQ(at[4], t0 + 3500);
  std::vector<uint8_t> first;
  int registers = 0;
  for (const Sent& s : sent_) {
    if (s.bytes.size() < 100) continue;  // pings
    if (first.empty()) first = s.bytes;
    EXPECT_EQ(s.bytes, first);  // resends are the same request
    ++registers;
  }
  EXPECT_EQ(registers, 4);
  EXPECT_EQ(crsp_client_node(&client_), 0);

  RunUntil(t0 + 7500);  // 500 + 1000 + 2000 + 4000: node 0 is given up
  EXPECT_EQ(crsp_client_node(&client_), 1);
  EXPECT_EQ(events_.back().event, CRSP_EVENT_FAILOVER);
  EXPECT_EQ(sent_.back().node, 1);
  EXPECT_EQ(sent_.back().bytes, first);

  // An answer from the node no longer asked is ignored; node 1's counts.
  Answer(0, Status::kOk);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERING);
  Answer(1, Status::kOk);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERED);
  EXPECT_EQ(crsp_client_node(&client_), 1);
}

TEST_F(ClientTest, EveryNodeSilentWaitsThenPingsAgain) {
  Init(2);
  crsp_client_start(&client_, now_);
  RunUntil(7499);
  EXPECT_EQ(sent_.size(), 8u);  // 4 ping rounds to 2 nodes
  RunUntil(7500);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_WAITING);
  EXPECT_EQ(crsp_client_next_ms(&client_), kStart + 7500 + 30000);
  RunUntil(37500);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_PINGING);
  EXPECT_EQ(sent_.size(), 10u);
}

TEST_F(ClientTest, RenewsBeforeTheOffersRunOut) {
  Init(1);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk);
  Answer(0, Status::kOk);
  ASSERT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERED);
  uint64_t until = std::get<protocol::RegisterRequest>(Last().packet.body)
                       .entries[0]
                       .valid_until;
  EXPECT_EQ(crsp_client_valid_until_s(&client_), until);
  size_t before = sent_.size();
  // Default renew_before is a quarter of the 3600 s lease.
  uint64_t renew_ms = (until - 900) * 1000 - kStart;
  RunUntil(renew_ms - 1);
  EXPECT_EQ(sent_.size(), before);
  RunUntil(renew_ms);
  ASSERT_EQ(sent_.size(), before + 1);
  protocol::DecodeResult renewal = Last();
  const auto& r = std::get<protocol::RegisterRequest>(renewal.packet.body);
  EXPECT_EQ(r.entries[0].valid_until, until + 2700);
  EXPECT_GT(renewal.packet.header.txid, 100u);  // a new request
  Answer(0, Status::kOk);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERED);
  EXPECT_EQ(crsp_client_valid_until_s(&client_), until + 2700);
}

TEST_F(ClientTest, BusyNodeFailsOverAndRefusalStops) {
  Init(2);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk);
  Answer(1, Status::kOk);
  Answer(0, Status::kStorageFailed);
  EXPECT_EQ(crsp_client_node(&client_), 1);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERING);
  Answer(1, Status::kNotAuthorized);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_FAILED);
  EXPECT_EQ(events_.back().event, CRSP_EVENT_REJECTED);
  EXPECT_EQ(events_.back().value, CRSP_NOT_AUTHORIZED);
  EXPECT_EQ(crsp_client_next_ms(&client_), UINT64_MAX);
}

TEST_F(ClientTest, IgnoresOtherTxidsAndGarbage) {
  Init(1);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk);
  std::vector<uint8_t> reg = sent_.back().bytes;
  reg[9] ^= 1;  // another txid, check no longer right either
  crsp_client_receive(&client_, now_, 0, reg.data(), reg.size());
  crsp_client_receive(&client_, now_, 0, nullptr, 0);
  crsp_client_receive(&client_, now_, 7, reg.data(), reg.size());
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_REGISTERING);
}

TEST_F(ClientTest, WithdrawListsTheOffersAndEndsDone) {
  Init(1);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk);
  Answer(0, Status::kOk);
  crsp_client_withdraw(&client_, now_);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_WITHDRAWING);
  protocol::DecodeResult w = Last();
  ASSERT_EQ(w.status, Status::kOk);
  EXPECT_EQ(std::get<protocol::WithdrawRequest>(w.packet.body).resources,
            (std::vector<uint16_t>{CRSP_RES_PRINT, CRSP_RES_COPY}));
  Answer(0, Status::kOk);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_DONE);
  EXPECT_EQ(events_.back().event, CRSP_EVENT_WITHDRAWN);
}

TEST_F(ClientTest, UnansweredWithdrawGivesUpAfterEveryNode) {
  Init(2);
  crsp_client_start(&client_, now_);
  Answer(0, Status::kOk);
  Answer(1, Status::kOk);
  Answer(0, Status::kOk);
  crsp_client_withdraw(&client_, now_);
  RunUntil(now_ - kStart + 2 * 7500);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_DONE);
  EXPECT_EQ(events_.back().event, CRSP_EVENT_GAVE_UP);
  EXPECT_EQ(SendTimesTo(1).size(), 1u + 4u);  // its ping, 4 withdraws
}

TEST_F(ClientTest, WithdrawBeforeAnyRegisterIsDoneAtOnce) {
  Init(1);
  crsp_client_start(&client_, now_);
  crsp_client_withdraw(&client_, now_);
  EXPECT_EQ(crsp_client_state(&client_), CRSP_CLIENT_DONE);
  EXPECT_EQ(sent_.size(), 1u);  // the ping only
}

TEST(ClientInit, RefusesConfigurationsItCannotRun) {
  uint8_t small[32];
  crsp_resource_entry entry{CRSP_RES_PRINT, 2, 1, 1, 0, 0};
  crsp_client_config config{};
  config.node_count = 1;
  config.send = [](void*, uint8_t, const uint8_t*, size_t) { return 0; };
  config.entries = &entry;
  config.entry_count = 1;
  config.check = CRSP_CHECK_CRC32;
  config.buffer = small;
  config.buffer_size = sizeof small;  // too small for the register
  crsp_client client;
  EXPECT_EQ(crsp_client_init(&client, &config), -1);
  uint8_t big[CRSP_MAX_ANSWER];
  config.buffer = big;
  config.buffer_size = sizeof big;
  EXPECT_EQ(crsp_client_init(&client, &config), 0);
  config.check = CRSP_CHECK_ED25519;  // no hooks
  EXPECT_EQ(crsp_client_init(&client, &config), -1);
  config.check = CRSP_CHECK_CRC32;
  config.node_count = CRSP_CLIENT_MAX_NODES + 1;
  EXPECT_EQ(crsp_client_init(&client, &config), -1);
}

}  // namespace
}  // namespace crsp::device::testing
