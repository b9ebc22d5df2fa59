#include "crsp/node/env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crsp/support/file.h"

namespace crsp::node {

Env* Env::Default() {
  static Env* const env = new Env();
  return env;
}

int Env::Open(const std::string& path, int flags, mode_t mode) {
  return ::open(path.c_str(), flags, mode);
}

ssize_t Env::Read(int fd, void* buffer, size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, size);
    if (n >= 0 || errno != EINTR) return n;
  }
}

bool Env::WriteAll(int fd, std::span<const std::byte> bytes) {
  return support::WriteAll(fd, bytes);
}

bool Env::Sync(int fd) { return ::fsync(fd) == 0; }

bool Env::SyncData(int fd) { return ::fdatasync(fd) == 0; }

bool Env::Truncate(int fd, uint64_t size) {
  return ::ftruncate(fd, static_cast<off_t>(size)) == 0;
}

int Env::Dup(int fd) { return ::dup(fd); }

void Env::Close(int fd) { ::close(fd); }

bool Env::Rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0;
}

bool Env::Link(const std::string& from, const std::string& to) {
  return ::link(from.c_str(), to.c_str()) == 0;
}

void Env::Unlink(const std::string& path) { ::unlink(path.c_str()); }

bool Env::SyncDirectory(const std::string& dir) {
  return support::SyncDirectory(dir);
}

}  // namespace crsp::node
