#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

namespace crsp::testing {

bool RunInNetns(const std::string& name, const std::function<void()>& work) {
  if (name.empty()) {
    work();
    return true;
  }
  bool entered = false;
  // setns(CLONE_NEWNET) changes only the calling thread, which ends here:
  // the test's own threads never leave their namespace.
  std::thread helper([&] {
    int fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    entered = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    if (entered) work();
  });
  helper.join();
  return entered;
}

}  // namespace crsp::testing
