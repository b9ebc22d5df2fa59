// Drives register requests at one or several nodes: a window of requests in
// flight, an optional rate, resends after a timeout (unsigned registers are
// idempotent), and a count of the entries acknowledged OK, i.e. durable (in
// the node's fsync'd journal and confirmed by the DHT).
#ifndef CRSP_BENCH_SUPPORT_REGISTRAR_H_
#define CRSP_BENCH_SUPPORT_REGISTRAR_H_

#include <netinet/in.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace crsp::bench {

struct RegisterOptions {
  int window = 64;                // requests in flight at most
  double rate = 0;                // requests/s; 0: as the window allows
  double deadline_seconds = 600;  // stop sending after this
  uint64_t resend_nanos = 4'000'000'000;
  int tries = 3;
  const std::atomic<bool>* stop = nullptr;  // set: stop sending
};

struct RegisterResult {
  uint64_t requests = 0;     // distinct requests sent
  uint64_t requests_ok = 0;  // answered with every entry OK
  uint64_t entries_ok = 0;
  uint64_t entries_failed = 0;  // answered, not OK
  uint64_t unanswered = 0;      // no answer after every try
  int first_bad_status = -1;
  double seconds = 0;          // first send to last answer
  double entries_per_sec = 0;  // entries_ok / seconds
  double p50_ms = 0;           // first send to answer
  double p99_ms = 0;
};

// Sends `make(i)` for i in [0, count), each carrying txid i, to
// targets[i % targets.size()] from the unconnected socket `fd`.
RegisterResult RunRegistrations(
    int fd, const std::vector<sockaddr_in6>& targets, size_t count,
    const std::function<std::vector<std::byte>(uint32_t)>& make,
    const RegisterOptions& options);

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_REGISTRAR_H_
