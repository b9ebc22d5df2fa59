// Soak: N random and mutated datagrams (default 1,000,000) at one node from
// 127.0.0.1. Mutations start from valid packets of every kind and check
// type, change header fields and body bytes, then (mostly) fix the total
// length and recompute the check (re-signing type 7), so that they get past
// the checks into the body parsers. A control source (::1) pings every
// kSyncEvery datagrams, which bounds the queue (the node answers in order)
// and proves it alive. At the end a valid query must still find the offer
// registered first, and VmRSS must be within 10% of its value after the
// warm-up.
//
// The warm-up first brings the node to its bounded steady state, then sends
// the first --warmup random datagrams. The node's memory is bounded by
// design, not constant: every resource id it fetches and watches costs it
// OpenDHT searches (about 5 MB at every price), and it admits the 12
// standard ids and at most 32 private-use ones (kMaxPrivateResourceIds,
// node/src/lib/node_impl.h; docs/node.md "Index warming"). Random queries
// would admit those one by one during the soak, so the growth measured
// would be that bound being reached, not garbage. So the warm-up queries
// each standard id and --private-ids private-use ids at any price (the
// widest watch), from the control source, and waits (bounded) until VmRSS
// settles; the soak then checks that garbage adds nothing beyond that
// bound. VmRSS is reported fresh (before the warm-up) too.
//
// Prints markdown table rows; see run.sh.
//
// Usage: soak_bench --node PATH [--datagrams N] [--warmup N]
//                   [--private-ids N] [--settle-seconds S] [--trace]
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <random>
#include <thread>

#include "bench_util.h"
#include "crsp/protocol/check.h"

namespace crsp::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSyncEvery = 2000;
// VmRSS has settled when this many samples, one a second, lie within 1 %
// of the latest.
constexpr size_t kSettleWindow = 10;

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

// What the steady-state part of the warm-up did.
struct SteadyState {
  size_t ids = 0;           // resource ids queried at any price
  uint64_t unanswered = 0;  // of those queries (both passes)
  bool settled = false;     // VmRSS settled before the deadline
  double seconds = 0;
};

// Brings the node to its bounded steady state (see the top): a query at
// any price for each standard id and `private_ids` private-use ids, in two
// passes (the second fetches again any id whose first fetch did not
// complete or was not started past kMaxColdFetches), one query at a time;
// then samples VmRSS once a second until it settles or `deadline` passed.
SteadyState WarmToSteadyState(testing::UdpClient& client, pid_t pid,
                              int private_ids, std::chrono::seconds deadline,
                              bool trace) {
  SteadyState out;
  const auto start = Clock::now();
  std::vector<uint16_t> ids;
  for (uint16_t r = wire::kResourceCpu; r <= wire::kLastStandardResource; ++r) {
    ids.push_back(r);
  }
  for (int i = 0; i < private_ids; ++i) {
    ids.push_back(static_cast<uint16_t>(wire::kFirstPrivateResource + i));
  }
  out.ids = ids.size();
  uint32_t txid = 1u << 30;  // apart from the pings' and the final query's
  for (int pass = 0; pass < 2; ++pass) {
    for (const uint16_t id : ids) {
      const protocol::Packet query = QueryOf({id}, ++txid, wire::kAnyPrice);
      if (Ask(client, query, 3000ms) != wire::Status::kOk) ++out.unanswered;
    }
  }
  std::deque<uint64_t> window;
  const auto settle_start = Clock::now();
  while (Clock::now() - settle_start < deadline) {
    std::this_thread::sleep_for(1s);
    if (waitpid(pid, nullptr, WNOHANG) != 0) break;  // died
    window.push_back(ResidentKib(pid));
    if (window.size() > kSettleWindow) window.pop_front();
    if (trace) {
      std::fprintf(stderr, "soak: warm-up %.0f s, VmRSS %llu KiB\n",
                   std::chrono::duration<double>(Clock::now() - start).count(),
                   static_cast<unsigned long long>(window.back()));
    }
    if (window.size() == kSettleWindow) {
      const auto [lo, hi] = std::minmax_element(window.begin(), window.end());
      if (*hi - *lo <= window.back() / 100) {
        out.settled = true;
        break;
      }
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

int Main(int argc, char** argv) {
  const std::string binary = Flag(argc, argv, "--node", "");
  const uint64_t total =
      std::stoull(Flag(argc, argv, "--datagrams", "1000000"));
  const uint64_t warmup = std::stoull(Flag(argc, argv, "--warmup", "100000"));
  // kMaxPrivateResourceIds (node/src/lib/node_impl.h): the node admits
  // that many private-use ids to fetch and watch, first come.
  const int private_ids = std::stoi(Flag(argc, argv, "--private-ids", "32"));
  const auto settle_deadline = std::chrono::seconds(
      std::stoi(Flag(argc, argv, "--settle-seconds", "180")));
  const bool trace = HasFlag(argc, argv, "--trace");  // VmRSS on stderr
  if (binary.empty() || warmup >= total || private_ids < 0) {
    std::fprintf(stderr,
                 "usage: soak_bench --node PATH [--datagrams N] "
                 "[--warmup N < datagrams] [--private-ids N] "
                 "[--settle-seconds S] [--trace]\n");
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
  const uint64_t rss_fresh = ResidentKib(node->pid());
  const SteadyState steady = WarmToSteadyState(
      control, node->pid(), private_ids, settle_deadline, trace);
  const uint64_t rss_steady = ResidentKib(node->pid());
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
  const auto percent = [](uint64_t to, uint64_t from) {
    return from
               ? 100.0 * (static_cast<double>(to) - static_cast<double>(from)) /
                     static_cast<double>(from)
               : 0;
  };
  const double growth = percent(rss_end, rss_warm);
  const bool ok = found && growth <= 10.0;
  std::printf(
      "| warm-up to the steady state | %zu resource ids queried at any "
      "price (12 standard, %d private-use), %llu unanswered; VmRSS %s "
      "after %.0f s |\n",
      steady.ids, private_ids,
      static_cast<unsigned long long>(steady.unanswered),
      steady.settled ? "settled" : "NOT settled", steady.seconds);
  std::printf("| datagrams | %llu (%.0f/s, warm-up %llu) |\n",
              static_cast<unsigned long long>(total),
              static_cast<double>(total) / seconds,
              static_cast<unsigned long long>(warmup));
  std::printf("| control pings unanswered (2 s, 3 tries) | %llu |\n",
              static_cast<unsigned long long>(stalls));
  std::printf("| valid query answered after, with the offer | %s |\n",
              found ? "yes" : "NO");
  std::printf(
      "| VmRSS fresh / steady state / after warm-up (reference) / peak / "
      "end | %llu / %llu / %llu / %llu / %llu KiB |\n",
      static_cast<unsigned long long>(rss_fresh),
      static_cast<unsigned long long>(rss_steady),
      static_cast<unsigned long long>(rss_warm),
      static_cast<unsigned long long>(rss_peak),
      static_cast<unsigned long long>(rss_end));
  std::printf(
      "| VmRSS end vs after warm-up (reference) | %+.1f %% (goal: <= 10 %%: "
      "%s) |\n",
      growth, growth <= 10.0 ? "met" : "NOT met");
  std::printf(
      "| VmRSS end vs fresh (the node's bounded DHT state) | %+.1f %% |\n",
      percent(rss_end, rss_fresh));
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) { return crsp::bench::Main(argc, argv); }
