#include "txid_counter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace crsp::cli {

std::string TxidCounterPath(const std::string& key_path) {
  return key_path + ".txid";
}

support::Result<uint32_t> NextSignedTxid(const std::string& key_path,
                                         uint64_t now) {
  std::string path = TxidCounterPath(key_path);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    support::Status status =
        support::Status::IoError(path + ": " + std::strerror(errno));
    if (fd >= 0) close(fd);
    return status;
  }
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  uint64_t last = 0;
  if (n > 0) {
    const char* end = buf + n;
    while (end > buf && (end[-1] == '\n' || end[-1] == ' ')) --end;
    auto [ptr, ec] = std::from_chars(buf, end, last);
    if (ec != std::errc() || ptr != end) {
      close(fd);
      return support::Status::IoError(
          path +
          ": not a transaction id counter; remove it only if you know no "
          "newer id was used");
    }
  }
  uint64_t next = std::max(now, last + 1);
  if (next > UINT32_MAX) {
    close(fd);
    return support::Status::IoError(path +
                                    ": transaction ids exhausted; make a new "
                                    "key");
  }
  std::string text = std::to_string(next) + "\n";
  bool ok = ftruncate(fd, 0) == 0 &&
            pwrite(fd, text.data(), text.size(), 0) ==
                static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  support::Status status =
      ok ? support::Status::Ok()
         : support::Status::IoError(path + ": " + std::strerror(errno));
  close(fd);  // releases the lock
  if (!ok) return status;
  return static_cast<uint32_t>(next);
}

}  // namespace crsp::cli
