// The file-system calls of the node's state directory (the offer journal and
// the node key) behind one seam, as leveldb's Env: the node takes an Env
// from its context (NodeContext::env; Env::Default() when none), and tests
// derive from it to fail a write or a sync and check that nothing the node
// acknowledged was lost (tests/node/fault_injection_test.cc).
//
// Every method behaves as the POSIX call it names: a failure returns -1 or
// false with errno set. The defaults are those calls; a test overrides the
// ones it fails and calls Env's for the rest.
#ifndef CRSP_NODE_ENV_H_
#define CRSP_NODE_ENV_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace crsp::node {

class Env {
 public:
  // The process-wide POSIX Env; never destroyed.
  static Env* Default();

  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env() = default;

  virtual int Open(const std::string& path, int flags, mode_t mode);
  virtual ssize_t Read(int fd, void* buffer, size_t size);
  // write(2) until every byte is written (EINTR retried).
  virtual bool WriteAll(int fd, std::span<const std::byte> bytes);
  virtual bool Sync(int fd);      // fsync(2)
  virtual bool SyncData(int fd);  // fdatasync(2)
  virtual bool Truncate(int fd, uint64_t size);
  virtual int Dup(int fd);
  virtual void Close(int fd);
  virtual bool Rename(const std::string& from, const std::string& to);
  virtual bool Link(const std::string& from, const std::string& to);
  virtual void Unlink(const std::string& path);
  // fsync of a directory, so that a created or renamed entry survives a
  // crash.
  virtual bool SyncDirectory(const std::string& dir);
};

}  // namespace crsp::node

#endif  // CRSP_NODE_ENV_H_
