// Cluster figures on the namespace harness of tests/cluster (one host per
// node, real IPv6 between them; loopback ports where namespaces cannot be
// made). One cluster per run, phases in order, each skipped when its count
// is 0:
//   1. visibility: a probe offer registered at node a, polled for at node
//      b != a (warm) until served; register -> visible p50/p99, idle, then
//      while a background load registers --load-rate offers/s.
//   2. durable: --durable-devices devices x 4 offers across every node,
//      --window requests in flight; offers acknowledged OK per second.
//   3. scale: --scale-offers offers of ONE resource id across every node,
//      then at a node never queried for it: cold query time, then warm
//      query p50/p99.
#include <poll.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "cluster.h"
#include "crsp/protocol/codec.h"
#include "netns.h"
#include "stop_signals.h"
#include "support/latency.h"
#include "support/net.h"
#include "support/perf_recording.h"
#include "support/registrar.h"
#include "support/report.h"
#include "support/udp_load.h"
#include "support/workload.h"

namespace crsp::bench {
namespace {

using testing::Cluster;

// Busy share of every CPU over `window`, from /proc/stat (the machine's
// view: the nodes are most of what runs during a benchmark). -1 when
// /proc/stat cannot be read.
double BusyShare(std::chrono::milliseconds window) {
  const auto sample = [](uint64_t* busy, uint64_t* total) {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};
    if (!(stat >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >>
          v[7]) ||
        cpu != "cpu") {
      return false;
    }
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4];  // all but idle and iowait
    return true;
  };
  uint64_t busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
  if (!sample(&busy0, &total0)) return -1;
  std::this_thread::sleep_for(window);
  if (!sample(&busy1, &total1) || total1 <= total0) return -1;
  return double(busy1 - busy0) / double(total1 - total0);
}

// How WaitUntilQuiet went: the busy share of its first and last second,
// and the seconds it waited.
struct Quiet {
  double first_busy = -1;
  double last_busy = -1;
  double seconds = 0;
};

// Waits until the cluster is idle: the machine's busy share below
// `threshold` for two consecutive seconds, at most `max_seconds`. Warming
// every node starts a watch and a fetch of every key of the probe id on
// each (1,408 keys, both families), and each watch re-reads its keys 5 s
// later; an "idle" figure taken during that is a figure of that work.
Quiet WaitUntilQuiet(double threshold, double max_seconds) {
  const uint64_t t0 = NowNanos();
  Quiet q;
  int quiet = 0;
  while (double(NowNanos() - t0) / 1e9 < max_seconds) {
    const double busy = BusyShare(std::chrono::seconds(1));
    if (busy < 0) break;  // no /proc/stat: nothing to wait on
    if (q.first_busy < 0) q.first_busy = busy;
    q.last_busy = busy;
    quiet = busy < threshold ? quiet + 1 : 0;
    if (quiet == 2) break;
  }
  q.seconds = double(NowNanos() - t0) / 1e9;
  return q;
}

struct Settings {
  int nodes = 5;
  int probes = 50;
  double load_rate = 1000;
  size_t durable_devices = 0;
  size_t scale_offers = 0;
  int window = 256;
  double warm_seconds = 5;
  // Between the complete total and the warm measurement: a new watch
  // re-reads its keys 5 s after it starts (docs/storage.md), which at
  // 100,000 offers keeps the node busy for a while; the warm goal is about
  // the node after that.
  double settle_seconds = 50;
  // The idle phase starts once the machine's busy share stayed below
  // quiet_share for 2 s (at most quiet_max_seconds after warming).
  double quiet_share = 0.10;
  double quiet_max_seconds = 120;
  // perf record of the whole machine over the loaded phase (empty: none).
  std::string profile_loaded;
  std::string label = "c5";
};

std::vector<std::string> NodeFlags() {
  return {"--log-level",    "warn",       "--answer-budget",     "1000000000",
          "--answer-burst", "1000000000", "--offers-per-source", "100000000",
          "--max-offers",   "10000000"};
}

int ClientSocket(Cluster& c, const sockaddr_in6* peer = nullptr) {
  int fd = -1;
  testing::RunInNetns(c.Netns(0), [&] { fd = OpenUdpSocket(0, peer); });
  if (fd < 0) throw std::runtime_error("no socket in the client namespace");
  return fd;
}

sockaddr_in6 EdgeOf(Cluster& c, int k) {
  auto ep = ParseEndpoint("[" + c.Address(k) +
                          "]:" + std::to_string(c.node(k)->edge_port()));
  if (!ep) throw std::runtime_error("bad node address " + c.Address(k));
  return *ep;
}

// One exchange on `fd` (unconnected) with a deadline; the decoded answer.
std::optional<protocol::DecodeResult> Exchange(int fd, const sockaddr_in6& to,
                                               const std::vector<std::byte>& b,
                                               uint32_t txid,
                                               uint64_t timeout_ns) {
  sendto(fd, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&to),
         sizeof to);
  std::array<std::byte, 2048> buf{};
  for (uint64_t end = NowNanos() + timeout_ns; NowNanos() < end;) {
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, 5);
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) continue;
    auto d = protocol::Decode(std::span(buf.data(), size_t(n)));
    if (d.packet.header.txid == txid) return d;
  }
  return std::nullopt;
}

const protocol::QueryAnswer* AnswerOf(const protocol::DecodeResult& d) {
  return std::get_if<protocol::QueryAnswer>(&d.packet.body);
}

// Register -> visible latencies of `probes` probes; nullopt-free: a probe
// never seen within 10 s counts as missed.
void Visibility(Cluster& c, const Settings& s, const std::string& phase,
                uint32_t first_probe, uint16_t resource) {
  int reg_fd = ClientSocket(c);
  int query_fd = ClientSocket(c);
  Latencies visible;
  Latencies acked;
  int missed = 0;
  uint32_t txid = 1'000'000 * (first_probe / 100'000 + 1);
  Workload w = MakeWorkload(0xA0, {resource});
  for (int i = 0; i < s.probes; ++i) {
    uint32_t probe = first_probe + uint32_t(i);
    int a = 1 + i % s.nodes;
    int b = 1 + (i + 1 + i / s.nodes) % s.nodes;
    if (b == a) b = 1 + a % s.nodes;
    protocol::RegisterRequest body;
    body.set.device = DeviceFor(0xA0, probe);
    body.set.device_kind = 1;
    body.set.currency = 978;
    auto entry = EntryFor(w, probe, resource);
    entry.quantity = 1'000'000 + probe;  // only this probe matches
    body.entries.push_back(entry);
    uint32_t reg_txid = ++txid;
    auto bytes = protocol::Encode(
        {protocol::HeaderFor(wire::PacketKind::kRegisterRequest, reg_txid,
                             wire::CheckType::kCrc32),
         std::move(body)});
    sockaddr_in6 to_a = EdgeOf(c, a);
    sockaddr_in6 to_b = EdgeOf(c, b);
    const uint64_t t0 = NowNanos();
    sendto(reg_fd, bytes.data(), bytes.size(), 0,
           reinterpret_cast<const sockaddr*>(&to_a), sizeof to_a);
    bool seen = false;
    bool ack = false;
    std::array<std::byte, 2048> buf{};
    for (int poll_no = 0; poll_no < 5000 && NowNanos() - t0 < 10'000'000'000;
         ++poll_no) {
      while (!ack) {  // the register answer, if it came
        ssize_t n = recv(reg_fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) break;
        auto d = protocol::Decode(std::span(buf.data(), size_t(n)));
        if (d.packet.header.txid == reg_txid) {
          ack = true;
          acked.Add(NowNanos() - t0);
        }
      }
      uint32_t q_txid = ++txid;
      auto q = QueryBytes(resource, 1, q_txid, 1'000'000 + probe);
      auto d = Exchange(query_fd, to_b, q, q_txid, 200'000'000);
      if (d && AnswerOf(*d) != nullptr && !AnswerOf(*d)->offers.empty()) {
        visible.Add(NowNanos() - t0);
        seen = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!seen) {
      ++missed;
      // Which nodes serve the missed probe by now ('+'), to tell a lost
      // notification at b from an offer that reached no node.
      std::string who;
      for (int k = 1; k <= s.nodes; ++k) {
        uint32_t q_txid = ++txid;
        auto q = QueryBytes(resource, 1, q_txid, 1'000'000 + probe);
        auto d = Exchange(query_fd, EdgeOf(c, k), q, q_txid, 200'000'000);
        who += d && AnswerOf(*d) != nullptr && !AnswerOf(*d)->offers.empty()
                   ? '+'
                   : '-';
      }
      std::cerr << "cluster_bench: " << phase << " probe " << probe
                << " registered at node " << a << " not seen at node " << b
                << " within 10 s (ack " << (ack ? "yes" : "no")
                << "); nodes 1.." << s.nodes << " serve it now: " << who
                << "\n";
    }
    // The acknowledgement may come after the offer is visible elsewhere.
    for (uint64_t end = t0 + 10'000'000'000; !ack && NowNanos() < end;) {
      pollfd p{reg_fd, POLLIN, 0};
      poll(&p, 1, 5);
      ssize_t n = recv(reg_fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) continue;
      auto d = protocol::Decode(std::span(buf.data(), size_t(n)));
      if (d.packet.header.txid == reg_txid) {
        ack = true;
        acked.Add(NowNanos() - t0);
      }
    }
  }
  Emit(s.label, phase + ".probes", s.probes);
  Emit(s.label, phase + ".missed", missed);
  Emit(s.label, phase + ".visible_p50_ms", visible.PercentileMicros(50) / 1e3);
  Emit(s.label, phase + ".visible_p99_ms", visible.PercentileMicros(99) / 1e3);
  Emit(s.label, phase + ".visible_max_ms", visible.PercentileMicros(100) / 1e3);
  Emit(s.label, phase + ".ack_p50_ms", acked.PercentileMicros(50) / 1e3);
  Emit(s.label, phase + ".ack_p99_ms", acked.PercentileMicros(99) / 1e3);
  close(reg_fd);
  close(query_fd);
}

std::vector<sockaddr_in6> AllEdges(Cluster& c, int nodes) {
  std::vector<sockaddr_in6> t;
  for (int k = 1; k <= nodes; ++k) t.push_back(EdgeOf(c, k));
  return t;
}

void EmitRegistrations(const std::string& label, const std::string& phase,
                       const RegisterResult& r) {
  Emit(label, phase + ".requests", double(r.requests));
  Emit(label, phase + ".offers_ok", double(r.entries_ok));
  Emit(label, phase + ".offers_failed", double(r.entries_failed));
  Emit(label, phase + ".unanswered", double(r.unanswered));
  Emit(label, phase + ".seconds", r.seconds);
  Emit(label, phase + ".offers_per_sec", r.entries_per_sec);
  Emit(label, phase + ".ack_p50_ms", r.p50_ms);
  Emit(label, phase + ".ack_p99_ms", r.p99_ms);
}

void Durable(Cluster& c, const Settings& s) {
  int fd = ClientSocket(c);
  Workload w = MakeWorkload(0xB0, BenchResources(4, 16));
  RegisterOptions o;
  o.window = s.window;
  RegisterResult r = RunRegistrations(
      fd, AllEdges(c, s.nodes), s.durable_devices,
      [&](uint32_t i) { return RegisterBytes(w, i, i); }, o);
  EmitRegistrations(s.label, "durable", r);
  close(fd);
}

void Scale(Cluster& c, const Settings& s) {
  const uint16_t resource = BenchResources(1, 32)[0];
  int fd = ClientSocket(c);
  Workload w = MakeWorkload(0xD0, {resource});
  RegisterOptions o;
  o.window = s.window;
  RegisterResult r = RunRegistrations(
      fd, AllEdges(c, s.nodes), s.scale_offers,
      [&](uint32_t i) { return RegisterBytes(w, i, i); }, o);
  EmitRegistrations(s.label, "scale.register", r);
  close(fd);

  // Node `nodes` has accepted a share of the offers but was never asked:
  // its first query is cold (watch + fetch of every price bucket).
  sockaddr_in6 to = EdgeOf(c, s.nodes);
  int qfd = ClientSocket(c);
  const uint64_t t0 = NowNanos();
  auto cold = Exchange(qfd, to, QueryBytes(resource, 10, 5), 5, 30'000'000'000);
  Emit(s.label, "scale.cold_ms", double(NowNanos() - t0) / 1e6);
  Emit(s.label, "scale.cold_total",
       cold && AnswerOf(*cold) ? AnswerOf(*cold)->total : -1);
  // Until the watches have delivered everything (bounded).
  double total = -1;
  for (int i = 0; i < 120; ++i) {
    auto d = Exchange(qfd, to, QueryBytes(resource, 10, 6 + i), 6 + i,
                      2'000'000'000);
    total = d && AnswerOf(*d) ? AnswerOf(*d)->total : -1;
    if (total >= double(r.entries_ok)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  Emit(s.label, "scale.warm_total", total);
  close(qfd);
  std::this_thread::sleep_for(std::chrono::duration<double>(s.settle_seconds));
  Emit(s.label, "scale.settle_seconds", s.settle_seconds);

  int lfd = ClientSocket(c, &to);
  std::vector<std::vector<std::byte>> requests;
  for (uint32_t i = 0; i < 65536; ++i) {
    requests.push_back(QueryBytes(resource, 10, i));
  }
  LoadOptions lo;
  lo.window = 1;  // one at a time: the latency of one query, not a queue
  lo.seconds = s.warm_seconds;
  lo.busy_poll = false;
  Drain(lfd);
  LoadResult lr = RunLoad(lfd, requests, lo);
  Emit(s.label, "scale.warm_per_sec_one_in_flight", lr.answers_per_sec);
  Emit(s.label, "scale.warm_p50_us", lr.p50_us);
  Emit(s.label, "scale.warm_p99_us", lr.p99_us);
  close(lfd);
}

int Run(const Settings& s) {
  Cluster c(CRSP_NODE_BINARY, s.nodes);
  // Stopped (Ctrl-C, bench/run's trap), the run leaves no node nor
  // namespace behind.
  const testing::TearDownOnStopSignal on_signal(c);
  Emit(s.label, "separate_hosts", c.separate_hosts() ? 1 : 0);
  if (!c.separate_hosts()) {
    std::cerr << "cluster: " << c.why_not_separate() << "\n";
  }
  const uint64_t t0 = NowNanos();
  if (!c.StartAll(NodeFlags())) {
    std::cerr << "cluster_bench: the cluster did not start\n";
    return 2;
  }
  Emit(s.label, "start_seconds", double(NowNanos() - t0) / 1e9);

  if (s.probes > 0) {
    const uint16_t probe_resource = BenchResources(1, 48)[0];
    {  // warm every node for the probe resource (first query is cold)
      int fd = ClientSocket(c);
      for (int k = 1; k <= s.nodes; ++k) {
        Exchange(fd, EdgeOf(c, k), QueryBytes(probe_resource, 1, 9), 9,
                 5'000'000'000);
      }
      close(fd);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    const Quiet quiet = WaitUntilQuiet(s.quiet_share, s.quiet_max_seconds);
    Emit(s.label, "idle.busy_after_warming", quiet.first_busy);
    Emit(s.label, "idle.quiet_after_s", quiet.seconds);
    Emit(s.label, "idle.busy_at_start", quiet.last_busy);
    Visibility(c, s, "idle", 0, probe_resource);

    // The same probes while a load registers offers (one entry per request,
    // 4 resource ids including the probes') at --load-rate/s over all nodes.
    std::atomic<bool> stop{false};
    RegisterResult load;
    int fd = ClientSocket(c);
    std::vector<Workload> ws;
    ws.reserve(4);
    for (int r = 0; r < 4; ++r) {
      ws.push_back(MakeWorkload(
          0xC0, {r == 0 ? probe_resource : BenchResources(1, 48 + r)[0]}));
    }
    std::thread loader([&] {
      RegisterOptions o;
      o.window = 512;
      o.rate = s.load_rate;
      o.stop = &stop;
      load = RunRegistrations(
          fd, AllEdges(c, s.nodes), 100'000'000,
          [&](uint32_t i) { return RegisterBytes(ws[i % 4], i, i); }, o);
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));  // load settles
    {
      std::optional<PerfRecording> perf;
      if (!s.profile_loaded.empty()) {
        perf.emplace(s.profile_loaded, std::chrono::seconds(60));
      }
      Visibility(c, s, "loaded", 100'000, probe_resource);
    }
    stop = true;
    loader.join();
    close(fd);
    Emit(s.label, "loaded.target_offers_per_sec", s.load_rate);
    EmitRegistrations(s.label, "loaded.load", load);
  }
  if (s.durable_devices > 0) Durable(c, s);
  if (s.scale_offers > 0) Scale(c, s);
  return 0;
}

}  // namespace
}  // namespace crsp::bench

int main(int argc, char** argv) {
  crsp::testing::BlockStopSignals();  // before the cluster's threads
  crsp::bench::Settings s;
  CLI::App app{"CRSP cluster benchmark on the namespace harness"};
  app.add_option("--nodes", s.nodes);
  app.add_option("--probes", s.probes, "visibility probes per phase (0: skip)");
  app.add_option("--load-rate", s.load_rate, "offers/s of the loaded phase");
  app.add_option("--durable-devices", s.durable_devices, "x4 offers (0: skip)");
  app.add_option("--scale-offers", s.scale_offers, "one resource id (0: skip)");
  app.add_option("--window", s.window, "register requests in flight");
  app.add_option("--warm-seconds", s.warm_seconds, "warm query measurement");
  app.add_option("--settle-seconds", s.settle_seconds,
                 "pause before the warm measurement");
  app.add_option("--quiet-share", s.quiet_share,
                 "busy share of the CPUs below which the cluster is idle");
  app.add_option("--quiet-max-seconds", s.quiet_max_seconds,
                 "longest wait for an idle cluster");
  app.add_option("--profile-loaded", s.profile_loaded,
                 "perf.data of the whole machine over the loaded phase "
                 "(at most its first 60 s)");
  app.add_option("--label", s.label);
  CLI11_PARSE(app, argc, argv);
  try {
    return crsp::bench::Run(s);
  } catch (const std::exception& e) {
    std::cerr << "cluster_bench: " << e.what() << "\n";
    return 2;
  }
}
