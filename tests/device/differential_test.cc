// The device library against the C++ protocol library on randomised
// packets (seeded, bounded): requests of every kind and check type encode
// to the same bytes, and every packet, intact or damaged, decodes to the
// same status and the same fields.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "device_support.h"
#include "packet_builder.h"

namespace crsp::device::testing {
namespace {

using protocol::DecodeResult;
using protocol::Packet;
using protocol::testing::EncodeForTest;
using protocol::testing::kAllKinds;
using protocol::testing::RandomPacket;
using protocol::testing::Reseal;
using protocol::testing::TestKey;
using wire::PacketKind;

constexpr int kPacketsPerKindAndCheck = 40;

bool IsRequestKind(PacketKind kind) {
  return static_cast<uint8_t>(kind) % 2 == 0;
}

TEST(DeviceDifferential, RequestsEncodeToTheSameBytes) {
  std::mt19937_64 rng(20261206);
  crsp_crypto hooks = HooksFor(&TestKey());
  int compared = 0;
  for (PacketKind kind : kAllKinds) {
    if (!IsRequestKind(kind)) continue;
    for (uint8_t check = 0; check <= 7; ++check) {
      for (int i = 0; i < kPacketsPerKindAndCheck; ++i) {
        Packet p = RandomPacket(kind, static_cast<wire::CheckType>(check), rng);
        std::vector<uint8_t> cpp = ToU8(EncodeForTest(p));
        ASSERT_FALSE(cpp.empty());
        ASSERT_EQ(EncodeWithC(p.header, p.body, hooks), cpp)
            << "kind " << int(kind) << " check " << int(check) << " #" << i;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 4 * 8 * kPacketsPerKindAndCheck);
}

// One random damage, resealed (new total length and check) or not.
void Damage(std::vector<std::byte>& bytes, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  switch (pick(9)) {
    case 0:  // intact
      return;
    case 1:  // one byte anywhere, check left wrong
      bytes[pick(bytes.size())] ^= static_cast<std::byte>(1 + pick(255));
      return;
    case 2:  // cut short
      bytes.resize(pick(bytes.size()));
      return;
    case 3:  // one body byte, resealed
      if (bytes.size() > 16) {
        bytes[16 + pick(bytes.size() - 16)] ^= std::byte{0x5A};
      }
      Reseal(bytes);
      return;
    case 4:  // item count, resealed
      bytes[14 + pick(2)] = static_cast<std::byte>(pick(4));
      Reseal(bytes);
      return;
    case 5:  // header length, resealed
      bytes[4] = std::byte{0};
      bytes[5] = static_cast<std::byte>(pick(40));
      Reseal(bytes);
      return;
    case 6:  // protocol or type, resealed
      bytes[2 + pick(2)] = static_cast<std::byte>(pick(5));
      Reseal(bytes);
      return;
    case 7:  // status (12 INCOMPLETE among them), resealed
      bytes[13] = static_cast<std::byte>(pick(14));
      Reseal(bytes);
      return;
    default:  // bytes added to the body, resealed
      bytes.insert(bytes.begin() + 16, 1 + pick(72), std::byte{0x11});
      Reseal(bytes);
      return;
  }
}

void ExpectSameDecode(std::span<const std::byte> bytes,
                      const crsp_crypto& hooks) {
  DecodeResult cpp = protocol::Decode(bytes);
  CAnswer c = DecodeWithC(bytes, &hooks);
  const protocol::Header& h = cpp.packet.header;
  // The same header as far as the bytes go.
  EXPECT_EQ(c.answer.header.version, h.version);
  EXPECT_EQ(c.answer.header.protocol, h.protocol);
  EXPECT_EQ(c.answer.header.type, h.type);
  EXPECT_EQ(c.answer.header.header_length, h.header_length);
  EXPECT_EQ(c.answer.header.total_length, h.total_length);
  EXPECT_EQ(c.answer.header.txid, h.txid);
  EXPECT_EQ(c.answer.header.check, static_cast<uint8_t>(h.check));
  EXPECT_EQ(c.answer.header.status, static_cast<uint8_t>(h.status));
  EXPECT_EQ(c.answer.header.count, h.count);

  auto kind = protocol::KindOf(h.protocol, h.type);
  bool request = kind && IsRequestKind(*kind);
  if (cpp.status != wire::Status::kOk && request &&
      c.status == CRSP_MALFORMED) {
    // The C++ codec judged request fields the answer decoder never reads.
    return;
  }
  if (cpp.status == wire::Status::kOk && request) {
    EXPECT_EQ(c.status, CRSP_MALFORMED) << "a request taken for an answer";
    return;
  }
  ASSERT_EQ(static_cast<int>(c.status), static_cast<int>(cpp.status))
      << cpp.detail;
  if (c.status != CRSP_OK) return;

  if (h.check == wire::CheckType::kEd25519) {
    ASSERT_TRUE(cpp.signer.has_value());
    EXPECT_EQ(std::memcmp(c.answer.signer, cpp.signer->data(), 32), 0);
  }
  const protocol::Body& body = cpp.packet.body;
  EXPECT_EQ(c.answer.has_body != 0,
            !std::holds_alternative<std::monostate>(body));
  if (const auto* ping = std::get_if<protocol::PingAnswer>(&body)) {
    EXPECT_EQ(c.answer.kind, CRSP_ANSWER_PING);
    EXPECT_EQ(std::memcmp(c.answer.ping.node_id, ping->node_id.data(), 20), 0);
    EXPECT_EQ(c.answer.ping.offers, ping->offers);
    EXPECT_EQ(c.answer.ping.peers, ping->peers);
    EXPECT_EQ(c.answer.ping.uptime, ping->uptime);
    EXPECT_EQ(
        std::memcmp(c.answer.ping.public_key, ping->public_key.data(), 32), 0);
  }
  const protocol::EntryResults* results = nullptr;
  if (const auto* r = std::get_if<protocol::RegisterAnswer>(&body)) {
    EXPECT_EQ(c.answer.kind, CRSP_ANSWER_REGISTER);
    results = r;
  }
  if (const auto* w = std::get_if<protocol::WithdrawAnswer>(&body)) {
    EXPECT_EQ(c.answer.kind, CRSP_ANSWER_WITHDRAW);
    results = w;
  }
  if (results != nullptr) {
    EXPECT_EQ(std::memcmp(c.answer.device, results->device.data(), 16), 0);
    ASSERT_EQ(c.entries.size(), results->entries.size());
    for (size_t i = 0; i < c.entries.size(); ++i) {
      EXPECT_EQ(FromC(c.entries[i]), results->entries[i]);
    }
  }
  if (const auto* q = std::get_if<protocol::QueryAnswer>(&body)) {
    EXPECT_EQ(c.answer.kind, CRSP_ANSWER_QUERY);
    EXPECT_EQ(c.answer.total, q->total);
    EXPECT_EQ(c.answer.next_cursor, q->next_cursor);
    ASSERT_EQ(c.offers.size(), q->offers.size());
    for (size_t i = 0; i < c.offers.size(); ++i) {
      EXPECT_EQ(FromC(c.offers[i]), q->offers[i]);
    }
  }
}

TEST(DeviceDifferential, EveryPacketDecodesToTheSameStatusAndFields) {
  std::mt19937_64 rng(17);
  crsp_crypto hooks = HooksFor(nullptr);
  int compared = 0;
  for (PacketKind kind : kAllKinds) {
    for (uint8_t check = 0; check <= 7; ++check) {
      for (int i = 0; i < kPacketsPerKindAndCheck; ++i) {
        Packet p = RandomPacket(kind, static_cast<wire::CheckType>(check), rng);
        if (!IsRequestKind(kind) && rng() % 4 == 0) {
          p = protocol::ErrorAnswer(  // an error status alone
              protocol::HeaderFor(
                  static_cast<PacketKind>(static_cast<uint8_t>(kind) - 1),
                  p.header.txid, p.header.check),
              static_cast<wire::Status>(1 + rng() % 12));
        }
        if (kind == PacketKind::kQueryAnswer && rng() % 3 == 0) {
          p.header.status = wire::Status::kIncomplete;
        }
        std::vector<std::byte> bytes = EncodeForTest(p);
        ASSERT_FALSE(bytes.empty());
        Damage(bytes, rng);
        SCOPED_TRACE(::testing::PrintToString(ToU8(bytes)));
        ExpectSameDecode(bytes, hooks);
        if (HasFatalFailure()) return;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 8 * 8 * kPacketsPerKindAndCheck);
}

}  // namespace
}  // namespace crsp::device::testing
