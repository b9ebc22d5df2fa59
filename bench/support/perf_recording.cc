#include "support/perf_recording.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace crsp::bench {

PerfRecording::PerfRecording(const std::string& out,
                             std::chrono::seconds limit) {
  // The sampling rate keeps a long phase's file small (no call graphs:
  // self time is what the report shows).
  std::vector<std::string> args = {
      "perf", "record", "-a", "-e", "cpu-clock", "-F",
      "499",  "-o",     out,  "--", "sleep",     std::to_string(limit.count())};
  pid_ = fork();
  if (pid_ != 0) return;  // parent (or fork failed: pid_ -1)
  // The benchmark blocks its stop signals (stop_signals.h); perf must see
  // the SIGINT that ends it.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  _exit(127);
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
