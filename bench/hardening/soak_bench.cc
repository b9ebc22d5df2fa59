// Soak: N random and mutated datagrams (default 1,000,000) at one node from
// 127.0.0.1. Mutations start from valid packets of every kind and check
// type, change header fields and body bytes, then (mostly) fix the total
// length and recompute the check (re-signing type 7), so that they get past
// the checks into the body parsers. A control source (::1) pings every
// kSyncEvery datagrams, which bounds the queue (the node answers in order)
// and proves it alive. At the end a valid query must still find the offer
// registered first, and VmRSS must be within 10% of its value after the
// warm-up. Prints markdown table rows; see run.sh.
//
// Usage: soak_bench --node PATH [--datagrams N] [--warmup N] [--trace]
#include <sys/wait.h>

#include <cstdio>
#include <random>
#include <thread>

#include "bench_util.h"
#include "crsp/protocol/check.h"

namespace crsp::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSyncEvery = 2000;

class Mutator {
 public:
  Mutator() : random_(20261126), key_(*protocol::Ed25519Key::Generate()) {
    for (uint8_t check = 0; check <= wire::kMaxKnownCheckType; ++check) {
      const auto c = static_cast<wire::CheckType>(check);
      seeds_.push_back(PingPacket(1, c));
      seeds_.push_back(RegisterMany(Device(check), 1 + check % 3, 2, c));
      protocol::WithdrawRequest withdraw{Device(check), {1, 2}};
      seeds_.push_back(
          {protocol::HeaderFor(wire::PacketKind::kWithdrawRequest, 3, c),
           withdraw});
      protocol::Packet query = QueryMany(1 + check % 4, 4, 1u << (check * 3));
      query.header.check = c;
      seeds_.push_back(query);
    }
  }

  std::vector<std::byte> Next() {
    if (Chance(15)) return RandomDatagram();
    const protocol::Packet& seed = seeds_[Below(seeds_.size())];
    std::vector<std::byte> bytes = protocol::Encode(seed, &key_);
    const auto check = seed.header.check;
    bytes.resize(bytes.size() - protocol::TrailerSize(check));
    const int ops = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < ops; ++i) Mutate(bytes);
    if (Chance(90)) {
      // Make it pass the length and check steps, to reach the parsers.
      const size_t total = bytes.size() + protocol::TrailerSize(check);
      if (bytes.size() >= 8) {
        bytes[6] = static_cast<std::byte>(total >> 8);
        bytes[7] = static_cast<std::byte>(total & 0xFF);
      }
      if (bytes.size() >= 13) bytes[12] = static_cast<std::byte>(check);
      protocol::AppendCheck(check, bytes, &key_);
    }
    return bytes;
  }

 private:
  bool Chance(int percent) { return Below(100) < static_cast<size_t>(percent); }
  size_t Below(size_t n) {
    return n == 0 ? 0
                  : std::uniform_int_distribution<size_t>(0, n - 1)(random_);
  }
  std::byte Byte() { return static_cast<std::byte>(Below(256)); }

  std::vector<std::byte> RandomDatagram() {
    std::vector<std::byte> out(Below(1400));
    for (std::byte& b : out) b = Byte();
    return out;
  }

  void Mutate(std::vector<std::byte>& b) {
    switch (Below(8)) {
      case 0:  // flip a bit anywhere
        if (!b.empty()) b[Below(b.size())] ^= std::byte{1} << Below(8);
        break;
      case 1:  // a random byte in the body
        if (b.size() > 16) b[16 + Below(b.size() - 16)] = Byte();
        break;
      case 2:  // item count
        if (b.size() >= 16) {
          b[14] = Chance(50) ? std::byte{0} : Byte();
          b[15] = Byte();
        }
        break;
      case 3:  // header length
        if (b.size() >= 6) b[5] = Byte();
        break;
      case 4:  // truncate
        b.resize(Below(b.size() + 1));
        break;
      case 5:  // grow by random bytes
        for (size_t n = 1 + Below(64); n > 0; --n) b.push_back(Byte());
        break;
      case 6:  // duplicate a chunk of the body
        if (b.size() > 16) {
          const size_t from = 16 + Below(b.size() - 16);
          const size_t len = std::min<size_t>(1 + Below(48), b.size() - from);
          b.insert(b.end(), b.begin() + static_cast<long>(from),
                   b.begin() + static_cast<long>(from + len));
        }
        break;
      default:  // protocol and type
        if (b.size() >= 4) {
          b[2] = static_cast<std::byte>(Below(4));
          b[3] = static_cast<std::byte>(Below(8));
        }
        break;
    }
  }

  std::mt19937_64 random_;
  protocol::Ed25519Key key_;
  std::vector<protocol::Packet> seeds_;
};

int Main(int argc, char** argv) {
  const std::string binary = Flag(argc, argv, "--node", "");
  const uint64_t total =
      std::stoull(Flag(argc, argv, "--datagrams", "1000000"));
  const uint64_t warmup = std::stoull(Flag(argc, argv, "--warmup", "100000"));
  const bool trace = HasFlag(argc, argv, "--trace");  // VmRSS on stderr
  if (binary.empty() || warmup >= total) {
    std::fprintf(stderr,
                 "usage: soak_bench --node PATH [--datagrams N] "
                 "[--warmup N < datagrams]\n");
    return 64;
  }
  testing::TempDir dir;
  // Quotas keep what mutated-but-valid registers may store small: stored
  // offers are state, not leaks.
  auto node =
      StartBenchNode(binary, dir.path() + "/node",
                     {"--offers-per-source", "64", "--log-level", "error"});
  if (!node) {
    std::fprintf(stderr, "soak_bench: the node did not start\n");
    return 1;
  }
  testing::UdpClient control(node->edge_port());                  // ::1
  testing::UdpClient attacker(node->edge_port(), /*ipv4=*/true);  // 127.0.0.1
  if (Ask(control, RegisterMany(Device(200), 1, 1, wire::CheckType::kCrc32)) !=
      wire::Status::kOk) {
    std::fprintf(stderr, "soak_bench: the control register failed\n");
    return 1;
  }
  const uint64_t rss_before = ResidentKib(node->pid());
  Mutator mutator;
  uint64_t rss_warm = 0, rss_peak = 0, stalls = 0;
  const auto start = Clock::now();
  for (uint64_t i = 1; i <= total; ++i) {
    attacker.Send(mutator.Next());
    if (i % kSyncEvery == 0 || i == total) {
      if (Ask(control,
              PingPacket(static_cast<uint32_t>(i), wire::CheckType::kCrc32),
              2000ms) != wire::Status::kOk) {
        ++stalls;
        if (waitpid(node->pid(), nullptr, WNOHANG) != 0) break;  // died
      }
      const uint64_t rss = ResidentKib(node->pid());
      rss_peak = std::max(rss_peak, rss);
      if (trace && i % (10 * kSyncEvery) == 0) {
        std::fprintf(stderr, "soak: %llu datagrams, VmRSS %llu KiB\n",
                     static_cast<unsigned long long>(i),
                     static_cast<unsigned long long>(rss));
      }
    }
    if (i == warmup) rss_warm = ResidentKib(node->pid());
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  // A couple of ticks: idle rate-limit buckets and expired state go.
  std::this_thread::sleep_for(3s);
  const uint64_t rss_end = ResidentKib(node->pid());
  // The control offer, through every page (valid mutated registers may
  // have stored up to the quota of other offers).
  bool found = false;
  uint32_t cursor = 0;
  for (int page = 0; page < 100 && !found; ++page) {
    protocol::Packet query = QueryMany(1, 99 + page);
    std::get<protocol::QueryRequest>(query.body).cursor = cursor;
    auto answer = control.Exchange(protocol::Encode(query), 3000ms, 3);
    if (!answer) break;
    const auto d = protocol::Decode(*answer);
    const auto* body = std::get_if<protocol::QueryAnswer>(&d.packet.body);
    if (body == nullptr) break;
    for (const protocol::Offer& o : body->offers) {
      found |= o.device == Device(200);
    }
    if (body->next_cursor == 0) break;
    cursor = body->next_cursor;
  }
  const double growth =
      rss_warm
          ? 100.0 *
                (static_cast<double>(rss_end) - static_cast<double>(rss_warm)) /
                static_cast<double>(rss_warm)
          : 0;
  const bool ok = found && growth <= 10.0;
  std::printf("| datagrams | %llu (%.0f/s, warm-up %llu) |\n",
              static_cast<unsigned long long>(total),
              static_cast<double>(total) / seconds,
              static_cast<unsigned long long>(warmup));
  std::printf("| control pings unanswered (2 s, 3 tries) | %llu |\n",
              static_cast<unsigned long long>(stalls));
  std::printf("| valid query answered after, with the offer | %s |\n",
              found ? "yes" : "NO");
  std::printf(
      "| VmRSS start / after warm-up / peak / end | %llu / %llu / "
      "%llu / %llu KiB |\n",
      static_cast<unsigned long long>(rss_before),
      static_cast<unsigned long long>(rss_warm),
      static_cast<unsigned long long>(rss_peak),
      static_cast<unsigned long long>(rss_end));
  std::printf(
      "| VmRSS end vs after warm-up | %+.1f %% (goal: <= 10 %%: %s) |\n",
      growth, growth <= 10.0 ? "met" : "NOT met");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) { return crsp::bench::Main(argc, argv); }
