// A whole-machine profile of one phase of a benchmark: `perf record -a -e
// cpu-clock` (timer sampling; this VM hides the hardware counters) into a
// file, from Start until Stop or `limit`, whichever comes first. Where perf
// is missing or not allowed, perf exits at once and the file is not
// written; the benchmark goes on either way.
#ifndef CRSP_BENCH_SUPPORT_PERF_RECORDING_H_
#define CRSP_BENCH_SUPPORT_PERF_RECORDING_H_

#include <sys/types.h>

#include <chrono>
#include <string>

namespace crsp::bench {

class PerfRecording {
 public:
  // Starts perf (a child process, with an empty signal mask) writing `out`.
  PerfRecording(const std::string& out, std::chrono::seconds limit);
  ~PerfRecording();  // Stop()
  PerfRecording(const PerfRecording&) = delete;
  PerfRecording& operator=(const PerfRecording&) = delete;

  // Ends the recording (SIGINT: perf writes its file) and reaps perf,
  // waiting at most 30 s before SIGKILL. Idempotent.
  void Stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_PERF_RECORDING_H_
