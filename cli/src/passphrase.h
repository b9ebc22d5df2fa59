// Where a key file's passphrase comes from: --passphrase-file, then the
// CRSP_PASSPHRASE environment variable, then a prompt on the terminal
// without echo (asked twice when creating a key).
#ifndef CRSP_CLI_PASSPHRASE_H_
#define CRSP_CLI_PASSPHRASE_H_

#include <optional>
#include <string>

#include "crsp/support/status.h"

namespace crsp::cli {

inline constexpr const char* kPassphraseEnv = "CRSP_PASSPHRASE";

// `passphrase_file` may be empty (not given). `confirm` asks twice at the
// prompt and refuses when the answers differ. IoError when no source
// gives one (no terminal and nothing configured) or a file is unreadable.
// A passphrase file's first line is the passphrase.
support::Result<std::string> GetPassphrase(const std::string& passphrase_file,
                                           bool confirm);

}  // namespace crsp::cli

#endif  // CRSP_CLI_PASSPHRASE_H_
