// Test support: a real crsp-node process on loopback, and a UDP client.
// Every process started here is killed (SIGKILL) and reaped by pid in the
// destructor, also when a test fails half-way.
#ifndef CRSP_TESTS_SUPPORT_NODE_PROCESS_H_
#define CRSP_TESTS_SUPPORT_NODE_PROCESS_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crsp::testing {

// A UDP port on [::1] that was free a moment ago (bound to port 0, then
// closed). Good enough for tests on loopback.
uint16_t FreeUdpPort();

// Starts `args` (args[0]: a path, or a name looked up in PATH) with its
// stdout and stderr appended to the file `output` (made if need be). The
// child starts with no signal blocked, whatever its parent blocks
// (stop_signals.h), and between fork and exec makes only
// async-signal-safe calls: the parent has threads. Returns the child's pid,
// or -1 when fork failed; a child whose exec fails exits with 127.
pid_t Spawn(std::vector<std::string> args, const std::string& output);

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class NodeProcess {
 public:
  struct Options {
    std::string binary;                  // path of crsp-node
    std::string state_dir;               // required
    uint16_t edge_port = 0;              // 0: pick a free one
    uint16_t dht_port = 0;               // 0: pick a free one
    std::vector<std::string> bootstrap;  // "[::1]:PORT"
    std::vector<std::string> extra_args;
    std::string log_file;  // empty: state_dir + "/node.log"
    // Edge listen address; "::" makes it dual stack (IPv4 clients too).
    std::string listen_host = "::1";
  };

  // Starts the node and waits (bounded by `ready_within`) until it answers
  // a ping on its edge port. Returns null if it never does, after printing
  // the node's log to stderr. Ports left 0 are picked here; if one of them
  // was taken before the node bound it, the start is tried again (up to 3
  // times in all) on fresh ones.
  static std::unique_ptr<NodeProcess> Start(
      Options options,
      std::chrono::milliseconds ready_within = std::chrono::seconds(20));
  ~NodeProcess();

  uint16_t edge_port() const { return options_.edge_port; }
  uint16_t dht_port() const { return options_.dht_port; }
  std::string dht_endpoint() const;  // "[::1]:PORT"
  pid_t pid() const { return pid_; }
  const Options& options() const { return options_; }

  // Sends `signal` and waits up to `within` for the process to exit.
  // Returns its exit status (as from waitpid), or nullopt on timeout.
  std::optional<int> Stop(int signal, std::chrono::milliseconds within);
  // The node's log so far (stderr).
  std::string Log() const;

 private:
  explicit NodeProcess(Options options) : options_(std::move(options)) {}
  // One start on the ports in `options`. Returns the node in any case; its
  // pid is -1 unless it answered a ping. `died`: it exited by itself.
  static std::unique_ptr<NodeProcess> StartOnce(
      Options options, std::chrono::milliseconds ready_within, bool& died);
  bool Launch();

  Options options_;
  pid_t pid_ = -1;
};

// A UDP socket talking to one loopback port, over IPv6 ([::1]) or, with
// `ipv4`, over 127.0.0.1 (the node sees another, IPv4-mapped, source).
class UdpClient {
 public:
  explicit UdpClient(uint16_t port, bool ipv4 = false);
  // A socket connected to `peer`, any IPv6 address. The socket belongs to
  // the network namespace of the thread that makes it, also when used from
  // other threads later (tests/cluster makes clients inside namespaces).
  explicit UdpClient(const sockaddr_in6& peer);
  // Both throw std::runtime_error when the socket cannot be made or
  // connected.
  ~UdpClient();
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  void Send(std::span<const std::byte> datagram);
  // The next datagram, or nullopt after `timeout`.
  std::optional<std::vector<std::byte>> Receive(
      std::chrono::milliseconds timeout);
  // Sends and waits for an answer, resending (same bytes) up to `tries`
  // times with `timeout` each. Datagrams carrying another transaction id
  // (late answers to earlier exchanges) are skipped.
  std::optional<std::vector<std::byte>> Exchange(
      std::span<const std::byte> datagram,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(1000),
      int tries = 3);

 private:
  void Connect(const sockaddr* peer, socklen_t size);

  int fd_ = -1;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_SUPPORT_NODE_PROCESS_H_
