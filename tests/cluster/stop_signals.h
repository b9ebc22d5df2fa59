// Stop signals for programs that own a Cluster (cluster_bench): SIGINT,
// SIGTERM or SIGHUP tears the cluster down before the process exits, as its
// destructor would have. Without this a stopped benchmark left its nodes
// running and its namespaces to the next run's net-gc.
//
//   int main() {
//     BlockStopSignals();             // before any thread starts
//     Cluster cluster(...);
//     TearDownOnStopSignal guard(cluster);   // declared after the cluster
//     ...
//   }
#ifndef CRSP_TESTS_CLUSTER_STOP_SIGNALS_H_
#define CRSP_TESTS_CLUSTER_STOP_SIGNALS_H_

#include <atomic>
#include <thread>

#include "cluster.h"

namespace crsp::testing {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; threads started
// from it afterwards inherit the mask. Call first thing in main(): a stop
// signal is then only ever taken by TearDownOnStopSignal's thread.
void BlockStopSignals();

// While it lives, a thread waits for a blocked stop signal; on one it calls
// `cluster.TearDownBeforeExit()` and exits the process with 128 + the
// signal. Its destructor stops the thread (within 100 ms), so a signal that
// comes after it is left pending and the program ends as it would have.
class TearDownOnStopSignal {
 public:
  explicit TearDownOnStopSignal(const Cluster& cluster);
  ~TearDownOnStopSignal();
  TearDownOnStopSignal(const TearDownOnStopSignal&) = delete;
  TearDownOnStopSignal& operator=(const TearDownOnStopSignal&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLUSTER_STOP_SIGNALS_H_
