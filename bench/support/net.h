// Sockets, endpoints and CPU pinning for the benchmark programs.
#ifndef CRSP_BENCH_SUPPORT_NET_H_
#define CRSP_BENCH_SUPPORT_NET_H_

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

namespace crsp::bench {

// "[ADDR]:PORT" (or IPv4:PORT, as mapped) to a socket address, by
// support::ParseEndpoint; nullopt if not.
std::optional<sockaddr_in6> ParseEndpoint(const std::string& text);

// A non-blocking IPv6 UDP socket with 8 MB buffers (forced when root),
// bound to `bind_port` on [::] (0: any); connected to `peer` when given.
// Throws std::runtime_error on failure (start-up only).
int OpenUdpSocket(uint16_t bind_port = 0, const sockaddr_in6* peer = nullptr);

// Pins the calling thread to CPU `cpu`; false when it cannot (then the
// benchmark runs unpinned and says so).
bool PinToCpu(int cpu);

// Monotonic nanoseconds.
uint64_t NowNanos();

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_NET_H_
