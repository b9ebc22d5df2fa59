#include "support/perf_recording.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "node_process.h"

namespace crsp::bench {

PerfRecording::PerfRecording(const std::string& out,
                             std::chrono::seconds limit) {
  // The sampling rate keeps a long phase's file small (no call graphs:
  // self time is what the report shows).
  std::vector<std::string> args = {
      "perf", "record", "-a", "-e", "cpu-clock", "-F",
      "499",  "-o",     out,  "--", "sleep",     std::to_string(limit.count())};
  // The benchmark blocks its stop signals (stop_signals.h); Spawn clears
  // them, so perf sees the SIGINT that ends it.
  pid_ = testing::Spawn(std::move(args), "/dev/null");
}

PerfRecording::~PerfRecording() { Stop(); }

void PerfRecording::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGINT);
  for (int i = 0; i < 300; ++i) {  // at most 30 s
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    usleep(100'000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace crsp::bench
