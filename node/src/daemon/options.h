// crsp-node's command line and TOML config file, turned into a NodeConfig
// through the table of settings (settings.h). Precedence: built-in
// defaults < the file named by --config < flags.
#ifndef CRSP_NODE_DAEMON_OPTIONS_H_
#define CRSP_NODE_DAEMON_OPTIONS_H_

#include <string>

#include "crsp/node/config.h"
#include "crsp/support/status.h"

namespace crsp::node {

struct ParsedOptions {
  NodeConfig config;
  // Set when the process should exit now instead of running: --help,
  // --version, --check-config, or an error.
  bool exit_now = false;
  // The error (a usage error: a bad flag, a bad or unknown setting in the
  // file), printed on stderr; OK otherwise.
  support::Status status;
  // What to print on stdout when exiting with OK (help, version, the
  // verdict of --check-config).
  std::string output;

  int exit_code() const { return support::ExitCodeOf(status); }
};

ParsedOptions ParseOptions(int argc, const char* const* argv);

// Reads the TOML config file at `path` into `config` (only the settings
// present). Every key must be a setting of the table (settings.h) with a
// value of its type and range; otherwise InvalidArgument naming the file,
// the line and the setting, and `config` is left partly updated.
support::Status LoadConfigFile(const std::string& path, NodeConfig& config);

}  // namespace crsp::node

#endif  // CRSP_NODE_DAEMON_OPTIONS_H_
