// Flood: one source (127.0.0.1) asks for 10x its answer budget in query
// answers while another source (::1) queries at half its budget. Measures,
// in one run, the other source's answer rate and latency without and with
// the flood, and what the flooder got back (statuses, bytes out per byte
// in). Prints markdown table rows; see run.sh.
//
// Usage: flood_bench --node PATH [--seconds N] [--budget BYTES_PER_S]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench_util.h"

namespace crsp::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kResources = 10;  // one answer: 10 offers, 748 bytes

struct SourceStats {
  uint64_t sent = 0, ok = 0, limited = 0, other = 0;
  uint64_t bytes_in = 0, bytes_out = 0;  // requests, answers
  size_t largest_limited = 0, request_size = 0;
  std::vector<double> latency_ms;  // OK answers
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// Sends QueryMany at `per_second` for `duration` from `client` (txid =
// sequence number) and reads the answers on a second thread.
SourceStats Run(testing::UdpClient& client, double per_second,
                Clock::duration duration) {
  SourceStats s;
  const auto bytes_of = [](uint32_t txid) {
    return protocol::Encode(QueryMany(kResources, txid));
  };
  s.request_size = bytes_of(1).size();
  const size_t max_requests =
      static_cast<size_t>(per_second *
                          std::chrono::duration<double>(duration).count()) +
      16;
  // Send times (ns since `origin`), written by the sender, read by the
  // reader.
  const auto origin = Clock::now();
  std::vector<std::atomic<int64_t>> sent_at(max_requests + 1);
  std::atomic<bool> sending{true};
  std::thread reader([&] {
    auto idle_until = Clock::time_point::max();
    while (Clock::now() < idle_until) {
      if (!sending && idle_until == Clock::time_point::max()) {
        idle_until = Clock::now() + 1s;  // late answers
      }
      auto answer = client.Receive(100ms);
      if (!answer) continue;
      const auto d = protocol::Decode(*answer);
      const uint32_t txid = d.packet.header.txid;
      s.bytes_out += answer->size();
      if (d.packet.header.status == wire::Status::kOk) {
        ++s.ok;
        if (txid >= 1 && txid <= max_requests) {
          const auto sent = origin + std::chrono::nanoseconds(sent_at[txid]);
          s.latency_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - sent)
                  .count());
        }
      } else if (d.packet.header.status == wire::Status::kRateLimited) {
        ++s.limited;
        s.largest_limited = std::max(s.largest_limited, answer->size());
      } else {
        ++s.other;
      }
    }
  });
  const auto start = Clock::now();
  const auto gap = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / per_second));
  auto next = start;
  for (uint32_t txid = 1;
       Clock::now() - start < duration && txid <= max_requests; ++txid) {
    std::this_thread::sleep_until(next);
    next += gap;
    const auto bytes = bytes_of(txid);
    sent_at[txid] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        Clock::now() - origin)
                        .count();
    client.Send(bytes);
    ++s.sent;
    s.bytes_in += bytes.size();
  }
  sending = false;
  reader.join();
  return s;
}

int Main(int argc, char** argv) {
  const std::string binary = Flag(argc, argv, "--node", "");
  const double seconds = std::stod(Flag(argc, argv, "--seconds", "10"));
  const uint32_t budget =
      static_cast<uint32_t>(std::stoul(Flag(argc, argv, "--budget", "262144")));
  if (binary.empty()) {
    std::fprintf(stderr,
                 "usage: flood_bench --node PATH [--seconds N] "
                 "[--budget BYTES_PER_S]\n");
    return 64;
  }
  testing::TempDir dir;
  auto node = StartBenchNode(
      binary, dir.path() + "/node",
      {"--answer-budget", std::to_string(budget), "--answer-burst",
       std::to_string(2 * budget), "--log-level", "error"});
  if (!node) {
    std::fprintf(stderr, "flood_bench: the node did not start\n");
    return 1;
  }
  testing::UdpClient victim(node->edge_port());                  // ::1
  testing::UdpClient flooder(node->edge_port(), /*ipv4=*/true);  // other /24
  if (Ask(victim, RegisterMany(Device(1), kResources, 1,
                               wire::CheckType::kCrc32)) != wire::Status::kOk ||
      Ask(victim, QueryMany(kResources, 2)) != wire::Status::kOk) {
    std::fprintf(stderr, "flood_bench: register or warm-up query failed\n");
    return 1;
  }
  // Let the DHT finish setting up the warm-up's listens (a ping waits for
  // OpenDHT's thread meanwhile).
  for (int i = 0; i < 300; ++i) {
    const auto t = Clock::now();
    if (Ask(victim, PingPacket(3, wire::CheckType::kCrc32)) ==
            wire::Status::kOk &&
        Clock::now() - t < 20ms) {
      break;
    }
  }
  std::this_thread::sleep_for(2s);  // the victim's burst refills

  const double answer_size =
      static_cast<double>(wire::kHeaderSize + wire::kAnswerDescriptorSize +
                          kResources * wire::kOfferSize + 4);
  const double victim_rate = 0.5 * budget / answer_size;
  const double flood_rate = 10.0 * budget / answer_size;
  const auto phase = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(seconds));

  const SourceStats alone = Run(victim, victim_rate, phase);
  std::this_thread::sleep_for(2s);
  SourceStats flood, during;
  std::thread flooding([&] { flood = Run(flooder, flood_rate, phase); });
  during = Run(victim, victim_rate, phase);
  flooding.join();
  const bool alive =
      Ask(victim, PingPacket(4, wire::CheckType::kCrc32)) == wire::Status::kOk;

  const double rate_alone = static_cast<double>(alone.ok) / seconds;
  const double rate_during = static_cast<double>(during.ok) / seconds;
  const double drop =
      rate_alone > 0 ? 100.0 * (1 - rate_during / rate_alone) : 100.0;
  std::printf("| budget per source | %u B/s (burst %u B) |\n", budget,
              2 * budget);
  std::printf(
      "| flooder asks | %.0f queries/s for %.0f B/s of answers "
      "(%.1fx budget) |\n",
      flood_rate, flood_rate * answer_size, flood_rate * answer_size / budget);
  std::printf(
      "| flooder got | %llu OK, %llu RATE_LIMITED, %llu other, of "
      "%llu sent |\n",
      static_cast<unsigned long long>(flood.ok),
      static_cast<unsigned long long>(flood.limited),
      static_cast<unsigned long long>(flood.other),
      static_cast<unsigned long long>(flood.sent));
  std::printf(
      "| flooder bytes out / in | %.2f (largest RATE_LIMITED answer "
      "%zu B, request %zu B) |\n",
      flood.bytes_in ? static_cast<double>(flood.bytes_out) /
                           static_cast<double>(flood.bytes_in)
                     : 0.0,
      flood.largest_limited, flood.request_size);
  std::printf(
      "| other source, alone | %.1f answers/s, p50 %.2f ms, p99 "
      "%.2f ms |\n",
      rate_alone, Percentile(alone.latency_ms, 0.5),
      Percentile(alone.latency_ms, 0.99));
  std::printf(
      "| other source, during the flood | %.1f answers/s, p50 %.2f "
      "ms, p99 %.2f ms |\n",
      rate_during, Percentile(during.latency_ms, 0.5),
      Percentile(during.latency_ms, 0.99));
  std::printf(
      "| drop of the other source's answer rate | %.1f %% (goal: "
      "<= 10 %%: %s) |\n",
      drop, drop <= 10.0 ? "met" : "NOT met");
  std::printf("| node alive after | %s |\n", alive ? "yes" : "NO");
  return alive ? 0 : 1;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) { return crsp::bench::Main(argc, argv); }
