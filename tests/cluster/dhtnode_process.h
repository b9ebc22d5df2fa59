// Debian's stock `dhtnode` (package dhtnode) as a cluster member: started
// inside a host's namespace, driven through its stdin (a pipe this class
// holds open, as the fifo in ../shared/OPENDHT-NOTES.md), its output kept in
// a file. Killed by pid (SIGKILL) and reaped in the destructor.
#ifndef CRSP_TESTS_CLUSTER_DHTNODE_PROCESS_H_
#define CRSP_TESTS_CLUSTER_DHTNODE_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace crsp::testing {

inline constexpr const char* kDhtnodeBinary = "/usr/bin/dhtnode";

class DhtnodeProcess {
 public:
  // Starts `dhtnode -p port` in namespace `netns` ("" = this one), output to
  // `output_file`; waits (bounded) for its "running on port" line. Null if
  // the binary is missing or it never says so.
  static std::unique_ptr<DhtnodeProcess> Start(const std::string& netns,
                                               uint16_t port,
                                               const std::string& output_file);
  ~DhtnodeProcess();
  DhtnodeProcess(const DhtnodeProcess&) = delete;
  DhtnodeProcess& operator=(const DhtnodeProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends one command line (e.g. "ld").
  bool Command(const std::string& line);
  // Everything it printed so far.
  std::string Output() const;
  // Sends `command` and returns what it printed after it, once the output
  // has been quiet for a moment (bounded by `within`).
  std::string Ask(const std::string& command, std::chrono::milliseconds within);

 private:
  DhtnodeProcess() = default;

  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string output_file_;
};

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLUSTER_DHTNODE_PROCESS_H_
