#include "stop_signals.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace crsp::testing {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

TearDownOnStopSignal::TearDownOnStopSignal(const Cluster& cluster)
    : waiter_([this, &cluster] {
        const sigset_t set = StopSignals();
        // Polled, so that the destructor can end the wait.
        const timespec poll{0, 100'000'000};
        while (!done_) {
          const int signal = sigtimedwait(&set, nullptr, &poll);
          if (signal <= 0) continue;
          std::fprintf(stderr,
                       "cluster: signal %d, removing run %s before exit\n",
                       signal, cluster.run().c_str());
          cluster.TearDownBeforeExit();
          _exit(128 + signal);
        }
      }) {}

TearDownOnStopSignal::~TearDownOnStopSignal() {
  done_ = true;
  waiter_.join();
}

}  // namespace crsp::testing
