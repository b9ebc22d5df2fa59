// What the kernel counts for a process, read from /proc: the UDP datagrams
// of its network namespace and its resident memory. The cluster benchmark
// reads them for every node (each node is alone in its namespace), without
// entering the namespaces: /proc/PID/net shows the namespace of PID.
#ifndef CRSP_BENCH_SUPPORT_PROC_COUNTERS_H_
#define CRSP_BENCH_SUPPORT_PROC_COUNTERS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace crsp::bench {

// UDP datagrams received (delivered to a socket) and sent in one network
// namespace since it was made, IPv4 (/proc/PID/net/snmp, "Udp:") and IPv6
// (/proc/PID/net/snmp6, Udp6InDatagrams, Udp6OutDatagrams) together.
struct UdpDatagrams {
  uint64_t in = 0;
  uint64_t out = 0;
  // Received but dropped (InErrors: mostly a full receive buffer), not in
  // `in`: a sign that the namespace's sockets could not keep up.
  uint64_t in_errors = 0;
  uint64_t total() const { return in + out; }
};

// The counters of the namespace `pid` lives in; nullopt when they cannot be
// read (the process is gone).
std::optional<UdpDatagrams> UdpDatagramsOf(pid_t pid);

// The sum over the distinct namespaces of `pids`: processes that share a
// namespace (the loopback fallback of the cluster harness) count it once.
// Processes whose counters cannot be read are left out; `*missing` (when
// given) says how many.
UdpDatagrams UdpDatagramsOfNamespaces(const std::vector<pid_t>& pids,
                                      int* missing = nullptr);

// VmRSS of `pid` in kB (/proc/PID/status); nullopt when it cannot be read.
std::optional<uint64_t> VmRssKb(pid_t pid);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_PROC_COUNTERS_H_
