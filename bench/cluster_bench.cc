// Cluster figures on the namespace harness of tests/cluster (one host per
// node, real IPv6 between them; loopback ports where namespaces cannot be
// made). One cluster per run, phases in order, each skipped when its count
// is 0:
//   1. visibility: a probe offer registered at node a, polled for at node
//      b != a (warm) until served; register -> visible p50/p99, idle, then
//      while a background load registers --load-rate offers/s.
//   2. durable: --durable-devices devices x 4 offers across every node,
//      --window requests in flight; offers acknowledged OK per second.
//   3. scale: --scale-offers offers of ONE resource id across every node;
//      the first query of the id anywhere (it elects the id's aggregators,
//      docs/scaling.md), then the first query at every other node (never
//      asked: the cold samples), queries one at a time at the nodes that
//      do not aggregate it (forwarded), and warm query p50/p99 at an
//      aggregator.
// Issue 14 ("Internet scale") adds, first, on the fresh cluster:
//   4. datagrams: --datagram-registrations paced registrations of an id
//      every node was asked about, and of one nobody asked about; UDP
//      datagrams of every node namespace per acknowledged registration.
// and, after the others:
//   5. forward: queries at a node that does not aggregate the id (each
//      forwarded), open loop at --forward-rate, then --forward-seconds
//      with --forward-window in flight; the same closed loop at an
//      aggregator and at an echo server in the forwarding node's namespace.
//   6. memory: every node asked about --memory-ids ids; VmRSS of every
//      node before and after.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "cluster.h"
#include "crsp/protocol/codec.h"
#include "netns.h"
#include "stop_signals.h"
#include "support/latency.h"
#include "support/net.h"
#include "support/perf_recording.h"
#include "support/proc_counters.h"
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
  // Scale: queries one at a time at the nodes that do not aggregate the id,
  // after the cold samples.
  int scale_forwarded_queries = 200;
  // Memory: ids every node is asked about (0: skip), offers of each.
  int memory_ids = 0;
  int memory_offers = 4;
  // After every node answered exactly for every id: the aggregators' new
  // watches re-read their keys 5 s after they start (docs/storage.md).
  double memory_settle_seconds = 10;
  // Datagrams: registrations per id (0: skip), requests/s offered.
  size_t datagram_registrations = 0;
  double datagram_rate = 100;
  // Batches per id, interleaved A B B A A B ...: the cluster's own
  // background traffic (routing upkeep, the aggregators' re-reads) drifts
  // by thousands of datagrams/s in a young 20-node cluster, and one batch
  // of each id, one after the other, measured the drift (excess 14.6,
  // 55.9 and 112.3 per registration in three runs of one commit).
  int datagram_rounds = 1;
  // Longest wait for the nodes' own traffic to calm (Datagrams).
  double datagram_quiet_max_seconds = 120;
  // After a batch's last offered registration: its listen notifications
  // and late acknowledgements land inside the counted window.
  double datagram_settle_seconds = 3;
  // Forward: measured seconds per server (0: skip), requests in flight,
  // offers of the id, and the echo_server binary (empty: no echo figure).
  double forward_seconds = 0;
  int forward_window = 16;
  int forward_offers = 200;
  // Queries/s of the open-loop step at the forwarding node (0: none).
  double forward_rate = 4000;
  std::string echo_server;
  std::string label = "c5";
};

// Info, not warn: the aggregator phases find which nodes aggregate an id
// from the node's log ("aggregating resource id ...", as
// tests/cluster/aggregator_test.cc does). The node logs nothing per request
// at info, and OpenDHT's own log only at trace. CRSP_CLUSTER_LOG_LEVEL
// (the cluster harness's, e.g. debug) overrides it.
std::vector<std::string> NodeFlags() {
  std::vector<std::string> flags = {
      "--answer-budget",     "1000000000", "--answer-burst", "1000000000",
      "--offers-per-source", "100000000",  "--max-offers",   "10000000"};
  if (std::getenv("CRSP_CLUSTER_LOG_LEVEL") == nullptr) {
    flags.insert(flags.begin(), {"--log-level", "info"});
  }
  return flags;
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

std::vector<int> AllNodes(int nodes) {
  std::vector<int> all;
  for (int k = 1; k <= nodes; ++k) all.push_back(k);
  return all;
}

// How often `phrase` occurs in `text`, and how often preceded by `negation`.
void CountPhrase(const std::string& text, const std::string& phrase,
                 const std::string& negation, size_t* plain, size_t* negated) {
  for (size_t at = text.find(phrase); at != std::string::npos;
       at = text.find(phrase, at + 1)) {
    const bool neg =
        at >= negation.size() &&
        text.compare(at - negation.size(), negation.size(), negation) == 0;
    (neg ? *negated : *plain) += 1;
  }
}

std::string Hex4(uint16_t resource) {
  char hex[5];
  std::snprintf(hex, sizeof hex, "%04x", resource);
  return hex;
}

// The log of every node (index k; 0 and stopped nodes: empty).
std::vector<std::string> NodeLogs(Cluster& c, int nodes) {
  std::vector<std::string> logs(size_t(nodes) + 1);
  for (int k = 1; k <= nodes; ++k) {
    if (c.node(k) != nullptr) logs[size_t(k)] = c.node(k)->Log();
  }
  return logs;
}

// The nodes that aggregate `resource` now, from their logs
// (node/src/lib/aggregate.cc logs the start and the end at info); with
// `warm`, only those that also said they advertise it (warm index).
std::set<int> AggregatorsOf(const std::vector<std::string>& logs,
                            uint16_t resource, bool warm = false) {
  const std::string aggregating = "aggregating resource id " + Hex4(resource);
  const std::string advertising =
      "resource id " + Hex4(resource) + " warm: advertising";
  std::set<int> found;
  for (size_t k = 1; k < logs.size(); ++k) {
    // "no longer aggregating ..." also contains the phrase: count the
    // starts and the ends.
    size_t starts = 0, ends = 0;
    CountPhrase(logs[k], aggregating, "no longer ", &starts, &ends);
    const bool advertises = logs[k].find(advertising) != std::string::npos;
    if (starts > ends && (!warm || advertises)) found.insert(int(k));
  }
  return found;
}

std::string NodeList(const std::set<int>& nodes) {
  std::string text;
  for (int k : nodes) text += (text.empty() ? "" : ",") + std::to_string(k);
  return text.empty() ? "none" : text;
}

using AggregatorSets = std::map<uint16_t, std::set<int>>;

// Waits (at most `max_seconds`) until every id of `resources` has
// aggregators and every one of them is warm, and the sets stayed so for
// 2 s (an election's storers decide one by one). Returns the warm
// aggregators of each id.
AggregatorSets WaitForWarmAggregators(Cluster& c, int nodes,
                                      const std::vector<uint16_t>& resources,
                                      double max_seconds) {
  const uint64_t end = NowNanos() + uint64_t(max_seconds * 1e9);
  AggregatorSets stable;
  uint64_t stable_since = 0;
  for (int round = 0; round < 10'000 && NowNanos() < end; ++round) {
    const std::vector<std::string> logs = NodeLogs(c, nodes);
    AggregatorSets warm;
    bool settled = true;
    for (uint16_t r : resources) {
      warm[r] = AggregatorsOf(logs, r, true);
      settled =
          settled && !warm[r].empty() && warm[r] == AggregatorsOf(logs, r);
    }
    if (!settled) {
      stable.clear();
    } else if (warm != stable) {
      stable = warm;
      stable_since = NowNanos();
    } else if (NowNanos() - stable_since >= 2'000'000'000) {
      return stable;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const std::vector<std::string> logs = NodeLogs(c, nodes);
  AggregatorSets warm;
  for (uint16_t r : resources) warm[r] = AggregatorsOf(logs, r, true);
  return warm;
}

// One query and how it went.
struct QueryOutcome {
  bool answered = false;
  wire::Status status = wire::Status::kOk;
  int64_t total = -1;
  uint64_t nanos = 0;
  bool Exact(uint64_t expected) const {
    return answered && status == wire::Status::kOk &&
           total == int64_t(expected);
  }
};

QueryOutcome TimedQuery(int fd, const sockaddr_in6& to, uint16_t resource,
                        uint32_t txid, uint64_t timeout_ns) {
  QueryOutcome q;
  const uint64_t t0 = NowNanos();
  auto d = Exchange(fd, to, QueryBytes(resource, 10, txid), txid, timeout_ns);
  q.nanos = NowNanos() - t0;
  if (!d) return q;
  q.answered = true;
  q.status = d->packet.header.status;
  if (const auto* a = AnswerOf(*d)) q.total = a->total;
  return q;
}

// Asks every node of `nodes` about every id of `resources` until each has
// answered OK with total `expected`: a round sends one query for each pair
// not yet exact, all at once, and waits up to 2 s for their answers; at
// most `max_seconds` in all. Returns how many pairs never were.
size_t AskUntilExact(Cluster& c, const std::vector<int>& nodes,
                     const std::vector<uint16_t>& resources, uint64_t expected,
                     double max_seconds, uint32_t* txid) {
  std::set<std::pair<int, uint16_t>> pending;
  for (int k : nodes) {
    for (uint16_t r : resources) pending.insert({k, r});
  }
  int fd = ClientSocket(c);
  std::vector<sockaddr_in6> edges(size_t(c.hosts()) + 1);
  for (int k : nodes) edges[size_t(k)] = EdgeOf(c, k);
  const uint64_t end = NowNanos() + uint64_t(max_seconds * 1e9);
  std::array<std::byte, 2048> buf{};
  // The last answer of each pair not exact (status, total): for the report.
  std::map<std::pair<int, uint16_t>, std::pair<int, int64_t>> last;
  for (int round = 0; round < 1000 && !pending.empty() && NowNanos() < end;
       ++round) {
    std::map<uint32_t, std::pair<int, uint16_t>> asked;
    for (const auto& [k, r] : pending) {
      const uint32_t id = ++*txid;
      auto q = QueryBytes(r, 10, id);
      sendto(fd, q.data(), q.size(), 0,
             reinterpret_cast<const sockaddr*>(&edges[size_t(k)]),
             sizeof(sockaddr_in6));
      asked[id] = {k, r};
    }
    const uint64_t round_end = std::min(end, NowNanos() + 2'000'000'000);
    while (!asked.empty() && NowNanos() < round_end) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 5);
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) continue;
      auto d = protocol::Decode(std::span(buf.data(), size_t(n)));
      auto it = asked.find(d.packet.header.txid);
      if (it == asked.end()) continue;
      const auto* a = AnswerOf(d);
      if (d.packet.header.status == wire::Status::kOk && a != nullptr &&
          a->total == expected) {
        pending.erase(it->second);
      } else {
        last[it->second] = {int(d.packet.header.status),
                            a != nullptr ? int64_t(a->total) : -1};
      }
      asked.erase(it);
    }
    if (!pending.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  close(fd);
  for (const auto& pair : pending) {
    auto l = last.find(pair);
    std::cerr << "cluster_bench: node " << pair.first << " id " << pair.second
              << " not exact: ";
    if (l == last.end()) {
      std::cerr << "never answered\n";
    } else {
      std::cerr << "status " << l->second.first << " total " << l->second.second
                << " (expected " << expected << ")\n";
    }
  }
  return pending.size();
}

// As ids become popular in a network, one after another: node 1 asks
// first (it finds no aggregator, reads directly and demands them), until
// it answers exactly; then the id's aggregators are elected and warm up,
// before the next id and before anyone else asks. Asking every node at
// once instead would make each of them read every key directly; electing
// 12 ids at once (~40 cold reads of 1,408 keys each) saturates 20 nodes
// on 2 cores for minutes (docs/scaling.md "Known problems"). Returns the
// warm aggregators of each id.
AggregatorSets ElectAggregators(Cluster& c, int nodes,
                                const std::vector<uint16_t>& resources,
                                uint64_t expected, uint32_t* txid) {
  AggregatorSets all;
  for (uint16_t r : resources) {
    AskUntilExact(c, {1}, {r}, expected, 60, txid);
    AggregatorSets one = WaitForWarmAggregators(c, nodes, {r}, 90);
    all[r] = one[r];
  }
  return all;
}

std::vector<pid_t> NodePids(Cluster& c, int nodes) {
  std::vector<pid_t> pids;
  for (int k = 1; k <= nodes; ++k) {
    if (c.node(k) != nullptr) pids.push_back(c.node(k)->pid());
  }
  return pids;
}

// Issue 14, goal 4: a node's memory must not grow with the ids it was
// merely asked about. Every node is asked about the same ids (a few offers
// each) until it answers each exactly; VmRSS of every node before and
// after, once the ids' aggregators are warm and a settle has passed.
void Memory(Cluster& c, const Settings& s) {
  const std::vector<uint16_t> ids = BenchResources(size_t(s.memory_ids), 112);
  int fd = ClientSocket(c);
  // Each device offers every id: memory_offers requests of memory_ids
  // entries.
  Workload w = MakeWorkload(0xE8, ids);
  RegisterOptions o;
  o.window = 16;
  RegisterResult r = RunRegistrations(
      fd, AllEdges(c, s.nodes), size_t(s.memory_offers),
      [&](uint32_t i) { return RegisterBytes(w, i, i); }, o);
  close(fd);
  EmitRegistrations(s.label, "memory.register", r);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::vector<uint64_t> before(size_t(s.nodes) + 1, 0);
  for (int k = 1; k <= s.nodes; ++k) {
    before[size_t(k)] = VmRssKb(c.node(k)->pid()).value_or(0);
  }
  uint32_t txid = 7'000'000;
  const uint64_t t0 = NowNanos();
  const uint64_t expected = uint64_t(s.memory_offers);
  ElectAggregators(c, s.nodes, ids, expected, &txid);
  const size_t not_exact =
      AskUntilExact(c, AllNodes(s.nodes), ids, expected, 120, &txid);
  Emit(s.label, "memory.asked_seconds", double(NowNanos() - t0) / 1e9);
  // Every node asked: demands from nodes that missed an advert can still
  // move an id's aggregators, so they are read once more.
  double aggregated = 0;  // (node, id) pairs aggregated
  std::vector<int> aggregated_by(size_t(s.nodes) + 1, 0);
  for (const auto& [id, nodes] : WaitForWarmAggregators(c, s.nodes, ids, 60)) {
    aggregated += double(nodes.size());
    for (int k : nodes) ++aggregated_by[size_t(k)];
  }
  std::this_thread::sleep_for(
      std::chrono::duration<double>(s.memory_settle_seconds));
  double growth_sum = 0, growth_max = 0, before_sum = 0;
  int measured = 0;
  for (int k = 1; k <= s.nodes; ++k) {
    auto after = VmRssKb(c.node(k)->pid());
    if (!after || before[size_t(k)] == 0) continue;
    const double growth_mb =
        (double(*after) - double(before[size_t(k)])) / 1024;
    // Per node, beside what it aggregated and read directly (its log):
    // where the growth is.
    Emit(s.label, "memory.node" + std::to_string(k) + ".rss_growth_mb",
         growth_mb);
    Emit(s.label, "memory.node" + std::to_string(k) + ".aggregated_ids",
         aggregated_by[size_t(k)]);
    growth_sum += growth_mb;
    growth_max = std::max(growth_max, growth_mb);
    before_sum += double(before[size_t(k)]) / 1024;
    ++measured;
  }
  Emit(s.label, "memory.ids", double(ids.size()));
  Emit(s.label, "memory.offers_per_id", s.memory_offers);
  Emit(s.label, "memory.pairs_not_exact", double(not_exact));
  Emit(s.label, "memory.aggregated_ids_per_node", aggregated / double(s.nodes));
  Emit(s.label, "memory.settle_seconds", s.memory_settle_seconds);
  Emit(s.label, "memory.nodes_measured", measured);
  if (measured > 0) {
    Emit(s.label, "memory.rss_before_mean_mb", before_sum / measured);
    Emit(s.label, "memory.rss_growth_mean_mb", growth_sum / measured);
    Emit(s.label, "memory.rss_growth_max_mb", growth_max);
  }
}

// One batch of the datagram phase: `count` paced registrations of
// `resource` (one entry each, devices of `tag`), and the UDP datagrams
// of every node namespace over a window of fixed length from the first
// send, so that the DHT's background upkeep weighs the same in every
// batch.
struct DatagramBatch {
  RegisterResult registrations;
  UdpDatagrams datagrams;
  double window_seconds = 0;
  int unreadable = 0;  // nodes whose counters could not be read
};

// `count` registrations of devices first_device.. (of tag `tag`).
DatagramBatch MeasureBatch(Cluster& c, const Settings& s, uint16_t resource,
                           uint8_t tag, size_t count, uint32_t first_device) {
  DatagramBatch b;
  const std::vector<pid_t> pids = NodePids(c, s.nodes);
  int fd = ClientSocket(c);
  Workload w = MakeWorkload(tag, {resource});
  RegisterOptions o;
  o.window = 64;
  o.rate = s.datagram_rate;
  int missing_before = 0, missing_after = 0;
  const uint64_t t0 = NowNanos();
  const UdpDatagrams before = UdpDatagramsOfNamespaces(pids, &missing_before);
  b.registrations = RunRegistrations(
      fd, AllEdges(c, s.nodes), count,
      // txid i: RunRegistrations matches answers by it.
      [&](uint32_t i) { return RegisterBytes(w, first_device + i, i); }, o);
  close(fd);
  // The window: the paced sending time plus the settle, or, when the
  // acknowledgements came later than that, until a settle after the last.
  const double paced = double(count) / s.datagram_rate;
  const uint64_t end =
      std::max(t0 + uint64_t((paced + s.datagram_settle_seconds) * 1e9),
               NowNanos() + uint64_t(s.datagram_settle_seconds * 1e9));
  while (NowNanos() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const UdpDatagrams after = UdpDatagramsOfNamespaces(pids, &missing_after);
  b.window_seconds = double(NowNanos() - t0) / 1e9;
  b.datagrams.in = after.in - before.in;
  b.datagrams.out = after.out - before.out;
  b.datagrams.in_errors = after.in_errors - before.in_errors;
  b.unreadable = std::max(missing_before, missing_after);
  return b;
}

// UDP datagrams in and out of the namespaces of `pids` per second, over
// the next `seconds`.
double DatagramsPerSecond(const std::vector<pid_t>& pids, double seconds) {
  const uint64_t t0 = NowNanos();
  const UdpDatagrams before = UdpDatagramsOfNamespaces(pids);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const UdpDatagrams after = UdpDatagramsOfNamespaces(pids);
  return double(after.total() - before.total()) /
         (double(NowNanos() - t0) / 1e9);
}

// `b` added to `sum`: counts and times summed; ack latencies the worst
// batch's.
void AddBatch(DatagramBatch& sum, const DatagramBatch& b) {
  RegisterResult& r = sum.registrations;
  const RegisterResult& x = b.registrations;
  r.requests += x.requests;
  r.requests_ok += x.requests_ok;
  r.entries_ok += x.entries_ok;
  r.entries_failed += x.entries_failed;
  r.unanswered += x.unanswered;
  if (r.first_bad_status < 0) r.first_bad_status = x.first_bad_status;
  r.seconds += x.seconds;
  r.entries_per_sec = r.seconds > 0 ? double(r.entries_ok) / r.seconds : 0;
  r.p50_ms = std::max(r.p50_ms, x.p50_ms);
  r.p99_ms = std::max(r.p99_ms, x.p99_ms);
  sum.datagrams.in += b.datagrams.in;
  sum.datagrams.out += b.datagrams.out;
  sum.datagrams.in_errors += b.datagrams.in_errors;
  sum.window_seconds += b.window_seconds;
  sum.unreadable = std::max(sum.unreadable, b.unreadable);
}

void EmitBatch(const Settings& s, const std::string& phase,
               const DatagramBatch& b, double idle_per_sec) {
  EmitRegistrations(s.label, phase, b.registrations);
  const double ok = double(b.registrations.entries_ok);
  Emit(s.label, phase + ".window_seconds", b.window_seconds);
  Emit(s.label, phase + ".datagrams_in", double(b.datagrams.in));
  Emit(s.label, phase + ".datagrams_out", double(b.datagrams.out));
  Emit(s.label, phase + ".datagrams_dropped", double(b.datagrams.in_errors));
  Emit(s.label, phase + ".unreadable_nodes", b.unreadable);
  if (ok > 0) {
    Emit(s.label, phase + ".per_registration",
         double(b.datagrams.total()) / ok);
    // The same less the idle upkeep over the window: what the batch itself
    // cost (informational; the excess of the goal is taken raw, as the
    // upkeep cancels between two windows of the same length).
    Emit(s.label, phase + ".per_registration_less_idle",
         (double(b.datagrams.total()) - idle_per_sec * b.window_seconds) / ok);
  }
}

// Issue 14, goal 1: datagrams per acknowledged registration of an id every
// node was asked about, less those of an id nobody asked about (the DHT's
// own put). Today's design pushed each registration to every node that was
// ever asked about the id; with aggregators only the id's few aggregators
// hear of it.
void Datagrams(Cluster& c, const Settings& s) {
  const uint16_t asked = BenchResources(1, 64)[0];
  const uint16_t never_asked = BenchResources(1, 65)[0];
  uint32_t txid = 8'000'000;
  // The id's aggregators elected and warm, then every node asked until it
  // answers OK (no offers yet: total 0), each holding their adverts.
  ElectAggregators(c, s.nodes, {asked}, 0, &txid);
  const size_t not_ok =
      AskUntilExact(c, AllNodes(s.nodes), {asked}, 0, 60, &txid);
  const std::set<int> aggregators =
      WaitForWarmAggregators(c, s.nodes, {asked}, 30)[asked];
  Emit(s.label, "datagrams.nodes_not_ok", double(not_ok));
  Emit(s.label, "datagrams.aggregators", double(aggregators.size()));
  std::cerr << "cluster_bench: " << s.label << " datagrams: aggregators of "
            << Hex4(asked) << ": " << NodeList(aggregators) << "\n";
  const Quiet quiet =
      WaitUntilQuiet(s.quiet_share, std::min(60.0, s.quiet_max_seconds));
  Emit(s.label, "datagrams.quiet_after_s", quiet.seconds);
  Emit(s.label, "datagrams.busy_at_start", quiet.last_busy);
  // Quiet for the CPU is not quiet on the wire: each new aggregator
  // re-reads its 1,408 keys 5 s after its watch starts, 32 gets/s for
  // ~44 s (docs/storage.md), light work that sends 1,500-6,000 datagrams/s
  // in all; measured on top of it, the excess was that traffic's drift
  // (14.6 to 112.3 per registration at 20 nodes in runs of one commit).
  // So wait, 2 s at a time, until the nodes send fewer than
  // kQuietDatagramsPerNode each per second, at most
  // s.datagram_quiet_max_seconds.
  const std::vector<pid_t> pids = NodePids(c, s.nodes);
  {
    constexpr double kQuietDatagramsPerNode = 20;
    const uint64_t t0 = NowNanos();
    double rate = 0;
    for (int i = 0; i < 600; ++i) {
      rate = DatagramsPerSecond(pids, 2);
      if (rate < kQuietDatagramsPerNode * s.nodes) break;
      if (double(NowNanos() - t0) / 1e9 >= s.datagram_quiet_max_seconds) break;
    }
    Emit(s.label, "datagrams.wire_quiet_after_s",
         double(NowNanos() - t0) / 1e9);
    Emit(s.label, "datagrams.wire_rate_at_start", rate);
  }
  // The idle upkeep over a window as long as a batch's, before the
  // batches and after them (their mean is subtracted in the _less_idle
  // figures).
  const int rounds = std::max(1, s.datagram_rounds);
  const size_t per_batch = std::max<size_t>(
      1, s.datagram_registrations / static_cast<size_t>(rounds));
  const double window =
      double(per_batch) / s.datagram_rate + s.datagram_settle_seconds;
  const double idle_before = DatagramsPerSecond(pids, window);
  DatagramBatch nobody, everyone;
  for (int r = 0; r < rounds; ++r) {
    const uint32_t first = static_cast<uint32_t>(r * per_batch);
    // A B, then B A: a background that drifts steadily weighs on both ids
    // alike.
    for (int k = 0; k < 2; ++k) {
      if ((k == 0) == (r % 2 == 0)) {
        AddBatch(nobody,
                 MeasureBatch(c, s, never_asked, 0xE1, per_batch, first));
      } else {
        AddBatch(everyone, MeasureBatch(c, s, asked, 0xE0, per_batch, first));
      }
    }
  }
  const double idle_after = DatagramsPerSecond(pids, window);
  const double idle_per_sec = (idle_before + idle_after) / 2;
  Emit(s.label, "datagrams.registrations", double(per_batch) * double(rounds));
  Emit(s.label, "datagrams.rounds", rounds);
  Emit(s.label, "datagrams.rate", s.datagram_rate);
  Emit(s.label, "datagrams.idle_before_per_sec", idle_before);
  Emit(s.label, "datagrams.idle_after_per_sec", idle_after);
  Emit(s.label, "datagrams.idle_per_sec", idle_per_sec);
  EmitBatch(s, "datagrams.never_asked", nobody, idle_per_sec);
  EmitBatch(s, "datagrams.asked", everyone, idle_per_sec);
  if (nobody.registrations.entries_ok > 0 &&
      everyone.registrations.entries_ok > 0) {
    Emit(s.label, "datagrams.excess_per_registration",
         double(everyone.datagrams.total()) /
                 double(everyone.registrations.entries_ok) -
             double(nobody.datagrams.total()) /
                 double(nobody.registrations.entries_ok));
  }
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
  const uint64_t offers = r.entries_ok;

  // Node `nodes` has accepted a share of the offers but was never asked,
  // nor was anyone: its query finds no aggregator, reads the id directly
  // and demands aggregators (docs/scaling.md, Election).
  sockaddr_in6 to = EdgeOf(c, s.nodes);
  int qfd = ClientSocket(c);
  const QueryOutcome first = TimedQuery(qfd, to, resource, 5, 30'000'000'000);
  Emit(s.label, "scale.cold_ms", double(first.nanos) / 1e6);
  Emit(s.label, "scale.cold_total", double(first.total));
  Emit(s.label, "scale.cold_status", double(int(first.status)));

  // Issue 14, goal 3: the first query at every other node, once the id's
  // aggregators are warm: these nodes were never asked (the cold samples).
  const std::set<int> aggregators =
      WaitForWarmAggregators(c, s.nodes, {resource}, 120)[resource];
  Emit(s.label, "scale.aggregators", double(aggregators.size()));
  std::cerr << "cluster_bench: " << s.label << " scale: aggregators of "
            << Hex4(resource) << ": " << NodeList(aggregators) << "\n";
  uint32_t txid = 100;
  Latencies cold;
  int cold_exact = 0, cold_samples = 0;
  double cold_max_ms = 0, cold_max_forwarding_ms = 0;
  for (int k = 1; k < s.nodes; ++k) {
    const QueryOutcome q =
        TimedQuery(qfd, EdgeOf(c, k), resource, ++txid, 10'000'000'000);
    const double ms = double(q.nanos) / 1e6;
    const bool aggregates = aggregators.count(k) != 0;
    const std::string key = "scale.cold.node" + std::to_string(k);
    Emit(s.label, key + "_ms", ms);
    Emit(s.label, key + "_exact", q.Exact(offers) ? 1 : 0);
    Emit(s.label, key + "_aggregator", aggregates ? 1 : 0);
    ++cold_samples;
    cold_exact += q.Exact(offers) ? 1 : 0;
    // An answer that is not exact missed the goal whatever its time.
    cold.Add(q.Exact(offers) ? q.nanos : 10'000'000'000);
    cold_max_ms = std::max(cold_max_ms, ms);
    if (!aggregates)
      cold_max_forwarding_ms = std::max(cold_max_forwarding_ms, ms);
  }
  Emit(s.label, "scale.cold_samples", cold_samples);
  Emit(s.label, "scale.cold_exact", cold_exact);
  if (cold_samples > 0) {
    Emit(s.label, "scale.cold_p50_ms", cold.PercentileMicros(50) / 1e3);
    Emit(s.label, "scale.cold_p99_ms", cold.PercentileMicros(99) / 1e3);
    Emit(s.label, "scale.cold_max_ms", cold_max_ms);
    Emit(s.label, "scale.cold_max_forwarding_ms", cold_max_forwarding_ms);
  }

  // The queries that follow at the nodes that do not aggregate the id
  // (forwarded to an aggregator), one at a time, round robin; each must be
  // OK and exact.
  std::vector<int> forwarding;
  for (int k = 1; k <= s.nodes; ++k) {
    if (aggregators.count(k) == 0) forwarding.push_back(k);
  }
  if (!forwarding.empty() && s.scale_forwarded_queries > 0) {
    Latencies forwarded;
    int exact = 0, sent = 0;
    const uint64_t end = NowNanos() + 60'000'000'000;
    for (; sent < s.scale_forwarded_queries && NowNanos() < end; ++sent) {
      const int k = forwarding[size_t(sent) % forwarding.size()];
      const QueryOutcome q =
          TimedQuery(qfd, EdgeOf(c, k), resource, ++txid, 2'000'000'000);
      if (q.Exact(offers)) {
        ++exact;
        forwarded.Add(q.nanos);
      }
    }
    Emit(s.label, "scale.forwarded_nodes", double(forwarding.size()));
    Emit(s.label, "scale.forwarded_queries", sent);
    Emit(s.label, "scale.forwarded_exact", exact);
    Emit(s.label, "scale.forwarded_p50_ms",
         forwarded.PercentileMicros(50) / 1e3);
    Emit(s.label, "scale.forwarded_p99_ms",
         forwarded.PercentileMicros(99) / 1e3);
  }

  // Until node `nodes` answers with the complete total (bounded).
  double total = -1;
  for (int i = 0; i < 120; ++i) {
    const QueryOutcome q = TimedQuery(qfd, to, resource, ++txid, 2'000'000'000);
    total = double(q.total);
    if (q.Exact(offers)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  Emit(s.label, "scale.warm_total", total);
  close(qfd);
  std::this_thread::sleep_for(std::chrono::duration<double>(s.settle_seconds));
  Emit(s.label, "scale.settle_seconds", s.settle_seconds);

  // Warm: at an aggregator, which answers from its index (the one-node
  // figure of before the aggregators); node `nodes` when none was found.
  const int warm_node = aggregators.empty() ? s.nodes : *aggregators.begin();
  Emit(s.label, "scale.warm_node", warm_node);
  Emit(s.label, "scale.warm_node_aggregates", aggregators.empty() ? 0 : 1);
  sockaddr_in6 warm_to = EdgeOf(c, warm_node);
  int lfd = ClientSocket(c, &warm_to);
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

// Starts bench/echo_server in host k's namespace on a free port, answering
// `answer_bytes` per request; its pid (-1 when it did not start) and port.
pid_t StartEchoServer(Cluster& c, int k, const std::string& binary,
                      size_t answer_bytes, uint16_t* port) {
  pid_t pid = -1;
  testing::RunInNetns(c.Netns(k), [&] {
    *port = testing::FreeUdpPort();
    // --max-seconds: gone even if this process is killed before it stops it.
    pid = testing::Spawn(
        {binary, "--port", std::to_string(*port), "--answer-size",
         std::to_string(answer_bytes), "--max-seconds", "300"},
        "/dev/null");
  });
  return pid;
}

void StopChild(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Issue 14, goal 6: a query answered by forwarding. Queries with a fixed
// number in flight at a node that does not aggregate the id (each one
// forwarded: 0x40 to an aggregator, 0x41 back), at an aggregator (its
// index), and at an echo server in the forwarding node's namespace that
// answers the same size (this cluster's limit for one exchange).
void Forward(Cluster& c, const Settings& s) {
  const uint16_t resource = BenchResources(1, 96)[0];
  int fd = ClientSocket(c);
  Workload w = MakeWorkload(0xF0, {resource});
  RegisterOptions o;
  o.window = 64;
  RegisterResult r = RunRegistrations(
      fd, AllEdges(c, s.nodes), size_t(s.forward_offers),
      [&](uint32_t i) { return RegisterBytes(w, i, i); }, o);
  close(fd);
  EmitRegistrations(s.label, "forward.register", r);
  const uint64_t offers = r.entries_ok;
  uint32_t txid = 9'000'000;
  ElectAggregators(c, s.nodes, {resource}, offers, &txid);
  // Every node asked, so that each holds the warm aggregators' adverts.
  const size_t not_exact =
      AskUntilExact(c, AllNodes(s.nodes), {resource}, offers, 60, &txid);
  const std::set<int> aggregators =
      WaitForWarmAggregators(c, s.nodes, {resource}, 30)[resource];
  Emit(s.label, "forward.nodes_not_exact", double(not_exact));
  Emit(s.label, "forward.aggregators", double(aggregators.size()));
  int forwarding = 0;
  for (int k = s.nodes; k >= 1 && forwarding == 0; --k) {
    if (aggregators.count(k) == 0) forwarding = k;
  }
  if (aggregators.empty() || forwarding == 0) {
    std::cerr << "cluster_bench: forward: aggregators " << NodeList(aggregators)
              << ": no node to forward from, or none to forward to\n";
    Emit(s.label, "forward.skipped", 1);
    return;
  }
  const int aggregator = *aggregators.begin();
  Emit(s.label, "forward.forwarding_node", forwarding);
  Emit(s.label, "forward.aggregator_node", aggregator);

  std::vector<std::vector<std::byte>> requests;
  for (uint32_t i = 0; i < 65536; ++i) {
    requests.push_back(QueryBytes(resource, 10, i));
  }
  // Closed loop: `forward_window` in flight, as fast as answers come.
  LoadOptions closed;
  closed.window = s.forward_window;
  closed.seconds = s.forward_seconds;
  // The client shares the CPUs with every node: no spinning.
  closed.busy_poll = false;
  // Open loop at forward_rate: an aggregator answers a forwarding node
  // within a budget per peer address (limits.peer_answer_bytes_per_sec,
  // 4 MiB/s: ~5,600 answers of 748 bytes) and answers RATE_LIMITED past
  // it; the forwarder then asks the next aggregator, and the buyer gets
  // RATE_LIMITED when all are busy. A rate under the budget gives the
  // latency of forwarding itself.
  LoadOptions paced = closed;
  paced.window = 256;
  paced.rate = s.forward_rate;
  const auto load_at = [&](const sockaddr_in6& to, const std::string& phase,
                           const LoadOptions& lo) {
    int lfd = ClientSocket(c, &to);
    Drain(lfd);
    LoadResult lr = RunLoad(lfd, requests, lo);
    close(lfd);
    if (lo.rate > 0) Emit(s.label, phase + ".rate", lo.rate);
    Emit(s.label, phase + ".window", lo.window);
    Emit(s.label, phase + ".answers_per_sec", lr.answers_per_sec);
    Emit(s.label, phase + ".p50_us", lr.p50_us);
    Emit(s.label, phase + ".p99_us", lr.p99_us);
    Emit(s.label, phase + ".lost", double(lr.lost));
    Emit(s.label, phase + ".answered", double(lr.answered));
    Emit(s.label, phase + ".not_ok", double(lr.answered - lr.ok));
    return lr;
  };
  // Exactness is not checked per answer under load (RunLoad counts OK
  // statuses); samples of one-at-a-time queries between the loads are.
  const auto exact_sample = [&](const std::string& name) {
    int qfd = ClientSocket(c);
    int exact = 0;
    QueryOutcome missed;
    for (int i = 0; i < 20; ++i) {
      const QueryOutcome q = TimedQuery(qfd, EdgeOf(c, forwarding), resource,
                                        ++txid, 2'000'000'000);
      if (q.Exact(offers)) {
        ++exact;
      } else {
        missed = q;
      }
    }
    close(qfd);
    Emit(s.label, "forward.node.exact_of_20_" + name, exact);
    if (exact < 20) {
      std::cerr << "cluster_bench: forward: " << name << ": " << 20 - exact
                << " of 20 not exact at node " << forwarding
                << "; the last: status " << int(missed.status) << ", total "
                << missed.total << " of " << offers << ", "
                << double(missed.nanos) / 1e6 << " ms\n";
    }
  };
  exact_sample("before");
  if (s.forward_rate > 0) {
    load_at(EdgeOf(c, forwarding), "forward.node_paced", paced);
    exact_sample("after_paced");
  }
  const LoadResult forwarded =
      load_at(EdgeOf(c, forwarding), "forward.node", closed);
  exact_sample("after_closed");
  load_at(EdgeOf(c, aggregator), "forward.aggregator", closed);
  if (!s.echo_server.empty() && forwarded.answer_bytes > 0) {
    uint16_t port = 0;
    const pid_t echo = StartEchoServer(c, forwarding, s.echo_server,
                                       forwarded.answer_bytes, &port);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto to = ParseEndpoint("[" + c.Address(forwarding) +
                            "]:" + std::to_string(port));
    // Reaped here when it exited already: then there is nothing to stop.
    const bool running = echo > 0 && waitpid(echo, nullptr, WNOHANG) == 0;
    if (running && to) {
      load_at(*to, "forward.echo", closed);
    } else {
      std::cerr << "cluster_bench: forward: the echo server did not start\n";
    }
    if (running) StopChild(echo);
  }
  Emit(s.label, "forward.answer_bytes", double(forwarded.answer_bytes));
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

  // Datagrams want a fresh, quiet cluster: the loaded phase can leave a
  // 20-node cluster busy for minutes.
  if (s.datagram_registrations > 0) Datagrams(c, s);

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
    const uint64_t load_start = NowNanos();
    uint64_t load_stop = 0;
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
    load_stop = NowNanos();
    loader.join();
    close(fd);
    Emit(s.label, "loaded.target_offers_per_sec", s.load_rate);
    EmitRegistrations(s.label, "loaded.load", load);
    // Issue 14, goal 2: the share of the offered registrations (one offer
    // each, at --load-rate over the loader's sending time) acknowledged OK;
    // what the window (512 in flight) kept from being sent counts as not
    // acknowledged.
    const double offered = s.load_rate * double(load_stop - load_start) / 1e9;
    Emit(s.label, "loaded.load.offered", offered);
    Emit(s.label, "loaded.load.acked_share",
         offered > 0 ? double(load.entries_ok) / offered : 0);
  }
  if (s.durable_devices > 0) Durable(c, s);
  if (s.scale_offers > 0) Scale(c, s);
  if (s.forward_seconds > 0) Forward(c, s);
  // Last: the watches of the ids it makes every node ask about load a
  // 20-node cluster for minutes (bench/run gives it a cluster of its own).
  if (s.memory_ids > 0) Memory(c, s);
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
  app.add_option("--scale-forwarded-queries", s.scale_forwarded_queries,
                 "scale: queries one at a time at the nodes that do not "
                 "aggregate the id");
  app.add_option("--memory-ids", s.memory_ids,
                 "ids every node is asked about, VmRSS before and after "
                 "(0: skip)");
  app.add_option("--memory-offers", s.memory_offers, "offers of each id");
  app.add_option("--memory-settle-seconds", s.memory_settle_seconds,
                 "pause before the second VmRSS reading");
  app.add_option("--datagram-registrations", s.datagram_registrations,
                 "registrations per id, datagrams counted (0: skip)");
  app.add_option("--datagram-rate", s.datagram_rate,
                 "registrations/s of the datagram phase");
  app.add_option("--datagram-quiet-max-seconds", s.datagram_quiet_max_seconds,
                 "longest wait for the nodes' traffic to calm first");
  app.add_option("--datagram-rounds", s.datagram_rounds,
                 "batches per id, interleaved A B B A (drift cancels)");
  app.add_option("--datagram-settle-seconds", s.datagram_settle_seconds,
                 "counted after a batch's paced sending time");
  app.add_option("--forward-seconds", s.forward_seconds,
                 "forwarded query load per server (0: skip)");
  app.add_option("--forward-window", s.forward_window,
                 "forwarded queries in flight");
  app.add_option("--forward-rate", s.forward_rate,
                 "queries/s of the open-loop step at the forwarding node "
                 "(0: none)");
  app.add_option("--forward-offers", s.forward_offers,
                 "offers of the forwarded id");
  app.add_option("--echo-server", s.echo_server,
                 "bench/echo_server, run in the forwarding node's namespace "
                 "(empty: no echo figure)");
  app.add_option("--label", s.label);
  CLI11_PARSE(app, argc, argv);
  try {
    return crsp::bench::Run(s);
  } catch (const std::exception& e) {
    std::cerr << "cluster_bench: " << e.what() << "\n";
    return 2;
  }
}
