// Whole-file reads and atomic writes for the CLI's small files (device
// files, key files, the transaction id counter).
#ifndef CRSP_CLI_FILE_UTIL_H_
#define CRSP_CLI_FILE_UTIL_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace crsp::cli {

// The file's bytes; empty with `error` ("PATH: reason") on failure.
std::optional<std::string> ReadFileText(const std::string& path,
                                        std::string* error);

// Writes `data` to PATH.tmp, fsyncs, renames over `path`. `mode` 0 keeps
// the existing file's mode (0644 for a new file).
bool WriteFileAtomic(const std::string& path, std::string_view data,
                     mode_t mode, std::string* error);

}  // namespace crsp::cli

#endif  // CRSP_CLI_FILE_UTIL_H_
