#include "dhtnode_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "netns.h"

namespace crsp::testing {

std::unique_ptr<DhtnodeProcess> DhtnodeProcess::Start(
    const std::string& netns, uint16_t port, const std::string& output_file) {
  if (access(kDhtnodeBinary, X_OK) != 0) return nullptr;
  std::unique_ptr<DhtnodeProcess> node(new DhtnodeProcess());
  node->output_file_ = output_file;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return nullptr;
  std::string port_text = std::to_string(port);
  RunInNetns(netns, [&] {
    node->pid_ = fork();
    if (node->pid_ == 0) {
      int out = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(pipe_fds[0], STDIN_FILENO);
      if (out >= 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
      }
      execl(kDhtnodeBinary, kDhtnodeBinary, "-p", port_text.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  });
  close(pipe_fds[0]);
  node->stdin_ = pipe_fds[1];
  if (node->pid_ < 0) return nullptr;
  // Ready once it prints its banner; bounded by count and deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 200 && std::chrono::steady_clock::now() < deadline; ++i) {
    if (node->Output().find("running on port") != std::string::npos) {
      return node;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

DhtnodeProcess::~DhtnodeProcess() {
  if (stdin_ >= 0) close(stdin_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool DhtnodeProcess::Command(const std::string& line) {
  std::string text = line + "\n";
  return write(stdin_, text.data(), text.size()) ==
         static_cast<ssize_t>(text.size());
}

std::string DhtnodeProcess::Output() const {
  std::ifstream in(output_file_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DhtnodeProcess::Ask(const std::string& command,
                                std::chrono::milliseconds within) {
  size_t before = Output().size();
  if (!Command(command)) return {};
  auto deadline = std::chrono::steady_clock::now() + within;
  size_t last = before;
  int quiet = 0;
  for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < deadline;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    size_t now = Output().size();
    quiet = now == last && now > before ? quiet + 1 : 0;
    last = now;
    if (quiet >= 4) break;
  }
  std::string all = Output();
  return before < all.size() ? all.substr(before) : std::string();
}

}  // namespace crsp::testing
