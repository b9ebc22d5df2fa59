// bench/scalesim: docs/scaling.md's aggregator design on N real OpenDHT
// nodes in one process (sim_network.h), counting every datagram. One run,
// one N; each phase against a baseline measured in the same run:
//
//   puts.plain      puts under an id nobody listens to (OpenDHT's own put)
//   election        a demand, the storers' checks, cold reads, adverts
//   puts.aggregated registrations of the aggregated id: the put, then the
//                   record pushed to its k aggregators (each writer reads
//                   the adverts first, at most once per kAdvertCache)
//   puts.watched    puts under an id W nodes listen to (the design before
//                   aggregators)
//   query.first     first queries at non-aggregators: adverts + forward
//   read.direct     a direct read of the id's keys (today's cold read)
//   takeover        the aggregators die; a query notices, demands, and
//                   new ones take over
//
// Prints "scalesim.<metric>=<value>" lines for bench/run, then a summary.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "roles.h"
#include "sim_network.h"

namespace crsp::scalesim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint16_t kPlainResource = 0x8B00;
constexpr uint16_t kAggregatedResource = 0x8B01;
constexpr uint16_t kWatchedResource = 0x8B02;
constexpr size_t kRecordBytes = 250;  // an unsigned offer record, about

long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// A phase's own datagrams: all it counted less the DHT's background upkeep
// over the phase's duration (pings, bucket refreshes: measured on the idle
// network first). At 10,000 nodes the upkeep is ~5,400 datagrams/s, more
// than the operations of a phase, so it must come off.
double g_idle_per_s = 0;
Clock::time_point g_phase_start;
void StartPhase(SimNetwork& net) {
  net.ResetCounts();
  g_phase_start = Clock::now();
}
double Own(const SimNetwork& net) {
  const double seconds =
      std::chrono::duration<double>(Clock::now() - g_phase_start).count();
  return double(net.datagrams()) - g_idle_per_s * seconds;
}

// Datagrams of one kind: an OpenDHT message kind ("q/update"), or one of
// the project's own (SimNetwork::CountExtra).
double OfKind(const SimNetwork& net, const std::string& kind) {
  auto it = net.by_kind().find(kind);
  return it == net.by_kind().end() ? 0 : double(it->second);
}

// Listen notifications: `update` requests and their replies.
double Updates(const SimNetwork& net) { return 2.0 * OfKind(net, "q/update"); }

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void Metric(const std::string& name, double value) {
  std::printf("scalesim.%s=%.6g\n", name.c_str(), value);
  std::fflush(stdout);
}

// The datagrams of a phase by OpenDHT message kind, per operation, on
// stderr (to read where a phase's datagrams went).
void Kinds(const char* phase, const SimNetwork& net, double ops) {
  std::fprintf(stderr, "%s:", phase);
  for (const auto& [kind, n] : net.by_kind()) {
    std::fprintf(stderr, " %s=%.1f", kind.c_str(), n / ops);
  }
  std::fprintf(stderr, "\n");
}

struct Sim {
  SimNetwork net{std::chrono::microseconds(5000)};
  Roles roles{&net, kAggregatedResource};
  std::mt19937_64 rng{1408};
  bool walking = true;  // WalkOwnId, until Join returns

  size_t RandomAlive(const std::set<size_t>& except = {}) {
    for (int tries = 0; tries < 10000; ++tries) {
      const size_t i = rng() % net.size();
      if (net.alive(i) && !except.count(i)) return i;
    }
    return 0;
  }

  // As the node's adapter does (OpenDhtDht's Refresh): a get of its own id
  // `after` from now, then again at doubling intervals up to 30 s
  // (OpenDhtConfig::refresh_interval), so that the nodes near it learn of
  // it. Without it, a node that joined late was known to few others 2
  // minutes on, and searches near its id missed it (an election without
  // one of the 3 closest nodes in 3 of 4 runs at 1,000 nodes). Only until
  // the joins settled: at 10,000 nodes the walks every 30 s are thousands
  // of datagrams a second, uneven enough that subtracting the idle rate
  // no longer isolates an operation's own datagrams.
  void WalkOwnId(size_t i, milliseconds after) {
    net.After(after, [this, i, after] {
      if (!walking || !net.alive(i)) return;
      net.node(i).get(
          net.node(i).getNodeId(),
          [](const std::vector<std::shared_ptr<::dht::Value>>&) {
            return false;  // no value wanted: the walk is the point
          },
          ::dht::DoneCallbackSimple([](bool) {}));
      net.Kick(i);
      WalkOwnId(i, std::min(after * 2, milliseconds(30000)));
    });
  }

  void Join(size_t n, int settle_seconds) {
    for (size_t i = 0; i < n; ++i) {
      net.AddNode();
      roles.Install(i);
      if (i > 0) {
        net.node(i).pingNode(net.AddressOf(0));
        for (int k = 0; k < 3 && i > 1; ++k) {
          net.node(i).pingNode(net.AddressOf(rng() % i));
        }
      }
      net.Kick(i);
      WalkOwnId(i, milliseconds(2000));
      if (i % 50 == 49) net.Run(milliseconds(20));
    }
    net.Run(settle_seconds >= 0 ? seconds(settle_seconds)
                                : (n > 1500 ? seconds(60) : seconds(30)));
    walking = false;
  }

  // `count` puts of record-sized values under random keys of `keys`, from
  // random nodes (from `writers` of them, when not 0), 5 ms apart; returns
  // how many succeeded. `confirmed(from)` runs after each one that did.
  size_t Puts(const std::vector<::dht::InfoHash>& keys, size_t count,
              size_t writers = 0,
              std::function<void(size_t from)> confirmed = nullptr) {
    std::vector<size_t> pool;
    while (pool.size() < writers) pool.push_back(RandomAlive());
    auto done = std::make_shared<size_t>(0), ok = std::make_shared<size_t>(0);
    for (size_t k = 0; k < count; ++k) {
      const size_t from = pool.empty() ? RandomAlive() : pool[k % pool.size()];
      auto value = std::make_shared<::dht::Value>(
          std::vector<uint8_t>(kRecordBytes, static_cast<uint8_t>(k)));
      value->id = rng();
      net.node(from).put(
          keys[rng() % keys.size()], value,
          [this, done, ok, from, confirmed](
              bool success, const std::vector<std::shared_ptr<::dht::Node>>&) {
            ++*done;
            *ok += success ? 1 : 0;
            if (success && confirmed) {
              net.Defer([confirmed, from] { confirmed(from); });
            }
          });
      net.Kick(from);
      net.Run(milliseconds(5));
    }
    net.Run(seconds(60), [&] { return *done >= count; });
    net.Run(seconds(2));  // listen notifications, adverts reads, pushes
    return *ok;
  }
};

int Main(int argc, char** argv) {
  size_t nodes = 1000, ops = 300, watchers = 20, queries = 100;
  int settle_seconds = -1;
  CLI::App app{"docs/scaling.md's aggregators on N simulated OpenDHT nodes"};
  app.add_option("--nodes", nodes, "OpenDHT nodes")->check(CLI::Range(20, 20000));
  app.add_option("--ops", ops, "puts per phase")->check(CLI::Range(1, 10000));
  app.add_option("--watchers", watchers, "today's design: nodes watching an id")
      ->check(CLI::Range(1, 1000));
  app.add_option("--queries", queries, "first queries")->check(CLI::Range(1, 10000));
  app.add_option("--settle-seconds", settle_seconds,
                 "wait after the joins (default 30 s, 60 s past 1,500 nodes)")
      ->check(CLI::Range(0, 600));
  CLI11_PARSE(app, argc, argv);

  Sim sim;
  SimNetwork& net = sim.net;
  const long rss0 = RssKb();
  auto t = Clock::now();
  sim.Join(nodes, settle_seconds);
  Metric("nodes", nodes);
  Metric("join_seconds", SecondsSince(t));
  Metric("rss_kb_per_node", double(RssKb() - rss0) / nodes);

  StartPhase(net);
  t = Clock::now();
  net.Run(seconds(10));
  g_idle_per_s = net.datagrams() / SecondsSince(t);
  Metric("idle_datagrams_per_node_s", g_idle_per_s / nodes);

  // puts.plain: OpenDHT's own put, nobody listening.
  StartPhase(net);
  t = Clock::now();
  size_t ok = sim.Puts(SimKeysOf(kPlainResource), ops);
  const double plain_s = SecondsSince(t);
  const double plain = Own(net) / ops;
  Kinds("puts.plain", net, ops);
  Metric("puts.plain.ok", ok);
  Metric("puts.plain.datagrams_all", double(net.datagrams()) / ops);
  Metric("puts.plain.datagrams", plain);
  Metric("puts.plain.seconds", plain_s);
  Metric("puts.plain.idle_share", g_idle_per_s * plain_s / ops);

  // election: one query finds no advert and demands aggregators.
  StartPhase(net);
  t = Clock::now();
  Roles::QueryOutcome first;
  const size_t asker = sim.RandomAlive();
  sim.roles.Query(asker, &first);
  const size_t k = dht::aggregator::kAggregators;
  net.Run(seconds(90), [&] { return sim.roles.warm().size() >= k; });
  const double election_s = SecondsSince(t);
  net.Run(seconds(3));  // the adverts' puts
  const std::set<size_t> elected = sim.roles.aggregators();
  Metric("election.demanded", first.demanded ? 1 : 0);
  Metric("election.seconds_to_k_warm", election_s);
  Metric("election.aggregators", elected.size());
  Metric("election.are_true_closest", elected == sim.roles.TrueClosest() ? 1 : 0);
  Metric("election.datagrams", Own(net));
  {
    size_t checked = 0, true_checked = 0, true_elected = 0, min_searched = 99;
    const std::set<size_t> truth = sim.roles.TrueClosest();
    for (const auto& [node, checks] : sim.roles.checks()) {
      checked += checks.size();
      for (const auto& c : checks) {
        min_searched = std::min(min_searched, c.searched);
      }
      if (truth.count(node)) {
        ++true_checked;
        true_elected += checks.back().elected ? 1 : 0;
      }
    }
    Metric("election.checks", checked);
    Metric("election.checks_min_searched", min_searched);
    Metric("election.true_closest_checked", true_checked);
    Metric("election.true_closest_elected", true_elected);
  }

  // puts.aggregated: the same puts under the aggregated id, each record
  // pushed once confirmed. First from random nodes (nearly every writer
  // reads the adverts: the worst case), then from 10 writers (each reads
  // them once in the phase: what a node that takes many registrations of
  // the id pays).
  const auto push = [&](size_t from) { sim.roles.Push(from); };
  StartPhase(net);
  uint64_t reads0 = sim.roles.push_adverts_reads();
  ok = sim.Puts(SimKeysOf(kAggregatedResource), ops, 0, push);
  const double aggregated = Own(net) / ops;
  Kinds("puts.aggregated", net, ops);
  Metric("puts.aggregated.ok", ok);
  Metric("puts.aggregated.datagrams_all", double(net.datagrams()) / ops);
  Metric("puts.aggregated.datagrams", aggregated);
  Metric("puts.aggregated.excess", aggregated - plain);
  Metric("puts.aggregated.pushes", OfKind(net, "crsp/push") / ops);
  Metric("puts.aggregated.adverts_reads",
         double(sim.roles.push_adverts_reads() - reads0) / ops);
  Metric("puts.aggregated.updates", Updates(net) / ops);

  StartPhase(net);
  reads0 = sim.roles.push_adverts_reads();
  ok = sim.Puts(SimKeysOf(kAggregatedResource), ops, 10, push);
  const double cached = Own(net) / ops;
  Kinds("puts.cached", net, ops);
  Metric("puts.cached.ok", ok);
  Metric("puts.cached.datagrams", cached);
  Metric("puts.cached.excess", cached - plain);
  Metric("puts.cached.pushes", OfKind(net, "crsp/push") / ops);
  Metric("puts.cached.adverts_reads",
         double(sim.roles.push_adverts_reads() - reads0) / ops);

  // puts.watched: today's design, `watchers` nodes watch every key.
  std::set<size_t> watching;
  while (watching.size() < std::min(watchers, nodes - k)) {
    watching.insert(sim.RandomAlive(elected));
  }
  for (size_t w : watching) {
    for (const ::dht::InfoHash& key : SimKeysOf(kWatchedResource)) {
      net.node(w).listen(key, [](const std::vector<std::shared_ptr<::dht::Value>>&,
                                 bool) { return true; });
    }
    net.Kick(w);
  }
  net.Run(seconds(10));
  StartPhase(net);
  ok = sim.Puts(SimKeysOf(kWatchedResource), ops);
  const double watched = Own(net) / ops;
  Kinds("puts.watched", net, ops);
  Metric("puts.watched.watchers", watching.size());
  Metric("puts.watched.ok", ok);
  Metric("puts.watched.datagrams_all", double(net.datagrams()) / ops);
  Metric("puts.watched.datagrams", watched);
  Metric("puts.watched.excess", watched - plain);
  Metric("puts.watched.updates_per_watcher",
         Updates(net) / ops / watching.size());

  // query.first: nodes that never asked look adverts up and forward.
  StartPhase(net);
  std::vector<Roles::QueryOutcome> outcomes(queries);
  for (size_t q = 0; q < queries; ++q) {
    const size_t at = sim.RandomAlive(elected);
    sim.roles.Query(at, &outcomes[q]);
    net.Run(milliseconds(20));
  }
  net.Run(seconds(60), [&] {
    return std::all_of(outcomes.begin(), outcomes.end(),
                       [](const auto& o) { return o.done; });
  });
  const size_t forwarded = std::count_if(
      outcomes.begin(), outcomes.end(), [](const auto& o) { return o.forwarded; });
  Metric("query.first.forwarded_fraction", double(forwarded) / queries);
  Kinds("query.first", net, queries);
  Metric("query.first.datagrams_all", double(net.datagrams()) / queries);
  Metric("query.first.datagrams", Own(net) / queries);

  // read.direct: today's cold read, per key and for all 1,408 keys.
  StartPhase(net);
  const std::vector<::dht::InfoHash> keys = SimKeysOf(kAggregatedResource);
  const size_t readers = 10;
  auto reads_done = std::make_shared<size_t>(0);
  for (size_t r = 0; r < readers; ++r) {
    const size_t at = sim.RandomAlive(elected);
    for (const ::dht::InfoHash& key : keys) {
      net.node(at).get(key, [](const std::vector<std::shared_ptr<::dht::Value>>&) {
        return true;
      }, [reads_done](bool, const std::vector<std::shared_ptr<::dht::Node>>&) {
        ++*reads_done;
      });
    }
    net.Kick(at);
  }
  net.Run(seconds(90), [&] { return *reads_done >= readers * keys.size(); });
  const double per_key = Own(net) / (readers * keys.size());
  Metric("read.direct.datagrams_per_key", per_key);
  Metric("read.direct.datagrams_1408_keys", per_key * 1408);

  // takeover: every aggregator dies at once.
  for (size_t a : elected) net.Kill(a);
  StartPhase(net);
  t = Clock::now();
  const size_t survivor = sim.RandomAlive(elected);
  std::vector<Roles::QueryOutcome> tries(90);
  size_t attempt = 0;
  for (; attempt < tries.size(); ++attempt) {
    sim.roles.Query(survivor, &tries[attempt]);
    net.Run(seconds(30), [&] { return tries[attempt].done; });
    if (tries[attempt].forwarded) break;
    net.Run(seconds(1));
  }
  const bool took_over = attempt < tries.size();
  std::set<size_t> now_aggregating;
  for (size_t a : sim.roles.warm()) {
    if (net.alive(a)) now_aggregating.insert(a);
  }
  Metric("takeover.ok", took_over ? 1 : 0);
  Metric("takeover.seconds", SecondsSince(t));
  Metric("takeover.queries_until_forwarded", attempt + 1);
  Metric("takeover.new_aggregators", now_aggregating.size());
  Metric("takeover.are_true_closest",
         now_aggregating == sim.roles.TrueClosest() ? 1 : 0);
  Metric("takeover.datagrams", Own(net));
  std::fflush(stdout);
  // The nodes' destructors would each cancel searches for minutes of
  // simulated time; the process is done.
  std::_Exit(took_over ? 0 : 1);
}

}  // namespace
}  // namespace crsp::scalesim

int main(int argc, char** argv) { return crsp::scalesim::Main(argc, argv); }
