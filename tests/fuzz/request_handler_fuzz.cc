// Fuzz target: the node's request handler (bytes + sender in, bytes out)
// over an in-memory DHT in a temporary state directory, one Node for the
// whole run so that state (offers, ownership, budgets, journal) builds up.
//
// Input: one control byte, then the datagram.
//   control bits 0-1: which of four sources sends it (two share a /64)
//   control bit 2:    call Tick() first
//   control bits 3-7: seconds to move the clock forward first
// Invariants checked on every answer: at most one answer, no larger than
// 1,232 bytes, decodable with a valid check, same txid, never an answer to
// an answer.
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "crsp/dht_adapter/memory_dht.h"
#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"

namespace {

// 2027-01-15: register seeds use windows around it.
std::atomic<uint64_t> g_now{1'800'000'000};

// The node's state directory, removed at exit: made before the node, so
// destroyed after it. (Every replay under ctest used to leave one in /tmp.)
struct StateDir {
  std::string path =
      (std::filesystem::temp_directory_path() / "crsp-fuzz-XXXXXX").string();
  StateDir() {
    if (!mkdtemp(path.data())) abort();
  }
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

crsp::node::Node& TheNode() {
  static const StateDir dir;
  static std::unique_ptr<crsp::node::Node> node = [] {
    spdlog::set_level(spdlog::level::off);
    crsp::node::NodeConfig config;
    config.state_dir = dir.path;
    config.limits.offers_per_device = 8;
    config.limits.max_offers = 4096;
    auto clock = [] { return g_now.load(); };
    return crsp::node::Node::Create(
        config, crsp::node::NodeContext{
                    std::make_unique<crsp::dht::InMemoryDht>(clock), clock});
  }();
  return *node;
}

crsp::node::Sender SenderFor(uint8_t which) {
  crsp::node::Sender s;
  s.address = {0x20, 0x01, 0x0d, 0xb8, 0, static_cast<uint8_t>(which >> 1)};
  s.address[15] = static_cast<uint8_t>(which + 1);
  s.port = static_cast<uint16_t>(4000 + which);
  return s;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::span<const std::byte> datagram(
      reinterpret_cast<const std::byte*>(data + 1), size - 1);
  crsp::node::Node& node = TheNode();
  g_now += control >> 3;
  if (control & 4) node.Tick();

  std::vector<std::vector<std::byte>> answers;
  node.HandleDatagram(datagram, SenderFor(control & 3),
                      [&answers](std::vector<std::byte> answer) {
                        answers.push_back(std::move(answer));
                      });
  Check(answers.size() <= 1, "at most one answer");
  if (answers.empty()) return 0;
  const crsp::protocol::DecodeResult request = crsp::protocol::Decode(datagram);
  Check(request.answerable, "no answer to an unanswerable datagram");
  const std::vector<std::byte>& answer = answers[0];
  Check(answer.size() <= crsp::wire::kMaxAnswer, "answer fits 1232 bytes");
  const crsp::protocol::DecodeResult decoded = crsp::protocol::Decode(answer);
  Check(decoded.check_ok, "answer check verifies");
  Check(!decoded.answerable, "answer is an answer");
  Check(decoded.packet.header.txid == request.packet.header.txid, "same txid");
  return 0;
}
