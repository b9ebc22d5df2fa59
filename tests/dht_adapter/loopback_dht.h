// Test support for OpenDhtDht on real DhtRunners over loopback: the config
// of such a node, and a bounded poll.
#ifndef CRSP_TESTS_DHT_ADAPTER_LOOPBACK_DHT_H_
#define CRSP_TESTS_DHT_ADAPTER_LOOPBACK_DHT_H_

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crsp/dht_adapter/opendht_dht.h"

namespace crsp::dht::testing {

// A node on an ephemeral port of ::1 and 127.0.0.1, nothing persisted.
inline OpenDhtConfig LoopbackConfig(std::vector<std::string> bootstrap = {}) {
  OpenDhtConfig c;
  c.port = 0;
  c.bind6 = "::1";
  // Both families: OpenDHT 2.4.12 sends no listen notifications to a node
  // bound to IPv6 only (measured; docs/storage.md).
  c.bind4 = "127.0.0.1";
  c.bootstrap = std::move(bootstrap);
  c.state_dir = "";
  c.persist = false;
  return c;
}

// Polls `done` every 20 ms until it holds or `deadline` passes.
template <typename F>
bool WaitUntil(F done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace crsp::dht::testing

#endif  // CRSP_TESTS_DHT_ADAPTER_LOOPBACK_DHT_H_
