// Helpers shared by the cluster tests: bounded polling and offer lookups.
#ifndef CRSP_TESTS_CLUSTER_CLUSTER_TEST_UTIL_H_
#define CRSP_TESTS_CLUSTER_CLUSTER_TEST_UTIL_H_

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "cluster.h"
#include "node_harness.h"

namespace crsp::testing {

using Clock = std::chrono::steady_clock;

// Calls `pred` until it returns true, at most `tries` times and until
// `deadline`, `pause` apart. The last result.
template <typename Pred>
bool PollUntil(Pred pred, Clock::time_point deadline,
               std::chrono::milliseconds pause = std::chrono::milliseconds(100),
               int tries = 500) {
  for (int i = 0; i < tries; ++i) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
  }
  return false;
}

// How much longer than in a Release build a "within d" check waits: 1, or
// the environment's CRSP_TEST_SLOWDOWN (1-10). scripts/sanitize.sh and
// tsan.sh set it: their builds run several times slower on the same cores,
// and what they look for is memory errors and races; the deadlines
// themselves are held in Release runs (scripts/test.sh). Only deadlines
// for something to happen are scaled, never a time during which something
// must not happen.
int Slowdown();
inline std::chrono::milliseconds Scaled(std::chrono::milliseconds d) {
  return d * Slowdown();
}

// Seconds since the epoch as a double (wall clock, as the nodes use).
double WallSeconds();

// The offer of `device` among `offers`, if any.
std::optional<protocol::Offer> FindOffer(
    const std::vector<protocol::Offer>& offers,
    const protocol::DeviceId& device);

// Whether a query at `client` for `resource` returns an offer of `device`:
// true when any answer (OK or INCOMPLETE) has it, false only when an exact
// one does not; nullopt when the node gave neither.
std::optional<bool> Serves(UdpClient& client, uint16_t resource,
                           const protocol::DeviceId& device);

// Registers `entries` for `device` at `client`; true when the answer is OK
// with every entry OK. `results` (if given) gets the answer's entries.
bool RegisterOk(UdpClient& client, const protocol::DeviceId& device,
                std::vector<protocol::ResourceEntry> entries, uint32_t txid,
                std::vector<protocol::EntryResult>* results = nullptr);

// Withdraws every offer of `device` at `client`; true when the answer is OK.
bool WithdrawOk(UdpClient& client, const protocol::DeviceId& device,
                uint32_t txid);

// A device id for offer number n of a test (distinct for n < 2^32).
protocol::DeviceId DeviceNumber(uint32_t n, uint8_t test_tag);

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLUSTER_CLUSTER_TEST_UTIL_H_
