// The load generator: many requests in flight over one UDP socket, sent with
// sendmmsg and received with recvmmsg, matched to their answers by txid.
// Closed loop (a fixed window of requests in flight: the peak) or open loop
// at a fixed rate (latency at a given load). The same code drives the node
// and the echo server, so their figures differ only by the server.
#ifndef CRSP_BENCH_SUPPORT_UDP_LOAD_H_
#define CRSP_BENCH_SUPPORT_UDP_LOAD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace crsp::bench {

struct LoadOptions {
  int window = 64;     // requests in flight at most
  double rate = 0;     // requests/s; 0: as many as the window allows
  double seconds = 5;  // measured time, after the warm-up
  double warmup_seconds = 0.5;
  uint64_t timeout_nanos = 2'000'000'000;  // then a request counts as lost
  bool busy_poll = true;                   // false: poll() when idle
};

struct LoadResult {
  uint64_t sent = 0;      // in the measured time
  uint64_t answered = 0;  // answers received in the measured time
  uint64_t ok = 0;        // of those, status OK
  uint64_t lost = 0;      // timed out
  double seconds = 0;
  double answers_per_sec = 0;  // OK answers per second
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  size_t answer_bytes = 0;  // size of the last answer
};

// `requests[i]` must carry txid i (at most 2^20 of them; slots are reused
// oldest first, so a late answer is never taken for a newer request while
// fewer than requests.size() are sent in one timeout). `fd` is a connected,
// non-blocking UDP socket.
LoadResult RunLoad(int fd, const std::vector<std::vector<std::byte>>& requests,
                   const LoadOptions& options);

// Reads and drops datagrams until none came for `quiet_ms` (at most
// `max_ms`): the server's backlog of an earlier step is gone. Returns how
// many were dropped.
size_t Drain(int fd, int quiet_ms = 300, int max_ms = 30000);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_UDP_LOAD_H_
