#include "crsp/support/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace crsp::support {
namespace {

Status Errno(const std::string& path) {
  return Status::IoError(path + ": " + std::strerror(errno));
}

// Writes and fsyncs PATH.tmp with exactly `mode`; removes it on failure.
Status WriteTemporary(const std::string& tmp, std::string_view data,
                      mode_t mode) {
  ::unlink(tmp.c_str());  // a stale one from a crash: never write through it
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno(tmp);
  ::fchmod(fd, mode);  // the umask must not widen or narrow a key's mode
  const bool ok =
      WriteAll(fd, std::as_bytes(std::span(data.data(), data.size()))) &&
      ::fsync(fd) == 0;
  const int saved = errno;
  if (::close(fd) != 0 || !ok) {
    if (!ok) errno = saved;
    Status status = Errno(tmp);
    ::unlink(tmp.c_str());
    return status;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(path);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = Errno(path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode) {
  if (mode == 0) {
    struct stat st {};
    mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  }
  const std::string tmp = path + ".tmp";
  if (Status s = WriteTemporary(tmp, data, mode); !s.ok()) return s;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Status status = Errno(path);
    ::unlink(tmp.c_str());
    return status;
  }
  if (!SyncDirectory(DirectoryOf(path))) return Errno(DirectoryOf(path));
  return Status::Ok();
}

Result<bool> CreateFileAtomic(const std::string& path, std::string_view data,
                              mode_t mode) {
  const std::string tmp = path + ".tmp";
  if (Status s = WriteTemporary(tmp, data, mode); !s.ok()) return s;
  // link(2) fails on an existing name, so two processes racing to create
  // the file never replace each other's.
  const bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
  const int saved = errno;
  ::unlink(tmp.c_str());
  if (!linked) {
    if (saved == EEXIST) return false;
    errno = saved;
    return Errno(path);
  }
  if (!SyncDirectory(DirectoryOf(path))) return Errno(DirectoryOf(path));
  return true;
}

bool WriteAll(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return true;
}

bool SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace crsp::support
