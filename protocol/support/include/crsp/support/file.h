// Whole-file reads and crash-safe writes of small files: key files, device
// files, the transaction id counter, the node's and the DHT's identity.
// A write goes to PATH.tmp, is fsync'd, renamed (or linked) over PATH, and
// the directory is fsync'd, so after a crash PATH holds either the old
// bytes or the new ones, never part of them, and a new name survives.
#ifndef CRSP_SUPPORT_FILE_H_
#define CRSP_SUPPORT_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "crsp/support/status.h"

namespace crsp::support {

// The file's bytes; IoError "PATH: reason" on failure.
Result<std::string> ReadFile(const std::string& path);

// Replaces PATH with `data`. `mode` 0 keeps the existing file's mode
// (0644 for a new file); a given mode is set exactly, whatever the umask.
// IoError naming the file on failure (PATH.tmp is then removed).
Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode = 0);

// Creates PATH with `data` and `mode` only if it does not exist: true when
// this call created it, false when PATH already existed (left untouched;
// another process may have won the race). The same crash safety as
// WriteFileAtomic (link(2) instead of rename).
Result<bool> CreateFileAtomic(const std::string& path, std::string_view data,
                              mode_t mode);

// write(2) until every byte is written; false on error (errno kept).
bool WriteAll(int fd, std::span<const std::byte> bytes);

// fsync of a directory, so that a created or renamed entry survives a
// crash; false on error (errno kept).
bool SyncDirectory(const std::string& dir);

// The directory part of `path` ("." when it has none).
std::string DirectoryOf(const std::string& path);

}  // namespace crsp::support

#endif  // CRSP_SUPPORT_FILE_H_
