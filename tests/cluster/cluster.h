// A cluster of real crsp-node processes for tests: one network namespace per
// host with its own IPv6 ULA address, on a bridge in a namespace of its own,
// plus a client host from which the test talks to every node. The network is
// made and changed by scripts/cluster.sh (the one place with `ip` commands);
// this class starts the processes inside the namespaces and keeps their pids.
//
// Where namespaces cannot be made (not root, `ip netns add` fails, or
// CRSP_CLUSTER_LOOPBACK=1), every host is [::1] with its own ports:
// separate_hosts() is false and Cut/Partition refuse; tests that need them
// skip with why_not_separate().
//
// The destructor kills every process it started (SIGKILL, by pid) and removes
// every namespace and link of its run, also when a test fails half-way;
// leftovers of a crashed run are collected by the next Cluster (net-gc).
#ifndef CRSP_TESTS_CLUSTER_CLUSTER_H_
#define CRSP_TESTS_CLUSTER_CLUSTER_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node_process.h"

namespace crsp::testing {

class Cluster {
 public:
  // Edge and DHT ports of every node on its own host (as in docker/).
  static constexpr uint16_t kEdgePort = 7400;
  static constexpr uint16_t kDhtPort = 4222;

  // Makes the network for `hosts` hosts (numbered 1..hosts). No node runs
  // yet. `binary` is the crsp-node to start.
  Cluster(std::string binary, int hosts);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int hosts() const { return hosts_; }
  bool separate_hosts() const { return separate_; }
  // Why the hosts share loopback; empty when they do not.
  const std::string& why_not_separate() const { return why_not_; }
  // The run id in every namespace name (crsp-RUN-...).
  const std::string& run() const { return run_; }

  // Starts crsp-node on host `k` bootstrapped to `bootstrap` (DHT
  // endpoints); waits until it answers a ping. Extra flags go to the node.
  bool StartNode(int k, std::vector<std::string> bootstrap,
                 std::vector<std::string> extra_args = {});
  // Starts host 1 alone, then hosts 2..last in parallel bootstrapped to
  // host 1 (or, with `chain`, each to the previous host), then waits until
  // they have joined (WaitJoined).
  bool StartAll(std::vector<std::string> extra_args = {}, bool chain = false);
  // Waits (bounded by `within`) until every running node's ping reports at
  // least half of min(running - 1, 8) good DHT peers (at least one): OpenDHT
  // needs confirmed peers before anyone but the putter acknowledges a put.
  bool WaitJoined(std::chrono::milliseconds within = std::chrono::seconds(30));

  // "[fd00:c5a5:G::K]:4222", or "[::1]:PORT" on loopback.
  std::string DhtEndpoint(int k) const;
  uint16_t DhtPort(int k) const { return host_.at(k).dht_port; }
  // The network namespace of host k (0: the client); empty on loopback.
  std::string Netns(int k) const;
  // Host k's address as text ("::1" on loopback); k = 0 is the client.
  std::string Address(int k) const;
  std::array<uint8_t, 16> AddressBytes(int k) const;
  std::string StateDir(int k) const;
  // Prints the last `lines` lines of every node's log to stderr (the
  // destructor does it when the test has failed).
  void PrintLogTails(size_t lines) const;
  static constexpr size_t kLogTailLines = 40;
  NodeProcess* node(int k) { return nodes_[k].get(); }

  // A socket on the client host connected to node k's edge port.
  UdpClient& Client(int k);
  // A socket inside host k's own namespace, to [::1] at its edge port: it
  // reaches the node whatever the network does (cut, partition).
  UdpClient& LocalClient(int k);

  // For a thread that took a stop signal (stop_signals.h): kills every
  // child process of this process (SIGKILL, by pid, reaped), removes the
  // run's namespaces and its state directories. It reads only what is fixed
  // at construction, so it may run while another thread still uses the
  // cluster; the process must exit right after.
  void TearDownBeforeExit() const;

  // Failure injection. Each returns false when it could not be done.
  bool Kill(int k);     // SIGKILL, reaped
  bool Restart(int k);  // same host, state dir, ports, bootstrap and flags
  bool Pause(int k);    // SIGSTOP
  bool Resume(int k);   // SIGCONT
  bool Cut(int k);      // host k's link down (needs separate hosts)
  bool Reconnect(int k);
  // Hosts in `side` can reach each other but no host outside it, until
  // Heal() (needs separate hosts).
  bool Partition(const std::vector<int>& side);
  bool Heal();

 private:
  struct Host {
    std::string netns;
    std::string address;
    uint16_t edge_port = kEdgePort;
    uint16_t dht_port = kDhtPort;
    std::vector<std::string> bootstrap;
    std::vector<std::string> extra_args;
  };
  // Runs scripts/cluster.sh with `args`; its stdout, or nullopt on failure.
  static bool Script(const std::string& args, std::string* out = nullptr);

  std::string binary_;
  int hosts_;
  bool separate_ = false;
  std::string why_not_;
  std::string run_;
  TempDir dir_;
  std::map<int, Host> host_;  // 0 is the client
  std::map<int, std::unique_ptr<NodeProcess>> nodes_;
  std::map<int, std::unique_ptr<UdpClient>> clients_;
  std::map<int, std::unique_ptr<UdpClient>> local_clients_;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLUSTER_CLUSTER_H_
