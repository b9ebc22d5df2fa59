// Small POSIX file helpers for the state directory; each reports failure
// as a value and keeps errno.
#ifndef CRSP_NODE_FILE_UTIL_H_
#define CRSP_NODE_FILE_UTIL_H_

#include <cstddef>
#include <span>
#include <string>

namespace crsp::node {

// write(2) until every byte is written; false on error.
bool WriteAll(int fd, std::span<const std::byte> bytes);
// fsync of a directory, so that a created or renamed entry survives a crash.
bool SyncDirectory(const std::string& dir);
// Creates `dir` (and parents) with mode 0700 if missing; throws
// std::runtime_error when it is not a usable directory.
void EnsureDirectory(const std::string& dir);

}  // namespace crsp::node

#endif  // CRSP_NODE_FILE_UTIL_H_
