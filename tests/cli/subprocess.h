// Test helper: runs a program with arguments, optional standard input and
// extra environment, and captures its exit code and output. Every run has
// a deadline; a program still running then is killed by pid (SIGKILL) and
// reported as timed out. Background processes (a live crsp-node) are
// started with StartBackground and killed by the returned guard's
// destructor, also when a test fails.
#ifndef CRSP_TESTS_CLI_SUBPROCESS_H_
#define CRSP_TESTS_CLI_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace crsp::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

struct RunOptions {
  std::string input;  // written to standard input, then closed
  // "NAME=VALUE" added to (or replacing in) the inherited environment.
  std::vector<std::string> env;
  // Names removed from the inherited environment.
  std::vector<std::string> unset_env;
  std::chrono::milliseconds deadline{20000};
};

RunResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args,
                     const RunOptions& options = {});

// A process running in the background; the destructor kills it by pid and
// reaps it.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  BackgroundProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}
  BackgroundProcess(BackgroundProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)), log_path_(std::move(o.log_path_)) {}
  BackgroundProcess& operator=(BackgroundProcess&& o) noexcept;
  ~BackgroundProcess() { Kill(); }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Where its stdout and stderr go.
  const std::string& log_path() const { return log_path_; }
  // SIGKILL by pid and reap; no-op when not running.
  void Kill();

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Starts `program` with stdout and stderr appended to `log_path`.
BackgroundProcess StartBackground(const std::string& program,
                                  const std::vector<std::string>& args,
                                  const std::string& log_path);

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLI_SUBPROCESS_H_
