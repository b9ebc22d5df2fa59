// crsp-node's command line and TOML config file, turned into a NodeConfig.
// Precedence: built-in defaults < the file named by --config < flags.
#ifndef CRSP_NODE_DAEMON_OPTIONS_H_
#define CRSP_NODE_DAEMON_OPTIONS_H_

#include <string>

#include "crsp/node/config.h"

namespace crsp::node {

struct ParsedOptions {
  NodeConfig config;
  // Set when the process should exit now (--help, a usage error) with
  // `exit_code`; `message` is what to print (stdout for help, else stderr).
  bool exit_now = false;
  int exit_code = 0;
  std::string message;
};

ParsedOptions ParseOptions(int argc, const char* const* argv);

// Reads a TOML config file into `config` (only the keys present). Returns
// an error message, empty on success.
std::string LoadConfigFile(const std::string& path, NodeConfig& config);

}  // namespace crsp::node

#endif  // CRSP_NODE_DAEMON_OPTIONS_H_
