// Small POSIX file helpers for the state directory; each reports failure
// as a value and keeps errno. WriteAll and SyncDirectory are the shared
// ones of crsp::support (crsp/support/file.h).
#ifndef CRSP_NODE_FILE_UTIL_H_
#define CRSP_NODE_FILE_UTIL_H_

#include <string>

#include "crsp/support/file.h"

namespace crsp::node {

using support::SyncDirectory;
using support::WriteAll;

// Creates `dir` (and parents) with mode 0700 if missing; throws
// std::runtime_error when it is not a usable directory.
void EnsureDirectory(const std::string& dir);

}  // namespace crsp::node

#endif  // CRSP_NODE_FILE_UTIL_H_
