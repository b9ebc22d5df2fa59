#include "node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "crsp/protocol/codec.h"

namespace crsp::testing {
namespace {

sockaddr_in6 Loopback(uint16_t port) {
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = htons(port);
  return addr;
}

}  // namespace

uint16_t FreeUdpPort() {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr = Loopback(0);
  socklen_t len = sizeof addr;
  const bool ok =
      fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  if (fd >= 0) close(fd);
  if (!ok) {
    throw std::runtime_error(std::string("no free UDP port on [::1]: ") +
                             std::strerror(error));
  }
  return ntohs(addr.sin6_port);
}

pid_t Spawn(std::vector<std::string> args, const std::string& output) {
  // Everything that allocates happens before fork.
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  const int out =
      open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (out >= 0) close(out);
  return pid;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base && *base ? base : "/tmp") + "/crsp-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

// The last `max_bytes` of a node's log, for a failure message.
std::string Tail(const std::string& log, size_t max_bytes = 4000) {
  return log.size() <= max_bytes ? log : log.substr(log.size() - max_bytes);
}

}  // namespace

std::unique_ptr<NodeProcess> NodeProcess::Start(
    Options options, std::chrono::milliseconds ready_within) {
  // A port FreeUdpPort picked can be taken by another test process before
  // the node binds it (ctest -j2). Only then, and only for ports picked
  // here, is the start tried again with fresh ones.
  const bool picked_dht = options.dht_port == 0;
  const bool picked_ports = options.edge_port == 0 || picked_dht;
  std::filesystem::create_directories(options.state_dir);
  if (options.log_file.empty()) {
    options.log_file = options.state_dir + "/node.log";
  }
  constexpr int kAttempts = 3;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    Options these = options;
    if (these.edge_port == 0) these.edge_port = FreeUdpPort();
    if (these.dht_port == 0) these.dht_port = FreeUdpPort();
    std::error_code no_file;
    const auto log_before = std::filesystem::file_size(these.log_file, no_file);
    bool died = false;
    std::unique_ptr<NodeProcess> node =
        StartOnce(std::move(these), ready_within, died);
    std::string log = node->Log();  // this attempt's part of it
    if (!no_file && log_before <= log.size()) log.erase(0, log_before);
    // OpenDHT does not fail when one of its two sockets cannot bind; the
    // node runs on, warns, and would miss its IPv6 peers on loopback.
    const bool dht_half_bound =
        picked_dht && log.find("DHT: IPv6 bind failed") != std::string::npos;
    if (node->pid_ > 0 && !died && !dht_half_bound) {
      return node;
    }
    const bool port_taken =
        dht_half_bound ||
        (died && (log.find("Address already in use") != std::string::npos ||
                  log.find("DHT bound no UDP port") != std::string::npos));
    if (port_taken && picked_ports && attempt < kAttempts) continue;
    std::fprintf(stderr, "NodeProcess: %s did not start (%s); its log:\n%s\n",
                 node->options_.binary.c_str(),
                 died             ? "exited during start-up"
                 : dht_half_bound ? "its DHT port was taken on IPv6"
                                  : "no answer to a ping",
                 Tail(log).c_str());
    return nullptr;
  }
  return nullptr;
}

std::unique_ptr<NodeProcess> NodeProcess::StartOnce(
    Options options, std::chrono::milliseconds ready_within, bool& died) {
  std::unique_ptr<NodeProcess> node(new NodeProcess(std::move(options)));
  if (!node->Launch()) return node;

  // Ready once it answers a ping; bounded by count and deadline.
  UdpClient client(node->edge_port());
  protocol::Packet ping{protocol::HeaderFor(wire::PacketKind::kPingRequest, 1,
                                            wire::CheckType::kCrc32),
                        protocol::PingRequest{}};
  std::vector<std::byte> bytes = protocol::Encode(ping);
  auto deadline = std::chrono::steady_clock::now() + ready_within;
  for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < deadline;
       ++i) {
    int status = 0;
    if (waitpid(node->pid_, &status, WNOHANG) == node->pid_) {
      node->pid_ = -1;  // died during start-up
      died = true;
      return node;
    }
    client.Send(bytes);
    if (client.Receive(std::chrono::milliseconds(100))) return node;
  }
  // Never answered: the caller gets no node, so this one is killed here.
  kill(node->pid_, SIGKILL);
  waitpid(node->pid_, nullptr, 0);
  node->pid_ = -1;
  return node;
}

bool NodeProcess::Launch() {
  std::vector<std::string> args = {
      options_.binary,
      "--listen",
      "[" + options_.listen_host + "]:" + std::to_string(options_.edge_port),
      "--dht-port",
      std::to_string(options_.dht_port),
      "--state-dir",
      options_.state_dir,
  };
  for (const std::string& peer : options_.bootstrap) {
    args.push_back("--bootstrap");
    args.push_back(peer);
  }
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  pid_ = Spawn(std::move(args), options_.log_file);
  return pid_ > 0;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string NodeProcess::dht_endpoint() const {
  return "[::1]:" + std::to_string(options_.dht_port);
}

std::optional<int> NodeProcess::Stop(int signal,
                                     std::chrono::milliseconds within) {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::string NodeProcess::Log() const {
  std::ifstream in(options_.log_file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

UdpClient::UdpClient(uint16_t port, bool ipv4) {
  // connect() so that only the node's answers arrive here.
  if (ipv4) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    Connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    return;
  }
  fd_ = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr = Loopback(port);
  Connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr);
}

UdpClient::UdpClient(const sockaddr_in6& peer) {
  fd_ = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  Connect(reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
}

void UdpClient::Connect(const sockaddr* peer, socklen_t size) {
  if (fd_ < 0 || connect(fd_, peer, size) != 0) {
    const int error = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("UdpClient: ") + std::strerror(error));
  }
}

UdpClient::~UdpClient() {
  if (fd_ >= 0) close(fd_);
}

void UdpClient::Send(std::span<const std::byte> datagram) {
  send(fd_, datagram.data(), datagram.size(), 0);
}

std::optional<std::vector<std::byte>> UdpClient::Receive(
    std::chrono::milliseconds timeout) {
  // An ICMP "port unreachable" for an earlier send (the node not bound yet)
  // surfaces as one failed recv: wait on for the rest of the timeout instead
  // of returning at once, so that callers' retry counts keep their meaning.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 100; ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return std::nullopt;
    }
    std::vector<std::byte> buf(65536);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (errno != ECONNREFUSED) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::vector<std::byte>> UdpClient::Exchange(
    std::span<const std::byte> datagram, std::chrono::milliseconds timeout,
    int tries) {
  // An answer to an earlier exchange (a resend's second answer) may still
  // be queued: skip datagrams whose transaction id is not the request's.
  const bool has_txid = datagram.size() >= wire::kTxidReadable;
  auto same_txid = [&](const std::vector<std::byte>& answer) {
    return !has_txid || answer.size() < wire::kTxidReadable ||
           std::memcmp(answer.data() + wire::kOffTxid,
                       datagram.data() + wire::kOffTxid, 4) == 0;
  };
  for (int i = 0; i < tries; ++i) {
    Send(datagram);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int skipped = 0; skipped < 1000; ++skipped) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      std::optional<std::vector<std::byte>> answer = Receive(left);
      if (!answer) break;
      if (same_txid(*answer)) return answer;
    }
  }
  return std::nullopt;
}

}  // namespace crsp::testing
