// The harness itself: separate hosts really are separate (reachable over
// the bridge, cut off, partitioned, healed), teardown leaves nothing behind,
// and the loopback fallback says why. Plain UDP sockets, no crsp-node.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cluster.h"
#include "netns.h"
#include "stop_signals.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kProbePort = 9999;

// How many 300 ms tries a probe gets. Proving that a datagram arrives may
// take a neighbour resolution after a heal (a FAILED neighbour entry from
// the partition is re-resolved at 1 s intervals), and on a loaded machine
// longer still; proving that none arrives needs only a few tries.
constexpr int kTriesToArrive = 20;
constexpr int kTriesToStayAway = 3;

// Whether a datagram sent from host `from` to host `to` arrives within
// `tries` tries of 300 ms each.
bool Delivered(Cluster& cluster, int from, int to, int tries) {
  int listener = -1;
  RunInNetns(cluster.Netns(to), [&] {
    listener = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_port = htons(kProbePort);
    any.sin6_addr = in6addr_any;
    if (bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
      close(listener);
      listener = -1;
    }
  });
  if (listener < 0) return false;
  int sender = -1;
  RunInNetns(cluster.Netns(from),
             [&] { sender = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  sockaddr_in6 peer{};
  peer.sin6_family = AF_INET6;
  peer.sin6_port = htons(kProbePort);
  inet_pton(AF_INET6, cluster.Address(to).c_str(), &peer.sin6_addr);
  bool arrived = false;
  for (int i = 0; i < tries && !arrived; ++i) {
    sendto(sender, "x", 1, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
    pollfd p{listener, POLLIN, 0};
    arrived = poll(&p, 1, 300) == 1;
  }
  close(sender);
  close(listener);
  return arrived;
}

bool Arrives(Cluster& cluster, int from, int to) {
  return Delivered(cluster, from, to, kTriesToArrive);
}
bool StaysAway(Cluster& cluster, int from, int to) {
  return !Delivered(cluster, from, to, kTriesToStayAway);
}

std::string NetnsList() {
  std::string text;
  FILE* pipe = popen("ip netns list 2>/dev/null", "r");
  if (pipe == nullptr) return text;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  pclose(pipe);
  return text;
}

class ClusterHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>(CRSP_NODE_BINARY, 4);
    if (!cluster_->separate_hosts()) {
      GTEST_SKIP() << "needs separate hosts: " << cluster_->why_not_separate();
    }
  }
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ClusterHarness, HostsHaveTheirOwnUlaAddressesAndReachEachOther) {
  for (int k = 1; k <= 4; ++k) {
    EXPECT_EQ(cluster_->Address(k).rfind("fd00:c5a5:", 0), 0u)
        << cluster_->Address(k);
  }
  EXPECT_NE(cluster_->Address(1), cluster_->Address(2));
  EXPECT_TRUE(Arrives(*cluster_, 1, 2));
  EXPECT_TRUE(Arrives(*cluster_, 0, 4));
  EXPECT_TRUE(Arrives(*cluster_, 3, 1));
}

TEST_F(ClusterHarness, ACutHostIsUnreachableUntilReconnected) {
  ASSERT_TRUE(cluster_->Cut(2));
  EXPECT_TRUE(StaysAway(*cluster_, 1, 2));
  EXPECT_TRUE(StaysAway(*cluster_, 2, 3));
  EXPECT_TRUE(Arrives(*cluster_, 1, 3));
  ASSERT_TRUE(cluster_->Reconnect(2));
  EXPECT_TRUE(Arrives(*cluster_, 1, 2));
}

TEST_F(ClusterHarness, APartitionSeparatesTheHalvesUntilHealed) {
  ASSERT_TRUE(cluster_->Partition({3, 4}));
  EXPECT_TRUE(Arrives(*cluster_, 1, 2));
  EXPECT_TRUE(Arrives(*cluster_, 3, 4));
  EXPECT_TRUE(StaysAway(*cluster_, 1, 3));
  EXPECT_TRUE(StaysAway(*cluster_, 4, 2));
  ASSERT_TRUE(cluster_->Heal());
  EXPECT_TRUE(Arrives(*cluster_, 1, 3));
  EXPECT_TRUE(Arrives(*cluster_, 4, 2));
}

TEST_F(ClusterHarness, TeardownRemovesEveryNamespaceOfTheRun) {
  std::string prefix = "crsp-" + cluster_->run() + "-";
  EXPECT_NE(NetnsList().find(prefix), std::string::npos);
  cluster_.reset();
  EXPECT_EQ(NetnsList().find(prefix), std::string::npos);
}

TEST_F(ClusterHarness, NamespacesOfARunWhoseOwnerDiedAreCollected) {
  // pid_max is at most 2^22, so no process owns this run.
  const std::string dead_run = "99999999x0";
  ASSERT_EQ(std::system((std::string(CRSP_CLUSTER_SCRIPT) + " net-up " +
                         dead_run + " 2 >/dev/null")
                            .c_str()),
            0);
  ASSERT_NE(NetnsList().find("crsp-" + dead_run + "-"), std::string::npos);
  Cluster next(CRSP_NODE_BINARY, 1);  // collects on start
  EXPECT_EQ(NetnsList().find("crsp-" + dead_run + "-"), std::string::npos);
}

TEST(ClusterFallback, LoopbackHostsShareOneAddressAndSayWhy) {
  setenv("CRSP_CLUSTER_LOOPBACK", "1", 1);
  Cluster cluster(CRSP_NODE_BINARY, 3);
  unsetenv("CRSP_CLUSTER_LOOPBACK");
  EXPECT_FALSE(cluster.separate_hosts());
  EXPECT_FALSE(cluster.why_not_separate().empty());
  EXPECT_EQ(cluster.Address(1), "::1");
  EXPECT_NE(cluster.DhtEndpoint(1), cluster.DhtEndpoint(2));
  EXPECT_FALSE(cluster.Cut(1));
  EXPECT_FALSE(cluster.Partition({1}));
}

// What the owner process of StopSignal's cluster reports once it runs.
struct OwnedCluster {
  std::string run;
  bool separate = false;
  std::string state_dir;
  std::vector<pid_t> nodes;
};

// In a forked child: a program that owns a 2-node cluster, as cluster_bench
// does. Writes an OwnedCluster line to `report`, then waits (at most 60 s)
// for a stop signal.
[[noreturn]] void OwnClusterUntilStopped(int report) {
  BlockStopSignals();
  Cluster cluster(CRSP_NODE_BINARY, 2);
  const TearDownOnStopSignal guard(cluster);
  if (!cluster.StartAll()) _exit(2);
  std::ostringstream line;
  line << cluster.run() << ' ' << cluster.separate_hosts() << ' '
       << cluster.StateDir(1);
  for (int k = 1; k <= 2; ++k) line << ' ' << cluster.node(k)->pid();
  line << '\n';
  const std::string text = line.str();
  if (write(report, text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    _exit(2);
  }
  for (int i = 0; i < 600; ++i) usleep(100'000);
  _exit(3);  // no signal came
}

TEST(ClusterStopSignal, TearsTheClusterDownBeforeTheOwnerExits) {
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    close(report[0]);
    OwnClusterUntilStopped(report[1]);
  }
  close(report[1]);
  OwnedCluster owned;
  {
    std::string text;
    char buf[256];
    pollfd p{report[0], POLLIN, 0};
    while (text.find('\n') == std::string::npos && poll(&p, 1, 60'000) == 1) {
      const ssize_t n = read(report[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    std::istringstream line(text);
    line >> owned.run >> owned.separate >> owned.state_dir;
    for (pid_t pid = 0; line >> pid;) owned.nodes.push_back(pid);
  }
  close(report[0]);
  // Whatever happens below, nothing of the run outlives the test.
  const auto remove_leftovers = [&] {
    for (pid_t pid : owned.nodes) kill(pid, SIGKILL);
    if (!owned.run.empty() && owned.separate) {
      std::system((std::string(CRSP_CLUSTER_SCRIPT) + " net-down " + owned.run +
                   " >/dev/null 2>&1")
                      .c_str());
    }
  };
  if (owned.nodes.size() != 2) {
    kill(owner, SIGKILL);
    waitpid(owner, nullptr, 0);
    remove_leftovers();
    FAIL() << "the owner did not start its cluster";
  }
  const std::string prefix = "crsp-" + owned.run + "-";
  for (pid_t pid : owned.nodes) EXPECT_EQ(kill(pid, 0), 0) << pid;
  if (owned.separate) {
    EXPECT_NE(NetnsList().find(prefix), std::string::npos);
  }

  ASSERT_EQ(kill(owner, SIGTERM), 0);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 300 && !exited; ++i) {  // at most 30 s
    exited = waitpid(owner, &status, WNOHANG) == owner;
    if (!exited) usleep(100'000);
  }
  if (!exited) {
    kill(owner, SIGKILL);
    waitpid(owner, nullptr, 0);
  }
  EXPECT_TRUE(exited) << "the owner ignored SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM)
      << "status " << status;
  for (pid_t pid : owned.nodes) {
    errno = 0;
    EXPECT_EQ(kill(pid, 0), -1) << "node " << pid << " still runs";
    EXPECT_EQ(errno, ESRCH);
  }
  EXPECT_FALSE(std::filesystem::exists(owned.state_dir)) << owned.state_dir;
  if (owned.separate) {
    EXPECT_EQ(NetnsList().find(prefix), std::string::npos);
  }
  remove_leftovers();
}

}  // namespace
}  // namespace crsp::testing
