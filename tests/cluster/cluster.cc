#include "cluster.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "crsp/protocol/codec.h"
#include "netns.h"

namespace crsp::testing {
namespace {

std::atomic<int> run_counter{0};

// Pids of this process's children, from /proc/PID/stat (field 4, after the
// command name in parentheses, which may itself hold spaces and ')').
std::vector<pid_t> Children() {
  std::vector<pid_t> children;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // gone meanwhile
    const size_t end = line.rfind(')');
    if (end == std::string::npos) continue;
    std::istringstream rest(line.substr(end + 1));
    std::string state;
    pid_t parent = 0;
    if (rest >> state >> parent && parent == getpid()) {
      children.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return children;
}

}  // namespace

bool Cluster::Script(const std::string& args, std::string* out) {
  std::string command = std::string(CRSP_CLUSTER_SCRIPT) + " " + args;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  std::string text;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  int status = pclose(pipe);
  if (out != nullptr) *out = text;
  return status == 0;
}

Cluster::Cluster(std::string binary, int hosts)
    : binary_(std::move(binary)), hosts_(hosts) {
  // The owner's pid first: net-gc removes runs whose owner is gone.
  run_ = std::to_string(getpid()) + "x" + std::to_string(run_counter++);
  if (geteuid() != 0) {
    why_not_ = "not root: network namespaces need CAP_SYS_ADMIN";
  } else if (!Script("net-probe")) {
    why_not_ =
        "`ip netns add` failed here (or CRSP_CLUSTER_LOOPBACK=1): hosts "
        "share loopback";
  } else {
    Script("net-gc");
    std::string table;
    if (Script("net-up " + run_ + " " + std::to_string(hosts), &table)) {
      std::istringstream lines(table);
      std::string k, netns, address;
      while (lines >> k >> netns >> address) {
        int index = k == "c" ? 0 : std::stoi(k);
        host_[index].netns = netns;
        host_[index].address = address;
      }
      separate_ = static_cast<int>(host_.size()) == hosts + 1;
    }
    if (!separate_) why_not_ = "cluster.sh net-up failed";
  }
  if (!separate_) {
    Script("net-down " + run_);
    host_.clear();
    for (int k = 0; k <= hosts; ++k) {
      host_[k].address = "::1";
      if (k > 0) {
        host_[k].edge_port = FreeUdpPort();
        host_[k].dht_port = FreeUdpPort();
      }
    }
  }
}

Cluster::~Cluster() {
  clients_.clear();
  local_clients_.clear();
  nodes_.clear();  // NodeProcess kills and reaps by pid
  if (separate_) Script("net-down " + run_);
  // A failed cluster test is rarely explained by its assertion alone: show
  // the end of every node's log before the state directories go.
  if (::testing::Test::HasFailure()) {
    const char* lines = std::getenv("CRSP_CLUSTER_LOG_TAIL");
    PrintLogTails(lines ? std::strtoul(lines, nullptr, 10) : kLogTailLines);
  }
  // CRSP_CLUSTER_SAVE_LOGS=dir: every node's whole log, kept as
  // dir/<run>-node<k>.log, whether the test failed or not.
  if (const char* save = std::getenv("CRSP_CLUSTER_SAVE_LOGS")) {
    for (int k = 1; k <= hosts_; ++k) {
      std::error_code ignored;
      std::filesystem::copy_file(
          StateDir(k) + "/node.log",
          std::filesystem::path(save) /
              (run_ + "-node" + std::to_string(k) + ".log"),
          std::filesystem::copy_options::overwrite_existing, ignored);
    }
  }
}

void Cluster::PrintLogTails(size_t lines) const {
  for (int k = 1; k <= hosts_; ++k) {
    std::ifstream log(StateDir(k) + "/node.log");
    std::deque<std::string> tail;
    for (std::string line; std::getline(log, line);) {
      tail.push_back(std::move(line));
      if (tail.size() > lines) tail.pop_front();
    }
    std::fprintf(stderr, "cluster: the last %zu lines of node %d's log:\n",
                 tail.size(), k);
    for (const std::string& line : tail) {
      std::fprintf(stderr, "  %d| %s\n", k, line.c_str());
    }
  }
}

void Cluster::TearDownBeforeExit() const {
  for (pid_t child : Children()) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  if (separate_) Script("net-down " + run_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_.path(), ignored);
}

bool Cluster::StartNode(int k, std::vector<std::string> bootstrap,
                        std::vector<std::string> extra_args) {
  Host& host = host_.at(k);
  host.bootstrap = std::move(bootstrap);
  host.extra_args = std::move(extra_args);
  NodeProcess::Options options;
  options.binary = binary_;
  options.state_dir = StateDir(k);
  options.edge_port = host.edge_port;
  options.dht_port = host.dht_port;
  options.bootstrap = host.bootstrap;
  options.extra_args = host.extra_args;
  // To debug a cluster test: CRSP_CLUSTER_LOG_LEVEL=debug, and the failed
  // test's log tails (CRSP_CLUSTER_LOG_TAIL lines) say what the nodes did.
  if (const char* level = std::getenv("CRSP_CLUSTER_LOG_LEVEL")) {
    options.extra_args.push_back("--log-level");
    options.extra_args.push_back(level);
  }
  // All addresses of its host, so that the other hosts reach it.
  options.listen_host = separate_ ? "::" : "::1";
  std::unique_ptr<NodeProcess> node;
  // The fork happens inside the namespace, so the node lives there; the
  // readiness ping goes to [::1] of that namespace.
  RunInNetns(host.netns,
             [&] { node = NodeProcess::Start(std::move(options)); });
  nodes_[k] = std::move(node);
  if (nodes_[k] == nullptr) {
    // Say why in the test's output: the node's own log.
    std::ifstream log(StateDir(k) + "/node.log");
    std::stringstream text;
    text << log.rdbuf();
    std::fprintf(stderr, "cluster: node %d did not start; its log:\n%s\n", k,
                 text.str().c_str());
  }
  return nodes_[k] != nullptr;
}

bool Cluster::StartAll(std::vector<std::string> extra_args, bool chain) {
  if (!StartNode(1, {}, extra_args)) return false;
  std::vector<std::thread> starters;
  std::vector<char> ok(hosts_ + 1, 0);
  for (int k = 2; k <= hosts_; ++k) {
    nodes_[k] = nullptr;  // no map insertion from the threads below
  }
  for (int k = 2; k <= hosts_; ++k) {
    starters.emplace_back([&, k] {
      ok[k] = StartNode(k, {DhtEndpoint(chain ? k - 1 : 1)}, extra_args);
    });
  }
  for (std::thread& t : starters) t.join();
  for (int k = 2; k <= hosts_; ++k) {
    if (!ok[k]) return false;
  }
  return WaitJoined();
}

bool Cluster::WaitJoined(std::chrono::milliseconds within) {
  std::vector<int> running;
  for (const auto& [k, node] : nodes_) {
    if (node) running.push_back(k);
  }
  // Half the possible peers (at least one): OpenDHT does not keep every
  // peer "good" at all times, and half suffice for a put to be confirmed.
  const uint32_t possible =
      std::min<uint32_t>(static_cast<uint32_t>(running.size()) - 1, 8);
  const uint32_t wanted = std::max<uint32_t>(1, (possible + 1) / 2);
  auto deadline = std::chrono::steady_clock::now() + within;
  protocol::Packet ping{protocol::HeaderFor(wire::PacketKind::kPingRequest, 7,
                                            wire::CheckType::kCrc32),
                        protocol::PingRequest{}};
  std::vector<std::byte> bytes = protocol::Encode(ping);
  for (int k : running) {
    uint32_t peers = 0;
    for (int i = 0; i < 600; ++i) {
      auto answer =
          Client(k).Exchange(bytes, std::chrono::milliseconds(500), 1);
      if (answer) {
        protocol::DecodeResult r = protocol::Decode(*answer);
        if (const auto* body =
                std::get_if<protocol::PingAnswer>(&r.packet.body)) {
          peers = body->peers;
          if (peers >= wanted) break;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::fprintf(stderr, "cluster: node %d sees %u of %u peers\n", k, peers,
                     wanted);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return true;
}

std::string Cluster::DhtEndpoint(int k) const {
  const Host& host = host_.at(k);
  return "[" + host.address + "]:" + std::to_string(host.dht_port);
}

std::string Cluster::Netns(int k) const { return host_.at(k).netns; }

std::string Cluster::Address(int k) const { return host_.at(k).address; }

std::array<uint8_t, 16> Cluster::AddressBytes(int k) const {
  std::array<uint8_t, 16> bytes{};
  inet_pton(AF_INET6, Address(k).c_str(), bytes.data());
  return bytes;
}

std::string Cluster::StateDir(int k) const {
  return dir_.path() + "/n" + std::to_string(k);
}

UdpClient& Cluster::Client(int k) {
  std::unique_ptr<UdpClient>& client = clients_[k];
  if (client) return *client;
  const Host& host = host_.at(k);
  sockaddr_in6 peer{};
  peer.sin6_family = AF_INET6;
  peer.sin6_port = htons(host.edge_port);
  inet_pton(AF_INET6, host.address.c_str(), &peer.sin6_addr);
  RunInNetns(host_.at(0).netns,
             [&] { client = std::make_unique<UdpClient>(peer); });
  return *client;
}

UdpClient& Cluster::LocalClient(int k) {
  std::unique_ptr<UdpClient>& client = local_clients_[k];
  if (!client) {
    RunInNetns(host_.at(k).netns, [&] {
      client = std::make_unique<UdpClient>(host_.at(k).edge_port);
    });
  }
  return *client;
}

bool Cluster::Kill(int k) {
  auto it = nodes_.find(k);
  if (it == nodes_.end() || !it->second) return false;
  bool reaped = it->second->Stop(SIGKILL, std::chrono::seconds(5)).has_value();
  it->second.reset();
  return reaped;
}

bool Cluster::Restart(int k) {
  if (nodes_[k]) Kill(k);
  Host& host = host_.at(k);
  return StartNode(k, host.bootstrap, host.extra_args);
}

bool Cluster::Pause(int k) {
  return nodes_[k] && kill(nodes_[k]->pid(), SIGSTOP) == 0;
}

bool Cluster::Resume(int k) {
  return nodes_[k] && kill(nodes_[k]->pid(), SIGCONT) == 0;
}

bool Cluster::Cut(int k) {
  return separate_ && Script("net-cut " + run_ + " " + std::to_string(k));
}

bool Cluster::Reconnect(int k) {
  return separate_ && Script("net-reconnect " + run_ + " " + std::to_string(k));
}

bool Cluster::Partition(const std::vector<int>& side) {
  if (!separate_) return false;
  std::string args = "net-partition " + run_;
  for (int k : side) {
    // Not `" " + std::to_string(k)`: GCC 12 warns (-Wrestrict) on that
    // inlined copy in Release builds, a false positive (GCC bug 105329).
    args += ' ';
    args += std::to_string(k);
  }
  return Script(args);
}

bool Cluster::Heal() { return separate_ && Script("net-heal " + run_); }

}  // namespace crsp::testing
